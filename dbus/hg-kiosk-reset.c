/* Starting hourglass-session-end@<id>.service; see hg-kiosk-reset.h. */
#include "hg-kiosk-reset.h"

#include <glib.h>
#include <string.h>

#include "hg-log.h"

struct HgKioskReset {
  sd_bus *bus;
  HgRegistry *reg;
  unsigned listener;
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
}

HgKioskReset *hg_kiosk_reset_new(sd_bus *bus, HgRegistry *reg) {
  HgKioskReset *k = g_new0(HgKioskReset, 1);

  k->bus = sd_bus_ref(bus);
  k->reg = reg;
  k->listener = hg_registry_subscribe(reg, on_session_event, k);
  return k;
}

HgKioskReset *hg_kiosk_reset_free(HgKioskReset *k) {
  if (!k)
    return NULL;
  hg_registry_unsubscribe(k->reg, k->listener);
  sd_bus_unref(k->bus);
  g_free(k);
  return NULL;
}
