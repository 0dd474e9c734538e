/* Desktop sessions and seat idleness from logind; see hg-desktop.h. */
#include "hg-desktop-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-bus.h"
#include "hg-groups.h"
#include "hg-log.h"
#include "hg-policy-rules.h"
#include "hg-tty.h"

#define LOGIND "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"

#define GROUPS_TIMEOUT_USEC (10 * HG_USEC_PER_SEC)

/* What the daemon needs of a logind Session, out of its a{sv}: strings
 * owned by the message read, or (in a Pending) copied. */
typedef struct {
  const char *name;
  uint32_t uid;
  const char *type;
  const char *tty;
  const char *seat;
  const char *service;
  int locked; /* LockedHint, -1: not said */
} SessionInfo;

typedef struct {
  HgDesktop *d;
  sd_bus_message *m;
  char *logind_id;
  sd_bus_slot *slot;
  sd_bus_message *props; /* logind's answer: info's strings are in it */
  SessionInfo info;
  HgGroupsQuery *groups;
} Pending;

static void desk_free(gpointer p) {
  Desk *k = p;

  desk_idle_end(k);
  g_free(k->tty);
  g_free(k->logind_id);
  g_free(k->user);
  g_free(k->session_id);
  g_free(k->policy);
  g_free(k);
}

static void pending_free(gpointer p) {
  Pending *q = p;

  sd_bus_slot_unref(q->slot);
  hg_groups_query_free(q->groups);
  sd_bus_message_unref(q->props);
  sd_bus_message_unref(q->m);
  g_free(q->logind_id);
  g_free(q);
}

static HgSession *session_of(HgDesktop *d, Desk *k) {
  return k->session_id ? hg_registry_lookup(d->reg, k->session_id) : NULL;
}

/* A new managed session for a logind session (at registration, and again
 * when a session locked at its end is unlocked). */
static int arm(HgDesktop *d, Desk *k) {
  HgSession *s;
  int r;

  r = hg_registry_create(d->reg,
                         &(HgSessionInit){.source = HG_SESSION_SOURCE_DESKTOP,
                                          .user = k->user,
                                          .uid = k->uid,
                                          .peer_uid = HG_PEER_UID_UNKNOWN,
                                          .logind_id = k->logind_id,
                                          .policy = k->policy},
                         &s);
  if (r < 0)
    return r;
  g_free(k->session_id);
  k->session_id = g_strdup(hg_session_get_id(s));
  k->locked_by_us = false;
  g_hash_table_insert(d->by_session, k->session_id, k);
  desk_idle_begin(d, k);
  return 0;
}

static void drop(HgDesktop *d, Desk *k) {
  if (k->session_id)
    g_hash_table_remove(d->by_session, k->session_id);
  if (g_strcmp0(k->logind_id, d->seat_session) != 0)
    hg_logind_unwatch(d->logind, k->logind_id);
  g_hash_table_remove(d->by_logind, k->logind_id);
}

/* The web sessions feel the kiosk's input as one activity per "not idle"
 * edge of the seat's active session. */
static void seat_idle(HgDesktop *d, bool idle) {
  g_autoptr(GPtrArray) all = NULL;

  if (d->seat_idle == 1 && !idle &&
      (d->config->idle_sources & HG_IDLE_SOURCE_LOGIND)) {
    all = hg_registry_list(d->reg);
    for (guint i = 0; i < all->len; i++)
      if (hg_session_get_source(all->pdata[i]) == HG_SESSION_SOURCE_WEB)
        (void)hg_registry_touch(d->reg, all->pdata[i], HG_TOUCH_ACTIVITY, 0);
  }
  d->seat_idle = idle;
}

static void on_idle(HgLogind *l, const char *id, bool idle, hg_usec_t since,
                    void *userdata) {
  HgDesktop *d = userdata;
  Desk *k = g_hash_table_lookup(d->by_logind, id);

  if (k)
    desk_idle_logind(d, k, idle, since);
  if (g_strcmp0(id, d->seat_session) == 0)
    seat_idle(d, idle);
}

static void on_locked(HgLogind *l, const char *id, bool locked,
                      void *userdata) {
  HgDesktop *d = userdata;
  Desk *k = g_hash_table_lookup(d->by_logind, id);
  HgSession *s = k ? session_of(d, k) : NULL;
  int r;

  /* lock-then-terminate: the person is back before LockedMaxSec. */
  if (s && !locked && hg_session_get_times(s)->locked_at) {
    hg_info("Desktop session %s of %s unlocked: active again", k->session_id,
            k->user);
    (void)hg_registry_unlock(d->reg, s);
    return;
  }
  if (!k || locked || !k->locked_by_us)
    return;
  r = arm(d, k);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot re-arm desktop session %s", id);
  else
    hg_info("Desktop session %s unlocked: managed again as %s", id,
            k->session_id);
}

static void on_removed(HgLogind *l, const char *id, void *userdata) {
  HgDesktop *d = userdata;
  Desk *k = g_hash_table_lookup(d->by_logind, id);
  HgSession *s;

  if (!k)
    return;
  s = session_of(d, k);
  if (s) {
    g_hash_table_remove(d->by_session, k->session_id);
    hg_registry_end(d->reg, s, HG_END_REASON_LOGOUT);
  }
  drop(d, k);
}

static void on_seat_active(HgLogind *l, const char *id, void *userdata) {
  HgDesktop *d = userdata;

  if (d->seat_session && !g_hash_table_contains(d->by_logind, d->seat_session))
    hg_logind_unwatch(d->logind, d->seat_session);
  g_free(d->seat_session);
  d->seat_session = g_strdup(id);
  d->seat_idle = -1;
  if (id)
    hg_logind_watch(d->logind, id);
}

/* A managed desktop session ended: logind carries out the end. */
static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgDesktop *d = userdata;
  HgEndReason reason = hg_session_get_end_reason(s);
  Desk *k = g_hash_table_lookup(d->by_session, hg_session_get_id(s));

  if (k && event == HG_REGISTRY_EVENT_STAGE) {
    if (!hg_session_get_times(s)->locked_at)
      return; /* unlocked: logind told us */
    hg_info("Desktop session %s of %s reached its idle limit: locked, and "
            "terminated in %" PRIu64 " s unless unlocked",
            k->session_id, k->user,
            hg_usec_to_sec_ceil(hg_session_get_limits(s)->locked_max));
    hg_logind_lock(d->logind, k->logind_id);
    return;
  }
  if (!k || event != HG_REGISTRY_EVENT_ENDED)
    return;
  g_hash_table_remove(d->by_session, k->session_id);
  g_clear_pointer(&k->session_id, g_free);
  desk_idle_end(k);
  if ((reason == HG_END_REASON_IDLE_TIMEOUT ||
       reason == HG_END_REASON_MAX_AGE) &&
      hg_session_get_limits(s)->action == HG_DESKTOP_ACTION_LOCK) {
    hg_logind_lock(d->logind, k->logind_id);
    k->locked_by_us = true;
    return;
  }
  if (reason == HG_END_REASON_IDLE_TIMEOUT || reason == HG_END_REASON_MAX_AGE ||
      reason == HG_END_REASON_TERMINATED ||
      reason == HG_END_REASON_LOCKED_TIMEOUT)
    hg_logind_terminate(d->logind, k->logind_id);
  drop(d, k);
}

static bool valid_logind_id(const char *id) {
  size_t n = strlen(id);

  if (n == 0 || n > 64)
    return false;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
      return false;
  return true;
}

static int read_info_entry(sd_bus_message *m, SessionInfo *info) {
  const char *name, *upath, *seat_path;
  int r;

  r = sd_bus_message_read(m, "s", &name);
  if (r < 0)
    return r;
  if (strcmp(name, "Name") == 0)
    return sd_bus_message_read(m, "v", "s", &info->name);
  if (strcmp(name, "User") == 0)
    return sd_bus_message_read(m, "v", "(uo)", &info->uid, &upath);
  if (strcmp(name, "Type") == 0)
    return sd_bus_message_read(m, "v", "s", &info->type);
  if (strcmp(name, "TTY") == 0)
    return sd_bus_message_read(m, "v", "s", &info->tty);
  if (strcmp(name, "Seat") == 0)
    return sd_bus_message_read(m, "v", "(so)", &info->seat, &seat_path);
  if (strcmp(name, "Service") == 0)
    return sd_bus_message_read(m, "v", "s", &info->service);
  if (strcmp(name, "LockedHint") == 0)
    return sd_bus_message_read(m, "v", "b", &info->locked);
  return sd_bus_message_skip(m, "v");
}

static int read_info(sd_bus_message *m, SessionInfo *info) {
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0)
    if ((r = read_info_entry(m, info)) < 0 ||
        (r = sd_bus_message_exit_container(m)) < 0)
      return r;
  return r;
}

/* logind's graphical types. Others (tty, unspecified, web) cannot have
 * the idle hint set; logind reads their tty instead, and so do we. */
static bool type_is_graphical(const char *type) {
  static const char *const non_graphical[] = {"tty", "unspecified", "web",
                                              NULL};

  return !type || !g_strv_contains(non_graphical, type);
}

static Desk *desk_new(HgDesktop *d, const char *logind_id, const char *user,
                      uid_t uid, const SessionInfo *info) {
  Desk *k = g_new0(Desk, 1);
  bool known_idle;

  k->owner = d;
  k->logind_id = g_strdup(logind_id);
  k->user = g_strdup(user);
  k->uid = uid;
  k->idle = -1;
  k->graphical = type_is_graphical(info->type);
  if (!k->graphical && info->tty && hg_tty_name_is_valid(info->tty))
    k->tty = g_strdup(info->tty);
  else if (!k->graphical && info->tty && *info->tty)
    hg_notice("logind session %s has a tty hourglass does not read: '%s'",
              logind_id, info->tty);
  /* Already followed (it is the seat's active session): what logind said
   * of it applies at once; else its first report will. */
  if (hg_logind_get_idle(d->logind, logind_id, &known_idle, &k->idle_since)) {
    k->idle = known_idle;
    k->hinted = known_idle || k->idle_since != 0;
  }
  return k;
}

/* The rule of a desktop login: its seat and PAM service as logind has
 * them, its groups as NSS said (NULL: unknown, so no group rule). */
static const HgPolicyRule *rule_of(HgDesktop *d, const SessionInfo *info,
                                   const char *const *groups) {
  HgPolicyWho who = {
      .user = info->name,
      .groups = groups,
      .source = HG_SESSION_SOURCE_DESKTOP,
      .seat = info->seat && *info->seat ? info->seat : NULL,
      .service = info->service && *info->service ? info->service : NULL,
  };

  return hg_policy_rules_match(d->config->rules, &who);
}

static int finish_register(Pending *q, const char *const *groups) {
  const SessionInfo *info = &q->info;
  const HgPolicyRule *rule = rule_of(q->d, info, groups);
  HgDesktop *d = q->d;
  Desk *k;
  int r;

  k = desk_new(d, q->logind_id, info->name, info->uid, info);
  k->policy = rule ? g_strdup(rule->name) : NULL;
  g_hash_table_insert(d->by_logind, k->logind_id, k);
  r = arm(d, k);
  if (r < 0) {
    g_hash_table_remove(d->by_logind, k->logind_id);
    return sd_bus_reply_method_errorf(q->m, SD_BUS_ERROR_FAILED,
                                      "Cannot create the session: %s",
                                      g_strerror(-r));
  }
  hg_info("Desktop session %s of %s (logind session %s, seat %s, service "
          "%s): policy %s",
          k->session_id, k->user, k->logind_id,
          info->seat && *info->seat ? info->seat : "-",
          info->service && *info->service ? info->service : "-",
          rule ? rule->name : "fallback");
  hg_logind_watch(d->logind, k->logind_id);
  return sd_bus_reply_method_return(q->m, "s", k->session_id);
}

/* Registered meanwhile (the same login twice at once): its id. */
static bool reply_if_known(Pending *q) {
  Desk *k = g_hash_table_lookup(q->d->by_logind, q->logind_id);

  if (!k)
    return false;
  (void)sd_bus_reply_method_return(q->m, "s", k->session_id ?: "");
  return true;
}

static void on_groups(HgGroupsQuery *query, int r, const char *const *groups,
                      void *userdata) {
  Pending *q = userdata;

  if (r < 0)
    hg_warning("Cannot tell the groups of %s (%s): its desktop session gets "
               "no group's policy rule",
               q->info.name, g_strerror(-r));
  if (!reply_if_known(q))
    (void)finish_register(q, groups);
  g_hash_table_remove(q->d->pending, q);
}

/* Below MinUid: not managed. Else its groups first, off the loop. */
static int start_register(Pending *q) {
  HgDesktop *d = q->d;
  const SessionInfo *info = &q->info;

  if ((uint64_t)info->uid < d->config->min_uid) {
    hg_info("Desktop session %s of %s (uid %u) is not managed: below MinUid",
            q->logind_id, info->name, info->uid);
    return sd_bus_reply_method_return(q->m, "s", "");
  }
  if (!d->event) { /* no loop to come back to (tools): ask now */
    g_auto(GStrv) groups = NULL;
    (void)hg_groups_lookup(info->name, &groups);
    return finish_register(q, (const char *const *)groups);
  }
  return hg_groups_query_new(d->event, info->name, GROUPS_TIMEOUT_USEC,
                             on_groups, q, &q->groups);
}

static int on_register_props(sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
  Pending *q = userdata;
  int r;

  q->slot = sd_bus_slot_unref(q->slot);
  q->props = sd_bus_message_ref(reply);
  if (sd_bus_message_is_method_error(reply, NULL) ||
      read_info(reply, &q->info) < 0 || !q->info.name || !*q->info.name) {
    (void)sd_bus_reply_method_errorf(q->m, SD_BUS_ERROR_INVALID_ARGS,
                                     "logind cannot tell the owner of %s",
                                     q->logind_id);
  } else if (!reply_if_known(q)) {
    r = start_register(q);
    if (r < 0)
      (void)sd_bus_reply_method_errno(q->m, r, NULL);
    if (q->groups)
      return 0; /* on_groups() goes on */
  }
  g_hash_table_remove(q->d->pending, q);
  return 0;
}

static int on_register_path(sd_bus_message *reply, void *userdata,
                            sd_bus_error *error) {
  Pending *q = userdata;
  const char *path;
  int r;

  q->slot = sd_bus_slot_unref(q->slot);
  if (sd_bus_message_is_method_error(reply, NULL) ||
      sd_bus_message_read(reply, "o", &path) < 0) {
    (void)sd_bus_reply_method_errorf(q->m, SD_BUS_ERROR_INVALID_ARGS,
                                     "logind knows no session %s",
                                     q->logind_id);
    g_hash_table_remove(q->d->pending, q);
    return 0;
  }
  r = sd_bus_call_method_async(
      q->d->bus, &q->slot, LOGIND, path, "org.freedesktop.DBus.Properties",
      "GetAll", on_register_props, q, "s", "org.freedesktop.login1.Session");
  if (r < 0) {
    (void)sd_bus_reply_method_errno(q->m, r, NULL);
    g_hash_table_remove(q->d->pending, q);
  }
  return 0;
}

static int logind_call(HgDesktop *d, const char *path, const char *iface,
                       const char *member, sd_bus_message **ret,
                       const char *types, const char *a, const char *b) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  int r;

  r = sd_bus_message_new_method_call(d->bus, &m, LOGIND, path, iface, member);
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r >= 0)
    r = b ? sd_bus_message_append(m, types, a, b)
          : sd_bus_message_append(m, types, a);
  if (r >= 0)
    r = sd_bus_call(d->bus, m, 2 * HG_USEC_PER_SEC, &error, ret);
  return r;
}

/* Whether logind still has the session, and what it says of it: at
 * start-up, before the daemon says it is ready, so blocking calls with a
 * short timeout. Its object is read too: that is what proves it exists.
 * *ret_props holds the strings of info. */
static bool logind_has(HgDesktop *d, const char *logind_id,
                       sd_bus_message **ret_props, SessionInfo *info) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *path_reply = NULL;
  const char *path;

  return logind_call(d, LOGIND_PATH, "org.freedesktop.login1.Manager",
                     "GetSession", &path_reply, "s", logind_id, NULL) >= 0 &&
         sd_bus_message_read(path_reply, "o", &path) >= 0 &&
         logind_call(d, path, "org.freedesktop.DBus.Properties", "GetAll",
                     ret_props, "s", "org.freedesktop.login1.Session",
                     NULL) >= 0 &&
         read_info(*ret_props, info) >= 0;
}

/* Followed again; what its sources say applies once logind has answered
 * (the first processing judges the restored session first). */
static void take_back(HgDesktop *d, HgSession *s) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *props = NULL;
  const char *logind_id = hg_session_get_logind_id(s);
  g_autofree char *f_session =
      g_strconcat("HG_SESSION=", hg_session_get_id(s), NULL);
  SessionInfo info = {.locked = -1};
  Desk *k;

  if (!logind_id || g_hash_table_contains(d->by_logind, logind_id) ||
      !logind_has(d, logind_id, &props, &info)) {
    hg_log_fields(LOG_NOTICE, (const char *[]){f_session, NULL},
                  "Desktop session %s of %s not taken back: logind no longer "
                  "has session %s",
                  hg_session_get_id(s), hg_session_get_user(s),
                  logind_id ? logind_id : "(none)");
    hg_registry_end(d->reg, s, HG_END_REASON_LOGOUT);
    return;
  }
  k = desk_new(d, logind_id, hg_session_get_user(s), hg_session_get_uid(s),
               &info);
  k->session_id = g_strdup(hg_session_get_id(s));
  g_hash_table_insert(d->by_logind, k->logind_id, k);
  g_hash_table_insert(d->by_session, k->session_id, k);
  hg_logind_watch(d->logind, k->logind_id);
  /* Its idle sources again: the tty is read, the agent will report. */
  desk_idle_begin(d, k);
  /* Locked by hourglass, unlocked while it was away: logind's LockedHint
   * is all that is left of the unlock (the watch reports changes only).
   * A desktop that never sets the hint gets its lock lifted by a restart:
   * the lesser mistake than ending a session someone is using. Last: the
   * unlock judges the session first, and may end it. */
  if (hg_session_get_times(s)->locked_at && info.locked == 0) {
    hg_info("Desktop session %s of %s was unlocked meanwhile: active again",
            hg_session_get_id(s), hg_session_get_user(s));
    (void)hg_registry_unlock(d->reg, s);
  }
}

void hg_desktop_take_back(HgDesktop *d) {
  g_autoptr(GPtrArray) all = hg_registry_list(d->reg);

  for (guint i = 0; i < all->len; i++) {
    HgSession *s = all->pdata[i];
    if (hg_session_is_restored(s) &&
        hg_session_get_source(s) == HG_SESSION_SOURCE_DESKTOP &&
        !g_hash_table_contains(d->by_session, hg_session_get_id(s)))
      take_back(d, s);
  }
}

int hg_desktop_register(HgDesktop *d, sd_bus_message *m, sd_bus_error *error) {
  const char *id;
  Desk *k;
  Pending *q;
  int r;

  r = sd_bus_message_read(m, "s", &id);
  if (r < 0)
    return r;
  if (!valid_logind_id(id))
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Not a logind session id");
  k = g_hash_table_lookup(d->by_logind, id);
  if (k)
    return sd_bus_reply_method_return(m, "s", k->session_id ?: "");
  /* Who owns it comes from logind, never from the caller. */
  q = g_new0(Pending, 1);
  q->d = d;
  q->m = sd_bus_message_ref(m);
  q->logind_id = g_strdup(id);
  q->info.locked = -1;
  g_hash_table_add(d->pending, q);
  r = sd_bus_call_method_async(d->bus, &q->slot, LOGIND, LOGIND_PATH,
                               "org.freedesktop.login1.Manager", "GetSession",
                               on_register_path, q, "s", id);
  if (r < 0) {
    g_hash_table_remove(d->pending, q);
    return r;
  }
  return 1;
}

const char *hg_desktop_logind_id(HgDesktop *d, const char *session_id) {
  Desk *k = g_hash_table_lookup(d->by_session, session_id);
  return k ? k->logind_id : NULL;
}

int hg_desktop_unregister(HgDesktop *d, sd_bus_message *m,
                          sd_bus_error *error) {
  const char *id;
  Desk *k;
  HgSession *s;
  int r;

  r = sd_bus_message_read(m, "s", &id);
  if (r < 0)
    return r;
  k = g_hash_table_lookup(d->by_logind, id);
  if (k) {
    s = session_of(d, k);
    if (s) {
      g_hash_table_remove(d->by_session, k->session_id);
      hg_registry_end(d->reg, s, HG_END_REASON_LOGOUT);
    }
    drop(d, k);
  }
  return sd_bus_reply_method_return(m, NULL);
}

int hg_desktop_new(sd_bus *bus, HgRegistry *reg, const HgConfig *config,
                   HgDesktop **ret) {
  static const HgLogindCallbacks callbacks = {
      .idle = on_idle,
      .locked = on_locked,
      .removed = on_removed,
      .seat_active = on_seat_active,
  };
  HgDesktop *d = g_new0(HgDesktop, 1);
  int r;

  d->bus = sd_bus_ref(bus);
  d->reg = reg;
  d->config = config;
  d->seat_idle = -1;
  d->by_logind =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, desk_free);
  d->by_session = g_hash_table_new(g_str_hash, g_str_equal);
  d->pending = g_hash_table_new_full(NULL, NULL, pending_free, NULL);
  r = hg_logind_new(bus, hg_registry_get_clock(reg), config->seat, &callbacks,
                    d, &d->logind);
  if (r >= 0)
    r = desk_idle_setup(d);
  if (r < 0) {
    hg_desktop_free(d);
    return r;
  }
  d->listener = hg_registry_subscribe(reg, on_session_event, d);
  *ret = d;
  return 0;
}

HgDesktop *hg_desktop_free(HgDesktop *d) {
  if (!d)
    return NULL;
  if (d->listener)
    hg_registry_unsubscribe(d->reg, d->listener);
  g_hash_table_destroy(d->pending);
  g_hash_table_destroy(d->by_session);
  g_hash_table_destroy(d->by_logind);
  desk_idle_teardown(d);
  hg_logind_free(d->logind);
  sd_bus_unref(d->bus);
  g_free(d->seat_session);
  g_free(d);
  return NULL;
}

void hg_desktop_reload(HgDesktop *d, const HgConfig *config) {
  d->config = config;
  desk_idle_reload(d);
}

bool hg_desktop_idle_known(HgDesktop *d, const char *session_id) {
  Desk *k = g_hash_table_lookup(d->by_session, session_id);

  return k && desk_idle_known(d, k);
}
