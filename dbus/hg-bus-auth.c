/* Who may do what over D-Bus: checked by the daemon itself (every vtable
 * entry is SD_BUS_VTABLE_UNPRIVILEGED, or sd-bus would demand
 * CAP_SYS_ADMIN before we are asked), on the credentials the bus took when
 * the caller connected.
 *
 * Never /proc: libsystemd fills groups it did not get from the bus from
 * /proc/<pid> at call time (SD_BUS_CREDS_AUGMENT), and by then the pid
 * that connected may be another process's. So the bus driver is asked
 * (GetConnectionCredentials: UnixUserID and UnixGroupIDs, which
 * dbus-daemon takes from SO_PEERCRED and SO_PEERGROUPS at connect time),
 * asynchronously, and the method goes on when it answers. */
#include "hg-bus-private.h"

#include <errno.h>

#include "hg-log.h"

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
/* A bus that lists more groups than this for one caller is not believed. */
#define GROUPS_MAX 65536

struct HgBusPending {
  HgBus *bus;
  sd_bus_message *m;
  HgBusCallerThen then;
  sd_bus_slot *slot;
};

void hg_bus_pending_free(HgBusPending *p) {
  if (!p)
    return;
  sd_bus_slot_unref(p->slot);
  sd_bus_message_unref(p->m);
  g_free(p);
}

static int read_groups(sd_bus_message *reply, HgBusCaller *c) {
  const void *gids;
  size_t size;
  int r;

  r = sd_bus_message_enter_container(reply, 'v', "au");
  if (r < 0)
    return r;
  r = sd_bus_message_read_array(reply, 'u', &gids, &size);
  if (r < 0)
    return r;
  if (size / sizeof(uint32_t) > GROUPS_MAX)
    return -E2BIG;
  c->gids = gids;
  c->n_gids = size / sizeof(uint32_t);
  c->has_gids = true;
  return sd_bus_message_exit_container(reply);
}

static int read_entry(sd_bus_message *reply, HgBusCaller *c, bool *has_uid) {
  const char *key;
  uint32_t uid;
  int r;

  r = sd_bus_message_read(reply, "s", &key);
  if (r < 0)
    return r;
  if (strcmp(key, "UnixUserID") == 0) {
    r = sd_bus_message_read(reply, "v", "u", &uid);
    c->uid = (uid_t)uid;
    *has_uid = r >= 0;
  } else if (strcmp(key, "UnixGroupIDs") == 0) {
    r = read_groups(reply, c);
  } else {
    r = sd_bus_message_skip(reply, "v");
  }
  return r;
}

/* GetConnectionCredentials' a{sv}; the uid is required, the groups are
 * optional (a bus that does not tell them makes no group count). */
static int parse_credentials(sd_bus_message *reply, HgBusCaller *ret) {
  HgBusCaller c = {0};
  bool has_uid = false;
  int r;

  r = sd_bus_message_enter_container(reply, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
    r = read_entry(reply, &c, &has_uid);
    if (r >= 0)
      r = sd_bus_message_exit_container(reply);
  }
  if (r < 0)
    return r;
  if (!has_uid)
    return -ENODATA;
  *ret = c;
  return 0;
}

/* then()'s result becomes the answer, as a method handler's would. */
static void finish(HgBusPending *p, const HgBusCaller *caller) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  if (!caller)
    r = sd_bus_error_set(&error, SD_BUS_ERROR_ACCESS_DENIED,
                         "Cannot tell who is calling");
  else if ((r = sd_bus_message_rewind(p->m, true)) >= 0)
    r = p->then(p->bus, p->m, caller, &error);
  if (r >= 0)
    return;
  if (sd_bus_error_is_set(&error))
    r = sd_bus_reply_method_error(p->m, &error);
  else
    r = sd_bus_reply_method_errno(p->m, r, NULL);
  if (r < 0)
    hg_log_errno(LOG_DEBUG, r, "Cannot answer %s",
                 sd_bus_message_get_member(p->m));
}

static int on_credentials(sd_bus_message *reply, void *userdata,
                          sd_bus_error *ret_error) {
  HgBusPending *p = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(reply);
  HgBusCaller caller;
  int r = -EIO;

  if (!e)
    r = parse_credentials(reply, &caller);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "No credentials of %s from the bus%s%s",
                 sd_bus_message_get_sender(p->m), e ? ": " : "",
                 e ? e->message : "");
  /* Out of the table first: then() may reach the pending set. */
  g_hash_table_steal(p->bus->pending, p);
  finish(p, r < 0 ? NULL : &caller);
  hg_bus_pending_free(p);
  return 0;
}

int hg_bus_with_caller(HgBus *bus, sd_bus_message *m, HgBusCallerThen then) {
  const char *sender = sd_bus_message_get_sender(m);
  HgBusPending *p;
  int r;

  if (!sender)
    return -EPERM;
  p = g_new0(HgBusPending, 1);
  p->bus = bus;
  p->m = sd_bus_message_ref(m);
  p->then = then;
  r = sd_bus_call_method_async(bus->bus, &p->slot, DBUS_NAME, DBUS_PATH,
                               DBUS_NAME, "GetConnectionCredentials",
                               on_credentials, p, "s", sender);
  if (r < 0) {
    hg_bus_pending_free(p);
    return r;
  }
  g_hash_table_add(bus->pending, p);
  return 1;
}

static bool in_admin_group(HgBus *bus, const HgBusCaller *c) {
  if (!bus->config->admin_group || !c->has_gids)
    return false;
  for (size_t i = 0; i < c->n_gids; i++)
    if (c->gids[i] == bus->config->admin_gid)
      return true;
  return false;
}

int hg_bus_check_caller(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, HgBusAllow allow,
                        HgSession *s, sd_bus_error *error) {
  if (caller->uid == 0 || in_admin_group(bus, caller))
    return 0;
  if (allow == HG_BUS_ALLOW_ADMIN_OR_OWNER && s &&
      hg_session_get_uid(s) == caller->uid)
    return 0;
  return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                           "%s needs root or the admin group",
                           sd_bus_message_get_member(m));
}
