/* logind's idle inhibitor locks; see hg-inhibit.h. */
#include "hg-inhibit.h"

#include <glib.h>
#include <string.h>

#include "hg-log.h"

#define LOGIND "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define PROPERTIES "org.freedesktop.DBus.Properties"

struct HgInhibit {
  sd_bus *bus;
  HgInhibitChanged changed;
  void *userdata;
  bool enabled;
  GHashTable *holders; /* uid -> who (the first lock's) */
  sd_bus_slot *props_match;
  sd_bus_slot *owner_match;
  sd_bus_slot *list_call;
  bool again; /* a change came while ListInhibitors was under way */
};

static void refresh(HgInhibit *i);

/* "sleep:idle:shutdown" names idle? */
static bool what_has_idle(const char *what) {
  g_auto(GStrv) parts = g_strsplit(what, ":", -1);

  return g_strv_contains((const char *const *)parts, "idle");
}

static int read_locks(sd_bus_message *m, GHashTable *holders) {
  const char *what, *who, *why, *mode;
  uint32_t uid, pid;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "(ssssuu)");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_read(m, "(ssssuu)", &what, &who, &why, &mode, &uid,
                                  &pid)) > 0)
    if (strcmp(mode, "block") == 0 && what_has_idle(what) &&
        !g_hash_table_contains(holders, GUINT_TO_POINTER(uid)))
      g_hash_table_insert(holders, GUINT_TO_POINTER(uid), g_strdup(who));
  if (r < 0)
    return r;
  return sd_bus_message_exit_container(m);
}

static int on_list(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  HgInhibit *i = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);

  i->list_call = sd_bus_slot_unref(i->list_call);
  if (i->again) {
    refresh(i);
    return 0;
  }
  g_hash_table_remove_all(i->holders);
  if (e)
    hg_debug("logind cannot list its inhibitors: %s", e->message);
  else if (read_locks(m, i->holders) < 0)
    hg_warning("logind sent a malformed inhibitor list");
  i->changed(i, i->userdata);
  return 0;
}

static void refresh(HgInhibit *i) {
  int r;

  i->again = false;
  if (i->list_call) {
    i->again = true; /* its answer may predate the change */
    return;
  }
  r = sd_bus_call_method_async(i->bus, &i->list_call, LOGIND, LOGIND_PATH,
                               LOGIND_MANAGER, "ListInhibitors", on_list, i,
                               NULL);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot list logind's inhibitors");
}

/* Changed or invalidated, BlockInhibited means a lock came or went. */
static int names_block_inhibited(sd_bus_message *m) {
  const char *name;
  bool found = false;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    r = sd_bus_message_read(m, "s", &name);
    if (r >= 0) {
      found = found || strcmp(name, "BlockInhibited") == 0;
      r = sd_bus_message_skip(m, "v");
    }
    if (r >= 0)
      r = sd_bus_message_exit_container(m);
  }
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  if (r >= 0)
    r = sd_bus_message_enter_container(m, 'a', "s");
  while (r >= 0 && (r = sd_bus_message_read(m, "s", &name)) > 0)
    found = found || strcmp(name, "BlockInhibited") == 0;
  return r < 0 ? r : found;
}

static int on_props(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  HgInhibit *i = userdata;
  const char *iface;

  if (!i->enabled || sd_bus_message_read(m, "s", &iface) < 0 ||
      strcmp(iface, LOGIND_MANAGER) != 0)
    return 0;
  if (names_block_inhibited(m) > 0)
    refresh(i);
  return 0;
}

/* logind (re)started: its locks are whatever it says now. */
static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
  HgInhibit *i = userdata;

  if (i->enabled)
    refresh(i);
  return 0;
}

int hg_inhibit_new(sd_bus *bus, HgInhibitChanged changed, void *userdata,
                   HgInhibit **ret) {
  HgInhibit *i = g_new0(HgInhibit, 1);
  int r;

  i->bus = sd_bus_ref(bus);
  i->changed = changed;
  i->userdata = userdata;
  i->holders = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  r = sd_bus_match_signal_async(bus, &i->props_match, LOGIND, LOGIND_PATH,
                                PROPERTIES, "PropertiesChanged", on_props, NULL,
                                i);
  if (r >= 0)
    r = sd_bus_add_match_async(
        bus, &i->owner_match,
        "type='signal',sender='org.freedesktop.DBus',"
        "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
        "arg0='" LOGIND "'",
        on_owner, NULL, i);
  if (r < 0) {
    hg_inhibit_free(i);
    return r;
  }
  *ret = i;
  return 0;
}

HgInhibit *hg_inhibit_free(HgInhibit *i) {
  if (!i)
    return NULL;
  sd_bus_slot_unref(i->props_match);
  sd_bus_slot_unref(i->owner_match);
  sd_bus_slot_unref(i->list_call);
  g_hash_table_destroy(i->holders);
  sd_bus_unref(i->bus);
  g_free(i);
  return NULL;
}

void hg_inhibit_set_enabled(HgInhibit *i, bool enabled) {
  if (i->enabled == enabled)
    return;
  i->enabled = enabled;
  if (enabled) {
    refresh(i);
    return;
  }
  i->list_call = sd_bus_slot_unref(i->list_call);
  i->again = false;
  g_hash_table_remove_all(i->holders);
  i->changed(i, i->userdata);
}

const char *hg_inhibit_holder(const HgInhibit *i, uid_t uid) {
  return g_hash_table_lookup(i->holders, GUINT_TO_POINTER(uid));
}
