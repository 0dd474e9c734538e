/* pam_hourglass.so: desktop logins under hourglass's policy. In the
 * account stack, acct_mgmt asks hourglassd whether the user may sign in
 * now (CheckAccount: opening hours, daily allowance) and refuses with a
 * message on the greeter. In the session stack after pam_systemd.so,
 * open_session registers the logind session (XDG_SESSION_ID) with
 * hourglassd over the system bus and close_session unregisters it.
 * GLib-free, no global state, a fresh bus connection per call, a bounded
 * wait. By default a problem is logged and the login goes on; the "strict"
 * option makes it fatal. Whether a session is managed (MinUid) is
 * hourglassd's answer: "not managed" is success. */
#include <errno.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <systemd/sd-bus.h>

#include "hg-bus-names.h"
#include "hg-macros.h"
#include "hg-time.h"

#define DEFAULT_TIMEOUT_MSEC 2000
#define MAX_TIMEOUT_MSEC 2000
/* Longer user and seat names than these are not asked about. */
#define NAME_MAX_LEN 256

typedef struct {
  bool debug;
  bool strict;
  unsigned timeout_msec;
} Options;

static int parse_options(pam_handle_t *pamh, int argc, const char **argv,
                         Options *o) {
  *o = (Options){.timeout_msec = DEFAULT_TIMEOUT_MSEC};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "debug") == 0)
      o->debug = true;
    else if (strcmp(a, "strict") == 0)
      o->strict = true;
    else if (strncmp(a, "timeout=", 8) == 0) {
      char *end;
      unsigned long v = strtoul(a + 8, &end, 10);
      if (*end || end == a + 8 || v == 0 || v > MAX_TIMEOUT_MSEC) {
        pam_syslog(pamh, LOG_ERR, "bad option %s (1 to %d ms)", a,
                   MAX_TIMEOUT_MSEC);
        return -EINVAL;
      }
      o->timeout_msec = (unsigned)v;
    } else {
      pam_syslog(pamh, LOG_ERR, "unknown option %s", a);
      return -EINVAL;
    }
  }
  return 0;
}

static void busp_unref(sd_bus **b) { sd_bus_flush_close_unref(*b); }
static void msgp_unref(sd_bus_message **m) { sd_bus_message_unref(*m); }

/* A method call on a connection of its own that never waits longer than
 * the timeout and never starts a service; the caller appends the
 * arguments. */
static int new_call(pam_handle_t *pamh, const Options *o, const char *method,
                    sd_bus **ret_bus, sd_bus_message **ret_m) {
  hg_usec_t timeout = (hg_usec_t)o->timeout_msec * HG_USEC_PER_MSEC;
  int r;

  r = sd_bus_open_system(ret_bus);
  if (r >= 0)
    r = sd_bus_set_method_call_timeout(*ret_bus, timeout);
  if (r >= 0)
    r = sd_bus_message_new_method_call(*ret_bus, ret_m, HG_BUS_NAME,
                                       HG_BUS_PATH, HG_BUS_MANAGER_IFACE,
                                       method);
  if (r >= 0)
    r = sd_bus_message_set_auto_start(*ret_m, false);
  if (r < 0)
    pam_syslog(pamh, LOG_WARNING, "cannot reach the system bus: %s",
               strerror(-r));
  return r;
}

/* Sends m and logs a failure as "METHOD of WHAT failed". */
static int send_call(pam_handle_t *pamh, const Options *o, sd_bus *bus,
                     sd_bus_message *m, const char *what,
                     sd_bus_message **ret_reply) {
  hg_usec_t timeout = (hg_usec_t)o->timeout_msec * HG_USEC_PER_MSEC;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  r = sd_bus_call(bus, m, timeout, &error, ret_reply);
  if (r < 0) {
    pam_syslog(pamh, LOG_WARNING, "%s of %s failed: %s",
               sd_bus_message_get_member(m), what,
               error.message ? error.message : strerror(-r));
    sd_bus_error_free(&error);
  }
  return r;
}

/* RegisterDesktopSession or UnregisterDesktopSession of a logind session;
 * ret_id (may be NULL) gets the first's answer. */
static int call(pam_handle_t *pamh, const Options *o, const char *method,
                const char *logind_id, char **ret_id) {
  _cleanup_(busp_unref) sd_bus *bus = NULL;
  _cleanup_(msgp_unref) sd_bus_message *m = NULL, *reply = NULL;
  char what[NAME_MAX_LEN + 32];
  const char *id;
  int r;

  r = new_call(pamh, o, method, &bus, &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "s", logind_id);
  if (r < 0)
    return r;
  snprintf(what, sizeof(what), "logind session %.*s", NAME_MAX_LEN, logind_id);
  r = send_call(pamh, o, bus, m, what, &reply);
  if (r < 0 || !ret_id)
    return r;
  r = sd_bus_message_read(reply, "s", &id);
  if (r < 0)
    return r;
  *ret_id = strdup(id);
  return *ret_id ? 0 : -ENOMEM;
}

/* XDG_SESSION_ID comes from pam_systemd, earlier in the stack. */
static const char *logind_session(pam_handle_t *pamh, const Options *o) {
  const char *id = pam_getenv(pamh, "XDG_SESSION_ID");

  if (!id || !*id) {
    pam_syslog(pamh, LOG_WARNING,
               "no XDG_SESSION_ID: is pam_systemd.so before pam_hourglass.so?");
    return NULL;
  }
  return id;
}

/* The one place where an errno becomes a PAM result: a problem is fatal
 * (as the phase's failure) only under "strict". */
static int outcome(const Options *o, int r, int fatal) {
  return r < 0 && o->strict ? fatal : PAM_SUCCESS;
}

/* --- account: may they sign in now? ------------------------------------ */

/* hourglassd's CheckAccount answer. */
typedef struct {
  bool allowed;
  char reason[32];
  uint64_t until; /* µs since the epoch; UINT64_MAX: none in sight */
} Verdict;

static int append_who(sd_bus_message *m, const char *key, const char *value) {
  return value ? sd_bus_message_append(m, "{sv}", key, "s", value) : 0;
}

/* NULL for a name that is missing, empty or longer than we ask about. */
static const char *bounded(const char *s) {
  return s && *s && strnlen(s, NAME_MAX_LEN + 1) <= NAME_MAX_LEN ? s : NULL;
}

/* The greeter may have put XDG_SEAT in the PAM environment (pam_systemd
 * reads it there too) or in its own. */
static const char *seat_of(pam_handle_t *pamh) {
  const char *seat = bounded(pam_getenv(pamh, "XDG_SEAT"));

  return seat ? seat : bounded(getenv("XDG_SEAT"));
}

static const char *service_of(pam_handle_t *pamh) {
  const void *service = NULL;

  if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS)
    return NULL;
  return bounded(service);
}

static int append_check(pam_handle_t *pamh, sd_bus_message *m,
                        const char *user) {
  int r;

  r = sd_bus_message_append(m, "s", user);
  if (r >= 0)
    r = sd_bus_message_open_container(m, 'a', "{sv}");
  if (r >= 0)
    r = append_who(m, "source", "desktop");
  if (r >= 0)
    r = append_who(m, "service", service_of(pamh));
  if (r >= 0)
    r = append_who(m, "seat", seat_of(pamh));
  return r >= 0 ? sd_bus_message_close_container(m) : r;
}

static int check_account(pam_handle_t *pamh, const Options *o, const char *user,
                         Verdict *ret) {
  _cleanup_(busp_unref) sd_bus *bus = NULL;
  _cleanup_(msgp_unref) sd_bus_message *m = NULL, *reply = NULL;
  char what[NAME_MAX_LEN + 8];
  const char *reason;
  int allowed, r;

  r = new_call(pamh, o, "CheckAccount", &bus, &m);
  if (r >= 0)
    r = append_check(pamh, m, user);
  if (r < 0)
    return r;
  snprintf(what, sizeof(what), "user %s", user);
  r = send_call(pamh, o, bus, m, what, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "bst", &allowed, &reason, &ret->until);
  if (r < 0)
    return r;
  ret->allowed = allowed;
  snprintf(ret->reason, sizeof(ret->reason), "%s", reason);
  return 0;
}

/* until in local time, with the weekday unless it is less than a day
 * ahead and terse is set; false when there is no time to tell. */
static bool format_until(char *buf, size_t size, uint64_t until, bool terse) {
  time_t t, now = time(NULL);
  struct tm tm;

  if (until == UINT64_MAX || until == 0)
    return false;
  t = (time_t)(until / HG_USEC_PER_SEC);
  tzset();
  if (!localtime_r(&t, &tm))
    return false;
  terse = terse && t - now < 24 * 60 * 60;
  return strftime(buf, size, terse ? "%H:%M" : "%a %H:%M", &tm) > 0;
}

/* What the greeter shows; the conversation's answer does not matter. */
static void tell_refusal(pam_handle_t *pamh, const Verdict *v) {
  bool used = strcmp(v->reason, "allowance-used") == 0;
  char when[64];

  if (!format_until(when, sizeof(when), v->until, used))
    pam_error(pamh, "%s",
              used ? "Your time for today is used up."
                   : "This computer is closed.");
  else if (used)
    pam_error(pamh, "Your time for today is used up; it renews at %s.", when);
  else
    pam_error(pamh, "This computer is closed until %s.", when);
}

/* PAM_PERM_DENIED, as pam_time.so refuses outside the hours: the account
 * is fine, only not now. PAM_ACCT_EXPIRED would make greeters say that
 * the account expired and to call an administrator. */
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                const char **argv) {
  const char *user = NULL;
  Verdict v = {0};
  Options o;
  int r;

  if (parse_options(pamh, argc, argv, &o) < 0)
    return PAM_SERVICE_ERR;
  if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !bounded(user))
    return outcome(&o, -ENXIO, PAM_PERM_DENIED);
  r = check_account(pamh, &o, user, &v);
  if (r < 0 && o.strict && !(flags & PAM_SILENT))
    pam_error(pamh, "The time limits cannot be checked now; try again later.");
  if (r < 0)
    return outcome(&o, r, PAM_PERM_DENIED);
  if (o.debug)
    pam_syslog(pamh, LOG_DEBUG, "account of %s: %s", user, v.reason);
  if (v.allowed)
    return PAM_SUCCESS;
  pam_syslog(pamh, LOG_NOTICE, "login of %s refused: %s", user, v.reason);
  if (!(flags & PAM_SILENT))
    tell_refusal(pamh, &v);
  return PAM_PERM_DENIED;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                   const char **argv) {
  _cleanup_free_ char *id = NULL;
  const char *logind_id;
  Options o;
  int r;

  if (parse_options(pamh, argc, argv, &o) < 0)
    return PAM_SESSION_ERR;
  logind_id = logind_session(pamh, &o);
  if (!logind_id)
    return outcome(&o, -ENXIO, PAM_SESSION_ERR);
  r = call(pamh, &o, "RegisterDesktopSession", logind_id, &id);
  if (r >= 0 && o.debug)
    pam_syslog(pamh, LOG_DEBUG, "logind session %s: %s%s", logind_id,
               *id ? "managed as " : "not managed", id);
  return outcome(&o, r, PAM_SESSION_ERR);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                    const char **argv) {
  const char *logind_id;
  Options o;
  int r;

  if (parse_options(pamh, argc, argv, &o) < 0)
    return PAM_SESSION_ERR;
  logind_id = logind_session(pamh, &o);
  if (!logind_id)
    return outcome(&o, -ENXIO, PAM_SESSION_ERR);
  r = call(pamh, &o, "UnregisterDesktopSession", logind_id, NULL);
  if (r >= 0 && o.debug)
    pam_syslog(pamh, LOG_DEBUG, "logind session %s unregistered", logind_id);
  return outcome(&o, r, PAM_SESSION_ERR);
}
