/* Whose session: the caller's own, as hourglassd judges it (the session's
 * user is the name of the uid the bus sees), and finding it when no id is
 * given. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hg-ctl.h"
#include "hg-macros.h"

int ctl_self_name(char **ret_name) {
  struct passwd *pw;

  errno = 0;
  pw = getpwuid(geteuid());
  if (!pw)
    return errno > 0 ? -errno : -ENOENT;
  *ret_name = g_strdup(pw->pw_name);
  return 0;
}

bool ctl_session_is_own(const CtlSession *s, const char *self_name) {
  return self_name && s->user && strcmp(s->user, self_name) == 0;
}

static void session_free(gpointer p) {
  ctl_session_clear(p);
  g_free(p);
}

/* The live sessions of user, read in full into out (which owns them); a
 * session that ended since the list is left out. */
static int read_user_sessions(sd_bus *bus, const char *user, GPtrArray *out,
                              sd_bus_error *error) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  const char *id, *name, *source, *state, *path;
  int r;

  r = ctl_call_manager(bus, "ListSessions", NULL, error, &reply);
  if (r >= 0)
    r = sd_bus_message_enter_container(reply, 'a', "(sssso)");
  while (r >= 0 && (r = sd_bus_message_read(reply, "(sssso)", &id, &name,
                                            &source, &state, &path)) > 0) {
    CtlSession *s;

    if (strcmp(name, user) != 0)
      continue;
    s = g_new0(CtlSession, 1);
    g_ptr_array_add(out, s);
    r = ctl_session_read(bus, path, s, error);
    if (r < 0 && sd_bus_error_has_name(error, HG_BUS_ERROR_NO_SUCH_SESSION)) {
      sd_bus_error_free(error);
      g_ptr_array_remove_index(out, out->len - 1);
      r = 0;
      continue;
    }
    if (!s->id)
      s->id = g_strdup(id);
  }
  return r;
}

/* The only one; of several, the one of the logind session this command
 * runs in (a desktop login registered by pam_hourglass.so). */
static const CtlSession *pick(GPtrArray *mine) {
  const char *logind_id = getenv("XDG_SESSION_ID");

  if (mine->len == 1)
    return mine->pdata[0];
  for (guint i = 0; logind_id && *logind_id && i < mine->len; i++) {
    const CtlSession *s = mine->pdata[i];
    if (g_strcmp0(s->logind_session, logind_id) == 0)
      return s;
  }
  return NULL;
}

static void report_none(const char *self, guint n) {
  g_autofree char *printable = ctl_printable(self);

  if (n == 0)
    fprintf(stderr, "hourglassctl: %s has no session (give a session id)\n",
            printable);
  else
    fprintf(stderr,
            "hourglassctl: %s has %u sessions: give a session id (see "
            "'hourglassctl list')\n",
            printable, n);
}

int ctl_self_session(sd_bus *bus, const CtlOptions *o, char **ret_id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(GPtrArray) mine = g_ptr_array_new_with_free_func(session_free);
  g_autofree char *self = NULL;
  const CtlSession *s;
  int r;

  r = ctl_self_name(&self);
  if (r == -ENOENT)
    fprintf(stderr,
            "hourglassctl: uid %u has no user name: give a session id\n",
            (unsigned)geteuid());
  else if (r < 0)
    fprintf(stderr, "hourglassctl: cannot look up uid %u: %s\n",
            (unsigned)geteuid(), strerror(-r));
  if (r < 0)
    return r;
  r = read_user_sessions(bus, self, mine, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, NULL, &error, r);
  s = pick(mine);
  if (!s) {
    report_none(self, mine->len);
    return -ESRCH;
  }
  *ret_id = g_strdup(s->id);
  return 0;
}
