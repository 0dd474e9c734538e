/* What the warning says, from what hourglassd says of the session: the
 * kind of warning (Session.Warning), what comes at its end (Action,
 * Stage), when (LockAt, LimitAt, ExpiresAt) and whether more time can be
 * asked for (ExtensionsLeft). Pure functions, no bus and no clock, tested
 * on their own (tests/agent/test-agent-wording.c). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* The notification's actions, as the notifier reports them. */
#define AGENT_ACTION_EXTEND "extend"       /* Session.Extend: activity */
#define AGENT_ACTION_MORE_TIME "more-time" /* Session.RequestMoreTime */

/* Session.Warning. */
typedef enum {
  AGENT_WARNING_NONE,      /* "": no warning */
  AGENT_WARNING_IDLE,      /* the idle limit: activity helps */
  AGENT_WARNING_LIMIT,     /* the absolute limit: only more time moves it */
  AGENT_WARNING_LOCKED,    /* locked by hourglass: the end, unless unlocked */
  AGENT_WARNING_ALLOWANCE, /* the day's allowance runs out: nothing helps */
  AGENT_WARNING_CLOSING,   /* closing time: nothing helps */
  AGENT_WARNING_OTHER,     /* a kind newer than this agent: told plainly */
  _AGENT_WARNING_MAX,
} AgentWarningKind;

/* Session.Action: what the idle limit brings to a desktop session. */
typedef enum {
  AGENT_END_TERMINATE,
  AGENT_END_LOCK,
  AGENT_END_LOCK_THEN_TERMINATE,
  _AGENT_END_MAX,
} AgentEndAction;

/* "", "idle", "limit", "locked", "allowance", "closing-time", "other". */
const char *agent_warning_kind_to_string(AgentWarningKind k);
/* Never fails: NULL and "" are NONE, an unknown kind is OTHER. */
AgentWarningKind agent_warning_kind_from_string(const char *s);

/* "terminate", "lock", "lock-then-terminate". */
const char *agent_end_action_to_string(AgentEndAction a);
/* Never fails: an unknown or empty action is TERMINATE, the end. */
AgentEndAction agent_end_action_from_string(const char *s);

/* The session's side of a warning. Times are CLOCK_REALTIME µs since the
 * epoch, 0 for none, as on the bus. */
typedef struct {
  AgentWarningKind warning;
  AgentEndAction action;
  bool locked; /* Stage "locked": nothing but the unlock counts */
  uint64_t expires_at;
  uint64_t lock_at;
  uint64_t limit_at;
  uint32_t extensions_left;
} AgentFacts;

/* When what the warning is of comes: the lock, the fixed end (the
 * absolute limit, the allowance's end, closing time: LimitAt) or the end;
 * 0 when the facts do not tell. */
uint64_t agent_facts_target(const AgentFacts *f);

/* The notification of a warning: plain text (no markup), and the one
 * action it offers (key and label), NULL for none. */
typedef struct {
  char *summary;
  char *body;
  const char *action;
  const char *action_label;
} AgentWording;

/* The words with left_sec to the target. limit_clock: the fixed end's
 * local time of day ("14:05", agent_wording_clock()), NULL when unknown. */
void agent_wording_make(const AgentFacts *f, uint64_t left_sec,
                        const char *limit_clock, AgentWording *ret);
void agent_wording_clear(AgentWording *w);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AgentWording, agent_wording_clear)

/* "14:05": the time of day of realtime_usec in tz, NULL for 0. Free with
 * g_free(). */
char *agent_wording_clock(uint64_t realtime_usec, GTimeZone *tz);

/* The follow-up to a request for more time that was refused: the title;
 * the body is the daemon's reason. */
const char *agent_wording_refused_summary(void);
