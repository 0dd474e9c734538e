/* Login throttling: back-off per name, its cap and reset, the global
 * bucket, bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hg-throttle.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)

static void fail_n(HgThrottle *t, const char *user, unsigned n, hg_usec_t at) {
  for (unsigned i = 0; i < n; i++)
    hg_throttle_failed(t, user, at);
}

static void test_backoff_grows_and_caps(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  hg_usec_t now = S(1000);

  /* Free failures: no wait. */
  fail_n(t, "alice", HG_THROTTLE_FREE_FAILURES, now);
  assert_true(hg_throttle_check(t, "alice", now) == 0);
  /* Then 1 s, 2 s, 4 s... */
  hg_throttle_failed(t, "alice", now);
  assert_true(hg_throttle_check(t, "alice", now) == S(1));
  hg_throttle_failed(t, "alice", now);
  assert_true(hg_throttle_check(t, "alice", now) == S(2));
  assert_true(hg_throttle_check(t, "alice", now + S(1)) == S(1));
  assert_true(hg_throttle_check(t, "alice", now + S(2)) == 0);
  /* ...never more than the cap, however many failures. */
  fail_n(t, "alice", 100, now);
  assert_true(hg_throttle_check(t, "alice", now) == HG_THROTTLE_CAP);
  assert_true(hg_throttle_check(t, "alice", now + HG_THROTTLE_CAP) == 0);
  /* Others are not slowed; case does not dodge it. */
  assert_true(hg_throttle_check(t, "bob", now) == 0);
  assert_true(hg_throttle_check(t, "ALICE", now) == HG_THROTTLE_CAP);
}

static void test_success_resets(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);

  fail_n(t, "alice", 5, S(10));
  assert_true(hg_throttle_check(t, "alice", S(10)) > 0);
  hg_throttle_succeeded(t, "Alice");
  assert_true(hg_throttle_check(t, "alice", S(10)) == 0);
  assert_int_equal(hg_throttle_size(t), 0);
}

static void test_forgets_old_failures(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);

  fail_n(t, "alice", 10, S(10));
  assert_true(hg_throttle_check(t, "alice", S(10) + HG_THROTTLE_FORGET) == 0);
  assert_int_equal(hg_throttle_size(t), 0);
}

static void test_global_bucket(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  hg_usec_t now = S(100), wait;

  for (int i = 0; i < 5 * HG_THROTTLE_BURST_SEC; i++)
    assert_true(hg_throttle_check(t, "someone", now) == 0);
  wait = hg_throttle_check(t, "someone", now);
  assert_true(wait > 0 && wait <= HG_USEC_PER_SEC / 5 + 1);
  /* Refills at the rate. */
  assert_true(hg_throttle_check(t, "someone", now + wait) == 0);
  assert_true(hg_throttle_check(t, "x", now + S(10)) == 0);
}

static void test_bounded_names(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  char name[32];

  for (int i = 0; i < HG_THROTTLE_MAX_NAMES + 100; i++) {
    g_snprintf(name, sizeof(name), "user%d", i);
    fail_n(t, name, 5, S(10) + i);
  }
  assert_int_equal(hg_throttle_size(t), HG_THROTTLE_MAX_NAMES);
  /* The oldest went first. */
  assert_true(hg_throttle_check(t, "user0", S(11)) == 0);
  assert_true(hg_throttle_check(t, "user4000", S(11)) > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_grows_and_caps),
      cmocka_unit_test(test_success_resets),
      cmocka_unit_test(test_forgets_old_failures),
      cmocka_unit_test(test_global_bucket),
      cmocka_unit_test(test_bounded_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
