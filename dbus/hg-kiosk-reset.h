/* The kiosk's hook: when a session ends, hourglass-session-end@<id>.service
 * is started through systemd's D-Bus API, if such a unit is installed (the
 * shipped template has a commented example that restarts the kiosk browser
 * with a fresh profile). Failures are logged, never fatal. */
#pragma once

#include <systemd/sd-bus.h>

#include "hg-registry.h"

#define HG_KIOSK_RESET_UNIT "hourglass-session-end@%s.service"

typedef struct HgKioskReset HgKioskReset;

HgKioskReset *hg_kiosk_reset_new(sd_bus *bus, HgRegistry *reg);
HgKioskReset *hg_kiosk_reset_free(HgKioskReset *k);
