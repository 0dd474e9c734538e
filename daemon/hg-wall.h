/* The local wall clock of an instant: its calendar day, weekday and time of
 * day in a time zone, and the instants at which those change. Pure: the
 * instant (CLOCK_REALTIME µs since the epoch) and the zone come in as
 * arguments, so daylight saving changes in either direction and clock
 * jumps are tested with fixed inputs. Opening hours (hg-schedule.h) and
 * the allowance's day (hg-allowance.h) are built on this. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "hg-time.h"

#define HG_USEC_PER_DAY ((hg_usec_t)86400 * HG_USEC_PER_SEC)

typedef struct {
  int64_t day;      /* local days since 1970-01-01 */
  unsigned weekday; /* 0 Monday ... 6 Sunday */
  hg_usec_t of_day; /* since local midnight, < HG_USEC_PER_DAY */
} HgWallTime;

void hg_wall_time(GTimeZone *tz, hg_usec_t t, HgWallTime *ret);

/* The instant at which the wall clock, read at t, has moved on by delta
 * (at most a day), or, if the zone's offset changes before that, the
 * instant of that change (where the wall clock jumps). Always > t for
 * delta > 0. Callers step with it and read the wall clock again. */
hg_usec_t hg_wall_advance(GTimeZone *tz, hg_usec_t t, hg_usec_t delta);

/* The first instant after t that belongs to another local day (the next
 * midnight, or the first instant after it where a zone skips midnight). */
hg_usec_t hg_wall_next_day(GTimeZone *tz, hg_usec_t t);
/* The first instant of t's local day. */
hg_usec_t hg_wall_day_start(GTimeZone *tz, hg_usec_t t);

/* "YYYY-MM-DD" of a local day number, and back (-EINVAL if malformed). */
#define HG_WALL_DATE_LEN 10
void hg_wall_date_format(int64_t day, char buf[HG_WALL_DATE_LEN + 1]);
int hg_wall_date_parse(const char *s, int64_t *ret);
