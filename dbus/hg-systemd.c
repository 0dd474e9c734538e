/* Our unit's queued job; see hg-systemd.h. */
#include "hg-systemd.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hg-log.h"
#include "hg-macros.h"
#include "hg-time.h"

#define SYSTEMD "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define TIMEOUT_USEC (1 * HG_USEC_PER_SEC)

static int call(sd_bus *bus, const char *path, const char *iface,
                const char *member, sd_bus_message **ret, const char *types,
                ...) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  va_list ap;
  int r;

  r = sd_bus_message_new_method_call(bus, &m, SYSTEMD, path, iface, member);
  if (r >= 0)
    r = sd_bus_message_set_auto_start(m, false);
  if (r >= 0) {
    va_start(ap, types);
    r = sd_bus_message_appendv(m, types, ap);
    va_end(ap);
  }
  if (r >= 0)
    r = sd_bus_call(bus, m, TIMEOUT_USEC, &error, ret);
  if (r < 0)
    hg_debug("systemd: %s: %s", member,
             error.message ? error.message : strerror(-r));
  return r;
}

/* A property read with org.freedesktop.DBus.Properties.Get. */
static int get(sd_bus *bus, const char *path, const char *iface,
               const char *property, const char *type, sd_bus_message **ret) {
  int r = call(bus, path, "org.freedesktop.DBus.Properties", "Get", ret, "ss",
               iface, property);

  return r < 0 ? r : sd_bus_message_enter_container(*ret, 'v', type);
}

static int our_job(sd_bus *bus, char **ret_job) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *unit = NULL, *job = NULL;
  const char *unit_path, *job_path;
  uint32_t job_id;
  int r;

  r = call(bus, SYSTEMD_PATH, SYSTEMD ".Manager", "GetUnitByPID", &unit, "u",
           (uint32_t)getpid());
  if (r >= 0)
    r = sd_bus_message_read(unit, "o", &unit_path);
  if (r >= 0)
    r = get(bus, unit_path, SYSTEMD ".Unit", "Job", "(uo)", &job);
  if (r >= 0)
    r = sd_bus_message_read(job, "(uo)", &job_id, &job_path);
  if (r < 0)
    return r;
  if (job_id == 0)
    return -ENOENT;
  *ret_job = strdup(job_path);
  return *ret_job ? 0 : -ENOMEM;
}

bool hg_systemd_restart_pending(sd_bus *bus) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  _cleanup_free_ char *job = NULL;
  const char *type = NULL;
  int r;

  if (!bus)
    return false;
  r = our_job(bus, &job);
  if (r >= 0)
    r = get(bus, job, SYSTEMD ".Job", "JobType", "s", &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "s", &type);
  if (r < 0)
    return false;
  hg_debug("systemd: our unit's job is %s", type);
  return strstr(type, "restart") != NULL;
}
