/* The user's input, through the best way this session offers: Mutter's
 * IdleMonitor (GNOME), a Wayland compositor's ext-idle-notify-v1 or
 * org_kde_kwin_idle (sway, cage, Wayfire, KDE Plasma), the X server's
 * IDLETIME counter with alarms or its MIT-SCREEN-SAVER idle time (any X11
 * desktop), org.freedesktop.ScreenSaver's idle time; else nothing
 * (logind's idle hint alone, which hourglassd follows itself). Each way is
 * one method (hg-agent-idle-method.h); ways that come and go (bus names)
 * are followed. */
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
/* The method in use changed: its name ("x11-sync"), "" for none. */
typedef void (*IdleMethodFunc)(const char *method, void *userdata);

/* only: the one method to use ("x11-screensaver"; "none" for none), NULL
 * for the best there is. */
int idle_watch_new(sd_bus *bus, sd_event *event, const char *only,
                   IdleActivityFunc on_activity, IdleMethodFunc on_method,
                   void *userdata, IdleWatch **ret);

/* Whether name is a method --idle-method may name. */
bool idle_method_name_is_valid(const char *name);
IdleWatch *idle_watch_free(IdleWatch *w);

/* Watches only while enabled: without a session to report to, the
 * compositor is left alone. */
void idle_watch_set_enabled(IdleWatch *w, bool enabled);

/* While urgent (a warning is on screen), input is reported at once and
 * polled every second. */
void idle_watch_set_urgent(IdleWatch *w, bool urgent);

/* The session's WarnAfterSec (its rule's; the daemon's fallback from a
 * daemon that does not say): methods that poll look before it runs out. */
void idle_watch_set_warn_after(IdleWatch *w, uint32_t warn_after_sec);

/* The method in use, "" for none. */
const char *idle_watch_method(const IdleWatch *w);

static inline void idle_watch_freep(IdleWatch **w) { idle_watch_free(*w); }
