/* The agent's use of sd-bus: both connections, calls that never start a
 * service and never wait long, and errors in words. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "hg-time.h"

/* Every method call: a hung peer costs a few seconds, never sd-bus's
 * silent 25 s default. */
#define AGENT_CALL_TIMEOUT_USEC (5 * HG_USEC_PER_SEC)

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* The system bus (hourglassd) or the user's session bus, with the call
 * timeout set. */
int agent_bus_open(bool system, sd_bus **ret_bus);

/* An asynchronous call without auto-start (a missing service is an
 * answer, not a reason to start one): the reply goes to callback, or
 * nowhere when callback is NULL. types and the arguments as for
 * sd_bus_message_append(). */
int agent_bus_call(sd_bus *bus, sd_bus_slot **ret_slot, const char *dest,
                   const char *path, const char *iface, const char *member,
                   sd_bus_message_handler_t callback, void *userdata,
                   const char *types, ...);

/* The error of a reply, or NULL for a method return. */
const sd_bus_error *agent_bus_reply_error(sd_bus_message *reply);

/* The service is not on the bus (ServiceUnknown, NameHasNoOwner). */
bool agent_bus_error_is_absent(const sd_bus_error *e);

/* One line for a log: the message, else the name, of a D-Bus error. */
const char *agent_bus_error_text(const sd_bus_error *e);

/* Whether m comes from the connection unique (":1.42"). Well-known
 * senders in match rules do not protect against unicast signals, which
 * any peer may send; this does. */
bool agent_bus_message_from(sd_bus_message *m, const char *unique);

/* Drops a slot (a pending call is cancelled: its callback never runs)
 * and clears the pointer. */
static inline void agent_slot_clear(sd_bus_slot **slot) {
  *slot = sd_bus_slot_unref(*slot);
}

/* Follows who owns a well-known name on a bus: owner_changed gets the
 * unique name, NULL for none, first once GetNameOwner has answered and
 * then at every change (a NameOwnerChanged that beats the answer wins). */
typedef void (*AgentOwnerFunc)(const char *owner, void *userdata);
typedef struct AgentNameWatch AgentNameWatch;

int agent_name_watch_new(sd_bus *bus, const char *name,
                         AgentOwnerFunc owner_changed, void *userdata,
                         AgentNameWatch **ret);
AgentNameWatch *agent_name_watch_free(AgentNameWatch *w);
