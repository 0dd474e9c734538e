/* hourglassctl waiting: whether someone is waiting for this machine (the
 * Manager's Waiting property), and saying so (SetWaiting), which makes
 * hourglassd refuse people's requests for more time. */
#include <errno.h>
#include <string.h>

#include "hg-ctl.h"
#include "hg-macros.h"

int ctl_waiting_parse(const char *arg) {
  if (strcmp(arg, "on") == 0)
    return 1;
  if (strcmp(arg, "off") == 0)
    return 0;
  return -EINVAL;
}

static int read_waiting(sd_bus *bus, bool *ret, sd_bus_error *error) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
  int waiting = 0, r;

  r = ctl_new_call(bus, HG_BUS_PATH, "org.freedesktop.DBus.Properties", "Get",
                   &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "ss", HG_BUS_MANAGER_IFACE, "Waiting");
  if (r >= 0)
    r = sd_bus_call(bus, m, 0, error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "v", "b", &waiting);
  *ret = waiting;
  return r;
}

int ctl_waiting_show(sd_bus *bus, const CtlOptions *o) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(GString) out = NULL;
  bool waiting;
  int r;

  r = read_waiting(bus, &waiting, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, NULL, &error, r);
  if (o->json)
    out = g_string_new(waiting ? "{\"waiting\":true}\n"
                               : "{\"waiting\":false}\n");
  else
    out = g_string_new(waiting ? "on\n" : "off\n");
  return ctl_write_out(out);
}

int ctl_waiting_set(sd_bus *bus, const CtlOptions *o, bool waiting) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  int r;

  r = ctl_new_manager_call(bus, "SetWaiting", &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "b", (int)waiting);
  if (r >= 0)
    r = sd_bus_call(bus, m, 0, &error, NULL);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_WAITING, NULL, &error, r);
  return 0;
}
