/* Policy rules: parsing of [Policy NAME] groups (their keys, errors that
 * name the file, the key and the value, drop-ins changing a rule in its
 * place), matching (first rule wins, every Match key, the fallback), the
 * limits a rule sets over the fallback, and the warnings of --check-config
 * (a rule that can never match). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "hg-config.h"

#define S(x) ((hg_usec_t)(x)*HG_USEC_PER_SEC)

typedef struct {
  char *dir;
  char *path;
} Fixture;

static int setup(void **state) {
  Fixture *f = g_new0(Fixture, 1);

  f->dir = g_dir_make_tmp("hg-rules-XXXXXX", NULL);
  f->path = g_build_filename(f->dir, "hourglass.conf", NULL);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fixture *f = *state;
  g_autofree char *dropins = g_strconcat(f->path, ".d", NULL);
  g_autoptr(GDir) d = g_dir_open(dropins, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dropins, name, NULL);
    g_unlink(p);
  }
  g_rmdir(dropins);
  g_unlink(f->path);
  g_rmdir(f->dir);
  g_free(f->dir);
  g_free(f->path);
  g_free(f);
  return 0;
}

static HgConfig *load(Fixture *f, const char *text, const char *dropin) {
  g_autoptr(GPtrArray) errors = NULL;
  HgConfig *c = NULL;

  assert_true(g_file_set_contents(f->path, text, -1, NULL));
  if (dropin) {
    g_autofree char *dir = g_strconcat(f->path, ".d", NULL);
    g_autofree char *file = g_build_filename(dir, "50-site.conf", NULL);
    g_mkdir(dir, 0700);
    assert_true(g_file_set_contents(file, dropin, -1, NULL));
  }
  if (hg_config_load(f->path, &c, &errors) < 0) {
    for (guint i = 0; i < errors->len; i++)
      print_error("%s\n", (char *)errors->pdata[i]);
    fail_msg("configuration refused");
  }
  return c;
}

static char *first_error(Fixture *f, const char *text) {
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(HgConfig) c = NULL;

  assert_true(g_file_set_contents(f->path, text, -1, NULL));
  assert_int_equal(hg_config_load(f->path, &c, &errors), -EINVAL);
  return g_strdup(errors->pdata[0]);
}

static const char library[] = "[Timeouts]\n"
                              "WarnAfterSec=540\n"
                              "ExpireAfterSec=600\n"
                              "\n"
                              "# staff on the desktops: longer\n"
                              "[Policy staff]\n"
                              "MatchGroup=staff;librarians\n"
                              "MatchSource=desktop\n"
                              "WarnAfterSec=1500\n"
                              "ExpireAfterSec=1800\n"
                              "\n"
                              "[Policy catalog]\n"
                              "MatchSeat=seat1\n"
                              "MaxSessionSec=0\n"
                              "\n"
                              "[Policy patrons]\n"
                              "MaxSessionSec=3600\n"
                              "ExtendBySec=900\n"
                              "MaxExtensions=2\n"
                              "WarnBeforeSec=600;60\n"
                              "DailyAllowanceSec=7200\n"
                              "AllowedHours=Mon-Sat 09:00-20:00\n";

static void test_parse_and_match(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c = load(f, library, NULL);
  const char *staff_groups[] = {"users", "librarians", NULL};
  HgPolicyWho who = {.user = "ann",
                     .groups = staff_groups,
                     .source = HG_SESSION_SOURCE_DESKTOP,
                     .seat = "seat0",
                     .service = "gdm-password"};
  const HgPolicyRule *r;
  HgLimits l;

  assert_int_equal(hg_policy_rules_count(c->rules), 3);
  r = hg_policy_rules_match(c->rules, &who);
  assert_string_equal(r->name, "staff");
  assert_int_equal(r->line, 6);
  assert_string_equal(r->file, f->path);
  hg_policy_rule_apply(r, &c->fallback, &l);
  assert_true(l.warn_after == S(1500) && l.expire_after == S(1800));
  assert_true(l.max_session == S(28800)); /* not set: the fallback's */
  /* The same person on the web: not staff's rule (desktop only). */
  who.source = HG_SESSION_SOURCE_WEB;
  assert_string_equal(hg_policy_rules_match(c->rules, &who)->name, "patrons");
  /* On seat1: the catalog rule comes before patrons. */
  who.seat = "seat1";
  r = hg_policy_rules_match(c->rules, &who);
  assert_string_equal(r->name, "catalog");
  hg_policy_rule_apply(r, &c->fallback, &l);
  assert_true(l.max_session == 0);
  /* Groups unknown: a MatchGroup rule does not match. */
  who.groups = NULL;
  who.source = HG_SESSION_SOURCE_DESKTOP;
  assert_string_equal(hg_policy_rules_match(c->rules, &who)->name, "catalog");
  /* The patrons' limits. */
  r = hg_policy_rules_find(c->rules, "patrons");
  hg_policy_rule_apply(r, &c->fallback, &l);
  assert_true(l.extend_by == S(900) && l.max_extensions == 2);
  assert_int_equal(l.n_warn_before, 2);
  assert_true(l.warn_before[0] == S(600) && l.warn_before[1] == S(60));
  assert_true(l.daily_allowance == S(7200));
  assert_int_equal(l.hours.n_spans, 6);
  /* Staff set neither: the fallback's, none and always. */
  hg_policy_rule_apply(hg_policy_rules_find(c->rules, "staff"), &c->fallback,
                       &l);
  assert_true(l.daily_allowance == 0);
  assert_true(hg_schedule_is_always(&l.hours));
  assert_true(hg_config_limits_of(c, "patrons", &l));
  assert_false(hg_config_limits_of(c, "gone", &l));
  assert_true(l.max_session == S(28800)); /* the fallback */
  assert_true(hg_config_limits_of(c, NULL, &l));
}

static void test_no_rule_matches(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c = load(f,
                               "[Policy admins]\nMatchUser=root;admin\n"
                               "MatchService=sshd\nExpireAfterSec=900\n",
                               NULL);
  HgPolicyWho who = {
      .user = "admin", .source = HG_SESSION_SOURCE_DESKTOP, .service = "login"};

  assert_null(hg_policy_rules_match(c->rules, &who));
  who.service = "sshd";
  assert_non_null(hg_policy_rules_match(c->rules, &who));
  who.user = "bob";
  assert_null(hg_policy_rules_match(c->rules, &who));
  who.user = NULL;
  assert_null(hg_policy_rules_match(c->rules, &who));
}

/* A drop-in's group of a known name changes that rule where it stands; a
 * new name comes after the main file's rules. */
static void test_dropins(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c = load(f, library,
                               "[Policy early]\nMatchUser=zoe\n\n"
                               "[Policy staff]\nExpireAfterSec=2400\n");
  const HgPolicyRule *r;
  HgLimits l;

  assert_int_equal(hg_policy_rules_count(c->rules), 4);
  assert_string_equal(hg_policy_rules_get(c->rules, 0)->name, "staff");
  assert_string_equal(hg_policy_rules_get(c->rules, 3)->name, "early");
  r = hg_policy_rules_find(c->rules, "staff");
  hg_policy_rule_apply(r, &c->fallback, &l);
  assert_true(l.warn_after == S(1500) && l.expire_after == S(2400));
  /* Its matches stay the main file's. */
  assert_true(g_strv_contains((const char *const *)r->groups, "librarians"));
}

static void test_errors(void **state) {
  Fixture *f = *state;
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"[Policy x]\nWarnAfterSec=0\n", "[Policy x] WarnAfterSec=0: must be a "
                                       "whole number from 1"},
      {"[Policy x]\nMatchSource=kiosk\n", "MatchSource=kiosk: must be web or "
                                          "desktop"},
      {"[Policy x]\nMatchUser=a b\n", "MatchUser=a b: \"a b\" is not a name"},
      {"[Policy x]\nMatchGroup=;\n", "MatchGroup=;: names no one"},
      {"[Policy x]\nAction=suspend\n", "Action=suspend: must be terminate"},
      {"[Policy x]\nWarnBeforeSec=60;600\n", "from the longest lead time down"},
      {"[Policy x]\nMatchColour=red\n", "[Policy x] MatchColour=red: unknown "
                                        "key"},
      {"[Policy x y]\n", "[Policy x y]: a policy's name"},
      {"[Policy x]\nWarnAfterSec=700\n", "[Policy x]: WarnAfterSec must be "
                                         "less than ExpireAfterSec"},
      {"[Policy x]\nMaxExtensions=2\n", "MaxExtensions needs ExtendBySec"},
      {"[Timeouts]\nWarnBeforeSec=10;20\n", "[Timeouts] WarnBeforeSec=10;20"},
      {"[Policy x]\nDailyAllowanceSec=86401\n",
       "[Policy x] DailyAllowanceSec=86401: must be a whole number from 0 to "
       "86400"},
      {"[Policy x]\nAllowedHours=Sun 22:00\n",
       "[Policy x] AllowedHours=Sun 22:00: at character 10: expected '-'"},
  };

  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *e = first_error(f, cases[i].text);
    if (!strstr(e, cases[i].want) || !strstr(e, f->path))
      fail_msg("for %s: got '%s', want '%s'", cases[i].text, e, cases[i].want);
  }
}

/* Lead times as GKeyFile lists them and as people write them. */
static void test_warn_before_lists(void **state) {
  static const struct {
    const char *value;
    unsigned n; /* 0: refused */
    unsigned first, last;
  } cases[] = {
      {"600;60", 2, 600, 60},      {"600,60", 2, 600, 60},
      {" 600 , 60 ;", 2, 600, 60}, {"", 0, 0, 0},
      {"60", 1, 60, 60},           {"60,600", 0, 0, 0},
      {"600,,x", 0, 0, 0},         {"9;8;7;6;5;4;3;2;1", 0, 0, 0},
  };
  (void)state;

  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    HgLimits l = {0};
    g_autoptr(GString) why = g_string_new(NULL);
    bool ok = hg_warn_before_parse(cases[i].value, &l, why);
    bool want_ok = cases[i].n > 0 || !*cases[i].value;

    if (ok != want_ok)
      fail_msg("\"%s\": %s", cases[i].value, ok ? "accepted" : why->str);
    if (!ok || cases[i].n == 0)
      continue;
    assert_int_equal(l.n_warn_before, cases[i].n);
    assert_true(l.warn_before[0] == S(cases[i].first));
    assert_true(l.warn_before[l.n_warn_before - 1] == S(cases[i].last));
  }
}

static void test_shadowed_rules(void **state) {
  Fixture *f = *state;
  g_autoptr(HgConfig) c =
      load(f,
           "[Policy web]\nMatchSource=web\n\n"
           "[Policy web-staff]\nMatchSource=web\nMatchGroup=staff\n\n"
           "[Policy staff]\nMatchGroup=staff\n\n"
           "[Policy all]\n\n"
           "[Policy late]\nMatchUser=root\n\n"
           "[Policy later]\nMatchGroup=hg-no-such-group\n",
           NULL);
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *all = NULL;

  hg_policy_rules_check(c->rules, warnings);
  g_ptr_array_add(warnings, NULL);
  all = g_strjoinv("\n", (char **)warnings->pdata);
  assert_non_null(strstr(all, "[Policy web-staff] can never match: [Policy "
                              "web]"));
  assert_null(strstr(all, "[Policy staff] can never match"));
  assert_non_null(strstr(all, "[Policy late] can never match: [Policy all]"));
  assert_non_null(strstr(all, "MatchGroup=hg-no-such-group: no such group"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_parse_and_match, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_rule_matches, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dropins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shadowed_rules, setup, teardown),
      cmocka_unit_test(test_warn_before_lists),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
