/* The system clock behind the HgClock interface. */
#include "hg-clock.h"

#include <stdbool.h>
#include <stdlib.h>
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

/* The zone of $TZ when set (it does not change under a running process),
 * else of /etc/localtime, read again whenever that file changes. GLib
 * keeps a zone per name only while someone holds it: dropping ours
 * before asking again makes it read the changed file. The daemon's loop
 * is the only user: one cache, no lock. */
static GTimeZone *system_zone(void) {
  static GTimeZone *cached;
  static struct stat seen;
  static char *seen_tz;
  const char *tz = getenv("TZ");
  struct stat st = {0};

  if (tz && *tz) {
    if (!cached || g_strcmp0(tz, seen_tz) != 0) {
      g_clear_pointer(&cached, g_time_zone_unref);
      g_free(seen_tz);
      seen_tz = g_strdup(tz);
      cached = g_time_zone_new_identifier(tz);
    }
  } else {
    if (stat(LOCALTIME, &st) < 0)
      st = (struct stat){0};
    if (!cached || seen_tz || !same_file(&st, &seen)) {
      g_clear_pointer(&cached, g_time_zone_unref);
      g_clear_pointer(&seen_tz, g_free);
      cached = g_time_zone_new_identifier(LOCALTIME);
      seen = st;
    }
  }
  if (!cached)
    cached = g_time_zone_new_utc();
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
