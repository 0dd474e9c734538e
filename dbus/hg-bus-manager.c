/* org.hourglass1.Manager at /org/hourglass1. */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-log.h"

static bool valid_id(const char *id) {
  if (!id || strlen(id) != HG_SESSION_ID_LEN)
    return false;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
      return false;
  return true;
}

int hg_bus_find_session(HgBus *bus, const char *id, HgSession **ret,
                        sd_bus_error *error) {
  if (!valid_id(id))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Not a session id: 32 lower-case hex digits");
  *ret = hg_registry_lookup(bus->reg, id);
  if (!*ret)
    return sd_bus_error_setf(error, HG_BUS_ERROR_NO_SUCH_SESSION,
                             "No session %s", id);
  return 0;
}

static void log_control(const HgBusCaller *caller, HgSession *s,
                        const char *what) {
  g_autofree char *f_session =
      g_strconcat("HG_SESSION=", hg_session_get_id(s), NULL);
  g_autofree char *f_user =
      g_strconcat("HG_USER=", hg_session_get_user(s), NULL);
  const char *fields[] = {f_session, f_user, NULL};

  hg_log_fields(LOG_NOTICE, fields, "Session %s of %s %s over D-Bus by uid %u",
                hg_session_get_id(s), hg_session_get_user(s), what,
                (unsigned)caller->uid);
}

int hg_bus_terminate(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     HgSession *s, sd_bus_error *error) {
  int r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, s, error);

  if (r < 0)
    return r;
  log_control(caller, s, "terminated");
  hg_registry_end(bus->reg, s, HG_END_REASON_TERMINATED);
  return sd_bus_reply_method_return(m, NULL);
}

int hg_bus_extend(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                  HgSession *s, sd_bus_error *error) {
  g_autoptr(HgSession) ref = hg_session_ref(s); /* the touch may end it */
  int r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN_OR_OWNER, s,
                              error);

  if (r < 0)
    return r;
  log_control(caller, s, "extended");
  /* Activity now; the policy keeps the absolute limit where it is. */
  if (hg_registry_touch(bus->reg, s, HG_TOUCH_ACTIVITY, 0) < 0)
    return sd_bus_error_setf(error, HG_BUS_ERROR_NO_SUCH_SESSION,
                             "Session %s has just ended", hg_session_get_id(s));
  return sd_bus_reply_method_return(m, NULL);
}

static int method_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  HgBus *bus = userdata;
  g_autoptr(sd_bus_message) reply = NULL;
  g_autoptr(GPtrArray) all = hg_registry_list(bus->reg);
  int r;

  r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container(reply, 'a', "(sssso)");
  for (guint i = 0; r >= 0 && i < all->len; i++) {
    HgSession *s = all->pdata[i];
    g_autofree char *path = hg_bus_session_path(hg_session_get_id(s));
    r = sd_bus_message_append(
        reply, "(sssso)", hg_session_get_id(s), hg_session_get_user(s),
        hg_session_source_to_string(hg_session_get_source(s)),
        hg_session_state_to_string(hg_session_get_state(s)), path);
  }
  if (r >= 0)
    r = sd_bus_message_close_container(reply);
  if (r < 0)
    return r;
  return sd_bus_send(NULL, reply, NULL);
}

/* The session named by the call's first argument. */
static int session_arg(HgBus *bus, sd_bus_message *m, HgSession **ret,
                       sd_bus_error *error) {
  const char *id;
  int r;

  r = sd_bus_message_read(m, "s", &id);
  if (r < 0)
    return r;
  return hg_bus_find_session(bus, id, ret, error);
}

static int method_get(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  g_autofree char *path = NULL;
  HgSession *s;
  int r;

  r = session_arg(userdata, m, &s, error);
  if (r < 0)
    return r;
  path = hg_bus_session_path(hg_session_get_id(s));
  return sd_bus_reply_method_return(m, "o", path);
}

static int terminate_as(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, sd_bus_error *error) {
  HgSession *s;
  int r = session_arg(bus, m, &s, error);

  return r < 0 ? r : hg_bus_terminate(bus, m, caller, s, error);
}

static int extend_as(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     sd_bus_error *error) {
  HgSession *s;
  int r = session_arg(bus, m, &s, error);

  return r < 0 ? r : hg_bus_extend(bus, m, caller, s, error);
}

/* Input seen by a user's own agent on their session bus: accepted for
 * sessions of the caller's uid only (not even root's: an agent speaks for
 * its user). */
static int report_activity_as(HgBus *bus, sd_bus_message *m,
                              const HgBusCaller *caller, sd_bus_error *error) {
  const char *id;
  uint32_t idle_sec;
  HgSession *s;
  int r;

  r = sd_bus_message_read(m, "su", &id, &idle_sec);
  if (r < 0)
    return r;
  r = hg_bus_find_session(bus, id, &s, error);
  if (r < 0)
    return r;
  if (caller->uid != hg_session_get_uid(s))
    return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                             "Only the session's own user reports its "
                             "activity");
  if (hg_registry_touch(bus->reg, s, HG_TOUCH_ACTIVITY, idle_sec) < 0)
    return sd_bus_error_setf(error, HG_BUS_ERROR_NO_SUCH_SESSION,
                             "Session %s has just ended", id);
  hg_registry_note_source(bus->reg, s, HG_INPUT_SOURCE_AGENT, NULL,
                          hg_clock_boottime(hg_registry_get_clock(bus->reg)));
  return sd_bus_reply_method_return(m, NULL);
}

/* A method name of the agent's: short, printable, no spaces. */
static bool valid_method(const char *method) {
  size_t n = strlen(method);

  if (n > 32)
    return false;
  for (const char *p = method; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
      return false;
  return true;
}

/* Inhibitors' names as the agent got them from applications: bounded and
 * made printable before they reach logs and hourglassctl. */
static int read_inhibitors(sd_bus_message *m, GPtrArray *out) {
  const char *who;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "s");
  while (r >= 0 && (r = sd_bus_message_read(m, "s", &who)) > 0)
    if (out->len < 16) {
      g_autofree char *valid = g_utf8_make_valid(who, MIN(strlen(who), 64));
      g_ptr_array_add(out, g_strcanon(g_steal_pointer(&valid),
                                      G_CSET_A_2_Z G_CSET_a_2_z G_CSET_DIGITS
                                      " ._-:/()",
                                      '?'));
    }
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  g_ptr_array_add(out, NULL);
  return r;
}

/* How the session's own agent sees input; the same authorization as
 * ReportActivity: the session's own uid only. */
static int report_idle_source_as(HgBus *bus, sd_bus_message *m,
                                 const HgBusCaller *caller,
                                 sd_bus_error *error) {
  g_autoptr(GPtrArray) inhibitors = g_ptr_array_new_with_free_func(g_free);
  const char *id, *method;
  HgSession *s;
  int r;

  r = sd_bus_message_read(m, "ss", &id, &method);
  if (r >= 0)
    r = read_inhibitors(m, inhibitors);
  if (r < 0)
    return r;
  r = hg_bus_find_session(bus, id, &s, error);
  if (r < 0)
    return r;
  if (caller->uid != hg_session_get_uid(s))
    return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                             "Only the session's own user reports its "
                             "idle source");
  if (!valid_method(method))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Not a method name: up to 32 letters, digits, "
                             "'-', '_' or '.'");
  if (!bus->desktop)
    return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                            "Desktop sessions are not managed");
  return hg_desktop_report_agent(bus->desktop, m, s, method,
                                 (char **)inhibitors->pdata, error);
}

/* Desktop logins: root and the admin group (pam_hourglass.so runs as
 * root in the login's session stack). */
static int desktop_call(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, sd_bus_error *error,
                        int (*action)(HgDesktop *, sd_bus_message *,
                                      sd_bus_error *)) {
  int r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, NULL, error);

  if (r < 0)
    return r;
  if (!bus->desktop)
    return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                            "logind cannot be followed: desktop sessions "
                            "are not managed");
  return action(bus->desktop, m, error);
}

static int register_as(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                       sd_bus_error *error) {
  return desktop_call(bus, m, caller, error, hg_desktop_register);
}

static int unregister_as(HgBus *bus, sd_bus_message *m,
                         const HgBusCaller *caller, sd_bus_error *error) {
  return desktop_call(bus, m, caller, error, hg_desktop_unregister);
}

static int method_terminate(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, terminate_as);
}

static int method_extend(sd_bus_message *m, void *userdata,
                         sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, extend_as);
}

static int method_report_activity(sd_bus_message *m, void *userdata,
                                  sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, report_activity_as);
}

static int method_report_idle_source(sd_bus_message *m, void *userdata,
                                     sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, report_idle_source_as);
}

static int method_register(sd_bus_message *m, void *userdata,
                           sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, register_as);
}

static int method_unregister(sd_bus_message *m, void *userdata,
                             sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, unregister_as);
}

static int get_limit(sd_bus *sdbus, const char *path, const char *iface,
                     const char *property, sd_bus_message *reply,
                     void *userdata, sd_bus_error *error) {
  const HgConfig *c = ((HgBus *)userdata)->config;
  uint64_t v;

  if (strcmp(property, "WarnAfterSec") == 0)
    v = c->warn_after_sec;
  else if (strcmp(property, "ExpireAfterSec") == 0)
    v = c->expire_after_sec;
  else if (strcmp(property, "MaxSessionSec") == 0)
    v = c->max_session_sec;
  else if (strcmp(property, "InhibitMaxSec") == 0)
    v = c->inhibit_max_sec;
  else
    v = c->close_after_sec;
  return sd_bus_message_append(reply, "u", (uint32_t)v);
}

const sd_bus_vtable hg_bus_manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("ListSessions", SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("a(sssso)", sessions), method_list,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("GetSession", SD_BUS_ARGS("s", id),
                            SD_BUS_RESULT("o", path), method_get,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("TerminateSession", SD_BUS_ARGS("s", id),
                            SD_BUS_NO_RESULT, method_terminate,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ExtendSession", SD_BUS_ARGS("s", id),
                            SD_BUS_NO_RESULT, method_extend,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("RegisterDesktopSession",
                            SD_BUS_ARGS("s", logind_id), SD_BUS_RESULT("s", id),
                            method_register, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("UnregisterDesktopSession",
                            SD_BUS_ARGS("s", logind_id), SD_BUS_NO_RESULT,
                            method_unregister, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(
        "ReportActivity", SD_BUS_ARGS("s", id, "u", idle_sec), SD_BUS_NO_RESULT,
        method_report_activity, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("ReportIdleSource",
                            SD_BUS_ARGS("s", id, "s", method, "as", inhibitors),
                            SD_BUS_NO_RESULT, method_report_idle_source,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(
        "ExplainPolicy", SD_BUS_ARGS("s", user, "a{sv}", who),
        SD_BUS_RESULT("s", policy, "s", file, "u", line, "as", groups, "a{sv}",
                      limits),
        hg_bus_method_explain_policy, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(
        "CheckAccount", SD_BUS_ARGS("s", user, "a{sv}", who),
        SD_BUS_RESULT("b", allowed, "s", reason, "t", until),
        hg_bus_method_check_account, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS(
        "GetAllowance", SD_BUS_ARGS("s", user, "a{sv}", who),
        SD_BUS_RESULT("t", used_sec, "t", granted_sec, "t", left_sec, "b",
                      spent),
        hg_bus_method_get_allowance, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("GrantAllowance", SD_BUS_ARGS("s", user, "u", sec),
                            SD_BUS_RESULT("t", granted_sec),
                            hg_bus_method_grant_allowance,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("SetWaiting", SD_BUS_ARGS("b", waiting),
                            SD_BUS_NO_RESULT, hg_bus_method_set_waiting,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("RequestMoreTime", SD_BUS_ARGS("s", id),
                            SD_BUS_RESULT("t", limit_at, "u", extensions_left),
                            hg_bus_method_more_time,
                            SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL_WITH_ARGS("SessionNew", SD_BUS_ARGS("s", id, "o", path), 0),
    SD_BUS_SIGNAL_WITH_ARGS("SessionWarning",
                            SD_BUS_ARGS("s", id, "o", path, "t", seconds_left),
                            0),
    SD_BUS_SIGNAL_WITH_ARGS("SessionRemoved",
                            SD_BUS_ARGS("s", id, "o", path, "s", reason), 0),
    SD_BUS_PROPERTY("WarnAfterSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ExpireAfterSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("MaxSessionSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("CloseAfterSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("InhibitMaxSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Waiting", "b", hg_bus_get_waiting, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};
