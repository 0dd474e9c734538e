/* Configuration: every key's default, bounds and errors; drop-in order;
 * error messages that name the file, the key and the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "hg-config.h"

typedef struct {
  char *dir;
  char *path; /* dir/hourglass.conf */
} Fixture;

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);

  f->dir = g_dir_make_tmp("hg-config-XXXXXX", NULL);
  assert_non_null(f->dir);
  f->path = g_build_filename(f->dir, "hourglass.conf", NULL);
  *state = f;
  return 0;
}

static void remove_tree(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree char *child = g_build_filename(path, name, NULL);
    if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
        !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
      remove_tree(child);
    else
      g_unlink(child);
  }
  g_rmdir(path);
}

static int teardown(void **state) {
  Fixture *f = *state;

  remove_tree(f->dir);
  g_free(f->dir);
  g_free(f->path);
  g_free(f);
  return 0;
}

static void write_file(const char *path, const char *text) {
  assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* Loads text as the main file: the config on success, else NULL with the
 * errors in *ret_errors. */
static HgConfig *load(Fixture *f, const char *text, GPtrArray **ret_errors) {
  HgConfig *config = NULL;
  GPtrArray *errors = NULL;
  int r;

  write_file(f->path, text);
  r = hg_config_load(f->path, &config, &errors);
  if (ret_errors)
    *ret_errors = errors;
  else if (errors)
    g_ptr_array_unref(errors);
  assert_true((r == 0) == (config != NULL));
  return config;
}

/* The single error of a refused file. */
static char *load_error(Fixture *f, const char *text) {
  GPtrArray *errors = NULL;
  HgConfig *config = load(f, text, &errors);
  char *msg;

  if (config)
    fail_msg("accepted: %s", text);
  assert_int_equal(errors->len, 1);
  msg = g_strdup(errors->pdata[0]);
  g_ptr_array_unref(errors);
  return msg;
}

static void assert_defaults(const HgConfig *c) {
  const HgListenAddress *a = c->listen->pdata[0];

  assert_int_equal(c->warn_after_sec, 540);
  assert_int_equal(c->expire_after_sec, 600);
  assert_int_equal(c->max_session_sec, 28800);
  assert_int_equal(c->close_after_sec, 30);
  assert_int_equal(c->daily_allowance_sec, 0);
  assert_true(hg_schedule_is_always(&c->fallback.hours));
  assert_int_equal(c->listen->len, 1);
  assert_string_equal(a->text, "127.0.0.1:8080");
  assert_int_equal(a->port, 8080);
  assert_null(c->allowed_hosts[0]);
  assert_null(c->web_root);
  assert_string_equal(c->web_root_csp, hg_config_strict_csp);
  assert_int_equal(c->max_sessions, 256);
  assert_int_equal(c->max_sessions_per_user, 4);
  assert_int_equal(c->max_logins_in_progress, 8);
  assert_int_equal(c->login_rate_per_sec, 5);
  assert_string_equal(c->pam_service, "hourglass");
  assert_int_equal(c->min_uid, 1000);
  assert_int_equal(c->helper_timeout_sec, 30);
  assert_int_equal(c->conversation_timeout_sec, 120);
  assert_int_equal(c->fail_delay_msec, 2000);
  assert_int_equal(c->idle_sources, HG_IDLE_SOURCE_PAGE |
                                        HG_IDLE_SOURCE_LOGIND |
                                        HG_IDLE_SOURCE_TTY);
  assert_string_equal(c->seat, "seat0");
  assert_int_equal(c->inhibit_max_sec, 0);
  assert_null(c->admin_group);
  assert_int_equal(c->desktop_action, HG_DESKTOP_ACTION_TERMINATE);
}

static void test_defaults(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) builtin = hg_config_new_default();
  g_autoptr(HgConfig) empty = load(f, "", NULL);
  HgLimits limits;

  assert_defaults(builtin);
  assert_defaults(empty);
  hg_config_get_limits(empty, &limits);
  assert_true(limits.warn_after == 540 * HG_USEC_PER_SEC);
  assert_true(limits.max_session == 28800 * HG_USEC_PER_SEC);
  assert_true(limits.inhibit_max == 0);
  /* No inline comments in the strict CSP: it must reach the header whole. */
  assert_null(strchr(hg_config_strict_csp, '#'));
  assert_non_null(strstr(hg_config_strict_csp, "frame-ancestors 'none'"));
  assert_null(strstr(hg_config_strict_csp, "unsafe-inline"));
}

/* The shipped, documented file is exactly the defaults. */
static void test_shipped_file_is_defaults(void **state) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(HgConfig) c = NULL;

  if (hg_config_load(HG_SOURCE_ROOT "/data/hourglass.conf", &c, &errors) < 0)
    fail_msg("data/hourglass.conf: %s", (char *)errors->pdata[0]);
  assert_defaults(c);
}

typedef struct {
  const char *group, *key;
  uint64_t min, max;
} Bounds;

static const Bounds uint_keys[] = {
    {"Timeouts", "WarnAfterSec", 1, 604799},
    {"Timeouts", "ExpireAfterSec", 2, 604800},
    {"Timeouts", "MaxSessionSec", 0, 2678400},
    {"Timeouts", "CloseAfterSec", 0, 86400},
    {"Timeouts", "DailyAllowanceSec", 0, 86400},
    {"Limits", "MaxSessions", 1, 65536},
    {"Limits", "MaxSessionsPerUser", 1, 65536},
    {"Limits", "MaxLoginsInProgress", 1, 1024},
    {"Limits", "LoginRatePerSec", 1, 10000},
    {"Pam", "MinUid", 0, 4294967294u},
    {"Pam", "HelperTimeoutSec", 1, 600},
    {"Pam", "ConversationTimeoutSec", 5, 3600},
    {"Pam", "FailDelayMSec", 0, 30000},
};

/* Warn must stay below Expire: the other timeout is set out of the way. */
static char *uint_file(const Bounds *b, const char *value) {
  const char *extra = "";

  if (strcmp(b->key, "WarnAfterSec") == 0)
    extra = "ExpireAfterSec=604800\n";
  else if (strcmp(b->key, "ExpireAfterSec") == 0)
    extra = "WarnAfterSec=1\n";
  return g_strdup_printf("[%s]\n%s%s=%s\n", b->group, extra, b->key, value);
}

static void test_uint_bounds(void **state) {
  Fixture *f = *state;

  for (size_t i = 0; i < G_N_ELEMENTS(uint_keys); i++) {
    const Bounds *b = &uint_keys[i];
    g_autofree char *min = g_strdup_printf("%" G_GUINT64_FORMAT, b->min);
    g_autofree char *max = g_strdup_printf("%" G_GUINT64_FORMAT, b->max);
    g_autofree char *over = g_strdup_printf("%" G_GUINT64_FORMAT, b->max + 1);
    g_autofree char *under = g_strdup_printf("%" G_GUINT64_FORMAT, b->min - 1);
    const char *ok[] = {min, max};
    const char *bad[] = {over,
                         "-5",
                         "abc",
                         "",
                         "5 ; note",
                         "0x10",
                         "1e3",
                         "99999999999999999999999",
                         b->min > 0 ? under : "-0"};

    for (size_t k = 0; k < G_N_ELEMENTS(ok); k++) {
      g_autofree char *text = uint_file(b, ok[k]);
      g_autoptr(HgConfig) c = load(f, text, NULL);
      if (!c)
        fail_msg("refused [%s] %s=%s", b->group, b->key, ok[k]);
    }
    for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
      g_autofree char *text = uint_file(b, bad[k]);
      g_autofree char *msg = load_error(f, text);
      g_autofree char *want =
          g_strdup_printf("%s: [%s] %s=", f->path, b->group, b->key);
      if (!g_str_has_prefix(msg, want) || !strstr(msg, "whole number"))
        fail_msg("for '%s': %s", bad[k], msg);
    }
  }
}

static void test_warn_not_below_expire(void **state) {
  Fixture *f = *state;
  g_autofree char *msg =
      load_error(f, "[Timeouts]\nWarnAfterSec=600\nExpireAfterSec=600\n");
  g_autofree char *msg2 = load_error(f, "[Timeouts]\nWarnAfterSec=700\n");
  g_autoptr(HgConfig) ok =
      load(f, "[Timeouts]\nWarnAfterSec=1\nExpireAfterSec=2\n", NULL);

  assert_non_null(strstr(msg, "[Timeouts] WarnAfterSec=600: must be less "
                              "than ExpireAfterSec=600"));
  assert_true(g_str_has_prefix(msg, f->path));
  assert_non_null(strstr(msg2, "WarnAfterSec=700"));
  assert_non_null(ok);
}

typedef struct {
  const char *text;
  const char *want; /* in the message, after "PATH: " */
} BadCase;

static const BadCase bad_cases[] = {
    {"[Timeouts]\nIdleSec=5\n", "[Timeouts] IdleSec=5: unknown key"},
    {"[Timeout]\nWarnAfterSec=5\n", "[Timeout]: unknown group"},
    {"[Http]\nListen=10.0.0.1:8080\n", "not a loopback address"},
    {"[Http]\nListen=0.0.0.0:8080\n", "not a loopback address"},
    {"[Http]\nListen=[::]:8080\n", "not a loopback address"},
    {"[Http]\nListen=[::ffff:127.0.0.1]:8080\n", "not a loopback address"},
    {"[Http]\nListen=localhost:8080\n", "not a numeric IPv4"},
    {"[Http]\nListen=127.0.0.1\n", "port from 1 to 65535"},
    {"[Http]\nListen=127.0.0.1:0\n", "port from 1 to 65535"},
    {"[Http]\nListen=127.0.0.1:65536\n", "port from 1 to 65535"},
    {"[Http]\nListen=127.0.0.1:80x\n", "port from 1 to 65535"},
    {"[Http]\nListen=\n", "must list 1 to 8 addresses"},
    {"[Http]\nListen=127.0.0.1:1;127.0.0.1:1\n", "listed twice"},
    {"[Http]\nListen=127.0.0.1:1;127.0.0.1:2;127.0.0.1:3;127.0.0.1:4;"
     "127.0.0.1:5;127.0.0.1:6;127.0.0.1:7;127.0.0.1:8;127.0.0.1:9\n",
     "must list 1 to 8 addresses"},
    {"[Http]\nAllowedHosts=kiosk.example;bad host\n", "'bad host' is not"},
    {"[Http]\nAllowedHosts=kiosk:99999\n", "'kiosk:99999' is not"},
    {"[Http]\nAllowedHosts=[::1\n", "'[::1' is not"},
    {"[Http]\nWebRoot=relative/dir\n", "must be an absolute path"},
    {"[Http]\nWebRoot=/nonexistent/hourglass\n", "cannot be used"},
    {"[Http]\nWebRoot=/etc/hostname\n", "is not a directory"},
    {"[Http]\nWebRootCsp=\n", "1 to 2048 characters"},
    {"[Http]\nWebRootCsp=default-src 'self'\\nX-Evil: 1\n", "printable ASCII"},
    {"[Pam]\nService=../shadow\n", "PAM service name"},
    {"[Pam]\nService=\n", "PAM service name"},
    {"[Idle]\nSources=page;mouse\n", "'mouse' is not an idle source"},
    {"[Idle]\nSeat=console\n", "seat name"},
    {"[Idle]\nInhibitMaxSec=2678401\n", "InhibitMaxSec"},
    {"[Idle]\nSeat=seat0/x\n", "seat name"},
    {"[DBus]\nAdminGroup=no-such-group-hg\n", "no such group"},
    {"[Desktop]\nAction=suspend\n",
     "must be terminate, lock or lock-then-terminate"},
    {"[Timeouts]\nWarnAfterSec=\\q\n", "WarnAfterSec=\\\\q:"},
    /* The fallback's own mistakes, said once, not blamed on the rules. */
    {"[Timeouts]\nMaxExtensions=2\n[Policy a]\nMatchUser=ann\n",
     "[Timeouts] MaxExtensions=2: needs ExtendBySec"},
    {"[Timeouts]\nWarnAfterSec=700\n[Policy a]\nMatchUser=ann\n",
     "[Timeouts] WarnAfterSec=700: must be less than ExpireAfterSec"},
    {"[Timeouts]\nAllowedHours=Mon-Fri 09:00-20:00; Sat 10:00-26:00\n",
     "[Timeouts] AllowedHours=Mon-Fri 09:00-20:00; Sat 10:00-26:00: at "
     "character 32: 26:00 is not a time of day"},
    {"[Timeouts]\nAllowedHours=Mon-Fry 09:00-20:00\n",
     "AllowedHours=Mon-Fry 09:00-20:00: at character 5: expected a day"},
};

static void test_errors_name_file_key_value(void **state) {
  Fixture *f = *state;

  for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
    g_autofree char *msg = load_error(f, bad_cases[i].text);
    if (!g_str_has_prefix(msg, f->path) || msg[strlen(f->path)] != ':' ||
        !strstr(msg, bad_cases[i].want))
      fail_msg("for %s: got '%s', want '%s'", bad_cases[i].text, msg,
               bad_cases[i].want);
  }
}

static void test_good_values(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c = load(f,
                               "# a comment\n"
                               "[Http]\n"
                               "Listen= 127.0.0.2:9000 ; [::1]:9001 ;\n"
                               "AllowedHosts=Kiosk.Example:8080;kiosk;[::1]:9\n"
                               "WebRoot=/tmp\n"
                               "WebRootCsp=default-src 'self'\n"
                               "[Idle]\n"
                               "Sources=logind;tty\n"
                               "Seat=seat-kiosk_1\n"
                               "InhibitMaxSec=7200\n"
                               "[DBus]\n"
                               "AdminGroup=root\n"
                               "[Desktop]\n"
                               "Action=lock\n"
                               "[Timeouts]\n"
                               "DailyAllowanceSec=7200\n"
                               "AllowedHours=Mon-Fri 09:00-20:00; Sat "
                               "10:00-16:00 \n"
                               "[Pam]\n"
                               "Service=hourglass-kiosk\n"
                               "MinUid=0\n",
                               NULL);
  const HgListenAddress *a, *b;

  assert_non_null(c);
  assert_int_equal(c->listen->len, 2);
  a = c->listen->pdata[0];
  b = c->listen->pdata[1];
  assert_string_equal(a->text, "127.0.0.2:9000");
  assert_string_equal(b->text, "[::1]:9001");
  assert_int_equal(b->addr.ss_family, AF_INET6);
  assert_string_equal(c->allowed_hosts[0], "kiosk.example:8080");
  assert_string_equal(c->allowed_hosts[2], "[::1]:9");
  assert_null(c->allowed_hosts[3]);
  assert_string_equal(c->web_root, "/tmp");
  assert_string_equal(c->web_root_csp, "default-src 'self'");
  assert_int_equal(c->idle_sources, HG_IDLE_SOURCE_LOGIND | HG_IDLE_SOURCE_TTY);
  assert_string_equal(c->seat, "seat-kiosk_1");
  assert_int_equal(c->inhibit_max_sec, 7200);
  assert_string_equal(c->admin_group, "root");
  assert_int_equal(c->admin_gid, 0);
  assert_int_equal(c->desktop_action, HG_DESKTOP_ACTION_LOCK);
  assert_int_equal(c->min_uid, 0);
  assert_int_equal(c->daily_allowance_sec, 7200);
  assert_true(c->fallback.daily_allowance == 7200 * HG_USEC_PER_SEC);
  assert_int_equal(c->fallback.hours.n_spans, 6);
}

static void test_empty_sources(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c = load(f, "[Idle]\nSources=\n", NULL);

  assert_non_null(c);
  assert_int_equal(c->idle_sources, 0);
}

static void test_every_error_reported(void **state) {
  Fixture *f = *state;
  g_autoptr(GPtrArray) errors = NULL;
  HgConfig *c = load(f,
                     "[Timeouts]\nWarnAfterSec=x\nCloseAfterSec=-1\n"
                     "[Nope]\nA=1\n[Pam]\nMinUid=abc\n",
                     &errors);

  assert_null(c);
  assert_int_equal(errors->len, 4);
}

static void test_dropins_in_lexical_order(void **state) {
  Fixture *f = *state;
  g_autofree char *dropins = hg_config_dropin_dir(f->path);
  g_autofree char *a = g_build_filename(dropins, "10-a.conf", NULL);
  g_autofree char *b = g_build_filename(dropins, "20-b.conf", NULL);
  g_autofree char *ignored = g_build_filename(dropins, "30-c.conf.bak", NULL);
  g_autofree char *hidden = g_build_filename(dropins, ".99.conf", NULL);
  g_autoptr(HgConfig) c = NULL;
  g_autofree char *msg = NULL;

  assert_string_equal(dropins + strlen(f->path), ".d");
  assert_int_equal(g_mkdir(dropins, 0700), 0);
  write_file(b, "[Timeouts]\nWarnAfterSec=200\n");
  write_file(a, "[Timeouts]\nWarnAfterSec=300\nCloseAfterSec=5\n");
  write_file(ignored, "[Timeouts]\nWarnAfterSec=bad\n");
  write_file(hidden, "[Timeouts]\nWarnAfterSec=bad\n");
  c = load(f, "[Timeouts]\nWarnAfterSec=100\nMaxSessionSec=0\n", NULL);
  assert_non_null(c);
  assert_int_equal(c->warn_after_sec, 200);
  assert_int_equal(c->close_after_sec, 5);
  assert_int_equal(c->max_session_sec, 0);

  /* An error in a drop-in names the drop-in. */
  write_file(b, "[Timeouts]\nWarnAfterSec=abc\n");
  msg = load_error(f, "");
  assert_true(g_str_has_prefix(msg, b));
}

static void test_missing_named_file(void **state) {
  Fixture *f = *state;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(HgConfig) c = NULL;
  g_autofree char *path = g_build_filename(f->dir, "missing.conf", NULL);

  assert_int_equal(hg_config_load(path, &c, &errors), -EINVAL);
  assert_int_equal(errors->len, 1);
  assert_true(g_str_has_prefix(errors->pdata[0], path));
}

static void test_syntax_error(void **state) {
  Fixture *f = *state;
  g_autofree char *msg = load_error(f, "[Timeouts\nWarnAfterSec=5\n");

  assert_true(g_str_has_prefix(msg, f->path));
  assert_non_null(strstr(msg, "cannot read"));
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_defaults),
      T(test_shipped_file_is_defaults),
      T(test_uint_bounds),
      T(test_warn_not_below_expire),
      T(test_errors_name_file_key_value),
      T(test_good_values),
      T(test_empty_sources),
      T(test_every_error_reported),
      T(test_dropins_in_lexical_order),
      T(test_missing_named_file),
      T(test_syntax_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
