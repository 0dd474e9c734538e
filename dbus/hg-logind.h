/* A watcher of logind on the system bus: the active session of one seat,
 * and any session asked for, through PropertiesChanged (IdleHint,
 * IdleSinceHint, LockedHint), SessionRemoved and logind coming and going.
 * All calls are asynchronous: nothing here blocks the loop. Times reach
 * the callbacks on CLOCK_BOOTTIME (IdleSinceHint is wall-clock; its
 * monotonic twin stops in suspend). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "hg-clock.h"

typedef struct HgLogind HgLogind;

typedef struct {
  /* A watched session's idleness, when it changes or is first read;
   * idle_since 0 when logind has none (its IdleSinceHint is 0). */
  void (*idle)(HgLogind *l, const char *logind_id, bool idle,
               hg_usec_t idle_since, void *userdata);
  /* A watched session was locked or unlocked. */
  void (*locked)(HgLogind *l, const char *logind_id, bool locked,
                 void *userdata);
  /* A watched session is gone. */
  void (*removed)(HgLogind *l, const char *logind_id, void *userdata);
  /* The seat's active session changed; NULL for none. */
  void (*seat_active)(HgLogind *l, const char *logind_id, void *userdata);
} HgLogindCallbacks;

int hg_logind_new(sd_bus *bus, const HgClock *clock, const char *seat,
                  const HgLogindCallbacks *cb, void *userdata, HgLogind **ret);
HgLogind *hg_logind_free(HgLogind *l);

/* Follows a session (its idle and locked hints, its removal). */
void hg_logind_watch(HgLogind *l, const char *logind_id);
void hg_logind_unwatch(HgLogind *l, const char *logind_id);

/* What logind said last of a watched session's idleness: false while
 * unknown. */
bool hg_logind_get_idle(HgLogind *l, const char *logind_id, bool *ret_idle,
                        hg_usec_t *ret_since);

/* Asks logind to end or to lock a session; failures are logged. */
void hg_logind_terminate(HgLogind *l, const char *logind_id);
void hg_logind_lock(HgLogind *l, const char *logind_id);

/* A logind wall-clock time (µs since the epoch) on CLOCK_BOOTTIME,
 * never in the future. */
hg_usec_t hg_logind_realtime_to_boottime(const HgClock *clock,
                                         uint64_t realtime);
