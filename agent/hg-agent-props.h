/* The properties of org.hourglass1.Session that the agent follows, read
 * out of GetAll's answer or a PropertiesChanged, and turned into the
 * facts its warning is made of (hg-agent-wording.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "hg-agent-wording.h"

/* Strings are borrowed from the message; NULL and 0 for what it did not
 * carry. */
typedef struct {
  const char *state;
  const char *warning;
  const char *stage;
  const char *action;
  uint64_t expires_at;
  uint64_t lock_at;
  uint64_t limit_at;
  uint32_t extensions_left;
  uint32_t warn_after_sec; /* the session's own; 0 from an older daemon */
} AgentSessionProps;

/* Reads an a{sv}, skipping what the agent does not use. */
int agent_props_read(sd_bus_message *m, AgentSessionProps *p);

/* Reads the invalidated names (as) of a PropertiesChanged: 1 when one of
 * them is among names (NULL-terminated), else 0. */
int agent_props_invalidated(sd_bus_message *m, const char *const *names);

/* What GetAll said, as the warning needs it. */
void agent_props_to_facts(const AgentSessionProps *p, AgentFacts *ret);

/* Whether the props say the session is warned (State "warning"). */
bool agent_props_warned(const AgentSessionProps *p);
