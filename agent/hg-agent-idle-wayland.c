/* Input from a Wayland compositor ($WAYLAND_DISPLAY) that is not GNOME's:
 * ext-idle-notify-v1 (wlroots 0.16 and later: sway 1.8, cage, Wayfire;
 * KDE Plasma 5.27) or, where only that exists, org_kde_kwin_idle (sway
 * 1.7 and cage 0.1.4 on wlroots 0.15, as in Debian 12; older Plasma).
 *
 * Both give one notification with a short timeout: the compositor says
 * "idle" a second after the last input, and "resumed" at the next. While
 * not idle the user is at it: a heartbeat reports input once per report
 * interval (at most a second too recent); "idle" reports the last input
 * with its own time. Once idle, nothing runs here until the compositor
 * says "resumed". Compositors that honour idle inhibitors (a fullscreen
 * video) send no "idle" while one is up: that time counts as activity. */
#include <glib.h>

#include "hg-agent-idle-method.h"
#include "hg-agent-idle.h"
#include "hg-agent-log.h"

#ifdef HG_HAVE_WAYLAND

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <wayland-client.h>

#include "ext-idle-notify-v1-client-protocol.h"

/* "idle" this long after the last input. */
#define IDLE_AFTER_MSEC 1000
#ifdef HG_HAVE_KDE_IDLE
#include "kde-idle-client-protocol.h"
#endif

typedef struct {
  IdleMethod base;
  struct wl_display *display;
  struct wl_registry *registry;
  struct wl_seat *seat;
  uint32_t seat_name;
  struct ext_idle_notifier_v1 *ext;
  uint32_t ext_name;
  struct ext_idle_notification_v1 *ext_note;
#ifdef HG_HAVE_KDE_IDLE
  struct org_kde_kwin_idle *kde;
  uint32_t kde_name;
  struct org_kde_kwin_idle_timeout *kde_timeout;
#endif
  sd_event_source *io;
  sd_event_source *heartbeat;
  bool idle; /* the compositor said so, and no "resumed" since */
} Wayland;

static void beat_in(Wayland *w, hg_usec_t delay) {
  int r = sd_event_source_set_time_relative(w->heartbeat, delay);

  if (r >= 0)
    r = sd_event_source_set_enabled(w->heartbeat, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot set the idle timer");
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata) {
  Wayland *w = userdata;

  if (!w->base.active || w->idle)
    return 0;
  idle_method_input(&w->base, 0);
  beat_in(w, IDLE_REPORT_INTERVAL_USEC);
  return 0;
}

static void went_idle(Wayland *w) {
  agent_debug("Wayland: idle");
  w->idle = true;
  (void)sd_event_source_set_enabled(w->heartbeat, SD_EVENT_OFF);
  idle_method_input(&w->base, IDLE_AFTER_MSEC / 1000);
}

static void resumed(Wayland *w) {
  agent_debug("Wayland: input (resumed)");
  w->idle = false;
  idle_method_input(&w->base, 0);
  beat_in(w, IDLE_REPORT_INTERVAL_USEC);
}

static void ext_idled(void *data, struct ext_idle_notification_v1 *n) {
  went_idle(data);
}

static void ext_resumed(void *data, struct ext_idle_notification_v1 *n) {
  resumed(data);
}

static const struct ext_idle_notification_v1_listener ext_listener = {
    .idled = ext_idled,
    .resumed = ext_resumed,
};

#ifdef HG_HAVE_KDE_IDLE
static void kde_idle(void *data, struct org_kde_kwin_idle_timeout *t) {
  went_idle(data);
}

static void kde_resumed(void *data, struct org_kde_kwin_idle_timeout *t) {
  resumed(data);
}

static const struct org_kde_kwin_idle_timeout_listener kde_listener = {
    .idle = kde_idle,
    .resumed = kde_resumed,
};
#endif

static void flush(Wayland *w) {
  if (wl_display_flush(w->display) < 0 && errno != EAGAIN)
    agent_log_errno(LOG_DEBUG, -errno, "Cannot write to the compositor");
}

static void stop(Wayland *w) {
  (void)sd_event_source_set_enabled(w->heartbeat, SD_EVENT_OFF);
  if (w->ext_note)
    ext_idle_notification_v1_destroy(w->ext_note);
  w->ext_note = NULL;
#ifdef HG_HAVE_KDE_IDLE
  if (w->kde_timeout)
    org_kde_kwin_idle_timeout_release(w->kde_timeout);
  w->kde_timeout = NULL;
#endif
  if (w->display)
    flush(w);
}

/* A new notification starts "not idle": the heartbeat runs until the
 * compositor says otherwise. */
static void start(Wayland *w) {
  uint32_t timeout_ms = IDLE_AFTER_MSEC;

  stop(w);
  if (w->ext) {
    w->ext_note =
        ext_idle_notifier_v1_get_idle_notification(w->ext, timeout_ms, w->seat);
    ext_idle_notification_v1_add_listener(w->ext_note, &ext_listener, w);
  }
#ifdef HG_HAVE_KDE_IDLE
  else if (w->kde) {
    w->kde_timeout =
        org_kde_kwin_idle_get_idle_timeout(w->kde, w->seat, timeout_ms);
    org_kde_kwin_idle_timeout_add_listener(w->kde_timeout, &kde_listener, w);
  }
#endif
  w->idle = false;
  beat_in(w, IDLE_REPORT_INTERVAL_USEC);
  flush(w);
}

static void activate(IdleMethod *base, bool active) {
  Wayland *w = (Wayland *)base;

  if (active)
    start(w);
  else
    stop(w);
}

/* A warning is on screen: not idle means input within the interval. */
static void ctx_changed(IdleMethod *base) {
  Wayland *w = (Wayland *)base;

  if (base->ctx->urgent && base->active && !w->idle)
    idle_method_input(base, 0);
}

static void describe(Wayland *w) {
  bool ext = w->ext != NULL;

  w->base.name = ext ? "ext-idle-notify" : "kde-idle";
  w->base.words = ext ? "the compositor's ext-idle-notify-v1"
                      : "the compositor's org_kde_kwin_idle";
}

static bool usable(const Wayland *w) {
#ifdef HG_HAVE_KDE_IDLE
  return w->seat && (w->ext || w->kde);
#else
  return w->seat && w->ext;
#endif
}

static void on_global(void *data, struct wl_registry *registry, uint32_t name,
                      const char *interface, uint32_t version) {
  Wayland *w = data;

  if (strcmp(interface, wl_seat_interface.name) == 0 && !w->seat) {
    w->seat = wl_registry_bind(registry, name, &wl_seat_interface, 1);
    w->seat_name = name;
  } else if (strcmp(interface, ext_idle_notifier_v1_interface.name) == 0) {
    w->ext =
        wl_registry_bind(registry, name, &ext_idle_notifier_v1_interface, 1);
    w->ext_name = name;
  }
#ifdef HG_HAVE_KDE_IDLE
  else if (strcmp(interface, org_kde_kwin_idle_interface.name) == 0) {
    w->kde = wl_registry_bind(registry, name, &org_kde_kwin_idle_interface, 1);
    w->kde_name = name;
  }
#endif
}

/* The seat or the idle protocol going away ends this method. */
static void on_global_remove(void *data, struct wl_registry *registry,
                             uint32_t name) {
  Wayland *w = data;

  if (name == w->seat_name || name == w->ext_name
#ifdef HG_HAVE_KDE_IDLE
      || name == w->kde_name
#endif
  ) {
    agent_info("The compositor withdrew its seat or idle protocol");
    idle_method_set_available(&w->base, false);
  }
}

static const struct wl_registry_listener registry_listener = {
    .global = on_global,
    .global_remove = on_global_remove,
};

static void lost(Wayland *w) {
  agent_info("The Wayland compositor went away");
  w->io = sd_event_source_disable_unref(w->io);
  (void)sd_event_source_set_enabled(w->heartbeat, SD_EVENT_OFF);
  idle_method_set_available(&w->base, false);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
  Wayland *w = userdata;

  if ((revents & (EPOLLERR | EPOLLHUP)) || wl_display_dispatch(w->display) < 0)
    lost(w);
  return 0;
}

/* Before the loop sleeps: events another read queued, requests made. */
static int on_prepare(sd_event_source *s, void *userdata) {
  Wayland *w = userdata;

  if (wl_display_dispatch_pending(w->display) < 0)
    lost(w);
  else
    flush(w);
  return 0;
}

static bool connect_display(Wayland *w) {
  w->display = wl_display_connect(NULL);
  if (!w->display) {
    agent_debug("Wayland: cannot connect to %s", getenv("WAYLAND_DISPLAY"));
    return false;
  }
  w->registry = wl_display_get_registry(w->display);
  wl_registry_add_listener(w->registry, &registry_listener, w);
  /* At start-up: the compositor is local and answers at once. */
  return wl_display_roundtrip(w->display) >= 0 && usable(w);
}

static void wayland_free(IdleMethod *base) {
  Wayland *w = (Wayland *)base;

  if (w->display)
    stop(w);
  sd_event_source_disable_unref(w->io);
  sd_event_source_disable_unref(w->heartbeat);
  if (w->ext)
    ext_idle_notifier_v1_destroy(w->ext);
#ifdef HG_HAVE_KDE_IDLE
  if (w->kde)
    org_kde_kwin_idle_destroy(w->kde);
#endif
  if (w->seat)
    wl_seat_destroy(w->seat);
  if (w->registry)
    wl_registry_destroy(w->registry);
  if (w->display)
    wl_display_disconnect(w->display);
  g_free(w);
}

static const IdleMethodOps ops = {
    .activate = activate,
    .ctx_changed = ctx_changed,
    .free = wayland_free,
};

static int setup(Wayland *w) {
  sd_event *e = w->base.ctx->event;
  int r;

  r = sd_event_add_time(e, &w->heartbeat, CLOCK_MONOTONIC, UINT64_MAX, 0,
                        on_heartbeat, w);
  if (r >= 0)
    r = sd_event_source_set_enabled(w->heartbeat, SD_EVENT_OFF);
  if (r < 0 || !getenv("WAYLAND_DISPLAY") || !connect_display(w))
    return r;
  describe(w);
  r = sd_event_add_io(e, &w->io, wl_display_get_fd(w->display), EPOLLIN, on_io,
                      w);
  if (r >= 0)
    r = sd_event_source_set_prepare(w->io, on_prepare);
  return r;
}

int idle_wayland_new(const IdleContext *ctx, IdleMethod **ret) {
  Wayland *w = g_new0(Wayland, 1);
  int r;

  w->base = (IdleMethod){.ops = &ops, .ctx = ctx, .name = "wayland"};
  r = setup(w);
  if (r < 0) {
    wayland_free(&w->base);
    return r;
  }
  w->base.settled = true;
  w->base.available = w->io != NULL;
  *ret = &w->base;
  return 0;
}

#else /* !HG_HAVE_WAYLAND */

static void wayland_activate(IdleMethod *m, bool active) {}
static void wayland_free(IdleMethod *m) { g_free(m); }

static const IdleMethodOps ops = {
    .activate = wayland_activate,
    .free = wayland_free,
};

/* Built without wayland-client: never available. */
int idle_wayland_new(const IdleContext *ctx, IdleMethod **ret) {
  IdleMethod *m = g_new0(IdleMethod, 1);

  *m =
      (IdleMethod){.ops = &ops, .ctx = ctx, .name = "wayland", .settled = true};
  *ret = m;
  return 0;
}

#endif
