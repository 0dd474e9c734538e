/* hourglassctl's side of the bus: the connection, calls to the Manager, a
 * session's properties, and the one place where D-Bus errors become words
 * for people. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hg-ctl.h"
#include "hg-macros.h"

#define CTL_ADDRESS_ENV "HOURGLASSCTL_BUS_ADDRESS"

bool ctl_session_id_is_valid(const char *id) {
  if (strlen(id) != HG_SESSION_ID_LEN)
    return false;
  for (const char *p = id; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

static int open_bus_at(const char *address, sd_bus **ret_bus) {
  _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
  int r;

  r = sd_bus_new(&bus);
  if (r < 0)
    return r;
  r = sd_bus_set_address(bus, address);
  if (r < 0)
    return r;
  r = sd_bus_set_bus_client(bus, true);
  if (r < 0)
    return r;
  r = sd_bus_start(bus);
  if (r < 0)
    return r;
  *ret_bus = TAKE_PTR(bus);
  return 0;
}

/* sd-bus reads DBUS_SYSTEM_BUS_ADDRESS itself; HOURGLASSCTL_BUS_ADDRESS
 * points this tool alone elsewhere (a test bus) and wins over it. */
int ctl_bus_open(const CtlOptions *o, sd_bus **ret_bus) {
  _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
  const char *address = getenv(CTL_ADDRESS_ENV);
  int r;

  if (address && *address)
    r = open_bus_at(address, &bus);
  else
    r = sd_bus_open_system(&bus);
  if (r < 0) {
    fprintf(stderr, "hourglassctl: cannot connect to the system bus: %s\n",
            strerror(-r));
    return r;
  }
  /* Nobody should wait sd-bus's silent 25 s default. */
  r = sd_bus_set_method_call_timeout(bus, o->timeout);
  if (r < 0) {
    fprintf(stderr, "hourglassctl: cannot set the call timeout: %s\n",
            strerror(-r));
    return r;
  }
  *ret_bus = TAKE_PTR(bus);
  return 0;
}

static const char *denied_text(CtlOp op) {
  switch (op) {
  case CTL_OP_TERMINATE:
    return "terminating sessions needs root or the admin group "
           "([DBus] AdminGroup)";
  case CTL_OP_EXTEND:
    return "extending a session needs root, the admin group "
           "([DBus] AdminGroup) or the session's own user";
  case CTL_OP_MORE_TIME:
    return "only the session's own user asks for more time; operators "
           "extend with --operator";
  case CTL_OP_WAITING:
    return "setting waiting needs root or the admin group "
           "([DBus] AdminGroup)";
  case CTL_OP_READ_ALLOWANCE:
    return "reading someone's allowance needs root or the admin group "
           "([DBus] AdminGroup)";
  case CTL_OP_GRANT:
    return "granting allowance needs root or the admin group "
           "([DBus] AdminGroup)";
  case CTL_OP_READ:
    break;
  }
  return NULL;
}

static bool has_name(const sd_bus_error *e, const char *name) {
  return sd_bus_error_has_name(e, name) > 0;
}

static const char *error_detail(const sd_bus_error *e, int r) {
  if (e && e->message)
    return e->message;
  return e && e->name ? e->name : strerror(-r);
}

static char *other_error(const sd_bus_error *e, int r) {
  if (r == -EBADMSG || r == -ENXIO)
    return g_strdup_printf("unexpected reply from hourglassd: %s",
                           strerror(-r));
  if (sd_bus_error_is_set(e))
    return g_strdup_printf("%s: %s", e->name, error_detail(e, r));
  return g_strdup(strerror(-r));
}

static char *error_message(const CtlOptions *o, CtlOp op, const char *what,
                           const sd_bus_error *e, int r) {
  const char *denied = denied_text(op);

  if (has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
      has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
    return g_strdup("hourglassd is not running (org.hourglass1 not on the "
                    "system bus)");
  if (has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
    return g_strdup_printf("permission denied: %s",
                           denied ? denied : error_detail(e, r));
  if (has_name(e, HG_BUS_ERROR_NO_SUCH_SESSION))
    return g_strdup_printf("no session %s", what ? what : "");
  if (has_name(e, HG_BUS_ERROR_NO_SUCH_USER))
    return g_strdup_printf("no such user: %s", what ? what : "");
  if (has_name(e, HG_BUS_ERROR_MORE_TIME_REFUSED))
    return g_strdup_printf("more time refused: %s", error_detail(e, r));
  if (has_name(e, SD_BUS_ERROR_INVALID_ARGS))
    return g_strdup_printf("hourglassd refused the request: %s",
                           error_detail(e, r));
  if (has_name(e, SD_BUS_ERROR_TIMEOUT) || has_name(e, SD_BUS_ERROR_NO_REPLY) ||
      r == -ETIMEDOUT)
    return g_strdup_printf("hourglassd did not answer within %g s (see "
                           "--timeout)",
                           (double)o->timeout / (double)HG_USEC_PER_SEC);
  if (has_name(e, SD_BUS_ERROR_DISCONNECTED) || r == -ECONNRESET ||
      r == -ENOTCONN)
    return g_strdup("lost the connection to the system bus");
  return other_error(e, r);
}

/* Messages come from the daemon or the bus: one line, no control
 * characters, whatever they hold. */
int ctl_log_error(const CtlOptions *o, CtlOp op, const char *what,
                  const sd_bus_error *e, int r) {
  g_autofree char *message = error_message(o, op, what, e, r);
  g_autofree char *printable = ctl_printable(message);

  fprintf(stderr, "hourglassctl: %s\n", printable);
  return r < 0 ? r : -EIO;
}

/* Every call goes out without auto-start: a missing daemon is an answer
 * (ServiceUnknown), not a reason to start one. */
int ctl_new_call(sd_bus *bus, const char *path, const char *iface,
                 const char *method, sd_bus_message **ret_m) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  int r;

  r = sd_bus_message_new_method_call(bus, &m, HG_BUS_NAME, path, iface, method);
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r < 0)
    return r;
  *ret_m = TAKE_PTR(m);
  return 0;
}

static int call(sd_bus *bus, const char *path, const char *iface,
                const char *method, const char *arg, sd_bus_error *error,
                sd_bus_message **ret_reply) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  int r;

  r = ctl_new_call(bus, path, iface, method, &m);
  if (r >= 0 && arg)
    r = sd_bus_message_append(m, "s", arg);
  if (r < 0)
    return r;
  return sd_bus_call(bus, m, 0, error, ret_reply);
}

int ctl_new_manager_call(sd_bus *bus, const char *method,
                         sd_bus_message **ret_m) {
  return ctl_new_call(bus, HG_BUS_PATH, HG_BUS_MANAGER_IFACE, method, ret_m);
}

int ctl_call_manager(sd_bus *bus, const char *method, const char *id,
                     sd_bus_error *error, sd_bus_message **ret_reply) {
  return call(bus, HG_BUS_PATH, HG_BUS_MANAGER_IFACE, method, id, error,
              ret_reply);
}

void ctl_session_clear(CtlSession *s) {
  g_clear_pointer(&s->path, g_free);
  g_clear_pointer(&s->id, g_free);
  g_clear_pointer(&s->user, g_free);
  g_clear_pointer(&s->source, g_free);
  g_clear_pointer(&s->state, g_free);
  g_clear_pointer(&s->idle_sources, g_ptr_array_unref);
  g_clear_pointer(&s->logind_session, g_free);
  g_clear_pointer(&s->policy, g_free);
  g_clear_pointer(&s->action, g_free);
  g_clear_pointer(&s->warning, g_free);
  g_clear_pointer(&s->stage, g_free);
  *s = (CtlSession){0};
}

static void idle_source_free(gpointer p) {
  CtlIdleSource *src = p;

  g_free(src->name);
  g_free(src->method);
  g_free(src);
}

static int read_idle_sources(sd_bus_message *m, CtlSession *s) {
  const char *name, *method;
  uint64_t last;
  int r;

  g_clear_pointer(&s->idle_sources, g_ptr_array_unref);
  s->idle_sources = g_ptr_array_new_with_free_func(idle_source_free);
  r = sd_bus_message_enter_container(m, 'v', "a(sst)");
  if (r >= 0)
    r = sd_bus_message_enter_container(m, 'a', "(sst)");
  while (r >= 0 &&
         (r = sd_bus_message_read(m, "(sst)", &name, &method, &last)) > 0) {
    CtlIdleSource *src = g_new0(CtlIdleSource, 1);
    src->name = g_strdup(name);
    src->method = g_strdup(method);
    src->last = last;
    g_ptr_array_add(s->idle_sources, src);
  }
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  return r;
}

static int read_idle_known(sd_bus_message *m, CtlSession *s) {
  int known = 0;
  int r = sd_bus_message_read(m, "v", "b", &known);

  s->has_idle_known = r >= 0;
  s->idle_known = known;
  return r;
}

typedef struct {
  const char *name;
  char type;
  size_t offset;
  unsigned seen; /* CTL_SEEN_* for numbers whose absence matters */
} SessionProperty;

static const SessionProperty session_properties[] = {
    {"Id", 's', offsetof(CtlSession, id), 0},
    {"User", 's', offsetof(CtlSession, user), 0},
    {"Source", 's', offsetof(CtlSession, source), 0},
    {"State", 's', offsetof(CtlSession, state), 0},
    {"Created", 't', offsetof(CtlSession, created), 0},
    {"LastActivity", 't', offsetof(CtlSession, last_activity), 0},
    {"WarnAt", 't', offsetof(CtlSession, warn_at), 0},
    {"ExpiresAt", 't', offsetof(CtlSession, expires_at), 0},
    {"LogindSession", 's', offsetof(CtlSession, logind_session), 0},
    {"Policy", 's', offsetof(CtlSession, policy), 0},
    {"Action", 's', offsetof(CtlSession, action), 0},
    {"Warning", 's', offsetof(CtlSession, warning), 0},
    {"Stage", 's', offsetof(CtlSession, stage), 0},
    {"LockAt", 't', offsetof(CtlSession, lock_at), CTL_SEEN_LOCK_AT},
    {"LimitAt", 't', offsetof(CtlSession, limit_at), CTL_SEEN_LIMIT_AT},
    {"Extensions", 'u', offsetof(CtlSession, extensions), CTL_SEEN_EXTENSIONS},
    {"ExtensionsLeft", 'u', offsetof(CtlSession, extensions_left),
     CTL_SEEN_EXTENSIONS_LEFT},
    {"WarnAfterSec", 'u', offsetof(CtlSession, warn_after_sec),
     CTL_SEEN_WARN_AFTER},
    {"ExpireAfterSec", 'u', offsetof(CtlSession, expire_after_sec),
     CTL_SEEN_EXPIRE_AFTER},
    {"MaxSessionSec", 'u', offsetof(CtlSession, max_session_sec),
     CTL_SEEN_MAX_SESSION},
};

static const SessionProperty *find_property(const char *name) {
  for (size_t i = 0; i < HG_ELEMENTSOF(session_properties); i++)
    if (strcmp(session_properties[i].name, name) == 0)
      return &session_properties[i];
  return NULL;
}

/* A property of the wrong type is an error (-ENXIO): the contract is
 * fixed, so a mismatch means a different daemon, not a value to guess. */
static int read_property(sd_bus_message *m, const SessionProperty *p,
                         CtlSession *s) {
  void *field = (char *)s + p->offset;
  const char *value;
  int r;

  if (p->type == 't' || p->type == 'u') {
    const char type[] = {p->type, '\0'};

    r = sd_bus_message_read(m, "v", type, field);
    if (r >= 0)
      s->seen |= p->seen;
    return r;
  }
  r = sd_bus_message_read(m, "v", "s", &value);
  if (r < 0)
    return r;
  char **str = field;
  g_free(*str);
  *str = g_strdup(value);
  return 0;
}

/* Properties this version does not know are skipped: additions to the
 * interface must not break older clients. */
static int read_properties(sd_bus_message *m, CtlSession *s) {
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const SessionProperty *p;
    const char *name;

    r = sd_bus_message_read(m, "s", &name);
    if (r < 0)
      return r;
    p = find_property(name);
    if (strcmp(name, "IdleSources") == 0)
      r = read_idle_sources(m, s);
    else if (strcmp(name, "IdleKnown") == 0)
      r = read_idle_known(m, s);
    else
      r = p ? read_property(m, p, s) : sd_bus_message_skip(m, "v");
    if (r < 0)
      return r;
    r = sd_bus_message_exit_container(m);
    if (r < 0)
      return r;
  }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

static bool error_is_gone(const sd_bus_error *error) {
  return has_name(error, HG_BUS_ERROR_NO_SUCH_SESSION) ||
         has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
         has_name(error, SD_BUS_ERROR_UNKNOWN_INTERFACE) ||
         has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD);
}

/* A session object that is not there (any more) is a session that ended:
 * report it as the Manager would, NoSuchSession. */
int ctl_session_read(sd_bus *bus, const char *path, CtlSession *s,
                     sd_bus_error *error) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  int r;

  r = call(bus, path, "org.freedesktop.DBus.Properties", "GetAll",
           HG_BUS_SESSION_IFACE, error, &reply);
  if (r < 0 && error_is_gone(error)) {
    sd_bus_error_free(error);
    return sd_bus_error_set(error, HG_BUS_ERROR_NO_SUCH_SESSION, path);
  }
  if (r < 0)
    return r;
  g_free(s->path);
  s->path = g_strdup(path);
  return read_properties(reply, s);
}

int ctl_session_get(sd_bus *bus, const char *id, CtlSession *s,
                    sd_bus_error *error) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  const char *path;
  int r;

  r = ctl_call_manager(bus, "GetSession", id, error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "o", &path);
  if (r >= 0)
    r = ctl_session_read(bus, path, s, error);
  return r;
}
