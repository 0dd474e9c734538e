/* Starting hourglass-session-end@<id>.service; see hg-kiosk-reset.h. */
#include "hg-kiosk-reset.h"

#include <glib.h>
#include <string.h>

#include "hg-log.h"
#include "hg-time.h"

/* How long the daemon's exit may wait for systemd's answers. */
#define SETTLE_TIMEOUT_USEC (2 * HG_USEC_PER_SEC)

struct HgKioskReset {
  sd_bus *bus;
  HgRegistry *reg;
  unsigned listener;
  sd_event_source *exit_source;
  GHashTable *calls; /* sd_bus_slot of every StartUnit not answered yet */
};

static void slot_unref(void *slot) { sd_bus_slot_unref(slot); }

static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  HgKioskReset *k = userdata;
  const sd_bus_error *error = sd_bus_message_get_error(m);

  /* Unrefs the slot, which sd-bus holds while we run. */
  g_hash_table_remove(k->calls, sd_bus_get_current_slot(k->bus));
  if (!error)
    return 0;
  /* No unit installed (or no systemd on this bus): the kiosk has no hook,
   * which is a choice, not a fault. */
  if (sd_bus_error_has_names(error, "org.freedesktop.systemd1.NoSuchUnit",
                             SD_BUS_ERROR_SERVICE_UNKNOWN,
                             SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                             "org.freedesktop.systemd1.LoadFailed")) {
    hg_debug("No session-end unit to start: %s", error->message);
    return 0;
  }
  hg_warning("Cannot start the session-end unit: %s", error->message);
  return 0;
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgKioskReset *k = userdata;
  g_autofree char *unit = NULL;
  sd_bus_slot *slot = NULL;
  int r;

  if (event != HG_REGISTRY_EVENT_ENDED)
    return;
  unit = g_strdup_printf(HG_KIOSK_RESET_UNIT, hg_session_get_id(s));
  r = sd_bus_call_method_async(k->bus, &slot, "org.freedesktop.systemd1",
                               "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartUnit",
                               on_started, k, "ss", unit, "replace");
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot ask systemd to start %s", unit);
  else
    g_hash_table_add(k->calls, slot);
}

/* At shutdown every session ends just before the loop exits, and sd-bus
 * closes the connection when it does (its own exit source): systemd
 * drops the calls of a peer that is gone by the time it looks at them,
 * and with polkit in between (a daemon that is not root) that takes a
 * while. So the loop's exit waits, bounded, for systemd's answers. The
 * loop is still whole here: whatever else the bus brings is handled as
 * usual. */
static int on_loop_exit(sd_event_source *s, void *userdata) {
  HgKioskReset *k = userdata;
  hg_usec_t deadline =
      hg_usec_add(hg_now(CLOCK_MONOTONIC), SETTLE_TIMEOUT_USEC);
  hg_usec_t now;
  int r = 0;

  while (g_hash_table_size(k->calls) > 0 &&
         (now = hg_now(CLOCK_MONOTONIC)) < deadline) {
    r = sd_bus_process(k->bus, NULL);
    if (r > 0)
      continue;
    if (r == 0)
      r = sd_bus_wait(k->bus, deadline - now);
    if (r < 0)
      break;
  }
  if (g_hash_table_size(k->calls) > 0)
    hg_notice("%u session-end unit(s) not confirmed by systemd at exit%s%s",
              g_hash_table_size(k->calls), r < 0 ? ": " : "",
              r < 0 ? g_strerror(-r) : "");
  return 0;
}

HgKioskReset *hg_kiosk_reset_new(sd_bus *bus, HgRegistry *reg) {
  HgKioskReset *k = g_new0(HgKioskReset, 1);

  k->bus = sd_bus_ref(bus);
  k->reg = reg;
  k->calls = g_hash_table_new_full(NULL, NULL, slot_unref, NULL);
  k->listener = hg_registry_subscribe(reg, on_session_event, k);
  /* Before sd-bus's own exit handler (priority normal) closes the bus. */
  if (sd_bus_get_event(bus) &&
      sd_event_add_exit(sd_bus_get_event(bus), &k->exit_source, on_loop_exit,
                        k) >= 0)
    (void)sd_event_source_set_priority(k->exit_source,
                                       SD_EVENT_PRIORITY_IMPORTANT);
  return k;
}

HgKioskReset *hg_kiosk_reset_free(HgKioskReset *k) {
  if (!k)
    return NULL;
  hg_registry_unsubscribe(k->reg, k->listener);
  sd_event_source_disable_unref(k->exit_source);
  /* Cancels what is still pending: its callbacks would find us gone. */
  g_hash_table_destroy(k->calls);
  sd_bus_unref(k->bus);
  g_free(k);
  return NULL;
}
