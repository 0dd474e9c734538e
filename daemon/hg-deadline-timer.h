/* One CLOCK_BOOTTIME timer for the registry's earliest deadline. It follows
 * the registry's deadline announcements: off while nothing is due (no
 * wake-up at all), re-armed in O(1) when the earliest deadline moves, and
 * exact to the microsecond (sd-event's default would allow 250 ms late). */
#pragma once

#include <systemd/sd-event.h>

#include "hg-registry.h"

typedef struct HgDeadlineTimer HgDeadlineTimer;

int hg_deadline_timer_new(sd_event *event, HgRegistry *reg,
                          HgDeadlineTimer **ret);
HgDeadlineTimer *hg_deadline_timer_free(HgDeadlineTimer *t);
