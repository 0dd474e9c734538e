/* Sign-in by the hours and the allowance: allowed with what is left and
 * when it closes, refused as closed with the opening, refused as
 * allowance-used with the next day (or the opening after it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-access.h"
#include "test-wall.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)
#define H(x) S((x)*3600)

static HgLimits library(void) {
  g_autoptr(GString) why = g_string_new(NULL);
  HgLimits l = {.daily_allowance = H(2)};

  assert_true(hg_schedule_parse("Mon-Fri 09:00-20:00", &l.hours, why));
  return l;
}

/* 2024-03-04 is a Monday. */
static void test_allowed(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgLimits l = library();
  HgAllowanceDay day = {.used = H(1)};
  HgAccess a;

  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 10, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWED);
  assert_true(a.until == 0);
  assert_true(a.left == H(1));
  assert_true(a.closes_at == utc_usec(2024, 3, 4, 20, 0, 0));
  /* No allowance: nothing to count, no day needed. */
  l.daily_allowance = 0;
  hg_access_check(&l, NULL, utc, utc_usec(2024, 3, 4, 10, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWED);
  assert_true(a.left == HG_USEC_INFINITY);
  assert_string_equal(hg_access_verdict_to_string(a.verdict), "allowed");
}

static void test_closed(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgLimits l = library();
  HgAllowanceDay day = {0};
  HgAccess a;

  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 21, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_CLOSED);
  assert_true(a.until == utc_usec(2024, 3, 5, 9, 0, 0));
  /* Friday night: Monday morning. */
  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 8, 20, 0, 0), &a);
  assert_true(a.until == utc_usec(2024, 3, 11, 9, 0, 0));
  assert_string_equal(hg_access_verdict_to_string(a.verdict), "closed");
  assert_non_null(hg_access_explain(a.verdict));
}

static void test_allowance_used(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgLimits l = library();
  HgAllowanceDay day = {.used = H(2)};
  HgAccess a;

  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 15, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWANCE_USED);
  assert_true(a.until == utc_usec(2024, 3, 5, 9, 0, 0)); /* the opening */
  /* A grant gives time again. */
  day.granted = S(600);
  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 15, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWED);
  assert_true(a.left == S(600));
  /* Always open: the day's start itself. */
  day.granted = 0;
  l.hours = (HgSchedule){0};
  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 15, 0, 0), &a);
  assert_true(a.until == utc_usec(2024, 3, 5, 0, 0, 0));
  /* A damaged record: used up, whatever it says. */
  day = (HgAllowanceDay){.spent = true};
  hg_access_check(&l, &day, utc, utc_usec(2024, 3, 4, 15, 0, 0), &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWANCE_USED);
  assert_string_equal(hg_access_verdict_to_string(a.verdict), "allowance-used");
}

/* In Berlin the next day starts at 23:00 UTC in winter. */
static void test_renewal_in_a_zone(void **state) {
  g_autoptr(GTimeZone) cet = g_time_zone_new_identifier(TEST_TZ_CET);
  HgLimits l = {.daily_allowance = H(1)};
  HgAllowanceDay day = {.used = H(1)};
  HgAccess a;

  hg_access_check(&l, &day, cet, utc_usec(2024, 3, 4, 15, 0, 0), &a);
  assert_true(a.until == utc_usec(2024, 3, 4, 23, 0, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_allowed),
      cmocka_unit_test(test_closed),
      cmocka_unit_test(test_allowance_used),
      cmocka_unit_test(test_renewal_in_a_zone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
