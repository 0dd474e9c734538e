/* Policy rules; see hg-policy-rules.h. */
#include "hg-policy-rules.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include "hg-macros.h"

#define DAY_SEC (24 * 3600)
#define NAME_MAX_LEN 64
#define LIST_MAX 64

struct HgPolicyRules {
  GPtrArray *rules; /* HgPolicyRule, in file order */
};

static void rule_free(gpointer p) {
  HgPolicyRule *r = p;

  g_free(r->name);
  g_free(r->file);
  g_strfreev(r->users);
  g_strfreev(r->groups);
  g_strfreev(r->seats);
  g_strfreev(r->services);
  g_free(r);
}

HgPolicyRules *hg_policy_rules_new(void) {
  HgPolicyRules *r = g_new0(HgPolicyRules, 1);

  r->rules = g_ptr_array_new_with_free_func(rule_free);
  return r;
}

HgPolicyRules *hg_policy_rules_free(HgPolicyRules *r) {
  if (!r)
    return NULL;
  g_ptr_array_unref(r->rules);
  g_free(r);
  return NULL;
}

unsigned hg_policy_rules_count(const HgPolicyRules *r) { return r->rules->len; }

const HgPolicyRule *hg_policy_rules_get(const HgPolicyRules *r, unsigned i) {
  return i < r->rules->len ? r->rules->pdata[i] : NULL;
}

const HgPolicyRule *hg_policy_rules_find(const HgPolicyRules *r,
                                         const char *name) {
  for (guint i = 0; name && i < r->rules->len; i++)
    if (strcmp(((HgPolicyRule *)r->rules->pdata[i])->name, name) == 0)
      return r->rules->pdata[i];
  return NULL;
}

/* --- reading ----------------------------------------------------------- */

typedef struct {
  const char *name;
  unsigned flag;
  size_t offset; /* of the hg_usec_t in HgLimits, or unsigned for counts */
  uint64_t min, max;
  bool count; /* a plain number, not seconds */
} UintKey;

static const UintKey uint_keys[] = {
    {"WarnAfterSec", HG_RULE_WARN_AFTER, offsetof(HgLimits, warn_after), 1,
     7 * DAY_SEC - 1, false},
    {"ExpireAfterSec", HG_RULE_EXPIRE_AFTER, offsetof(HgLimits, expire_after),
     2, 7 * DAY_SEC, false},
    {"MaxSessionSec", HG_RULE_MAX_SESSION, offsetof(HgLimits, max_session), 0,
     31 * DAY_SEC, false},
    {"CloseAfterSec", HG_RULE_CLOSE_AFTER, offsetof(HgLimits, close_after), 0,
     DAY_SEC, false},
    {"LockedMaxSec", HG_RULE_LOCKED_MAX, offsetof(HgLimits, locked_max), 1,
     7 * DAY_SEC, false},
    {"ExtendBySec", HG_RULE_EXTEND_BY, offsetof(HgLimits, extend_by), 0,
     DAY_SEC, false},
    {"MaxExtensions", HG_RULE_MAX_EXTENSIONS,
     offsetof(HgLimits, max_extensions), 0, 100, true},
    {"DailyAllowanceSec", HG_RULE_DAILY_ALLOWANCE,
     offsetof(HgLimits, daily_allowance), 0, DAY_SEC, false},
};

static const char *const match_keys[] = {
    "MatchUser", "MatchGroup", "MatchSource", "MatchSeat", "MatchService"};

static void add_error(GPtrArray *errors, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
static void add_error(GPtrArray *errors, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  g_ptr_array_add(errors, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

static bool is_name(const char *s, size_t max, const char *extra) {
  size_t n = strlen(s);

  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && !strchr(extra, s[i]))
      return false;
  return true;
}

/* A ";"-separated list of names, each checked; NULL and why on error. */
static GStrv parse_names(const char *value, const char *extra, GString *why) {
  g_auto(GStrv) items = g_strsplit(value, ";", -1);
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

  for (char **i = items; *i; i++) {
    g_strstrip(*i);
    if (!**i)
      continue;
    if (out->len >= LIST_MAX)
      g_string_printf(why, "at most %d names", LIST_MAX);
    else if (!is_name(*i, 256, extra))
      g_string_printf(why, "\"%s\" is not a name (letters, digits, \"%s\")", *i,
                      extra);
    if (why->len > 0) {
      g_ptr_array_free(out, true);
      return NULL;
    }
    g_ptr_array_add(out, g_strdup(*i));
  }
  if (out->len == 0) {
    g_string_assign(why, "names no one");
    g_ptr_array_free(out, true);
    return NULL;
  }
  g_ptr_array_set_free_func(out, NULL);
  g_ptr_array_add(out, NULL);
  return (GStrv)g_ptr_array_free(out, false);
}

static bool parse_uint_key(const UintKey *k, const char *value,
                           HgLimits *limits, GString *why) {
  guint64 n;

  if (!g_ascii_isdigit(value[0]) ||
      !g_ascii_string_to_unsigned(value, 10, k->min, k->max, &n, NULL)) {
    g_string_printf(why,
                    "must be a whole number from %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT,
                    k->min, k->max);
    return false;
  }
  if (k->count)
    *(unsigned *)((char *)limits + k->offset) = (unsigned)n;
  else
    *(hg_usec_t *)((char *)limits + k->offset) = hg_sec_to_usec(n);
  return true;
}

/* "600;60" as a GKeyFile list, or "600,60" as people write it. */
bool hg_warn_before_parse(const char *value, HgLimits *limits, GString *why) {
  g_auto(GStrv) items = g_strsplit_set(value, ";,", -1);
  unsigned n = 0;

  for (char **i = items; *i; i++) {
    guint64 sec;

    g_strstrip(*i);
    if (!**i)
      continue;
    if (n >= HG_WARN_BEFORE_MAX ||
        !g_ascii_string_to_unsigned(*i, 10, 1, 7 * DAY_SEC, &sec, NULL)) {
      g_string_printf(why, "must be up to %d lead times in seconds (1 to %d)",
                      HG_WARN_BEFORE_MAX, 7 * DAY_SEC);
      return false;
    }
    if (n > 0 && hg_sec_to_usec(sec) >= limits->warn_before[n - 1]) {
      g_string_assign(why, "must go from the longest lead time down");
      return false;
    }
    limits->warn_before[n++] = hg_sec_to_usec(sec);
  }
  limits->n_warn_before = n;
  return true;
}

static bool parse_match(HgPolicyRule *rule, const char *key, const char *value,
                        GString *why) {
  GStrv *slot = NULL;
  const char *extra = "_.-@\\";
  int source;

  if (strcmp(key, "MatchSource") == 0) {
    source = hg_session_source_from_string(value);
    if (source < 0) {
      g_string_assign(why, "must be web or desktop");
      return false;
    }
    rule->source = source;
    return true;
  }
  if (strcmp(key, "MatchUser") == 0)
    slot = &rule->users;
  else if (strcmp(key, "MatchGroup") == 0)
    slot = &rule->groups;
  else if (strcmp(key, "MatchSeat") == 0)
    slot = &rule->seats, extra = "_-";
  else
    slot = &rule->services, extra = "_.-";
  g_strfreev(*slot);
  *slot = parse_names(value, extra, why);
  return *slot != NULL;
}

static bool parse_key(HgPolicyRule *rule, const char *key, const char *value,
                      GString *why) {
  int action;

  for (size_t i = 0; i < HG_ELEMENTSOF(match_keys); i++)
    if (strcmp(key, match_keys[i]) == 0)
      return parse_match(rule, key, value, why);
  for (size_t i = 0; i < HG_ELEMENTSOF(uint_keys); i++)
    if (strcmp(key, uint_keys[i].name) == 0) {
      if (!parse_uint_key(&uint_keys[i], value, &rule->limits, why))
        return false;
      rule->sets |= uint_keys[i].flag;
      return true;
    }
  if (strcmp(key, "Action") == 0) {
    action = hg_desktop_action_from_string(value);
    if (action < 0) {
      g_string_assign(why, "must be terminate, lock or lock-then-terminate");
      return false;
    }
    rule->limits.action = (HgDesktopAction)action;
    rule->sets |= HG_RULE_ACTION;
    return true;
  }
  if (strcmp(key, "WarnBeforeSec") == 0) {
    if (!hg_warn_before_parse(value, &rule->limits, why))
      return false;
    rule->sets |= HG_RULE_WARN_BEFORE;
    return true;
  }
  if (strcmp(key, "AllowedHours") == 0) {
    if (!hg_schedule_parse(value, &rule->limits.hours, why))
      return false;
    rule->sets |= HG_RULE_ALLOWED_HOURS;
    return true;
  }
  g_string_assign(why, "unknown key");
  return false;
}

/* The line of a group's header in a file's text, 0 if not found. */
static unsigned line_of(const char *text, const char *group) {
  g_autofree char *header = g_strdup_printf("[%s]", group);
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix(g_strchug(lines[i]), header))
      return i + 1;
  return 0;
}

static HgPolicyRule *rule_for(HgPolicyRules *r, const char *name,
                              const char *file, const char *text,
                              const char *group) {
  HgPolicyRule *rule = (HgPolicyRule *)hg_policy_rules_find(r, name);

  if (rule)
    return rule; /* a drop-in changes it in its place */
  rule = g_new0(HgPolicyRule, 1);
  rule->name = g_strdup(name);
  rule->file = g_strdup(file);
  rule->line = line_of(text, group);
  rule->source = -1;
  g_ptr_array_add(r->rules, rule);
  return rule;
}

void hg_policy_rules_read(HgPolicyRules *r, GKeyFile *kf, const char *group,
                          const char *file, const char *text,
                          GPtrArray *errors) {
  const char *name = group + strlen("Policy ");
  g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
  HgPolicyRule *rule;

  if (!is_name(name, NAME_MAX_LEN, "_.-")) {
    add_error(errors,
              "%s: [%s]: a policy's name is 1 to %d letters, digits, '_', "
              "'.', '-'",
              file, group, NAME_MAX_LEN);
    return;
  }
  rule = rule_for(r, name, file, text, group);
  for (char **k = keys; keys && *k; k++) {
    g_autoptr(GString) why = g_string_new(NULL);
    g_autofree char *value = g_key_file_get_string(kf, group, *k, NULL);
    g_autofree char *quoted = NULL;

    if (value && parse_key(rule, *k, g_strchomp(value), why))
      continue;
    quoted = g_strescape(value ? value : "", NULL);
    add_error(errors, "%s: [%s] %s=%s: %s", file, group, *k, quoted,
              why->len ? why->str : "not a string");
  }
}

/* --- matching ---------------------------------------------------------- */

static bool in_list(GStrv list, const char *s) {
  return s && g_strv_contains((const char *const *)list, s);
}

static bool any_in_list(GStrv list, const char *const *items) {
  for (; items && *items; items++)
    if (in_list(list, *items))
      return true;
  return false;
}

static bool matches(const HgPolicyRule *rule, const HgPolicyWho *who) {
  return (!rule->users || in_list(rule->users, who->user)) &&
         (!rule->groups || any_in_list(rule->groups, who->groups)) &&
         (rule->source < 0 || rule->source == (int)who->source) &&
         (!rule->seats || in_list(rule->seats, who->seat)) &&
         (!rule->services || in_list(rule->services, who->service));
}

const HgPolicyRule *hg_policy_rules_match(const HgPolicyRules *r,
                                          const HgPolicyWho *who) {
  for (guint i = 0; i < r->rules->len; i++)
    if (matches(r->rules->pdata[i], who))
      return r->rules->pdata[i];
  return NULL;
}

void hg_policy_rule_apply(const HgPolicyRule *rule, const HgLimits *fallback,
                          HgLimits *ret) {
  HgLimits l = *fallback;

  if (rule) {
    for (size_t i = 0; i < HG_ELEMENTSOF(uint_keys); i++) {
      const UintKey *k = &uint_keys[i];
      size_t size = k->count ? sizeof(unsigned) : sizeof(hg_usec_t);
      if (rule->sets & k->flag)
        memcpy((char *)&l + k->offset, (const char *)&rule->limits + k->offset,
               size);
    }
    if (rule->sets & HG_RULE_ACTION)
      l.action = rule->limits.action;
    if (rule->sets & HG_RULE_WARN_BEFORE) {
      l.n_warn_before = rule->limits.n_warn_before;
      memcpy(l.warn_before, rule->limits.warn_before, sizeof(l.warn_before));
    }
    if (rule->sets & HG_RULE_ALLOWED_HOURS)
      l.hours = rule->limits.hours;
  }
  *ret = l;
}

bool hg_limits_valid(const HgLimits *l, GString *why) {
  if (l->warn_after >= l->expire_after) {
    g_string_assign(why, "WarnAfterSec must be less than ExpireAfterSec");
    return false;
  }
  if (l->max_extensions > 0 && l->extend_by == 0) {
    g_string_assign(why, "MaxExtensions needs ExtendBySec");
    return false;
  }
  return true;
}

/* --- checks ------------------------------------------------------------ */

/* All of b's values are a's, or a takes any: a list is an OR, so a covers
 * b. */
static bool list_covers(GStrv a, GStrv b) {
  if (!a)
    return true;
  if (!b)
    return false;
  for (char **i = b; *i; i++)
    if (!in_list(a, *i))
      return false;
  return true;
}

/* Whoever b matches, a matches too (groups: a rule on groups covers one
 * on a subset of them). */
static bool covers(const HgPolicyRule *a, const HgPolicyRule *b) {
  return list_covers(a->users, b->users) && list_covers(a->groups, b->groups) &&
         (a->source < 0 || a->source == b->source) &&
         list_covers(a->seats, b->seats) &&
         list_covers(a->services, b->services);
}

static void check_names(const HgPolicyRule *rule, GPtrArray *warnings) {
  for (char **u = rule->users; u && *u; u++)
    if (!getpwnam(*u))
      add_error(warnings, "%s:%u: [Policy %s] MatchUser=%s: no such user (yet)",
                rule->file, rule->line, rule->name, *u);
  for (char **g = rule->groups; g && *g; g++)
    if (!getgrnam(*g))
      add_error(warnings,
                "%s:%u: [Policy %s] MatchGroup=%s: no such group (yet)",
                rule->file, rule->line, rule->name, *g);
}

void hg_policy_rules_check(const HgPolicyRules *r, GPtrArray *warnings) {
  for (guint j = 0; j < r->rules->len; j++) {
    const HgPolicyRule *b = r->rules->pdata[j];

    check_names(b, warnings);
    for (guint i = 0; i < j; i++) {
      const HgPolicyRule *a = r->rules->pdata[i];
      if (!covers(a, b))
        continue;
      add_error(warnings,
                "%s:%u: [Policy %s] can never match: [Policy %s] (%s:%u) "
                "comes first and matches everyone it would",
                b->file, b->line, b->name, a->name, a->file, a->line);
      break;
    }
  }
}
