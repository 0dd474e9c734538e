/* Login throttling: back-off per peer and account, its cap and reset,
 * aliases of one account, the per-peer buckets, bounded memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hg-throttle.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)
#define KIOSK 1000 /* the kiosk browser's uid */
#define OTHER 2000 /* another local user */

static void fail_n(HgThrottle *t, uid_t peer, const char *user,
                   const char *account, unsigned n, hg_usec_t at) {
  for (unsigned i = 0; i < n; i++)
    hg_throttle_failed(t, peer, user, account, at);
}

static hg_usec_t check(HgThrottle *t, uid_t peer, const char *user,
                       hg_usec_t at) {
  return hg_throttle_check(t, peer, user, at);
}

static void test_backoff_grows_and_caps(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  hg_usec_t now = S(1000);

  /* Free failures: no wait. */
  fail_n(t, KIOSK, "alice", "alice", HG_THROTTLE_FREE_FAILURES, now);
  assert_true(check(t, KIOSK, "alice", now) == 0);
  /* Then 1 s, 2 s, 4 s... */
  hg_throttle_failed(t, KIOSK, "alice", "alice", now);
  assert_true(check(t, KIOSK, "alice", now) == S(1));
  hg_throttle_failed(t, KIOSK, "alice", "alice", now);
  assert_true(check(t, KIOSK, "alice", now) == S(2));
  assert_true(check(t, KIOSK, "alice", now + S(1)) == S(1));
  assert_true(check(t, KIOSK, "alice", now + S(2)) == 0);
  /* ...never more than the cap, however many failures. */
  fail_n(t, KIOSK, "alice", "alice", 100, now);
  assert_true(check(t, KIOSK, "alice", now) == HG_THROTTLE_CAP);
  assert_true(check(t, KIOSK, "alice", now + HG_THROTTLE_CAP) == 0);
  /* Others are not slowed; case does not dodge it. */
  assert_true(check(t, KIOSK, "bob", now) == 0);
  assert_true(check(t, KIOSK, "ALICE", now) == HG_THROTTLE_CAP);
}

/* Someone failing in alice's name from another uid, once a minute, for
 * ever: the person at the kiosk is never slowed by it. */
static void test_other_peers_cannot_lock_out(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);

  for (int minute = 0; minute < 60; minute++) {
    hg_usec_t at = S(100) + S(60) * minute;
    hg_throttle_failed(t, OTHER, "alice", "alice", at);
    assert_true(check(t, KIOSK, "alice", at) == 0);
  }
  assert_true(check(t, OTHER, "alice", S(100) + S(60) * 59) > 0);
}

/* The helper says which account a name resolved to: every spelling of
 * alice shares her back-off once seen. */
static void test_aliases_share_one_account(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  hg_usec_t now = S(50);

  fail_n(t, KIOSK, "alice", "alice", 3, now);
  hg_throttle_failed(t, KIOSK, "DOM\\alice", "alice", now);
  hg_throttle_failed(t, KIOSK, "alice@realm", "alice", now);
  assert_true(check(t, KIOSK, "alice", now) == S(4));
  assert_true(check(t, KIOSK, "dom\\ALICE", now) == S(4));
  assert_true(check(t, KIOSK, "alice@REALM", now) == S(4));
  /* An unknown user (no account) counts by the name typed. */
  fail_n(t, KIOSK, "ghost", NULL, 3, now);
  assert_true(check(t, KIOSK, "Ghost", now) == S(1));
  /* A success under any spelling forgets the account's failures. */
  hg_throttle_succeeded(t, KIOSK, "ALICE@realm", "alice");
  assert_true(check(t, KIOSK, "alice", now) == 0);
}

static void test_success_resets(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);

  fail_n(t, KIOSK, "alice", "alice", 5, S(10));
  assert_true(check(t, KIOSK, "alice", S(10)) > 0);
  hg_throttle_succeeded(t, KIOSK, "Alice", "alice");
  assert_true(check(t, KIOSK, "alice", S(10)) == 0);
  assert_int_equal(hg_throttle_size(t), 0);
}

static void test_forgets_old_failures(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);

  fail_n(t, KIOSK, "alice", "alice", 10, S(10));
  assert_true(check(t, KIOSK, "alice", S(10) + HG_THROTTLE_FORGET) == 0);
  assert_int_equal(hg_throttle_size(t), 0);
}

/* A flood of random names from one peer drains its own bucket only. */
static void test_bucket_per_peer(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  hg_usec_t now = S(100), wait;
  char name[32];

  for (int i = 0; i < 5 * HG_THROTTLE_BURST_SEC; i++) {
    g_snprintf(name, sizeof(name), "random%d", i);
    assert_true(check(t, OTHER, name, now) == 0);
  }
  wait = check(t, OTHER, "someone", now);
  assert_true(wait > 0 && wait <= HG_USEC_PER_SEC / 5 + 1);
  assert_true(check(t, KIOSK, "alice", now) == 0);
  /* Refills at the rate. */
  assert_true(check(t, OTHER, "someone", now + wait) == 0);
  assert_true(check(t, OTHER, "x", now + S(10)) == 0);
}

static void test_bounded(void **state) {
  g_autoptr(HgThrottle) t = hg_throttle_new(5);
  char name[32];

  for (int i = 0; i < HG_THROTTLE_MAX_NAMES + 100; i++) {
    g_snprintf(name, sizeof(name), "user%d", i);
    fail_n(t, KIOSK, name, NULL, 5, S(10) + i);
  }
  assert_int_equal(hg_throttle_size(t), HG_THROTTLE_MAX_NAMES);
  /* The oldest went first. */
  assert_true(check(t, KIOSK, "user0", S(11)) == 0);
  assert_true(check(t, KIOSK, "user4000", S(11)) > 0);
  /* Many peers: buckets stay bounded and keep working. */
  for (uid_t peer = 1; peer <= HG_THROTTLE_MAX_PEERS * 2; peer++)
    assert_true(check(t, 100000 + peer, "x", S(20)) == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_backoff_grows_and_caps),
      cmocka_unit_test(test_other_peers_cannot_lock_out),
      cmocka_unit_test(test_aliases_share_one_account),
      cmocka_unit_test(test_success_resets),
      cmocka_unit_test(test_forgets_old_failures),
      cmocka_unit_test(test_bucket_per_peer),
      cmocka_unit_test(test_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
