/* org.hourglass1.Session: one object per live session, served through a
 * fallback vtable (no per-session registration to keep in step). */
#include "hg-bus-private.h"

#include <errno.h>
#include <stdlib.h>

#include "hg-log.h"

char *hg_bus_session_path(const char *id) {
  char *path = NULL;

  if (sd_bus_path_encode(HG_BUS_SESSION_PREFIX, id, &path) < 0)
    return NULL;
  return path;
}

/* What a Session object's handlers get: the session and the service.
 * Made when the object is first used, dropped when the session ends. */
typedef struct {
  HgBus *bus;
  HgSession *session; /* borrowed: dropped with it */
} BusObject;

static BusObject *object_of(HgBus *bus, HgSession *s) {
  BusObject *o = g_hash_table_lookup(bus->objects, s);

  if (!o) {
    o = g_new0(BusObject, 1);
    o->bus = bus;
    o->session = s;
    g_hash_table_insert(bus->objects, s, o);
  }
  return o;
}

void hg_bus_forget_object(HgBus *bus, HgSession *s) {
  g_hash_table_remove(bus->objects, s);
}

/* The session behind an object path, or 0 (no such object). */
static int find_session(sd_bus *sdbus, const char *path, const char *iface,
                        void *userdata, void **ret, sd_bus_error *error) {
  HgBus *bus = userdata;
  g_autofree char *id = NULL;
  HgSession *s;

  if (sd_bus_path_decode(path, HG_BUS_SESSION_PREFIX, &id) <= 0)
    return 0;
  s = hg_registry_lookup(bus->reg, id);
  if (!s)
    return 0;
  *ret = object_of(bus, s);
  return 1;
}

static int enumerate(sd_bus *sdbus, const char *prefix, void *userdata,
                     char ***ret_nodes, sd_bus_error *error) {
  HgBus *bus = userdata;
  g_autoptr(GPtrArray) all = hg_registry_list(bus->reg);
  char **nodes = calloc(all->len + 1, sizeof(char *));

  if (!nodes)
    return -ENOMEM;
  for (guint i = 0; i < all->len; i++) {
    g_autofree char *path =
        hg_bus_session_path(hg_session_get_id(all->pdata[i]));
    /* sd-bus frees the array with free(): no GLib allocations in it. */
    nodes[i] = path ? strdup(path) : NULL;
    if (!nodes[i]) {
      for (guint k = 0; k < i; k++)
        free(nodes[k]);
      free(nodes);
      return -ENOMEM;
    }
  }
  *ret_nodes = nodes;
  return 0;
}

static int get_string(sd_bus *sdbus, const char *path, const char *iface,
                      const char *property, sd_bus_message *reply,
                      void *userdata, sd_bus_error *error) {
  HgSession *s = ((BusObject *)userdata)->session;
  const char *v;

  if (strcmp(property, "Id") == 0)
    v = hg_session_get_id(s);
  else if (strcmp(property, "User") == 0)
    v = hg_session_get_user(s);
  else if (strcmp(property, "Source") == 0)
    v = hg_session_source_to_string(hg_session_get_source(s));
  else if (strcmp(property, "LogindSession") == 0) {
    HgDesktop *d = ((BusObject *)userdata)->bus->desktop;
    v = d ? hg_desktop_logind_id(d, hg_session_get_id(s)) : NULL;
    v = v ? v : "";
  } else if (strcmp(property, "Policy") == 0)
    v = hg_session_get_policy(s) ?: "";
  else if (strcmp(property, "Warning") == 0)
    v = hg_warning_to_string(hg_session_get_verdict(s)->warning);
  else if (strcmp(property, "LimitReason") == 0)
    v = hg_session_get_verdict(s)->hard_end == HG_USEC_INFINITY
            ? ""
            : hg_end_reason_to_string(hg_session_get_verdict(s)->hard_reason);
  else if (strcmp(property, "Stage") == 0)
    v = hg_session_get_times(s)->locked_at ? "locked" : "active";
  else if (strcmp(property, "Action") == 0)
    v = hg_session_get_source(s) == HG_SESSION_SOURCE_DESKTOP
            ? hg_desktop_action_to_string(hg_session_get_limits(s)->action)
            : "";
  else
    v = hg_session_state_to_string(hg_session_get_state(s));
  return sd_bus_message_append(reply, "s", v);
}

/* Jitter between two reads of the clocks stays below this; a clock that
 * was set or slewed moves the offset beyond it. */
#define REAL_OFFSET_SLACK_USEC 1000

/* D-Bus times are wall-clock; 0 stands for "never". The offset between
 * the clocks is kept while it holds, so that a time a client reads twice
 * is the same value (the two clocks are never read at the same instant),
 * and the times of one session keep their order. */
uint64_t hg_bus_realtime(HgBus *bus, hg_usec_t boottime) {
  uint64_t real_now, boot_now;
  int64_t offset, r;

  if (boottime == HG_USEC_INFINITY)
    return 0;
  if (sd_event_now(bus->event, CLOCK_REALTIME, &real_now) < 0 ||
      sd_event_now(bus->event, CLOCK_BOOTTIME, &boot_now) < 0)
    return hg_clock_to_realtime(hg_registry_get_clock(bus->reg), boottime);
  offset = (int64_t)real_now - (int64_t)boot_now;
  if (!bus->real_offset_set ||
      llabs(offset - bus->real_offset) > REAL_OFFSET_SLACK_USEC) {
    bus->real_offset = offset;
    bus->real_offset_set = true;
  }
  r = (int64_t)boottime + bus->real_offset;
  return r > 0 ? (uint64_t)r : 1; /* 0 is "never" */
}

static int get_time(sd_bus *sdbus, const char *path, const char *iface,
                    const char *property, sd_bus_message *reply, void *userdata,
                    sd_bus_error *error) {
  BusObject *o = userdata;
  HgSession *s = o->session;
  const HgVerdict *v = hg_session_get_verdict(s);
  hg_usec_t t;

  if (strcmp(property, "Created") == 0)
    t = hg_session_get_created(s);
  else if (strcmp(property, "LastActivity") == 0)
    t = hg_session_get_last_activity(s);
  else if (strcmp(property, "WarnAt") == 0)
    t = v->warn_at;
  else if (strcmp(property, "LockAt") == 0)
    t = v->lock_at;
  else if (strcmp(property, "LimitAt") == 0)
    t = v->hard_end;
  else if (strcmp(property, "ClosesAt") == 0)
    t = hg_session_get_times(s)->closing_at ?: HG_USEC_INFINITY;
  else
    t = HG_MIN(v->expire_at, v->close_at);
  return sd_bus_message_append(reply, "t", hg_bus_realtime(o->bus, t));
}

/* Seconds until the allowance ends the session (today's rest, and past
 * midnight the next day's), UINT64_MAX when none applies. */
static int get_allowance_left(sd_bus *sdbus, const char *path,
                              const char *iface, const char *property,
                              sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
  BusObject *o = userdata;
  hg_usec_t end = hg_session_get_times(o->session)->allowance_end;
  uint64_t now;

  if (!end)
    return sd_bus_message_append(reply, "t", UINT64_MAX);
  if (sd_event_now(o->bus->event, CLOCK_BOOTTIME, &now) < 0)
    now = hg_clock_boottime(hg_registry_get_clock(o->bus->reg));
  return sd_bus_message_append(reply, "t",
                               hg_usec_to_sec_ceil(hg_usec_sub(end, now)));
}

/* The person's extensions: taken, and left (0 where the policy gives
 * none). */
static int get_extensions(sd_bus *sdbus, const char *path, const char *iface,
                          const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
  HgSession *s = ((BusObject *)userdata)->session;
  const HgLimits *l = hg_session_get_limits(s);
  unsigned taken = hg_session_get_times(s)->n_extended;
  unsigned left = 0;

  if (l->extend_by > 0 && l->max_session > 0 && l->max_extensions > taken)
    left = l->max_extensions - taken;
  return sd_bus_message_append(
      reply, "u", strcmp(property, "Extensions") == 0 ? taken : left);
}

/* The session's own limits, as its rule (or the fallback) says now: a
 * rule's may differ from the Manager's properties, and a reload may
 * change them (the times' invalidation announces it). Whole seconds in
 * the configuration; rounded up should a limit ever be finer. */
static int get_limit(sd_bus *sdbus, const char *path, const char *iface,
                     const char *property, sd_bus_message *reply,
                     void *userdata, sd_bus_error *error) {
  const HgLimits *l = hg_session_get_limits(((BusObject *)userdata)->session);
  hg_usec_t v;

  if (strcmp(property, "WarnAfterSec") == 0)
    v = l->warn_after;
  else if (strcmp(property, "ExpireAfterSec") == 0)
    v = l->expire_after;
  else
    v = l->max_session;
  return sd_bus_message_append(
      reply, "u", (uint32_t)HG_MIN(hg_usec_to_sec_ceil(v), UINT32_MAX));
}

/* Every source that reported: (name, method, last report), the time
 * wall-clock, 0 for a source that has said nothing yet. */
static int get_idle_sources(sd_bus *sdbus, const char *path, const char *iface,
                            const char *property, sd_bus_message *reply,
                            void *userdata, sd_bus_error *error) {
  BusObject *o = userdata;
  int r;

  r = sd_bus_message_open_container(reply, 'a', "(sst)");
  for (HgInputSource i = 0; r >= 0 && i < _HG_INPUT_SOURCE_MAX; i++) {
    const HgSourceReport *rep = hg_session_get_report(o->session, i);
    if (rep->present)
      r = sd_bus_message_append(
          reply, "(sst)", hg_input_source_to_string(i), rep->method ?: "",
          rep->last ? hg_bus_realtime(o->bus, rep->last) : 0);
  }
  if (r < 0)
    return r;
  return sd_bus_message_close_container(reply);
}

/* Web sessions have their page; desktop sessions whatever their desk
 * says. */
static int get_idle_known(sd_bus *sdbus, const char *path, const char *iface,
                          const char *property, sd_bus_message *reply,
                          void *userdata, sd_bus_error *error) {
  BusObject *o = userdata;
  HgDesktop *d = o->bus->desktop;
  int known = 1;

  if (hg_session_get_source(o->session) == HG_SESSION_SOURCE_DESKTOP)
    known = d && hg_desktop_idle_known(d, hg_session_get_id(o->session));
  return sd_bus_message_append(reply, "b", known);
}

/* The session of the object a call went to: looked up again once the
 * caller is known, since it may have ended meanwhile. */
static int session_of_call(HgBus *bus, sd_bus_message *m, HgSession **ret,
                           sd_bus_error *error) {
  g_autofree char *id = NULL;

  if (sd_bus_path_decode(sd_bus_message_get_path(m), HG_BUS_SESSION_PREFIX,
                         &id) <= 0)
    return -EINVAL;
  return hg_bus_find_session(bus, id, ret, error);
}

static int terminate_as(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, sd_bus_error *error) {
  HgSession *s;
  int r = session_of_call(bus, m, &s, error);

  return r < 0 ? r : hg_bus_terminate(bus, m, caller, s, error);
}

static int extend_as(HgBus *bus, sd_bus_message *m, const HgBusCaller *caller,
                     sd_bus_error *error) {
  HgSession *s;
  int r = session_of_call(bus, m, &s, error);

  return r < 0 ? r : hg_bus_extend(bus, m, caller, s, error);
}

static int more_time_as(HgBus *bus, sd_bus_message *m,
                        const HgBusCaller *caller, sd_bus_error *error) {
  HgSession *s;
  int r = session_of_call(bus, m, &s, error);

  return r < 0 ? r : hg_bus_more_time(bus, m, caller, s, error);
}

static int method_terminate(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  return hg_bus_with_caller(((BusObject *)userdata)->bus, m, terminate_as);
}

static int method_extend(sd_bus_message *m, void *userdata,
                         sd_bus_error *error) {
  return hg_bus_with_caller(((BusObject *)userdata)->bus, m, extend_as);
}

static int method_more_time(sd_bus_message *m, void *userdata,
                            sd_bus_error *error) {
  return hg_bus_with_caller(((BusObject *)userdata)->bus, m, more_time_as);
}

const sd_bus_vtable hg_bus_session_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_ARGS("Terminate", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                            method_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("Extend", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                            method_extend, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_ARGS("RequestMoreTime", SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("t", limit_at, "u", extensions_left),
                            method_more_time, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Id", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("User", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Source", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("LogindSession", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("State", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Created", "t", get_time, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("LastActivity", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("WarnAt", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ExpiresAt", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("IdleSources", "a(sst)", get_idle_sources, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("IdleKnown", "b", get_idle_known, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("Policy", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Action", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("Warning", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Stage", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("LockAt", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("LimitAt", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("LimitReason", "s", get_string, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("AllowanceLeft", "t", get_allowance_left, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ClosesAt", "t", get_time, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("Extensions", "u", get_extensions, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ExtensionsLeft", "u", get_extensions, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("WarnAfterSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ExpireAfterSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("MaxSessionSec", "u", get_limit, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_VTABLE_END,
};

int hg_bus_add_session_objects(HgBus *bus) {
  int r = sd_bus_add_fallback_vtable(
      bus->bus, &bus->session_slot, HG_BUS_SESSION_PREFIX, HG_BUS_SESSION_IFACE,
      hg_bus_session_vtable, find_session, bus);
  if (r < 0)
    return r;
  return sd_bus_add_node_enumerator(bus->bus, &bus->enumerator_slot,
                                    HG_BUS_SESSION_PREFIX, enumerate, bus);
}
