/* org.freedesktop.ScreenSaver's Inhibit and UnInhibit, served by the agent
 * where no screen saver does (a cage or sway kiosk): browsers and players
 * call them while a video plays, and the agent reports who holds one
 * (ReportIdleSource), which hourglassd counts within [Idle] InhibitMaxSec.
 *
 * Only with --serve-screensaver: a desktop's own screen saver that starts
 * after the agent would otherwise find the name taken. The name is taken
 * with replacement allowed, so one that asks to replace it gets it, and
 * the agent then stops serving. Inhibitions die with the connection that
 * took them. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

typedef struct Inhibitors Inhibitors;

/* The set of holders changed. */
typedef void (*InhibitorsChanged)(void *userdata);

int inhibitors_new(sd_bus *bus, InhibitorsChanged changed, void *userdata,
                   Inhibitors **ret);
Inhibitors *inhibitors_free(Inhibitors *i);

/* The applications holding an inhibition (as they named themselves),
 * NULL-terminated, oldest first; owned by i. */
const char *const *inhibitors_holders(Inhibitors *i);
