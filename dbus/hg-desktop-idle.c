/* The idle sources of desktop sessions, and what they add up to.
 *
 * logind's hint counts where a desktop sets it (GNOME, swayidle idlehint):
 * "not idle" is busy, "idle" dates the idle time. logind refuses the hint
 * of non-graphical sessions and only computes it from the tty when asked,
 * without a signal: there the tty's atime is read instead, at the instants
 * the policy can change (the registry's probe). hourglass-agent reports
 * the input it sees (ReportActivity) and how it sees it
 * (ReportIdleSource). With none of them the session counts as busy, as
 * logind's untouched hint says: only MaxSessionSec ends it, and the
 * journal says so once. Idle locks (logind's, the agent's) stand for
 * activity within [Idle] InhibitMaxSec. */
#include "hg-desktop-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-log.h"
#include "hg-tty.h"

static HgSession *session_of(HgDesktop *d, const Desk *k) {
  return k->session_id ? hg_registry_lookup(d->reg, k->session_id) : NULL;
}

static hg_usec_t now_of(HgDesktop *d) {
  return hg_clock_boottime(hg_registry_get_clock(d->reg));
}

static bool logind_counts(const Desk *k) {
  return k->graphical && k->hinted && k->idle >= 0;
}

static bool tty_counts(HgDesktop *d, const Desk *k) {
  return k->tty && k->tty_error == 0 &&
         (d->config->idle_sources & HG_IDLE_SOURCE_TTY);
}

static bool agent_counts(const Desk *k) {
  return k->agent_method && *k->agent_method &&
         strcmp(k->agent_method, "none") != 0;
}

bool desk_idle_known(HgDesktop *d, const Desk *k) {
  return logind_counts(k) || tty_counts(d, k) || agent_counts(k);
}

/* "logind: Firefox", "org.freedesktop.ScreenSaver: chromium", or NULL. */
static char *inhibitor_of(HgDesktop *d, const Desk *k) {
  const char *who;

  if (d->config->inhibit_max_sec == 0)
    return NULL;
  who = hg_inhibit_holder(d->inhibit, k->uid);
  if (who)
    return g_strconcat("logind: ", who, NULL);
  if (k->agent_inhibitors && k->agent_inhibitors[0])
    return g_strconcat("org.freedesktop.ScreenSaver: ", k->agent_inhibitors[0],
                       NULL);
  return NULL;
}

static void apply_inhibitor(HgDesktop *d, Desk *k, HgSession *s) {
  g_autofree char *lock = inhibitor_of(d, k);

  if (lock)
    hg_registry_note_source(d->reg, s, HG_INPUT_SOURCE_INHIBITOR, lock,
                            hg_session_get_times(s)->inhibited ? 0 : now_of(d));
  else
    hg_registry_forget_source(d->reg, s, HG_INPUT_SOURCE_INHIBITOR);
  if (hg_session_get_times(s)->inhibited != (lock != NULL))
    (void)hg_registry_set_inhibited(d->reg, s, lock != NULL);
}

void desk_idle_apply(HgDesktop *d, Desk *k) {
  g_autoptr(HgSession) s = NULL;
  bool busy;

  if (!session_of(d, k))
    return;
  s = hg_session_ref(session_of(d, k));
  /* logind's word where a desktop gives it; else busy exactly when
   * nothing can tell. */
  busy = logind_counts(k) ? !k->idle : !desk_idle_known(d, k);
  if (hg_session_get_times(s)->busy != busy)
    (void)hg_registry_set_busy(
        d->reg, s, busy, logind_counts(k) ? k->idle_since : HG_USEC_INFINITY);
  if (!hg_session_is_ended(s))
    apply_inhibitor(d, k, s);
}

void desk_idle_logind(HgDesktop *d, Desk *k, bool idle, hg_usec_t since) {
  HgSession *s = session_of(d, k);

  k->idle = idle;
  k->idle_since = since;
  k->hinted = k->hinted || idle || since != 0;
  if (s && logind_counts(k))
    hg_registry_note_source(d->reg, s, HG_INPUT_SOURCE_LOGIND, "idle-hint",
                            now_of(d));
  desk_idle_apply(d, k);
}

/* --- the tty --- */

static void log_tty_error(HgDesktop *d, Desk *k, int r) {
  g_autofree char *f_session = g_strconcat("HG_SESSION=", k->session_id, NULL);

  hg_log_fields(LOG_WARNING, (const char *[]){f_session, NULL},
                "Cannot read the input of /dev/%s (desktop session %s of "
                "%s): %s",
                k->tty, k->session_id, k->user, g_strerror(-r));
}

/* Reads the tty now; new input counts as activity at its time. False when
 * the session ended meanwhile: the desk went with it. */
static bool read_tty(HgDesktop *d, Desk *k, HgSession *s) {
  g_autoptr(HgSession) ref = hg_session_ref(s);
  bool known = desk_idle_known(d, k);
  hg_usec_t at = 0;
  int r;

  r = hg_tty_last_input(k->tty, hg_registry_get_clock(d->reg), &at);
  if (r < 0 && r != k->tty_error)
    log_tty_error(d, k, r);
  k->tty_error = r < 0 ? r : 0;
  if (r >= 0 && at > k->tty_input) {
    k->tty_input = at;
    hg_registry_note_source(d->reg, s, HG_INPUT_SOURCE_TTY, k->tty, at);
    if (hg_registry_touch_at(d->reg, s, at) < 0 && hg_session_is_ended(s))
      return false;
  }
  if (known != desk_idle_known(d, k))
    desk_idle_apply(d, k);
  return true;
}

/* A session's deadline came: what was typed since counts first. */
static void on_due(HgRegistry *reg, HgSession *s, void *userdata) {
  HgDesktop *d = userdata;
  Desk *k = g_hash_table_lookup(d->by_session, hg_session_get_id(s));

  if (k && k->tty && (d->config->idle_sources & HG_IDLE_SOURCE_TTY))
    (void)read_tty(d, k, s);
}

/* --- nothing can tell --- */

static int on_check(sd_event_source *es, uint64_t usec, void *userdata) {
  Desk *k = userdata;
  HgDesktop *d = k->owner;
  g_autofree char *f_session = g_strconcat("HG_SESSION=", k->session_id, NULL);
  g_autofree char *f_user = g_strconcat("HG_USER=", k->user, NULL);

  k->check = sd_event_source_disable_unref(k->check);
  if (!session_of(d, k) || desk_idle_known(d, k))
    return 0;
  hg_log_fields(LOG_NOTICE, (const char *[]){f_session, f_user, NULL},
                "Desktop session %s of %s (logind session %s) has no working "
                "idle source: logind's idle hint was never set, %s, and no "
                "hourglass-agent reports its input. Only MaxSessionSec "
                "(%" PRIu64 " s, 0 = none) can end it",
                k->session_id, k->user, k->logind_id,
                k->tty ? "its tty cannot be read" : "it has no tty",
                hg_usec_to_sec_ceil(
                    hg_session_get_limits(session_of(d, k))->max_session));
  return 0;
}

/* When the session would first warn if it were idle. */
static void arm_check(HgDesktop *d, Desk *k, HgSession *s) {
  hg_usec_t at = hg_usec_add(hg_session_get_created(s),
                             hg_session_get_limits(s)->warn_after);
  int r;

  k->check = sd_event_source_disable_unref(k->check);
  if (!d->event)
    return;
  r = sd_event_add_time(d->event, &k->check, CLOCK_BOOTTIME, at, 1, on_check,
                        k);
  if (r < 0)
    hg_log_errno(LOG_WARNING, r, "Cannot schedule the idle source check");
}

void desk_idle_begin(HgDesktop *d, Desk *k) {
  HgSession *s = session_of(d, k);

  if (!s)
    return;
  k->tty_input = 0;
  k->tty_error = 0;
  if (k->tty && (d->config->idle_sources & HG_IDLE_SOURCE_TTY) &&
      !read_tty(d, k, s))
    return;
  arm_check(d, k, s);
  desk_idle_apply(d, k);
}

void desk_idle_end(Desk *k) {
  k->check = sd_event_source_disable_unref(k->check);
  k->agent = sd_bus_track_unref(k->agent);
  g_clear_pointer(&k->agent_method, g_free);
  g_clear_pointer(&k->agent_inhibitors, g_strfreev);
}

/* --- the agent --- */

static int on_agent_gone(sd_bus_track *track, void *userdata) {
  Desk *k = userdata;
  HgDesktop *d = k->owner;
  HgSession *s = session_of(d, k);

  hg_info("The hourglass-agent of desktop session %s went away",
          k->session_id ? k->session_id : k->logind_id);
  desk_idle_end(k);
  if (s)
    hg_registry_forget_source(d->reg, s, HG_INPUT_SOURCE_AGENT);
  desk_idle_apply(d, k);
  return 0;
}

static int track_agent(HgDesktop *d, Desk *k, sd_bus_message *m) {
  const char *sender = sd_bus_message_get_sender(m);
  int r;

  if (k->agent && sender && sd_bus_track_count_name(k->agent, sender) > 0)
    return 0;
  k->agent = sd_bus_track_unref(k->agent);
  r = sd_bus_track_new(d->bus, &k->agent, on_agent_gone, k);
  if (r >= 0)
    r = sd_bus_track_add_sender(k->agent, m);
  return r;
}

int hg_desktop_report_agent(HgDesktop *d, sd_bus_message *m, HgSession *s,
                            const char *method, char **inhibitors,
                            sd_bus_error *error) {
  Desk *k = g_hash_table_lookup(d->by_session, hg_session_get_id(s));
  int r;

  if (!k)
    return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                             "Session %s is not a desktop session",
                             hg_session_get_id(s));
  r = track_agent(d, k, m);
  if (r < 0)
    return r;
  if (g_strcmp0(k->agent_method, method) != 0)
    hg_info("Desktop session %s: hourglass-agent sees input through %s",
            k->session_id, *method ? method : "nothing");
  g_free(k->agent_method);
  k->agent_method = g_strdup(*method ? method : "none");
  g_strfreev(k->agent_inhibitors);
  k->agent_inhibitors = g_strdupv(inhibitors);
  hg_registry_note_source(d->reg, s, HG_INPUT_SOURCE_AGENT, k->agent_method,
                          now_of(d));
  desk_idle_apply(d, k);
  return sd_bus_reply_method_return(m, NULL);
}

/* --- life --- */

static void on_inhibitors(HgInhibit *i, void *userdata) {
  HgDesktop *d = userdata;
  g_autoptr(GList) desks = g_hash_table_get_values(d->by_logind);

  for (GList *l = desks; l; l = l->next)
    desk_idle_apply(d, l->data);
}

int desk_idle_setup(HgDesktop *d) {
  int r;

  d->event = sd_bus_get_event(d->bus);
  if (d->event)
    sd_event_ref(d->event);
  r = hg_inhibit_new(d->bus, on_inhibitors, d, &d->inhibit);
  if (r < 0)
    return r;
  hg_inhibit_set_enabled(d->inhibit, d->config->inhibit_max_sec > 0);
  hg_registry_set_due_probe(d->reg, on_due, d);
  return 0;
}

void desk_idle_teardown(HgDesktop *d) {
  hg_registry_set_due_probe(d->reg, NULL, NULL);
  d->inhibit = hg_inhibit_free(d->inhibit);
  d->event = sd_event_unref(d->event);
}

void desk_idle_reload(HgDesktop *d) {
  hg_inhibit_set_enabled(d->inhibit, d->config->inhibit_max_sec > 0);
  on_inhibitors(d->inhibit, d);
}
