/* What systemd is doing with our own unit, asked over the system bus: a
 * SIGTERM is a stop (every session ends, reason shutdown) unless the unit
 * has a restart job queued, which keeps them all for the next run. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

/* true when our unit's job is a restart ("restart", "try-restart",
 * "reload-or-restart"...). false for a stop, no job, no systemd, or no
 * answer within a second: ending the sessions is the safe side. Blocks:
 * for the moment the daemon is about to exit. */
bool hg_systemd_restart_pending(sd_bus *bus);
