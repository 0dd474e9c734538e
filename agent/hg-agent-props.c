/* The session's properties as the agent reads them; see hg-agent-props.h. */
#include "hg-agent-props.h"

#include <errno.h>
#include <glib.h>
#include <stddef.h>
#include <string.h>

#include "hg-macros.h"

typedef enum { STRING, TIME, COUNT } Kind;

typedef struct {
  const char *name;
  Kind kind;
  size_t offset;
} Prop;

#define PROP(name, kind, field)                                                \
  { name, kind, offsetof(AgentSessionProps, field) }

static const Prop props[] = {
    PROP("State", STRING, state),
    PROP("Warning", STRING, warning),
    PROP("Stage", STRING, stage),
    PROP("Action", STRING, action),
    PROP("ExpiresAt", TIME, expires_at),
    PROP("LockAt", TIME, lock_at),
    PROP("LimitAt", TIME, limit_at),
    PROP("ExtensionsLeft", COUNT, extensions_left),
    PROP("WarnAfterSec", COUNT, warn_after_sec),
};

/* The field is of the type its kind reads: sd-bus takes it as it is. */
static int read_value(sd_bus_message *m, const Prop *prop,
                      AgentSessionProps *p) {
  void *field = (uint8_t *)p + prop->offset;

  switch (prop->kind) {
  case STRING:
    return sd_bus_message_read(m, "v", "s", field);
  case TIME:
    return sd_bus_message_read(m, "v", "t", field);
  case COUNT:
    return sd_bus_message_read(m, "v", "u", field);
  }
  return -EINVAL;
}

static int read_prop(sd_bus_message *m, AgentSessionProps *p) {
  const char *name;
  int r;

  r = sd_bus_message_read(m, "s", &name);
  if (r < 0)
    return r;
  for (size_t i = 0; i < HG_ELEMENTSOF(props); i++)
    if (strcmp(name, props[i].name) == 0)
      return read_value(m, &props[i], p);
  return sd_bus_message_skip(m, "v");
}

int agent_props_read(sd_bus_message *m, AgentSessionProps *p) {
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    r = read_prop(m, p);
    if (r >= 0)
      r = sd_bus_message_exit_container(m);
    if (r < 0)
      return r;
  }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

int agent_props_invalidated(sd_bus_message *m, const char *const *names) {
  const char *name;
  bool found = false;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "s");
  while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0)
    found = found || g_strv_contains(names, name);
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  return r < 0 ? r : found;
}

void agent_props_to_facts(const AgentSessionProps *p, AgentFacts *ret) {
  *ret = (AgentFacts){
      .warning = agent_warning_kind_from_string(p->warning),
      .action = agent_end_action_from_string(p->action),
      .locked = p->stage && strcmp(p->stage, "locked") == 0,
      .expires_at = p->expires_at,
      .lock_at = p->lock_at,
      .limit_at = p->limit_at,
      .extensions_left = p->extensions_left,
  };
}

bool agent_props_warned(const AgentSessionProps *p) {
  return p->state && strcmp(p->state, "warning") == 0;
}
