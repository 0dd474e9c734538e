/* RegisterDesktopSession / UnregisterDesktopSession: desktop logins
 * (pam_hourglass.so) under the same policy. */
#include "hg-bus-private.h"

int hg_bus_register_desktop(HgBus *bus, sd_bus_message *m,
                            sd_bus_error *error) {
  int r = hg_bus_check_caller(bus, m, HG_BUS_ALLOW_ADMIN, NULL, error);

  if (r < 0)
    return r;
  return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                          "Desktop sessions are not managed yet");
}

int hg_bus_unregister_desktop(HgBus *bus, sd_bus_message *m,
                              sd_bus_error *error) {
  int r = hg_bus_check_caller(bus, m, HG_BUS_ALLOW_ADMIN, NULL, error);

  if (r < 0)
    return r;
  return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                          "Desktop sessions are not managed yet");
}
