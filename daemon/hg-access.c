/* Sign-in by the hours and the allowance; see hg-access.h. */
#include "hg-access.h"

#include "hg-macros.h"
#include "hg-wall.h"

static const char *const verdict_names[_HG_ACCESS_MAX] = {
    [HG_ACCESS_ALLOWED] = "allowed",
    [HG_ACCESS_CLOSED] = "closed",
    [HG_ACCESS_ALLOWANCE_USED] = "allowance-used",
};

const char *hg_access_verdict_to_string(HgAccessVerdict v) {
  return (unsigned)v < _HG_ACCESS_MAX ? verdict_names[v] : NULL;
}

const char *hg_access_explain(HgAccessVerdict v) {
  switch (v) {
  case HG_ACCESS_ALLOWED:
    return "Sign-in is allowed";
  case HG_ACCESS_CLOSED:
    return "This computer cannot be used outside its opening hours";
  case HG_ACCESS_ALLOWANCE_USED:
    return "Today's time on the computers is used up";
  case _HG_ACCESS_MAX:
    break;
  }
  return NULL;
}

void hg_access_check(const HgLimits *limits, const HgAllowanceDay *day,
                     GTimeZone *tz, hg_usec_t now, HgAccess *ret) {
  const HgSchedule *hours = &limits->hours;

  *ret = (HgAccess){.verdict = HG_ACCESS_ALLOWED};
  ret->left = HG_USEC_INFINITY;
  if (limits->daily_allowance > 0 && day)
    ret->left = hg_allowance_left(day, limits->daily_allowance);
  if (ret->left == 0) {
    ret->verdict = HG_ACCESS_ALLOWANCE_USED;
    ret->until = hg_schedule_next_open(hours, tz, hg_wall_next_day(tz, now));
    return;
  }
  if (!hg_schedule_is_open(hours, tz, now)) {
    ret->verdict = HG_ACCESS_CLOSED;
    ret->until = hg_schedule_next_open(hours, tz, now);
    ret->left = 0;
    return;
  }
  ret->closes_at = hg_schedule_next_close(hours, tz, now);
}
