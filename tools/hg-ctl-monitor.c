/* hourglassctl monitor: one line per signal of hourglassd, printed as it
 * arrives, until SIGINT or SIGTERM ends the sd-event loop. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "hg-ctl.h"
#include "hg-macros.h"

#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"
#define LOCAL_NAME "org.freedesktop.DBus.Local"
#define LOCAL_PATH "/org/freedesktop/DBus/Local"

/* Sessions are objects below the prefix; their PropertiesChanged carry the
 * interface name first, which the bus can filter on. */
#define STATE_MATCH                                                            \
  "type='signal',sender='" HG_BUS_NAME "',"                                    \
  "interface='" PROPERTIES_IFACE "',member='PropertiesChanged',"               \
  "path_namespace='" HG_BUS_SESSION_PREFIX "',"                                \
  "arg0='" HG_BUS_SESSION_IFACE "'"

typedef struct {
  sd_bus *bus;
  sd_event *event;
  const CtlOptions *o;
} Monitor;

/* The loop's exit codes: a failure that its callback has reported. */
enum { LOOP_DONE = 0, LOOP_FAILED = 1 };

/* Every line starts with the local time, the event and the session id. */
static GString *line_begin(const Monitor *m, const char *event,
                           const char *id) {
  hg_usec_t now = hg_now(CLOCK_REALTIME);
  GString *line = g_string_new(NULL);
  char stamp[CTL_TIMESTAMP_MAX];

  if (m->o->json) {
    g_string_append_printf(line, "{\"time\":%" PRIu64 ",\"event\":\"%s\"", now,
                           event);
    g_string_append(line, ",\"id\":");
    ctl_json_string(line, id);
  } else {
    g_autofree char *printable = ctl_printable(id);

    g_string_append_printf(line, "%s %s %s", ctl_format_timestamp(stamp, now),
                           event, printable);
  }
  return line;
}

static void line_add(const Monitor *m, GString *line, const char *key,
                     const char *value) {
  g_autofree char *printable = NULL;

  if (m->o->json) {
    g_string_append_printf(line, ",\"%s\":", key);
    ctl_json_string(line, value);
    return;
  }
  printable = ctl_printable(value);
  g_string_append_printf(line, " %s", printable);
}

/* A reader that went away ends the monitor; there is no one left to tell. */
static int line_end(const Monitor *m, GString *line) {
  g_string_append(line, m->o->json ? "}\n" : "\n");
  if (ctl_write_out(line) < 0)
    return sd_event_exit(m->event, LOOP_FAILED);
  return 0;
}

static int ignore_malformed(sd_bus_message *msg, int r) {
  fprintf(stderr, "hourglassctl: ignoring a malformed %s signal: %s\n",
          sd_bus_message_get_member(msg), strerror(-r));
  return 0;
}

static int on_session_new(sd_bus_message *msg, void *userdata,
                          sd_bus_error *ret_error) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_auto(CtlSession) s = {0};
  const Monitor *m = userdata;
  g_autoptr(GString) line = NULL;
  const char *id, *path;
  int r;

  r = sd_bus_message_read(msg, "so", &id, &path);
  if (r < 0)
    return ignore_malformed(msg, r);
  /* The session may have ended already: the line is still worth printing,
   * with "-" for what can no longer be read. */
  (void)ctl_session_read(m->bus, path, &s, &error);
  line = line_begin(m, "new", id);
  line_add(m, line, "user", s.user);
  line_add(m, line, "source", s.source);
  return line_end(m, line);
}

/* What the warning is of (idle, limit, locked) is the session's Warning
 * property, read when the signal comes; NULL when it cannot be read (the
 * session ended, an older daemon) or says none any more. */
static char *warning_kind(const Monitor *m, const char *path) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_auto(CtlSession) s = {0};

  if (ctl_session_read(m->bus, path, &s, &error) < 0 || !s.warning ||
      !*s.warning)
    return NULL;
  return g_steal_pointer(&s.warning);
}

/* seconds_left is the lead time: until the end, the lock or the limit. */
static int on_session_warning(sd_bus_message *msg, void *userdata,
                              sd_bus_error *ret_error) {
  const Monitor *m = userdata;
  g_autoptr(GString) line = NULL;
  g_autofree char *kind = NULL;
  char buf[CTL_DURATION_MAX];
  const char *id, *path;
  uint64_t left;
  int r;

  r = sd_bus_message_read(msg, "sot", &id, &path, &left);
  if (r < 0)
    return ignore_malformed(msg, r);
  kind = warning_kind(m, path);
  line = line_begin(m, "warning", id);
  if (m->o->json) {
    g_string_append(line, ",\"kind\":");
    ctl_json_string(line, kind);
    g_string_append_printf(line, ",\"seconds_left\":%" PRIu64, left);
  } else {
    if (kind)
      line_add(m, line, "kind", kind);
    g_string_append_printf(line, " %s left", ctl_format_duration(buf, left));
  }
  return line_end(m, line);
}

static int on_session_removed(sd_bus_message *msg, void *userdata,
                              sd_bus_error *ret_error) {
  const Monitor *m = userdata;
  g_autoptr(GString) line = NULL;
  const char *id, *path, *reason;
  int r;

  r = sd_bus_message_read(msg, "sos", &id, &path, &reason);
  if (r < 0)
    return ignore_malformed(msg, r);
  line = line_begin(m, "removed", id);
  line_add(m, line, "reason", reason);
  return line_end(m, line);
}

/* Reads one {sv} entry of the changed properties, keeping State's value. */
static int read_changed_entry(sd_bus_message *msg, char **ret_state) {
  const char *name, *value;
  int r;

  r = sd_bus_message_read(msg, "s", &name);
  if (r < 0)
    return r;
  if (strcmp(name, "State") != 0 || *ret_state)
    return sd_bus_message_skip(msg, "v");
  r = sd_bus_message_read(msg, "v", "s", &value);
  if (r < 0)
    return r;
  *ret_state = strdup(value);
  return *ret_state ? 0 : -ENOMEM;
}

/* 1 and the value when the changed properties (a{sv}) hold State. */
static int changed_state(sd_bus_message *msg, char **ret_state) {
  int r;

  r = sd_bus_message_enter_container(msg, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
    r = read_changed_entry(msg, ret_state);
    if (r < 0)
      return r;
    r = sd_bus_message_exit_container(msg);
    if (r < 0)
      return r;
  }
  if (r < 0)
    return r;
  r = sd_bus_message_exit_container(msg);
  return r < 0 ? r : *ret_state != NULL;
}

/* 1 when the invalidated properties (as) name State. */
static int invalidated_state(sd_bus_message *msg) {
  const char *name;
  bool found = false;
  int r;

  r = sd_bus_message_enter_container(msg, 'a', "s");
  while (r >= 0 && (r = sd_bus_message_read(msg, "s", &name)) > 0)
    found = found || strcmp(name, "State") == 0;
  if (r >= 0)
    r = sd_bus_message_exit_container(msg);
  return r < 0 ? r : found;
}

/* The contract sends State's value; a daemon that only invalidates it is
 * asked for it, so the line is the same either way. */
static int read_state(const Monitor *m, sd_bus_message *msg, char **ret_state) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_auto(CtlSession) s = {0};
  int r;

  r = changed_state(msg, ret_state);
  if (r != 0)
    return r;
  r = invalidated_state(msg);
  if (r <= 0)
    return r;
  r = ctl_session_read(m->bus, sd_bus_message_get_path(msg), &s, &error);
  if (r < 0 || !s.state)
    return 0; /* gone already: its SessionRemoved follows */
  *ret_state = strdup(s.state);
  return *ret_state ? 1 : -ENOMEM;
}

/* The id is the last element of the object path, escaped by the daemon. */
static char *path_to_id(const char *path) {
  char *id = NULL;

  if (sd_bus_path_decode(path, HG_BUS_SESSION_PREFIX, &id) > 0)
    return id;
  return strdup(path);
}

static int on_properties_changed(sd_bus_message *msg, void *userdata,
                                 sd_bus_error *ret_error) {
  const Monitor *m = userdata;
  _cleanup_free_ char *state = NULL;
  g_autoptr(GString) line = NULL;
  _cleanup_free_ char *id = NULL;
  const char *iface;
  int r;

  r = sd_bus_message_read(msg, "s", &iface);
  if (r < 0)
    return ignore_malformed(msg, r);
  if (strcmp(iface, HG_BUS_SESSION_IFACE) != 0)
    return 0;
  r = read_state(m, msg, &state);
  if (r < 0)
    return ignore_malformed(msg, r);
  if (r == 0)
    return 0;
  id = path_to_id(sd_bus_message_get_path(msg));
  line = line_begin(m, "state", id);
  line_add(m, line, "state", state);
  return line_end(m, line);
}

static int on_disconnected(sd_bus_message *msg, void *userdata,
                           sd_bus_error *ret_error) {
  const Monitor *m = userdata;

  fprintf(stderr, "hourglassctl: lost the connection to the system bus\n");
  return sd_event_exit(m->event, LOOP_FAILED);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                          void *userdata) {
  const Monitor *m = userdata;

  return sd_event_exit(m->event, LOOP_DONE);
}

/* sd-event takes signals through a signalfd, which sees only blocked
 * signals. */
static int add_exit_signals(Monitor *m) {
  static const int signals[] = {SIGINT, SIGTERM};
  sigset_t mask;
  int r;

  sigemptyset(&mask);
  for (size_t i = 0; i < HG_ELEMENTSOF(signals); i++)
    sigaddset(&mask, signals[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    return -errno;
  for (size_t i = 0; i < HG_ELEMENTSOF(signals); i++) {
    r = sd_event_add_signal(m->event, NULL, signals[i], on_exit_signal, m);
    if (r < 0)
      return r;
  }
  return 0;
}

static int match_manager(Monitor *m, const char *member,
                         sd_bus_message_handler_t handler) {
  return sd_bus_match_signal(m->bus, NULL, HG_BUS_NAME, HG_BUS_PATH,
                             HG_BUS_MANAGER_IFACE, member, handler, m);
}

/* The matches are installed synchronously: once this returns, no signal
 * is missed, which is when the legend says so. */
static int subscribe(Monitor *m) {
  int r;

  r = sd_bus_match_signal(m->bus, NULL, LOCAL_NAME, LOCAL_PATH, LOCAL_NAME,
                          "Disconnected", on_disconnected, m);
  if (r >= 0)
    r = match_manager(m, "SessionNew", on_session_new);
  if (r >= 0)
    r = match_manager(m, "SessionWarning", on_session_warning);
  if (r >= 0)
    r = match_manager(m, "SessionRemoved", on_session_removed);
  if (r >= 0)
    r = sd_bus_add_match(m->bus, NULL, STATE_MATCH, on_properties_changed, m);
  return r;
}

static int print_legend(const Monitor *m) {
  g_autoptr(GString) text = NULL;

  if (m->o->json || !m->o->legend)
    return 0;
  text = g_string_new("Watching the sessions of hourglassd; "
                      "Ctrl-C stops.\n");
  return ctl_write_out(text);
}

static int setup_loop(Monitor *m) {
  int r;

  r = sd_event_new(&m->event);
  if (r >= 0)
    r = add_exit_signals(m);
  if (r >= 0)
    r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
  if (r < 0)
    fprintf(stderr, "hourglassctl: cannot set up the event loop: %s\n",
            strerror(-r));
  return r;
}

static int run_loop(Monitor *m) {
  int r;

  r = sd_event_loop(m->event);
  if (r < 0)
    fprintf(stderr, "hourglassctl: event loop failed: %s\n", strerror(-r));
  return r == LOOP_DONE ? 0 : r < 0 ? r : -EIO;
}

int ctl_monitor(sd_bus *bus, const CtlOptions *o) {
  Monitor m = {.bus = bus, .o = o};
  int r;

  r = setup_loop(&m);
  if (r >= 0) {
    r = subscribe(&m);
    if (r < 0)
      ctl_log_error(o, CTL_OP_READ, NULL, NULL, r);
  }
  if (r >= 0)
    r = print_legend(&m);
  if (r >= 0)
    r = run_loop(&m);
  (void)sd_bus_detach_event(bus);
  sd_event_unref(m.event);
  return r;
}
