/* The warning of the session followed: a notification with a countdown,
 * from the daemon's word until the session is active again or gone. */
#include <inttypes.h>

#include "hg-agent-countdown.h"
#include "hg-agent-log.h"
#include "hg-agent.h"

#define COUNTDOWN_ACCURACY_USEC (100 * HG_USEC_PER_MSEC)
/* SessionWarning rounds the time left up to whole seconds. */
#define HARD_LIMIT_SLACK_USEC (2 * HG_USEC_PER_SEC)

/* The daemon warns before the absolute limit as before the idle timeout,
 * in the same words; only the times tell them apart. Past the absolute
 * limit nothing helps, so the notification must not offer to. */
static bool meets_hard_limit(const Agent *a, hg_usec_t left_usec) {
  hg_usec_t end, hard_end;

  if (a->max_session_sec == 0 || a->created == 0)
    return false;
  end = hg_usec_add(hg_now(CLOCK_REALTIME), left_usec);
  hard_end = hg_usec_add(a->created, hg_sec_to_usec(a->max_session_sec));
  return hg_usec_add(end, HARD_LIMIT_SLACK_USEC) >= hard_end;
}

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

/* Shows the text for now and comes back when it changes. */
static void update(Agent *a) {
  uint64_t left =
      hg_usec_to_sec_ceil(hg_usec_sub(a->deadline, hg_now(CLOCK_BOOTTIME)));
  AgentCountdown c = agent_countdown_step(left);
  g_autofree char *body = agent_countdown_body(left, a->hard_limit);
  NotifierText t = {agent_countdown_summary(), body};

  if (!a->hard_limit) {
    t.action = AGENT_ACTION_EXTEND;
    t.action_label = "Stay signed in";
  }
  notifier_show(a->notifier, &t);
  if (c.next > 0)
    arm_countdown(a, hg_usec_sub(a->deadline, hg_sec_to_usec(c.next)));
  else if (a->countdown)
    (void)sd_event_source_set_enabled(a->countdown, SD_EVENT_OFF);
}

static int on_countdown(sd_event_source *s, uint64_t usec, void *userdata) {
  Agent *a = userdata;

  if (a->warning)
    update(a);
  return 0;
}

void agent_warning_show(Agent *a, hg_usec_t left_usec) {
  a->deadline = hg_usec_add(hg_now(CLOCK_BOOTTIME), left_usec);
  a->hard_limit = meets_hard_limit(a, left_usec);
  if (!a->warning) {
    a->warning = true;
    agent_info("Session %s: warning, %" PRIu64 " s left%s", a->id,
               hg_usec_to_sec_ceil(left_usec),
               a->hard_limit ? " before its absolute limit" : "");
    idle_watch_set_urgent(a->idle, true);
    agent_flush_activity(a);
  }
  update(a);
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
