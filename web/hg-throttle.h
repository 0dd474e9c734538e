/* Login throttling: failures slow the next attempt for that user name with
 * a capped exponential back-off, and a token bucket caps login attempts in
 * all. Bounded memory (least recently failed names go first) and a short
 * cap, so that a passer-by can slow anyone down but lock nobody out for
 * long. Time comes in as an argument (CLOCK_MONOTONIC µs in the daemon). */
#pragma once

#include <glib.h>

#include "hg-time.h"

#define HG_THROTTLE_FREE_FAILURES 2 /* typos cost nothing but the delay */
#define HG_THROTTLE_BASE (1 * HG_USEC_PER_SEC)
#define HG_THROTTLE_CAP (60 * HG_USEC_PER_SEC)
#define HG_THROTTLE_FORGET (15 * 60 * HG_USEC_PER_SEC)
#define HG_THROTTLE_MAX_NAMES 4096
/* The bucket holds this many seconds' worth of logins. */
#define HG_THROTTLE_BURST_SEC 4

typedef struct HgThrottle HgThrottle;

/* rate_per_sec: logins that may start per second in all ([Limits]
 * LoginRatePerSec), with bursts of HG_THROTTLE_BURST_SEC times that. */
HgThrottle *hg_throttle_new(unsigned rate_per_sec);
void hg_throttle_set_rate(HgThrottle *t, unsigned rate_per_sec);
HgThrottle *hg_throttle_free(HgThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgThrottle, hg_throttle_free)

/* 0 when a login for user may start now (and takes one token from the
 * bucket), else how long to wait (µs, > 0). */
hg_usec_t hg_throttle_check(HgThrottle *t, const char *user, hg_usec_t now);
void hg_throttle_failed(HgThrottle *t, const char *user, hg_usec_t now);
void hg_throttle_succeeded(HgThrottle *t, const char *user);
unsigned hg_throttle_size(const HgThrottle *t);
