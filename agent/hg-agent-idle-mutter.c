/* Input from Mutter's IdleMonitor (GNOME, X11 and Wayland): a
 * user-active watch fires once, at the next input; after a pause (at once
 * while a warning is shown) the idle time is read, so that input during
 * the pause is reported with its own time, and the watch is armed again
 * if there was none. Nothing runs while the user is away. */
#include <glib.h>
#include <inttypes.h>

#include "hg-agent-bus.h"
#include "hg-agent-idle-method.h"
#include "hg-agent-idle.h"
#include "hg-agent-log.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_IFACE "org.gnome.Mutter.IdleMonitor"
#define RETRY_USEC (10 * HG_USEC_PER_SEC)

typedef struct {
  IdleMethod base;
  AgentNameWatch *name;
  char *owner;            /* Mutter's unique name, NULL when absent */
  sd_bus_slot *fired;     /* WatchFired */
  sd_bus_slot *call;      /* AddUserActiveWatch */
  sd_event_source *timer; /* arms the next watch */
  uint32_t watch_id;      /* 0 for none */
  hg_usec_t last_input;   /* CLOCK_MONOTONIC, of the last report */
  bool failure_logged;
} Mutter;

/* GetIdletime counts milliseconds; the report whole seconds. */
#define INPUT_SLACK_USEC (HG_USEC_PER_SEC / 2)

static void schedule(Mutter *m, hg_usec_t delay) {
  int r = sd_event_source_set_time_relative(m->timer, delay);

  if (r >= 0)
    r = sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot set the idle timer");
}

static int on_watch_added(sd_bus_message *reply, void *userdata,
                          sd_bus_error *ret_error) {
  Mutter *m = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);
  uint32_t id = 0;

  agent_slot_clear(&m->call);
  if (e || sd_bus_message_read(reply, "u", &id) < 0) {
    agent_log(m->failure_logged ? LOG_DEBUG : LOG_WARNING,
              "Mutter's IdleMonitor gave no user-active watch: %s",
              agent_bus_error_text(e));
    m->failure_logged = true;
    schedule(m, RETRY_USEC);
    return 0;
  }
  m->failure_logged = false;
  m->watch_id = id;
  agent_debug("Mutter: user-active watch %u armed", id);
  return 0;
}

static void arm(Mutter *m) {
  int r;

  if (m->watch_id || m->call || !m->base.active)
    return;
  r = agent_bus_call(m->base.ctx->bus, &m->call, m->owner, MUTTER_PATH,
                     MUTTER_IFACE, "AddUserActiveWatch", on_watch_added, m,
                     NULL);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot ask Mutter for a watch");
}

static void report(Mutter *m, uint64_t idle_ms) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);

  m->last_input = hg_usec_sub(now, idle_ms * HG_USEC_PER_MSEC);
  schedule(m,
           m->base.ctx->urgent ? HG_USEC_PER_SEC : IDLE_REPORT_INTERVAL_USEC);
  idle_method_input(&m->base, (uint32_t)(idle_ms / 1000));
}

/* After the pause: input meanwhile is reported, else the watch waits. */
static int on_idletime(sd_bus_message *reply, void *userdata,
                       sd_bus_error *ret_error) {
  Mutter *m = userdata;
  uint64_t idle_ms = 0;
  hg_usec_t input;

  agent_slot_clear(&m->call);
  if (agent_bus_reply_error(reply) ||
      sd_bus_message_read(reply, "t", &idle_ms) < 0) {
    arm(m); /* an older Mutter: the watch alone */
    return 0;
  }
  input = hg_usec_sub(hg_now(CLOCK_MONOTONIC), idle_ms * HG_USEC_PER_MSEC);
  if (input > m->last_input + INPUT_SLACK_USEC) {
    agent_debug("Mutter: input %" PRIu64 " ms ago", idle_ms);
    report(m, idle_ms);
  } else
    arm(m);
  return 0;
}

static void check(Mutter *m) {
  int r;

  if (!m->base.active || m->watch_id || m->call)
    return;
  (void)sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
  r = agent_bus_call(m->base.ctx->bus, &m->call, m->owner, MUTTER_PATH,
                     MUTTER_IFACE, "GetIdletime", on_idletime, m, NULL);
  if (r < 0)
    arm(m);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
  check(userdata);
  return 0;
}

static int on_watch_fired(sd_bus_message *msg, void *userdata,
                          sd_bus_error *ret_error) {
  Mutter *m = userdata;
  uint32_t id;

  if (!m->base.active || !agent_bus_message_from(msg, m->owner) ||
      sd_bus_message_read(msg, "u", &id) < 0 || id == 0 || id != m->watch_id)
    return 0;
  m->watch_id = 0;
  agent_debug("Mutter: input (watch %u fired)", id);
  /* The watch is spent. Re-armed at once it would fire at every key
   * press; after a pause, input keeps being noticed at that rate. */
  report(m, 0);
  return 0;
}

/* A watch of a Mutter still there is given back; one of a Mutter that went
 * away went with it. */
static void stop(Mutter *m) {
  agent_slot_clear(&m->call);
  (void)sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
  if (m->watch_id && m->owner)
    (void)agent_bus_call(m->base.ctx->bus, NULL, m->owner, MUTTER_PATH,
                         MUTTER_IFACE, "RemoveWatch", NULL, NULL, "u",
                         m->watch_id);
  m->watch_id = 0;
  m->last_input = 0;
  m->failure_logged = false;
}

static void activate(IdleMethod *base, bool active) {
  Mutter *m = (Mutter *)base;

  if (active)
    arm(m);
  else
    stop(m);
}

static void ctx_changed(IdleMethod *base) {
  /* A warning is on screen: the input of the pause counts now, and the
   * next input must clear it at once. */
  if (base->ctx->urgent)
    check((Mutter *)base);
}

/* A restarted Mutter (a new owner) starts over. */
static void on_owner(const char *owner, void *userdata) {
  Mutter *m = userdata;
  bool was_active = m->base.active;

  if (was_active && g_strcmp0(owner, m->owner) != 0) {
    m->watch_id = 0; /* the old one's watch went with it */
    stop(m);
  }
  g_free(m->owner);
  m->owner = g_strdup(owner);
  idle_method_set_available(&m->base, owner != NULL);
  if (was_active && m->base.active)
    arm(m);
}

static void mutter_free(IdleMethod *base) {
  Mutter *m = (Mutter *)base;

  stop(m);
  agent_name_watch_free(m->name);
  sd_bus_slot_unref(m->fired);
  sd_event_source_disable_unref(m->timer);
  g_free(m->owner);
  g_free(m);
}

static const IdleMethodOps ops = {
    .activate = activate,
    .ctx_changed = ctx_changed,
    .free = mutter_free,
};

int idle_mutter_new(const IdleContext *ctx, IdleMethod **ret) {
  Mutter *m = g_new0(Mutter, 1);
  int r;

  m->base = (IdleMethod){.ops = &ops,
                         .ctx = ctx,
                         .name = "mutter",
                         .words = "Mutter's IdleMonitor"};
  r = sd_event_add_time(ctx->event, &m->timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                        on_timer, m);
  if (r >= 0)
    r = sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
  if (r >= 0)
    r = sd_bus_match_signal(ctx->bus, &m->fired, MUTTER_NAME, MUTTER_PATH,
                            MUTTER_IFACE, "WatchFired", on_watch_fired, m);
  if (r >= 0)
    r = agent_name_watch_new(ctx->bus, MUTTER_NAME, on_owner, m, &m->name);
  if (r < 0) {
    mutter_free(&m->base);
    return r;
  }
  *ret = &m->base;
  return 0;
}
