/* What the person asks for from the warning's notification: to stay
 * (Manager.ExtendSession, which counts as activity) and more time on the
 * absolute limit (Session.RequestMoreTime, which hourglassd may refuse
 * with a reason the person is told). */
#include <inttypes.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-agent.h"

static int on_extended(sd_bus_message *reply, void *userdata,
                       sd_bus_error *ret_error) {
  Agent *a = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);

  agent_slot_clear(&a->extend_slot);
  if (e && !agent_error_is_gone(e))
    agent_warning("Cannot extend session %s: %s", a->id,
                  agent_bus_error_text(e));
  return 0;
}

void agent_extend(Agent *a) {
  int r;

  if (!a->id)
    return;
  agent_info("Extending session %s, as asked in the notification", a->id);
  agent_slot_clear(&a->extend_slot);
  r = agent_bus_call(a->system, &a->extend_slot, HG_BUS_NAME, HG_BUS_PATH,
                     HG_BUS_MANAGER_IFACE, "ExtendSession", on_extended, a, "s",
                     a->id);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot extend session %s", a->id);
}

/* Granted: the properties say where the warning stands now (hourglassd
 * has sent what changed at once, but not the new times, which only
 * invalidate). */
static void granted(Agent *a, sd_bus_message *reply) {
  uint64_t limit_at = 0;
  uint32_t left = 0;
  g_autoptr(GTimeZone) tz = g_time_zone_new_local();
  g_autofree char *clock = NULL;

  if (sd_bus_message_read(reply, "tu", &limit_at, &left) < 0)
    agent_warning("hourglassd sent a malformed answer to RequestMoreTime");
  clock = agent_wording_clock(limit_at, tz);
  agent_info("Session %s: more time granted, the limit is at %s now, "
             "%" PRIu32 " extension%s left",
             a->id, clock ? clock : "?", left, left == 1 ? "" : "s");
  if (a->warning)
    agent_session_read(a, true);
}

/* Refused: the reason, in hourglassd's words, beside the warning (which
 * stays as it is: nothing changed). */
static void refused(Agent *a, const sd_bus_error *e) {
  const char *why = agent_bus_error_text(e);

  if (agent_error_is_gone(e))
    return; /* ended meanwhile: SessionRemoved says so */
  if (sd_bus_error_has_name(e, HG_BUS_ERROR_MORE_TIME_REFUSED)) {
    agent_info("Session %s: more time refused: %s", a->id, why);
    notifier_tell(a->notifier, agent_wording_refused_summary(), why);
    return;
  }
  agent_warning("Cannot ask for more time for session %s: %s", a->id, why);
  notifier_tell(a->notifier, agent_wording_refused_summary(),
                "hourglass could not be asked for more time.");
}

static int on_more_time(sd_bus_message *reply, void *userdata,
                        sd_bus_error *ret_error) {
  Agent *a = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);

  agent_slot_clear(&a->more_time_slot);
  if (e)
    refused(a, e);
  else
    granted(a, reply);
  return 0;
}

void agent_more_time(Agent *a) {
  int r;

  if (!a->path || a->more_time_slot)
    return; /* asked already: one answer at a time */
  agent_info("Asking for more time for session %s, as chosen in the "
             "notification",
             a->id);
  r = agent_bus_call(a->system, &a->more_time_slot, HG_BUS_NAME, a->path,
                     HG_BUS_SESSION_IFACE, "RequestMoreTime", on_more_time, a,
                     NULL);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot ask for more time for session %s",
                    a->id);
}

void agent_request_stop(Agent *a) {
  agent_slot_clear(&a->extend_slot);
  agent_slot_clear(&a->more_time_slot);
}
