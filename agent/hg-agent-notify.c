/* The warning as a desktop notification; see hg-agent-notify.h. */
#include "hg-agent-notify.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-macros.h"

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"
#define NOTIFY_IFACE "org.freedesktop.Notifications"

#define APP_NAME "hourglass"
#define APP_ICON "appointment-soon"
#define URGENCY_NORMAL 1
#define URGENCY_CRITICAL 2
#define NEVER_EXPIRES 0
#define SERVER_EXPIRES (-1)
#define CLOSED_BY_USER 2 /* NotificationClosed's reason "dismissed" */

/* The hints of the warning: critical urgency (shown over fullscreen
 * windows, kept until closed), resident (choosing its action leaves it on
 * screen: the answer decides whether it still holds) and the desktop
 * file. */
#define WARNING_HINTS                                                          \
  3, "urgency", "y", URGENCY_CRITICAL, "resident", "b", 1, "desktop-entry",    \
      "s", "hourglass-agent"
/* A note's: normal urgency, the server's own expiry. */
#define NOTE_HINTS                                                             \
  2, "urgency", "y", URGENCY_NORMAL, "desktop-entry", "s", "hourglass-agent"

struct Notifier {
  sd_bus *bus;
  NotifierActionFunc on_action;
  void *userdata;
  sd_bus_slot *matches[2];
  sd_bus_slot *notify_slot; /* a Notify on its way */
  char *server;             /* unique name of the service that answered */
  uint32_t id;              /* on screen, 0 for none */
  bool want;                /* should be on screen */
  bool again;               /* the text changed while a Notify was out */
  bool given_up;            /* in this episode */
  bool failure_logged;
  char *summary;
  char *body;
  char *action; /* NULL for none */
  char *action_label;
};

static int on_notified(sd_bus_message *reply, void *userdata,
                       sd_bus_error *ret_error);

/* Fire and forget: a notification that is gone already is no error. */
static void close_now(Notifier *n) {
  int r = agent_bus_call(n->bus, NULL, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE,
                         "CloseNotification", NULL, NULL, "u", n->id);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot withdraw notification %u", n->id);
  n->id = 0;
}

static void log_failure(Notifier *n, const char *what) {
  /* Once, until a notification gets through again: the journal need not
   * hear at every warning that there is no notification service. */
  agent_log(n->failure_logged ? LOG_DEBUG : LOG_WARNING,
            "Cannot show the warning as a notification (%s); going on "
            "without it",
            what);
  n->failure_logged = true;
  n->given_up = true;
}

/* replaces_id updates the notification in place, without a new pop-up. */
static void send_notify(Notifier *n) {
  int r;

  if (n->action)
    r = agent_bus_call(n->bus, &n->notify_slot, NOTIFY_NAME, NOTIFY_PATH,
                       NOTIFY_IFACE, "Notify", on_notified, n, "susssasa{sv}i",
                       APP_NAME, n->id, APP_ICON, n->summary, n->body, 2,
                       n->action, n->action_label, WARNING_HINTS,
                       NEVER_EXPIRES);
  else
    r = agent_bus_call(n->bus, &n->notify_slot, NOTIFY_NAME, NOTIFY_PATH,
                       NOTIFY_IFACE, "Notify", on_notified, n, "susssasa{sv}i",
                       APP_NAME, n->id, APP_ICON, n->summary, n->body, 0,
                       WARNING_HINTS, NEVER_EXPIRES);
  if (r < 0)
    log_failure(n, g_strerror(-r));
}

static int on_notified(sd_bus_message *reply, void *userdata,
                       sd_bus_error *ret_error) {
  Notifier *n = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);
  uint32_t id = 0;

  agent_slot_clear(&n->notify_slot);
  if (e || sd_bus_message_read(reply, "u", &id) < 0 || id == 0) {
    n->id = 0;
    log_failure(n, e ? agent_bus_error_text(e) : "a malformed reply");
    return 0;
  }
  n->failure_logged = false;
  g_free(n->server);
  n->server = g_strdup(sd_bus_message_get_sender(reply));
  n->id = id;
  agent_debug("Notification %u shown", id);
  if (!n->want)
    close_now(n); /* withdrawn while it was on its way */
  else if (n->again) {
    n->again = false;
    send_notify(n);
  }
  return 0;
}

static void set_text(Notifier *n, const NotifierText *t) {
  g_free(n->summary);
  n->summary = g_strdup(t->summary);
  g_free(n->body);
  n->body = g_strdup(t->body);
  g_free(n->action);
  n->action = g_strdup(t->action);
  g_free(n->action_label);
  n->action_label = t->action ? g_strdup(t->action_label) : NULL;
}

static bool shows(const Notifier *n, const NotifierText *t) {
  return n->want && (n->id || n->notify_slot) &&
         g_strcmp0(n->summary, t->summary) == 0 &&
         g_strcmp0(n->body, t->body) == 0 &&
         g_strcmp0(n->action, t->action) == 0 &&
         g_strcmp0(n->action_label, t->action_label) == 0;
}

static void present(Notifier *n, const NotifierText *t) {
  n->want = true;
  set_text(n, t);
  if (n->notify_slot)
    n->again = true; /* one Notify at a time, or we get two pop-ups */
  else
    send_notify(n);
}

void notifier_show(Notifier *n, const NotifierText *t) {
  if (n->given_up || shows(n, t))
    return; /* closed in this episode, or nothing new to show */
  present(n, t);
}

void notifier_alert(Notifier *n, const NotifierText *t) {
  n->given_up = false;
  present(n, t);
}

void notifier_withdraw(Notifier *n) {
  n->want = false;
  n->again = false;
  n->given_up = false;
  if (n->id && !n->notify_slot)
    close_now(n);
}

void notifier_tell(Notifier *n, const char *summary, const char *body) {
  int r =
      agent_bus_call(n->bus, NULL, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_IFACE,
                     "Notify", NULL, NULL, "susssasa{sv}i", APP_NAME, 0,
                     APP_ICON, summary, body, 0, NOTE_HINTS, SERVER_EXPIRES);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot show a notification");
}

/* Only our own notification, from the service that showed it. */
static bool is_ours(Notifier *n, sd_bus_message *m, uint32_t id) {
  return id != 0 && id == n->id && agent_bus_message_from(m, n->server);
}

static int on_action_invoked(sd_bus_message *m, void *userdata,
                             sd_bus_error *ret_error) {
  Notifier *n = userdata;
  const char *key;
  uint32_t id;

  if (sd_bus_message_read(m, "us", &id, &key) < 0 || !is_ours(n, m, id))
    return 0;
  agent_debug("Action \"%s\" chosen in notification %u", key, id);
  n->on_action(key, n->userdata);
  return 0;
}

static int on_closed(sd_bus_message *m, void *userdata,
                     sd_bus_error *ret_error) {
  Notifier *n = userdata;
  uint32_t id, reason;

  if (sd_bus_message_read(m, "uu", &id, &reason) < 0 || !is_ours(n, m, id))
    return 0;
  n->id = 0;
  /* Closed by the person: they have seen it, the countdown steps need not
   * bring it back. Expired (a server's own limit): the next step will. */
  if (reason == CLOSED_BY_USER && n->want)
    n->given_up = true;
  agent_debug("Notification %u closed (reason %u)", id, reason);
  return 0;
}

int notifier_new(sd_bus *bus, NotifierActionFunc on_action, void *userdata,
                 Notifier **ret) {
  Notifier *n = g_new0(Notifier, 1);
  int r;

  n->bus = sd_bus_ref(bus);
  n->on_action = on_action;
  n->userdata = userdata;
  r = sd_bus_match_signal(bus, &n->matches[0], NOTIFY_NAME, NOTIFY_PATH,
                          NOTIFY_IFACE, "ActionInvoked", on_action_invoked, n);
  if (r >= 0)
    r = sd_bus_match_signal(bus, &n->matches[1], NOTIFY_NAME, NOTIFY_PATH,
                            NOTIFY_IFACE, "NotificationClosed", on_closed, n);
  if (r < 0) {
    notifier_free(n);
    return r;
  }
  *ret = n;
  return 0;
}

Notifier *notifier_free(Notifier *n) {
  if (!n)
    return NULL;
  if (n->id)
    close_now(n);
  for (size_t i = 0; i < HG_ELEMENTSOF(n->matches); i++)
    sd_bus_slot_unref(n->matches[i]);
  sd_bus_slot_unref(n->notify_slot);
  sd_bus_unref(n->bus);
  g_free(n->server);
  g_free(n->summary);
  g_free(n->body);
  g_free(n->action);
  g_free(n->action_label);
  g_free(n);
  return NULL;
}
