/* Time in microseconds, the unit of sd-event and of our D-Bus timestamps.
 * Session deadlines live on CLOCK_BOOTTIME, which keeps counting while the
 * machine sleeps; CLOCK_REALTIME appears only in what people see. */
#pragma once

#include <stdint.h>
#include <time.h>

typedef uint64_t hg_usec_t;

#define HG_USEC_INFINITY ((hg_usec_t)UINT64_MAX)
#define HG_USEC_PER_MSEC ((hg_usec_t)1000ULL)
#define HG_USEC_PER_SEC ((hg_usec_t)1000000ULL)
#define HG_NSEC_PER_USEC ((uint64_t)1000ULL)

/* Current time of a clock in µs; never fails for the clocks we use. */
hg_usec_t hg_now(clockid_t clock);

hg_usec_t hg_timespec_to_usec(const struct timespec *ts);

/* Saturating arithmetic: a deadline never wraps around to the past. */
hg_usec_t hg_usec_add(hg_usec_t a, hg_usec_t b);
hg_usec_t hg_usec_sub(hg_usec_t a, hg_usec_t b);

static inline hg_usec_t hg_sec_to_usec(uint64_t sec) {
  return sec >= HG_USEC_INFINITY / HG_USEC_PER_SEC ? HG_USEC_INFINITY
                                                   : sec * HG_USEC_PER_SEC;
}

/* Whole seconds from now until t, rounded up, 0 when t has passed. What a
 * countdown shows: "1 s left" until the very end, never "0 s" too early. */
uint64_t hg_usec_to_sec_ceil(hg_usec_t usec);
