/* The one wait of the unit tests outside an event loop: polls a condition
 * until it holds, and gives up at a deadline (for what no loop reports,
 * such as a child's exit: valgrind knows no pidfds). Time in unit tests is
 * otherwise the injected clock (test-clock.h) or the loop's own. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef bool (*TestCondition)(void *arg);

/* true once cond(arg) holds; false if it still does not after timeout_sec. */
static inline bool test_poll_until(TestCondition cond, void *arg,
                                   unsigned timeout_sec) {
  gint64 deadline =
      g_get_monotonic_time() + (gint64)timeout_sec * G_USEC_PER_SEC;

  for (;;) {
    if (cond(arg))
      return true;
    if (g_get_monotonic_time() >= deadline)
      return false;
    g_usleep(1000);
  }
}
