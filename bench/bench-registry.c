/* Benchmark (not a test): memory per session and the cost of an activity
 * update in the registry, for 10,000 and 100,000 sessions. Prints figures. */
#include <malloc.h>
#include <stdio.h>
#include <time.h>

#include <glib.h>

#include "hg-registry.h"

typedef struct {
  HgClock clock;
  hg_usec_t now;
} BenchClock;

static hg_usec_t bench_now(const HgClock *c, clockid_t id) {
  return ((const BenchClock *)c)->now;
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static void run(unsigned n, unsigned updates) {
  static const HgLimits limits = {540 * HG_USEC_PER_SEC, 600 * HG_USEC_PER_SEC,
                                  28800 * HG_USEC_PER_SEC,
                                  30 * HG_USEC_PER_SEC};
  BenchClock clock = {.clock = {.now = bench_now}, .now = HG_USEC_PER_SEC};
  g_autoptr(GRand) rand = g_rand_new_with_seed(7);
  HgSession **sessions = g_new(HgSession *, n);
  size_t before, after;
  HgRegistry *reg;
  double t0, t_create, t_update, t_lookup;
  uint8_t hash[HG_TOKEN_HASH_LEN];

  before = heap_in_use();
  reg = hg_registry_new(&clock.clock, &limits);
  t0 = seconds();
  for (unsigned i = 0; i < n; i++) {
    for (size_t k = 0; k < sizeof(hash); k++)
      hash[k] = (uint8_t)g_rand_int(rand);
    clock.now += 10;
    hg_registry_create(
        reg,
        &(HgSessionInit){HG_SESSION_SOURCE_WEB, "benchmark-user", 1000, hash},
        &sessions[i]);
    hg_registry_hold(reg, sessions[i]);
  }
  t_create = seconds() - t0;
  after = heap_in_use();

  /* A ping: sign of life + activity dated by a random idle time. */
  t0 = seconds();
  for (unsigned i = 0; i < updates; i++) {
    clock.now += 1;
    hg_registry_touch(reg, sessions[g_rand_int_range(rand, 0, n)],
                      HG_TOUCH_ALIVE | HG_TOUCH_ACTIVITY,
                      g_rand_int_range(rand, 0, 30));
  }
  t_update = seconds() - t0;

  t0 = seconds();
  for (unsigned i = 0; i < updates; i++)
    (void)hg_registry_lookup(reg, hg_session_get_id(sessions[i % n]));
  t_lookup = seconds() - t0;

  printf("%7u sessions: %6.0f bytes/session, create %6.0f ns, "
         "activity update %5.0f ns, lookup by id %4.0f ns\n",
         n, (double)(after - before) / n, t_create / n * 1e9,
         t_update / updates * 1e9, t_lookup / updates * 1e9);

  hg_registry_free(reg);
  g_free(sessions);
}

int main(void) {
  printf("hourglass registry benchmark (one core, %s build)\n",
#ifdef NDEBUG
         "release"
#else
         "debug-assertions"
#endif
  );
  run(10000, 1000000);
  run(100000, 1000000);
  return 0;
}
