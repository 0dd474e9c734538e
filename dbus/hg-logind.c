/* logind watcher; see hg-logind.h. */
#include "hg-logind.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hg-log.h"

#define LOGIND "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define LOGIND_SESSION "org.freedesktop.login1.Session"
#define LOGIND_SEAT "org.freedesktop.login1.Seat"
#define PROPERTIES "org.freedesktop.DBus.Properties"

typedef struct {
  unsigned n_ref; /* the table's, and one per callback running on it */
  HgLogind *owner;
  char *id;
  sd_bus_slot *changed; /* PropertiesChanged on the session's object */
  sd_bus_slot *call;    /* the pending GetSession or GetAll */
  int idle;             /* -1 until known */
  int locked;
  hg_usec_t idle_since;
} Watch;

struct HgLogind {
  sd_bus *bus;
  const HgClock *clock;
  char *seat;
  HgLogindCallbacks cb;
  void *userdata;
  GHashTable *watches; /* id -> Watch */
  char *seat_active;
  sd_bus_slot *seat_changed;
  sd_bus_slot *seat_call;
  sd_bus_slot *removed_match;
  sd_bus_slot *owner_match;
};

hg_usec_t hg_logind_realtime_to_boottime(const HgClock *clock,
                                         uint64_t realtime) {
  hg_usec_t real_now = clock->now(clock, CLOCK_REALTIME);
  hg_usec_t boot_now = clock->now(clock, CLOCK_BOOTTIME);

  if (realtime == 0 || realtime >= real_now)
    return boot_now;
  return hg_usec_sub(boot_now, real_now - realtime);
}

/* An owner's callback may unwatch the very session being reported: the
 * watch lives on until that report is done. */
static Watch *watch_ref(Watch *w) {
  w->n_ref++;
  return w;
}

static void watch_unref(gpointer p) {
  Watch *w = p;

  if (--w->n_ref > 0)
    return;
  sd_bus_slot_unref(w->changed);
  sd_bus_slot_unref(w->call);
  g_free(w->id);
  g_free(w);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Watch, watch_unref)

/* Reads IdleHint, IdleSinceHint and LockedHint out of an a{sv} and tells
 * the owner what changed. */
static int apply_properties(Watch *w, sd_bus_message *m) {
  g_autoptr(Watch) held = watch_ref(w);
  HgLogind *l = w->owner;
  int idle = w->idle, locked = w->locked, r;
  uint64_t since = 0;
  bool have_since = false;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *name;
    int b;
    if ((r = sd_bus_message_read(m, "s", &name)) < 0)
      return r;
    if (strcmp(name, "IdleHint") == 0 || strcmp(name, "LockedHint") == 0) {
      if ((r = sd_bus_message_read(m, "v", "b", &b)) < 0)
        return r;
      *(strcmp(name, "IdleHint") == 0 ? &idle : &locked) = b;
    } else if (strcmp(name, "IdleSinceHint") == 0) {
      if ((r = sd_bus_message_read(m, "v", "t", &since)) < 0)
        return r;
      have_since = true;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0)
      return r;
    if ((r = sd_bus_message_exit_container(m)) < 0)
      return r;
  }
  if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
    return r;

  /* 0 stays 0: logind has no such time (nobody ever set the hint of a
   * graphical session; a tty session's is its atime, never signalled). */
  if (have_since && since)
    since = hg_logind_realtime_to_boottime(l->clock, since);
  if (idle >= 0 &&
      (idle != w->idle || (have_since && since != w->idle_since))) {
    w->idle = idle;
    w->idle_since = have_since ? since : hg_clock_boottime(l->clock);
    if (l->cb.idle)
      l->cb.idle(l, w->id, idle, w->idle_since, l->userdata);
  }
  if (locked >= 0 && locked != w->locked) {
    bool first = w->locked < 0;
    w->locked = locked;
    if (!first && l->cb.locked)
      l->cb.locked(l, w->id, locked, l->userdata);
  }
  return 0;
}

static int on_session_all(sd_bus_message *m, void *userdata,
                          sd_bus_error *error) {
  Watch *w = userdata;

  w->call = sd_bus_slot_unref(w->call);
  if (sd_bus_message_is_method_error(m, NULL)) {
    hg_debug("logind session %s: %s", w->id,
             sd_bus_message_get_error(m)->message);
    return 0;
  }
  return apply_properties(w, m);
}

static void read_session(Watch *w, const char *path) {
  int r = sd_bus_call_method_async(w->owner->bus, &w->call, LOGIND, path,
                                   PROPERTIES, "GetAll", on_session_all, w, "s",
                                   LOGIND_SESSION);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot read logind session %s", w->id);
}

static int on_session_changed(sd_bus_message *m, void *userdata,
                              sd_bus_error *error) {
  Watch *w = userdata;
  const char *iface;
  int r;

  r = sd_bus_message_read(m, "s", &iface);
  if (r < 0 || strcmp(iface, LOGIND_SESSION) != 0)
    return 0;
  r = apply_properties(w, m);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Bad PropertiesChanged from logind");
  return 0;
}

static void session_gone(HgLogind *l, const char *id) {
  g_autofree char *copy = g_strdup(id); /* the callback may free id */

  if (!g_hash_table_contains(l->watches, id))
    return;
  if (l->cb.removed)
    l->cb.removed(l, copy, l->userdata);
}

static int on_session_path(sd_bus_message *m, void *userdata,
                           sd_bus_error *error) {
  Watch *w = userdata;
  const char *path;
  int r;

  w->call = sd_bus_slot_unref(w->call);
  if (sd_bus_message_is_method_error(m, NULL)) {
    /* logind does not know it (any more): it is gone. */
    session_gone(w->owner, w->id);
    return 0;
  }
  r = sd_bus_message_read(m, "o", &path);
  if (r < 0)
    return r;
  w->changed = sd_bus_slot_unref(w->changed);
  r = sd_bus_match_signal_async(w->owner->bus, &w->changed, LOGIND, path,
                                PROPERTIES, "PropertiesChanged",
                                on_session_changed, NULL, w);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot follow logind session %s", w->id);
  read_session(w, path);
  return 0;
}

static void resolve_session(Watch *w) {
  int r;

  w->call = sd_bus_slot_unref(w->call);
  r = sd_bus_call_method_async(w->owner->bus, &w->call, LOGIND, LOGIND_PATH,
                               LOGIND_MANAGER, "GetSession", on_session_path, w,
                               "s", w->id);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot look up logind session %s", w->id);
}

void hg_logind_watch(HgLogind *l, const char *logind_id) {
  Watch *w;

  if (g_hash_table_contains(l->watches, logind_id))
    return;
  w = g_new0(Watch, 1);
  w->n_ref = 1;
  w->owner = l;
  w->id = g_strdup(logind_id);
  w->idle = w->locked = -1;
  g_hash_table_insert(l->watches, w->id, w);
  resolve_session(w);
}

bool hg_logind_get_idle(HgLogind *l, const char *logind_id, bool *ret_idle,
                        hg_usec_t *ret_since) {
  Watch *w = g_hash_table_lookup(l->watches, logind_id);

  if (!w || w->idle < 0)
    return false;
  *ret_idle = w->idle;
  *ret_since = w->idle_since;
  return true;
}

void hg_logind_unwatch(HgLogind *l, const char *logind_id) {
  g_hash_table_remove(l->watches, logind_id);
}

static void set_seat_active(HgLogind *l, const char *id) {
  if (g_strcmp0(l->seat_active, id) == 0)
    return;
  g_free(l->seat_active);
  l->seat_active = g_strdup(id);
  if (l->cb.seat_active)
    l->cb.seat_active(l, id, l->userdata);
}

/* ActiveSession out of a Seat's a{sv}. */
static int apply_seat(HgLogind *l, sd_bus_message *m) {
  const char *id = NULL, *path;
  bool found = false;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *name;
    if ((r = sd_bus_message_read(m, "s", &name)) < 0)
      return r;
    if (strcmp(name, "ActiveSession") == 0) {
      if ((r = sd_bus_message_read(m, "v", "(so)", &id, &path)) < 0)
        return r;
      found = true;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0)
      return r;
    if ((r = sd_bus_message_exit_container(m)) < 0)
      return r;
  }
  if (found)
    set_seat_active(l, id && *id ? id : NULL);
  return r;
}

static int on_seat_all(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  HgLogind *l = userdata;

  l->seat_call = sd_bus_slot_unref(l->seat_call);
  if (sd_bus_message_is_method_error(m, NULL)) {
    hg_debug("logind seat %s: %s", l->seat,
             sd_bus_message_get_error(m)->message);
    return 0;
  }
  return apply_seat(l, m);
}

static int on_seat_changed(sd_bus_message *m, void *userdata,
                           sd_bus_error *error) {
  const char *iface;

  if (sd_bus_message_read(m, "s", &iface) < 0 ||
      strcmp(iface, LOGIND_SEAT) != 0)
    return 0;
  (void)apply_seat(userdata, m);
  return 0;
}

static int on_seat_path(sd_bus_message *m, void *userdata,
                        sd_bus_error *error) {
  HgLogind *l = userdata;
  const char *path;
  int r;

  l->seat_call = sd_bus_slot_unref(l->seat_call);
  if (sd_bus_message_is_method_error(m, NULL)) {
    hg_notice("logind has no seat %s: %s", l->seat,
              sd_bus_message_get_error(m)->message);
    return 0;
  }
  r = sd_bus_message_read(m, "o", &path);
  if (r < 0)
    return r;
  l->seat_changed = sd_bus_slot_unref(l->seat_changed);
  r = sd_bus_match_signal_async(l->bus, &l->seat_changed, LOGIND, path,
                                PROPERTIES, "PropertiesChanged",
                                on_seat_changed, NULL, l);
  if (r >= 0)
    r = sd_bus_call_method_async(l->bus, &l->seat_call, LOGIND, path,
                                 PROPERTIES, "GetAll", on_seat_all, l, "s",
                                 LOGIND_SEAT);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot follow seat %s", l->seat);
  return 0;
}

static void resolve_seat(HgLogind *l) {
  int r;

  l->seat_call = sd_bus_slot_unref(l->seat_call);
  r = sd_bus_call_method_async(l->bus, &l->seat_call, LOGIND, LOGIND_PATH,
                               LOGIND_MANAGER, "GetSeat", on_seat_path, l, "s",
                               l->seat);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot look up seat %s", l->seat);
}

static int on_session_removed(sd_bus_message *m, void *userdata,
                              sd_bus_error *error) {
  const char *id, *path;

  if (sd_bus_message_read(m, "so", &id, &path) >= 0)
    session_gone(userdata, id);
  return 0;
}

/* logind (re)started: everything it said before may have changed. */
static int on_owner_changed(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  HgLogind *l = userdata;
  const char *name, *old_owner, *new_owner;
  GHashTableIter it;
  gpointer value;

  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
      strcmp(name, LOGIND) != 0 || !*new_owner)
    return 0;
  hg_info("logind appeared on the bus: following it again");
  resolve_seat(l);
  g_hash_table_iter_init(&it, l->watches);
  while (g_hash_table_iter_next(&it, NULL, &value))
    resolve_session(value);
  return 0;
}

int hg_logind_new(sd_bus *bus, const HgClock *clock, const char *seat,
                  const HgLogindCallbacks *cb, void *userdata, HgLogind **ret) {
  HgLogind *l = g_new0(HgLogind, 1);
  int r;

  l->bus = sd_bus_ref(bus);
  l->clock = clock;
  l->seat = g_strdup(seat);
  l->cb = *cb;
  l->userdata = userdata;
  l->watches =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, watch_unref);
  r = sd_bus_add_match_async(
      bus, &l->owner_match,
      "type='signal',sender='org.freedesktop.DBus',"
      "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
      "arg0='" LOGIND "'",
      on_owner_changed, NULL, l);
  if (r >= 0)
    r = sd_bus_match_signal_async(bus, &l->removed_match, LOGIND, LOGIND_PATH,
                                  LOGIND_MANAGER, "SessionRemoved",
                                  on_session_removed, NULL, l);
  if (r < 0) {
    hg_logind_free(l);
    return r;
  }
  resolve_seat(l);
  *ret = l;
  return 0;
}

HgLogind *hg_logind_free(HgLogind *l) {
  if (!l)
    return NULL;
  g_hash_table_destroy(l->watches);
  sd_bus_slot_unref(l->seat_changed);
  sd_bus_slot_unref(l->seat_call);
  sd_bus_slot_unref(l->removed_match);
  sd_bus_slot_unref(l->owner_match);
  sd_bus_unref(l->bus);
  g_free(l->seat);
  g_free(l->seat_active);
  g_free(l);
  return NULL;
}

static int on_action_done(sd_bus_message *m, void *userdata,
                          sd_bus_error *error) {
  char *what = userdata;

  if (sd_bus_message_is_method_error(m, NULL))
    hg_warning("logind refused to %s: %s", what,
               sd_bus_message_get_error(m)->message);
  g_free(what);
  return 0;
}

static void call_action(HgLogind *l, const char *method, const char *id) {
  char *what = g_strdup_printf("%s %s", method, id);
  int r = sd_bus_call_method_async(l->bus, NULL, LOGIND, LOGIND_PATH,
                                   LOGIND_MANAGER, method, on_action_done, what,
                                   "s", id);
  if (r < 0) {
    hg_log_errno(LOG_WARNING, r, "Cannot ask logind to %s", what);
    g_free(what);
  }
}

void hg_logind_terminate(HgLogind *l, const char *logind_id) {
  call_action(l, "TerminateSession", logind_id);
}

void hg_logind_lock(HgLogind *l, const char *logind_id) {
  call_action(l, "LockSession", logind_id);
}
