/* HTTP connection budgets (per peer, in all, the live-session reserve) and
 * the peer uid lookup against a real loopback connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hg-http-admit.h"
#include "hg-peer.h"

static void test_per_peer_budget(void **state) {
  g_autoptr(HgAdmission) a = hg_admission_new();
  HgAdmitLimits l = {.max_total = 64, .max_per_peer = 3};

  for (int i = 0; i < 3; i++)
    assert_int_equal(hg_admission_enter(a, &l, 1000), HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_enter(a, &l, 1000), HG_ADMIT_REFUSE);
  /* Another user is not held back by the first one. */
  assert_int_equal(hg_admission_enter(a, &l, 1001), HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_of(a, 1000), 3);
  assert_int_equal(hg_admission_total(a), 4);
  /* A place given back can be taken again. */
  hg_admission_leave(a, 1000);
  assert_int_equal(hg_admission_enter(a, &l, 1000), HG_ADMIT_OPEN);
  /* uid 0 and the unknown uid are peers like any other. */
  assert_int_equal(hg_admission_enter(a, &l, 0), HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_enter(a, &l, HG_PEER_UID_UNKNOWN),
                   HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_of(a, 0), 1);
}

static void test_reserve(void **state) {
  g_autoptr(HgAdmission) a = hg_admission_new();
  HgAdmitLimits l = {.max_total = 16, .max_per_peer = 16};

  assert_int_equal(hg_admission_reserve(16), 2);
  assert_int_equal(hg_admission_reserve(128), 16);
  assert_int_equal(hg_admission_reserve(2), 1);
  assert_int_equal(hg_admission_reserve(1), 0);
  for (uid_t uid = 1; uid <= 14; uid++)
    assert_int_equal(hg_admission_enter(a, &l, uid), HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_enter(a, &l, 100), HG_ADMIT_RESERVE);
  assert_int_equal(hg_admission_enter(a, &l, 101), HG_ADMIT_RESERVE);
  assert_int_equal(hg_admission_enter(a, &l, 102), HG_ADMIT_REFUSE);
  assert_int_equal(hg_admission_total(a), 16);
  /* Below the reserve again: open places. */
  hg_admission_leave(a, 1);
  hg_admission_leave(a, 100);
  hg_admission_leave(a, 101);
  assert_int_equal(hg_admission_enter(a, &l, 1), HG_ADMIT_OPEN);
}

static void test_one_place(void **state) {
  g_autoptr(HgAdmission) a = hg_admission_new();
  HgAdmitLimits l = {.max_total = 1, .max_per_peer = 1};

  assert_int_equal(hg_admission_enter(a, &l, 5), HG_ADMIT_OPEN);
  assert_int_equal(hg_admission_enter(a, &l, 6), HG_ADMIT_REFUSE);
}

/* A loopback connection of our own: its peer is us. */
static void test_peer_uid(void **state) {
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(sa);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int nl = hg_peer_open(), afd;
  uid_t uid = 12345;

  assert_true(lfd >= 0 && cfd >= 0 && nl >= 0);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(lfd, 1), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
  assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  assert_true(afd >= 0);
  assert_int_equal(hg_peer_uid(nl, afd, &uid), 0);
  assert_int_equal(uid, geteuid());
  /* Twice over one netlink socket: no answer is left behind. */
  assert_int_equal(hg_peer_uid(nl, afd, &uid), 0);
  assert_int_equal(uid, geteuid());
  /* Not a TCP socket. */
  assert_true(hg_peer_uid(nl, nl, &uid) < 0);
  close(afd);
  close(cfd);
  close(lfd);
  close(nl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_per_peer_budget),
      cmocka_unit_test(test_reserve),
      cmocka_unit_test(test_one_place),
      cmocka_unit_test(test_peer_uid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
