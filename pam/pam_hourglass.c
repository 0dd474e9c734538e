/* pam_hourglass.so: desktop logins under hourglass's policy. In the
 * session stack after pam_systemd.so, open_session registers the logind
 * session (XDG_SESSION_ID) with hourglassd over the system bus and
 * close_session unregisters it. GLib-free, no global state, a fresh bus
 * connection per call, a bounded wait. By default a problem is logged and
 * the login goes on; the "strict" option makes it fatal. Whether a session
 * is managed (MinUid) is hourglassd's answer: "not managed" is success. */
#include <errno.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-bus.h>

#include "hg-bus-names.h"
#include "hg-macros.h"
#include "hg-time.h"

#define DEFAULT_TIMEOUT_MSEC 2000
#define MAX_TIMEOUT_MSEC 2000

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

/* One method call on a connection of its own, never waiting longer than
 * the timeout and never starting a service. */
static int call(pam_handle_t *pamh, const Options *o, const char *method,
                const char *logind_id, char **ret_id) {
  _cleanup_(busp_unref) sd_bus *bus = NULL;
  _cleanup_(msgp_unref) sd_bus_message *m = NULL, *reply = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  hg_usec_t timeout = (hg_usec_t)o->timeout_msec * HG_USEC_PER_MSEC;
  const char *id;
  int r;

  r = sd_bus_open_system(&bus);
  if (r >= 0)
    r = sd_bus_set_method_call_timeout(bus, timeout);
  if (r >= 0)
    r = sd_bus_message_new_method_call(bus, &m, HG_BUS_NAME, HG_BUS_PATH,
                                       HG_BUS_MANAGER_IFACE, method);
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r >= 0)
    r = sd_bus_message_append(m, "s", logind_id);
  if (r < 0) {
    pam_syslog(pamh, LOG_WARNING, "cannot reach the system bus: %s",
               strerror(-r));
    return r;
  }
  r = sd_bus_call(bus, m, timeout, &error, &reply);
  if (r < 0) {
    pam_syslog(pamh, LOG_WARNING, "%s of logind session %s failed: %s", method,
               logind_id, error.message ? error.message : strerror(-r));
    sd_bus_error_free(&error);
    return r;
  }
  if (ret_id) {
    r = sd_bus_message_read(reply, "s", &id);
    if (r < 0)
      return r;
    *ret_id = strdup(id);
    if (!*ret_id)
      return -ENOMEM;
  }
  return 0;
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

static int outcome(const Options *o, int r) {
  return r < 0 && o->strict ? PAM_SESSION_ERR : PAM_SUCCESS;
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
    return outcome(&o, -ENXIO);
  r = call(pamh, &o, "RegisterDesktopSession", logind_id, &id);
  if (r >= 0 && o.debug)
    pam_syslog(pamh, LOG_DEBUG, "logind session %s: %s%s", logind_id,
               *id ? "managed as " : "not managed", id);
  return outcome(&o, r);
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
    return outcome(&o, -ENXIO);
  r = call(pamh, &o, "UnregisterDesktopSession", logind_id, NULL);
  if (r >= 0 && o.debug)
    pam_syslog(pamh, LOG_DEBUG, "logind session %s unregistered", logind_id);
  return outcome(&o, r);
}
