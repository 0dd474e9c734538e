/* One way of seeing the user's input, behind one interface: Mutter's
 * IdleMonitor (hg-agent-idle-mutter.c), a Wayland compositor's idle
 * protocol (hg-agent-idle-wayland.c), the X server's idle counter
 * (hg-agent-idle-x11.c), org.freedesktop.ScreenSaver's idle time
 * (hg-agent-idle-saver.c). The chooser (hg-agent-idle.c) keeps them all,
 * and lets the best one that is available watch. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "hg-time.h"

typedef struct IdleMethod IdleMethod;

/* What every method shares with the chooser. */
typedef struct {
  sd_bus *bus; /* the session bus */
  sd_event *event;
  /* A warning is on screen: input is reported at once, and a method that
   * polls does so every second. */
  bool urgent;
  /* How long input may wait before a method that polls reports it: a bit
   * less than the session's WarnAfterSec, so that it arrives before any
   * warning would. */
  hg_usec_t horizon;
  /* --idle-method: the only method that may be used, NULL for any. */
  const char *only;
} IdleContext;

typedef struct {
  /* Watch input (the method was chosen) or stop. */
  void (*activate)(IdleMethod *m, bool active);
  /* ctx->urgent or ctx->horizon changed. */
  void (*ctx_changed)(IdleMethod *m);
  void (*free)(IdleMethod *m);
} IdleMethodOps;

struct IdleMethod {
  const IdleMethodOps *ops;
  const IdleContext *ctx;
  const char *name;  /* as ReportIdleSource says it: "x11-sync" */
  const char *words; /* as the log says it */
  bool settled;      /* whether it is available is known */
  bool available;
  bool active;
  void *chooser; /* the IdleWatch */
};

/* For the methods: input came idle_sec ago (only while active). */
void idle_method_input(IdleMethod *m, uint32_t idle_sec);
/* For the methods: usable or not (settled from then on); name and words
 * may change with it (an X server without the idle counter). */
void idle_method_set_available(IdleMethod *m, bool available);

/* The methods, in the chooser's order of preference. Each returns a method
 * that may not be available (yet), or -errno for a failure to set up. */
int idle_mutter_new(const IdleContext *ctx, IdleMethod **ret);
int idle_wayland_new(const IdleContext *ctx, IdleMethod **ret);
int idle_x11_new(const IdleContext *ctx, IdleMethod **ret);
int idle_saver_new(const IdleContext *ctx, IdleMethod **ret);

/* The next instant (CLOCK_MONOTONIC) a method that polls should look,
 * given the last input it saw: before the daemon would warn of it, at
 * least a second away. */
hg_usec_t idle_method_next_poll(const IdleContext *ctx, hg_usec_t last_input,
                                hg_usec_t now);
