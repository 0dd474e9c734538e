/* The warning's countdown: how the time left is shown with so many
 * seconds to go, and when it should be shown otherwise. Pure functions,
 * tested on their own (tests/agent/test-agent-countdown.c); the sentences
 * around it are hg-agent-wording.h's. */
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

/* "50 seconds", "2 minutes", "1 minute": the step in words (plain text).
 * Free with g_free(). */
char *agent_countdown_text(const AgentCountdown *c);
