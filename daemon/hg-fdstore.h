/* The service manager's file descriptor store (systemd's FDSTORE=1): the
 * connections to PAM helpers are kept there, so that a restart or a crash
 * of hourglassd leaves every PAM session open and the next run takes the
 * connections back. Systemd keeps stored fds while the service runs, is
 * restarting or has a job queued, and closes them when it stops, which
 * then closes the PAM sessions. Without a service manager (the demo, most
 * tests) nothing is stored and nothing comes back. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct HgFdStore HgFdStore;

/* Takes the fds the service manager passed at start (LISTEN_FDS with
 * LISTEN_FDNAMES), and unsets those variables. */
HgFdStore *hg_fdstore_new(void);
/* Closes the fds nobody took and drops them from the store: once every
 * owner took back its own, what is left belongs to no one. */
void hg_fdstore_drop_unclaimed(HgFdStore *st);
HgFdStore *hg_fdstore_free(HgFdStore *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgFdStore, hg_fdstore_free)

/* The fd passed under name (now the caller's), or -ENOENT. */
int hg_fdstore_take(HgFdStore *st, const char *name);
/* Whether there is a service manager to keep fds. */
bool hg_fdstore_available(const HgFdStore *st);
/* Stores a copy of fd under name (the manager dups it); fd stays the
 * caller's. Names are at most 255 characters of [A-Za-z0-9_-]. */
int hg_fdstore_put(HgFdStore *st, const char *name, int fd);
/* Drops what was stored under name: once the caller closes its own copy,
 * the peer sees the end. */
void hg_fdstore_remove(HgFdStore *st, const char *name);
