/* Starting hourglass-session-end@<id>.service; see hg-kiosk-reset.h. */
#include "hg-kiosk-reset.h"

#include <glib.h>
#include <string.h>

#include "hg-bus-private.h"
#include "hg-log.h"
#include "hg-time.h"

/* How long the daemon's exit may wait for systemd to take the last calls. */
#define SETTLE_TIMEOUT_USEC (1 * HG_USEC_PER_SEC)

struct HgKioskReset {
  sd_bus *bus;
  HgRegistry *reg;
  unsigned listener;
  sd_event_source *exit_source;
  bool sent; /* a StartUnit went out: settle before the connection goes */
};

/* Needs no state: the call may still be pending when the service goes. */
static int on_started(sd_bus_message *m, void *userdata, sd_bus_error *e) {
  const sd_bus_error *error = sd_bus_message_get_error(m);

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
  int r;

  if (event != HG_REGISTRY_EVENT_ENDED)
    return;
  unit = g_strdup_printf(HG_KIOSK_RESET_UNIT, hg_session_get_id(s));
  r = sd_bus_call_method_async(k->bus, NULL, "org.freedesktop.systemd1",
                               "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", "StartUnit",
                               on_started, NULL, "ss", unit, "replace");
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot ask systemd to start %s", unit);
  else
    k->sent = true;
}

/* At shutdown every session ends just before the loop exits, and sd-bus
 * closes the connection when it does: systemd drops the calls of a peer
 * that is gone by the time it looks at them, and no reset would run.
 * systemd handles a connection's calls in order, so once it answers a
 * Ping it has taken every StartUnit sent before. Blocking, bounded, and
 * only at exit (replies are not dispatched). */
static int on_loop_exit(sd_event_source *s, void *userdata) {
  HgKioskReset *k = userdata;
  g_autoptr(sd_bus_message) m = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  if (!k->sent)
    return 0;
  r = sd_bus_message_new_method_call(k->bus, &m, "org.freedesktop.systemd1",
                                     "/org/freedesktop/systemd1",
                                     "org.freedesktop.DBus.Peer", "Ping");
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r >= 0)
    r = sd_bus_call(k->bus, m, SETTLE_TIMEOUT_USEC, &error, NULL);
  if (r < 0)
    hg_debug("systemd did not confirm the session-end units: %s",
             error.message ? error.message : g_strerror(-r));
  sd_bus_error_free(&error);
  return 0;
}

HgKioskReset *hg_kiosk_reset_new(sd_bus *bus, HgRegistry *reg) {
  HgKioskReset *k = g_new0(HgKioskReset, 1);

  k->bus = sd_bus_ref(bus);
  k->reg = reg;
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
  sd_bus_unref(k->bus);
  g_free(k);
  return NULL;
}
