/* A tty's last input: which names are ttys, the bound that the kernel's
 * 8-second atime steps leave, and a real pty's atime read back. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-tty.h"
#include "test-clock.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)

static void test_names(void **state) {
  static const char *const good[] = {"pts/3",  "tty2",    "ttyS0",    "hvc0",
                                     "pts/12", "ttyUSB0", "3270/tty1"};
  static const char *const bad[] = {
      "",        "/dev/pts/3", "pts/../shadow", "..",      "pts/", "pts//3",
      "pts/./3", ":0",         "tty 2",         "pts/3\n", NULL};

  for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
    assert_true(hg_tty_name_is_valid(good[i]));
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
    assert_false(hg_tty_name_is_valid(bad[i]));
  assert_false(hg_tty_name_is_valid(
      "pts/0123456789012345678901234567890123456789012345678901234567890"));
}

/* Input later in the same 8-second span leaves the atime as it was: the
 * last input was before the span's end, never after now. */
static void test_bound(void **state) {
  assert_true(hg_tty_input_bound(1000, S(2000)) == S(1008));
  assert_true(hg_tty_input_bound(1007, S(2000)) == S(1008));
  assert_true(hg_tty_input_bound(1008, S(2000)) == S(1016));
  assert_true(hg_tty_input_bound(1003, S(1005)) == S(1005));
  assert_true(hg_tty_input_bound(0, S(1005)) == 0);
  assert_true(hg_tty_input_bound(-5, S(1005)) == 0);
}

static TestClock clock_at(int64_t realtime_sec) {
  TestClock c;

  test_clock_init(&c, S(5000));
  c.realtime_offset = S(realtime_sec) - S(5000);
  return c;
}

/* A real pty: its atime, set by hand, comes back on CLOCK_BOOTTIME. */
static void test_pty(void **state) {
  int master, slave;
  char name[64];
  const char *tty;
  hg_usec_t at = 0;
  TestClock c = clock_at(1700000100);

  assert_int_equal(openpty(&master, &slave, name, NULL, NULL), 0);
  tty = name + strlen("/dev/");
  assert_true(g_str_has_prefix(name, "/dev/pts/"));
  assert_int_equal(
      futimens(slave, (struct timespec[]){{1700000041, 0}, {UTIME_OMIT, 0}}),
      0);
  assert_int_equal(hg_tty_last_input(tty, &c.clock, &at), 0);
  /* Bound 1700000048, 52 s before now. */
  assert_true(at == S(5000) - S(52));
  /* Input now: the bound is now. */
  assert_int_equal(
      futimens(slave, (struct timespec[]){{1700000099, 0}, {UTIME_OMIT, 0}}),
      0);
  assert_int_equal(hg_tty_last_input(tty, &c.clock, &at), 0);
  assert_true(at == S(5000));
  close(slave);
  close(master);
}

static void test_not_a_tty(void **state) {
  TestClock c = clock_at(1700000100);
  hg_usec_t at = 0;

  assert_int_equal(hg_tty_last_input("../etc/passwd", &c.clock, &at), -EINVAL);
  assert_int_equal(hg_tty_last_input("pts/999999", &c.clock, &at), -ENOENT);
  assert_int_equal(hg_tty_last_input("shm", &c.clock, &at), -ENOTTY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_bound),
      cmocka_unit_test(test_pty),
      cmocka_unit_test(test_not_a_tty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
