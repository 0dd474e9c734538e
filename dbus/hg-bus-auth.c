/* Who may do what over D-Bus: checked by the daemon itself on the caller's
 * bus credentials (every vtable entry is SD_BUS_VTABLE_UNPRIVILEGED, or
 * sd-bus would demand CAP_SYS_ADMIN before we are asked). */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-log.h"

static bool in_admin_group(HgBus *bus, sd_bus_creds *creds) {
  const gid_t *gids = NULL;
  gid_t egid;
  int n;

  if (!bus->config->admin_group)
    return false;
  if (sd_bus_creds_get_egid(creds, &egid) >= 0 &&
      egid == bus->config->admin_gid)
    return true;
  n = sd_bus_creds_get_supplementary_gids(creds, &gids);
  for (int i = 0; i < n; i++)
    if (gids[i] == bus->config->admin_gid)
      return true;
  return false;
}

int hg_bus_check_caller(HgBus *bus, sd_bus_message *m, HgBusAllow allow,
                        HgSession *s, sd_bus_error *error) {
  g_autoptr(sd_bus_creds) creds = NULL;
  uid_t euid;
  int r;

  /* AUGMENT: dbus-daemon does not pass supplementary groups; they come
   * from /proc then. */
  r = sd_bus_query_sender_creds(m,
                                SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
                                    SD_BUS_CREDS_SUPPLEMENTARY_GIDS |
                                    SD_BUS_CREDS_AUGMENT,
                                &creds);
  if (r < 0 || sd_bus_creds_get_euid(creds, &euid) < 0)
    return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                            "Cannot tell who is calling");
  if (euid == 0 || in_admin_group(bus, creds))
    return 0;
  if (allow == HG_BUS_ALLOW_ADMIN_OR_OWNER && s &&
      hg_session_get_uid(s) == euid)
    return 0;
  return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                           "%s needs root or the admin group",
                           sd_bus_message_get_member(m));
}
