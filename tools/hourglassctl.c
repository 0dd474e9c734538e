/* hourglassctl: lists, shows, extends, ends and watches the sessions of
 * hourglassd over its D-Bus interface (org.hourglass1), explains its
 * policy rules, says when someone is waiting and shows and grants the
 * daily allowance. */
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

/* args: the command's own arguments, NULL-terminated. */
typedef int (*VerbFunc)(sd_bus *bus, const CtlOptions *o, char **args);

typedef struct {
  const char *name;
  unsigned min_args, max_args;
  const char *needs; /* the first argument, when it is missing */
  unsigned options;  /* CTL_OPT_*: the options of this command */
  bool session_id;   /* the first argument, if any, is a session id */
  /* more usage errors, as parse_args */
  int (*check)(char **args, const CtlOptions *o);
  VerbFunc run;
} Verb;

static void print_help(void) {
  printf("Usage: hourglassctl [OPTION...] COMMAND [ARG...]\n"
         "\n"
         "Lists, shows, extends, ends and watches the sessions of hourglassd.\n"
         "\n"
         "Commands:\n"
         "  list                 list the sessions (the default)\n"
         "  status [ID]          show every property of one session (your\n"
         "                       own without ID)\n"
         "  terminate ID         end a session now (reason \"terminated\")\n"
         "  extend [ID]          ask for more time on your own session when\n"
         "                       its policy gives it; else count as activity\n"
         "                       now (the idle timeout restarts)\n"
         "  monitor              print session events as they happen, until\n"
         "                       interrupted\n"
         "  policy explain USER  the policy rule and limits USER would get\n"
         "  waiting [on|off]     whether someone is waiting for this\n"
         "                       machine (then no one gets more time)\n"
         "  allowance USER       what USER used of today's allowance and\n"
         "                       what is left; --grant SEC gives more\n"
         "\n"
         "Options:\n"
         "  -h, --help          show this help and exit\n"
         "      --version       show the version and exit\n"
         "      --json          print JSON instead of text\n"
         "      --no-legend     leave out column headers and footers\n"
         "      --timeout SEC   wait at most SEC seconds for an answer\n"
         "                      (default: %d)\n"
         "  policy explain, allowance:\n"
         "      --source SOURCE web or desktop (default: both)\n"
         "      --seat SEAT     the seat of the sign-in (seat0)\n"
         "      --service NAME  the PAM service of a desktop login (sshd)\n"
         "  extend:\n"
         "      --own           ask for more time (RequestMoreTime)\n"
         "      --operator      count as activity (ExtendSession)\n"
         "  allowance:\n"
         "      --grant SEC     SEC seconds more for today (1 to 86400)\n"
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

/* The options of one command: where they are allowed is checked once the
 * command is known (find_verb). */
static const struct {
  unsigned flag;
  const char *name;
} command_options[] = {
    {CTL_OPT_SOURCE, "--source"},     {CTL_OPT_SEAT, "--seat"},
    {CTL_OPT_SERVICE, "--service"},   {CTL_OPT_OWN, "--own"},
    {CTL_OPT_OPERATOR, "--operator"}, {CTL_OPT_GRANT, "--grant"},
};

static int parse_source(const char *arg, CtlOptions *o) {
  if (!ctl_policy_source_is_valid(arg))
    return usage_error("invalid --source '%s': web or desktop expected", arg);
  o->source = arg;
  return 0;
}

static int parse_name(const char *option, const char *arg, const char **ret) {
  if (!*arg)
    return usage_error("%s needs a name", option);
  *ret = arg;
  return 0;
}

static int parse_extend_path(CtlExtendPath path, CtlOptions *o) {
  if (o->extend_path != CTL_EXTEND_AUTO && o->extend_path != path)
    return usage_error("--own and --operator exclude each other");
  o->extend_path = path;
  return 0;
}

/* The options of the commands; 0 or an exit status + 1. */
static int parse_command_option(int c, const char *arg, CtlOptions *o) {
  o->given |= (unsigned)c;
  switch (c) {
  case CTL_OPT_SOURCE:
    return parse_source(arg, o);
  case CTL_OPT_SEAT:
    return parse_name("--seat", arg, &o->seat);
  case CTL_OPT_SERVICE:
    return parse_name("--service", arg, &o->service);
  case CTL_OPT_OWN:
    return parse_extend_path(CTL_EXTEND_OWN, o);
  case CTL_OPT_OPERATOR:
    return parse_extend_path(CTL_EXTEND_OPERATOR, o);
  case CTL_OPT_GRANT:
    if (ctl_allowance_parse_grant(arg, &o->grant_sec) < 0)
      return usage_error("invalid --grant '%s': seconds from 1 to 86400 "
                         "expected",
                         arg);
    return 0;
  }
  return 1 + CTL_EXIT_USAGE;
}

/* 0 to go on, otherwise an exit status + 1 (so 1 means "exit 0"). */
static int parse_args(int argc, char **argv, CtlOptions *o) {
  /* Above the CTL_OPT_* flags, which stand for themselves. */
  enum { ARG_VERSION = 0x1000, ARG_JSON, ARG_NO_LEGEND, ARG_TIMEOUT };
  static const struct option options[] = {
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, ARG_VERSION},
      {"json", no_argument, NULL, ARG_JSON},
      {"no-legend", no_argument, NULL, ARG_NO_LEGEND},
      {"timeout", required_argument, NULL, ARG_TIMEOUT},
      {"source", required_argument, NULL, CTL_OPT_SOURCE},
      {"seat", required_argument, NULL, CTL_OPT_SEAT},
      {"service", required_argument, NULL, CTL_OPT_SERVICE},
      {"own", no_argument, NULL, CTL_OPT_OWN},
      {"operator", no_argument, NULL, CTL_OPT_OPERATOR},
      {"grant", required_argument, NULL, CTL_OPT_GRANT},
      {},
  };
  int c, r;

  while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
    switch (c) {
    case CTL_OPT_SOURCE:
    case CTL_OPT_SEAT:
    case CTL_OPT_SERVICE:
    case CTL_OPT_OWN:
    case CTL_OPT_OPERATOR:
    case CTL_OPT_GRANT:
      r = parse_command_option(c, optarg, o);
      if (r != 0)
        return r;
      break;
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

static int verb_list(sd_bus *bus, const CtlOptions *o, char **args) {
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

/* The session the command names, or the caller's own. */
static int session_id_arg(sd_bus *bus, const CtlOptions *o, char **args,
                          char **ret_id) {
  if (args[0]) {
    *ret_id = g_strdup(args[0]);
    return 0;
  }
  return ctl_self_session(bus, o, ret_id);
}

static int verb_status(sd_bus *bus, const CtlOptions *o, char **args) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(GString) out = NULL;
  g_auto(CtlSession) s = {0};
  g_autofree char *id = NULL;
  int r;

  r = session_id_arg(bus, o, args, &id);
  if (r < 0)
    return r;
  r = ctl_session_get(bus, id, &s, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, id, &error, r);
  if (!o->json)
    return ctl_print_status(&s, hg_now(CLOCK_REALTIME));
  out = g_string_new(NULL);
  ctl_json_session(out, &s, hg_now(CLOCK_REALTIME));
  g_string_append_c(out, '\n');
  return ctl_write_out(out);
}

static int verb_terminate(sd_bus *bus, const CtlOptions *o, char **args) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  r = ctl_call_manager(bus, "TerminateSession", args[0], &error, NULL);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_TERMINATE, args[0], &error, r);
  return 0;
}

static int verb_extend(sd_bus *bus, const CtlOptions *o, char **args) {
  g_autofree char *id = NULL;
  int r;

  r = session_id_arg(bus, o, args, &id);
  if (r < 0)
    return r;
  return ctl_extend(bus, o, id);
}

static int verb_monitor(sd_bus *bus, const CtlOptions *o, char **args) {
  return ctl_monitor(bus, o);
}

static int verb_policy(sd_bus *bus, const CtlOptions *o, char **args) {
  return ctl_policy_explain(bus, o, args[1]);
}

static int verb_waiting(sd_bus *bus, const CtlOptions *o, char **args) {
  if (!args[0])
    return ctl_waiting_show(bus, o);
  return ctl_waiting_set(bus, o, ctl_waiting_parse(args[0]) > 0);
}

static int verb_allowance(sd_bus *bus, const CtlOptions *o, char **args) {
  if (o->given & CTL_OPT_GRANT)
    return ctl_allowance_grant(bus, o, args[0]);
  return ctl_allowance_show(bus, o, args[0]);
}

/* "policy" has one subcommand so far; others may join it. */
static int check_policy(char **args, const CtlOptions *o) {
  if (strcmp(args[0], "explain") != 0)
    return usage_error("unknown policy command '%s': explain expected",
                       args[0]);
  if (!args[1])
    return usage_error("'policy explain' needs a user name");
  if (!*args[1])
    return usage_error("invalid user name ''");
  return 0;
}

static int check_waiting(char **args, const CtlOptions *o) {
  if (args[0] && ctl_waiting_parse(args[0]) < 0)
    return usage_error("invalid argument '%s': on or off expected", args[0]);
  return 0;
}

/* A grant is for the user, whatever the rule: who they sign in as does
 * not apply to it. */
static int check_allowance(char **args, const CtlOptions *o) {
  if (!*args[0])
    return usage_error("invalid user name ''");
  if ((o->given & CTL_OPT_GRANT) &&
      (o->given & (CTL_OPT_SOURCE | CTL_OPT_SEAT | CTL_OPT_SERVICE)))
    return usage_error("--grant takes no --source, --seat or --service");
  return 0;
}

static const Verb verbs[] = {
    {.name = "list", .run = verb_list},
    {.name = "status", .max_args = 1, .session_id = true, .run = verb_status},
    {.name = "terminate",
     .min_args = 1,
     .max_args = 1,
     .needs = "a session id",
     .session_id = true,
     .run = verb_terminate},
    {.name = "extend",
     .max_args = 1,
     .options = CTL_OPT_OWN | CTL_OPT_OPERATOR,
     .session_id = true,
     .run = verb_extend},
    {.name = "monitor", .run = verb_monitor},
    {.name = "policy",
     .min_args = 1,
     .max_args = 2,
     .needs = "a command (explain)",
     .options = CTL_OPT_SOURCE | CTL_OPT_SEAT | CTL_OPT_SERVICE,
     .check = check_policy,
     .run = verb_policy},
    {.name = "waiting",
     .max_args = 1,
     .check = check_waiting,
     .run = verb_waiting},
    {.name = "allowance",
     .min_args = 1,
     .max_args = 1,
     .needs = "a user name",
     .options = CTL_OPT_SOURCE | CTL_OPT_SEAT | CTL_OPT_SERVICE | CTL_OPT_GRANT,
     .check = check_allowance,
     .run = verb_allowance},
};

static int check_options(const Verb *verb, const CtlOptions *o) {
  for (size_t i = 0; i < HG_ELEMENTSOF(command_options); i++)
    if ((o->given & command_options[i].flag) &&
        !(verb->options & command_options[i].flag))
      return usage_error("%s does not apply to '%s'", command_options[i].name,
                         verb->name);
  return 0;
}

static int check_args(const Verb *verb, const CtlOptions *o, char **args,
                      unsigned n_args) {
  if (n_args < verb->min_args)
    return usage_error("'%s' needs %s", verb->name, verb->needs);
  if (n_args > verb->max_args)
    return usage_error("unexpected argument '%s'", args[verb->max_args]);
  if (verb->session_id && args[0] && !ctl_session_id_is_valid(args[0]))
    return usage_error("invalid session id '%s': 32 lower-case hexadecimal "
                       "characters expected",
                       args[0]);
  return verb->check ? verb->check(args, o) : 0;
}

/* Everything that makes a usage error is checked before the bus is
 * touched: a malformed id never reaches the daemon. */
static int find_verb(int argc, char **argv, const CtlOptions *o,
                     const Verb **ret_verb, char ***ret_args) {
  const char *name = optind < argc ? argv[optind] : "list";
  char **args = optind < argc ? argv + optind + 1 : argv + argc;
  const Verb *verb = NULL;
  int r;

  for (size_t i = 0; i < HG_ELEMENTSOF(verbs); i++)
    if (strcmp(verbs[i].name, name) == 0)
      verb = &verbs[i];
  if (!verb)
    return usage_error("unknown command '%s'", name);
  r = check_options(verb, o);
  if (r == 0)
    r = check_args(verb, o, args, g_strv_length(args));
  if (r != 0)
    return r;
  *ret_verb = verb;
  *ret_args = args;
  return 0;
}

static int run(int argc, char **argv) {
  _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
  CtlOptions o = {
      .legend = true,
      .timeout = DEFAULT_TIMEOUT_SEC * HG_USEC_PER_SEC,
  };
  const Verb *verb = NULL;
  char **args = NULL;
  int r;

  r = parse_args(argc, argv, &o);
  if (r == 0)
    r = find_verb(argc, argv, &o, &verb, &args);
  if (r > 0)
    return r - 1;
  if (ctl_bus_open(&o, &bus) < 0)
    return CTL_EXIT_FAILURE;
  r = verb->run(bus, &o, args);
  return r < 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}

int main(int argc, char **argv) { return run(argc, argv); }
