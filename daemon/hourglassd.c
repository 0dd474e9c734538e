/* hourglassd: ends forgotten sessions on kiosks and shared desktops. */
#include <getopt.h>
#include <stdio.h>
#include <sys/resource.h>

#include "config.h"
#include "hg-config.h"
#include "hg-daemon.h"
#include "hg-log.h"

typedef struct {
  const char *config_path;
  bool check_config;
} Options;

static void print_help(void) {
  printf("Usage: hourglassd [OPTION...]\n"
         "\n"
         "Ends idle, over-long and abandoned sessions on kiosks and shared\n"
         "desktops.\n"
         "\n"
         "  -c, --config PATH   read PATH and PATH.d/*.conf instead of\n"
         "                      %s and its .d folder\n"
         "      --check-config  check the configuration and exit\n"
         "  -h, --help          show this help and exit\n"
         "      --version       show the version and exit\n"
         "\n"
         "Environment: HOURGLASS_LOG=auto|stderr|journal,\n"
         "HOURGLASS_LOG_LEVEL=err|warning|notice|info|debug.\n"
         "See hourglassd(8) and hourglass.conf(5).\n",
         HG_CONFIG_FILE);
}

/* 0 to go on, otherwise an exit status + 1 (so 1 means "exit 0"). */
static int parse_args(int argc, char **argv, Options *o) {
  enum { ARG_CHECK = 0x100, ARG_VERSION };
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"check-config", no_argument, NULL, ARG_CHECK},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, ARG_VERSION},
      {},
  };
  int c;

  while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
    switch (c) {
    case 'c':
      o->config_path = optarg;
      break;
    case ARG_CHECK:
      o->check_config = true;
      break;
    case 'h':
      print_help();
      return 1 + EXIT_SUCCESS;
    case ARG_VERSION:
      printf("hourglassd %s\n", HG_VERSION);
      return 1 + EXIT_SUCCESS;
    default:
      fprintf(stderr, "Try 'hourglassd --help'.\n");
      return 1 + 2;
    }
  if (optind < argc) {
    fprintf(stderr, "hourglassd: unexpected argument '%s'\n", argv[optind]);
    return 1 + 2;
  }
  return 0;
}

static int check_config(const char *path) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(HgConfig) config = NULL;

  if (hg_config_load(path, &config, &errors) < 0) {
    for (guint i = 0; i < errors->len; i++)
      fprintf(stderr, "%s\n", (const char *)errors->pdata[i]);
    fprintf(stderr, "hourglassd: configuration refused (%u error%s)\n",
            errors->len, errors->len == 1 ? "" : "s");
    return EXIT_FAILURE;
  }
  warnings = g_ptr_array_new_with_free_func(g_free);
  hg_policy_rules_check(config->rules, warnings);
  for (guint i = 0; i < warnings->len; i++)
    fprintf(stderr, "warning: %s\n", (const char *)warnings->pdata[i]);
  printf("%s: configuration OK (%u polic%s", config->path,
         hg_policy_rules_count(config->rules),
         hg_policy_rules_count(config->rules) == 1 ? "y rule" : "y rules");
  printf(", %u warning%s)\n", warnings->len, warnings->len == 1 ? "" : "s");
  return EXIT_SUCCESS;
}

/* Each web session holds a socket and a pidfd to its PAM helper: the
 * default soft limit (1024) would cap a kiosk fleet's server near 500
 * sessions. The hard limit is safe to take: nothing here uses select(). */
static void raise_fd_limit(void) {
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int run(int argc, char **argv) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(HgDaemon) daemon = NULL;
  HgConfig *config = NULL;
  Options o = {0};
  int r;

  r = parse_args(argc, argv, &o);
  if (r > 0)
    return r - 1;
  if (o.check_config)
    return check_config(o.config_path);

  hg_log_open_from_environment();
  raise_fd_limit();
  if (hg_config_load(o.config_path, &config, &errors) < 0) {
    for (guint i = 0; i < errors->len; i++)
      hg_err("%s", (const char *)errors->pdata[i]);
    hg_err("Configuration refused, not starting");
    return EXIT_FAILURE;
  }
  if (hg_daemon_new(config, o.config_path, &daemon) < 0) {
    hg_err("Start-up failed, not starting");
    return EXIT_FAILURE;
  }
  return hg_daemon_run(daemon);
}

int main(int argc, char **argv) { return run(argc, argv); }
