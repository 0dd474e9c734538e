/* The injectable clock. The daemon reads the system's clocks and time zone;
 * unit tests hand in their own and move time (and the zone) without
 * sleeping. */
#pragma once

#include <glib.h>

#include "hg-time.h"

typedef struct HgClock HgClock;

struct HgClock {
  /* Now on CLOCK_BOOTTIME (deadlines) or CLOCK_REALTIME (display, and the
   * wall clock of days and opening hours). */
  hg_usec_t (*now)(const HgClock *clock, clockid_t id);
  /* The local time zone, a new reference; NULL: the system's. */
  GTimeZone *(*zone)(const HgClock *clock);
  void *userdata;
};

const HgClock *hg_clock_system(void);

static inline hg_usec_t hg_clock_boottime(const HgClock *c) {
  return c->now(c, CLOCK_BOOTTIME);
}

static inline hg_usec_t hg_clock_realtime(const HgClock *c) {
  return c->now(c, CLOCK_REALTIME);
}

/* The clock's local time zone (a new reference, never NULL). The system's
 * is $TZ's when set, else /etc/localtime's, read again whenever that file
 * changes (a check per call, a stat()): a time zone set with timedatectl
 * counts from the next question on. */
GTimeZone *hg_clock_zone(const HgClock *c);

/* A CLOCK_BOOTTIME instant as wall-clock µs since the epoch, for people and
 * D-Bus timestamps. Infinity stays infinity. */
hg_usec_t hg_clock_to_realtime(const HgClock *c, hg_usec_t boottime);
/* And back: a wall-clock instant as CLOCK_BOOTTIME, as the clocks stand
 * now (a later clock change moves it). Infinity stays infinity. */
hg_usec_t hg_clock_to_boottime(const HgClock *c, hg_usec_t realtime);
