/* Tells when the wall clock is set (settimeofday, NTP's step, an
 * operator's date): a CLOCK_REALTIME timerfd with TFD_TIMER_CANCEL_ON_SET
 * in the event loop. sd-event's own CLOCK_REALTIME timers follow the new
 * time by themselves; what was converted from wall-clock times to
 * CLOCK_BOOTTIME deadlines (closing times) has to be worked out again. */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

typedef struct HgClockWatch HgClockWatch;

typedef void (*HgClockChanged)(void *userdata);

int hg_clock_watch_new(sd_event *event, HgClockChanged changed, void *userdata,
                       HgClockWatch **ret);
HgClockWatch *hg_clock_watch_free(HgClockWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgClockWatch, hg_clock_watch_free)
