/* The state files of live sessions, so that a restart or a crash of
 * hourglassd keeps them: one file per session (hg-state.h) in a directory
 * of the daemon's own (mode 0700), written through a temporary file and a
 * rename when something that matters changes: at once for a new session
 * and a change of state, at most once a second for its times (a crash may
 * lose less than a second of activity, which can only end a session
 * sooner). A session's file goes when the session ends. Whether someone
 * is waiting for the machine (hg_registry_set_waiting) is kept there too. */
#pragma once

#include <systemd/sd-event.h>

#include "hg-registry.h"

typedef struct HgStateStore HgStateStore;

/* dir is created if missing (0700). It must be ours and closed to
 * others: -EPERM otherwise. */
int hg_state_store_new(sd_event *event, HgRegistry *reg, const char *dir,
                       HgStateStore **ret);
/* Forgets the sessions without touching their files. */
HgStateStore *hg_state_store_free(HgStateStore *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgStateStore, hg_state_store_free)

/* Takes back every session whose file is sound (hg_registry_restore), and
 * the waiting flag; a
 * file of another boot or version, truncated or corrupt is removed with a
 * journal line that says why. Returns how many were taken back. Call it
 * before the registry's first processing. */
unsigned hg_state_store_load(HgStateStore *st);

/* Writes what waits for its second, now: before the daemon goes (a
 * restart keeps every session). */
void hg_state_store_flush(HgStateStore *st);

/* The directory under which state is kept when the service manager gives
 * one ($RUNTIME_DIRECTORY/sessions), else NULL (nothing is kept). */
char *hg_state_store_default_dir(void);
