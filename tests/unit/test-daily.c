/* The day's limits as the registry gets them, on an injected clock: the
 * allowance's end (today's rest, the next day's past midnight), shared by
 * two sessions of one person, moved by a grant; closing time moved by a
 * wall-clock jump either way and by a zone change; the sign-in checks.
 * The loop is never run: the calls the timers would make are made here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-daily.h"
#include "test-clock.h"
#include "test-wall.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)
#define M(x) S((x)*60)

typedef struct {
  TestClock clock;
  sd_event *event;
  HgConfig *config;
  HgRegistry *reg;
  HgDaily *daily;
} Fixture;

static void set_hours(Fixture *f, const char *hours) {
  g_autoptr(GString) why = g_string_new(NULL);

  assert_true(hg_schedule_parse(hours, &f->config->fallback.hours, why));
  hg_daily_set_config(f->daily, f->config);
  hg_registry_set_limits(f->reg, &f->config->fallback);
}

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);

  test_clock_init(&f->clock, S(1000));
  /* Monday 2024-03-04, 19:00 UTC. */
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 19, 0, 0));
  assert_int_equal(sd_event_new(&f->event), 0);
  f->config = hg_config_new_default();
  f->config->fallback.max_session = 0;
  f->config->fallback.daily_allowance = S(3600);
  f->reg = hg_registry_new(&f->clock.clock, &f->config->fallback);
  assert_int_equal(hg_daily_new(f->event, f->reg, NULL, &f->daily), 0);
  hg_daily_set_config(f->daily, f->config);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;

  hg_registry_end_all(f->reg, HG_END_REASON_SHUTDOWN);
  hg_daily_free(f->daily);
  hg_registry_free(f->reg);
  hg_config_free(f->config);
  sd_event_unref(f->event);
  if (f->clock.zone)
    g_time_zone_unref(f->clock.zone);
  g_free(f);
  return 0;
}

static HgSession *sign_in(Fixture *f, const char *user) {
  HgSession *s = NULL;

  assert_int_equal(
      hg_registry_create(f->reg,
                         &(HgSessionInit){.source = HG_SESSION_SOURCE_DESKTOP,
                                          .user = user,
                                          .uid = 1001,
                                          .peer_uid = HG_PEER_UID_UNKNOWN,
                                          .logind_id = "c1"},
                         &s),
      0);
  hg_registry_set_busy(f->reg, s, true, 0); /* no idle end in the way */
  return s;
}

static hg_usec_t now(Fixture *f) { return f->clock.boottime; }

static hg_usec_t allowance_end(HgSession *s) {
  return hg_session_get_times(s)->allowance_end;
}

/* One person's sessions end together: time counts once for both. */
static void test_parallel_sessions_share_the_end(void **state) {
  Fixture *f = *state;
  HgSession *web = sign_in(f, "alice"), *desk;
  hg_usec_t end = now(f) + S(3600);

  assert_true(allowance_end(web) == end);
  f->clock.boottime += M(10);
  desk = sign_in(f, "alice");
  assert_true(allowance_end(desk) == end);
  assert_true(hg_session_get_verdict(desk)->hard_end == end);
  assert_int_equal(hg_session_get_verdict(desk)->hard_reason,
                   HG_END_REASON_ALLOWANCE);
  f->clock.boottime += M(20);
  hg_registry_end(f->reg, web, HG_END_REASON_LOGOUT);
  hg_daily_clock_changed(f->daily); /* what the minute's tick does */
  assert_true(allowance_end(desk) == end);
  /* Signed out and in again: the half hour used stays used. */
  hg_registry_end(f->reg, desk, HG_END_REASON_LOGOUT);
  f->clock.boottime += M(60);
  web = sign_in(f, "alice");
  assert_true(allowance_end(web) == now(f) + M(30));
  /* An operator's ten minutes more move it at once. */
  {
    HgAllowanceDay day;
    assert_int_equal(hg_daily_grant(f->daily, "alice", M(10), &day), 0);
    assert_true(day.granted == M(10) && day.used == M(30));
  }
  assert_true(allowance_end(web) == now(f) + M(40));
  f->clock.boottime += M(40);
  hg_session_ref(web);
  hg_registry_process(f->reg);
  assert_true(hg_session_is_ended(web));
  assert_int_equal(hg_session_get_end_reason(web), HG_END_REASON_ALLOWANCE);
  hg_session_unref(web);
}

/* 23:30: an hour left is half an hour today and the next day's hour. */
static void test_past_midnight(void **state) {
  Fixture *f = *state;
  HgSession *s;
  HgAllowanceDay day;

  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 23, 30, 0));
  s = sign_in(f, "alice");
  assert_true(allowance_end(s) == now(f) + M(30) + M(60));
  hg_registry_end(f->reg, s, HG_END_REASON_LOGOUT);
  /* With 10 minutes left today, today's end stands. */
  f->clock.boottime += M(5);
  hg_daily_get(f->daily, "alice", &day);
  assert_true(day.used == 0); /* the logout was at once */
  assert_int_equal(hg_daily_grant(f->daily, "bob", M(1), &day), 0);
  f->config->fallback.daily_allowance = M(10);
  hg_daily_set_config(f->daily, f->config);
  hg_registry_set_limits(f->reg, &f->config->fallback);
  s = sign_in(f, "bob");
  assert_true(allowance_end(s) == now(f) + M(11));
}

/* Closing time comes from the wall clock: set it forward or back, and the
 * session's end follows. */
static void test_closing_follows_the_wall_clock(void **state) {
  Fixture *f = *state;
  HgSession *s;

  f->config->fallback.daily_allowance = 0;
  set_hours(f, "Mon-Fri 09:00-20:00");
  s = sign_in(f, "alice");
  assert_true(hg_session_get_times(s)->closing_at == now(f) + M(60));
  assert_true(allowance_end(s) == 0);
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 19, 30, 0));
  hg_daily_clock_changed(f->daily);
  assert_true(hg_session_get_times(s)->closing_at == now(f) + M(30));
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 17, 0, 0));
  hg_daily_clock_changed(f->daily);
  assert_true(hg_session_get_times(s)->closing_at == now(f) + M(180));
  /* A zone an hour east: 18:00 local, two hours to go. */
  f->clock.zone = g_time_zone_new_identifier("+01:00");
  hg_daily_clock_changed(f->daily);
  assert_true(hg_session_get_times(s)->closing_at == now(f) + M(120));
  /* Set past closing time: it ends now, with its reason. */
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 21, 0, 0));
  hg_session_ref(s);
  hg_daily_clock_changed(f->daily);
  assert_true(hg_session_is_ended(s));
  assert_int_equal(hg_session_get_end_reason(s), HG_END_REASON_CLOSING_TIME);
  hg_session_unref(s);
}

static void test_checks(void **state) {
  Fixture *f = *state;
  HgAccess a;
  hg_usec_t opens;

  set_hours(f, "Mon-Fri 09:00-20:00");
  assert_false(hg_daily_closed_for_all(f->daily, &opens));
  hg_daily_check(f->daily, "alice", &f->config->fallback, &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWED);
  assert_true(a.left == S(3600));
  sign_in(f, "alice");
  f->clock.boottime += S(3600);
  hg_registry_process(f->reg);
  assert_int_equal(hg_registry_count(f->reg), 0);
  hg_daily_check(f->daily, "alice", &f->config->fallback, &a);
  assert_int_equal(a.verdict, HG_ACCESS_ALLOWANCE_USED);
  assert_true(a.until == utc_usec(2024, 3, 5, 9, 0, 0));
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 21, 0, 0));
  assert_true(hg_daily_closed_for_all(f->daily, &opens));
  assert_true(opens == utc_usec(2024, 3, 5, 9, 0, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_parallel_sessions_share_the_end,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_past_midnight, setup, teardown),
      cmocka_unit_test_setup_teardown(test_closing_follows_the_wall_clock,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_checks, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
