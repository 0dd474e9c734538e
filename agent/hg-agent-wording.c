/* The warning's words; see hg-agent-wording.h. */
#include "hg-agent-wording.h"

#include <inttypes.h>
#include <string.h>

#include "hg-agent-countdown.h"

static const char *const kind_names[_AGENT_WARNING_MAX] = {
    [AGENT_WARNING_NONE] = "",
    [AGENT_WARNING_IDLE] = "idle",
    [AGENT_WARNING_LIMIT] = "limit",
    [AGENT_WARNING_LOCKED] = "locked",
    [AGENT_WARNING_ALLOWANCE] = "allowance",
    [AGENT_WARNING_CLOSING] = "closing-time",
    [AGENT_WARNING_OTHER] = "other",
};

static const char *const action_names[_AGENT_END_MAX] = {
    [AGENT_END_TERMINATE] = "terminate",
    [AGENT_END_LOCK] = "lock",
    [AGENT_END_LOCK_THEN_TERMINATE] = "lock-then-terminate",
};

const char *agent_warning_kind_to_string(AgentWarningKind k) {
  return (unsigned)k < _AGENT_WARNING_MAX ? kind_names[k] : NULL;
}

AgentWarningKind agent_warning_kind_from_string(const char *s) {
  if (!s || !*s)
    return AGENT_WARNING_NONE;
  for (int k = 0; k < _AGENT_WARNING_MAX; k++)
    if (strcmp(kind_names[k], s) == 0)
      return (AgentWarningKind)k;
  return AGENT_WARNING_OTHER;
}

const char *agent_end_action_to_string(AgentEndAction a) {
  return (unsigned)a < _AGENT_END_MAX ? action_names[a] : NULL;
}

AgentEndAction agent_end_action_from_string(const char *s) {
  for (int a = 0; s && a < _AGENT_END_MAX; a++)
    if (strcmp(action_names[a], s) == 0)
      return (AgentEndAction)a;
  return AGENT_END_TERMINATE;
}

/* The earlier of two times, 0 standing for "never". */
static uint64_t earliest(uint64_t a, uint64_t b) {
  if (!a || !b)
    return a ? a : b;
  return MIN(a, b);
}

uint64_t agent_facts_target(const AgentFacts *f) {
  switch (f->warning) {
  case AGENT_WARNING_IDLE:
    /* lock-then-terminate: the lock comes first; ExpiresAt is the end
     * LockedMaxSec after it. */
    return f->lock_at ? earliest(f->lock_at, f->limit_at) : f->expires_at;
  case AGENT_WARNING_LIMIT:
  case AGENT_WARNING_ALLOWANCE:
  case AGENT_WARNING_CLOSING:
    return f->limit_at ? f->limit_at : f->expires_at;
  case AGENT_WARNING_NONE:
  case AGENT_WARNING_LOCKED:
  case AGENT_WARNING_OTHER:
  case _AGENT_WARNING_MAX:
    break;
  }
  return f->expires_at;
}

/* "in 50 seconds", or NULL when the time is up. */
static char *in_words(uint64_t left_sec) {
  AgentCountdown c = agent_countdown_step(left_sec);
  g_autofree char *text = NULL;

  if (c.value == 0)
    return NULL;
  text = agent_countdown_text(&c);
  return g_strconcat("in ", text, NULL);
}

/* Activity helps: the action is Extend, which counts as activity, unless
 * the session is locked (nothing but the unlock counts then). */
static void idle_words(const AgentFacts *f, const char *in, AgentWording *w) {
  bool locks = f->action != AGENT_END_TERMINATE;

  w->summary = g_strdup(locks ? "The screen will lock soon"
                              : "You will be signed out soon");
  if (in)
    w->body = g_strdup_printf(
        locks ? "The screen will lock %s unless you use the computer."
              : "You will be signed out %s unless you use the computer.",
        in);
  else
    w->body = g_strdup(locks ? "The screen locks now."
                             : "You are being signed out now.");
  if (f->locked)
    return;
  w->action = AGENT_ACTION_EXTEND;
  w->action_label = locks ? "Keep it unlocked" : "Stay signed in";
}

/* Only more time moves the absolute limit: offered while there is some
 * to ask for. */
static void limit_words(const AgentFacts *f, const char *in,
                        const char *limit_clock, AgentWording *w) {
  g_autoptr(GString) body = g_string_new(NULL);

  w->summary = limit_clock
                   ? g_strdup_printf("Your session ends at %s", limit_clock)
                   : g_strdup("Your session ends soon");
  if (!in) {
    w->body = g_strdup("Your session has reached its time limit and ends "
                       "now.");
    return;
  }
  g_string_printf(body,
                  "Your session ends %s, at its time limit. Save your "
                  "work.",
                  in);
  if (f->extensions_left > 0 && !f->locked) {
    g_string_append_printf(
        body,
        " Choose \"More time\" to ask for more (%" PRIu32 " extension%s left).",
        f->extensions_left, f->extensions_left == 1 ? "" : "s");
    w->action = AGENT_ACTION_MORE_TIME;
    w->action_label = "More time";
  }
  w->body = g_string_free(g_steal_pointer(&body), FALSE);
}

/* The day's ends: no extension moves them, so no action but the
 * notification's own dismissal; the words say what ends the session. */
static void allowance_words(const char *in, const char *limit_clock,
                            AgentWording *w) {
  w->summary = g_strdup("Your time for today is almost used up");
  if (!in)
    w->body = g_strdup("Your time for today is used up: you are being "
                       "signed out now.");
  else if (limit_clock)
    w->body = g_strdup_printf("You will be signed out %s, at %s, when your "
                              "time for today runs out. Save your work: "
                              "more time cannot be given.",
                              in, limit_clock);
  else
    w->body = g_strdup_printf("You will be signed out %s, when your time "
                              "for today runs out. Save your work: more "
                              "time cannot be given.",
                              in);
}

static void closing_words(const char *in, const char *limit_clock,
                          AgentWording *w) {
  w->summary = limit_clock
                   ? g_strdup_printf("This computer closes at %s", limit_clock)
                   : g_strdup("This computer closes soon");
  w->body = in ? g_strdup_printf("You will be signed out %s, at closing "
                                 "time. Save your work: more time cannot be "
                                 "given.",
                                 in)
               : g_strdup("It is closing time: you are being signed out "
                          "now.");
}

/* At the lock screen a notification may not even be seen: the words say
 * what the person finds when they come back to it. */
static void locked_words(const char *in, AgentWording *w) {
  w->summary = g_strdup("This session will be signed out soon");
  w->body = in ? g_strdup_printf("The session will be signed out %s unless "
                                 "unlocked.",
                                 in)
               : g_strdup("The session is being signed out now.");
}

static void other_words(const char *in, AgentWording *w) {
  w->summary = g_strdup("Your session ends soon");
  w->body = in ? g_strdup_printf("This session ends %s.", in)
               : g_strdup("This session ends now.");
}

void agent_wording_make(const AgentFacts *f, uint64_t left_sec,
                        const char *limit_clock, AgentWording *ret) {
  g_autofree char *in = in_words(left_sec);

  *ret = (AgentWording){0};
  switch (f->warning) {
  case AGENT_WARNING_IDLE:
    idle_words(f, in, ret);
    return;
  case AGENT_WARNING_LIMIT:
    limit_words(f, in, limit_clock, ret);
    return;
  case AGENT_WARNING_LOCKED:
    locked_words(in, ret);
    return;
  case AGENT_WARNING_ALLOWANCE:
    allowance_words(in, limit_clock, ret);
    return;
  case AGENT_WARNING_CLOSING:
    closing_words(in, limit_clock, ret);
    return;
  case AGENT_WARNING_NONE:
  case AGENT_WARNING_OTHER:
  case _AGENT_WARNING_MAX:
    break;
  }
  other_words(in, ret);
}

void agent_wording_clear(AgentWording *w) {
  g_clear_pointer(&w->summary, g_free);
  g_clear_pointer(&w->body, g_free);
  w->action = NULL;
  w->action_label = NULL;
}

char *agent_wording_clock(uint64_t realtime_usec, GTimeZone *tz) {
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (realtime_usec == 0)
    return NULL;
  utc = g_date_time_new_from_unix_utc((gint64)(realtime_usec / G_USEC_PER_SEC));
  local = utc ? g_date_time_to_timezone(utc, tz) : NULL;
  return local ? g_date_time_format(local, "%H:%M") : NULL;
}

const char *agent_wording_refused_summary(void) {
  return "No more time for this session";
}
