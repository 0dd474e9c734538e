/* hourglass-agent: the per-user side of hourglass in a desktop session,
 * started by XDG autostart. Shows the session's warning as a desktop
 * notification and reports the user's input; see hourglass-agent(1). */
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-login.h>

#include "config.h"
#include "hg-agent-bus.h"
#include "hg-agent-log.h"
#include "hg-agent.h"
#include "hg-macros.h"

#define LOCAL_NAME "org.freedesktop.DBus.Local"
#define LOCAL_PATH "/org/freedesktop/DBus/Local"
#define MAX_LOGIND_ID 64

/* setup()'s answer when another agent owns the name: nothing to do. */
#define ALREADY_RUNNING 1

typedef struct {
  bool verbose;
  const char *idle_method; /* NULL: the best the session offers */
  bool serve_screensaver;
} Options;

static void print_help(void) {
  printf("Usage: hourglass-agent [OPTION...]\n"
         "\n"
         "Shows hourglass's warnings in this desktop session as\n"
         "notifications and reports input to hourglassd. Started by XDG\n"
         "autostart; runs once per session bus.\n"
         "\n"
         "Options:\n"
         "  -h, --help      show this help and exit\n"
         "      --version   show the version and exit\n"
         "  -v, --verbose   log debug lines too\n"
         "      --idle-method=METHOD\n"
         "                  see input only through METHOD: mutter,\n"
         "                  ext-idle-notify, kde-idle, x11-sync,\n"
         "                  x11-screensaver, screensaver, or none\n"
         "      --serve-screensaver\n"
         "                  take org.freedesktop.ScreenSaver's inhibitions\n"
         "                  where no screen saver serves them (kiosks)\n"
         "\n"
         "Needs XDG_SESSION_ID. See hourglass-agent(1).\n");
}

/* 0 to go on, else 1 + the exit status. */
static int parse_args(int argc, char **argv, Options *o) {
  enum { ARG_VERSION = 0x100, ARG_IDLE_METHOD, ARG_SERVE_SCREENSAVER };
  static const struct option options[] = {
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, ARG_VERSION},
      {"idle-method", required_argument, NULL, ARG_IDLE_METHOD},
      {"serve-screensaver", no_argument, NULL, ARG_SERVE_SCREENSAVER},
      {"verbose", no_argument, NULL, 'v'},
      {},
  };
  int c;

  while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
    switch (c) {
    case 'h':
      print_help();
      return 1 + EXIT_SUCCESS;
    case ARG_VERSION:
      printf("hourglass-agent %s\n", HG_VERSION);
      return 1 + EXIT_SUCCESS;
    case 'v':
      o->verbose = true;
      break;
    case ARG_IDLE_METHOD:
      if (!idle_method_name_is_valid(optarg)) {
        fprintf(stderr, "hourglass-agent: unknown idle method '%s'\n", optarg);
        return 1 + EXIT_FAILURE;
      }
      o->idle_method = optarg;
      break;
    case ARG_SERVE_SCREENSAVER:
      o->serve_screensaver = true;
      break;
    default:
      return 1 + EXIT_FAILURE; /* getopt has said why */
    }
  if (optind < argc) {
    fprintf(stderr, "hourglass-agent: unexpected argument '%s'\n",
            argv[optind]);
    return 1 + EXIT_FAILURE;
  }
  return 0;
}

/* What logind would accept as a session id; anything else in the
 * variable is not from a login. */
static bool logind_id_is_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;

  if (n == 0 || n > MAX_LOGIND_ID)
    return false;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
      return false;
  return true;
}

/* $XDG_SESSION_ID first. GNOME's session manager keeps that variable
 * from everything it starts (it would be wrong in a second session of the
 * same user, which shares the user manager), so logind is asked next: the
 * session this process runs in, else the user's graphical session. */
static int find_logind_session(char **ret_id, const char **ret_origin) {
  const char *env = getenv("XDG_SESSION_ID");
  _cleanup_free_ char *id = NULL;

  if (env && *env) {
    *ret_origin = "from XDG_SESSION_ID";
    id = strdup(env);
  } else if (sd_pid_get_session(0, &id) >= 0)
    *ret_origin = "logind: the session of this process";
  else if (sd_uid_get_display(getuid(), &id) >= 0)
    *ret_origin = "logind: the graphical session of this user";
  else
    return -ENXIO;
  if (!id)
    return -ENOMEM;
  if (!logind_id_is_valid(id))
    return -EINVAL;
  *ret_id = TAKE_PTR(id);
  return 0;
}

static int log_no_session(int r) {
  if (r == -ENXIO)
    agent_log(LOG_ERR,
              "XDG_SESSION_ID is not set and logind knows no session of "
              "this process nor a graphical session of uid %u: "
              "hourglass-agent runs inside a desktop session",
              (unsigned)getuid());
  else if (r == -EINVAL)
    agent_log(LOG_ERR, "XDG_SESSION_ID is not a logind session id");
  else
    agent_log_errno(LOG_ERR, r, "Cannot tell the logind session");
  return EXIT_FAILURE;
}

/* Our account's name, as ListSessions spells users. Without it (NSS
 * cannot tell) every desktop session is a candidate: LogindSession alone
 * decides. */
static char *own_user_name(void) {
  struct passwd *pw = getpwuid(getuid());

  return pw && pw->pw_name ? g_strdup(pw->pw_name) : NULL;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                          void *userdata) {
  return sd_event_exit(sd_event_source_get_event(s), EXIT_SUCCESS);
}

/* sd-event takes signals through a signalfd, which sees only blocked
 * signals. */
static int add_exit_signals(sd_event *event) {
  static const int signals[] = {SIGINT, SIGTERM};
  sigset_t mask;
  int r;

  sigemptyset(&mask);
  for (size_t i = 0; i < HG_ELEMENTSOF(signals); i++)
    sigaddset(&mask, signals[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    return -errno;
  for (size_t i = 0; i < HG_ELEMENTSOF(signals); i++) {
    r = sd_event_add_signal(event, NULL, signals[i], on_exit_signal, NULL);
    if (r < 0)
      return r;
  }
  return 0;
}

/* The session bus goes when the session ends: so does the agent. */
static int on_session_bus_gone(sd_bus_message *m, void *userdata,
                               sd_bus_error *ret_error) {
  Agent *a = userdata;

  agent_info("The session bus went away: the session is over");
  return sd_event_exit(a->event, EXIT_SUCCESS);
}

static void on_action(const char *key, void *userdata) {
  if (strcmp(key, AGENT_ACTION_EXTEND) == 0)
    agent_extend(userdata);
  else if (strcmp(key, AGENT_ACTION_MORE_TIME) == 0)
    agent_more_time(userdata);
}

static void on_activity(uint32_t idle_sec, void *userdata) {
  agent_report_activity(userdata, idle_sec);
}

static void on_method(const char *method, void *userdata) {
  agent_report_idle_source(userdata);
}

static void on_inhibitors(void *userdata) {
  agent_report_idle_source(userdata);
}

/* One agent per session bus: the name is not queued for and not given
 * up to a later instance. */
static int open_session_bus(Agent *a) {
  int r;

  r = agent_bus_open(false, &a->user);
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot connect to the session bus");
  r = sd_bus_request_name(a->user, HG_AGENT_BUS_NAME, 0);
  if (r == -EEXIST) {
    agent_debug("%s is taken: an agent runs already", HG_AGENT_BUS_NAME);
    return ALREADY_RUNNING;
  }
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot own %s on the session bus",
                           HG_AGENT_BUS_NAME);
  r = sd_bus_match_signal(a->user, &a->user_gone, LOCAL_NAME, LOCAL_PATH,
                          LOCAL_NAME, "Disconnected", on_session_bus_gone, a);
  if (r >= 0)
    r = sd_bus_attach_event(a->user, a->event, SD_EVENT_PRIORITY_NORMAL);
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot set up the session bus");
  return 0;
}

/* Whatever ends the loop, the notification is closed and the watch given
 * back before sd-bus's own exit sources flush and close the connections:
 * after them nothing can be sent any more. */
static int on_loop_exit(sd_event_source *s, void *userdata) {
  Agent *a = userdata;

  agent_session_stop(a);
  agent_warning_stop(a);
  a->idle = idle_watch_free(a->idle);
  a->inhibitors = inhibitors_free(a->inhibitors);
  a->notifier = notifier_free(a->notifier);
  return 0;
}

static int add_exit_handler(Agent *a) {
  sd_event_source *s = NULL;
  int r;

  r = sd_event_add_exit(a->event, &s, on_loop_exit, a);
  if (r < 0)
    return r;
  r = sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IMPORTANT);
  if (r >= 0)
    r = sd_event_source_set_floating(s, true);
  sd_event_source_unref(s);
  return r;
}

static int setup(Agent *a, const Options *o) {
  int r;

  r = sd_event_new(&a->event);
  if (r >= 0)
    r = add_exit_signals(a->event);
  if (r >= 0)
    r = add_exit_handler(a);
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot set up the event loop");
  r = open_session_bus(a);
  if (r != 0)
    return r;
  r = agent_bus_open(true, &a->system);
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot connect to the system bus");
  r = sd_bus_attach_event(a->system, a->event, SD_EVENT_PRIORITY_NORMAL);
  if (r >= 0)
    r = notifier_new(a->user, on_action, a, &a->notifier);
  if (r >= 0)
    r = idle_watch_new(a->user, a->event, o->idle_method, on_activity,
                       on_method, a, &a->idle);
  if (r >= 0 && o->serve_screensaver)
    r = inhibitors_new(a->user, on_inhibitors, a, &a->inhibitors);
  if (r >= 0)
    r = agent_session_start(a);
  if (r < 0)
    return agent_log_errno(LOG_ERR, r, "Cannot subscribe to the signals");
  return 0;
}

/* Also when the loop never ran: then the connections are flushed here. */
static void agent_done(Agent *a) {
  (void)on_loop_exit(NULL, a);
  a->user_gone = sd_bus_slot_unref(a->user_gone);
  a->system = sd_bus_flush_close_unref(a->system);
  a->user = sd_bus_flush_close_unref(a->user);
  a->event = sd_event_unref(a->event);
  g_clear_pointer(&a->user_name, g_free);
  g_clear_pointer(&a->logind_id, free);
}

static int run(int argc, char **argv) {
  const char *origin = NULL;
  Options o = {0};
  Agent a = {0};
  int r;

  r = parse_args(argc, argv, &o);
  if (r > 0)
    return r - 1;
  agent_log_open(o.verbose);
  r = find_logind_session(&a.logind_id, &origin);
  if (r < 0)
    return log_no_session(r);
  agent_debug("This is logind session %s (%s)", a.logind_id, origin);
  a.user_name = own_user_name();
  r = setup(&a, &o);
  if (r == 0) {
    r = sd_event_loop(a.event);
    if (r < 0)
      agent_log_errno(LOG_ERR, r, "The event loop failed");
  } else if (r == ALREADY_RUNNING)
    r = EXIT_SUCCESS;
  agent_done(&a);
  return r < 0 ? EXIT_FAILURE : r;
}

int main(int argc, char **argv) { return run(argc, argv); }
