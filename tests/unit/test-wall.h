/* Fixed instants and zones for the tests of wall-clock rules. The zones are
 * POSIX rules, so the tests do not depend on the machine's tzdata. */
#pragma once

#include <glib.h>

#include "hg-time.h"

/* Berlin's rules: CET, CEST from the last Sunday of March 02:00 to the
 * last Sunday of October 03:00. */
#define TEST_TZ_CET "CET-1CEST,M3.5.0,M10.5.0/3"
/* Brazil's old rules: summer time from 00:00 (to 01:00) on the third
 * Sunday of October, ending at 00:00 (back to 23:00) in February. */
#define TEST_TZ_SKIPS_MIDNIGHT "BRT3BRST,M10.3.0/0,M2.3.0/0"

static inline hg_usec_t utc_usec(int y, int mo, int d, int h, int mi, int s) {
  g_autoptr(GDateTime) dt = g_date_time_new_utc(y, mo, d, h, mi, s);
  return (hg_usec_t)g_date_time_to_unix(dt) * HG_USEC_PER_SEC;
}
