/* hourglass-agent's warning in words: every kind and action named both
 * ways, what the countdown counts to, the sentences of an idle warning
 * (sign-out or lock), a limit warning (its time of day, "More time" while
 * extensions are left), the day's ends (the allowance, closing time: what
 * ends the session, never "More time") and a locked session, all plain
 * text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "hg-agent-wording.h"

#define SEC 1000000ULL
#define T0 (1700000000ULL * SEC) /* 2023-11-14 22:13:20 UTC */

static void test_kinds_both_ways(void **state) {
  for (int k = 0; k < _AGENT_WARNING_MAX; k++) {
    const char *name = agent_warning_kind_to_string((AgentWarningKind)k);
    assert_non_null(name);
    assert_int_equal(agent_warning_kind_from_string(name), k);
  }
  assert_null(agent_warning_kind_to_string(_AGENT_WARNING_MAX));
  assert_int_equal(agent_warning_kind_from_string(NULL), AGENT_WARNING_NONE);
  assert_int_equal(agent_warning_kind_from_string("allowance"),
                   AGENT_WARNING_ALLOWANCE);
  assert_int_equal(agent_warning_kind_from_string("closing-time"),
                   AGENT_WARNING_CLOSING);
  /* A kind of a newer daemon is still a warning. */
  assert_int_equal(agent_warning_kind_from_string("bedtime"),
                   AGENT_WARNING_OTHER);
}

static void test_actions_both_ways(void **state) {
  for (int a = 0; a < _AGENT_END_MAX; a++) {
    const char *name = agent_end_action_to_string((AgentEndAction)a);
    assert_non_null(name);
    assert_int_equal(agent_end_action_from_string(name), a);
  }
  assert_null(agent_end_action_to_string(_AGENT_END_MAX));
  assert_int_equal(agent_end_action_from_string(""), AGENT_END_TERMINATE);
  assert_int_equal(agent_end_action_from_string(NULL), AGENT_END_TERMINATE);
  assert_int_equal(agent_end_action_from_string("reboot"), AGENT_END_TERMINATE);
}

static void test_target(void **state) {
  AgentFacts f = {.expires_at = T0 + 60 * SEC, .limit_at = T0 + 600 * SEC};

  f.warning = AGENT_WARNING_IDLE;
  assert_int_equal(agent_facts_target(&f), T0 + 60 * SEC);
  /* lock-then-terminate: the lock, not the end after it. */
  f.lock_at = T0 + 30 * SEC;
  assert_int_equal(agent_facts_target(&f), T0 + 30 * SEC);
  f.lock_at = T0 + 900 * SEC;
  assert_int_equal(agent_facts_target(&f), T0 + 600 * SEC);
  f.lock_at = 0;
  f.warning = AGENT_WARNING_LIMIT;
  assert_int_equal(agent_facts_target(&f), T0 + 600 * SEC);
  f.limit_at = 0;
  assert_int_equal(agent_facts_target(&f), T0 + 60 * SEC);
  /* The day's ends are LimitAt, like the absolute limit. */
  f.limit_at = T0 + 300 * SEC;
  f.warning = AGENT_WARNING_ALLOWANCE;
  assert_int_equal(agent_facts_target(&f), T0 + 300 * SEC);
  f.warning = AGENT_WARNING_CLOSING;
  assert_int_equal(agent_facts_target(&f), T0 + 300 * SEC);
  f.limit_at = 0;
  assert_int_equal(agent_facts_target(&f), T0 + 60 * SEC);
  f.warning = AGENT_WARNING_LOCKED;
  assert_int_equal(agent_facts_target(&f), T0 + 60 * SEC);
  f.warning = AGENT_WARNING_OTHER;
  assert_int_equal(agent_facts_target(&f), T0 + 60 * SEC);
}

static void assert_has(const char *text, const char *part) {
  if (!strstr(text, part))
    fail_msg("\"%s\" does not say \"%s\"", text, part);
}

static void test_idle_sign_out(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_IDLE};
  g_auto(AgentWording) w = {0};
  g_auto(AgentWording) end = {0};

  agent_wording_make(&f, 45, NULL, &w);
  assert_string_equal(w.summary, "You will be signed out soon");
  assert_string_equal(w.body,
                      "You will be signed out in 50 seconds unless you use the "
                      "computer.");
  assert_string_equal(w.action, AGENT_ACTION_EXTEND);
  assert_string_equal(w.action_label, "Stay signed in");
  agent_wording_make(&f, 0, NULL, &end);
  assert_has(end.body, "signed out now");
}

static void test_idle_lock(void **state) {
  for (int a = AGENT_END_LOCK; a <= AGENT_END_LOCK_THEN_TERMINATE; a++) {
    AgentFacts f = {.warning = AGENT_WARNING_IDLE, .action = a};
    g_auto(AgentWording) w = {0};
    g_auto(AgentWording) end = {0};

    agent_wording_make(&f, 90, NULL, &w);
    assert_string_equal(w.summary, "The screen will lock soon");
    assert_string_equal(w.body, "The screen will lock in 2 minutes unless "
                                "you use the computer.");
    assert_string_equal(w.action, AGENT_ACTION_EXTEND);
    agent_wording_make(&f, 0, NULL, &end);
    assert_string_equal(end.body, "The screen locks now.");
  }
}

static void test_limit(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_LIMIT, .extensions_left = 2};
  g_auto(AgentWording) w = {0};
  g_auto(AgentWording) one = {0};
  g_auto(AgentWording) none = {0};
  g_auto(AgentWording) unknown = {0};

  agent_wording_make(&f, 600, "14:05", &w);
  assert_string_equal(w.summary, "Your session ends at 14:05");
  assert_has(w.body, "Your session ends in 10 minutes, at its time limit");
  assert_has(w.body, "\"More time\"");
  assert_has(w.body, "(2 extensions left)");
  assert_string_equal(w.action, AGENT_ACTION_MORE_TIME);
  assert_string_equal(w.action_label, "More time");
  f.extensions_left = 1;
  agent_wording_make(&f, 600, "14:05", &one);
  assert_has(one.body, "(1 extension left)");
  /* Activity does not help: no "Stay signed in", and none of more time
   * once it is used up. */
  f.extensions_left = 0;
  agent_wording_make(&f, 50, "14:05", &none);
  assert_has(none.body, "ends in 50 seconds");
  assert_null(strstr(none.body, "More time"));
  assert_null(none.action);
  agent_wording_make(&f, 50, NULL, &unknown);
  assert_string_equal(unknown.summary, "Your session ends soon");
}

static void test_limit_at_its_end_or_locked(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_LIMIT, .extensions_left = 3};
  g_auto(AgentWording) end = {0};
  g_auto(AgentWording) locked = {0};

  agent_wording_make(&f, 0, "14:05", &end);
  assert_has(end.body, "reached its time limit and ends now");
  assert_null(end.action);
  f.locked = true;
  agent_wording_make(&f, 300, "14:05", &locked);
  assert_null(locked.action);
}

/* Extensions left or not, the day's ends offer no action: more time
 * cannot move them, and the words say so. */
static void test_allowance(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_ALLOWANCE, .extensions_left = 2};
  g_auto(AgentWording) w = {0};
  g_auto(AgentWording) no_clock = {0};
  g_auto(AgentWording) end = {0};

  agent_wording_make(&f, 300, "17:40", &w);
  assert_string_equal(w.summary, "Your time for today is almost used up");
  assert_string_equal(w.body,
                      "You will be signed out in 5 minutes, at 17:40, when "
                      "your time for today runs out. Save your work: more "
                      "time cannot be given.");
  assert_null(w.action);
  assert_null(w.action_label);
  agent_wording_make(&f, 300, NULL, &no_clock);
  assert_has(no_clock.body, "signed out in 5 minutes, when your time for "
                            "today runs out");
  assert_null(no_clock.action);
  agent_wording_make(&f, 0, "17:40", &end);
  assert_has(end.body, "used up: you are being signed out now");
  assert_null(end.action);
}

static void test_closing_time(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_CLOSING, .extensions_left = 2};
  g_auto(AgentWording) w = {0};
  g_auto(AgentWording) no_clock = {0};
  g_auto(AgentWording) end = {0};

  agent_wording_make(&f, 45, "20:00", &w);
  assert_string_equal(w.summary, "This computer closes at 20:00");
  assert_string_equal(w.body, "You will be signed out in 50 seconds, at "
                              "closing time. Save your work: more time "
                              "cannot be given.");
  assert_null(strstr(w.body, "More time"));
  assert_null(w.action);
  agent_wording_make(&f, 45, NULL, &no_clock);
  assert_string_equal(no_clock.summary, "This computer closes soon");
  assert_null(no_clock.action);
  agent_wording_make(&f, 0, "20:00", &end);
  assert_has(end.body, "closing time: you are being signed out now");
  assert_null(end.action);
}

static void test_locked(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_LOCKED,
                  .action = AGENT_END_LOCK_THEN_TERMINATE,
                  .locked = true,
                  .extensions_left = 1};
  g_auto(AgentWording) w = {0};
  g_auto(AgentWording) end = {0};

  agent_wording_make(&f, 300, NULL, &w);
  assert_string_equal(w.body,
                      "The session will be signed out in 5 minutes unless "
                      "unlocked.");
  assert_has(w.summary, "signed out soon");
  assert_null(w.action);
  agent_wording_make(&f, 0, NULL, &end);
  assert_has(end.body, "being signed out now");
}

static void test_other(void **state) {
  AgentFacts f = {.warning = AGENT_WARNING_OTHER};
  g_auto(AgentWording) w = {0};

  agent_wording_make(&f, 20, NULL, &w);
  assert_string_equal(w.body, "This session ends in 20 seconds.");
  assert_null(w.action);
}

/* Servers with body-markup would read <, > and & as markup. */
static void test_plain_text(void **state) {
  static const uint64_t lefts[] = {0, 5, 59, 61, 7200};

  for (int k = 0; k < _AGENT_WARNING_MAX; k++)
    for (int a = 0; a < _AGENT_END_MAX; a++)
      for (size_t i = 0; i < G_N_ELEMENTS(lefts); i++) {
        AgentFacts f = {.warning = k, .action = a, .extensions_left = 1};
        g_auto(AgentWording) w = {0};

        agent_wording_make(&f, lefts[i], "09:30", &w);
        assert_true(*w.summary && *w.body);
        assert_null(strpbrk(w.summary, "<>&"));
        assert_null(strpbrk(w.body, "<>&"));
        assert_true(!w.action == !w.action_label);
      }
}

static void test_clock(void **state) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GTimeZone) east = g_time_zone_new_identifier("+02:00");
  g_autofree char *at_utc = agent_wording_clock(T0 + 30 * SEC, utc);
  g_autofree char *at_east = agent_wording_clock(T0 + 30 * SEC, east);

  assert_string_equal(at_utc, "22:13");
  assert_string_equal(at_east, "00:13");
  assert_null(agent_wording_clock(0, utc));
  assert_non_null(strstr(agent_wording_refused_summary(), "more time"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds_both_ways),
      cmocka_unit_test(test_actions_both_ways),
      cmocka_unit_test(test_target),
      cmocka_unit_test(test_idle_sign_out),
      cmocka_unit_test(test_idle_lock),
      cmocka_unit_test(test_limit),
      cmocka_unit_test(test_limit_at_its_end_or_locked),
      cmocka_unit_test(test_allowance),
      cmocka_unit_test(test_closing_time),
      cmocka_unit_test(test_locked),
      cmocka_unit_test(test_other),
      cmocka_unit_test(test_plain_text),
      cmocka_unit_test(test_clock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
