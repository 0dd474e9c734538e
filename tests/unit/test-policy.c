/* The timeout policy, case by case: every session rule of
 * docs/ARCHITECTURE.md and its edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <glib.h>

#include "hg-policy.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)
#define INF HG_USEC_INFINITY

/* warn 540, expire 600, max 8 h, close 30: the contract's defaults. */
static const HgLimits defaults = {S(540), S(600), S(28800), S(30)};
static const HgLimits no_max = {S(540), S(600), 0, S(30)};
static const HgLimits no_close = {S(540), S(600), S(28800), 0};
/* Idle locks count for at most an hour past the last input. */
static const HgLimits inhibit_hour = {S(540), S(600), S(28800), S(30), S(3600)};

typedef struct {
  const char *name;
  const HgLimits *limits;
  HgPolicyTimes times;
  hg_usec_t now;
  HgSessionState state;
  HgEndReason reason;
  hg_usec_t next_deadline;
} Case;

/* Times relative to a session created at 1000 s; web sessions watch
 * liveness, "live" means an event stream is open. */
#define WEB(act, alive, is_live)                                               \
  {                                                                            \
    .created = S(1000), .last_activity = (act), .last_alive = (alive),         \
    .live = (is_live), .watch_liveness = true                                  \
  }
#define DESK(act, is_busy)                                                     \
  {                                                                            \
    .created = S(1000), .last_activity = (act), .last_alive = S(1000),         \
    .busy = (is_busy)                                                          \
  }
#define INHIBITED(act)                                                         \
  {                                                                            \
    .created = S(1000), .last_activity = (act), .last_alive = S(1000),         \
    .inhibited = true                                                          \
  }

static const Case cases[] = {
    {"fresh session is active, next deadline is the warning", &defaults,
     WEB(S(1000), S(1000), true), S(1000), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(1540)},
    {"one microsecond before the warning", &defaults,
     WEB(S(1000), S(1000), true), S(1540) - 1, HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(1540)},
    {"exactly at the warning instant", &defaults, WEB(S(1000), S(1000), true),
     S(1540), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE, S(1600)},
    {"one microsecond before expiry", &defaults, WEB(S(1000), S(1000), true),
     S(1600) - 1, HG_SESSION_STATE_WARNING, HG_END_REASON_NONE, S(1600)},
    {"exactly at the expiry instant", &defaults, WEB(S(1000), S(1000), true),
     S(1600), HG_SESSION_STATE_ENDED, HG_END_REASON_IDLE_TIMEOUT, INF},
    {"long after expiry", &defaults, WEB(S(1000), S(1000), true), S(99999),
     HG_SESSION_STATE_ENDED, HG_END_REASON_IDLE_TIMEOUT, INF},
    {"activity moves the warning", &defaults, WEB(S(1200), S(1200), true),
     S(1600), HG_SESSION_STATE_ACTIVE, HG_END_REASON_NONE, S(1740)},
    {"activity during the warning returns to active", &defaults,
     WEB(S(1590), S(1590), true), S(1590), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(2130)},
    {"absolute limit beats recent activity", &defaults,
     WEB(S(29799), S(29799), true), S(29800), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF},
    {"absolute limit exactly when idle expiry also falls", &defaults,
     WEB(S(29200), S(29200), true), S(29800), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF},
    {"warning ahead of the absolute limit with the same lead", &defaults,
     WEB(S(29700), S(29700), true), S(29740), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(29800)},
    {"just before the absolute-limit warning", &defaults,
     WEB(S(29700), S(29700), true), S(29740) - 1, HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(29740)},
    {"no absolute limit: only idleness ends it", &no_max,
     WEB(S(900000), S(900000), true), S(900599), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(900600)},
    {"closed browser: grace counted from login", &defaults,
     WEB(S(1000), S(1000), false), S(1030), HG_SESSION_STATE_ENDED,
     HG_END_REASON_BROWSER_CLOSED, INF},
    {"closed browser: next deadline is the grace", &defaults,
     WEB(S(1000), S(1000), false), S(1010), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(1030)},
    {"closed browser: a recent request keeps it", &defaults,
     WEB(S(1000), S(1100), false), S(1129), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(1130)},
    {"closed browser: liveness lapses one grace after the last request",
     &defaults, WEB(S(1000), S(1100), false), S(1130), HG_SESSION_STATE_ENDED,
     HG_END_REASON_BROWSER_CLOSED, INF},
    {"an open stream keeps the page live however old the last request",
     &defaults, WEB(S(1500), S(1000), true), S(1700), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(2040)},
    {"browser-close rule off", &no_close, WEB(S(1000), S(1000), false), S(1100),
     HG_SESSION_STATE_ACTIVE, HG_END_REASON_NONE, S(1540)},
    {"idle expiry before the close grace names idleness", &defaults,
     WEB(S(1000), S(1590), false), S(1620), HG_SESSION_STATE_ENDED,
     HG_END_REASON_IDLE_TIMEOUT, INF},
    {"close grace before idle expiry names the close", &defaults,
     WEB(S(1000), S(1500), false), S(1600), HG_SESSION_STATE_ENDED,
     HG_END_REASON_BROWSER_CLOSED, INF},
    {"close grace and idle expiry at the same instant: idleness", &defaults,
     WEB(S(1000), S(1570), false), S(1600), HG_SESSION_STATE_ENDED,
     HG_END_REASON_IDLE_TIMEOUT, INF},
    {"warning while the close grace runs", &defaults,
     WEB(S(1000), S(1530), false), S(1545), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(1560)},
    {"desktop busy: only the absolute limit runs", &defaults,
     DESK(S(1000), true), S(20000), HG_SESSION_STATE_ACTIVE, HG_END_REASON_NONE,
     S(29740)},
    {"desktop busy: warned before the absolute limit", &defaults,
     DESK(S(1000), true), S(29750), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(29800)},
    {"desktop busy: ended by the absolute limit", &defaults,
     DESK(S(1000), true), S(29800), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF},
    {"desktop busy without absolute limit never ends", &no_max,
     DESK(S(1000), true), S(999999), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, INF},
    {"desktop idle: usual idle rules, no close rule", &defaults,
     DESK(S(5000), false), S(5600), HG_SESSION_STATE_ENDED,
     HG_END_REASON_IDLE_TIMEOUT, INF},
    {"desktop idle: liveness ignored", &defaults, DESK(S(5000), false), S(5100),
     HG_SESSION_STATE_ACTIVE, HG_END_REASON_NONE, S(5540)},
    {"idle lock: idleness starts InhibitMaxSec after the last input",
     &inhibit_hour, INHIBITED(S(1000)), S(4000), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(5140)},
    {"idle lock: warned WarnAfterSec into that idleness", &inhibit_hour,
     INHIBITED(S(1000)), S(5140), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE,
     S(5200)},
    {"idle lock: and no longer", &inhibit_hour, INHIBITED(S(1000)), S(5200),
     HG_SESSION_STATE_ENDED, HG_END_REASON_IDLE_TIMEOUT, INF},
    {"idle lock with InhibitMaxSec=0 counts for nothing", &defaults,
     INHIBITED(S(1000)), S(1540), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE,
     S(1600)},
    {"idle lock never moves the absolute limit", &inhibit_hour,
     INHIBITED(S(29000)), S(29800), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF},
};

/* The stages: lock-then-terminate, the warnings before the absolute limit
 * at several lead times, more time given. */
static const HgLimits lock_20min = {
    .warn_after = S(540),
    .expire_after = S(600),
    .max_session = S(28800),
    .action = HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE,
    .locked_max = S(1200),
};
static const HgLimits lead_600_60 = {
    .warn_after = S(540),
    .expire_after = S(600),
    .max_session = S(3600),
    .n_warn_before = 2,
    .warn_before = {S(600), S(60)},
};

#define LOCKABLE(act, locked)                                                  \
  {                                                                            \
    .created = S(1000), .last_activity = (act), .last_alive = S(1000),         \
    .lockable = true, .locked_at = (locked)                                    \
  }
#define BUSY_EXTENDED(ext, n)                                                  \
  {                                                                            \
    .created = S(1000), .last_activity = S(1000), .last_alive = S(1000),       \
    .busy = true, .extended = (ext), .n_extended = (n)                         \
  }

typedef struct {
  const char *name;
  const HgLimits *limits;
  HgPolicyTimes times;
  hg_usec_t now;
  HgSessionState state;
  HgEndReason reason;
  hg_usec_t next_deadline;
  HgWarning warning;
  hg_usec_t warn_until;
  unsigned warn_level;
  bool lock_due;
} StageCase;

static const StageCase stage_cases[] = {
    {"lock-then-terminate: warned of the lock", &lock_20min,
     LOCKABLE(S(1000), 0), S(1540), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(1600), HG_WARNING_IDLE, S(1600), 0, false},
    {"lock-then-terminate: the idle limit is a lock, not an end", &lock_20min,
     LOCKABLE(S(1000), 0), S(1600), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(1600), HG_WARNING_IDLE, S(1600), 0, true},
    {"locked: active until the lead before the end", &lock_20min,
     LOCKABLE(S(1000), S(1600)), S(1700), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(2740), HG_WARNING_NONE, 0, 0, false},
    {"locked: activity before the lock does not count", &lock_20min,
     LOCKABLE(S(2000), S(1600)), S(2740), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(2800), HG_WARNING_LOCKED, S(2800), 0, false},
    {"locked LockedMaxSec: ended", &lock_20min, LOCKABLE(S(1000), S(1600)),
     S(2800), HG_SESSION_STATE_ENDED, HG_END_REASON_LOCKED_TIMEOUT, INF,
     HG_WARNING_NONE, 0, 0, false},
    {"locked: the absolute limit still ends it", &lock_20min,
     LOCKABLE(S(29000), S(29500)), S(29800), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF, HG_WARNING_NONE, 0, 0, false},
    {"terminate: a lockable session's idle limit is an end", &defaults,
     LOCKABLE(S(1000), 0), S(1600), HG_SESSION_STATE_ENDED,
     HG_END_REASON_IDLE_TIMEOUT, INF, HG_WARNING_NONE, 0, 0, false},
    {"600 s before the limit: the first warning", &lead_600_60,
     BUSY_EXTENDED(0, 0), S(4000), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE,
     S(4540), HG_WARNING_LIMIT, S(4600), 1, false},
    {"just before it: active, next the first warning", &lead_600_60,
     BUSY_EXTENDED(0, 0), S(4000) - 1, HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(4000), HG_WARNING_NONE, 0, 0, false},
    {"60 s before the limit: the second warning", &lead_600_60,
     BUSY_EXTENDED(0, 0), S(4540), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE,
     S(4600), HG_WARNING_LIMIT, S(4600), 2, false},
    {"more time moves the limit and its warnings", &lead_600_60,
     BUSY_EXTENDED(S(900), 1), S(4540), HG_SESSION_STATE_ACTIVE,
     HG_END_REASON_NONE, S(4900), HG_WARNING_NONE, 0, 0, false},
    {"more time: the limit warned anew", &lead_600_60, BUSY_EXTENDED(S(900), 1),
     S(4900), HG_SESSION_STATE_WARNING, HG_END_REASON_NONE, S(5440),
     HG_WARNING_LIMIT, S(5500), 1, false},
    {"more time: ended at the new limit", &lead_600_60,
     BUSY_EXTENDED(S(900), 1), S(5500), HG_SESSION_STATE_ENDED,
     HG_END_REASON_MAX_AGE, INF, HG_WARNING_NONE, 0, 0, false},
    {"both warned: the idle end comes first, so its warning stands",
     &lead_600_60, DESK(S(3500), false), S(4040), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(4100), HG_WARNING_IDLE, S(4100), 1, false},
    {"both warned: the limit comes first, so its warning stands", &lead_600_60,
     DESK(S(4010), false), S(4560), HG_SESSION_STATE_WARNING,
     HG_END_REASON_NONE, S(4600), HG_WARNING_LIMIT, S(4600), 2, false},
};

static void test_stage_cases(void **state) {
  for (size_t i = 0; i < G_N_ELEMENTS(stage_cases); i++) {
    const StageCase *c = &stage_cases[i];
    HgVerdict v;

    hg_policy_evaluate(c->limits, &c->times, c->now, &v);
    if (v.state != c->state || v.reason != c->reason ||
        v.next_deadline != c->next_deadline || v.warning != c->warning ||
        (c->warning && v.warn_until != c->warn_until) ||
        (c->state != HG_SESSION_STATE_ENDED && v.warn_level != c->warn_level) ||
        v.lock_due != c->lock_due)
      fail_msg("case '%s': got %s/%s next %llu warning '%s' until %llu level "
               "%u lock %d",
               c->name, hg_session_state_to_string(v.state),
               hg_end_reason_to_string(v.reason),
               (unsigned long long)v.next_deadline,
               hg_warning_to_string(v.warning),
               (unsigned long long)v.warn_until, v.warn_level, v.lock_due);
  }
}

/* What a lock-then-terminate session promises: ExpiresAt is the end after
 * the lock, LockAt the lock. */
static void test_lock_times(void **state) {
  HgPolicyTimes t = LOCKABLE(S(1000), 0);
  HgVerdict v;

  hg_policy_evaluate(&lock_20min, &t, S(1100), &v);
  assert_true(v.lock_at == S(1600));
  assert_true(v.expire_at == S(2800));
  t.locked_at = S(1600);
  hg_policy_evaluate(&lock_20min, &t, S(1700), &v);
  assert_true(v.lock_at == INF);
  assert_true(v.expire_at == S(2800));
  assert_true(v.hard_end == S(29800));
}

static void test_warn_before_default(void **state) {
  hg_usec_t leads[HG_WARN_BEFORE_MAX];

  assert_int_equal(hg_limits_warn_before(&defaults, leads), 1);
  assert_true(leads[0] == S(60));
  assert_int_equal(hg_limits_warn_before(&lead_600_60, leads), 2);
  assert_true(leads[0] == S(600) && leads[1] == S(60));
}

static void test_cases(void **state) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const Case *c = &cases[i];
    HgVerdict v;

    hg_policy_evaluate(c->limits, &c->times, c->now, &v);
    if (v.state != c->state || v.reason != c->reason ||
        v.next_deadline != c->next_deadline)
      fail_msg("case '%s': got %s/%s next %llu, want %s/%s next %llu", c->name,
               hg_session_state_to_string(v.state),
               hg_end_reason_to_string(v.reason),
               (unsigned long long)v.next_deadline,
               hg_session_state_to_string(c->state),
               hg_end_reason_to_string(c->reason),
               (unsigned long long)c->next_deadline);
  }
}

/* A verdict holds until its deadline: evaluating anywhere between now and
 * next_deadline gives the same state. This is what lets the registry skip
 * re-evaluation on hot paths. */
static void test_verdict_stable_until_deadline(void **state) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const Case *c = &cases[i];
    HgVerdict v, later;

    hg_policy_evaluate(c->limits, &c->times, c->now, &v);
    if (v.state == HG_SESSION_STATE_ENDED || v.next_deadline == INF)
      continue;
    hg_policy_evaluate(c->limits, &c->times, v.next_deadline - 1, &later);
    assert_int_equal(later.state, v.state);
    assert_true(v.next_deadline > c->now);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(stage_cases); i++) {
    const StageCase *c = &stage_cases[i];
    HgVerdict v, later;

    hg_policy_evaluate(c->limits, &c->times, c->now, &v);
    if (v.state == HG_SESSION_STATE_ENDED || v.lock_due ||
        v.next_deadline == INF)
      continue;
    hg_policy_evaluate(c->limits, &c->times, v.next_deadline - 1, &later);
    assert_int_equal(later.state, v.state);
    assert_int_equal(later.warning, v.warning);
    assert_int_equal(later.warn_level, v.warn_level);
    assert_true(v.next_deadline > c->now);
  }
}

static void test_activity_time(void **state) {
  /* Idle seconds date the activity back from now. */
  assert_true(hg_policy_activity_time(S(100), S(200), 30) == S(170));
  /* Never earlier than the last known activity. */
  assert_true(hg_policy_activity_time(S(190), S(200), 30) == S(190));
  /* Larger than the session's age: clamped to the last activity. */
  assert_true(hg_policy_activity_time(S(100), S(200), 100000) == S(100));
  /* Negative idle (a clock in the future): now, never later. */
  assert_true(hg_policy_activity_time(S(100), S(200), -50) == S(200));
  assert_true(hg_policy_activity_time(S(100), S(200), INT64_MIN) == S(200));
  /* Huge idle does not wrap. */
  assert_true(hg_policy_activity_time(S(100), S(200), INT64_MAX) == S(100));
  assert_true(hg_policy_activity_time(S(100), S(200), 0) == S(200));
}

static void test_inhibit_released(void **state) {
  /* Released within the bound: the release is the last activity. */
  assert_true(hg_policy_inhibit_released(&inhibit_hour, S(1000), S(2000)) ==
              S(2000));
  /* Released after it: the bound is. */
  assert_true(hg_policy_inhibit_released(&inhibit_hour, S(1000), S(9000)) ==
              S(4600));
  /* Off: nothing moves. */
  assert_true(hg_policy_inhibit_released(&defaults, S(1000), S(2000)) ==
              S(1000));
  /* Never backwards. */
  assert_true(hg_policy_inhibit_released(&inhibit_hour, S(3000), S(2000)) ==
              S(3000));
}

static void test_reload_with_shorter_limits(void **state) {
  const HgLimits shorter = {S(50), S(60), S(28800), S(30)};
  HgPolicyTimes t = WEB(S(1000), S(1000), true);
  HgVerdict v;

  /* Active for 100 s under the defaults... */
  hg_policy_evaluate(&defaults, &t, S(1100), &v);
  assert_int_equal(v.state, HG_SESSION_STATE_ACTIVE);
  /* ...but past a 60 s idle limit: it ends at once, as idle. */
  hg_policy_evaluate(&shorter, &t, S(1100), &v);
  assert_int_equal(v.state, HG_SESSION_STATE_ENDED);
  assert_int_equal(v.reason, HG_END_REASON_IDLE_TIMEOUT);
}

static void test_no_overflow_near_infinity(void **state) {
  const HgLimits huge = {S(604799), S(604800), S(2678400), S(86400)};
  HgPolicyTimes t = WEB(INF - S(10), INF - S(10), true);
  HgVerdict v;

  t.created = INF - S(10);
  hg_policy_evaluate(&huge, &t, INF - S(5), &v);
  assert_int_equal(v.state, HG_SESSION_STATE_ACTIVE);
  assert_true(v.next_deadline > INF - S(5));
}

/* The day's ends are absolute limits: the first of them ends the session
 * with its own reason, warned at the lead times like MaxSessionSec. */
static void test_day_ends(void **state) {
  HgPolicyTimes t = DESK(S(1000), true); /* busy: no idle side */
  HgLimits l = lead_600_60;
  HgVerdict v;

  l.max_session = S(28800);

  t.allowance_end = S(5000);
  hg_policy_evaluate(&l, &t, S(4000), &v);
  assert_int_equal(v.state, HG_SESSION_STATE_ACTIVE);
  assert_true(v.hard_end == S(5000));
  assert_int_equal(v.hard_reason, HG_END_REASON_ALLOWANCE);
  assert_true(v.next_deadline == S(4400));
  hg_policy_evaluate(&l, &t, S(4400), &v);
  assert_int_equal(v.warning, HG_WARNING_ALLOWANCE);
  assert_int_equal(v.warn_level, 1);
  assert_true(v.warn_until == S(5000) && v.next_deadline == S(4940));
  hg_policy_evaluate(&l, &t, S(5000), &v);
  assert_int_equal(v.state, HG_SESSION_STATE_ENDED);
  assert_int_equal(v.reason, HG_END_REASON_ALLOWANCE);
  /* Closing time before it: closing-time. */
  t.closing_at = S(4800);
  hg_policy_evaluate(&l, &t, S(4300), &v);
  assert_int_equal(v.warning, HG_WARNING_CLOSING);
  assert_true(v.hard_end == S(4800));
  hg_policy_evaluate(&l, &t, S(4800), &v);
  assert_int_equal(v.reason, HG_END_REASON_CLOSING_TIME);
  /* At the same instant closing time wins, then the allowance. */
  t.closing_at = t.allowance_end = S(1000) + S(28800);
  hg_policy_evaluate(&l, &t, S(29800), &v);
  assert_int_equal(v.reason, HG_END_REASON_CLOSING_TIME);
  t.closing_at = 0;
  hg_policy_evaluate(&l, &t, S(29800), &v);
  assert_int_equal(v.reason, HG_END_REASON_ALLOWANCE);
  /* After MaxSessionSec: max-age still. */
  t.allowance_end = S(40000);
  hg_policy_evaluate(&l, &t, S(29800), &v);
  assert_int_equal(v.reason, HG_END_REASON_MAX_AGE);
  /* Over already: ends at once, whatever the activity. */
  t = (HgPolicyTimes)WEB(S(1000), S(1000), true);
  t.allowance_end = S(900);
  hg_policy_evaluate(&no_max, &t, S(1000), &v);
  assert_int_equal(v.reason, HG_END_REASON_ALLOWANCE);
}

static void test_strings(void **state) {
  for (int i = 0; i < _HG_SESSION_STATE_MAX; i++)
    assert_int_equal(
        hg_session_state_from_string(hg_session_state_to_string(i)), i);
  for (int i = 0; i < _HG_END_REASON_MAX; i++)
    assert_int_equal(hg_end_reason_from_string(hg_end_reason_to_string(i)), i);
  assert_int_equal(hg_end_reason_from_string("nope"), _HG_END_REASON_INVALID);
  assert_int_equal(hg_end_reason_from_string(NULL), _HG_END_REASON_INVALID);
  assert_null(hg_end_reason_to_string(_HG_END_REASON_MAX));
  assert_null(hg_session_state_to_string(-1));
  assert_string_equal(hg_end_reason_to_string(HG_END_REASON_BROWSER_CLOSED),
                      "browser-closed");
  assert_string_equal(hg_end_reason_to_string(HG_END_REASON_ALLOWANCE),
                      "allowance");
  assert_string_equal(hg_end_reason_to_string(HG_END_REASON_CLOSING_TIME),
                      "closing-time");
  for (int i = 0; i < _HG_WARNING_MAX; i++)
    assert_non_null(hg_warning_to_string(i));
  assert_string_equal(hg_warning_to_string(HG_WARNING_NONE), "");
  assert_null(hg_warning_to_string(_HG_WARNING_MAX));
  for (int i = 0; i < _HG_DESKTOP_ACTION_MAX; i++)
    assert_int_equal(
        hg_desktop_action_from_string(hg_desktop_action_to_string(i)), i);
  assert_int_equal(hg_desktop_action_from_string("nap"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_stage_cases),
      cmocka_unit_test(test_lock_times),
      cmocka_unit_test(test_warn_before_default),
      cmocka_unit_test(test_verdict_stable_until_deadline),
      cmocka_unit_test(test_activity_time),
      cmocka_unit_test(test_inhibit_released),
      cmocka_unit_test(test_reload_with_shorter_limits),
      cmocka_unit_test(test_no_overflow_near_infinity),
      cmocka_unit_test(test_day_ends),
      cmocka_unit_test(test_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
