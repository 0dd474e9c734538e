/* The system clock behind the HgClock interface. */
#include "hg-clock.h"

static hg_usec_t system_now(const HgClock *clock, clockid_t id) {
  return hg_now(id);
}

const HgClock *hg_clock_system(void) {
  static const HgClock system_clock = {.now = system_now};
  return &system_clock;
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
