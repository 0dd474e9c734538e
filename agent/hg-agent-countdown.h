/* The words of the warning: what the notification says with so many
 * seconds left, and when it should say something else. Pure functions,
 * tested on their own (tests/agent/test-agent-countdown.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* What the countdown shows with left_sec seconds to go. */
typedef struct {
  uint64_t value; /* in the unit below, rounded up: never "too early" */
  bool minutes;   /* else seconds */
  uint64_t next;  /* the left_sec at which the text changes, 0 if never */
} AgentCountdown;

/* Minutes above one minute, then steps of ten seconds, then of five:
 * enough to be useful, few enough updates not to distract. */
AgentCountdown agent_countdown_step(uint64_t left_sec);

/* The notification's title. */
const char *agent_countdown_summary(void);

/* The notification's body with left_sec to go (plain text, no markup).
 * hard_limit: the session meets its absolute limit, which no activity
 * pushes back, rather than its idle timeout. Free with g_free(). */
char *agent_countdown_body(uint64_t left_sec, bool hard_limit);
