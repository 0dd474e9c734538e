/* The policy's side of org.hourglass1.Manager: which rule applies to whom
 * (ExplainPolicy), someone waiting for this machine (SetWaiting and the
 * Waiting property), a person asking for more time (RequestMoreTime, also
 * on the Session). */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-groups.h"
#include "hg-log.h"
#include "hg-more-time.h"
#include "hg-policy-rules.h"

/* Each explanation may wait for NSS: a caller cannot queue more. */
#define EXPLAIN_MAX 8
/* Well within a client's call timeout (hourglassctl's is 10 s): a slow
 * directory gets a reply that says so, not a client that gave up. */
#define GROUPS_TIMEOUT_USEC (5 * HG_USEC_PER_SEC)
#define NAME_MAX_LEN 256

struct HgBusExplain {
  HgBus *bus;
  sd_bus_message *m;
  HgBusWhoReply reply;
  HgGroupsQuery *query;
  char *user;
  HgSessionSource source;
  char *seat, *service;
};

void hg_bus_explain_free(HgBusExplain *e) {
  hg_groups_query_free(e->query);
  sd_bus_message_unref(e->m);
  g_free(e->user);
  g_free(e->seat);
  g_free(e->service);
  g_free(e);
}

static int append_u(sd_bus_message *m, const char *key, uint64_t v) {
  return sd_bus_message_append(m, "{sv}", key, "u",
                               (uint32_t)MIN(v, UINT32_MAX));
}

static int append_usec(sd_bus_message *m, const char *key, hg_usec_t v) {
  return append_u(m, key, hg_usec_to_sec_ceil(v));
}

static int append_warn_before(sd_bus_message *m, const HgLimits *l) {
  int r;

  r = sd_bus_message_open_container(m, 'e', "sv");
  if (r >= 0)
    r = sd_bus_message_append(m, "s", "WarnBeforeSec");
  if (r >= 0)
    r = sd_bus_message_open_container(m, 'v', "au");
  if (r >= 0)
    r = sd_bus_message_open_container(m, 'a', "u");
  for (unsigned i = 0; r >= 0 && i < l->n_warn_before; i++)
    r = sd_bus_message_append(m, "u",
                              (uint32_t)hg_usec_to_sec_ceil(l->warn_before[i]));
  for (int i = 0; r >= 0 && i < 3; i++)
    r = sd_bus_message_close_container(m);
  return r;
}

/* The limits in the configuration's own names. */
static int append_limits(sd_bus_message *m, const HgLimits *l) {
  int r = sd_bus_message_open_container(m, 'a', "{sv}");

  if (r >= 0)
    r = append_usec(m, "WarnAfterSec", l->warn_after);
  if (r >= 0)
    r = append_usec(m, "ExpireAfterSec", l->expire_after);
  if (r >= 0)
    r = append_usec(m, "MaxSessionSec", l->max_session);
  if (r >= 0)
    r = append_usec(m, "CloseAfterSec", l->close_after);
  if (r >= 0)
    r = append_usec(m, "InhibitMaxSec", l->inhibit_max);
  if (r >= 0)
    r = sd_bus_message_append(m, "{sv}", "Action", "s",
                              hg_desktop_action_to_string(l->action));
  if (r >= 0)
    r = append_usec(m, "LockedMaxSec", l->locked_max);
  if (r >= 0)
    r = append_usec(m, "ExtendBySec", l->extend_by);
  if (r >= 0)
    r = append_u(m, "MaxExtensions", l->max_extensions);
  if (r >= 0)
    r = append_warn_before(m, l);
  if (r >= 0)
    r = append_usec(m, "DailyAllowanceSec", l->daily_allowance);
  if (r >= 0) {
    g_autofree char *hours = hg_schedule_format(&l->hours);
    r = sd_bus_message_append(m, "{sv}", "AllowedHours", "s", hours);
  }
  if (r >= 0)
    r = sd_bus_message_close_container(m);
  return r;
}

static int reply_explain(HgBus *bus, sd_bus_message *m,
                         const HgPolicyWho *who) {
  const HgConfig *c = bus->config;
  const char *const *groups = who->groups;
  const HgPolicyRule *rule = hg_policy_rules_match(c->rules, who);
  g_autoptr(sd_bus_message) reply = NULL;
  HgLimits limits;
  int r;

  hg_policy_rule_apply(rule, &c->fallback, &limits);
  r = sd_bus_message_new_method_return(m, &reply);
  if (r >= 0)
    r = sd_bus_message_append(reply, "ssu", rule ? rule->name : "",
                              rule ? rule->file : c->path,
                              rule ? rule->line : 0);
  if (r >= 0)
    r = sd_bus_message_append_strv(reply, (char **)groups);
  if (r >= 0)
    r = append_limits(reply, &limits);
  if (r >= 0)
    r = sd_bus_send(NULL, reply, NULL);
  return r;
}

static void on_groups(HgGroupsQuery *q, int r, const char *const *groups,
                      void *userdata) {
  HgBusExplain *e = userdata;

  if (r == -ENOENT)
    r = sd_bus_reply_method_errorf(e->m, HG_BUS_ERROR_NO_SUCH_USER,
                                   "No user %s", e->user);
  else if (r < 0)
    r = sd_bus_reply_method_errorf(e->m, SD_BUS_ERROR_FAILED,
                                   "Cannot tell the groups of %s: %s", e->user,
                                   g_strerror(-r));
  else {
    HgPolicyWho who = {
        .user = e->user,
        .groups = groups,
        .source = e->source,
        .seat = e->seat,
        .service = e->service,
    };
    r = e->reply(e->bus, e->m, &who);
  }
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot answer %s",
                 sd_bus_message_get_member(e->m));
  g_hash_table_remove(e->bus->explains, e);
}

static bool valid_name(const char *s) {
  return s && *s && strlen(s) <= NAME_MAX_LEN && g_utf8_validate(s, -1, NULL);
}

static int read_option(HgBusExplain *e, const char *key, const char *value,
                       sd_bus_error *error) {
  if (strcmp(key, "source") == 0) {
    e->source = hg_session_source_from_string(value);
    return e->source < 0 ? sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                             "source must be web or desktop")
                         : 0;
  }
  if (strcmp(key, "seat") != 0 && strcmp(key, "service") != 0)
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Unknown option %s: source, seat or service", key);
  if (!valid_name(value))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Not a %s name",
                             key);
  if (strcmp(key, "seat") == 0) {
    g_free(e->seat);
    e->seat = g_strdup(value);
  } else {
    g_free(e->service);
    e->service = g_strdup(value);
  }
  return 0;
}

/* The options, each a string. Unknown keys are an error: a typo must not
 * explain the wrong thing. */
static int read_who(sd_bus_message *m, HgBusExplain *e, sd_bus_error *error) {
  const char *key, *value;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    r = sd_bus_message_read(m, "s", &key);
    if (r >= 0)
      r = sd_bus_message_read(m, "v", "s", &value);
    if (r < 0)
      return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                               "Options are source, seat and service, each "
                               "a string");
    r = read_option(e, key, value, error);
    if (r >= 0)
      r = sd_bus_message_exit_container(m);
  }
  return r < 0 ? r : sd_bus_message_exit_container(m);
}

/* A web sign-in comes from this machine's seat and PAM service; a
 * desktop login's are whatever the caller asks about. */
static void default_who(HgBusExplain *e, const HgConfig *c) {
  if (e->source != HG_SESSION_SOURCE_WEB)
    return;
  if (!e->seat && c->seat)
    e->seat = g_strdup(c->seat);
  if (!e->service)
    e->service = g_strdup(c->pam_service);
}

int hg_bus_ask_who(HgBus *bus, sd_bus_message *m, HgBusWhoReply reply,
                   sd_bus_error *error) {
  g_autoptr(HgBusExplain) e = g_new0(HgBusExplain, 1);
  const char *user;
  int r;

  e->bus = bus;
  e->reply = reply;
  e->source = HG_SESSION_SOURCE_WEB;
  r = sd_bus_message_read(m, "s", &user);
  if (r < 0)
    return r;
  if (!valid_name(user))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Not a user name");
  r = read_who(m, e, error);
  if (r < 0)
    return r;
  if (g_hash_table_size(bus->explains) >= EXPLAIN_MAX)
    return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                             "Too many explanations under way; try again");
  e->user = g_strdup(user);
  e->m = sd_bus_message_ref(m);
  default_who(e, bus->config);
  r = hg_groups_query_new(bus->event, user, GROUPS_TIMEOUT_USEC, on_groups, e,
                          &e->query);
  if (r < 0)
    return r;
  g_hash_table_add(bus->explains, g_steal_pointer(&e));
  return 1;
}

int hg_bus_method_explain_policy(sd_bus_message *m, void *userdata,
                                 sd_bus_error *error) {
  return hg_bus_ask_who(userdata, m, reply_explain, error);
}

/* --- waiting ----------------------------------------------------------- */

static int set_waiting_as(HgBus *bus, sd_bus_message *m,
                          const HgBusCaller *caller, sd_bus_error *error) {
  int waiting, r;

  r = sd_bus_message_read(m, "b", &waiting);
  if (r < 0)
    return r;
  r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, NULL, error);
  if (r < 0)
    return r;
  if (hg_registry_get_waiting(bus->reg) != !!waiting) {
    hg_notice("%s for this machine (set over D-Bus by uid %u)",
              waiting ? "Someone is waiting" : "No one is waiting any more",
              (unsigned)caller->uid);
    hg_registry_set_waiting(bus->reg, waiting);
    (void)sd_bus_emit_properties_changed(bus->bus, HG_BUS_PATH,
                                         HG_BUS_MANAGER_IFACE, "Waiting", NULL);
  }
  return sd_bus_reply_method_return(m, NULL);
}

int hg_bus_method_set_waiting(sd_bus_message *m, void *userdata,
                              sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, set_waiting_as);
}

int hg_bus_get_waiting(sd_bus *sdbus, const char *path, const char *iface,
                       const char *property, sd_bus_message *reply,
                       void *userdata, sd_bus_error *error) {
  return sd_bus_message_append(
      reply, "b", hg_registry_get_waiting(((HgBus *)userdata)->reg));
}

/* --- more time --------------------------------------------------------- */

int hg_bus_more_time(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     HgSession *s, sd_bus_error *error) {
  g_autoptr(HgSession) ref = hg_session_ref(s); /* asking may end it */
  g_autofree char *why = NULL;
  HgMoreTime answer;
  const HgVerdict *v;

  /* The person's own request: an operator extends with ExtendSession. */
  if (caller->uid != hg_session_get_uid(s))
    return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                             "Only the session's own user asks for more "
                             "time; operators use ExtendSession");
  if (hg_registry_more_time(bus->reg, s, &answer) < 0)
    return sd_bus_error_setf(error, HG_BUS_ERROR_NO_SUCH_SESSION,
                             "Session %s has just ended", hg_session_get_id(s));
  hg_more_time_log(s, answer, "over D-Bus");
  why = hg_more_time_explain(s, answer);
  if (why)
    return sd_bus_error_setf(error, HG_BUS_ERROR_MORE_TIME_REFUSED, "%s", why);
  v = hg_session_get_verdict(s);
  return sd_bus_reply_method_return(m, "tu", hg_bus_realtime(bus, v->hard_end),
                                    hg_session_get_limits(s)->max_extensions -
                                        hg_session_get_times(s)->n_extended);
}

static int more_time_as(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, sd_bus_error *error) {
  HgSession *s;
  const char *id;
  int r;

  r = sd_bus_message_read(m, "s", &id);
  if (r >= 0)
    r = hg_bus_find_session(bus, id, &s, error);
  return r < 0 ? r : hg_bus_more_time(bus, m, caller, s, error);
}

int hg_bus_method_more_time(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, more_time_as);
}
