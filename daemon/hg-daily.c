/* The day's limits in the loop; see hg-daily.h. */
#include "hg-daily.h"

#include <errno.h>
#include <systemd/sd-id128.h>

#include "hg-clock-watch.h"
#include "hg-log.h"
#include "hg-macros.h"
#include "hg-wall.h"

struct HgDaily {
  sd_event *event;
  HgRegistry *reg;
  const HgClock *clock;
  const HgConfig *config;
  unsigned listener;
  char *dir;
  HgAllowanceStore *store; /* NULL: memory only */
  HgAllowance *ledger;
  bool counting;             /* some rule sets DailyAllowanceSec */
  GHashTable *counted;       /* session id -> user, sessions the ledger has */
  sd_event_source *tick;     /* CLOCK_BOOTTIME: the ledger's next write */
  sd_event_source *midnight; /* CLOCK_REALTIME: the next local day */
  HgClockWatch *clock_watch;
};

/* --- the day ends of a session ------------------------------------------ */

/* A wall-clock instant at or after real_now as CLOCK_BOOTTIME; 0 for never
 * (the registry's "none"), never 0 for a real one. */
static hg_usec_t boot_of(hg_usec_t t, hg_usec_t real_now, hg_usec_t boot_now) {
  if (t == HG_USEC_INFINITY)
    return 0;
  return HG_MAX(hg_usec_add(boot_now, hg_usec_sub(t, real_now)), 1);
}

/* What is left today, and past midnight the new day's allowance. */
static hg_usec_t allowance_end(HgDaily *d, HgSession *s, GTimeZone *tz,
                               hg_usec_t real, hg_usec_t boot) {
  hg_usec_t allowance = hg_session_get_limits(s)->daily_allowance;
  hg_usec_t to_midnight, left;
  HgAllowanceDay day;

  hg_allowance_get(d->ledger, hg_session_get_user(s), &day);
  left = hg_allowance_left(&day, allowance);
  to_midnight = hg_usec_sub(hg_wall_next_day(tz, real), real);
  if (left < to_midnight)
    return HG_MAX(hg_usec_add(boot, left), 1);
  return hg_usec_add(hg_usec_add(boot, to_midnight), allowance);
}

static void day_ends(HgRegistry *reg, HgSession *s, hg_usec_t *ret_allowance,
                     hg_usec_t *ret_closing, void *userdata) {
  HgDaily *d = userdata;
  const HgLimits *l = hg_session_get_limits(s);
  g_autoptr(GTimeZone) tz = hg_clock_zone(d->clock);
  hg_usec_t real = hg_clock_realtime(d->clock);
  hg_usec_t boot = hg_clock_boottime(d->clock);

  *ret_closing =
      boot_of(hg_schedule_next_close(&l->hours, tz, real), real, boot);
  *ret_allowance = 0;
  if (d->counting && l->daily_allowance > 0)
    *ret_allowance = allowance_end(d, s, tz, real, boot);
}

/* --- timers --------------------------------------------------------------- */

static void arm(sd_event_source *src, hg_usec_t at) {
  int r = 0;

  if (at == HG_USEC_INFINITY) {
    (void)sd_event_source_set_enabled(src, SD_EVENT_OFF);
    return;
  }
  r = sd_event_source_set_time(src, at);
  if (r >= 0)
    r = sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
  if (r < 0)
    hg_log_errno(LOG_ERR, r, "Cannot arm a timer of the daily limits");
}

static void arm_midnight(HgDaily *d) {
  g_autoptr(GTimeZone) tz = hg_clock_zone(d->clock);

  arm(d->midnight, hg_wall_next_day(tz, hg_clock_realtime(d->clock)));
}

/* The ledger's time moves on; every end is asked again (those that did
 * not move by a second stay as they are). */
static void catch_up(HgDaily *d) {
  arm(d->tick, hg_allowance_tick(d->ledger));
  hg_registry_refresh_day_ends(d->reg, NULL);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
  catch_up(userdata);
  return 0;
}

static int on_midnight(sd_event_source *s, uint64_t usec, void *userdata) {
  HgDaily *d = userdata;

  catch_up(d);
  arm_midnight(d);
  return 0;
}

void hg_daily_clock_changed(HgDaily *d) {
  catch_up(d);
  arm_midnight(d);
}

static void on_clock_changed(void *userdata) {
  hg_daily_clock_changed(userdata);
}

/* --- counting ------------------------------------------------------------- */

static void count(HgDaily *d, HgSession *s) {
  const char *id = hg_session_get_id(s);

  if (g_hash_table_contains(d->counted, id))
    return;
  hg_allowance_open(d->ledger, hg_session_get_user(s),
                    hg_session_is_restored(s));
  g_hash_table_insert(d->counted, g_strdup(id),
                      g_strdup(hg_session_get_user(s)));
}

static void uncount(HgDaily *d, const char *id) {
  const char *user = g_hash_table_lookup(d->counted, id);

  if (!user)
    return;
  hg_allowance_close(d->ledger, user);
  g_hash_table_remove(d->counted, id);
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgDaily *d = userdata;

  if (event == HG_REGISTRY_EVENT_NEW && d->counting)
    count(d, s);
  else if (event == HG_REGISTRY_EVENT_ENDED)
    uncount(d, hg_session_get_id(s));
  else
    return;
  arm(d->tick, hg_allowance_tick(d->ledger));
}

static bool any_allowance(const HgConfig *c) {
  HgLimits l;

  if (c->fallback.daily_allowance > 0)
    return true;
  for (unsigned i = 0; i < hg_policy_rules_count(c->rules); i++) {
    hg_policy_rule_apply(hg_policy_rules_get(c->rules, i), &c->fallback, &l);
    if (l.daily_allowance > 0)
      return true;
  }
  return false;
}

static void start_counting(HgDaily *d) {
  g_autoptr(GPtrArray) all = hg_registry_list(d->reg);

  d->counting = true;
  for (guint i = 0; i < all->len; i++)
    count(d, all->pdata[i]);
  if (d->store)
    hg_info("Daily allowance kept in %s: written at most once a minute per "
            "signed-in person and at every session's end; a crash loses at "
            "most a minute of counted use",
            d->dir);
  else
    hg_notice("Daily allowance counted in memory only (no "
              "$STATE_DIRECTORY): a restart forgets what was used");
}

static void stop_counting(HgDaily *d) {
  GHashTableIter it;
  gpointer user;

  g_hash_table_iter_init(&it, d->counted);
  while (g_hash_table_iter_next(&it, NULL, &user)) {
    hg_allowance_close(d->ledger, user);
    g_hash_table_iter_remove(&it);
  }
  d->counting = false;
}

void hg_daily_set_config(HgDaily *d, const HgConfig *config) {
  bool counting = any_allowance(config);

  d->config = config;
  if (counting && !d->counting)
    start_counting(d);
  else if (!counting && d->counting)
    stop_counting(d);
  arm(d->tick, hg_allowance_tick(d->ledger));
}

/* --- life ----------------------------------------------------------------- */

static int open_store(HgDaily *d, const char *dir) {
  int r = hg_allowance_store_new(dir, &d->store);

  if (r < 0)
    return hg_log_errno(LOG_WARNING, r,
                        "Cannot keep the daily allowance in %s%s: it is "
                        "counted in memory only",
                        dir,
                        r == -EPERM ? " (not ours, or open to others)" : "");
  d->dir = g_strdup(dir);
  return 0;
}

static int add_timers(HgDaily *d) {
  int r = sd_event_add_time(d->event, &d->tick, CLOCK_BOOTTIME,
                            HG_USEC_INFINITY, HG_USEC_PER_SEC, on_tick, d);

  if (r >= 0)
    r = sd_event_add_time(d->event, &d->midnight, CLOCK_REALTIME,
                          HG_USEC_INFINITY, HG_USEC_PER_SEC, on_midnight, d);
  if (r >= 0)
    r = hg_clock_watch_new(d->event, on_clock_changed, d, &d->clock_watch);
  return r;
}

int hg_daily_new(sd_event *event, HgRegistry *reg, const char *dir,
                 HgDaily **ret) {
  g_autoptr(HgDaily) d = g_new0(HgDaily, 1);
  char boot_id[SD_ID128_STRING_MAX] = "";
  sd_id128_t boot;
  int r;

  d->event = sd_event_ref(event);
  d->reg = reg;
  d->clock = hg_registry_get_clock(reg);
  d->counted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (dir)
    (void)open_store(d, dir);
  if (sd_id128_get_boot(&boot) >= 0)
    sd_id128_to_string(boot, boot_id);
  d->ledger = hg_allowance_new(d->clock, d->store, boot_id);
  r = add_timers(d);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot follow the wall clock");
  arm_midnight(d);
  d->listener = hg_registry_subscribe(reg, on_session_event, d);
  hg_registry_set_day_ends(reg, day_ends, d);
  *ret = g_steal_pointer(&d);
  return 0;
}

HgDaily *hg_daily_free(HgDaily *d) {
  if (!d)
    return NULL;
  if (d->listener) {
    hg_registry_unsubscribe(d->reg, d->listener);
    hg_registry_set_day_ends(d->reg, NULL, NULL);
  }
  if (d->ledger)
    hg_allowance_flush(d->ledger);
  hg_allowance_free(d->ledger);
  hg_allowance_store_free(d->store);
  hg_clock_watch_free(d->clock_watch);
  sd_event_source_disable_unref(d->tick);
  sd_event_source_disable_unref(d->midnight);
  sd_event_unref(d->event);
  g_hash_table_destroy(d->counted);
  g_free(d->dir);
  g_free(d);
  return NULL;
}

void hg_daily_flush(HgDaily *d) { hg_allowance_flush(d->ledger); }

/* --- questions of the fronts ------------------------------------------------
 */

void hg_daily_check(HgDaily *d, const char *user, const HgLimits *limits,
                    HgAccess *ret) {
  g_autoptr(GTimeZone) tz = hg_clock_zone(d->clock);
  HgAllowanceDay day = {0};
  bool counts = d->counting && limits->daily_allowance > 0;

  if (counts)
    hg_allowance_get(d->ledger, user, &day);
  hg_access_check(limits, counts ? &day : NULL, tz, hg_clock_realtime(d->clock),
                  ret);
}

bool hg_daily_closed_for_all(HgDaily *d, hg_usec_t *ret_opens_at) {
  const HgConfig *c = d->config;
  g_autoptr(GTimeZone) tz = hg_clock_zone(d->clock);
  hg_usec_t now = hg_clock_realtime(d->clock);
  hg_usec_t opens = hg_schedule_next_open(&c->fallback.hours, tz, now);
  HgLimits l;

  for (unsigned i = 0; opens > now && i < hg_policy_rules_count(c->rules);
       i++) {
    hg_policy_rule_apply(hg_policy_rules_get(c->rules, i), &c->fallback, &l);
    opens = HG_MIN(opens, hg_schedule_next_open(&l.hours, tz, now));
  }
  *ret_opens_at = opens;
  return opens > now;
}

void hg_daily_get(HgDaily *d, const char *user, HgAllowanceDay *ret) {
  hg_allowance_get(d->ledger, user, ret);
}

int hg_daily_grant(HgDaily *d, const char *user, hg_usec_t amount,
                   HgAllowanceDay *ret) {
  int r = hg_allowance_grant(d->ledger, user, amount, ret);

  if (r != -EINVAL)
    hg_registry_refresh_day_ends(d->reg, user);
  arm(d->tick, hg_allowance_tick(d->ledger));
  return r;
}
