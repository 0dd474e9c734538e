/* What the agent tells hourglassd of its session: the user's input
 * (ReportActivity, at most once per interval, nothing lost) and how it sees
 * it (ReportIdleSource, with the screen saver inhibitions it serves). */
#include <inttypes.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-agent.h"
#include "hg-macros.h"

static void send_pending(Agent *a);

static int on_reported(sd_bus_message *reply, void *userdata,
                       sd_bus_error *ret_error) {
  Agent *a = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);

  agent_slot_clear(&a->report_slot);
  if (!e) {
    a->report_failure_logged = false;
  } else if (!agent_error_is_gone(e)) {
    /* Once until a report gets through: input comes every few seconds. */
    agent_log(a->report_failure_logged ? LOG_DEBUG : LOG_WARNING,
              "hourglassd did not take the input report for session %s: %s",
              a->id, agent_bus_error_text(e));
    a->report_failure_logged = true;
  }
  send_pending(a); /* what came in meanwhile */
  return 0;
}

static int on_report_timer(sd_event_source *s, uint64_t usec, void *userdata) {
  send_pending(userdata);
  return 0;
}

static void hold_until(Agent *a, hg_usec_t at) {
  int r = 0;

  if (!a->report_timer)
    r = sd_event_add_time(a->event, &a->report_timer, CLOCK_MONOTONIC, at, 0,
                          on_report_timer, a);
  else
    r = sd_event_source_set_time(a->report_timer, at);
  if (r >= 0)
    r = sd_event_source_set_enabled(a->report_timer, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot hold the input report back");
}

/* The input held back goes out, unless the interval is not over (then
 * later) or a report is on its way (then after its answer). */
static void send_pending(Agent *a) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);
  hg_usec_t next = hg_usec_add(a->last_report, AGENT_REPORT_INTERVAL_USEC);
  uint32_t idle_sec;
  int r;

  if (!a->id || !a->pending_input || a->report_slot)
    return;
  if (!a->warning && a->last_report && now < next) {
    hold_until(a, next);
    return;
  }
  idle_sec = (uint32_t)(hg_usec_sub(now, a->pending_input) / HG_USEC_PER_SEC);
  r = agent_bus_call(a->system, &a->report_slot, HG_BUS_NAME, HG_BUS_PATH,
                     HG_BUS_MANAGER_IFACE, "ReportActivity", on_reported, a,
                     "su", a->id, idle_sec);
  if (r < 0) {
    agent_log_errno(LOG_WARNING, r, "Cannot report input");
    return;
  }
  a->pending_input = 0;
  a->last_report = now;
  agent_debug("Reported input %" PRIu32 " s ago for session %s", idle_sec,
              a->id);
}

void agent_report_activity(Agent *a, uint32_t idle_sec) {
  hg_usec_t input =
      hg_usec_sub(hg_now(CLOCK_MONOTONIC), hg_sec_to_usec(idle_sec));

  if (!a->id)
    return; /* nobody to tell */
  a->pending_input = HG_MAX(a->pending_input, input);
  send_pending(a);
}

void agent_flush_activity(Agent *a) { send_pending(a); }

static int on_source_reported(sd_bus_message *reply, void *userdata,
                              sd_bus_error *ret_error) {
  Agent *a = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);

  agent_slot_clear(&a->source_slot);
  if (e && !agent_error_is_gone(e))
    agent_warning("hourglassd did not take the idle method of session %s: "
                  "%s",
                  a->id, agent_bus_error_text(e));
  if (a->source_again)
    agent_report_idle_source(a);
  return 0;
}

static int send_idle_source(Agent *a, const char *method) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  const char *const none[] = {NULL};
  const char *const *holders =
      a->inhibitors ? inhibitors_holders(a->inhibitors) : none;
  int r;

  r = sd_bus_message_new_method_call(a->system, &m, HG_BUS_NAME, HG_BUS_PATH,
                                     HG_BUS_MANAGER_IFACE, "ReportIdleSource");
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r >= 0)
    r = sd_bus_message_append(m, "ss", a->id, method);
  if (r >= 0)
    r = sd_bus_message_append_strv(m, (char **)holders);
  if (r >= 0)
    r = sd_bus_call_async(a->system, &a->source_slot, m, on_source_reported, a,
                          0);
  return r;
}

void agent_report_idle_source(Agent *a) {
  const char *method = idle_watch_method(a->idle);
  int r;

  if (!a->id)
    return;
  if (a->source_slot) {
    a->source_again = true; /* sent once the answer is in: in order */
    return;
  }
  a->source_again = false;
  r = send_idle_source(a, method);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot report the idle method");
  else
    agent_debug("Reported idle method '%s' for session %s", method, a->id);
}

void agent_report_reset(Agent *a) {
  a->pending_input = 0;
  if (a->report_timer)
    (void)sd_event_source_set_enabled(a->report_timer, SD_EVENT_OFF);
}
