/* The warning of the session followed: a notification with a countdown,
 * in the words of what the daemon says it is of (hg-agent-wording.h),
 * from the daemon's word until the session is active again or gone. */
#include <inttypes.h>

#include "hg-agent-countdown.h"
#include "hg-agent-log.h"
#include "hg-agent.h"

#define COUNTDOWN_ACCURACY_USEC (100 * HG_USEC_PER_MSEC)

static int on_countdown(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_countdown(Agent *a, hg_usec_t at) {
  int r = 0;

  if (!a->countdown)
    r = sd_event_add_time(a->event, &a->countdown, CLOCK_BOOTTIME, at,
                          COUNTDOWN_ACCURACY_USEC, on_countdown, a);
  else
    r = sd_event_source_set_time(a->countdown, at);
  if (r >= 0)
    r = sd_event_source_set_enabled(a->countdown, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot time the countdown");
}

/* The fixed end's time of day where the person is: the limit's, the
 * allowance's or closing time. */
static char *limit_clock(const AgentFacts *f) {
  g_autoptr(GTimeZone) tz = NULL;
  bool fixed = f->warning == AGENT_WARNING_LIMIT ||
               f->warning == AGENT_WARNING_ALLOWANCE ||
               f->warning == AGENT_WARNING_CLOSING;

  if (!fixed || !f->limit_at)
    return NULL;
  tz = g_time_zone_new_local();
  return agent_wording_clock(f->limit_at, tz);
}

/* Shows the text for now and comes back when it changes. */
static void update(Agent *a, bool alert) {
  uint64_t left =
      hg_usec_to_sec_ceil(hg_usec_sub(a->deadline, hg_now(CLOCK_BOOTTIME)));
  AgentCountdown c = agent_countdown_step(left);
  g_autofree char *clock = limit_clock(&a->facts);
  g_auto(AgentWording) w = {0};
  NotifierText t;

  agent_wording_make(&a->facts, left, clock, &w);
  t = (NotifierText){w.summary, w.body, w.action, w.action_label};
  if (alert)
    notifier_alert(a->notifier, &t);
  else
    notifier_show(a->notifier, &t);
  if (c.next > 0)
    arm_countdown(a, hg_usec_sub(a->deadline, hg_sec_to_usec(c.next)));
  else if (a->countdown)
    (void)sd_event_source_set_enabled(a->countdown, SD_EVENT_OFF);
}

static int on_countdown(sd_event_source *s, uint64_t usec, void *userdata) {
  Agent *a = userdata;

  if (a->warning)
    update(a, false);
  return 0;
}

static void log_news(const Agent *a, uint64_t left_sec) {
  const AgentFacts *f = &a->facts;

  agent_info("Session %s: warning (%s; stage %s), %" PRIu64 " s left, "
             "%" PRIu32 " extension%s left",
             a->id, agent_warning_kind_to_string(f->warning),
             f->locked ? "locked" : "active", left_sec, f->extensions_left,
             f->extensions_left == 1 ? "" : "s");
}

void agent_warning_show(Agent *a, bool alert) {
  uint64_t target = agent_facts_target(&a->facts);
  hg_usec_t now_real = hg_now(CLOCK_REALTIME);
  hg_usec_t left_usec = hg_usec_sub(target, now_real);

  if (target == 0) {
    agent_warning("Session %s is warned of something without a time: not "
                  "shown",
                  a->id);
    return;
  }
  /* The daemon's times are wall-clock; the countdown runs on in suspend. */
  a->deadline = hg_usec_add(hg_now(CLOCK_BOOTTIME), left_usec);
  if (!a->warning) {
    a->warning = true;
    alert = true;
    idle_watch_set_urgent(a->idle, true);
    agent_flush_activity(a);
  }
  if (alert)
    log_news(a, hg_usec_to_sec_ceil(left_usec));
  update(a, alert);
}

void agent_warning_clear(Agent *a) {
  if (!a->warning)
    return;
  a->warning = false;
  agent_info("Session %s: warning over", a->id ? a->id : "-");
  if (a->countdown)
    (void)sd_event_source_set_enabled(a->countdown, SD_EVENT_OFF);
  notifier_withdraw(a->notifier);
  idle_watch_set_urgent(a->idle, false);
}

void agent_warning_stop(Agent *a) {
  a->countdown = sd_event_source_disable_unref(a->countdown);
}
