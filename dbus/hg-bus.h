/* The D-Bus service org.hourglass1 on the system bus: the Manager and one
 * Session object per session (dbus/org.hourglass1.*.xml), signals from the
 * registry's events, and the daemon's own authorization of every control
 * call. Without a system bus the daemon runs web-only. */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hg-bus-names.h"
#include "hg-config.h"
#include "hg-daily.h"
#include "hg-registry.h"

typedef struct HgBus HgBus;

/* -ENOENT-like errors when there is no system bus to join: the caller runs
 * on without it. config must outlive the HgBus or be replaced through
 * hg_bus_reload(); daily (the allowance, CheckAccount) must outlive it. */
int hg_bus_new(sd_event *event, HgRegistry *reg, const HgConfig *config,
               HgDaily *daily, HgBus **ret);
HgBus *hg_bus_free(HgBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgBus, hg_bus_free)

void hg_bus_reload(HgBus *bus, const HgConfig *config);
/* After the registry took back its sessions: desktop sessions are checked
 * against logind and followed again, or end. */
void hg_bus_take_back(HgBus *bus);
/* Whether the daemon is being restarted (systemd has a restart job queued
 * for its unit): then every session is kept for the next run. */
bool hg_bus_restart_pending(HgBus *bus);
