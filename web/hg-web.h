/* The web front: the HTTP server, its gate, the pages and the JSON API the
 * README documents, on top of the session registry. */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

#include "hg-config.h"
#include "hg-daily.h"
#include "hg-fdstore.h"
#include "hg-registry.h"

typedef struct HgWeb HgWeb;

/* config stays owned by the caller and must outlive the HgWeb, or be
 * replaced through hg_web_reload(); so must daily (who may sign in now)
 * and fdstore, where the PAM helpers' connections are kept across
 * restarts. */
int hg_web_new(sd_event *event, HgRegistry *reg, const HgConfig *config,
               HgDaily *daily, HgFdStore *fdstore, HgWeb **ret);
/* After the registry took back its sessions (hg-state-store.h): the web
 * sessions get their PAM helpers back, or end. */
void hg_web_take_back(HgWeb *web);
/* This run ends but its sessions go on in the next (a restart): PAM
 * sessions are left open, their helpers neither told nor waited for. */
void hg_web_keep_sessions(HgWeb *web);
/* Answers what is pending, closes every PAM session still open (waiting a
 * bounded time for the helpers) and stops the server. */
HgWeb *hg_web_free(HgWeb *web);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgWeb, hg_web_free)

/* Applies a new configuration. Listen changes need a restart (logged);
 * everything else applies at once. 0 or -errno (old settings kept). */
int hg_web_reload(HgWeb *web, const HgConfig *config);
