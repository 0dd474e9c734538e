/* Bus connections and calls of hourglass-agent; see hg-agent-bus.h. */
#include "hg-agent-bus.h"

#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "hg-macros.h"

int agent_bus_open(bool system, sd_bus **ret_bus) {
  _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
  int r;

  /* Both honour DBUS_*_BUS_ADDRESS, which the tests point elsewhere. */
  r = system ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
  if (r < 0)
    return r;
  (void)sd_bus_set_description(bus, system ? "system" : "session");
  r = sd_bus_set_method_call_timeout(bus, AGENT_CALL_TIMEOUT_USEC);
  if (r < 0)
    return r;
  *ret_bus = TAKE_PTR(bus);
  return 0;
}

int agent_bus_call(sd_bus *bus, sd_bus_slot **ret_slot, const char *dest,
                   const char *path, const char *iface, const char *member,
                   sd_bus_message_handler_t callback, void *userdata,
                   const char *types, ...) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  va_list ap;
  int r;

  r = sd_bus_message_new_method_call(bus, &m, dest, path, iface, member);
  if (r < 0)
    return r;
  r = sd_bus_message_set_auto_start(m, false);
  if (r < 0)
    return r;
  if (types) {
    va_start(ap, types);
    r = sd_bus_message_appendv(m, types, ap);
    va_end(ap);
    if (r < 0)
      return r;
  }
  if (callback)
    return sd_bus_call_async(bus, ret_slot, m, callback, userdata, 0);
  r = sd_bus_message_set_expect_reply(m, false);
  if (r < 0)
    return r;
  return sd_bus_send(bus, m, NULL);
}

const sd_bus_error *agent_bus_reply_error(sd_bus_message *reply) {
  return sd_bus_message_is_method_error(reply, NULL)
             ? sd_bus_message_get_error(reply)
             : NULL;
}

bool agent_bus_error_is_absent(const sd_bus_error *e) {
  return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                SD_BUS_ERROR_NAME_HAS_NO_OWNER) > 0;
}

const char *agent_bus_error_text(const sd_bus_error *e) {
  if (!e)
    return "no error";
  if (e->message && *e->message)
    return e->message;
  return e->name ? e->name : "unknown error";
}

bool agent_bus_message_from(sd_bus_message *m, const char *unique) {
  const char *sender = sd_bus_message_get_sender(m);

  return sender && unique && strcmp(sender, unique) == 0;
}

struct AgentNameWatch {
  char *name;
  AgentOwnerFunc owner_changed;
  void *userdata;
  sd_bus_slot *match;
  sd_bus_slot *call;
  bool seen; /* NameOwnerChanged came before GetNameOwner's answer */
};

static int on_name_owner_changed(sd_bus_message *m, void *userdata,
                                 sd_bus_error *ret_error) {
  AgentNameWatch *w = userdata;
  const char *name, *old_owner, *new_owner;

  if (!agent_bus_message_from(m, DBUS_NAME) ||
      sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
      strcmp(name, w->name) != 0)
    return 0;
  w->seen = true;
  agent_slot_clear(&w->call);
  w->owner_changed(*new_owner ? new_owner : NULL, w->userdata);
  return 0;
}

static int on_name_owner(sd_bus_message *reply, void *userdata,
                         sd_bus_error *ret_error) {
  AgentNameWatch *w = userdata;
  const char *owner = NULL;

  agent_slot_clear(&w->call);
  if (w->seen)
    return 0;
  if (!agent_bus_reply_error(reply))
    (void)sd_bus_message_read(reply, "s", &owner);
  w->owner_changed(owner && *owner ? owner : NULL, w->userdata);
  return 0;
}

int agent_name_watch_new(sd_bus *bus, const char *name,
                         AgentOwnerFunc owner_changed, void *userdata,
                         AgentNameWatch **ret) {
  AgentNameWatch *w = g_new0(AgentNameWatch, 1);
  g_autofree char *rule = g_strdup_printf(
      "type='signal',sender='" DBUS_NAME "',path='" DBUS_PATH "',"
      "interface='" DBUS_NAME "',member='NameOwnerChanged',arg0='%s'",
      name);
  int r;

  w->name = g_strdup(name);
  w->owner_changed = owner_changed;
  w->userdata = userdata;
  r = sd_bus_add_match(bus, &w->match, rule, on_name_owner_changed, w);
  if (r >= 0)
    r = agent_bus_call(bus, &w->call, DBUS_NAME, DBUS_PATH, DBUS_NAME,
                       "GetNameOwner", on_name_owner, w, "s", name);
  if (r < 0) {
    agent_name_watch_free(w);
    return r;
  }
  *ret = w;
  return 0;
}

AgentNameWatch *agent_name_watch_free(AgentNameWatch *w) {
  if (!w)
    return NULL;
  sd_bus_slot_unref(w->match);
  sd_bus_slot_unref(w->call);
  g_free(w->name);
  g_free(w);
  return NULL;
}
