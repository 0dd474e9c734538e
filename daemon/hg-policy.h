/* The timeout policy as a pure function: limits + a session's times + now
 * give its state and its next deadline. No I/O, no clock: everything it
 * needs comes in as arguments, so it is tested exhaustively. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hg-schedule.h"
#include "hg-time.h"

typedef enum {
  HG_SESSION_STATE_ACTIVE,
  HG_SESSION_STATE_WARNING,
  HG_SESSION_STATE_ENDED,
  _HG_SESSION_STATE_MAX,
  _HG_SESSION_STATE_INVALID = -1,
} HgSessionState;

typedef enum {
  HG_END_REASON_NONE,
  HG_END_REASON_LOGOUT,
  HG_END_REASON_IDLE_TIMEOUT,
  HG_END_REASON_MAX_AGE,
  HG_END_REASON_BROWSER_CLOSED,
  HG_END_REASON_TERMINATED,
  HG_END_REASON_REPLACED,
  HG_END_REASON_SHUTDOWN,
  HG_END_REASON_LOCKED_TIMEOUT, /* lock-then-terminate: still locked */
  HG_END_REASON_ALLOWANCE,      /* the day's allowance (DailyAllowanceSec) */
  HG_END_REASON_CLOSING_TIME,   /* the opening hours (AllowedHours) end */
  _HG_END_REASON_MAX,
  _HG_END_REASON_INVALID = -1,
} HgEndReason;

/* What a warning is of: what comes at its end, and what helps. */
typedef enum {
  HG_WARNING_NONE,
  HG_WARNING_IDLE,   /* the idle limit (an end, or the lock): activity helps */
  HG_WARNING_LIMIT,  /* the absolute limit: only more time moves it */
  HG_WARNING_LOCKED, /* locked by hourglass: the end, unless unlocked */
  HG_WARNING_ALLOWANCE, /* the day's allowance runs out: nothing helps but
                           an operator's grant */
  HG_WARNING_CLOSING,   /* closing time: nothing helps */
  _HG_WARNING_MAX,
} HgWarning;

/* "", "idle", "limit", "locked", "allowance", "closing-time". */
const char *hg_warning_to_string(HgWarning w);

const char *hg_session_state_to_string(HgSessionState state);
HgSessionState hg_session_state_from_string(const char *s);
const char *hg_end_reason_to_string(HgEndReason reason);
HgEndReason hg_end_reason_from_string(const char *s);

/* What happens to a desktop session at its end. */
typedef enum {
  HG_DESKTOP_ACTION_TERMINATE,
  HG_DESKTOP_ACTION_LOCK,
  HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE, /* locked, then ended LockedMaxSec
                                            later if still locked */
  _HG_DESKTOP_ACTION_MAX,
} HgDesktopAction;

const char *hg_desktop_action_to_string(HgDesktopAction a);
/* An HgDesktopAction, or -1. */
int hg_desktop_action_from_string(const char *s);

#define HG_WARN_BEFORE_MAX 8

/* All in µs. warn_after < expire_after is the configuration's invariant.
 * The first five are the policy's; the rest say what the fronts do at an
 * end (action, locked_max) and how much more time a person may ask for. */
typedef struct {
  hg_usec_t warn_after;
  hg_usec_t expire_after;
  hg_usec_t max_session; /* 0: no absolute limit */
  hg_usec_t close_after; /* 0: browser close never ends a session */
  hg_usec_t inhibit_max; /* how long an idle lock may stand for activity */
  HgDesktopAction action;
  hg_usec_t locked_max;    /* lock-then-terminate */
  hg_usec_t extend_by;     /* 0: a person cannot extend */
  unsigned max_extensions; /* of extend_by each */
  /* Lead times of the warnings before the absolute end, longest first;
   * none: one, expire_after - warn_after before it. */
  unsigned n_warn_before;
  hg_usec_t warn_before[HG_WARN_BEFORE_MAX];
  /* Who may use the machine how long a day, and when (the registry turns
   * them into allowance_end and closing_at of HgPolicyTimes). */
  hg_usec_t daily_allowance; /* 0: no allowance */
  HgSchedule hours;          /* AllowedHours; no span: always */
} HgLimits;

/* A session's times on CLOCK_BOOTTIME. */
typedef struct {
  hg_usec_t created;
  hg_usec_t last_activity; /* >= created */
  hg_usec_t last_alive;    /* last sign of life, >= created */
  bool live;           /* an open event stream holds the session alive now */
  bool busy;           /* the desktop reports input: no idle deadlines */
  bool inhibited;      /* an idle lock is held: activity, up to inhibit_max */
  bool watch_liveness; /* web sessions: the browser-close rule applies */
  bool lockable;       /* desktop sessions: lock-then-terminate applies */
  hg_usec_t locked_at; /* when hourglass locked it, 0: it did not */
  hg_usec_t extended;  /* more time the person was given on max_session */
  unsigned n_extended; /* in how many extensions */
  /* The ends the day brings, worked out outside the policy (the allowance
   * ledger, the opening hours on the wall clock) and handed in: 0 for
   * none. */
  hg_usec_t allowance_end; /* the day's allowance is used up */
  hg_usec_t closing_at;    /* AllowedHours close */
} HgPolicyTimes;

typedef struct {
  HgSessionState state;
  HgEndReason reason;      /* HG_END_REASON_NONE unless state is ENDED */
  hg_usec_t warn_at;       /* when the (first) warning starts */
  hg_usec_t expire_at;     /* when it ends without activity (the lock and
                              LockedMaxSec after it included) */
  hg_usec_t close_at;      /* browser-close end, or infinity */
  hg_usec_t next_deadline; /* when to evaluate again, infinity if ended */
  HgWarning warning;       /* state WARNING: of what; else NONE */
  hg_usec_t warn_until;    /* state WARNING: when what it warns of comes */
  hg_usec_t hard_end;      /* the first fixed end: the absolute limit
                              (extensions included), the allowance's end
                              or closing time */
  HgEndReason hard_reason; /* which: MAX_AGE, ALLOWANCE or CLOSING_TIME */
  hg_usec_t lock_at;       /* lock-then-terminate: when the lock comes */
  unsigned warn_level;     /* how many lead times before hard_end passed */
  bool lock_due;           /* lock_at has come: lock it (locked_at), then
                              judge again */
} HgVerdict;

/* The lead times of the warnings before the absolute end, longest first:
 * WarnBeforeSec, or the idle warning's (expire_after - warn_after). */
unsigned hg_limits_warn_before(const HgLimits *limits,
                               hg_usec_t leads[HG_WARN_BEFORE_MAX]);

/* The whole policy. Warnings also come ahead of the absolute limit, at
 * each lead time: a person is told before any end they can see coming.
 * The day's ends (allowance_end, closing_at) count as absolute limits: the
 * first of the three is hard_end, warned at the same lead times, and at
 * the same instant closing time comes before the allowance, which comes
 * before max-age (the reason a person can act on least comes first).
 * Activity cannot move those. A lock-then-terminate session reaches its
 * idle limit as a lock (lock_due), not an end; locked, only the unlock
 * (which clears locked_at) and the absolute limit count, and it ends
 * LockedMaxSec after the lock, warned with the idle warning's lead. */
void hg_policy_evaluate(const HgLimits *limits, const HgPolicyTimes *times,
                        hg_usec_t now, HgVerdict *ret);

/* An idle lock (a video playing) stands for activity while it is held, at
 * most inhibit_max past the last activity: the idle time counts from
 * last_activity + inhibit_max. When it is released at now, the time it
 * stood for is the session's last activity. */
hg_usec_t hg_policy_inhibit_released(const HgLimits *limits,
                                     hg_usec_t last_activity, hg_usec_t now);

/* When a report "idle for idle_sec seconds" dates the activity: now minus
 * the idle time, never before the last known activity, never in the future
 * (a negative idle counts as 0). */
hg_usec_t hg_policy_activity_time(hg_usec_t last_activity, hg_usec_t now,
                                  int64_t idle_sec);
