/* The local wall clock: weekdays, days of 23 and 25 hours at the daylight
 * saving changes, a zone that skips midnight, and day names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <glib.h>

#include "hg-wall.h"
#include "test-wall.h"

static void test_weekday_and_time_of_day(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GTimeZone) cet = g_time_zone_new_identifier(TEST_TZ_CET);
  HgWallTime w;

  hg_wall_time(utc, utc_usec(2024, 3, 4, 12, 0, 0) + 5, &w);
  assert_int_equal(w.weekday, 0); /* a Monday */
  assert_true(w.of_day == 12 * 3600 * HG_USEC_PER_SEC + 5);
  /* 23:30 UTC on Sunday is Monday 00:30 in Berlin in winter. */
  hg_wall_time(cet, utc_usec(2024, 3, 3, 23, 30, 0), &w);
  assert_int_equal(w.weekday, 0);
  assert_true(w.of_day == 30 * 60 * HG_USEC_PER_SEC);
  assert_int_equal(w.day, 19786); /* 2024-03-04 */
}

static void test_next_day_plain(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  hg_usec_t t = utc_usec(2024, 3, 4, 12, 0, 0);

  assert_true(hg_wall_next_day(utc, t) == utc_usec(2024, 3, 5, 0, 0, 0));
  assert_true(hg_wall_day_start(utc, t) == utc_usec(2024, 3, 4, 0, 0, 0));
  /* Midnight itself starts its day. */
  t = utc_usec(2024, 3, 5, 0, 0, 0);
  assert_true(hg_wall_day_start(utc, t) == t);
  assert_true(hg_wall_next_day(utc, t) == utc_usec(2024, 3, 6, 0, 0, 0));
}

/* The last Sunday of March has 23 hours in Berlin, that of October 25. */
static void test_days_at_the_changes(void **state) {
  g_autoptr(GTimeZone) cet = g_time_zone_new_identifier(TEST_TZ_CET);
  hg_usec_t spring = utc_usec(2024, 3, 31, 0, 30, 0); /* 01:30 CET */
  hg_usec_t autumn = utc_usec(2024, 10, 27, 12, 0, 0);

  assert_true(hg_wall_day_start(cet, spring) ==
              utc_usec(2024, 3, 30, 23, 0, 0));
  assert_true(hg_wall_next_day(cet, spring) == utc_usec(2024, 3, 31, 22, 0, 0));
  assert_true(hg_wall_day_start(cet, autumn) ==
              utc_usec(2024, 10, 26, 22, 0, 0));
  assert_true(hg_wall_next_day(cet, autumn) ==
              utc_usec(2024, 10, 27, 23, 0, 0));
}

/* Where summer time starts at midnight the day starts at 01:00. */
static void test_zone_that_skips_midnight(void **state) {
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(TEST_TZ_SKIPS_MIDNIGHT);
  hg_usec_t t = utc_usec(2018, 10, 20, 12, 0, 0);
  hg_usec_t next = hg_wall_next_day(tz, t);
  HgWallTime w;

  assert_true(next == utc_usec(2018, 10, 21, 3, 0, 0));
  hg_wall_time(tz, next, &w);
  assert_true(w.of_day == 3600 * HG_USEC_PER_SEC);
  assert_true(hg_wall_day_start(tz, next + 1) == next);
}

static void test_advance_stops_at_the_change(void **state) {
  g_autoptr(GTimeZone) cet = g_time_zone_new_identifier(TEST_TZ_CET);
  hg_usec_t t = utc_usec(2024, 3, 31, 0, 0, 0);

  /* Two hours of wall time from 01:00 would be 03:00, which the clock
   * reaches at the jump, one hour on. */
  assert_true(hg_wall_advance(cet, t, 2 * 3600 * HG_USEC_PER_SEC) ==
              utc_usec(2024, 3, 31, 1, 0, 0));
  assert_true(hg_wall_advance(cet, t, 1800 * HG_USEC_PER_SEC) ==
              utc_usec(2024, 3, 31, 0, 30, 0));
  /* At most a day at a time. */
  assert_true(hg_wall_advance(cet, utc_usec(2024, 5, 1, 0, 0, 0),
                              10 * HG_USEC_PER_DAY) ==
              utc_usec(2024, 5, 2, 0, 0, 0));
}

static void test_dates(void **state) {
  char buf[HG_WALL_DATE_LEN + 1];
  int64_t day;

  hg_wall_date_format(0, buf);
  assert_string_equal(buf, "1970-01-01");
  hg_wall_date_format(19813, buf);
  assert_string_equal(buf, "2024-03-31");
  assert_int_equal(hg_wall_date_parse("2024-03-31", &day), 0);
  assert_int_equal(day, 19813);
  assert_int_equal(hg_wall_date_parse("2024-02-29", &day), 0);
  static const char *const bad[] = {
      "2024-02-30", "2023-02-29", "2024-3-31", "2024-03-31x",
      "1969-12-31", "abcd-ef-gh", "",          "2024/03/31"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    assert_int_equal(hg_wall_date_parse(bad[i], &day), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_weekday_and_time_of_day),
      cmocka_unit_test(test_next_day_plain),
      cmocka_unit_test(test_days_at_the_changes),
      cmocka_unit_test(test_zone_that_skips_midnight),
      cmocka_unit_test(test_advance_stops_at_the_change),
      cmocka_unit_test(test_dates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
