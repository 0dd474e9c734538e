/* The injectable clock. The daemon reads the system's clocks; unit tests
 * hand in their own and move time without sleeping. */
#pragma once

#include "hg-time.h"

typedef struct HgClock HgClock;

struct HgClock {
  /* Now on CLOCK_BOOTTIME (deadlines) or CLOCK_REALTIME (display). */
  hg_usec_t (*now)(const HgClock *clock, clockid_t id);
  void *userdata;
};

const HgClock *hg_clock_system(void);

static inline hg_usec_t hg_clock_boottime(const HgClock *c) {
  return c->now(c, CLOCK_BOOTTIME);
}

/* A CLOCK_BOOTTIME instant as wall-clock µs since the epoch, for people and
 * D-Bus timestamps. Infinity stays infinity. */
hg_usec_t hg_clock_to_realtime(const HgClock *c, hg_usec_t boottime);
