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
    [HG_END_REASON_LOCKED_TIMEOUT] = "locked-timeout",
    [HG_END_REASON_ALLOWANCE] = "allowance",
    [HG_END_REASON_CLOSING_TIME] = "closing-time",
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

static const char *const warning_names[_HG_WARNING_MAX] = {
    [HG_WARNING_NONE] = "",
    [HG_WARNING_IDLE] = "idle",
    [HG_WARNING_LIMIT] = "limit",
    [HG_WARNING_LOCKED] = "locked",
    [HG_WARNING_ALLOWANCE] = "allowance",
    [HG_WARNING_CLOSING] = "closing-time",
};

const char *hg_warning_to_string(HgWarning w) {
  return (unsigned)w < _HG_WARNING_MAX ? warning_names[w] : NULL;
}

unsigned hg_limits_warn_before(const HgLimits *limits,
                               hg_usec_t leads[HG_WARN_BEFORE_MAX]) {
  if (limits->n_warn_before == 0) {
    leads[0] = hg_usec_sub(limits->expire_after, limits->warn_after);
    return 1;
  }
  memcpy(leads, limits->warn_before,
         limits->n_warn_before * sizeof(limits->warn_before[0]));
  return limits->n_warn_before;
}

/* What idleness brings: an end or (lock-then-terminate) a lock, and the
 * warning before it. Infinity for what does not come. */
typedef struct {
  hg_usec_t end, lock, warn;
  HgWarning warning;
  HgEndReason reason;
} IdleSide;

static IdleSide idle_side(const HgLimits *limits, const HgPolicyTimes *times) {
  IdleSide side = {HG_USEC_INFINITY, HG_USEC_INFINITY, HG_USEC_INFINITY,
                   HG_WARNING_IDLE, HG_END_REASON_IDLE_TIMEOUT};
  hg_usec_t lead = hg_usec_sub(limits->expire_after, limits->warn_after);
  bool locks = times->lockable &&
               limits->action == HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE;
  hg_usec_t from = times->last_activity;

  if (locks && times->locked_at != 0) {
    /* Locked: nothing done at the lock screen counts, only the unlock. */
    side.end = hg_usec_add(times->locked_at, limits->locked_max);
    side.warn = hg_usec_sub(side.end, lead);
    side.warning = HG_WARNING_LOCKED;
    side.reason = HG_END_REASON_LOCKED_TIMEOUT;
    return side;
  }
  if (times->busy)
    return side;
  if (times->inhibited)
    from = hg_usec_add(from, limits->inhibit_max);
  side.warn = hg_usec_add(from, limits->warn_after);
  if (locks)
    side.lock = hg_usec_add(from, limits->expire_after);
  else
    side.end = hg_usec_add(from, limits->expire_after);
  return side;
}

/* Of the ends that have come, the one that came first; at the same instant
 * the absolute limit wins over idleness, and idleness over a closed browser
 * (the reason a person can act on least comes first). */
static HgEndReason first_end(hg_usec_t hard_end, HgEndReason hard_reason,
                             const IdleSide *idle, hg_usec_t close_at,
                             hg_usec_t now) {
  HgEndReason reason = HG_END_REASON_NONE;
  hg_usec_t when = HG_USEC_INFINITY;

  if (hard_end <= now) {
    reason = hard_reason;
    when = hard_end;
  }
  if (idle->end <= now && idle->end < when) {
    reason = idle->reason;
    when = idle->end;
  }
  if (close_at <= now && close_at < when)
    reason = HG_END_REASON_BROWSER_CLOSED;
  return reason;
}

/* The warnings before the absolute end: how many lead times passed, and
 * the next one to come (infinity: none). Returns when the first starts. */
static hg_usec_t limit_warnings(const HgLimits *limits, hg_usec_t hard_end,
                                hg_usec_t now, HgVerdict *ret,
                                hg_usec_t *ret_next) {
  hg_usec_t leads[HG_WARN_BEFORE_MAX];
  unsigned n = hg_limits_warn_before(limits, leads);

  *ret_next = HG_USEC_INFINITY;
  if (hard_end == HG_USEC_INFINITY)
    return HG_USEC_INFINITY;
  for (unsigned i = 0; i < n; i++) {
    hg_usec_t at = hg_usec_sub(hard_end, leads[i]);
    if (now >= at)
      ret->warn_level++;
    else
      *ret_next = HG_MIN(*ret_next, at);
  }
  return hg_usec_sub(hard_end, leads[0]);
}

static HgWarning limit_warning_of(HgEndReason hard_reason) {
  if (hard_reason == HG_END_REASON_ALLOWANCE)
    return HG_WARNING_ALLOWANCE;
  if (hard_reason == HG_END_REASON_CLOSING_TIME)
    return HG_WARNING_CLOSING;
  return HG_WARNING_LIMIT;
}

/* The first of the fixed ends: the absolute limit, the allowance's end,
 * closing time (0: none). At the same instant closing time wins, then the
 * allowance: the reason a person can act on least. */
static hg_usec_t hard_end_of(const HgLimits *limits, const HgPolicyTimes *t,
                             HgEndReason *ret_reason) {
  hg_usec_t end = HG_USEC_INFINITY;

  *ret_reason = HG_END_REASON_MAX_AGE;
  if (limits->max_session > 0)
    end =
        hg_usec_add(hg_usec_add(t->created, limits->max_session), t->extended);
  if (t->allowance_end && t->allowance_end <= end) {
    end = t->allowance_end;
    *ret_reason = HG_END_REASON_ALLOWANCE;
  }
  if (t->closing_at && t->closing_at <= end) {
    end = t->closing_at;
    *ret_reason = HG_END_REASON_CLOSING_TIME;
  }
  return end;
}

/* Which warning stands at now: of the ends warned of, the first to come. */
static void pick_warning(const IdleSide *idle, hg_usec_t limit_warn,
                         hg_usec_t now, HgVerdict *ret) {
  hg_usec_t idle_target = HG_MIN(idle->end, idle->lock);
  bool idle_warned = now >= idle->warn;
  bool limit_warned = now >= limit_warn;

  if (idle_warned && (idle_target <= ret->hard_end || !limit_warned)) {
    ret->warning = idle->warning;
    ret->warn_until = HG_MIN(idle_target, ret->hard_end);
  } else if (limit_warned) {
    ret->warning = limit_warning_of(ret->hard_reason);
    ret->warn_until = ret->hard_end;
  }
  ret->state = ret->warning != HG_WARNING_NONE ? HG_SESSION_STATE_WARNING
                                               : HG_SESSION_STATE_ACTIVE;
}

void hg_policy_evaluate(const HgLimits *limits, const HgPolicyTimes *times,
                        hg_usec_t now, HgVerdict *ret) {
  IdleSide idle = idle_side(limits, times);
  HgEndReason hard_reason;
  hg_usec_t hard_end = hard_end_of(limits, times, &hard_reason);
  hg_usec_t limit_warn, next_lead;

  *ret = (HgVerdict){
      .hard_end = hard_end,
      .hard_reason = hard_reason,
      .lock_at = idle.lock,
      .close_at = HG_USEC_INFINITY,
  };
  limit_warn = limit_warnings(limits, hard_end, now, ret, &next_lead);
  ret->expire_at = HG_MIN(HG_MIN(idle.end, hard_end),
                          hg_usec_add(idle.lock, limits->locked_max));
  ret->warn_at = HG_MIN(idle.warn, limit_warn);
  if (times->watch_liveness && !times->live && limits->close_after > 0)
    ret->close_at = hg_usec_add(times->last_alive, limits->close_after);

  ret->reason = first_end(hard_end, hard_reason, &idle, ret->close_at, now);
  if (ret->reason != HG_END_REASON_NONE) {
    ret->state = HG_SESSION_STATE_ENDED;
    ret->next_deadline = HG_USEC_INFINITY;
    return;
  }
  pick_warning(&idle, limit_warn, now, ret);
  ret->lock_due = idle.lock <= now;
  ret->next_deadline =
      HG_MIN(HG_MIN(idle.end, idle.lock), HG_MIN(hard_end, ret->close_at));
  ret->next_deadline = HG_MIN(ret->next_deadline, next_lead);
  if (now < idle.warn)
    ret->next_deadline = HG_MIN(ret->next_deadline, idle.warn);
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
