/* The registry and its deadlines on an injected clock: events, lookups,
 * limits, liveness, and 10,000 sessions ending in deadline order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-registry.h"
#include "test-clock.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)

typedef struct {
  TestClock clock;
  HgRegistry *reg;
  GString *events; /* "new alice;warning alice;ended alice idle-timeout;" */
  hg_usec_t announced;
  unsigned n_announced;
} Fixture;

static void record(HgRegistry *reg, HgSession *s, HgRegistryEvent ev,
                   void *userdata) {
  Fixture *f = userdata;
  const char *user = hg_session_get_user(s);

  switch (ev) {
  case HG_REGISTRY_EVENT_NEW:
    g_string_append_printf(f->events, "new %s;", user);
    break;
  case HG_REGISTRY_EVENT_STATE:
    g_string_append_printf(f->events, "%s %s;",
                           hg_session_state_to_string(hg_session_get_state(s)),
                           user);
    break;
  case HG_REGISTRY_EVENT_TIMES:
    g_string_append_printf(f->events, "times %s;", user);
    break;
  case HG_REGISTRY_EVENT_LIMITS:
    g_string_append_printf(f->events, "limits %s;", user);
    break;
  case HG_REGISTRY_EVENT_STAGE:
    g_string_append_printf(
        f->events, "%s %s;",
        hg_session_get_times(s)->locked_at ? "locked" : "unlocked", user);
    break;
  case HG_REGISTRY_EVENT_ENDED:
    g_string_append_printf(
        f->events, "ended %s %s;", user,
        hg_end_reason_to_string(hg_session_get_end_reason(s)));
    break;
  }
}

static void on_deadline(HgRegistry *reg, hg_usec_t deadline, void *userdata) {
  Fixture *f = userdata;
  f->announced = deadline;
  f->n_announced++;
}

static int setup(void **state) {
  static const HgLimits limits = {S(540), S(600), S(28800), S(30)};
  Fixture *f = g_new0(Fixture, 1);

  test_clock_init(&f->clock, S(1000));
  f->reg = hg_registry_new(&f->clock.clock, &limits);
  f->events = g_string_new(NULL);
  hg_registry_subscribe(f->reg, record, f);
  hg_registry_set_deadline_callback(f->reg, on_deadline, f);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;

  hg_registry_free(f->reg);
  g_string_free(f->events, TRUE);
  g_free(f);
  return 0;
}

/* Moves the clock to t and lets the timer fire if a deadline has come. */
static void advance_to(Fixture *f, hg_usec_t t) {
  f->clock.boottime = t;
  if (f->announced <= t)
    hg_registry_process(f->reg);
}

static HgSession *create(Fixture *f, const char *user, uint8_t token_byte) {
  uint8_t hash[HG_TOKEN_HASH_LEN];
  HgSession *s = NULL;

  memset(hash, token_byte, sizeof(hash));
  assert_int_equal(
      hg_registry_create(f->reg,
                         &(HgSessionInit){HG_SESSION_SOURCE_WEB, user, 1001,
                                          token_byte ? hash : NULL,
                                          HG_PEER_UID_UNKNOWN},
                         &s),
      0);
  return s;
}

static void test_lifecycle_events(void **state) {
  Fixture *f = *state;
  HgSession *s = create(f, "alice", 1);

  hg_registry_hold(f->reg, s); /* an open event stream */
  assert_true(f->announced == S(1540));
  advance_to(f, S(1540));
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_WARNING);
  assert_true(f->announced == S(1600));
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ACTIVITY, 0), 0);
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_ACTIVE);
  assert_true(f->announced == S(2080));
  advance_to(f, S(2080));
  advance_to(f, S(2140));
  hg_registry_release(f->reg, s);
  assert_string_equal(f->events->str, "new alice;times alice;warning alice;"
                                      "active alice;"
                                      "times alice;warning alice;"
                                      "ended alice idle-timeout;");
  assert_true(f->announced == HG_USEC_INFINITY);
  assert_int_equal(hg_registry_count(f->reg), 0);
}

static void test_lookup(void **state) {
  Fixture *f = *state;
  uint8_t hash[HG_TOKEN_HASH_LEN], other[HG_TOKEN_HASH_LEN];
  HgSession *s = create(f, "alice", 7);
  g_autofree char *id = g_strdup(hg_session_get_id(s));

  memset(hash, 7, sizeof(hash));
  memset(other, 7, sizeof(other));
  other[31] = 8;
  assert_int_equal(strlen(id), HG_SESSION_ID_LEN);
  assert_ptr_equal(hg_registry_lookup(f->reg, id), s);
  assert_ptr_equal(hg_registry_lookup_token(f->reg, hash), s);
  assert_null(hg_registry_lookup_token(f->reg, other));
  assert_null(hg_registry_lookup(f->reg, "nope"));
  assert_null(hg_registry_lookup(f->reg, NULL));
  /* The same token cannot be issued twice. */
  assert_int_equal(hg_registry_create(f->reg,
                                      &(HgSessionInit){HG_SESSION_SOURCE_WEB,
                                                       "bob", 1002, hash},
                                      NULL),
                   -EEXIST);

  hg_registry_end(f->reg, s, HG_END_REASON_LOGOUT);
  assert_null(hg_registry_lookup(f->reg, id));
  assert_null(hg_registry_lookup_token(f->reg, hash));
  assert_string_equal(f->events->str, "new alice;ended alice logout;");
}

static void test_ids_are_distinct(void **state) {
  Fixture *f = *state;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

  for (int i = 0; i < 200; i++) {
    HgSession *s = create(f, "alice", 0);
    const char *id = hg_session_get_id(s);
    for (const char *p = id; *p; p++)
      assert_true(g_ascii_isxdigit(*p) && !g_ascii_isupper(*p));
    assert_false(g_hash_table_contains(seen, id));
    g_hash_table_add(seen, (char *)id);
  }
  assert_int_equal(hg_registry_count_user(f->reg, "alice"), 200);
  assert_int_equal(hg_registry_count_user(f->reg, "bob"), 0);
}

/* The timer fires late (the loop was busy): a ping arriving first must not
 * bring the expired session back. */
static void test_activity_after_expiry_does_not_revive(void **state) {
  Fixture *f = *state;
  HgSession *s = create(f, "alice", 1);
  g_autoptr(HgSession) ref = hg_session_ref(s);

  hg_registry_hold(f->reg, s);
  f->clock.boottime = S(1600); /* expiry instant, timer not run */
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ACTIVITY, 0), -ESTALE);
  assert_true(hg_session_is_ended(s));
  assert_int_equal(hg_session_get_end_reason(s), HG_END_REASON_IDLE_TIMEOUT);
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ALIVE, 0), -ESTALE);
  assert_int_equal(hg_registry_hold(f->reg, s), -ESTALE);
  hg_registry_release(f->reg, s); /* the first hold's stream closing */
  assert_int_equal(hg_registry_count(f->reg), 0);
}

static void test_idle_report_dates_activity(void **state) {
  Fixture *f = *state;
  HgSession *s = create(f, "alice", 1);

  hg_registry_hold(f->reg, s);
  advance_to(f, S(1300));
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ACTIVITY, 100), 0);
  assert_true(hg_session_get_last_activity(s) == S(1200));
  /* An older report does not move activity back. */
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ACTIVITY, 250), 0);
  assert_true(hg_session_get_last_activity(s) == S(1200));
  assert_true(f->announced == S(1740));
  /* A sign of life is not activity. */
  advance_to(f, S(1350));
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ALIVE, 0), 0);
  assert_true(hg_session_get_last_activity(s) == S(1200));
  assert_true(hg_session_get_last_alive(s) == S(1350));
  hg_registry_release(f->reg, s);
}

static void test_browser_close(void **state) {
  Fixture *f = *state;
  HgSession *s = create(f, "alice", 1);

  /* No stream ever opened: the grace runs from login. */
  assert_true(f->announced == S(1030));
  advance_to(f, S(1020));
  hg_registry_hold(f->reg, s); /* the page's stream */
  assert_true(f->announced == S(1540));
  advance_to(f, S(1100));
  hg_registry_hold(f->reg, s);    /* a second tab */
  hg_registry_release(f->reg, s); /* one tab closed: still live */
  assert_true(f->announced == S(1540));
  hg_registry_release(f->reg, s); /* the last one */
  assert_true(f->announced == S(1130));
  advance_to(f, S(1129));
  assert_false(hg_session_is_ended(s));
  hg_registry_hold(f->reg, s); /* a reload reconnects in time */
  hg_registry_release(f->reg, s);
  assert_true(f->announced == S(1159));
  advance_to(f, S(1159) - 1);
  assert_false(hg_session_is_ended(s));
  g_string_truncate(f->events, 0);
  advance_to(f, S(1159));
  assert_string_equal(f->events->str, "ended alice browser-closed;");
}

static void test_reload_limits(void **state) {
  static const HgLimits shorter = {S(50), S(60), S(28800), S(30)};
  Fixture *f = *state;
  g_autoptr(HgSession) old = hg_session_ref(create(f, "old", 1));
  HgSession *fresh;

  hg_registry_hold(f->reg, old);
  advance_to(f, S(1100));
  fresh = create(f, "fresh", 2);
  hg_registry_hold(f->reg, fresh);
  g_string_truncate(f->events, 0);
  hg_registry_set_limits(f->reg, &shorter);
  /* 100 s idle is past the new 60 s limit; the fresh one is re-timed. */
  assert_true(hg_session_is_ended(old));
  assert_false(hg_session_is_ended(fresh));
  assert_true(f->announced == S(1150));
  assert_non_null(strstr(f->events->str, "ended old idle-timeout;"));
  assert_non_null(strstr(f->events->str, "limits fresh;"));
  hg_registry_release(f->reg, old);
  hg_registry_release(f->reg, fresh);
}

/* What a person can see of their limits is told as LIMITS: a grant (a
 * refusal is only activity), someone waiting or no longer (each live
 * session, once per change), a reload. The order of several sessions'
 * events is the maps', so those are looked for one by one. */
static void test_limits_events(void **state) {
  static const HgLimits limits = {
      .warn_after = S(540),
      .expire_after = S(600),
      .max_session = S(100), /* warned of from 60 s before it */
      .extend_by = S(10),
      .max_extensions = 1,
  };
  Fixture *f = *state;
  HgSession *alice, *bob;
  g_autoptr(HgSession) carol = NULL;
  HgMoreTime answer;

  hg_registry_set_limits(f->reg, &limits);
  alice = create(f, "alice", 1);
  bob = create(f, "bob", 2);
  carol = hg_session_ref(create(f, "carol", 3));
  hg_registry_end(f->reg, carol, HG_END_REASON_LOGOUT);
  advance_to(f, S(1030));
  g_string_truncate(f->events, 0);
  assert_int_equal(hg_registry_more_time(f->reg, alice, &answer), 0);
  assert_int_equal(answer, HG_MORE_TIME_TOO_EARLY);
  assert_string_equal(f->events->str, "times alice;");

  /* Late in the warning: 10 s more keep it there (no STATE). */
  advance_to(f, S(1060));
  g_string_truncate(f->events, 0);
  hg_registry_set_waiting(f->reg, true);
  assert_non_null(strstr(f->events->str, "limits alice;"));
  assert_non_null(strstr(f->events->str, "limits bob;"));
  assert_int_equal(strlen(f->events->str), strlen("limits alice;limits bob;"));
  g_string_truncate(f->events, 0);
  hg_registry_set_waiting(f->reg, true); /* unchanged */
  assert_string_equal(f->events->str, "");
  assert_int_equal(hg_registry_more_time(f->reg, alice, &answer), 0);
  assert_int_equal(answer, HG_MORE_TIME_WAITING);
  assert_string_equal(f->events->str, "times alice;");
  g_string_truncate(f->events, 0);
  hg_registry_set_waiting(f->reg, false);
  assert_int_equal(strlen(f->events->str), strlen("limits alice;limits bob;"));
  assert_null(strstr(f->events->str, "carol"));

  g_string_truncate(f->events, 0);
  assert_int_equal(hg_registry_more_time(f->reg, alice, &answer), 0);
  assert_int_equal(answer, HG_MORE_TIME_GRANTED);
  assert_string_equal(f->events->str, "limits alice;");
  assert_true(hg_session_get_times(alice)->extended == S(10));
  assert_true(hg_session_get_times(bob)->extended == 0);
  g_string_truncate(f->events, 0);
  assert_int_equal(hg_registry_more_time(f->reg, alice, &answer), 0);
  assert_int_equal(answer, HG_MORE_TIME_USED_UP);
  assert_string_equal(f->events->str, "times alice;");

  g_string_truncate(f->events, 0);
  hg_registry_set_limits(f->reg, &limits);
  assert_non_null(strstr(f->events->str, "limits alice;"));
  assert_non_null(strstr(f->events->str, "limits bob;"));
  assert_int_equal(strlen(f->events->str), strlen("limits alice;limits bob;"));
}

static void test_busy_desktop(void **state) {
  Fixture *f = *state;
  HgSession *s = NULL;

  assert_int_equal(
      hg_registry_create(f->reg,
                         &(HgSessionInit){HG_SESSION_SOURCE_DESKTOP, "carol",
                                          1003, .logind_id = "c3"},
                         &s),
      0);
  assert_true(f->announced == S(1540)); /* no close rule for desktops */
  assert_int_equal(hg_registry_set_busy(f->reg, s, true, 0), 0);
  assert_true(f->announced == S(29740)); /* the absolute limit's warning */
  advance_to(f, S(5000));
  /* Idle since 4900 s: warned 540 s later. */
  assert_int_equal(hg_registry_set_busy(f->reg, s, false, S(4900)), 0);
  assert_true(hg_session_get_last_activity(s) == S(4900));
  assert_true(f->announced == S(5440));
  advance_to(f, S(5450));
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_WARNING);
  /* Input again, then idle "since" a bogus earlier time: the idle period
   * cannot start before the busy period began. */
  advance_to(f, S(5460));
  assert_int_equal(hg_registry_set_busy(f->reg, s, true, 0), 0);
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_ACTIVE);
  advance_to(f, S(5470));
  assert_int_equal(hg_registry_set_busy(f->reg, s, false, S(10)), 0);
  assert_true(hg_session_get_last_activity(s) == S(5460));
  assert_false(hg_session_is_ended(s));
  /* Idle since a time in the future: now. */
  assert_int_equal(hg_registry_set_busy(f->reg, s, true, 0), 0);
  assert_int_equal(hg_registry_set_busy(f->reg, s, false, S(99999)), 0);
  assert_true(hg_session_get_last_activity(s) == S(5470));
}

static HgSession *create_desktop(Fixture *f, const char *user) {
  HgSession *s = NULL;

  assert_int_equal(
      hg_registry_create(f->reg,
                         &(HgSessionInit){HG_SESSION_SOURCE_DESKTOP, user, 1003,
                                          .logind_id = "c3"},
                         &s),
      0);
  return s;
}

/* A tty's input dated by its atime: never in the future, never back. */
static void test_touch_at(void **state) {
  Fixture *f = *state;
  HgSession *s = create_desktop(f, "carol");

  advance_to(f, S(1200));
  assert_int_equal(hg_registry_touch_at(f->reg, s, S(1100)), 0);
  assert_true(hg_session_get_last_activity(s) == S(1100));
  assert_true(f->announced == S(1640));
  assert_int_equal(hg_registry_touch_at(f->reg, s, S(1050)), 0);
  assert_true(hg_session_get_last_activity(s) == S(1100));
  assert_int_equal(hg_registry_touch_at(f->reg, s, S(99999)), 0);
  assert_true(hg_session_get_last_activity(s) == S(1200));
  /* Too late: it ended at its deadline, the report cannot revive it. */
  f->clock.boottime = S(1800);
  assert_int_equal(hg_registry_touch_at(f->reg, s, S(1790)), -ESTALE);
}

typedef struct {
  Fixture *f;
  hg_usec_t input; /* what the "tty" says when asked */
  unsigned asked;
} Probe;

static void probe_tty(HgRegistry *reg, HgSession *s, void *userdata) {
  Probe *p = userdata;

  p->asked++;
  (void)hg_registry_touch_at(reg, s, p->input);
}

/* At its deadline a session is asked first: input read then keeps it
 * active, and no warning comes and goes. */
static void test_due_probe(void **state) {
  Fixture *f = *state;
  Probe p = {f, S(1000), 0};
  HgSession *s = create_desktop(f, "carol");

  hg_registry_set_due_probe(f->reg, probe_tty, &p);
  g_string_truncate(f->events, 0);
  p.input = S(1500); /* typed at 1500 s, read only when asked */
  advance_to(f, S(1540));
  assert_int_equal(p.asked, 1);
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_ACTIVE);
  assert_true(f->announced == S(2040));
  /* Nothing new: warned, then asked again at the end, then ended. */
  advance_to(f, S(2040));
  assert_int_equal(p.asked, 2);
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_WARNING);
  advance_to(f, S(2100));
  assert_int_equal(p.asked, 3);
  assert_string_equal(f->events->str,
                      "times carol;warning carol;ended carol idle-timeout;");
  /* A report that comes in after the deadline asks the probe too. */
  s = create_desktop(f, "dave");
  p.input = S(2600);
  f->clock.boottime = S(2650); /* past 2640, the timer not yet run */
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ALIVE, 0), 0);
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_ACTIVE);
  assert_true(hg_session_get_last_activity(s) == S(2600));
}

/* An idle lock holds idleness off for InhibitMaxSec past the last input;
 * released early, its release is the last activity. */
static void test_inhibited(void **state) {
  static const HgLimits limits = {S(540), S(600), S(28800), S(30), S(3600)};
  Fixture *f = *state;
  HgSession *s;

  hg_registry_set_limits(f->reg, &limits);
  s = create_desktop(f, "carol");
  assert_int_equal(hg_registry_set_inhibited(f->reg, s, true), 0);
  assert_true(f->announced == S(1000 + 3600 + 540));
  advance_to(f, S(2000));
  assert_int_equal(hg_registry_set_inhibited(f->reg, s, false), 0);
  assert_true(hg_session_get_last_activity(s) == S(2000));
  assert_true(f->announced == S(2540));
  /* Held past the bound: it stops counting there. */
  assert_int_equal(hg_registry_set_inhibited(f->reg, s, true), 0);
  advance_to(f, S(2000 + 3600 + 540));
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_WARNING);
  assert_int_equal(hg_registry_set_inhibited(f->reg, s, false), 0);
  assert_true(hg_session_get_last_activity(s) == S(5600));
  assert_int_equal(hg_session_get_state(s), HG_SESSION_STATE_WARNING);
}

/* lock-then-terminate: the lock and the unlock are each told as a change
 * of stage (the lock after its change of state); input at the lock screen
 * is not activity, the unlock is. */
static void test_lock_and_unlock_stages(void **state) {
  static const HgLimits limits = {
      .warn_after = S(540),
      .expire_after = S(600),
      .max_session = S(28800),
      .close_after = S(30),
      .action = HG_DESKTOP_ACTION_LOCK_THEN_TERMINATE,
      .locked_max = S(1200),
  };
  Fixture *f = *state;
  HgSession *s;

  hg_registry_set_limits(f->reg, &limits);
  s = create_desktop(f, "carol");
  advance_to(f, S(1540));
  advance_to(f, S(1600));
  assert_true(hg_session_get_times(s)->locked_at == S(1600));
  assert_true(f->announced == S(2740)); /* warned of the locked timeout */
  assert_int_equal(hg_registry_touch(f->reg, s, HG_TOUCH_ACTIVITY, 0), 0);
  assert_true(hg_session_get_last_activity(s) == S(1000));
  advance_to(f, S(1700));
  assert_int_equal(hg_registry_unlock(f->reg, s), 0);
  assert_true(hg_session_get_times(s)->locked_at == 0);
  assert_true(hg_session_get_last_activity(s) == S(1700));
  assert_int_equal(hg_registry_unlock(f->reg, s), 0); /* not locked: no-op */
  assert_string_equal(f->events->str, "new carol;warning carol;active carol;"
                                      "locked carol;unlocked carol;"
                                      "times carol;");
  assert_true(f->announced == S(2240));
}

static void test_source_notes(void **state) {
  Fixture *f = *state;
  HgSession *s = create_desktop(f, "carol");
  const HgSourceReport *r = hg_session_get_report(s, HG_INPUT_SOURCE_TTY);

  assert_false(r->present);
  hg_registry_note_source(f->reg, s, HG_INPUT_SOURCE_TTY, "pts/3", S(1100));
  hg_registry_note_source(f->reg, s, HG_INPUT_SOURCE_TTY, NULL, S(1050));
  assert_true(r->present);
  assert_string_equal(r->method, "pts/3");
  assert_true(r->last == S(1100));
  hg_registry_forget_source(f->reg, s, HG_INPUT_SOURCE_TTY);
  assert_false(r->present);
  assert_null(r->method);
  hg_registry_note_source(f->reg, s, HG_INPUT_SOURCE_AGENT, "x11-sync", 0);
  for (int i = 0; i < _HG_INPUT_SOURCE_MAX; i++)
    assert_int_equal(hg_input_source_from_string(hg_input_source_to_string(i)),
                     i);
  assert_int_equal(hg_input_source_from_string("mouse"),
                   _HG_INPUT_SOURCE_INVALID);
  assert_null(hg_input_source_to_string(_HG_INPUT_SOURCE_MAX));
}

static void test_end_all(void **state) {
  Fixture *f = *state;

  create(f, "a", 1);
  create(f, "b", 2);
  hg_registry_end_all(f->reg, HG_END_REASON_SHUTDOWN);
  assert_int_equal(hg_registry_count(f->reg), 0);
  assert_non_null(strstr(f->events->str, "ended a shutdown;"));
  assert_non_null(strstr(f->events->str, "ended b shutdown;"));
  assert_true(f->announced == HG_USEC_INFINITY);
}

/* 10,000 sessions, random activity: each ends exactly once, at the instant
 * the rules say, and in deadline order. */
typedef struct {
  HgSession *session;
  hg_usec_t created, last_activity, ended_at;
  HgEndReason reason;
  unsigned n_ended;
} Expect;

typedef struct {
  TestClock *clock;
  GHashTable *by_session; /* HgSession* -> Expect* */
  hg_usec_t last_end;
  bool out_of_order;
} Tracker;

static void track_end(HgRegistry *reg, HgSession *s, HgRegistryEvent ev,
                      void *userdata) {
  Tracker *t = userdata;
  Expect *e;

  if (ev != HG_REGISTRY_EVENT_ENDED)
    return;
  e = g_hash_table_lookup(t->by_session, s);
  e->n_ended++;
  e->ended_at = t->clock->boottime;
  e->reason = hg_session_get_end_reason(s);
  if (e->ended_at < t->last_end)
    t->out_of_order = true;
  t->last_end = e->ended_at;
}

/* Time passes until `until`, stopping at every deadline on the way as an
 * exact timer would. Returns how many times the timer fired. */
static unsigned run_timer_until(HgRegistry *reg, TestClock *clock,
                                hg_usec_t until) {
  unsigned fired = 0;

  while (hg_registry_next_deadline(reg) <= until) {
    clock->boottime = hg_registry_next_deadline(reg);
    hg_registry_process(reg);
    fired++;
  }
  if (until != HG_USEC_INFINITY - 1)
    clock->boottime = until;
  return fired;
}

static HgStateSession record_of(const char *id, const char *user,
                                hg_usec_t created, hg_usec_t activity) {
  HgStateSession rec = {
      .user = (char *)user,
      .uid = 1001,
      .source = HG_SESSION_SOURCE_WEB,
      .has_token = true,
      .state = HG_SESSION_STATE_ACTIVE,
      .times = {.created = created,
                .last_activity = activity,
                .last_alive = activity,
                .watch_liveness = true},
      .peer_uid = 1000,
  };
  g_strlcpy(rec.id, id, sizeof(rec.id));
  memset(rec.token_hash, id[31], sizeof(rec.token_hash));
  return rec;
}

/* Sessions taken back after a restart keep their id, token and times;
 * one whose time ran out while the daemon was away ends at the first
 * processing, with its true reason; none is extended. */
static void test_restore(void **state) {
  Fixture *f = *state;
  HgStateSession fresh = record_of("0000000000000000000000000000000a", "alice",
                                   S(29900), S(29990));
  HgStateSession idle =
      record_of("0000000000000000000000000000000b", "bob", S(100), S(350));
  HgStateSession old =
      record_of("0000000000000000000000000000000c", "carol", S(1000), S(29995));
  uint8_t hash[HG_TOKEN_HASH_LEN];
  HgSession *s = NULL;

  f->clock.boottime = S(30000);
  idle.times.last_alive = S(29990);
  old.times.watch_liveness = false; /* no browser-close rule in the way */
  assert_int_equal(hg_registry_restore(f->reg, &fresh, &s), 0);
  assert_true(hg_session_is_restored(s));
  assert_string_equal(hg_session_get_id(s), fresh.id);
  assert_int_equal(hg_session_get_peer_uid(s), 1000);
  assert_int_equal(hg_registry_restore(f->reg, &idle, NULL), 0);
  assert_int_equal(hg_registry_restore(f->reg, &old, NULL), 0);
  /* The same id twice, or a token in use, is refused. */
  assert_int_equal(hg_registry_restore(f->reg, &fresh, NULL), -EEXIST);
  assert_string_equal(f->events->str, "new alice;new bob;new carol;");
  memset(hash, 'a', sizeof(hash));
  assert_ptr_equal(hg_registry_lookup_token(f->reg, hash), s);

  g_string_truncate(f->events, 0);
  hg_registry_process(f->reg);
  assert_string_equal(f->events->str, "ended bob idle-timeout;"
                                      "ended carol max-age;");
  assert_true(hg_session_get_last_activity(s) == S(29990));
  assert_true(hg_session_get_verdict(s)->expire_at == S(29990) + S(600));
  assert_true(f->announced == S(29990) + S(30)); /* no stream: close grace */
}

/* What the allowance and the hours say, as the fixture's provider. */
static hg_usec_t day_allowance_end, day_closing_at;
static unsigned day_asked;

static void day_ends(HgRegistry *reg, HgSession *s, hg_usec_t *ret_allowance,
                     hg_usec_t *ret_closing, void *userdata) {
  *ret_allowance = day_allowance_end;
  *ret_closing = day_closing_at;
  day_asked++;
}

static void test_day_ends(void **state) {
  Fixture *f = *state;
  HgSession *s, *late;
  HgMoreTime answer;

  day_allowance_end = S(5000);
  day_closing_at = 0;
  day_asked = 0;
  hg_registry_set_day_ends(f->reg, day_ends, NULL);
  s = create(f, "alice", 1);
  hg_registry_hold(f->reg, s); /* an open page: the browser is there */
  assert_int_equal(day_asked, 1);
  assert_true(hg_session_get_verdict(s)->hard_end == S(5000));
  /* Moved by less than a second: the jitter of two clocks, kept. */
  day_allowance_end = S(5000) + HG_USEC_PER_SEC / 2;
  hg_registry_refresh_day_ends(f->reg, NULL);
  assert_true(hg_session_get_times(s)->allowance_end == S(5000));
  /* A grant: later; another user's refresh does not touch it. */
  day_allowance_end = S(6000);
  hg_registry_refresh_day_ends(f->reg, "bob");
  assert_true(hg_session_get_times(s)->allowance_end == S(5000));
  hg_registry_refresh_day_ends(f->reg, "alice");
  assert_true(hg_session_get_verdict(s)->hard_end == S(6000));
  /* More time cannot move the day's end. */
  assert_int_equal(hg_registry_more_time(f->reg, s, &answer), 0);
  assert_int_equal(answer, HG_MORE_TIME_NOT_OFFERED); /* none offered */
  {
    HgLimits more = {S(540), S(600), S(28800), S(30)};
    more.extend_by = S(300);
    more.max_extensions = 2;
    hg_registry_set_limits(f->reg, &more);
    assert_int_equal(hg_registry_more_time(f->reg, s, &answer), 0);
    assert_int_equal(answer, HG_MORE_TIME_FIXED);
  }
  /* Closing time comes first now: the session ends with it. */
  day_closing_at = S(1200);
  hg_registry_refresh_day_ends(f->reg, NULL);
  advance_to(f, S(1200));
  assert_true(hg_session_is_ended(s));
  assert_int_equal(hg_session_get_end_reason(s), HG_END_REASON_CLOSING_TIME);
  hg_registry_release(f->reg, s);
  /* A sign-in with nothing left is announced, then ends at once. */
  day_closing_at = 0;
  day_allowance_end = S(1000);
  g_string_truncate(f->events, 0);
  late = hg_session_ref(create(f, "carol", 2));
  assert_false(hg_session_is_ended(late));
  assert_true(f->announced <= f->clock.boottime);
  hg_registry_process(f->reg);
  assert_true(hg_session_is_ended(late));
  assert_string_equal(f->events->str, "new carol;ended carol allowance;");
  hg_session_unref(late);
}

static void test_source_strings(void **state) {
  for (int i = 0; i < _HG_SESSION_SOURCE_MAX; i++)
    assert_int_equal(
        hg_session_source_from_string(hg_session_source_to_string(i)), i);
  assert_string_equal(hg_session_source_to_string(HG_SESSION_SOURCE_DESKTOP),
                      "desktop");
  assert_int_equal(hg_session_source_from_string("kiosk"),
                   _HG_SESSION_SOURCE_INVALID);
  assert_int_equal(hg_session_source_from_string(NULL),
                   _HG_SESSION_SOURCE_INVALID);
  assert_null(hg_session_source_to_string(_HG_SESSION_SOURCE_MAX));
}

static void test_ten_thousand_sessions(void **state) {
  enum { N = 10000 };
  static const HgLimits limits = {S(60), S(120), S(300), 0};
  g_autoptr(GRand) rand = g_rand_new_with_seed(2024);
  g_autoptr(HgRegistry) reg = NULL;
  g_autoptr(GHashTable) by_session = g_hash_table_new(NULL, NULL);
  Expect *ex = g_new0(Expect, N);
  TestClock clock;
  Tracker t = {&clock, by_session, 0, false};
  unsigned steps = 0;

  test_clock_init(&clock, S(1000));
  reg = hg_registry_new(&clock.clock, &limits);
  hg_registry_subscribe(reg, track_end, &t);

  for (int i = 0; i < N; i++) {
    clock.boottime += g_rand_int_range(rand, 0, 20000); /* up to 20 ms */
    hg_registry_create(reg, &(HgSessionInit){HG_SESSION_SOURCE_WEB, "u", 1000},
                       &ex[i].session);
    ex[i].created = ex[i].last_activity = clock.boottime;
    g_hash_table_insert(by_session, ex[i].session, &ex[i]);
  }
  /* Random reports from random sessions, with random idle seconds. */
  for (int k = 0; k < 5 * N; k++) {
    Expect *e = &ex[g_rand_int_range(rand, 0, N)];
    int64_t idle = g_rand_int_range(rand, -5, 90);

    run_timer_until(reg, &clock,
                    clock.boottime + g_rand_int_range(rand, 0, 5000));
    if (e->n_ended)
      continue;
    assert_int_equal(
        hg_registry_touch(reg, e->session, HG_TOUCH_ACTIVITY, idle), 0);
    e->last_activity =
        hg_policy_activity_time(e->last_activity, clock.boottime, idle);
  }
  /* Then time runs on until every session has ended. */
  steps = run_timer_until(reg, &clock, HG_USEC_INFINITY - 1);

  assert_false(t.out_of_order);
  for (int i = 0; i < N; i++) {
    hg_usec_t idle_end = ex[i].last_activity + limits.expire_after;
    hg_usec_t hard_end = ex[i].created + limits.max_session;
    assert_int_equal(ex[i].n_ended, 1);
    if (hard_end <= idle_end) {
      assert_int_equal(ex[i].reason, HG_END_REASON_MAX_AGE);
      assert_true(ex[i].ended_at == hard_end);
    } else {
      assert_int_equal(ex[i].reason, HG_END_REASON_IDLE_TIMEOUT);
      assert_true(ex[i].ended_at == idle_end);
    }
  }
  /* Each session's timer stops once for the warning, once for the end. */
  assert_true(steps <= 2 * N);
  g_free(ex);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lifecycle_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ids_are_distinct, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_activity_after_expiry_does_not_revive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idle_report_dates_activity, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_browser_close, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_limits_events, setup, teardown),
      cmocka_unit_test_setup_teardown(test_busy_desktop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_touch_at, setup, teardown),
      cmocka_unit_test_setup_teardown(test_due_probe, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inhibited, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lock_and_unlock_stages, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_source_notes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_end_all, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
      cmocka_unit_test_setup_teardown(test_day_ends, setup, teardown),
      cmocka_unit_test(test_source_strings),
      cmocka_unit_test(test_ten_thousand_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
