/* Choosing how to see the user's input; see hg-agent-idle.h. */
#include "hg-agent-idle.h"

#include <glib.h>
#include <string.h>

#include "hg-agent-idle-method.h"
#include "hg-agent-log.h"
#include "hg-macros.h"

/* Polled methods look at least this often, whatever WarnAfterSec. */
#define DEFAULT_HORIZON_USEC (10 * HG_USEC_PER_SEC)
/* Room for the report to reach the daemon before its warning. */
#define HORIZON_MARGIN_USEC (2 * HG_USEC_PER_SEC)
#define URGENT_POLL_USEC HG_USEC_PER_SEC

/* Best first: a method that is told of input beats one that polls; the
 * compositor's own word beats the X server's (under Xwayland it sees only
 * X clients). */
static int (*const constructors[])(const IdleContext *, IdleMethod **) = {
    idle_mutter_new,
    idle_wayland_new,
    idle_x11_new,
    idle_saver_new,
};
#define N_METHODS HG_ELEMENTSOF(constructors)

struct IdleWatch {
  IdleContext ctx;
  IdleActivityFunc on_activity;
  IdleMethodFunc on_method;
  void *userdata;
  bool enabled;
  IdleMethod *methods[N_METHODS];
  IdleMethod *current;
  char *announced; /* the words last logged, NULL before */
};

hg_usec_t idle_method_next_poll(const IdleContext *ctx, hg_usec_t last_input,
                                hg_usec_t now) {
  hg_usec_t at;

  if (ctx->urgent)
    return hg_usec_add(now, URGENT_POLL_USEC);
  at = hg_usec_add(last_input, ctx->horizon);
  if (at <= now)
    at = hg_usec_add(now, ctx->horizon);
  return HG_MAX(at, hg_usec_add(now, URGENT_POLL_USEC));
}

static bool all_settled(const IdleWatch *w) {
  for (size_t i = 0; i < N_METHODS; i++)
    if (w->methods[i] && !w->methods[i]->settled)
      return false;
  return true;
}

/* Which method is used, once per change, when it is known: after every
 * method could tell whether it is there. */
static void announce(IdleWatch *w) {
  const char *words =
      w->current ? w->current->words
                 : "nothing (no idle monitor on the session bus, no X11 or "
                   "Wayland display that tells; logind's idle hint alone)";

  if (!w->enabled || !all_settled(w) || g_strcmp0(w->announced, words) == 0)
    return;
  g_free(w->announced);
  w->announced = g_strdup(words);
  agent_info("Input from %s", words);
}

static IdleMethod *wanted(const IdleWatch *w) {
  if (!w->enabled)
    return NULL;
  for (size_t i = 0; i < N_METHODS; i++) {
    IdleMethod *m = w->methods[i];
    if (m && m->available &&
        (!w->ctx.only || strcmp(w->ctx.only, m->name) == 0))
      return m;
  }
  return NULL;
}

bool idle_method_name_is_valid(const char *name) {
  static const char *const names[] = {
      "none",     "mutter",          "ext-idle-notify", "kde-idle",
      "x11-sync", "x11-screensaver", "screensaver",     NULL};

  return g_strv_contains(names, name);
}

static void refresh(IdleWatch *w) {
  IdleMethod *m = wanted(w);

  if (m != w->current) {
    if (w->current) {
      w->current->active = false;
      w->current->ops->activate(w->current, false);
    }
    w->current = m;
    if (m) {
      m->active = true;
      m->ops->activate(m, true);
    }
    if (w->enabled && w->on_method)
      w->on_method(idle_watch_method(w), w->userdata);
  }
  announce(w);
}

void idle_method_input(IdleMethod *m, uint32_t idle_sec) {
  IdleWatch *w = m->chooser;

  if (m->active && w->current == m)
    w->on_activity(idle_sec, w->userdata);
}

void idle_method_set_available(IdleMethod *m, bool available) {
  IdleWatch *w = m->chooser;
  bool changed = m->available != available || !m->settled;

  m->available = available;
  m->settled = true;
  if (changed)
    refresh(w);
}

int idle_watch_new(sd_bus *bus, sd_event *event, const char *only,
                   IdleActivityFunc on_activity, IdleMethodFunc on_method,
                   void *userdata, IdleWatch **ret) {
  IdleWatch *w = g_new0(IdleWatch, 1);
  int r;

  w->ctx.only = only;
  w->ctx.bus = sd_bus_ref(bus);
  w->ctx.event = sd_event_ref(event);
  w->ctx.horizon = DEFAULT_HORIZON_USEC;
  w->on_activity = on_activity;
  w->on_method = on_method;
  w->userdata = userdata;
  for (size_t i = 0; i < N_METHODS; i++) {
    r = constructors[i](&w->ctx, &w->methods[i]);
    if (r < 0) {
      idle_watch_free(w);
      return r;
    }
    w->methods[i]->chooser = w;
  }
  *ret = w;
  return 0;
}

IdleWatch *idle_watch_free(IdleWatch *w) {
  if (!w)
    return NULL;
  if (w->current)
    w->current->ops->activate(w->current, false);
  for (size_t i = 0; i < N_METHODS; i++)
    if (w->methods[i])
      w->methods[i]->ops->free(w->methods[i]);
  sd_bus_unref(w->ctx.bus);
  sd_event_unref(w->ctx.event);
  g_free(w->announced);
  g_free(w);
  return NULL;
}

void idle_watch_set_enabled(IdleWatch *w, bool enabled) {
  w->enabled = enabled;
  if (!enabled)
    g_clear_pointer(&w->announced, g_free);
  refresh(w);
}

void idle_watch_set_urgent(IdleWatch *w, bool urgent) {
  if (w->ctx.urgent == urgent)
    return;
  w->ctx.urgent = urgent;
  if (w->current && w->current->ops->ctx_changed)
    w->current->ops->ctx_changed(w->current);
}

void idle_watch_set_warn_after(IdleWatch *w, uint32_t warn_after_sec) {
  hg_usec_t h =
      hg_usec_sub(hg_sec_to_usec(warn_after_sec), HORIZON_MARGIN_USEC);

  w->ctx.horizon =
      warn_after_sec ? HG_MAX(h, URGENT_POLL_USEC) : DEFAULT_HORIZON_USEC;
  if (w->current && w->current->ops->ctx_changed)
    w->current->ops->ctx_changed(w->current);
}

const char *idle_watch_method(const IdleWatch *w) {
  return w->current ? w->current->name : "";
}
