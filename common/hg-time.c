/* Time helpers shared by every program of hourglass. */
#include "hg-time.h"

hg_usec_t hg_timespec_to_usec(const struct timespec *ts) {
  if (ts->tv_sec < 0 || ts->tv_nsec < 0)
    return 0;
  if ((uint64_t)ts->tv_sec >= (HG_USEC_INFINITY - 1) / HG_USEC_PER_SEC)
    return HG_USEC_INFINITY;
  return (hg_usec_t)ts->tv_sec * HG_USEC_PER_SEC +
         (hg_usec_t)ts->tv_nsec / HG_NSEC_PER_USEC;
}

hg_usec_t hg_now(clockid_t clock) {
  struct timespec ts;

  if (clock_gettime(clock, &ts) < 0)
    return 0; /* Only with an invalid clock id: a programming error. */
  return hg_timespec_to_usec(&ts);
}

hg_usec_t hg_usec_add(hg_usec_t a, hg_usec_t b) {
  if (a == HG_USEC_INFINITY || b == HG_USEC_INFINITY)
    return HG_USEC_INFINITY;
  return a > HG_USEC_INFINITY - 1 - b ? HG_USEC_INFINITY : a + b;
}

hg_usec_t hg_usec_sub(hg_usec_t a, hg_usec_t b) {
  if (a == HG_USEC_INFINITY)
    return HG_USEC_INFINITY;
  return a > b ? a - b : 0;
}

uint64_t hg_usec_to_sec_ceil(hg_usec_t usec) {
  if (usec == HG_USEC_INFINITY)
    return UINT64_MAX;
  return (usec + HG_USEC_PER_SEC - 1) / HG_USEC_PER_SEC;
}
