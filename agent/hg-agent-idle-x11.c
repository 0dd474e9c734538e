/* Input from the X server ($DISPLAY), on any X11 desktop (KDE, XFCE, MATE,
 * Cinnamon, LXQt, a bare window manager):
 *
 * - the SYNC extension's IDLETIME counter with an alarm: a negative
 *   transition of the counter (it drops to 0 at every input) fires at the
 *   next input, in the server, with nothing running here while the user is
 *   away. After each report the alarm waits for a pause before it is set
 *   again, as with Mutter; when it is set the counter is read first, so
 *   input in the pause is reported with its own time;
 * - else MIT-SCREEN-SAVER's idle time, read at the last instant that can
 *   matter (idle_method_next_poll()), every second during a warning.
 *
 * The connection is read in the agent's loop; the few round trips (alarm,
 * counter, query) are synchronous: the X server is local and answers at
 * once. */
#include <glib.h>

#include "hg-agent-idle-method.h"
#include "hg-agent-idle.h"
#include "hg-agent-log.h"

#ifdef HG_HAVE_XCB

#include <stdlib.h>
#include <string.h>
#include <xcb/screensaver.h>
#include <xcb/sync.h>
#include <xcb/xcb.h>

/* Input is reported with whole seconds: the alarm is set only when the
 * counter says the user has paused longer than that. */
#define PAUSE_MSEC 1000
/* MIT-SCREEN-SAVER counts milliseconds; two reads may place one input a
 * little apart. */
#define INPUT_SLACK_USEC (HG_USEC_PER_SEC / 2)

typedef struct {
  IdleMethod base;
  xcb_connection_t *conn;
  xcb_window_t root;
  sd_event_source *io;
  sd_event_source *timer;
  bool sync; /* IDLETIME with alarms, else MIT-SCREEN-SAVER */
  uint8_t sync_event_base;
  xcb_sync_counter_t idletime;
  xcb_sync_alarm_t alarm; /* 0 for none */
  hg_usec_t last_input;   /* CLOCK_MONOTONIC of the last input reported */
} X11;

static void schedule_at(X11 *x, hg_usec_t at) {
  int r = sd_event_source_set_time(x->timer, at);

  if (r >= 0)
    r = sd_event_source_set_enabled(x->timer, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot set the idle timer");
}

static int64_t sync_value(xcb_sync_int64_t v) {
  return (int64_t)((uint64_t)(uint32_t)v.hi << 32 | v.lo);
}

static xcb_sync_int64_t sync_int64(int64_t v) {
  return (xcb_sync_int64_t){.hi = (int32_t)(v >> 32), .lo = (uint32_t)v};
}

/* The server's idle time in ms, -1 when it cannot tell. */
static int64_t idle_msec(X11 *x) {
  int64_t ms = -1;

  if (x->sync) {
    xcb_sync_query_counter_reply_t *r = xcb_sync_query_counter_reply(
        x->conn, xcb_sync_query_counter(x->conn, x->idletime), NULL);
    if (r)
      ms = sync_value(r->counter_value);
    free(r);
  } else {
    xcb_screensaver_query_info_reply_t *r = xcb_screensaver_query_info_reply(
        x->conn, xcb_screensaver_query_info(x->conn, x->root), NULL);
    if (r)
      ms = r->ms_since_user_input;
    free(r);
  }
  return ms;
}

static void drop_alarm(X11 *x) {
  if (!x->alarm)
    return;
  xcb_sync_destroy_alarm(x->conn, x->alarm);
  xcb_flush(x->conn);
  x->alarm = 0;
}

/* Fires when the counter drops below what it is now: at the next input. */
static void set_alarm(X11 *x, int64_t idle) {
  const uint32_t mask = XCB_SYNC_CA_COUNTER | XCB_SYNC_CA_VALUE_TYPE |
                        XCB_SYNC_CA_VALUE | XCB_SYNC_CA_TEST_TYPE |
                        XCB_SYNC_CA_DELTA | XCB_SYNC_CA_EVENTS;
  xcb_sync_int64_t value = sync_int64(idle > 1 ? idle - 1 : 1);
  xcb_sync_int64_t delta = sync_int64(0);
  uint32_t list[] = {x->idletime,
                     XCB_SYNC_VALUETYPE_ABSOLUTE,
                     (uint32_t)value.hi,
                     value.lo,
                     XCB_SYNC_TESTTYPE_NEGATIVE_TRANSITION,
                     (uint32_t)delta.hi,
                     delta.lo,
                     1};

  drop_alarm(x);
  x->alarm = xcb_generate_id(x->conn);
  xcb_sync_create_alarm(x->conn, x->alarm, mask, list);
  xcb_flush(x->conn);
  agent_debug("X11: IDLETIME alarm armed (idle %" G_GINT64_FORMAT " ms)", idle);
}

static void report(X11 *x, int64_t idle, hg_usec_t now) {
  x->last_input = hg_usec_sub(now, (hg_usec_t)idle * HG_USEC_PER_MSEC);
  agent_debug("X11: input %" G_GINT64_FORMAT " ms ago", idle);
  idle_method_input(&x->base, (uint32_t)(idle / 1000));
}

/* IDLETIME: input since the last report is reported now; without, the
 * alarm waits for the next. */
static void sync_check(X11 *x) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);
  int64_t idle = idle_msec(x);

  if (idle < 0)
    return;
  if (idle < PAUSE_MSEC ||
      (x->last_input && hg_usec_sub(now, (hg_usec_t)idle * HG_USEC_PER_MSEC) >
                            x->last_input + INPUT_SLACK_USEC)) {
    report(x, idle, now);
    schedule_at(x, hg_usec_add(now, x->base.ctx->urgent
                                        ? HG_USEC_PER_SEC
                                        : IDLE_REPORT_INTERVAL_USEC));
    return;
  }
  set_alarm(x, idle);
}

/* MIT-SCREEN-SAVER: report what is new, look again when it can matter. */
static void saver_check(X11 *x) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);
  int64_t idle = idle_msec(x);

  if (idle >= 0) {
    hg_usec_t input = hg_usec_sub(now, (hg_usec_t)idle * HG_USEC_PER_MSEC);
    if (!x->last_input || input > x->last_input + INPUT_SLACK_USEC)
      report(x, idle, now);
  }
  schedule_at(x, idle_method_next_poll(x->base.ctx, x->last_input, now));
}

static void check(X11 *x) {
  if (!x->base.active)
    return;
  if (x->sync)
    sync_check(x);
  else
    saver_check(x);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
  check(userdata);
  return 0;
}

static void on_alarm(X11 *x, xcb_sync_alarm_notify_event_t *ev) {
  hg_usec_t now = hg_now(CLOCK_MONOTONIC);

  if (ev->alarm != x->alarm || !x->base.active)
    return;
  drop_alarm(x);
  report(x, 0, now);
  /* After a pause the counter is read again: input meanwhile counts. */
  schedule_at(x, hg_usec_add(now, x->base.ctx->urgent
                                      ? HG_USEC_PER_SEC
                                      : IDLE_REPORT_INTERVAL_USEC));
}

static void lost(X11 *x) {
  agent_info("The X server went away");
  x->io = sd_event_source_disable_unref(x->io);
  (void)sd_event_source_set_enabled(x->timer, SD_EVENT_OFF);
  x->alarm = 0;
  idle_method_set_available(&x->base, false);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
  X11 *x = userdata;
  xcb_generic_event_t *ev;

  while ((ev = xcb_poll_for_event(x->conn))) {
    if (x->sync && (ev->response_type & 0x7f) ==
                       x->sync_event_base + XCB_SYNC_ALARM_NOTIFY)
      on_alarm(x, (xcb_sync_alarm_notify_event_t *)ev);
    free(ev);
  }
  if (xcb_connection_has_error(x->conn))
    lost(x);
  return 0;
}

static void activate(IdleMethod *base, bool active) {
  X11 *x = (X11 *)base;

  if (active) {
    check(x);
    return;
  }
  (void)sd_event_source_set_enabled(x->timer, SD_EVENT_OFF);
  if (x->conn && !xcb_connection_has_error(x->conn))
    drop_alarm(x);
  x->last_input = 0;
}

/* A warning is on screen: input since the last report counts now; the
 * alarm, if set, fires at the next. */
static void ctx_changed(IdleMethod *base) {
  X11 *x = (X11 *)base;

  if (!base->active)
    return;
  if (base->ctx->urgent && !x->alarm)
    check(x);
  else if (!x->sync)
    schedule_at(x, idle_method_next_poll(base->ctx, x->last_input,
                                         hg_now(CLOCK_MONOTONIC)));
}

/* The entries are read by hand: libxcb 1.15's iterator puts the name two
 * bytes too far (it counts the struct's padding) and then loses step.
 * Each entry: counter (4), resolution (8), name length (2), the name,
 * padding to a multiple of 4. */
static bool find_idletime(X11 *x) {
  xcb_sync_list_system_counters_reply_t *r =
      xcb_sync_list_system_counters_reply(
          x->conn, xcb_sync_list_system_counters(x->conn), NULL);
  const uint8_t *p, *end;
  bool found = false;

  if (!r)
    return false;
  p = (const uint8_t *)(r + 1);
  end = p + (size_t)r->length * 4;
  for (uint32_t i = 0; i < r->counters_len && !found && p + 14 <= end; i++) {
    uint32_t counter;
    uint16_t len;

    memcpy(&counter, p, sizeof(counter));
    memcpy(&len, p + 12, sizeof(len));
    if (p + 14 + len > end)
      break;
    if (len == 8 && memcmp(p + 14, "IDLETIME", 8) == 0) {
      x->idletime = counter;
      found = true;
    }
    p += (14 + len + 3) & ~3u;
  }
  free(r);
  return found;
}

static bool init_sync(X11 *x) {
  const xcb_query_extension_reply_t *ext =
      xcb_get_extension_data(x->conn, &xcb_sync_id);
  xcb_sync_initialize_reply_t *r;

  if (!ext || !ext->present)
    return false;
  r = xcb_sync_initialize_reply(x->conn,
                                xcb_sync_initialize(x->conn,
                                                    XCB_SYNC_MAJOR_VERSION,
                                                    XCB_SYNC_MINOR_VERSION),
                                NULL);
  if (!r)
    return false;
  free(r);
  x->sync_event_base = ext->first_event;
  return find_idletime(x);
}

static bool init_saver(X11 *x) {
  const xcb_query_extension_reply_t *ext =
      xcb_get_extension_data(x->conn, &xcb_screensaver_id);

  return ext && ext->present && idle_msec(x) >= 0;
}

/* Connects and finds what the server offers; false when nothing. */
static bool connect_display(X11 *x) {
  int screen = 0;
  const xcb_setup_t *setup;
  xcb_screen_iterator_t it;

  x->conn = xcb_connect(NULL, &screen);
  if (xcb_connection_has_error(x->conn)) {
    agent_debug("X11: cannot connect to %s", getenv("DISPLAY"));
    return false;
  }
  setup = xcb_get_setup(x->conn);
  for (it = xcb_setup_roots_iterator(setup); it.rem > 0 && screen > 0;
       xcb_screen_next(&it))
    screen--;
  if (it.rem == 0)
    return false;
  x->root = it.data->root;
  x->sync =
      g_strcmp0(x->base.ctx->only, "x11-screensaver") != 0 && init_sync(x);
  if (x->sync)
    return true;
  return init_saver(x);
}

static void x11_free(IdleMethod *base) {
  X11 *x = (X11 *)base;

  sd_event_source_disable_unref(x->io);
  sd_event_source_disable_unref(x->timer);
  if (x->conn)
    xcb_disconnect(x->conn);
  g_free(x);
}

static const IdleMethodOps ops = {
    .activate = activate,
    .ctx_changed = ctx_changed,
    .free = x11_free,
};

static int setup(X11 *x) {
  int r;

  r = sd_event_add_time(x->base.ctx->event, &x->timer, CLOCK_MONOTONIC,
                        UINT64_MAX, 0, on_timer, x);
  if (r >= 0)
    r = sd_event_source_set_enabled(x->timer, SD_EVENT_OFF);
  if (r < 0 || !getenv("DISPLAY") || !connect_display(x))
    return r;
  x->base.name = x->sync ? "x11-sync" : "x11-screensaver";
  x->base.words = x->sync ? "the X server's IDLETIME counter, with alarms"
                          : "the X server's MIT-SCREEN-SAVER idle time";
  return sd_event_add_io(x->base.ctx->event, &x->io,
                         xcb_get_file_descriptor(x->conn), EPOLLIN, on_io, x);
}

int idle_x11_new(const IdleContext *ctx, IdleMethod **ret) {
  X11 *x = g_new0(X11, 1);
  int r;

  x->base = (IdleMethod){.ops = &ops, .ctx = ctx, .name = "x11"};
  r = setup(x);
  if (r < 0) {
    x11_free(&x->base);
    return r;
  }
  x->base.settled = true;
  x->base.available = x->io != NULL;
  *ret = &x->base;
  return 0;
}

#else /* !HG_HAVE_XCB */

static void x11_activate(IdleMethod *m, bool active) {}
static void x11_free(IdleMethod *m) { g_free(m); }

static const IdleMethodOps ops = {
    .activate = x11_activate,
    .free = x11_free,
};

/* Built without xcb: never available. */
int idle_x11_new(const IdleContext *ctx, IdleMethod **ret) {
  IdleMethod *m = g_new0(IdleMethod, 1);

  *m = (IdleMethod){.ops = &ops, .ctx = ctx, .name = "x11", .settled = true};
  *ret = m;
  return 0;
}

#endif
