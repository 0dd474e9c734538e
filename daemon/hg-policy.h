/* The timeout policy as a pure function: limits + a session's times + now
 * give its state and its next deadline. No I/O, no clock: everything it
 * needs comes in as arguments, so it is tested exhaustively. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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
  _HG_END_REASON_MAX,
  _HG_END_REASON_INVALID = -1,
} HgEndReason;

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
} HgPolicyTimes;

typedef struct {
  HgSessionState state;
  HgEndReason reason;      /* HG_END_REASON_NONE unless state is ENDED */
  hg_usec_t warn_at;       /* when the warning starts */
  hg_usec_t expire_at;     /* idle or absolute end, whichever comes first */
  hg_usec_t close_at;      /* browser-close end, or infinity */
  hg_usec_t next_deadline; /* when to evaluate again, infinity if ended */
} HgVerdict;

/* The whole policy. The warning also comes ahead of the absolute limit,
 * with the same lead time (expire_after - warn_after): a person is told
 * before any end they can see coming. Activity cannot move that one. */
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
