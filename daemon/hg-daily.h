/* The day's limits in the daemon's loop: the allowance ledger
 * (hg-allowance.h) counts every session's user, and each session's
 * allowance end and closing time (hg-schedule.h) go to the registry as
 * its day ends (hg_registry_set_day_ends). They are worked out again at
 * the wall clock's midnight, when the clock is set (hg-clock-watch.h),
 * once a minute while anyone is signed in (which also catches a change of
 * /etc/localtime), at a grant and at a reload.
 *
 * The allowance's end of a session is now + what is left today; when that
 * reaches past the next local midnight, the new day's allowance counts on
 * from there. Because time counts once for all of a person's sessions, a
 * second session's start or end moves no one's end: every session of the
 * person ends at the same instant.
 *
 * Also the checks the fronts make before a sign-in (hg-access.h). Records
 * are written only while some rule sets DailyAllowanceSec. */
#pragma once

#include <systemd/sd-event.h>

#include "hg-access.h"
#include "hg-config.h"
#include "hg-registry.h"

typedef struct HgDaily HgDaily;

/* dir: the allowance records' directory (hg_allowance_store_default_dir),
 * NULL: counted in memory only. The registry's clock is the clock. */
int hg_daily_new(sd_event *event, HgRegistry *reg, const char *dir,
                 HgDaily **ret);
/* Writes what waits for its minute first. */
HgDaily *hg_daily_free(HgDaily *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgDaily, hg_daily_free)

/* The configuration in use (borrowed until the next call): call it before
 * hg_registry_set_limits(), which asks every session's day ends again. */
void hg_daily_set_config(HgDaily *d, const HgConfig *config);

/* The wall clock or the zone changed: every day end again, now. */
void hg_daily_clock_changed(HgDaily *d);

/* May user sign in now under limits (their rule's)? */
void hg_daily_check(HgDaily *d, const char *user, const HgLimits *limits,
                    HgAccess *ret);
/* Closed under every rule and the fallback: no one may sign in now,
 * whoever they are. *ret_opens_at: the first opening of any of them
 * (CLOCK_REALTIME). */
bool hg_daily_closed_for_all(HgDaily *d, hg_usec_t *ret_opens_at);

/* user's day now: used, granted, sessions open. */
void hg_daily_get(HgDaily *d, const char *user, HgAllowanceDay *ret);
/* An operator gives user amount more for today (hg_allowance_grant); the
 * user's sessions' ends move at once. The caller logs who did it. */
int hg_daily_grant(HgDaily *d, const char *user, hg_usec_t amount,
                   HgAllowanceDay *ret);

/* Writes every record now (before the daemon goes). */
void hg_daily_flush(HgDaily *d);
