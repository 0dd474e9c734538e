/* Benchmark (not a test): the allowance's records for N people signed in
 * for an hour, ticked as the daemon ticks the ledger (whenever it asks),
 * each signing out and in again once in that hour. Prints the record's
 * size, the writes per hour and what they cost on this disk (every write
 * is a temporary file, two fsyncs and a rename). The hour passes on an
 * injected clock; the writes are real.
 *
 *   build/bench/bench-allowance [PEOPLE [DIRECTORY]]   (100, a fresh one
 *   under $TMPDIR, removed after) */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hg-allowance.h"
#include "hg-macros.h"
#include "hg-wall.h"

#define HOUR ((hg_usec_t)3600 * HG_USEC_PER_SEC)

typedef struct {
  HgClock clock;
  hg_usec_t boot;
} BenchClock;

static hg_usec_t bench_now(const HgClock *c, clockid_t id) {
  const BenchClock *b = (const BenchClock *)c;
  /* Monday 2024-03-04 10:00 UTC at boot time 1000 s. */
  return id == CLOCK_REALTIME ? b->boot + 1709546400ULL * HG_USEC_PER_SEC
                              : b->boot;
}

static GTimeZone *bench_zone(const HgClock *c) { return g_time_zone_new_utc(); }

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

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

static size_t record_size(const char *dir) {
  char date[HG_WALL_DATE_LEN + 1];
  g_autofree char *path = NULL;
  GStatBuf st;

  hg_wall_date_format(19786, date); /* 2024-03-04 */
  path = g_build_filename(dir, date, "user0", NULL);
  return g_stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

int main(int argc, char **argv) {
  unsigned people = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
  g_autofree char *tmp =
      argc > 2 ? NULL : g_dir_make_tmp("hg-bench-XXXXXX", NULL);
  g_autofree char *dir =
      g_build_filename(argc > 2 ? argv[2] : tmp, "allowance", NULL);
  BenchClock clock = {.clock = {.now = bench_now, .zone = bench_zone},
                      .boot = 1000 * HG_USEC_PER_SEC};
  g_autoptr(HgAllowanceStore) store = NULL;
  g_autoptr(HgAllowance) a = NULL;
  hg_usec_t end, due;
  double busy = 0, t0;
  unsigned ticks = 0;
  bool flipped = false;

  if (people == 0 || people > 100000 ||
      hg_allowance_store_new(dir, &store) < 0) {
    fprintf(stderr, "usage: bench-allowance [PEOPLE [DIRECTORY]]\n");
    return 2;
  }
  a = hg_allowance_new(&clock.clock, store, "0123456789abcdef0123456789abcdef");
  /* They sign in over the first minute. */
  for (unsigned i = 0; i < people; i++) {
    g_autofree char *user = g_strdup_printf("user%u", i);
    clock.boot += 60 * HG_USEC_PER_SEC / people;
    hg_allowance_open(a, user, false);
  }
  end = clock.boot + HOUR;
  due = hg_allowance_tick(a);
  while (clock.boot < end) {
    clock.boot = HG_MIN(due, end);
    /* Half-way, each signs out and in again: a session's end writes. */
    if (!flipped && clock.boot >= end - HOUR / 2) {
      flipped = true;
      for (unsigned i = 0; i < people; i++) {
        g_autofree char *user = g_strdup_printf("user%u", i);
        hg_allowance_close(a, user);
        hg_allowance_open(a, user, false);
      }
    }
    t0 = seconds();
    due = hg_allowance_tick(a);
    busy += seconds() - t0;
    ticks++;
  }
  printf("people signed in for an hour: %u (each signs out and in once)\n",
         people);
  printf("record size: %zu bytes\n", record_size(dir));
  printf("writes in the hour: %" G_GUINT64_FORMAT " (%u ticks), %.1f per "
         "person\n",
         hg_allowance_store_writes(store), ticks,
         (double)hg_allowance_store_writes(store) / people);
  printf("time writing in the ticks: %.3f s, %.2f ms per write\n", busy,
         1000 * busy / (double)hg_allowance_store_writes(store));
  if (tmp)
    remove_tree(tmp);
  return 0;
}
