/* Input from Mutter's IdleMonitor or org.freedesktop.ScreenSaver on the
 * session bus; see hg-agent-idle.h. */
#include "hg-agent-idle.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-macros.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_IFACE "org.gnome.Mutter.IdleMonitor"
#define SAVER_NAME "org.freedesktop.ScreenSaver"
#define SAVER_PATH "/org/freedesktop/ScreenSaver"
#define SAVER_IFACE "org.freedesktop.ScreenSaver"

#define POLL_USEC (10 * HG_USEC_PER_SEC)
#define URGENT_POLL_USEC HG_USEC_PER_SEC
/* GetSessionIdleTime counts whole seconds: two polls may place the same
 * input up to a second apart. */
#define INPUT_SLACK_USEC (3 * HG_USEC_PER_SEC / 2)

typedef enum {
  SOURCE_NONE,
  SOURCE_MUTTER,
  SOURCE_SAVER,
  _SOURCE_MAX,
} Source;

static const char *const source_names[_SOURCE_MAX] = {
    [SOURCE_MUTTER] = MUTTER_NAME,
    [SOURCE_SAVER] = SAVER_NAME,
};

static const char *const source_words[_SOURCE_MAX] = {
    [SOURCE_NONE] = "none on the session bus (logind's idle hint alone)",
    [SOURCE_MUTTER] = "Mutter's IdleMonitor",
    [SOURCE_SAVER] = "org.freedesktop.ScreenSaver, polled",
};

struct IdleWatch {
  sd_bus *bus;
  sd_event *event;
  IdleActivityFunc on_activity;
  void *userdata;
  bool enabled;
  bool urgent;
  char *owner[_SOURCE_MAX];     /* unique names on the bus, NULL for none */
  bool owner_seen[_SOURCE_MAX]; /* NameOwnerChanged beat GetNameOwner */
  sd_bus_slot *owner_slot[_SOURCE_MAX];
  sd_bus_slot *matches[4];
  Source source;          /* the one in use */
  int announced;          /* the source last logged, -1 before the first */
  char *source_owner;     /* the connection whose watch we hold */
  uint32_t watch_id;      /* Mutter's user-active watch, 0 for none */
  sd_bus_slot *call_slot; /* AddUserActiveWatch or GetSessionIdleTime */
  sd_event_source *timer; /* Mutter: re-arm; ScreenSaver: next poll */
  hg_usec_t last_input;   /* ScreenSaver: CLOCK_MONOTONIC, 0 unknown */
  bool failure_logged;
};

static void schedule(IdleWatch *w, hg_usec_t delay) {
  int r = sd_event_source_set_time_relative(w->timer, delay);

  if (r >= 0)
    r = sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot set the idle timer");
}

static void log_failure(IdleWatch *w, const char *what, const sd_bus_error *e) {
  agent_log(w->failure_logged ? LOG_DEBUG : LOG_WARNING, "%s: %s", what,
            agent_bus_error_text(e));
  w->failure_logged = true;
}

/* --- Mutter: a watch that fires once, at the next input --- */

static int on_watch_added(sd_bus_message *reply, void *userdata,
                          sd_bus_error *ret_error) {
  IdleWatch *w = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);
  uint32_t id = 0;

  agent_slot_clear(&w->call_slot);
  if (e || sd_bus_message_read(reply, "u", &id) < 0) {
    log_failure(w, "Mutter's IdleMonitor gave no user-active watch", e);
    schedule(w, POLL_USEC); /* and try again */
    return 0;
  }
  w->failure_logged = false;
  w->watch_id = id;
  agent_debug("Mutter: user-active watch %u armed", id);
  return 0;
}

static void mutter_arm(IdleWatch *w) {
  int r;

  if (w->watch_id || w->call_slot)
    return;
  r = agent_bus_call(w->bus, &w->call_slot, w->source_owner, MUTTER_PATH,
                     MUTTER_IFACE, "AddUserActiveWatch", on_watch_added, w,
                     NULL);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot ask Mutter for a watch");
}

static int on_watch_fired(sd_bus_message *m, void *userdata,
                          sd_bus_error *ret_error) {
  IdleWatch *w = userdata;
  uint32_t id;

  if (w->source != SOURCE_MUTTER ||
      !agent_bus_message_from(m, w->source_owner) ||
      sd_bus_message_read(m, "u", &id) < 0 || id == 0 || id != w->watch_id)
    return 0;
  w->watch_id = 0;
  agent_debug("Mutter: input (watch %u fired)", id);
  /* The watch is spent. Re-armed at once it would fire at every key
   * press; after a pause, input keeps being noticed at that rate. */
  if (w->urgent)
    mutter_arm(w);
  else
    schedule(w, IDLE_REPORT_INTERVAL_USEC);
  w->on_activity(0, w->userdata);
  return 0;
}

/* --- org.freedesktop.ScreenSaver: the idle time, polled --- */

static int on_idle_time(sd_bus_message *reply, void *userdata,
                        sd_bus_error *ret_error) {
  IdleWatch *w = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);
  hg_usec_t input;
  uint32_t idle;

  agent_slot_clear(&w->call_slot);
  schedule(w, w->urgent ? URGENT_POLL_USEC : POLL_USEC);
  if (e || sd_bus_message_read(reply, "u", &idle) < 0) {
    log_failure(w, "org.freedesktop.ScreenSaver cannot tell the idle time", e);
    return 0;
  }
  w->failure_logged = false;
  input = hg_usec_sub(hg_now(CLOCK_MONOTONIC), hg_sec_to_usec(idle));
  /* Input since the last poll: the idle time dropped. */
  if (w->last_input && input <= w->last_input + INPUT_SLACK_USEC)
    return 0;
  w->last_input = input;
  agent_debug("ScreenSaver: input %u s ago", idle);
  w->on_activity(idle, w->userdata);
  return 0;
}

static void saver_poll(IdleWatch *w) {
  int r;

  if (w->call_slot)
    return; /* its reply schedules the next poll */
  r = agent_bus_call(w->bus, &w->call_slot, w->source_owner, SAVER_PATH,
                     SAVER_IFACE, "GetSessionIdleTime", on_idle_time, w, NULL);
  if (r < 0) {
    agent_log_errno(LOG_WARNING, r, "Cannot ask for the idle time");
    schedule(w, POLL_USEC);
  }
}

static int on_active_changed(sd_bus_message *m, void *userdata,
                             sd_bus_error *ret_error) {
  IdleWatch *w = userdata;

  /* The screen saver came or went: a person may be back, look now. */
  if (w->source == SOURCE_SAVER && agent_bus_message_from(m, w->source_owner))
    schedule(w, 0);
  return 0;
}

/* --- choosing the source --- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
  IdleWatch *w = userdata;

  if (w->source == SOURCE_MUTTER)
    mutter_arm(w);
  else if (w->source == SOURCE_SAVER)
    saver_poll(w);
  return 0;
}

static void stop(IdleWatch *w) {
  agent_slot_clear(&w->call_slot);
  (void)sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
  /* A watch of a Mutter still there is given back; one of a Mutter that
   * went away went with it. */
  if (w->watch_id && w->source == SOURCE_MUTTER &&
      g_strcmp0(w->owner[SOURCE_MUTTER], w->source_owner) == 0)
    (void)agent_bus_call(w->bus, NULL, w->source_owner, MUTTER_PATH,
                         MUTTER_IFACE, "RemoveWatch", NULL, NULL, "u",
                         w->watch_id);
  w->watch_id = 0;
  w->last_input = 0;
  w->failure_logged = false;
  g_clear_pointer(&w->source_owner, g_free);
  w->source = SOURCE_NONE;
}

static Source wanted_source(const IdleWatch *w) {
  if (!w->enabled)
    return SOURCE_NONE;
  if (w->owner[SOURCE_MUTTER])
    return SOURCE_MUTTER;
  if (w->owner[SOURCE_SAVER])
    return SOURCE_SAVER;
  return SOURCE_NONE;
}

/* Which source is used, once per change, when it is known: after both
 * names' owners have been asked for. */
static void announce(IdleWatch *w) {
  if (!w->enabled || w->owner_slot[SOURCE_MUTTER] ||
      w->owner_slot[SOURCE_SAVER] || w->announced == (int)w->source)
    return;
  w->announced = (int)w->source;
  agent_info("Input from %s", source_words[w->source]);
}

/* Mutter first: its watch sees every input at once, without polling. A
 * restarted source (new owner) starts over. */
static void refresh(IdleWatch *w) {
  Source s = wanted_source(w);

  if (s == w->source && g_strcmp0(w->owner[s], w->source_owner) == 0) {
    announce(w);
    return;
  }
  stop(w);
  w->source = s;
  w->source_owner = g_strdup(w->owner[s]);
  announce(w);
  if (s == SOURCE_MUTTER)
    mutter_arm(w);
  else if (s == SOURCE_SAVER)
    schedule(w, 0);
}

static void set_owner(IdleWatch *w, Source s, const char *owner) {
  g_free(w->owner[s]);
  w->owner[s] = owner && *owner ? g_strdup(owner) : NULL;
  refresh(w);
}

static Source source_of(const char *name) {
  for (Source s = SOURCE_MUTTER; s < _SOURCE_MAX; s++)
    if (strcmp(source_names[s], name) == 0)
      return s;
  return SOURCE_NONE;
}

static int on_owner_changed(sd_bus_message *m, void *userdata,
                            sd_bus_error *ret_error) {
  IdleWatch *w = userdata;
  const char *name, *old_owner, *new_owner;
  Source s;

  if (!agent_bus_message_from(m, DBUS_NAME) ||
      sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
    return 0;
  s = source_of(name);
  if (s == SOURCE_NONE)
    return 0;
  w->owner_seen[s] = true;
  set_owner(w, s, new_owner);
  return 0;
}

static int on_owner(IdleWatch *w, Source s, sd_bus_message *reply) {
  const char *owner = NULL;

  agent_slot_clear(&w->owner_slot[s]);
  if (w->owner_seen[s]) {
    refresh(w); /* the answer is stale; only the announcement is due */
    return 0;
  }
  if (!agent_bus_reply_error(reply))
    (void)sd_bus_message_read(reply, "s", &owner);
  set_owner(w, s, owner);
  return 0;
}

static int on_mutter_owner(sd_bus_message *reply, void *userdata,
                           sd_bus_error *ret_error) {
  return on_owner(userdata, SOURCE_MUTTER, reply);
}

static int on_saver_owner(sd_bus_message *reply, void *userdata,
                          sd_bus_error *ret_error) {
  return on_owner(userdata, SOURCE_SAVER, reply);
}

/* --- life --- */

static int watch_owner(IdleWatch *w, Source s, sd_bus_slot **ret_match,
                       sd_bus_message_handler_t on_reply) {
  g_autofree char *rule = g_strdup_printf(
      "type='signal',sender='" DBUS_NAME "',path='" DBUS_PATH "',"
      "interface='" DBUS_NAME "',member='NameOwnerChanged',arg0='%s'",
      source_names[s]);
  int r;

  r = sd_bus_add_match(w->bus, ret_match, rule, on_owner_changed, w);
  if (r < 0)
    return r;
  return agent_bus_call(w->bus, &w->owner_slot[s], DBUS_NAME, DBUS_PATH,
                        DBUS_NAME, "GetNameOwner", on_reply, w, "s",
                        source_names[s]);
}

static int setup(IdleWatch *w) {
  int r;

  r = sd_event_add_time(w->event, &w->timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                        on_timer, w);
  if (r >= 0)
    r = sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
  if (r >= 0)
    r = sd_bus_match_signal(w->bus, &w->matches[0], MUTTER_NAME, MUTTER_PATH,
                            MUTTER_IFACE, "WatchFired", on_watch_fired, w);
  if (r >= 0)
    r = sd_bus_match_signal(w->bus, &w->matches[1], SAVER_NAME, SAVER_PATH,
                            SAVER_IFACE, "ActiveChanged", on_active_changed, w);
  if (r >= 0)
    r = watch_owner(w, SOURCE_MUTTER, &w->matches[2], on_mutter_owner);
  if (r >= 0)
    r = watch_owner(w, SOURCE_SAVER, &w->matches[3], on_saver_owner);
  return r;
}

int idle_watch_new(sd_bus *bus, sd_event *event, IdleActivityFunc on_activity,
                   void *userdata, IdleWatch **ret) {
  IdleWatch *w = g_new0(IdleWatch, 1);
  int r;

  w->bus = sd_bus_ref(bus);
  w->event = sd_event_ref(event);
  w->on_activity = on_activity;
  w->userdata = userdata;
  w->announced = -1;
  r = setup(w);
  if (r < 0) {
    idle_watch_free(w);
    return r;
  }
  *ret = w;
  return 0;
}

IdleWatch *idle_watch_free(IdleWatch *w) {
  if (!w)
    return NULL;
  if (w->timer)
    stop(w);
  sd_event_source_disable_unref(w->timer);
  for (size_t i = 0; i < HG_ELEMENTSOF(w->matches); i++)
    sd_bus_slot_unref(w->matches[i]);
  for (Source s = SOURCE_NONE; s < _SOURCE_MAX; s++) {
    sd_bus_slot_unref(w->owner_slot[s]);
    g_free(w->owner[s]);
  }
  sd_bus_unref(w->bus);
  sd_event_unref(w->event);
  g_free(w);
  return NULL;
}

void idle_watch_set_enabled(IdleWatch *w, bool enabled) {
  w->enabled = enabled;
  if (!enabled)
    w->announced = -1;
  refresh(w);
}

void idle_watch_set_urgent(IdleWatch *w, bool urgent) {
  if (w->urgent == urgent)
    return;
  w->urgent = urgent;
  if (!urgent)
    return;
  /* A warning is on screen: the next input must clear it, now. */
  if (w->source == SOURCE_MUTTER && !w->watch_id && !w->call_slot) {
    (void)sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
    mutter_arm(w);
  } else if (w->source == SOURCE_SAVER)
    schedule(w, 0);
}
