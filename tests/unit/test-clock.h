/* A clock the test moves by hand: time passes only when the test says. */
#pragma once

#include "hg-clock.h"

typedef struct {
  HgClock clock;
  hg_usec_t boottime;
  hg_usec_t realtime_offset;
} TestClock;

static inline hg_usec_t test_clock_now(const HgClock *c, clockid_t id) {
  const TestClock *t = (const TestClock *)c;
  return id == CLOCK_REALTIME ? t->boottime + t->realtime_offset : t->boottime;
}

static inline void test_clock_init(TestClock *t, hg_usec_t start) {
  *t = (TestClock){.clock = {.now = test_clock_now},
                   .boottime = start,
                   .realtime_offset = 1700000000ULL * HG_USEC_PER_SEC};
}
