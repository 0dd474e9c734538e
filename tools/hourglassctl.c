/* hourglassctl: lists, shows, extends, ends and watches the sessions of
 * hourglassd over its D-Bus interface (org.hourglass1). */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "hg-ctl.h"
#include "hg-macros.h"

#define DEFAULT_TIMEOUT_SEC 10
#define MAX_TIMEOUT_SEC 86400.0

typedef int (*VerbFunc)(sd_bus *bus, const CtlOptions *o, const char *id);

typedef struct {
  const char *name;
  bool takes_id;
  VerbFunc run;
} Verb;

static void print_help(void) {
  printf("Usage: hourglassctl [OPTION...] COMMAND [ID]\n"
         "\n"
         "Lists, shows, extends, ends and watches the sessions of hourglassd.\n"
         "\n"
         "Commands:\n"
         "  list            list the sessions (the default)\n"
         "  status ID       show every property of one session\n"
         "  terminate ID    end a session now (reason \"terminated\")\n"
         "  extend ID       count as activity now: the idle timeout restarts\n"
         "  monitor         print session events as they happen, until\n"
         "                  interrupted\n"
         "\n"
         "Options:\n"
         "  -h, --help          show this help and exit\n"
         "      --version       show the version and exit\n"
         "      --json          print JSON instead of text\n"
         "      --no-legend     leave out column headers and footers\n"
         "      --timeout SEC   wait at most SEC seconds for an answer\n"
         "                      (default: %d)\n"
         "\n"
         "ID is a session id, 32 lower-case hexadecimal characters. Exit\n"
         "status: 0 success, 1 failure, 2 usage error. See hourglassctl(1).\n",
         DEFAULT_TIMEOUT_SEC);
}

/* One line on stderr, whatever the arguments it quotes hold; returns the
 * usage exit status + 1, as parse_args. */
_printf_(1, 2) static int usage_error(const char *format, ...) {
  g_autofree char *message = NULL, *printable = NULL;
  va_list ap;

  va_start(ap, format);
  message = g_strdup_vprintf(format, ap);
  va_end(ap);
  printable = ctl_printable(message);
  fprintf(stderr, "hourglassctl: %s (see --help)\n", printable);
  return 1 + CTL_EXIT_USAGE;
}

/* Fractions are allowed ("0.5"); zero and "infinity" are not: every call
 * ends, and soon enough for a person to notice. */
static int parse_timeout(const char *arg, hg_usec_t *ret) {
  char *end = NULL;
  double sec;

  errno = 0;
  sec = g_ascii_strtod(arg, &end);
  if (errno != 0 || end == arg || *end != '\0' || !isfinite(sec) || sec <= 0 ||
      sec > MAX_TIMEOUT_SEC)
    return -EINVAL;
  *ret = (hg_usec_t)(sec * (double)HG_USEC_PER_SEC);
  if (*ret == 0)
    *ret = 1;
  return 0;
}

/* 0 to go on, otherwise an exit status + 1 (so 1 means "exit 0"). */
static int parse_args(int argc, char **argv, CtlOptions *o) {
  enum { ARG_VERSION = 0x100, ARG_JSON, ARG_NO_LEGEND, ARG_TIMEOUT };
  static const struct option options[] = {
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, ARG_VERSION},
      {"json", no_argument, NULL, ARG_JSON},
      {"no-legend", no_argument, NULL, ARG_NO_LEGEND},
      {"timeout", required_argument, NULL, ARG_TIMEOUT},
      {},
  };
  int c;

  while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
    switch (c) {
    case 'h':
      print_help();
      return 1 + CTL_EXIT_OK;
    case ARG_VERSION:
      printf("hourglassctl %s\n", HG_VERSION);
      return 1 + CTL_EXIT_OK;
    case ARG_JSON:
      o->json = true;
      break;
    case ARG_NO_LEGEND:
      o->legend = false;
      break;
    case ARG_TIMEOUT:
      if (parse_timeout(optarg, &o->timeout) < 0)
        return usage_error("invalid --timeout '%s': seconds above 0 expected",
                           optarg);
      break;
    default:
      fprintf(stderr, "Try 'hourglassctl --help'.\n");
      return 1 + CTL_EXIT_USAGE;
    }
  return 0;
}

static int compare_sessions(const void *a, const void *b) {
  const CtlSession *x = a, *y = b;

  if (x->created != y->created)
    return x->created < y->created ? -1 : 1;
  return g_strcmp0(x->id, y->id);
}

static void session_array_clear(void *p) { ctl_session_clear(p); }

/* ListSessions names the sessions; their properties come one GetAll each.
 * A session that ended in between is simply not listed. */
static int read_sessions(sd_bus *bus, sd_bus_message *reply, GArray *sessions,
                         sd_bus_error *error) {
  const char *id, *user, *source, *state, *path;
  int r;

  r = sd_bus_message_enter_container(reply, 'a', "(sssso)");
  while (r >= 0 && (r = sd_bus_message_read(reply, "(sssso)", &id, &user,
                                            &source, &state, &path)) > 0) {
    g_auto(CtlSession) s = {0};

    r = ctl_session_read(bus, path, &s, error);
    if (r < 0 && sd_bus_error_has_name(error, HG_BUS_ERROR_NO_SUCH_SESSION)) {
      sd_bus_error_free(error);
      r = 0;
      continue;
    }
    if (r < 0)
      return r;
    if (!s.id)
      s.id = g_strdup(id);
    g_array_append_val(sessions, s);
    s = (CtlSession){0}; /* the array owns the strings now */
  }
  return r;
}

static int print_sessions(const CtlOptions *o, GArray *sessions) {
  hg_usec_t now = hg_now(CLOCK_REALTIME);
  g_autoptr(GString) out = NULL;

  if (!o->json)
    return ctl_print_table((const CtlSession *)(void *)sessions->data,
                           sessions->len, now, o->legend);
  out = g_string_new("[");
  for (guint i = 0; i < sessions->len; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    ctl_json_session(out, &g_array_index(sessions, CtlSession, i), now);
  }
  g_string_append(out, "]\n");
  return ctl_write_out(out);
}

static int verb_list(sd_bus *bus, const CtlOptions *o, const char *id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  g_autoptr(GArray) sessions = g_array_new(false, true, sizeof(CtlSession));
  int r;

  g_array_set_clear_func(sessions, session_array_clear);
  r = ctl_call_manager(bus, "ListSessions", NULL, &error, &reply);
  if (r >= 0)
    r = read_sessions(bus, reply, sessions, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, NULL, &error, r);
  g_array_sort(sessions, compare_sessions);
  return print_sessions(o, sessions);
}

static int verb_status(sd_bus *bus, const CtlOptions *o, const char *id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  g_autoptr(GString) out = NULL;
  g_auto(CtlSession) s = {0};
  const char *path;
  int r;

  r = ctl_call_manager(bus, "GetSession", id, &error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "o", &path);
  if (r >= 0)
    r = ctl_session_read(bus, path, &s, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, id, &error, r);
  if (!o->json)
    return ctl_print_status(&s, hg_now(CLOCK_REALTIME));
  out = g_string_new(NULL);
  ctl_json_session(out, &s, hg_now(CLOCK_REALTIME));
  g_string_append_c(out, '\n');
  return ctl_write_out(out);
}

static int call_control(sd_bus *bus, const CtlOptions *o, CtlOp op,
                        const char *method, const char *id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  r = ctl_call_manager(bus, method, id, &error, NULL);
  if (r < 0)
    return ctl_log_error(o, op, id, &error, r);
  return 0;
}

static int verb_terminate(sd_bus *bus, const CtlOptions *o, const char *id) {
  return call_control(bus, o, CTL_OP_TERMINATE, "TerminateSession", id);
}

static int verb_extend(sd_bus *bus, const CtlOptions *o, const char *id) {
  return call_control(bus, o, CTL_OP_EXTEND, "ExtendSession", id);
}

static int verb_monitor(sd_bus *bus, const CtlOptions *o, const char *id) {
  return ctl_monitor(bus, o);
}

static const Verb verbs[] = {
    {"list", false, verb_list},          {"status", true, verb_status},
    {"terminate", true, verb_terminate}, {"extend", true, verb_extend},
    {"monitor", false, verb_monitor},
};

/* Everything that makes a usage error is checked before the bus is
 * touched: a malformed id never reaches the daemon. */
static int find_verb(int argc, char **argv, const Verb **ret_verb,
                     const char **ret_id) {
  const char *name = optind < argc ? argv[optind] : "list";
  int n_args = optind < argc ? argc - optind - 1 : 0;
  const Verb *verb = NULL;

  for (size_t i = 0; i < HG_ELEMENTSOF(verbs); i++)
    if (strcmp(verbs[i].name, name) == 0)
      verb = &verbs[i];
  if (!verb)
    return usage_error("unknown command '%s'", name);
  if (verb->takes_id && n_args == 0)
    return usage_error("'%s' needs a session id", name);
  if (n_args > (verb->takes_id ? 1 : 0))
    return usage_error("unexpected argument '%s'",
                       argv[optind + 1 + (verb->takes_id ? 1 : 0)]);
  if (verb->takes_id && !ctl_session_id_is_valid(argv[optind + 1]))
    return usage_error("invalid session id '%s': 32 lower-case hexadecimal "
                       "characters expected",
                       argv[optind + 1]);
  *ret_verb = verb;
  *ret_id = verb->takes_id ? argv[optind + 1] : NULL;
  return 0;
}

static int run(int argc, char **argv) {
  _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
  CtlOptions o = {
      .legend = true,
      .timeout = DEFAULT_TIMEOUT_SEC * HG_USEC_PER_SEC,
  };
  const Verb *verb = NULL;
  const char *id = NULL;
  int r;

  r = parse_args(argc, argv, &o);
  if (r == 0)
    r = find_verb(argc, argv, &verb, &id);
  if (r > 0)
    return r - 1;
  if (ctl_bus_open(&o, &bus) < 0)
    return CTL_EXIT_FAILURE;
  r = verb->run(bus, &o, id);
  return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

int main(int argc, char **argv) { return run(argc, argv); }
