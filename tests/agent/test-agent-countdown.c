/* hourglass-agent's countdown: the steps from minutes down to the end,
 * each step's successor, and the step in words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "hg-agent-countdown.h"

typedef struct {
  uint64_t left;
  uint64_t value;
  bool minutes;
  uint64_t next;
} Step;

static const Step steps[] = {
    {0, 0, false, 0},       {1, 5, false, 0},    {5, 5, false, 0},
    {6, 10, false, 5},      {10, 10, false, 5},  {11, 20, false, 10},
    {59, 60, false, 50},    {60, 60, false, 50}, {61, 2, true, 60},
    {120, 2, true, 60},     {121, 3, true, 120}, {540, 9, true, 480},
    {3601, 61, true, 3600},
};

static void test_steps(void **state) {
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    AgentCountdown c = agent_countdown_step(steps[i].left);
    assert_int_equal(c.value, steps[i].value);
    assert_int_equal(c.minutes, steps[i].minutes);
    assert_int_equal(c.next, steps[i].next);
  }
}

/* From any start the next steps come strictly closer to the end, each
 * shows at least the time left (never too early), and the last one is
 * reached. */
static void test_every_start_counts_down(void **state) {
  for (uint64_t start = 1; start <= 4000; start++) {
    uint64_t left = start;
    int n = 0;

    for (;;) {
      AgentCountdown c = agent_countdown_step(left);
      assert_true(c.value * (c.minutes ? 60 : 1) >= left);
      if (c.next == 0)
        break;
      assert_true(c.next < left);
      left = c.next;
      assert_true(++n < 100);
    }
    assert_true(left <= 5);
  }
}

static void test_text(void **state) {
  static const struct {
    uint64_t left;
    const char *text;
  } cases[] = {
      {1, "5 seconds"},  {45, "50 seconds"},  {60, "60 seconds"},
      {61, "2 minutes"}, {600, "10 minutes"}, {3600, "60 minutes"},
  };
  AgentCountdown one = {.value = 1, .minutes = true};
  g_autofree char *minute = agent_countdown_text(&one);

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    AgentCountdown c = agent_countdown_step(cases[i].left);
    g_autofree char *text = agent_countdown_text(&c);
    assert_string_equal(text, cases[i].text);
  }
  assert_string_equal(minute, "1 minute");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_steps),
      cmocka_unit_test(test_every_start_counts_down),
      cmocka_unit_test(test_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
