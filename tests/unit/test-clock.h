/* A clock the test moves by hand: time passes only when the test says. The
 * wall clock is boottime + realtime_offset (a test sets the clock by
 * moving the offset); the zone is UTC unless the test gives one. */
#pragma once

#include "hg-clock.h"

typedef struct {
  HgClock clock;
  hg_usec_t boottime;
  hg_usec_t realtime_offset;
  GTimeZone *zone; /* the test's reference, or NULL: UTC */
} TestClock;

static inline hg_usec_t test_clock_now(const HgClock *c, clockid_t id) {
  const TestClock *t = (const TestClock *)c;
  return id == CLOCK_REALTIME ? t->boottime + t->realtime_offset : t->boottime;
}

static inline GTimeZone *test_clock_zone(const HgClock *c) {
  const TestClock *t = (const TestClock *)c;
  return t->zone ? g_time_zone_ref(t->zone) : g_time_zone_new_utc();
}

static inline void test_clock_init(TestClock *t, hg_usec_t start) {
  *t = (TestClock){.clock = {.now = test_clock_now, .zone = test_clock_zone},
                   .boottime = start,
                   .realtime_offset = 1700000000ULL * HG_USEC_PER_SEC};
}

/* Sets the wall clock to realtime (as a clock change would), keeping
 * boottime. */
static inline void test_clock_set_realtime(TestClock *t, hg_usec_t realtime) {
  t->realtime_offset = realtime - t->boottime;
}
