/* Serving org.freedesktop.ScreenSaver's inhibitions; see
 * hg-agent-inhibit.h. */
#include "hg-agent-inhibit.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"

#define SAVER_NAME "org.freedesktop.ScreenSaver"
#define SAVER_IFACE "org.freedesktop.ScreenSaver"
/* Both paths are in use: freedesktop's and KDE's. */
#define SAVER_PATH "/org/freedesktop/ScreenSaver"
#define SAVER_PATH_KDE "/ScreenSaver"
/* One application cannot grow the list without bound. */
#define MAX_INHIBITIONS 64

typedef struct {
  Inhibitors *owner;
  uint32_t cookie;
  char *app;
  char *peer;          /* the unique name that took it */
  sd_bus_track *track; /* ends it when that peer leaves */
} Inhibition;

struct Inhibitors {
  sd_bus *bus;
  InhibitorsChanged changed;
  void *userdata;
  sd_bus_slot *vtables[2];
  sd_bus_slot *lost;
  GPtrArray *list;    /* Inhibition, oldest first */
  GPtrArray *holders; /* their apps, NULL-terminated */
  uint32_t last_cookie;
};

static void inhibition_free(gpointer p) {
  Inhibition *n = p;

  sd_bus_track_unref(n->track);
  g_free(n->app);
  g_free(n->peer);
  g_free(n);
}

static void changed(Inhibitors *i) {
  g_ptr_array_set_size(i->holders, 0);
  for (guint k = 0; k < i->list->len; k++)
    g_ptr_array_add(i->holders, ((Inhibition *)i->list->pdata[k])->app);
  g_ptr_array_add(i->holders, NULL);
  i->changed(i->userdata);
}

static void remove_at(Inhibitors *i, guint k) {
  Inhibition *n = i->list->pdata[k];

  agent_info("Screen saver inhibition %u of %s ended", n->cookie, n->app);
  g_ptr_array_remove_index(i->list, k);
  changed(i);
}

static int on_peer_gone(sd_bus_track *track, void *userdata) {
  Inhibition *n = userdata;
  Inhibitors *i = n->owner;

  for (guint k = 0; k < i->list->len; k++)
    if (i->list->pdata[k] == n) {
      remove_at(i, k);
      break;
    }
  return 0;
}

static int method_inhibit(sd_bus_message *m, void *userdata,
                          sd_bus_error *error) {
  Inhibitors *i = userdata;
  const char *app, *reason;
  Inhibition *n;
  int r;

  r = sd_bus_message_read(m, "ss", &app, &reason);
  if (r < 0)
    return r;
  if (i->list->len >= MAX_INHIBITIONS)
    return sd_bus_error_set(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                            "Too many inhibitions");
  n = g_new0(Inhibition, 1);
  n->owner = i;
  n->cookie = ++i->last_cookie ? i->last_cookie : ++i->last_cookie;
  n->app = g_strdup(*app ? app : "unnamed");
  n->peer = g_strdup(sd_bus_message_get_sender(m));
  r = sd_bus_track_new(i->bus, &n->track, on_peer_gone, n);
  if (r >= 0)
    r = sd_bus_track_add_sender(n->track, m);
  if (r < 0) {
    inhibition_free(n);
    return r;
  }
  g_ptr_array_add(i->list, n);
  agent_info("Screen saver inhibition %u by %s: %s", n->cookie, n->app, reason);
  changed(i);
  return sd_bus_reply_method_return(m, "u", n->cookie);
}

/* Only the peer that took an inhibition ends it. */
static int method_uninhibit(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  Inhibitors *i = userdata;
  const char *sender = sd_bus_message_get_sender(m);
  uint32_t cookie;
  int r;

  r = sd_bus_message_read(m, "u", &cookie);
  if (r < 0)
    return r;
  for (guint k = 0; k < i->list->len; k++) {
    Inhibition *n = i->list->pdata[k];
    if (n->cookie == cookie && g_strcmp0(n->peer, sender) == 0) {
      remove_at(i, k);
      return sd_bus_reply_method_return(m, NULL);
    }
  }
  return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                           "No inhibition %u of this connection", cookie);
}

/* What applications ask besides: there is no screen saver to show. */
static int method_get_active(sd_bus_message *m, void *userdata,
                             sd_bus_error *error) {
  return sd_bus_reply_method_return(m, "b", 0);
}

static int method_simulate(sd_bus_message *m, void *userdata,
                           sd_bus_error *error) {
  return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable saver_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS(
        "Inhibit", SD_BUS_ARGS("s", application_name, "s", reason_for_inhibit),
        SD_BUS_RESULT("u", cookie), method_inhibit, 0),
    SD_BUS_METHOD_WITH_ARGS("UnInhibit", SD_BUS_ARGS("u", cookie),
                            SD_BUS_NO_RESULT, method_uninhibit, 0),
    SD_BUS_METHOD_WITH_ARGS("GetActive", SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("b", active), method_get_active, 0),
    SD_BUS_METHOD_WITH_ARGS("SimulateUserActivity", SD_BUS_NO_ARGS,
                            SD_BUS_NO_RESULT, method_simulate, 0),
    SD_BUS_VTABLE_END,
};

/* A screen saver took the name over: it serves the inhibitions now. */
static int on_name_lost(sd_bus_message *m, void *userdata,
                        sd_bus_error *error) {
  Inhibitors *i = userdata;
  const char *name;

  if (!agent_bus_message_from(m, DBUS_NAME) ||
      sd_bus_message_read(m, "s", &name) < 0 || strcmp(name, SAVER_NAME) != 0)
    return 0;
  agent_info("%s was taken over: no longer serving inhibitions", SAVER_NAME);
  for (size_t k = 0; k < G_N_ELEMENTS(i->vtables); k++)
    i->vtables[k] = sd_bus_slot_unref(i->vtables[k]);
  g_ptr_array_set_size(i->list, 0);
  changed(i);
  return 0;
}

static int setup(Inhibitors *i) {
  int r;

  r = sd_bus_add_object_vtable(i->bus, &i->vtables[0], SAVER_PATH, SAVER_IFACE,
                               saver_vtable, i);
  if (r >= 0)
    r = sd_bus_add_object_vtable(i->bus, &i->vtables[1], SAVER_PATH_KDE,
                                 SAVER_IFACE, saver_vtable, i);
  if (r >= 0)
    r = sd_bus_match_signal(i->bus, &i->lost, DBUS_NAME, DBUS_PATH, DBUS_NAME,
                            "NameLost", on_name_lost, i);
  if (r >= 0)
    r = sd_bus_request_name(i->bus, SAVER_NAME, SD_BUS_NAME_ALLOW_REPLACEMENT);
  return r;
}

int inhibitors_new(sd_bus *bus, InhibitorsChanged changed_cb, void *userdata,
                   Inhibitors **ret) {
  Inhibitors *i = g_new0(Inhibitors, 1);
  int r;

  i->bus = sd_bus_ref(bus);
  i->changed = changed_cb;
  i->userdata = userdata;
  i->list = g_ptr_array_new_with_free_func(inhibition_free);
  i->holders = g_ptr_array_new();
  g_ptr_array_add(i->holders, NULL);
  r = setup(i);
  if (r == -EEXIST) {
    agent_info("%s has an owner: it serves the inhibitions", SAVER_NAME);
    for (size_t k = 0; k < G_N_ELEMENTS(i->vtables); k++)
      i->vtables[k] = sd_bus_slot_unref(i->vtables[k]);
  } else if (r >= 0)
    agent_info("Serving %s's inhibitions", SAVER_NAME);
  if (r < 0 && r != -EEXIST) {
    inhibitors_free(i);
    return r;
  }
  *ret = i;
  return 0;
}

Inhibitors *inhibitors_free(Inhibitors *i) {
  if (!i)
    return NULL;
  for (size_t k = 0; k < G_N_ELEMENTS(i->vtables); k++)
    sd_bus_slot_unref(i->vtables[k]);
  sd_bus_slot_unref(i->lost);
  g_ptr_array_unref(i->list);
  g_ptr_array_unref(i->holders);
  sd_bus_unref(i->bus);
  g_free(i);
  return NULL;
}

const char *const *inhibitors_holders(Inhibitors *i) {
  return (const char *const *)i->holders->pdata;
}
