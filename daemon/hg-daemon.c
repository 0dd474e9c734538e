/* Start-up, signals, reloads and shutdown of hourglassd. */
#include "hg-daemon.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include "hg-allowance-store.h"
#include "hg-bus.h"
#include "hg-daily.h"
#include "hg-deadline-timer.h"
#include "hg-fdstore.h"
#include "hg-log.h"
#include "hg-state-store.h"
#include "hg-web.h"

struct HgDaemon {
  sd_event *event;
  HgConfig *config;
  char *config_path; /* NULL: the installed default */
  HgRegistry *registry;
  HgDeadlineTimer *deadline_timer;
  HgDaily *daily; /* the allowance and the opening hours */
  unsigned session_log_listener;
  HgWeb *web;
  HgBus *bus;          /* NULL without a system bus */
  HgFdStore *fdstore;  /* PAM helpers' connections across restarts */
  HgStateStore *state; /* NULL when no state directory is given */
  bool keeping;        /* a restart: sessions go on in the next run */
};

/* The journal keeps a line for every session that starts or ends, with the
 * fields an admin filters on. */
static void log_session_event(HgRegistry *reg, HgSession *s,
                              HgRegistryEvent event, void *userdata) {
  g_autofree char *f_session = NULL, *f_user = NULL, *f_reason = NULL;
  g_autofree char *f_source = NULL;
  const char *reason = hg_end_reason_to_string(hg_session_get_end_reason(s));

  if (event != HG_REGISTRY_EVENT_NEW && event != HG_REGISTRY_EVENT_ENDED)
    return;
  if (event == HG_REGISTRY_EVENT_NEW && hg_session_is_restored(s)) {
    hg_info("Session %s of %s taken back", hg_session_get_id(s),
            hg_session_get_user(s));
    return;
  }
  f_session = g_strconcat("HG_SESSION=", hg_session_get_id(s), NULL);
  f_user = g_strconcat("HG_USER=", hg_session_get_user(s), NULL);
  f_source = g_strconcat(
      "HG_SOURCE=", hg_session_source_to_string(hg_session_get_source(s)),
      NULL);
  f_reason = g_strconcat("HG_REASON=", reason, NULL);
  if (event == HG_REGISTRY_EVENT_NEW) {
    const char *fields[] = {f_session, f_user, f_source, NULL};
    hg_log_fields(LOG_INFO, fields, "Session %s of %s started",
                  hg_session_get_id(s), hg_session_get_user(s));
  } else {
    const char *fields[] = {f_session, f_user, f_source, f_reason, NULL};
    hg_log_fields(LOG_INFO, fields, "Session %s of %s ended: %s",
                  hg_session_get_id(s), hg_session_get_user(s), reason);
  }
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                          void *userdata) {
  HgDaemon *d = userdata;

  /* A restart keeps every session: their state is on disk, their PAM
   * helpers' connections in the service manager's store. A stop (or a
   * SIGTERM without a job) ends them all. */
  d->keeping = d->bus && d->state && hg_fdstore_available(d->fdstore) &&
               hg_bus_restart_pending(d->bus);
  if (d->keeping) {
    hg_info("Received %s: restarting, every session is kept",
            strsignal((int)si->ssi_signo));
    hg_state_store_flush(d->state);
    hg_daily_flush(d->daily);
    hg_web_keep_sessions(d->web);
    return sd_event_exit(d->event, 0);
  }
  hg_info("Received %s, shutting down", strsignal((int)si->ssi_signo));
  /* While the loop still runs: the pages and the bus hear of it (sd-bus
   * flushes and closes its connection when the loop exits). */
  hg_registry_end_all(d->registry, HG_END_REASON_SHUTDOWN);
  return sd_event_exit(d->event, 0);
}

static int on_reload_signal(sd_event_source *s,
                            const struct signalfd_siginfo *si, void *userdata) {
  hg_daemon_reload(userdata);
  return 0;
}

static int add_signals(HgDaemon *d) {
  static const int exit_signals[] = {SIGTERM, SIGINT};
  sigset_t mask;
  int r;

  /* sd-event reads signals through a signalfd: they must be blocked. */
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    return -errno;
  /* A peer that hangs up must not kill us with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);

  for (size_t i = 0; i < HG_ELEMENTSOF(exit_signals); i++) {
    r = sd_event_add_signal(d->event, NULL, exit_signals[i], on_exit_signal, d);
    if (r < 0)
      return r;
  }
  return sd_event_add_signal(d->event, NULL, SIGHUP, on_reload_signal, d);
}

/* Sessions of a previous run (a restart, a crash): from their state files,
 * with their PAM helpers and logind sessions checked; what expired in the
 * meantime ends now, with its true reason. Before READY=1. */
static void take_back(HgDaemon *d) {
  g_autofree char *dir = hg_state_store_default_dir();
  unsigned n;

  if (!dir) {
    hg_debug("No state directory ($RUNTIME_DIRECTORY): sessions do not "
             "survive a restart");
  } else if (hg_state_store_new(d->event, d->registry, dir, &d->state) < 0) {
    hg_warning("Sessions will not survive a restart");
  }
  n = d->state ? hg_state_store_load(d->state) : 0;
  hg_web_take_back(d->web);
  if (d->bus)
    hg_bus_take_back(d->bus);
  hg_fdstore_drop_unclaimed(d->fdstore);
  hg_registry_process(d->registry);
  if (n > 0)
    hg_info("%u session%s of the previous run taken back, %u still live", n,
            n == 1 ? "" : "s", hg_registry_count(d->registry));
}

/* A session's limits are its rule's as the configuration now says: a
 * reload changes them at once. */
static bool resolve_policy(const char *policy, HgLimits *ret, void *userdata) {
  HgDaemon *d = userdata;

  if (hg_config_limits_of(d->config, policy, ret))
    return true;
  hg_warning("Policy rule %s is gone from the configuration: its sessions "
             "get the fallback's limits",
             policy);
  return false;
}

static void log_rule_warnings(const HgConfig *config) {
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);

  hg_policy_rules_check(config->rules, warnings);
  for (guint i = 0; i < warnings->len; i++)
    hg_warning("%s", (const char *)warnings->pdata[i]);
}

/* Before the fronts and the sessions of a previous run: every session is
 * counted and gets its day ends from the start. */
static int new_daily(HgDaemon *d) {
  g_autofree char *dir = hg_allowance_store_default_dir();
  int r = hg_daily_new(d->event, d->registry, dir, &d->daily);

  if (r < 0)
    return r;
  hg_daily_set_config(d->daily, d->config);
  return 0;
}

int hg_daemon_new(HgConfig *config, const char *config_path, HgDaemon **ret) {
  g_autoptr(HgDaemon) d = g_new0(HgDaemon, 1);
  HgLimits limits;
  int r;

  d->config = config;
  d->config_path = g_strdup(config_path);
  d->fdstore = hg_fdstore_new();

  r = sd_event_default(&d->event);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot create the event loop");
  r = add_signals(d);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot watch signals");
  r = sd_event_set_watchdog(d->event, true);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot set up the watchdog");

  hg_config_get_limits(config, &limits);
  d->registry = hg_registry_new(hg_clock_system(), &limits);
  hg_registry_set_resolver(d->registry, resolve_policy, d);
  log_rule_warnings(config);
  d->session_log_listener =
      hg_registry_subscribe(d->registry, log_session_event, d);
  r = hg_deadline_timer_new(d->event, d->registry, &d->deadline_timer);
  if (r < 0)
    return hg_log_errno(LOG_ERR, r, "Cannot create the deadline timer");
  r = new_daily(d);
  if (r < 0)
    return r;
  r = hg_web_new(d->event, d->registry, d->config, d->daily, d->fdstore,
                 &d->web);
  if (r < 0)
    return r;
  r = hg_bus_new(d->event, d->registry, d->config, d->daily, &d->bus);
  if (r < 0)
    hg_notice("No system bus (%s): running web-only", g_strerror(-r));
  take_back(d);

  *ret = g_steal_pointer(&d);
  return 0;
}

HgDaemon *hg_daemon_free(HgDaemon *d) {
  if (!d)
    return NULL;
  /* Every session ends as "shutdown" (journal, pages, PAM close) before
   * the fronts go away, unless the next run takes them back. */
  if (d->registry && !d->keeping)
    hg_registry_end_all(d->registry, HG_END_REASON_SHUTDOWN);
  hg_web_free(d->web);
  hg_bus_free(d->bus);
  hg_daily_free(d->daily);
  hg_state_store_free(d->state);
  hg_fdstore_free(d->fdstore);
  hg_deadline_timer_free(d->deadline_timer);
  hg_registry_free(d->registry);
  sd_event_unref(d->event);
  hg_config_free(d->config);
  g_free(d->config_path);
  g_free(d);
  return NULL;
}

static int reload_failed(int r) {
  hg_err("Configuration not reloaded: keeping the one in use");
  (void)sd_notify(false, "READY=1\nSTATUS=Running (reload failed, old "
                         "configuration kept)");
  return r;
}

int hg_daemon_reload(HgDaemon *d) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(HgConfig) config = NULL;
  HgLimits limits;
  int r;

  (void)sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
  r = hg_config_load(d->config_path, &config, &errors);
  if (r < 0) {
    for (guint i = 0; i < errors->len; i++)
      hg_err("%s", (const char *)errors->pdata[i]);
    return reload_failed(r);
  }
  r = hg_web_reload(d->web, config);
  if (r < 0)
    return reload_failed(r);

  if (d->bus)
    hg_bus_reload(d->bus, config);
  hg_config_free(d->config);
  d->config = g_steal_pointer(&config);
  hg_config_get_limits(d->config, &limits);
  log_rule_warnings(d->config);
  hg_daily_set_config(d->daily, d->config);
  hg_registry_set_limits(d->registry, &limits);
  hg_info("Configuration reloaded from %s", d->config->path);
  (void)sd_notify(false, "READY=1\nSTATUS=Running");
  return 0;
}

int hg_daemon_run(HgDaemon *d) {
  int r;

  (void)sd_notify(false, "READY=1\nSTATUS=Running");
  hg_info("hourglassd started (configuration %s)", d->config->path);
  r = sd_event_loop(d->event);
  (void)sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
  if (r < 0) {
    hg_log_errno(LOG_ERR, r, "Event loop failed");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
