/* Whether a person may sign in now, by their rule's opening hours and
 * daily allowance: the one rule behind every refusal at sign-in (the web
 * page's 403, Manager.CheckAccount for pam_hourglass's account phase).
 * Pure: the limits, the person's day (hg-allowance.h), the zone and the
 * wall clock come in. */
#pragma once

#include <glib.h>

#include "hg-allowance.h"
#include "hg-policy.h"

typedef enum {
  HG_ACCESS_ALLOWED,
  HG_ACCESS_CLOSED,         /* outside AllowedHours */
  HG_ACCESS_ALLOWANCE_USED, /* nothing left of DailyAllowanceSec today */
  _HG_ACCESS_MAX,
} HgAccessVerdict;

/* "allowed", "closed", "allowance-used": the web's "error" and the reason
 * CheckAccount returns. */
const char *hg_access_verdict_to_string(HgAccessVerdict v);
/* A sentence for people, in English (the pages have their own words). */
const char *hg_access_explain(HgAccessVerdict v);

typedef struct {
  HgAccessVerdict verdict;
  /* Refused: when the person may sign in again, CLOCK_REALTIME µs. For
   * closed, the opening; for allowance-used, the next day's start or the
   * opening after it. HG_USEC_INFINITY: not in sight. Allowed: 0. */
  hg_usec_t until;
  /* Allowed: the allowance left (infinity: none applies) and when the
   * hours close (CLOCK_REALTIME, infinity: never). */
  hg_usec_t left;
  hg_usec_t closes_at;
} HgAccess;

/* day may be NULL where limits set no allowance. The allowance goes
 * first: a person without time left hears when it renews, whatever the
 * hours. */
void hg_access_check(const HgLimits *limits, const HgAllowanceDay *day,
                     GTimeZone *tz, hg_usec_t now, HgAccess *ret);
