/* Input from org.freedesktop.ScreenSaver's GetSessionIdleTime (KDE on X11,
 * XFCE or MATE with their screen savers), polled: at the last instant that
 * can matter (before the daemon would warn of the last input seen), every
 * second while a warning is shown, and at once when the screen saver comes
 * or goes. */
#include <glib.h>
#include <string.h>

#include "hg-agent-bus.h"
#include "hg-agent-idle-method.h"
#include "hg-agent-log.h"

#define SAVER_NAME "org.freedesktop.ScreenSaver"
#define SAVER_PATH "/org/freedesktop/ScreenSaver"
#define SAVER_IFACE "org.freedesktop.ScreenSaver"
/* GetSessionIdleTime counts whole seconds: two polls may place the same
 * input up to a second apart. */
#define INPUT_SLACK_USEC (3 * HG_USEC_PER_SEC / 2)

typedef struct {
  IdleMethod base;
  AgentNameWatch *name;
  char *owner;
  sd_bus_slot *active_changed;
  sd_bus_slot *call;
  sd_event_source *timer;
  hg_usec_t last_input; /* CLOCK_MONOTONIC, 0 unknown */
  bool failure_logged;
} Saver;

static void schedule_at(Saver *s, hg_usec_t at) {
  int r = sd_event_source_set_time(s->timer, at);

  if (r >= 0)
    r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot set the idle timer");
}

static void schedule_next(Saver *s) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);

  schedule_at(s, idle_method_next_poll(s->base.ctx, s->last_input, now));
}

static int on_idle_time(sd_bus_message *reply, void *userdata,
                        sd_bus_error *ret_error) {
  Saver *s = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);
  hg_usec_t input;
  uint32_t idle;

  agent_slot_clear(&s->call);
  if (e || sd_bus_message_read(reply, "u", &idle) < 0) {
    agent_log(s->failure_logged ? LOG_DEBUG : LOG_WARNING,
              "org.freedesktop.ScreenSaver cannot tell the idle time: %s",
              agent_bus_error_text(e));
    s->failure_logged = true;
    schedule_next(s);
    return 0;
  }
  s->failure_logged = false;
  input = hg_usec_sub(hg_now(CLOCK_MONOTONIC), hg_sec_to_usec(idle));
  /* Input since the last poll: the idle time dropped. */
  if (!s->last_input || input > s->last_input + INPUT_SLACK_USEC) {
    s->last_input = input;
    agent_debug("ScreenSaver: input %u s ago", idle);
    idle_method_input(&s->base, idle);
  }
  schedule_next(s);
  return 0;
}

static void poll_now(Saver *s) {
  int r;

  if (s->call || !s->base.active)
    return; /* its reply schedules the next poll */
  r = agent_bus_call(s->base.ctx->bus, &s->call, s->owner, SAVER_PATH,
                     SAVER_IFACE, "GetSessionIdleTime", on_idle_time, s, NULL);
  if (r < 0) {
    agent_log_errno(LOG_WARNING, r, "Cannot ask for the idle time");
    schedule_next(s);
  }
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
  poll_now(userdata);
  return 0;
}

static int on_active_changed(sd_bus_message *m, void *userdata,
                             sd_bus_error *ret_error) {
  Saver *s = userdata;

  /* The screen saver came or went: a person may be back, look now. */
  if (s->base.active && agent_bus_message_from(m, s->owner))
    poll_now(s);
  return 0;
}

static void stop(Saver *s) {
  agent_slot_clear(&s->call);
  (void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
  s->last_input = 0;
  s->failure_logged = false;
}

static void activate(IdleMethod *base, bool active) {
  Saver *s = (Saver *)base;

  if (active)
    poll_now(s);
  else
    stop(s);
}

/* Urgent: look now. A new horizon: look when that says. */
static void ctx_changed(IdleMethod *base) {
  Saver *s = (Saver *)base;

  if (!base->active)
    return;
  if (base->ctx->urgent)
    poll_now(s);
  else if (!s->call)
    schedule_next(s);
}

static void on_owner(const char *owner, void *userdata) {
  Saver *s = userdata;
  const char *self = NULL;
  bool restart;

  /* The agent's own inhibition service (--serve-screensaver) tells no
   * idle time. */
  if (owner && sd_bus_get_unique_name(s->base.ctx->bus, &self) >= 0 &&
      strcmp(owner, self) == 0)
    owner = NULL;
  restart = s->base.active && g_strcmp0(owner, s->owner) != 0;

  if (restart)
    stop(s);
  g_free(s->owner);
  s->owner = g_strdup(owner);
  idle_method_set_available(&s->base, owner != NULL);
  if (restart && s->base.active)
    poll_now(s);
}

static void saver_free(IdleMethod *base) {
  Saver *s = (Saver *)base;

  stop(s);
  agent_name_watch_free(s->name);
  sd_bus_slot_unref(s->active_changed);
  sd_event_source_disable_unref(s->timer);
  g_free(s->owner);
  g_free(s);
}

static const IdleMethodOps ops = {
    .activate = activate,
    .ctx_changed = ctx_changed,
    .free = saver_free,
};

int idle_saver_new(const IdleContext *ctx, IdleMethod **ret) {
  Saver *s = g_new0(Saver, 1);
  int r;

  s->base = (IdleMethod){.ops = &ops,
                         .ctx = ctx,
                         .name = "screensaver",
                         .words = "org.freedesktop.ScreenSaver, polled"};
  r = sd_event_add_time(ctx->event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                        on_timer, s);
  if (r >= 0)
    r = sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
  if (r >= 0)
    r = sd_bus_match_signal(ctx->bus, &s->active_changed, SAVER_NAME,
                            SAVER_PATH, SAVER_IFACE, "ActiveChanged",
                            on_active_changed, s);
  if (r >= 0)
    r = agent_name_watch_new(ctx->bus, SAVER_NAME, on_owner, s, &s->name);
  if (r < 0) {
    saver_free(&s->base);
    return r;
  }
  *ret = &s->base;
  return 0;
}
