/* The warning's countdown steps; see hg-agent-countdown.h. */
#include "hg-agent-countdown.h"

#include <glib.h>

#define MINUTE 60
#define COARSE_STEP 10
#define FINE_STEP 5

static uint64_t round_up(uint64_t v, uint64_t step) {
  return (v + step - 1) / step * step;
}

AgentCountdown agent_countdown_step(uint64_t left_sec) {
  AgentCountdown c = {0};

  if (left_sec > MINUTE) {
    c.minutes = true;
    c.value = round_up(left_sec, MINUTE) / MINUTE;
    c.next = (c.value - 1) * MINUTE;
  } else if (left_sec > COARSE_STEP) {
    c.value = round_up(left_sec, COARSE_STEP);
    c.next = c.value - COARSE_STEP;
  } else if (left_sec > 0) {
    c.value = round_up(left_sec, FINE_STEP);
    c.next = c.value - FINE_STEP;
  }
  return c;
}

char *agent_countdown_text(const AgentCountdown *c) {
  if (c->minutes)
    return g_strdup_printf("%" G_GUINT64_FORMAT " minute%s", c->value,
                           c->value == 1 ? "" : "s");
  return g_strdup_printf("%" G_GUINT64_FORMAT " second%s", c->value,
                         c->value == 1 ? "" : "s");
}
