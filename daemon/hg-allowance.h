/* The daily allowance's ledger: how long each person has been signed in
 * on each local calendar day, counted across all their sessions at once.
 *
 * - Union, not sum: time counts while at least one session of the person
 *   exists. Two sessions side by side for an hour use one hour.
 * - The time is counted on CLOCK_BOOTTIME (it goes on in suspend, and a
 *   clock change cannot add or take any). Which day it belongs to is the
 *   local wall clock's (date and zone as HgClock says): a clock or zone
 *   change moves the day's boundary, never the time used. Time is filed
 *   under the day shown when it is counted, which happens at every call
 *   and at least once a minute; time that straddles a midnight is split
 *   there.
 * - Records (hg-allowance-store.h) are written at most once a minute per
 *   person while they are signed in, and at once when a session ends or
 *   an operator grants time. A crash of the machine loses at most the
 *   last minute of counted use (HG_ALLOWANCE_SAVE_INTERVAL); a restart of
 *   the daemon loses nothing: the sessions it takes back count from the
 *   last record of this boot.
 * - A record that cannot be read, is damaged or is someone else's is
 *   refused with a journal line, and that person's day counts as used up
 *   (spent): a damaged record must never give anyone more time than was
 *   recorded. Time an operator grants that day is still theirs.
 *
 * The ledger does no timing itself: hg_allowance_tick() is called when it
 * says (and at the wall clock's midnight), so unit tests drive it with an
 * injected clock. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hg-allowance-store.h"
#include "hg-clock.h"

#define HG_ALLOWANCE_SAVE_INTERVAL (60 * HG_USEC_PER_SEC)

/* Where a person's day stands. */
typedef struct {
  int64_t day;       /* local days since 1970-01-01 */
  hg_usec_t used;    /* signed in that day, all sessions at once */
  hg_usec_t granted; /* extra time operators gave for that day */
  bool spent;        /* its record was damaged: the allowance counts as
                        used, only granted time is left */
  unsigned n_open;   /* sessions signed in now */
} HgAllowanceDay;

/* What is left of allowance (a rule's DailyAllowanceSec, µs) on d:
 * allowance + granted - used, or for a spent day granted - used; never
 * below 0. */
hg_usec_t hg_allowance_left(const HgAllowanceDay *d, hg_usec_t allowance);

typedef struct HgAllowance HgAllowance;

/* store may be NULL: counted in memory only. boot_id is this boot's (32
 * hex digits), so that records of this boot can be resumed. */
HgAllowance *hg_allowance_new(const HgClock *clock, HgAllowanceStore *store,
                              const char *boot_id);
/* Forgets everything without writing (flush first where that matters).
 * The store stays the caller's. */
HgAllowance *hg_allowance_free(HgAllowance *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgAllowance, hg_allowance_free)

/* A session of user begins. resumed: one taken back after a restart of
 * the daemon; if this boot's last record said a session was open, the
 * time since that record counts too. */
void hg_allowance_open(HgAllowance *a, const char *user, bool resumed);
/* A session of user ends: its time is counted and written at once. */
void hg_allowance_close(HgAllowance *a, const char *user);

/* user's day now (reading the record if the ledger has none in hand). */
void hg_allowance_get(HgAllowance *a, const char *user, HgAllowanceDay *ret);

/* An operator gives user amount more for today (at most a day per call,
 * HG_ALLOWANCE_GRANTED_MAX in all); written at once. 0 with the new day
 * in *ret, -EINVAL for an amount out of bounds, or the store's error (the
 * grant then stands in memory, and is written with the next record). */
int hg_allowance_grant(HgAllowance *a, const char *user, hg_usec_t amount,
                       HgAllowanceDay *ret);

/* Counts every open stretch up to now, moves to the wall clock's day
 * where it changed, and writes what is due. Returns when it should be
 * called next on CLOCK_BOOTTIME (infinity: no one is signed in). */
hg_usec_t hg_allowance_tick(HgAllowance *a);
/* Writes every record now (before the daemon goes). */
void hg_allowance_flush(HgAllowance *a);

/* How many people are signed in (have an open session). */
unsigned hg_allowance_count_open(const HgAllowance *a);
