/* The registry's deadline on an sd-event timer; see hg-deadline-timer.h. */
#include "hg-deadline-timer.h"

#include <glib.h>

#include "hg-log.h"

struct HgDeadlineTimer {
  HgRegistry *reg;
  sd_event_source *source;
};

static void on_deadline_changed(HgRegistry *reg, hg_usec_t deadline,
                                void *userdata);

static int on_deadline(sd_event_source *source, uint64_t usec, void *userdata) {
  HgDeadlineTimer *t = userdata;

  hg_registry_process(t->reg);
  /* The registry announces only changes; this one-shot source is off now
   * whatever processing found, so arm it again for the earliest deadline. */
  on_deadline_changed(t->reg, hg_registry_next_deadline(t->reg), t);
  return 0;
}

static void on_deadline_changed(HgRegistry *reg, hg_usec_t deadline,
                                void *userdata) {
  HgDeadlineTimer *t = userdata;
  int r;

  if (deadline == HG_USEC_INFINITY) {
    (void)sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
    return;
  }
  r = sd_event_source_set_time(t->source, deadline);
  if (r >= 0)
    r = sd_event_source_set_enabled(t->source, SD_EVENT_ONESHOT);
  if (r < 0)
    hg_log_errno(LOG_CRIT, r, "Cannot arm the session deadline timer");
}

int hg_deadline_timer_new(sd_event *event, HgRegistry *reg,
                          HgDeadlineTimer **ret) {
  g_autofree HgDeadlineTimer *t = g_new0(HgDeadlineTimer, 1);
  int r;

  t->reg = reg;
  r = sd_event_add_time(event, &t->source, CLOCK_BOOTTIME, 0, 1, on_deadline,
                        t);
  if (r < 0)
    return r;
  (void)sd_event_source_set_description(t->source, "session-deadline");
  (void)sd_event_source_set_enabled(t->source, SD_EVENT_OFF);
  hg_registry_set_deadline_callback(reg, on_deadline_changed, t);
  *ret = g_steal_pointer(&t);
  return 0;
}

HgDeadlineTimer *hg_deadline_timer_free(HgDeadlineTimer *t) {
  if (!t)
    return NULL;
  hg_registry_set_deadline_callback(t->reg, NULL, NULL);
  sd_event_source_disable_unref(t->source);
  g_free(t);
  return NULL;
}
