/* The system clock behind the HgClock interface. */
#include "hg-clock.h"

#include <stdbool.h>
#include <sys/stat.h>

#define LOCALTIME "/etc/localtime"

static hg_usec_t system_now(const HgClock *clock, clockid_t id) {
  return hg_now(id);
}

const HgClock *hg_clock_system(void) {
  static const HgClock system_clock = {.now = system_now};
  return &system_clock;
}

static bool same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The daemon's loop is its only user: one cache, no lock. GLib keeps its
 * own zone for /etc/localtime by the name the link points to; dropping
 * ours before asking again lets it read a changed file. */
static GTimeZone *system_zone(void) {
  static GTimeZone *cached;
  static struct stat seen;
  struct stat st = {0};

  if (stat(LOCALTIME, &st) < 0)
    st = (struct stat){0};
  if (!cached || !same_file(&st, &seen)) {
    g_clear_pointer(&cached, g_time_zone_unref);
    cached = g_time_zone_new_identifier(NULL);
    if (!cached)
      cached = g_time_zone_new_utc();
    seen = st;
  }
  return g_time_zone_ref(cached);
}

GTimeZone *hg_clock_zone(const HgClock *c) {
  GTimeZone *tz = c->zone ? c->zone(c) : system_zone();

  return tz ? tz : g_time_zone_new_utc();
}

hg_usec_t hg_clock_to_realtime(const HgClock *c, hg_usec_t boottime) {
  hg_usec_t boot_now, real_now;

  if (boottime == HG_USEC_INFINITY)
    return HG_USEC_INFINITY;
  boot_now = c->now(c, CLOCK_BOOTTIME);
  real_now = c->now(c, CLOCK_REALTIME);
  if (boottime <= boot_now)
    return hg_usec_sub(real_now, boot_now - boottime);
  return hg_usec_add(real_now, boottime - boot_now);
}

hg_usec_t hg_clock_to_boottime(const HgClock *c, hg_usec_t realtime) {
  hg_usec_t boot_now, real_now;

  if (realtime == HG_USEC_INFINITY)
    return HG_USEC_INFINITY;
  boot_now = c->now(c, CLOCK_BOOTTIME);
  real_now = c->now(c, CLOCK_REALTIME);
  if (realtime <= real_now)
    return hg_usec_sub(boot_now, real_now - realtime);
  return hg_usec_add(boot_now, realtime - real_now);
}
