/* The day's limits on org.hourglass1.Manager: whether a person may sign in
 * now (CheckAccount, for pam_hourglass's account phase), what they used
 * today (GetAllowance) and an operator's extra time (GrantAllowance). All
 * for root and AdminGroup: they tell, and change, how much someone used
 * the machines. */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-log.h"

#define NAME_MAX_LEN 256

static uint64_t seconds(hg_usec_t t) {
  return t == HG_USEC_INFINITY ? UINT64_MAX : t / HG_USEC_PER_SEC;
}

static void limits_for(HgBus *bus, const HgPolicyWho *who, HgLimits *ret) {
  const HgConfig *c = bus->config;

  hg_policy_rule_apply(hg_policy_rules_match(c->rules, who), &c->fallback, ret);
}

static int reply_check(HgBus *bus, sd_bus_message *m, const HgPolicyWho *who) {
  HgLimits limits;
  HgAccess a;

  limits_for(bus, who, &limits);
  hg_daily_check(bus->daily, who->user, &limits, &a);
  hg_debug("CheckAccount %s: %s", who->user,
           hg_access_verdict_to_string(a.verdict));
  return sd_bus_reply_method_return(
      m, "bst", a.verdict == HG_ACCESS_ALLOWED,
      hg_access_verdict_to_string(a.verdict),
      a.verdict == HG_ACCESS_ALLOWED ? 0 : (uint64_t)a.until);
}

static int reply_get(HgBus *bus, sd_bus_message *m, const HgPolicyWho *who) {
  HgAllowanceDay day;
  HgLimits limits;
  hg_usec_t left = HG_USEC_INFINITY;

  limits_for(bus, who, &limits);
  hg_daily_get(bus->daily, who->user, &day);
  if (limits.daily_allowance > 0)
    left = hg_allowance_left(&day, limits.daily_allowance);
  return sd_bus_reply_method_return(m, "tttb", seconds(day.used),
                                    seconds(day.granted), seconds(left),
                                    day.spent);
}

static int check_account_as(HgBus *bus, sd_bus_message *m,
                            const HgBusCaller *caller, sd_bus_error *error) {
  int r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, NULL, error);

  return r < 0 ? r : hg_bus_ask_who(bus, m, reply_check, error);
}

static int get_allowance_as(HgBus *bus, sd_bus_message *m,
                            const HgBusCaller *caller, sd_bus_error *error) {
  int r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, NULL, error);

  return r < 0 ? r : hg_bus_ask_who(bus, m, reply_get, error);
}

static void log_grant(const HgBusCaller *caller, const char *user, uint32_t sec,
                      const HgAllowanceDay *day) {
  g_autofree char *f_user = g_strconcat("HG_USER=", user, NULL);
  g_autofree char *f_grant = g_strdup_printf("HG_GRANT_SEC=%u", sec);

  hg_log_fields(LOG_NOTICE, (const char *[]){f_user, f_grant, NULL},
                "Allowance of %s: %u s more for today, granted over D-Bus by "
                "uid %u (%" G_GUINT64_FORMAT " s granted today in all)",
                user, sec, (unsigned)caller->uid, seconds(day->granted));
}

static int grant_as(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                    sd_bus_error *error) {
  HgAllowanceDay day;
  const char *user;
  uint32_t sec;
  int r;

  r = sd_bus_message_read(m, "su", &user, &sec);
  if (r < 0)
    return r;
  r = hg_bus_check_caller(bus, m, caller, HG_BUS_ALLOW_ADMIN, NULL, error);
  if (r < 0)
    return r;
  if (!*user || strlen(user) > NAME_MAX_LEN || !g_utf8_validate(user, -1, NULL))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Not a user name");
  r = hg_daily_grant(bus->daily, user, (hg_usec_t)sec * HG_USEC_PER_SEC, &day);
  if (r == -EINVAL)
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "A grant is 1 to 86400 seconds");
  /* A record that could not be written is logged; the grant stands. */
  log_grant(caller, user, sec, &day);
  return sd_bus_reply_method_return(m, "t", seconds(day.granted));
}

int hg_bus_method_check_account(sd_bus_message *m, void *userdata,
                                sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, check_account_as);
}

int hg_bus_method_get_allowance(sd_bus_message *m, void *userdata,
                                sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, get_allowance_as);
}

int hg_bus_method_grant_allowance(sd_bus_message *m, void *userdata,
                                  sd_bus_error *error) {
  return hg_bus_with_caller(userdata, m, grant_as);
}
