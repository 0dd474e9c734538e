/* The daily allowance's ledger and its records, on an injected clock and a
 * temporary directory: parallel sessions counted once, midnight and the
 * 23-hour day, clock and zone changes that move the day but never the
 * time used, a crash between writes (at most a minute lost, never time
 * gained), a restart that loses nothing, grants, damaged and foreign
 * records, pruning, and the codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "hg-allowance.h"
#include "hg-macros.h"
#include "hg-wall.h"
#include "test-clock.h"
#include "test-wall.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)
#define BOOT_ID "0123456789abcdef0123456789abcdef"
#define OTHER_BOOT "fedcba9876543210fedcba9876543210"

typedef struct {
  TestClock clock;
  char *dir;
  HgAllowanceStore *store;
  HgAllowance *a;
} Fixture;

static void remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR))
      remove_tree(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);
  g_autofree char *tmp = g_dir_make_tmp("hg-allowance-XXXXXX", NULL);

  test_clock_init(&f->clock, S(1000));
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 10, 0, 0));
  f->dir = g_build_filename(tmp, "allowance", NULL);
  assert_int_equal(hg_allowance_store_new(f->dir, &f->store), 0);
  f->a = hg_allowance_new(&f->clock.clock, f->store, BOOT_ID);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;
  g_autofree char *parent = g_path_get_dirname(f->dir);

  hg_allowance_free(f->a);
  hg_allowance_store_free(f->store);
  remove_tree(parent);
  if (f->clock.zone)
    g_time_zone_unref(f->clock.zone);
  g_free(f->dir);
  g_free(f);
  return 0;
}

/* Both clocks move on together, as time passes. */
static void pass(Fixture *f, hg_usec_t d) { f->clock.boottime += d; }

/* Passes d in steps, ticking whenever the ledger asked to be. */
static void pass_ticking(Fixture *f, hg_usec_t d, hg_usec_t step) {
  hg_usec_t end = f->clock.boottime + d, due = hg_allowance_tick(f->a);

  while (f->clock.boottime < end) {
    pass(f, HG_MIN(step, end - f->clock.boottime));
    if (f->clock.boottime >= due)
      due = hg_allowance_tick(f->a);
  }
}

static HgAllowanceDay day_of(Fixture *f, const char *user) {
  HgAllowanceDay d;

  hg_allowance_get(f->a, user, &d);
  return d;
}

static hg_usec_t recorded(Fixture *f, const char *user, int64_t day) {
  HgAllowanceRecord r;
  g_autofree char *why = NULL;
  hg_usec_t used;

  if (hg_allowance_store_load(f->store, user, day, &r, &why) < 0)
    return HG_USEC_INFINITY;
  used = r.used;
  hg_allowance_record_clear(&r);
  return used;
}

static int64_t today(Fixture *f) {
  g_autoptr(GTimeZone) tz = hg_clock_zone(&f->clock.clock);
  HgWallTime w;

  hg_wall_time(tz, hg_clock_realtime(&f->clock.clock), &w);
  return w.day;
}

static void test_parallel_sessions_count_once(void **state) {
  Fixture *f = *state;

  hg_allowance_open(f->a, "alice", false);
  pass(f, S(600));
  hg_allowance_open(f->a, "alice", false); /* a desktop beside the web */
  pass(f, S(300));
  assert_true(day_of(f, "alice").used == S(900));
  assert_int_equal(day_of(f, "alice").n_open, 2);
  pass(f, S(300));
  hg_allowance_close(f->a, "alice");
  pass(f, S(600));
  hg_allowance_close(f->a, "alice");
  assert_true(day_of(f, "alice").used == S(1800));
  assert_int_equal(day_of(f, "alice").n_open, 0);
  /* Signed out, time stands still; the record says the same. */
  pass(f, S(3600));
  assert_true(day_of(f, "alice").used == S(1800));
  assert_true(recorded(f, "alice", today(f)) == S(1800));
  assert_true(day_of(f, "bob").used == 0);
  assert_int_equal(hg_allowance_count_open(f->a), 0);
}

static void test_left(void **state) {
  HgAllowanceDay d = {.used = S(600)};

  assert_true(hg_allowance_left(&d, S(3600)) == S(3000));
  assert_true(hg_allowance_left(&d, S(300)) == 0);
  d.granted = S(600);
  assert_true(hg_allowance_left(&d, S(300)) == S(300));
  d.spent = true;
  assert_true(hg_allowance_left(&d, S(3600)) == 0);
  d.granted = S(1000);
  assert_true(hg_allowance_left(&d, S(3600)) == S(400));
}

/* Written once a minute while signed in: a crash loses at most that
 * minute, and never gives time back. */
static void test_crash_between_writes(void **state) {
  Fixture *f = *state;
  uint64_t writes;

  hg_allowance_open(f->a, "alice", false);
  assert_true(hg_allowance_tick(f->a) == f->clock.boottime + S(60));
  pass_ticking(f, S(150), S(10));
  writes = hg_allowance_store_writes(f->store);
  assert_int_equal(writes, 2); /* at 60 s and at 120 s */
  /* The crash: nothing more is written. Another boot reads the record. */
  g_clear_pointer(&f->a, hg_allowance_free);
  f->a = hg_allowance_new(&f->clock.clock, f->store, OTHER_BOOT);
  assert_true(day_of(f, "alice").used >= S(150) - HG_ALLOWANCE_SAVE_INTERVAL);
  assert_true(day_of(f, "alice").used <= S(150));
}

/* A restart of the daemon in the same boot: the sessions it takes back
 * count from the last record, so nothing is lost. A new sign-in after it
 * does not. */
static void test_restart_resumes(void **state) {
  Fixture *f = *state;

  hg_allowance_open(f->a, "alice", false);
  hg_allowance_open(f->a, "bob", false);
  pass_ticking(f, S(150), S(10));
  g_clear_pointer(&f->a, hg_allowance_free);
  pass(f, S(30)); /* the daemon is away */
  f->a = hg_allowance_new(&f->clock.clock, f->store, BOOT_ID);
  hg_allowance_open(f->a, "alice", true);
  hg_allowance_open(f->a, "bob", false);
  assert_true(day_of(f, "alice").used == S(180));
  assert_true(day_of(f, "bob").used == S(120));
}

static void test_midnight_splits(void **state) {
  Fixture *f = *state;
  int64_t day;

  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 23, 59, 0));
  day = today(f);
  hg_allowance_open(f->a, "alice", false);
  pass(f, S(150)); /* to 00:01:30, ticked late (a suspend, say) */
  hg_allowance_tick(f->a);
  assert_true(recorded(f, "alice", day) == S(60));
  assert_true(day_of(f, "alice").day == day + 1);
  assert_true(day_of(f, "alice").used == S(90));
}

/* Berlin's 31 March 2024 has 23 hours: a person signed in from 23:00 the
 * day before until 01:00 the day after uses 1 + 23 + 1 hours. */
static void test_short_day(void **state) {
  Fixture *f = *state;
  int64_t d30;

  f->clock.zone = g_time_zone_new_identifier(TEST_TZ_CET);
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 30, 22, 0, 0));
  d30 = today(f);
  hg_allowance_open(f->a, "alice", false);
  pass_ticking(f, S(23 * 3600 + 1800), S(1800));
  assert_true(recorded(f, "alice", d30) == S(3600));
  /* (Pruned once 1 April begins: only yesterday is kept.) */
  pass_ticking(f, S(1800 + 3600), S(1800));
  hg_allowance_close(f->a, "alice");
  assert_true(recorded(f, "alice", d30) == HG_USEC_INFINITY);
  assert_true(recorded(f, "alice", d30 + 1) == S(23 * 3600));
  assert_true(recorded(f, "alice", d30 + 2) == S(3600));
}

/* A clock set forward within the day, or a zone change, adds no time; one
 * set into the next day moves the boundary: the time so far stays the old
 * day's. */
static void test_clock_and_zone_changes(void **state) {
  Fixture *f = *state;
  int64_t day = today(f);

  hg_allowance_open(f->a, "alice", false);
  pass(f, S(600));
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 18, 0, 0));
  assert_true(day_of(f, "alice").used == S(600));
  pass(f, S(60));
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 5, 9, 0, 0));
  /* The minute since the last count is filed under the new day (the
   * clocks cannot tell when in it the change came). */
  assert_true(day_of(f, "alice").day == day + 1);
  assert_true(day_of(f, "alice").used == S(60));
  assert_true(recorded(f, "alice", day) == S(600));
  pass(f, S(60));
  /* Back to the first day: its record, with its time, applies again. */
  test_clock_set_realtime(&f->clock, utc_usec(2024, 3, 4, 20, 0, 0));
  assert_true(day_of(f, "alice").used == S(660));
  assert_true(recorded(f, "alice", day + 1) == S(60));
  /* 20:00 UTC is already the next day at UTC+14. */
  f->clock.zone = g_time_zone_new_identifier("+14:00");
  pass(f, S(30));
  assert_true(day_of(f, "alice").day == day + 1);
  assert_true(day_of(f, "alice").used == S(90));
  assert_true(recorded(f, "alice", day) == S(660));
}

static void test_grant(void **state) {
  Fixture *f = *state;
  HgAllowanceDay d;

  hg_allowance_open(f->a, "alice", false);
  pass(f, S(3600));
  hg_allowance_get(f->a, "alice", &d);
  assert_true(hg_allowance_left(&d, S(3600)) == 0);
  assert_int_equal(hg_allowance_grant(f->a, "alice", S(600), &d), 0);
  assert_true(hg_allowance_left(&d, S(3600)) == S(600));
  assert_int_equal(hg_allowance_grant(f->a, "alice", 0, &d), -EINVAL);
  assert_int_equal(hg_allowance_grant(f->a, "alice", S(86401), &d), -EINVAL);
  /* Written at once, for someone signed out too. */
  assert_int_equal(hg_allowance_grant(f->a, "bob", S(60), &d), 0);
  g_clear_pointer(&f->a, hg_allowance_free);
  f->a = hg_allowance_new(&f->clock.clock, f->store, OTHER_BOOT);
  assert_true(day_of(f, "alice").granted == S(600));
  assert_true(day_of(f, "bob").granted == S(60));
  for (int i = 0; i < 3; i++)
    assert_int_equal(hg_allowance_grant(f->a, "bob", S(86400), &d), 0);
  assert_true(d.granted == HG_ALLOWANCE_GRANTED_MAX);
}

static void write_file(Fixture *f, int64_t day, const char *name,
                       const char *text) {
  char date[HG_WALL_DATE_LEN + 1];
  g_autofree char *dir = NULL, *path = NULL;

  hg_wall_date_format(day, date);
  dir = g_build_filename(f->dir, date, NULL);
  g_mkdir(dir, 0700);
  path = g_build_filename(dir, name, NULL);
  assert_true(g_file_set_contents(path, text, -1, NULL));
}

static char *record_text(const char *user, int64_t day, hg_usec_t used) {
  HgAllowanceRecord r = {.user = (char *)user, .day = day, .used = used};
  size_t len;

  memcpy(r.boot_id, BOOT_ID, sizeof(r.boot_id));
  return hg_allowance_record_encode(&r, &len);
}

/* A damaged record never gives time: the day counts as used up, and only
 * what an operator grants is left. */
static void test_damaged_record(void **state) {
  Fixture *f = *state;
  g_autofree char *good = record_text("alice", today(f), S(60));
  g_autofree char *bobs = record_text("bob", today(f), 0);
  HgAllowanceDay d;
  HgAllowanceRecord r;
  g_autofree char *why = NULL;

  good[strlen(good) - 70] ^= 1; /* a bit flipped in the checksum */
  write_file(f, today(f), "alice", good);
  hg_allowance_get(f->a, "alice", &d);
  assert_true(d.spent);
  assert_true(hg_allowance_left(&d, S(7200)) == 0);
  assert_int_equal(hg_allowance_grant(f->a, "alice", S(300), &d), 0);
  hg_allowance_open(f->a, "alice", false);
  pass(f, S(100));
  hg_allowance_get(f->a, "alice", &d);
  assert_true(hg_allowance_left(&d, S(7200)) == S(200));
  hg_allowance_close(f->a, "alice");
  assert_int_equal(
      hg_allowance_store_load(f->store, "alice", today(f), &r, &why), 0);
  assert_true(r.spent);
  hg_allowance_record_clear(&r);
  /* Someone else's record under carol's name is refused the same way. */
  write_file(f, today(f), "carol", bobs);
  hg_allowance_get(f->a, "carol", &d);
  assert_true(d.spent);
  assert_true(d.used == 0);
}

static void test_pruning(void **state) {
  Fixture *f = *state;
  int64_t t = today(f);
  static const int offsets[] = {-3, -2, -1, 0, 1, 2, 9};

  for (size_t i = 0; i < G_N_ELEMENTS(offsets); i++) {
    g_autofree char *r = record_text("alice", t + offsets[i], 0);
    write_file(f, t + offsets[i], "alice", r);
  }
  write_file(f, t, ".alice.tmp", "half a record");
  hg_allowance_tick(f->a);
  for (size_t i = 0; i < G_N_ELEMENTS(offsets); i++)
    assert_int_equal(recorded(f, "alice", t + offsets[i]) != HG_USEC_INFINITY,
                     offsets[i] >= -1 && offsets[i] <= 1);
  {
    char date[HG_WALL_DATE_LEN + 1];
    g_autofree char *tmp = NULL;
    hg_wall_date_format(t, date);
    tmp = g_build_filename(f->dir, date, ".alice.tmp", NULL);
    assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
  }
}

static void test_codec(void **state) {
  HgAllowanceRecord r = {.user = (char *)"alice",
                         .day = 19813,
                         .used = S(5400),
                         .granted = S(60),
                         .spent = true,
                         .saved_at = 42,
                         .open = true},
                    back;
  g_autofree char *text = NULL, *why = NULL;
  size_t len;

  memcpy(r.boot_id, BOOT_ID, sizeof(r.boot_id));
  text = hg_allowance_record_encode(&r, &len);
  assert_true(len < 300);
  assert_int_equal(hg_allowance_record_decode(text, len, &back, &why), 0);
  assert_string_equal(back.user, "alice");
  assert_true(back.day == 19813 && back.used == S(5400) &&
              back.granted == S(60) && back.spent && back.open &&
              back.saved_at == 42);
  assert_string_equal(back.boot_id, BOOT_ID);
  hg_allowance_record_clear(&back);
  /* Any byte cut off, or changed, is refused. */
  for (size_t n = 0; n < len; n++) {
    g_clear_pointer(&why, g_free);
    assert_true(hg_allowance_record_decode(text, n, &back, &why) < 0);
    assert_non_null(why);
  }
  text[27] = 'X'; /* in the user's name */
  g_clear_pointer(&why, g_free);
  assert_int_equal(hg_allowance_record_decode(text, len, &back, &why),
                   -EBADMSG);
}

static void test_codec_bounds(void **state) {
  static const char *const bad[] = {
      "USED_USEC=999999999999999", /* more than a week */
      "GRANTED_USEC=999999999999",
      "SPENT=2",
      "OPEN=x",
      "USER=",
      "DAY=2024-02-30",
      "HOURGLASS_ALLOWANCE=2"};
  g_autofree char *good = record_text("alice", 19813, 0);

  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *key = g_strndup(bad[i], strcspn(bad[i], "=") + 1);
    g_auto(GStrv) lines = g_strsplit(good, "\n", -1);
    g_autoptr(GString) body = g_string_new(NULL);
    g_autofree char *sum = NULL, *why = NULL;
    HgAllowanceRecord back;

    for (char **l = lines; *l && **l && !g_str_has_prefix(*l, "CHECKSUM="); l++)
      g_string_append_printf(body, "%s\n",
                             g_str_has_prefix(*l, key) ? bad[i] : *l);
    sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, body->str, -1);
    g_string_append_printf(body, "CHECKSUM=%s\n", sum);
    assert_true(hg_allowance_record_decode(body->str, body->len, &back, &why) <
                0);
  }
}

static void test_file_names(void **state) {
  g_autofree char *a = hg_allowance_store_file_name("alice.b@x-y_z");
  g_autofree char *b = hg_allowance_store_file_name(".hidden/../x y");
  g_autofree char *long_name = g_strnfill(300, 'a');
  g_autofree char *c = hg_allowance_store_file_name(long_name);

  assert_string_equal(a, "alice.b@x-y_z");
  assert_string_equal(b, "%2Ehidden%2F..%2Fx%20y");
  assert_int_equal(strlen(c), 65);
  assert_int_equal(c[0], '~');
}

static void test_memory_only(void **state) {
  TestClock clock;
  g_autoptr(HgAllowance) a = NULL;
  HgAllowanceDay d;

  test_clock_init(&clock, S(10));
  a = hg_allowance_new(&clock.clock, NULL, BOOT_ID);
  hg_allowance_open(a, "alice", false);
  clock.boottime += S(90);
  assert_true(hg_allowance_tick(a) == S(100) + HG_ALLOWANCE_SAVE_INTERVAL);
  hg_allowance_close(a, "alice");
  hg_allowance_get(a, "alice", &d);
  assert_true(d.used == S(90)); /* kept in memory, signed out too */
  assert_true(hg_allowance_tick(a) == HG_USEC_INFINITY);
  /* The next day leaves nothing to keep. */
  clock.realtime_offset += 86400 * HG_USEC_PER_SEC;
  hg_allowance_tick(a);
  hg_allowance_get(a, "alice", &d);
  assert_true(d.used == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_parallel_sessions_count_once, setup,
                                      teardown),
      cmocka_unit_test(test_left),
      cmocka_unit_test_setup_teardown(test_crash_between_writes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_restart_resumes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_midnight_splits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_short_day, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_and_zone_changes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_grant, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pruning, setup, teardown),
      cmocka_unit_test(test_codec),
      cmocka_unit_test(test_codec_bounds),
      cmocka_unit_test(test_file_names),
      cmocka_unit_test(test_memory_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
