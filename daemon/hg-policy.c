/* The timeout policy: see hg-policy.h and the session rules in
 * docs/ARCHITECTURE.md. */
#include "hg-policy.h"

#include <string.h>

#include "hg-macros.h"

static const char *const state_names[_HG_SESSION_STATE_MAX] = {
    [HG_SESSION_STATE_ACTIVE] = "active",
    [HG_SESSION_STATE_WARNING] = "warning",
    [HG_SESSION_STATE_ENDED] = "ended",
};

static const char *const reason_names[_HG_END_REASON_MAX] = {
    [HG_END_REASON_NONE] = "none",
    [HG_END_REASON_LOGOUT] = "logout",
    [HG_END_REASON_IDLE_TIMEOUT] = "idle-timeout",
    [HG_END_REASON_MAX_AGE] = "max-age",
    [HG_END_REASON_BROWSER_CLOSED] = "browser-closed",
    [HG_END_REASON_TERMINATED] = "terminated",
    [HG_END_REASON_REPLACED] = "replaced",
    [HG_END_REASON_SHUTDOWN] = "shutdown",
};

static int lookup_name(const char *const *names, int n, const char *s) {
  if (!s)
    return -1;
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], s) == 0)
      return i;
  return -1;
}

const char *hg_session_state_to_string(HgSessionState state) {
  if (state < 0 || state >= _HG_SESSION_STATE_MAX)
    return NULL;
  return state_names[state];
}

HgSessionState hg_session_state_from_string(const char *s) {
  return (HgSessionState)lookup_name(state_names, _HG_SESSION_STATE_MAX, s);
}

const char *hg_end_reason_to_string(HgEndReason reason) {
  if (reason < 0 || reason >= _HG_END_REASON_MAX)
    return NULL;
  return reason_names[reason];
}

HgEndReason hg_end_reason_from_string(const char *s) {
  return (HgEndReason)lookup_name(reason_names, _HG_END_REASON_MAX, s);
}

/* Of the ends that have come, the one that came first; at the same instant
 * the absolute limit wins over idleness, and idleness over a closed browser
 * (the reason a person can act on least comes first). */
static HgEndReason first_end(hg_usec_t hard_end, hg_usec_t idle_end,
                             hg_usec_t close_at, hg_usec_t now) {
  HgEndReason reason = HG_END_REASON_NONE;
  hg_usec_t when = HG_USEC_INFINITY;

  if (hard_end <= now) {
    reason = HG_END_REASON_MAX_AGE;
    when = hard_end;
  }
  if (idle_end <= now && idle_end < when) {
    reason = HG_END_REASON_IDLE_TIMEOUT;
    when = idle_end;
  }
  if (close_at <= now && close_at < when)
    reason = HG_END_REASON_BROWSER_CLOSED;
  return reason;
}

void hg_policy_evaluate(const HgLimits *limits, const HgPolicyTimes *times,
                        hg_usec_t now, HgVerdict *ret) {
  hg_usec_t hard_end = HG_USEC_INFINITY, idle_end = HG_USEC_INFINITY;
  hg_usec_t idle_warn = HG_USEC_INFINITY, lead;

  if (limits->max_session > 0)
    hard_end = hg_usec_add(times->created, limits->max_session);
  if (!times->busy) {
    hg_usec_t idle_from = times->last_activity;
    if (times->inhibited)
      idle_from = hg_usec_add(idle_from, limits->inhibit_max);
    idle_end = hg_usec_add(idle_from, limits->expire_after);
    idle_warn = hg_usec_add(idle_from, limits->warn_after);
  }
  lead = hg_usec_sub(limits->expire_after, limits->warn_after);

  *ret = (HgVerdict){
      .expire_at = HG_MIN(idle_end, hard_end),
      .warn_at = HG_MIN(idle_warn, hg_usec_sub(hard_end, lead)),
      .close_at = HG_USEC_INFINITY,
  };
  if (times->watch_liveness && !times->live && limits->close_after > 0)
    ret->close_at = hg_usec_add(times->last_alive, limits->close_after);

  ret->reason = first_end(hard_end, idle_end, ret->close_at, now);
  if (ret->reason != HG_END_REASON_NONE) {
    ret->state = HG_SESSION_STATE_ENDED;
    ret->next_deadline = HG_USEC_INFINITY;
    return;
  }

  ret->next_deadline = HG_MIN(ret->expire_at, ret->close_at);
  if (now >= ret->warn_at) {
    ret->state = HG_SESSION_STATE_WARNING;
  } else {
    ret->state = HG_SESSION_STATE_ACTIVE;
    ret->next_deadline = HG_MIN(ret->next_deadline, ret->warn_at);
  }
}

hg_usec_t hg_policy_inhibit_released(const HgLimits *limits,
                                     hg_usec_t last_activity, hg_usec_t now) {
  hg_usec_t held_to = hg_usec_add(last_activity, limits->inhibit_max);

  return HG_MAX(last_activity, HG_MIN(now, held_to));
}

hg_usec_t hg_policy_activity_time(hg_usec_t last_activity, hg_usec_t now,
                                  int64_t idle_sec) {
  hg_usec_t at = now;

  if (idle_sec > 0)
    at = hg_usec_sub(now, hg_sec_to_usec((uint64_t)idle_sec));
  at = HG_MAX(at, last_activity);
  return HG_MIN(at, now);
}

static const char *const action_names[_HG_DESKTOP_ACTION_MAX] = {
    [HG_DESKTOP_ACTION_TERMINATE] = "terminate",
    [HG_DESKTOP_ACTION_LOCK] = "lock",
    [HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE] = "lock-then-terminate",
};

const char *hg_desktop_action_to_string(HgDesktopAction a) {
  return (unsigned)a < _HG_DESKTOP_ACTION_MAX ? action_names[a] : NULL;
}

int hg_desktop_action_from_string(const char *s) {
  for (int i = 0; s && i < _HG_DESKTOP_ACTION_MAX; i++)
    if (strcmp(action_names[i], s) == 0)
      return i;
  return -1;
}
