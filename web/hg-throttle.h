/* Login throttling, per local peer (the uid owning the client's socket,
 * hg-peer.h):
 * - a token bucket caps the logins one peer may start ([Limits]
 *   LoginRatePerSec), so that a flood of attempts from one user slows
 *   nobody else's sign-in;
 * - failures slow that peer's next attempts for that account with a capped
 *   exponential back-off. The account is the one NSS resolved (the PAM
 *   helper tells it with the failure), so "ALICE", "alice@realm" and
 *   "DOM\alice" share alice's back-off once they have been seen; a name
 *   that never resolved counts case-folded.
 * Another peer's failures never slow yours, so nobody can keep the person
 * at the kiosk out by failing in their name, and the cap is short. Memory
 * is bounded (least recently failed entries go first). Time comes in as an
 * argument (CLOCK_MONOTONIC µs in the daemon). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "hg-time.h"

#define HG_THROTTLE_FREE_FAILURES 2 /* typos cost nothing but the delay */
#define HG_THROTTLE_BASE (1 * HG_USEC_PER_SEC)
#define HG_THROTTLE_CAP (60 * HG_USEC_PER_SEC)
#define HG_THROTTLE_FORGET (15 * 60 * HG_USEC_PER_SEC)
#define HG_THROTTLE_MAX_NAMES 4096
#define HG_THROTTLE_MAX_PEERS 1024
/* A bucket holds this many seconds' worth of logins. */
#define HG_THROTTLE_BURST_SEC 4

typedef struct HgThrottle HgThrottle;

/* rate_per_sec: logins one peer may start per second, with bursts of
 * HG_THROTTLE_BURST_SEC times that. */
HgThrottle *hg_throttle_new(unsigned rate_per_sec);
void hg_throttle_set_rate(HgThrottle *t, unsigned rate_per_sec);
HgThrottle *hg_throttle_free(HgThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgThrottle, hg_throttle_free)

/* 0 when peer may start a login for the typed name user now (taking one
 * token of its bucket), else how long to wait (µs, > 0). */
hg_usec_t hg_throttle_check(HgThrottle *t, uid_t peer, const char *user,
                            hg_usec_t now);
/* account: the name NSS gave, NULL when the user did not resolve. */
void hg_throttle_failed(HgThrottle *t, uid_t peer, const char *user,
                        const char *account, hg_usec_t now);
void hg_throttle_succeeded(HgThrottle *t, uid_t peer, const char *user,
                           const char *account);
/* Back-off entries held. */
unsigned hg_throttle_size(const HgThrottle *t);
