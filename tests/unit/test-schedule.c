/* Opening hours: the syntax and its errors (with their positions), open and
 * next close/open within a day, past midnight and over the week's end, and
 * both daylight saving changes (the spring gap, the autumn's repeated
 * hour). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-schedule.h"
#include "test-wall.h"

#define H(x) ((hg_usec_t)(x)*3600 * HG_USEC_PER_SEC)

static HgSchedule parse_ok(const char *text) {
  g_autoptr(GString) why = g_string_new(NULL);
  HgSchedule s;

  if (!hg_schedule_parse(text, &s, why))
    fail_msg("'%s' refused: %s", text, why->str);
  return s;
}

static void assert_format(const char *text, const char *expected) {
  HgSchedule s = parse_ok(text), again;
  g_autofree char *out = hg_schedule_format(&s);

  assert_string_equal(out, expected);
  again = parse_ok(out);
  assert_int_equal(again.n_spans, s.n_spans);
  assert_memory_equal(again.spans, s.spans, s.n_spans * sizeof(s.spans[0]));
}

static void test_parse(void **state) {
  assert_true(hg_schedule_is_always((HgSchedule[]){parse_ok("")}));
  assert_true(hg_schedule_is_always((HgSchedule[]){parse_ok("  ; ")}));
  assert_int_equal(parse_ok("Mon-Fri 09:00-20:00; Sat 10:00-16:00").n_spans, 6);
  assert_format("Mon-Fri 09:00-20:00; Sat 10:00-16:00",
                "Mon 09:00-20:00; Tue 09:00-20:00; Wed 09:00-20:00; "
                "Thu 09:00-20:00; Fri 09:00-20:00; Sat 10:00-16:00");
  assert_format("Mon,Wed 08:00-12:00, 13:00-17:00",
                "Mon 08:00-12:00; Mon 13:00-17:00; Wed 08:00-12:00; "
                "Wed 13:00-17:00");
  assert_format("fri-MON 10:00-11:00", "Mon 10:00-11:00; Fri 10:00-11:00; "
                                       "Sat 10:00-11:00; Sun 10:00-11:00");
  assert_int_equal(parse_ok("9:00-17:00").n_spans, 7);
  /* Past midnight, also over the week's end; touching spans join. */
  assert_format("Fri 22:00-02:00", "Fri 22:00-24:00; Sat 00:00-02:00");
  assert_format("Sun 22:00-02:00", "Mon 00:00-02:00; Sun 22:00-24:00");
  assert_int_equal(parse_ok("Mon 00:00-24:00; Tue 00:00-12:00").n_spans, 1);
  assert_format("Mon 09:00-12:00; Mon 11:00-13:00;;", "Mon 09:00-13:00");
  assert_format("Mon-Sun 00:00-24:00",
                "Mon 00:00-24:00; Tue 00:00-24:00; Wed 00:00-24:00; "
                "Thu 00:00-24:00; Fri 00:00-24:00; Sat 00:00-24:00; "
                "Sun 00:00-24:00");
}

static void assert_refused(const char *text, const char *why_expected) {
  g_autoptr(GString) why = g_string_new(NULL);
  HgSchedule s;

  if (hg_schedule_parse(text, &s, why))
    fail_msg("'%s' accepted", text);
  assert_string_equal(why->str, why_expected);
}

static void test_errors_name_their_position(void **state) {
  g_autoptr(GString) many = g_string_new("Mon ");
  g_autofree char *long_text = g_strnfill(HG_SCHEDULE_TEXT_MAX + 1, ' ');

  assert_refused("Mon-Fry 09:00-20:00", "at character 5: expected a day "
                                        "(Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
  assert_refused("Mon 25:00-26:00",
                 "at character 5: 25:00 is not a time of day (00:00 to 24:00)");
  assert_refused("Mon 09:60-10:00",
                 "at character 5: 09:60 is not a time of day (00:00 to 24:00)");
  assert_refused("Mon 24:00-01:00", "at character 5: 24:00 only ends a span");
  assert_refused("Mon 10:00-10:00",
                 "at character 5: a span from 10:00 to 10:00 is empty");
  assert_refused("Mon 09:00 20:00", "at character 10: expected '-' between "
                                    "the start and the end of a span");
  assert_refused("Mon 09:00-20:00 Tue 10:00-11:00",
                 "at character 17: expected ';' between entries or ',' "
                 "between spans");
  assert_refused("Mon09:00-10:00",
                 "at character 4: expected a space between the days and the "
                 "times");
  assert_refused("Monday 09:00-10:00", "at character 1: expected a day (Mon, "
                                       "Tue, Wed, Thu, Fri, Sat, Sun)");
  assert_refused("Mon 9-17", "at character 5: expected a time HH:MM");
  assert_refused("Mon 09:00-1000", "at character 11: expected a time HH:MM");
  assert_refused("Mon 09:00-10:00; *", "at character 18: expected a day "
                                       "(Mon, Tue, Wed, Thu, Fri, Sat, Sun) "
                                       "or a time");
  assert_refused("Sat 10:00-12:00;Tue", "at character 20: expected a space "
                                        "between the days and the times");
  for (int i = 0; i < HG_SCHEDULE_MAX_SPANS + 1; i++)
    g_string_append_printf(many, "%s%02d:%02d-%02d:%02d", i ? "," : "",
                           (2 * i) / 60, (2 * i) % 60, (2 * i + 1) / 60,
                           (2 * i + 1) % 60);
  assert_refused(many->str,
                 "at character 773: more than 64 separate spans in the week");
  assert_refused(long_text, "at character 1025: longer than 1024 characters");
}

/* 2024-03-04 is a Monday. */
static void test_open_and_next_within_the_week(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgSchedule s = parse_ok("Mon-Fri 09:00-20:00; Sat 10:00-16:00");
  hg_usec_t mon = utc_usec(2024, 3, 4, 0, 0, 0);

  assert_false(hg_schedule_is_open(&s, utc, mon + H(9) - 1));
  assert_true(hg_schedule_next_open(&s, utc, mon + H(8)) == mon + H(9));
  assert_true(hg_schedule_is_open(&s, utc, mon + H(9)));
  assert_true(hg_schedule_next_open(&s, utc, mon + H(9)) == mon + H(9));
  assert_true(hg_schedule_next_close(&s, utc, mon + H(9)) == mon + H(20));
  assert_true(hg_schedule_next_close(&s, utc, mon + H(8)) == mon + H(8));
  assert_false(hg_schedule_is_open(&s, utc, mon + H(20)));
  /* Friday evening: Saturday morning; Saturday afternoon: Monday. */
  assert_true(hg_schedule_next_open(&s, utc, mon + H(4 * 24 + 20)) ==
              mon + H(5 * 24 + 10));
  assert_true(hg_schedule_next_open(&s, utc, mon + H(5 * 24 + 16)) ==
              mon + H(7 * 24 + 9));
  assert_false(hg_schedule_is_open(&s, utc, mon + H(6 * 24 + 12)));
}

static void test_past_midnight_and_the_weeks_end(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgSchedule fri = parse_ok("Fri 22:00-02:00");
  HgSchedule sun = parse_ok("Sun 22:00-02:00");
  HgSchedule two = parse_ok("Mon 00:00-24:00; Tue 00:00-24:00");
  hg_usec_t mon = utc_usec(2024, 3, 4, 0, 0, 0);

  assert_true(hg_schedule_is_open(&fri, utc, mon + H(4 * 24 + 23)));
  assert_true(hg_schedule_next_close(&fri, utc, mon + H(4 * 24 + 23)) ==
              mon + H(5 * 24 + 2));
  assert_true(hg_schedule_is_open(&fri, utc, mon + H(5 * 24 + 2) - 1));
  assert_false(hg_schedule_is_open(&fri, utc, mon + H(5 * 24 + 2)));
  /* Sunday night into Monday: one stretch, though the week turns. */
  assert_true(hg_schedule_next_close(&sun, utc, mon + H(6 * 24 + 23)) ==
              mon + H(7 * 24 + 2));
  assert_true(hg_schedule_next_open(&sun, utc, mon + H(2)) ==
              mon + H(6 * 24 + 22));
  assert_true(hg_schedule_next_close(&two, utc, mon + H(12)) == mon + H(48));
}

static void test_always(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgSchedule always = parse_ok("");
  HgSchedule week = parse_ok("Mon-Sun 00:00-24:00");
  hg_usec_t t = utc_usec(2024, 3, 4, 12, 0, 0);

  assert_true(hg_schedule_is_open(&always, utc, t));
  assert_true(hg_schedule_next_open(&always, utc, t) == t);
  assert_true(hg_schedule_next_close(&always, utc, t) == HG_USEC_INFINITY);
  assert_false(hg_schedule_is_always(&week));
  assert_true(hg_schedule_next_close(&week, utc, t) == HG_USEC_INFINITY);
  assert_true(hg_schedule_next_open(&week, utc, t) == t);
}

/* 2024-03-31, Berlin: 02:00 CET is 03:00 CEST (01:00 UTC). */
static void check_spring(GTimeZone *tz) {
  HgSchedule across = parse_ok("Sun 01:00-04:00");
  HgSchedule in_gap = parse_ok("Sun 02:15-02:45");
  HgSchedule into_gap = parse_ok("Sun 00:00-02:30");

  /* Open from 01:00 CET to 04:00 CEST: two real hours. */
  assert_true(
      hg_schedule_next_open(&across, tz, utc_usec(2024, 3, 30, 12, 0, 0)) ==
      utc_usec(2024, 3, 31, 0, 0, 0));
  assert_true(
      hg_schedule_next_close(&across, tz, utc_usec(2024, 3, 31, 0, 30, 0)) ==
      utc_usec(2024, 3, 31, 2, 0, 0));
  /* The skipped hour never comes: a week later it does. */
  assert_false(
      hg_schedule_is_open(&in_gap, tz, utc_usec(2024, 3, 31, 1, 0, 0)));
  assert_true(
      hg_schedule_next_open(&in_gap, tz, utc_usec(2024, 3, 30, 12, 0, 0)) ==
      utc_usec(2024, 4, 7, 0, 15, 0));
  /* A span that ends in the gap closes at the jump. */
  assert_true(
      hg_schedule_next_close(&into_gap, tz, utc_usec(2024, 3, 31, 0, 30, 0)) ==
      utc_usec(2024, 3, 31, 1, 0, 0));
}

static void test_spring_forward(void **state) {
  g_autoptr(GTimeZone) cet = g_time_zone_new_identifier(TEST_TZ_CET);
  g_autoptr(GTimeZone) berlin = g_time_zone_new_identifier("Europe/Berlin");

  check_spring(cet);
  if (berlin) /* the machine's tzdata, where there is one */
    check_spring(berlin);
}

/* 2024-10-27, Berlin: 03:00 CEST is 02:00 CET (01:00 UTC). */
static void test_fall_back(void **state) {
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(TEST_TZ_CET);
  HgSchedule across = parse_ok("Sun 01:00-04:00");
  HgSchedule repeated = parse_ok("Sun 00:00-02:30");

  /* Open from 01:00 CEST to 04:00 CET: four real hours. */
  assert_true(
      hg_schedule_next_open(&across, tz, utc_usec(2024, 10, 26, 12, 0, 0)) ==
      utc_usec(2024, 10, 26, 23, 0, 0));
  assert_true(
      hg_schedule_next_close(&across, tz, utc_usec(2024, 10, 26, 23, 0, 0)) ==
      utc_usec(2024, 10, 27, 3, 0, 0));
  /* 02:00-02:30 comes twice, and is open both times. */
  assert_true(
      hg_schedule_next_close(&repeated, tz, utc_usec(2024, 10, 26, 22, 0, 0)) ==
      utc_usec(2024, 10, 27, 0, 30, 0));
  assert_true(
      hg_schedule_next_open(&repeated, tz, utc_usec(2024, 10, 27, 0, 30, 0)) ==
      utc_usec(2024, 10, 27, 1, 0, 0));
  assert_true(
      hg_schedule_next_close(&repeated, tz, utc_usec(2024, 10, 27, 1, 0, 0)) ==
      utc_usec(2024, 10, 27, 1, 30, 0));
}

/* A clock set forward or back asks again at the new instant: the answer
 * is that instant's, whatever was asked before. */
static void test_clock_jump(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  HgSchedule s = parse_ok("Mon-Fri 09:00-20:00");
  hg_usec_t mon = utc_usec(2024, 3, 4, 0, 0, 0);

  assert_true(hg_schedule_next_close(&s, utc, mon + H(10)) == mon + H(20));
  assert_true(hg_schedule_next_close(&s, utc, mon + H(21)) == mon + H(21));
  assert_true(hg_schedule_next_open(&s, utc, mon + H(21)) == mon + H(33));
  assert_true(hg_schedule_next_close(&s, utc, mon - H(24) + H(10)) ==
              mon - H(24) + H(10)); /* back to Sunday: closed */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_errors_name_their_position),
      cmocka_unit_test(test_open_and_next_within_the_week),
      cmocka_unit_test(test_past_midnight_and_the_weeks_end),
      cmocka_unit_test(test_always),
      cmocka_unit_test(test_spring_forward),
      cmocka_unit_test(test_fall_back),
      cmocka_unit_test(test_clock_jump),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
