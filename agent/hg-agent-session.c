/* The session followed in hourglassd, on the system bus: found by its
 * logind session id, followed through the daemon's signals and restarts,
 * its properties read for the warning (what the agent reports is in
 * hg-agent-report.c, what the person asks for in hg-agent-request.c). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-agent-props.h"
#include "hg-agent.h"
#include "hg-macros.h"

#define LOCAL_NAME "org.freedesktop.DBus.Local"
#define LOCAL_PATH "/org/freedesktop/DBus/Local"

/* Only our session's changes: not every session's times, which all
 * invalidate once a second while they are busy. */
#define MATCH_STATE                                                            \
  "type='signal',sender='" HG_BUS_NAME "',path='%s',"                          \
  "interface='" PROPERTIES_IFACE "',member='PropertiesChanged',"               \
  "arg0='" HG_BUS_SESSION_IFACE "'"
#define MATCH_OWNER                                                            \
  "type='signal',sender='" DBUS_NAME "',path='" DBUS_PATH "',"                 \
  "interface='" DBUS_NAME "',member='NameOwnerChanged',"                       \
  "arg0='" HG_BUS_NAME "'"

/* A session that may be ours: its LogindSession is being read. */
typedef struct {
  Agent *a;
  char *id;
  char *path;
  sd_bus_slot *slot;
} Probe;

static void probe_free(gpointer p) {
  Probe *q = p;

  sd_bus_slot_unref(q->slot);
  g_free(q->id);
  g_free(q->path);
  g_free(q);
}

static void set_daemon(Agent *a, const char *unique) {
  g_free(a->daemon);
  a->daemon = unique && *unique ? g_strdup(unique) : NULL;
}

/* Signals count only from the daemon's own connection: any peer on the
 * system bus may send us a unicast signal with any name in it. */
static bool from_daemon(Agent *a, sd_bus_message *m) {
  return agent_bus_message_from(m, a->daemon);
}

static bool is_ours(Agent *a, const char *id) {
  return a->id && strcmp(a->id, id) == 0;
}

static void drop(Agent *a, const char *why) {
  if (!a->id)
    return;
  agent_warning_clear(a);
  agent_info("No longer following session %s: %s", a->id, why);
  g_clear_pointer(&a->id, g_free);
  g_clear_pointer(&a->path, g_free);
  agent_slot_clear(&a->state_match);
  agent_slot_clear(&a->adopt_slot);
  agent_slot_clear(&a->read_slot);
  a->read_alert = false;
  agent_slot_clear(&a->report_slot);
  agent_slot_clear(&a->source_slot);
  agent_request_stop(a);
  agent_report_reset(a);
  a->daemon_warn_after = a->session_warn_after = 0;
  idle_watch_set_enabled(a->idle, false);
}

/* --- the state of the session followed --- */

/* A rule may warn sooner than the fallback: the session's own WarnAfterSec
 * wins, whichever answer came last. */
static void apply_warn_after(Agent *a) {
  uint32_t warn = a->session_warn_after ?: a->daemon_warn_after;

  if (warn == a->warn_after)
    return;
  a->warn_after = warn;
  idle_watch_set_warn_after(a->idle, warn);
  if (warn)
    agent_info("Input is looked at before WarnAfterSec=%" PRIu32 " s (%s)",
               warn, a->session_warn_after ? "the session's" : "the daemon's");
}

static int on_session_props(sd_bus_message *reply, void *userdata,
                            sd_bus_error *ret_error) {
  Agent *a = userdata;
  AgentSessionProps p = {0};
  bool alert = a->read_alert;

  agent_slot_clear(&a->read_slot);
  a->read_alert = false;
  if (agent_bus_reply_error(reply) || agent_props_read(reply, &p) < 0 ||
      !p.state)
    return 0; /* gone meanwhile: SessionRemoved says so */
  a->session_warn_after = p.warn_after_sec;
  apply_warn_after(a);
  if (!agent_props_warned(&p)) {
    agent_warning_clear(a);
    return 0;
  }
  agent_props_to_facts(&p, &a->facts);
  agent_warning_show(a, alert);
  return 0;
}

/* One read at a time: the daemon answers in the order it emits, so the
 * answer to a read still on its way is at least as new as any signal
 * that came before it. */
void agent_session_read(Agent *a, bool alert) {
  int r;

  a->read_alert = a->read_alert || alert;
  if (!a->path || a->read_slot)
    return;
  r = agent_bus_call(a->system, &a->read_slot, HG_BUS_NAME, a->path,
                     PROPERTIES_IFACE, "GetAll", on_session_props, a, "s",
                     HG_BUS_SESSION_IFACE);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot read session %s", a->id);
}

/* WarnAfterSec out of the Manager's a{sv}: the fallback's. */
static int read_warn_after(sd_bus_message *m, uint32_t *ret_warn) {
  const char *name;
  int r;

  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    r = sd_bus_message_read(m, "s", &name);
    if (r >= 0 && strcmp(name, "WarnAfterSec") == 0)
      r = sd_bus_message_read(m, "v", "u", ret_warn);
    else if (r >= 0)
      r = sd_bus_message_skip(m, "v");
    if (r >= 0)
      r = sd_bus_message_exit_container(m);
  }
  return r;
}

/* The limits first: the idle methods that poll do so on WarnAfterSec,
 * the session's own once its properties are read. */
static int on_limits(sd_bus_message *reply, void *userdata,
                     sd_bus_error *ret_error) {
  Agent *a = userdata;
  uint32_t warn = 0;

  agent_slot_clear(&a->adopt_slot);
  if (!agent_bus_reply_error(reply))
    (void)read_warn_after(reply, &warn);
  a->daemon_warn_after = warn;
  apply_warn_after(a);
  agent_session_read(a, false);
  return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata,
                                 sd_bus_error *ret_error);

static int on_state_match(sd_bus_message *reply, void *userdata,
                          sd_bus_error *ret_error) {
  const sd_bus_error *e = agent_bus_reply_error(reply);

  if (e)
    agent_warning("Cannot follow the state of the session: %s",
                  agent_bus_error_text(e));
  return 0;
}

/* Asynchronous, and sent before the session is read: the bus installs it
 * before hourglassd sees the read, so no change falls in between. */
static int follow_state(Agent *a) {
  g_autofree char *rule = g_strdup_printf(MATCH_STATE, a->path);

  return sd_bus_add_match_async(a->system, &a->state_match, rule,
                                on_properties_changed, on_state_match, a);
}

static void adopt(Agent *a, const char *id, const char *path) {
  int r;

  a->id = g_strdup(id);
  a->path = g_strdup(path);
  g_ptr_array_set_size(a->probes, 0);
  a->facts = (AgentFacts){0};
  agent_info("Following session %s of hourglassd (logind session %s)", id,
             a->logind_id);
  idle_watch_set_enabled(a->idle, true);
  agent_report_idle_source(a);
  r = follow_state(a);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot follow the state of %s", id);
  r = agent_bus_call(a->system, &a->adopt_slot, HG_BUS_NAME, HG_BUS_PATH,
                     PROPERTIES_IFACE, "GetAll", on_limits, a, "s",
                     HG_BUS_MANAGER_IFACE);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot read the daemon's limits");
}

/* --- finding the session: the one whose LogindSession is ours --- */

static void log_waiting(Agent *a) {
  if (!a->id && a->probes->len == 0)
    agent_info("hourglassd has no session for logind session %s (yet): "
               "waiting for one",
               a->logind_id);
}

static int on_probe(sd_bus_message *reply, void *userdata,
                    sd_bus_error *ret_error) {
  Probe *q = userdata;
  Agent *a = q->a;
  g_autofree char *id = g_steal_pointer(&q->id);
  g_autofree char *path = g_steal_pointer(&q->path);
  const char *logind_id = NULL;

  if (!agent_bus_reply_error(reply))
    (void)sd_bus_message_read(reply, "v", "s", &logind_id);
  g_ptr_array_remove_fast(a->probes, q);
  if (!a->id && logind_id && strcmp(logind_id, a->logind_id) == 0)
    adopt(a, id, path);
  else
    log_waiting(a);
  return 0;
}

static void probe(Agent *a, const char *id, const char *path) {
  Probe *q = g_new0(Probe, 1);
  int r;

  q->a = a;
  q->id = g_strdup(id);
  q->path = g_strdup(path);
  r = agent_bus_call(a->system, &q->slot, HG_BUS_NAME, path, PROPERTIES_IFACE,
                     "Get", on_probe, q, "ss", HG_BUS_SESSION_IFACE,
                     "LogindSession");
  if (r < 0) {
    agent_log_errno(LOG_WARNING, r, "Cannot read session %s", id);
    probe_free(q);
    return;
  }
  g_ptr_array_add(a->probes, q);
}

/* Desktop sessions of our user are the candidates; web sessions and
 * other users' sessions are not ours whatever they say. */
static int probe_listed(Agent *a, sd_bus_message *reply) {
  const char *id, *user, *source, *state, *path;
  int r;

  r = sd_bus_message_enter_container(reply, 'a', "(sssso)");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_read(reply, "(sssso)", &id, &user, &source, &state,
                                  &path)) > 0)
    if (strcmp(source, "desktop") == 0 &&
        (!a->user_name || strcmp(user, a->user_name) == 0))
      probe(a, id, path);
  return r;
}

static int on_list(sd_bus_message *reply, void *userdata,
                   sd_bus_error *ret_error) {
  Agent *a = userdata;
  const sd_bus_error *e = agent_bus_reply_error(reply);

  agent_slot_clear(&a->list_slot);
  if (agent_bus_error_is_absent(e)) {
    agent_info("hourglassd is not on the system bus: waiting for it");
    return 0;
  }
  if (e) {
    agent_warning("Cannot list the sessions of hourglassd: %s",
                  agent_bus_error_text(e));
    return 0;
  }
  set_daemon(a, sd_bus_message_get_sender(reply));
  if (probe_listed(a, reply) < 0)
    agent_warning("hourglassd sent a malformed session list");
  log_waiting(a);
  return 0;
}

static void resolve(Agent *a) {
  int r;

  g_ptr_array_set_size(a->probes, 0);
  agent_slot_clear(&a->list_slot);
  r = agent_bus_call(a->system, &a->list_slot, HG_BUS_NAME, HG_BUS_PATH,
                     HG_BUS_MANAGER_IFACE, "ListSessions", on_list, a, NULL);
  if (r < 0)
    agent_log_errno(LOG_WARNING, r, "Cannot list the sessions of hourglassd");
}

/* --- the daemon's signals --- */

/* A session registered after the agent started, or re-armed with a new
 * id after an unlock. */
static int on_session_new(sd_bus_message *m, void *userdata,
                          sd_bus_error *ret_error) {
  Agent *a = userdata;
  const char *id, *path;

  if (!a->id && from_daemon(a, m) &&
      sd_bus_message_read(m, "so", &id, &path) >= 0)
    probe(a, id, path);
  return 0;
}

static int on_session_warning(sd_bus_message *m, void *userdata,
                              sd_bus_error *ret_error) {
  Agent *a = userdata;
  const char *id, *path;
  uint64_t left;

  if (!from_daemon(a, m) ||
      sd_bus_message_read(m, "sot", &id, &path, &left) < 0 || !is_ours(a, id))
    return 0;
  /* Of what, and until when, the session's properties tell: the
   * PropertiesChanged that follows carries only some of them. */
  agent_debug("Session %s: SessionWarning, %" PRIu64 " s left", id, left);
  agent_session_read(a, true);
  return 0;
}

static int on_session_removed(sd_bus_message *m, void *userdata,
                              sd_bus_error *ret_error) {
  Agent *a = userdata;
  g_autofree char *why = NULL;
  const char *id, *path, *reason;

  if (!from_daemon(a, m) ||
      sd_bus_message_read(m, "sos", &id, &path, &reason) < 0 || !is_ours(a, id))
    return 0;
  why = g_strdup_printf("it ended (%s)", reason);
  drop(a, why);
  return 0;
}

/* What the warning's words come from, besides State, Warning and Stage
 * (which come with their values); and the session's WarnAfterSec, which
 * the idle methods that poll follow (a reload may change it). */
static const char *const warning_facts[] = {
    "ExpiresAt", "LockAt",       "LimitAt", "ExtensionsLeft",
    "Action",    "WarnAfterSec", NULL,
};

/* A change of State, Warning or Stage, of the session's WarnAfterSec, or
 * of a fact while a warning is shown (an operator's extension, more time,
 * a reload): read again. Only an end of the warning needs no read.
 * WarnAfterSec is invalidated with the times, so this is a read per
 * flush of them (at most one a second, one per report of input). */
static int on_properties_changed(sd_bus_message *m, void *userdata,
                                 sd_bus_error *ret_error) {
  Agent *a = userdata;
  AgentSessionProps p = {0};
  const char *iface;
  static const char *const state[] = {"State", "Warning", "Stage",
                                      "WarnAfterSec", NULL};

  if (!a->path || !from_daemon(a, m) ||
      g_strcmp0(sd_bus_message_get_path(m), a->path) != 0 ||
      sd_bus_message_read(m, "s", &iface) < 0 ||
      strcmp(iface, HG_BUS_SESSION_IFACE) != 0 || agent_props_read(m, &p) < 0)
    return 0;
  if (p.state && !agent_props_warned(&p))
    agent_warning_clear(a);
  else if (p.state || p.warning || p.stage ||
           agent_props_invalidated(m, a->warning ? warning_facts : state) > 0)
    agent_session_read(a, false);
  return 0;
}

/* hourglassd restarted (or started late): its sessions are new ones. */
static int on_owner_changed(sd_bus_message *m, void *userdata,
                            sd_bus_error *ret_error) {
  Agent *a = userdata;
  const char *name, *old_owner, *new_owner;

  if (!agent_bus_message_from(m, DBUS_NAME) ||
      sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
      strcmp(name, HG_BUS_NAME) != 0)
    return 0;
  drop(a, "hourglassd left the system bus");
  set_daemon(a, new_owner);
  if (!a->daemon)
    return 0;
  agent_info("hourglassd is on the system bus (%s)", new_owner);
  resolve(a);
  return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata,
                           sd_bus_error *ret_error) {
  Agent *a = userdata;

  agent_log(LOG_ERR, "Lost the connection to the system bus");
  return sd_event_exit(a->event, EXIT_FAILURE);
}

/* --- life --- */

static int match_manager(Agent *a, sd_bus_slot **slot, const char *member,
                         sd_bus_message_handler_t handler) {
  return sd_bus_match_signal(a->system, slot, HG_BUS_NAME, HG_BUS_PATH,
                             HG_BUS_MANAGER_IFACE, member, handler, a);
}

/* The matches are in place before the first ListSessions: whatever
 * happens after the list was made is heard. */
int agent_session_start(Agent *a) {
  sd_bus_slot **s = a->matches;
  int r;

  a->probes = g_ptr_array_new_with_free_func(probe_free);
  r = sd_bus_match_signal(a->system, &s[0], LOCAL_NAME, LOCAL_PATH, LOCAL_NAME,
                          "Disconnected", on_disconnected, a);
  if (r >= 0)
    r = sd_bus_add_match(a->system, &s[1], MATCH_OWNER, on_owner_changed, a);
  if (r >= 0)
    r = match_manager(a, &s[2], "SessionNew", on_session_new);
  if (r >= 0)
    r = match_manager(a, &s[3], "SessionWarning", on_session_warning);
  if (r >= 0)
    r = match_manager(a, &s[4], "SessionRemoved", on_session_removed);
  if (r < 0)
    return r;
  resolve(a);
  return 0;
}

void agent_session_stop(Agent *a) {
  for (size_t i = 0; i < HG_ELEMENTSOF(a->matches); i++)
    a->matches[i] = sd_bus_slot_unref(a->matches[i]);
  agent_slot_clear(&a->list_slot);
  agent_slot_clear(&a->state_match);
  agent_slot_clear(&a->adopt_slot);
  agent_slot_clear(&a->read_slot);
  agent_slot_clear(&a->report_slot);
  agent_slot_clear(&a->source_slot);
  agent_request_stop(a);
  a->report_timer = sd_event_source_disable_unref(a->report_timer);
  g_clear_pointer(&a->probes, g_ptr_array_unref);
  g_clear_pointer(&a->id, g_free);
  g_clear_pointer(&a->path, g_free);
  g_clear_pointer(&a->daemon, g_free);
}

bool agent_error_is_gone(const sd_bus_error *e) {
  return sd_bus_error_has_names(e, HG_BUS_ERROR_NO_SUCH_SESSION,
                                SD_BUS_ERROR_UNKNOWN_OBJECT,
                                SD_BUS_ERROR_UNKNOWN_INTERFACE) > 0;
}
