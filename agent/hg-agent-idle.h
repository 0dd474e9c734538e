/* Input the compositor sees, from the user's session bus: Mutter's
 * IdleMonitor (a one-shot watch that fires at the next input) when it is
 * there, else org.freedesktop.ScreenSaver's idle time, polled; else
 * nothing (logind's idle hint alone, which hourglassd follows itself).
 * Sources that come and go on the bus are followed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hg-time.h"

/* While no warning is shown, input is taken at most once per interval:
 * enough for timeouts of minutes, little work for the compositor. */
#define IDLE_REPORT_INTERVAL_USEC (5 * HG_USEC_PER_SEC)

typedef struct IdleWatch IdleWatch;

/* Input happened idle_sec seconds ago. */
typedef void (*IdleActivityFunc)(uint32_t idle_sec, void *userdata);

int idle_watch_new(sd_bus *bus, sd_event *event, IdleActivityFunc on_activity,
                   void *userdata, IdleWatch **ret);
IdleWatch *idle_watch_free(IdleWatch *w);

/* Watches only while enabled: without a session to report to, the
 * compositor is left alone. */
void idle_watch_set_enabled(IdleWatch *w, bool enabled);

/* While urgent (a warning is on screen), input is reported at once and
 * polled every second. */
void idle_watch_set_urgent(IdleWatch *w, bool urgent);

static inline void idle_watch_freep(IdleWatch **w) { idle_watch_free(*w); }
