/* The org.hourglass1 service: connection, name, and the signals that follow
 * the registry's events. */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-log.h"
#include "hg-systemd.h"

#define FLUSH_USEC HG_USEC_PER_SEC

static void emit_removed(HgBus *bus, HgSession *s, const char *path) {
  int r =
      sd_bus_emit_signal(bus->bus, HG_BUS_PATH, HG_BUS_MANAGER_IFACE,
                         "SessionRemoved", "sos", hg_session_get_id(s), path,
                         hg_end_reason_to_string(hg_session_get_end_reason(s)));
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot emit SessionRemoved");
}

/* The properties first: a client that reads them from its cache when
 * SessionWarning comes sees what the warning is of. */
static void emit_state(HgBus *bus, HgSession *s, const char *path) {
  const HgVerdict *v = hg_session_get_verdict(s);
  hg_usec_t now = hg_clock_boottime(hg_registry_get_clock(bus->reg));
  int r;

  r = sd_bus_emit_properties_changed(bus->bus, path, HG_BUS_SESSION_IFACE,
                                     "State", "Warning", "Stage", NULL);
  if (r >= 0 && hg_session_get_state(s) == HG_SESSION_STATE_WARNING)
    r = sd_bus_emit_signal(bus->bus, HG_BUS_PATH, HG_BUS_MANAGER_IFACE,
                           "SessionWarning", "sot", hg_session_get_id(s), path,
                           (uint64_t)hg_usec_to_sec_ceil(hg_usec_sub(
                               HG_MIN(v->warn_until, v->close_at), now)));
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot emit a session's state");
}

/* The times change with every page ping: they only invalidate, and at
 * most once a second per session. The session's limits go with them: a
 * reload emits TIMES for every session (hg_registry_set_limits()). */
static void mark_dirty(HgBus *bus, HgSession *s) {
  g_hash_table_add(bus->dirty, g_strdup(hg_session_get_id(s)));
  if (sd_event_source_get_enabled(bus->flush_timer, NULL) == 0) {
    (void)sd_event_source_set_time_relative(bus->flush_timer, FLUSH_USEC);
    (void)sd_event_source_set_enabled(bus->flush_timer, SD_EVENT_ONESHOT);
  }
}

static int on_flush(sd_event_source *source, uint64_t usec, void *userdata) {
  HgBus *bus = userdata;
  GHashTableIter it;
  gpointer id;

  g_hash_table_iter_init(&it, bus->dirty);
  while (g_hash_table_iter_next(&it, &id, NULL)) {
    g_autofree char *path = hg_bus_session_path(id);
    if (path && hg_registry_lookup(bus->reg, id))
      (void)sd_bus_emit_properties_changed(
          bus->bus, path, HG_BUS_SESSION_IFACE, "LastActivity", "WarnAt",
          "ExpiresAt", "IdleSources", "IdleKnown", "LockAt", "LimitAt",
          "Extensions", "ExtensionsLeft", "Action", "WarnAfterSec",
          "ExpireAfterSec", "MaxSessionSec", "LimitReason", "AllowanceLeft",
          "ClosesAt", NULL);
    g_hash_table_iter_remove(&it);
  }
  return 0;
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgBus *bus = userdata;
  g_autofree char *path = hg_bus_session_path(hg_session_get_id(s));

  if (!path)
    return;
  switch (event) {
  case HG_REGISTRY_EVENT_NEW:
    (void)sd_bus_emit_signal(bus->bus, HG_BUS_PATH, HG_BUS_MANAGER_IFACE,
                             "SessionNew", "so", hg_session_get_id(s), path);
    break;
  case HG_REGISTRY_EVENT_STATE:
    emit_state(bus, s, path);
    break;
  case HG_REGISTRY_EVENT_STAGE:
    (void)sd_bus_emit_properties_changed(bus->bus, path, HG_BUS_SESSION_IFACE,
                                         "Stage", NULL);
    mark_dirty(bus, s); /* LockAt, ExpiresAt */
    break;
  case HG_REGISTRY_EVENT_TIMES:
  case HG_REGISTRY_EVENT_LIMITS: /* Extensions, ExtensionsLeft, LimitAt */
    mark_dirty(bus, s);
    break;
  case HG_REGISTRY_EVENT_ENDED:
    g_hash_table_remove(bus->dirty, hg_session_get_id(s));
    hg_bus_forget_object(bus, s);
    emit_removed(bus, s, path);
    break;
  }
}

static int setup(HgBus *bus) {
  int r;

  r = sd_bus_add_object_vtable(bus->bus, &bus->manager_slot, HG_BUS_PATH,
                               HG_BUS_MANAGER_IFACE, hg_bus_manager_vtable,
                               bus);
  if (r < 0)
    return r;
  r = hg_bus_add_session_objects(bus);
  if (r < 0)
    return r;
  r = sd_bus_request_name(bus->bus, HG_BUS_NAME, 0);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot own %s on the system bus",
                        HG_BUS_NAME);
  r = sd_bus_attach_event(bus->bus, bus->event, SD_EVENT_PRIORITY_NORMAL);
  if (r < 0)
    return r;
  r = sd_event_add_time_relative(bus->event, &bus->flush_timer, CLOCK_MONOTONIC,
                                 FLUSH_USEC, 0, on_flush, bus);
  if (r < 0)
    return r;
  return sd_event_source_set_enabled(bus->flush_timer, SD_EVENT_OFF);
}

int hg_bus_new(sd_event *event, HgRegistry *reg, const HgConfig *config,
               HgDaily *daily, HgBus **ret) {
  g_autoptr(HgBus) bus = g_new0(HgBus, 1);
  int r;

  bus->event = sd_event_ref(event);
  bus->reg = reg;
  bus->config = config;
  bus->daily = daily;
  bus->objects = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  bus->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  bus->pending = g_hash_table_new_full(
      NULL, NULL, (GDestroyNotify)hg_bus_pending_free, NULL);
  bus->explains = g_hash_table_new_full(
      NULL, NULL, (GDestroyNotify)hg_bus_explain_free, NULL);
  r = sd_bus_open_system(&bus->bus);
  if (r < 0)
    return r;
  (void)sd_bus_set_description(bus->bus, "hourglassd");
  r = setup(bus);
  if (r < 0)
    return r;
  bus->listener = hg_registry_subscribe(reg, on_session_event, bus);
  bus->kiosk_reset = hg_kiosk_reset_new(bus->bus, reg);
  r = hg_desktop_new(bus->bus, reg, config, &bus->desktop);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot follow logind");
  hg_info("Serving %s on the system bus", HG_BUS_NAME);
  *ret = g_steal_pointer(&bus);
  return 0;
}

HgBus *hg_bus_free(HgBus *bus) {
  if (!bus)
    return NULL;
  hg_desktop_free(bus->desktop);
  hg_kiosk_reset_free(bus->kiosk_reset);
  if (bus->listener)
    hg_registry_unsubscribe(bus->reg, bus->listener);
  /* Before the connection goes: their slots are on it. */
  g_hash_table_destroy(bus->pending);
  g_hash_table_destroy(bus->explains);
  sd_event_source_disable_unref(bus->flush_timer);
  sd_bus_slot_unref(bus->manager_slot);
  sd_bus_slot_unref(bus->session_slot);
  sd_bus_slot_unref(bus->enumerator_slot);
  /* Flush: the SessionRemoved signals of a shutdown must get out. */
  sd_bus_flush_close_unref(bus->bus);
  g_hash_table_destroy(bus->objects);
  g_hash_table_destroy(bus->dirty);
  sd_event_unref(bus->event);
  g_free(bus);
  return NULL;
}

void hg_bus_take_back(HgBus *bus) {
  if (bus->desktop)
    hg_desktop_take_back(bus->desktop);
}

bool hg_bus_restart_pending(HgBus *bus) {
  return hg_systemd_restart_pending(bus->bus);
}

void hg_bus_reload(HgBus *bus, const HgConfig *config) {
  bus->config = config;
  if (bus->desktop)
    hg_desktop_reload(bus->desktop, config);
  (void)sd_bus_emit_properties_changed(bus->bus, HG_BUS_PATH,
                                       HG_BUS_MANAGER_IFACE, "WarnAfterSec",
                                       "ExpireAfterSec", "MaxSessionSec",
                                       "CloseAfterSec", "InhibitMaxSec", NULL);
}
