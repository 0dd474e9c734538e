/* The daemon object: the event loop and everything attached to it, from
 * start-up to clean shutdown, and configuration reloads. */
#pragma once

#include <systemd/sd-event.h>

#include "hg-config.h"
#include "hg-registry.h"

typedef struct HgDaemon HgDaemon;

/* Takes ownership of config. */
int hg_daemon_new(HgConfig *config, const char *config_path, HgDaemon **ret);
HgDaemon *hg_daemon_free(HgDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgDaemon, hg_daemon_free)

/* Runs until SIGTERM/SIGINT; returns the exit status for main(). */
int hg_daemon_run(HgDaemon *d);

/* Re-reads the configuration; a bad one is logged and the old one kept.
 * 0 or -EINVAL. */
int hg_daemon_reload(HgDaemon *d);
