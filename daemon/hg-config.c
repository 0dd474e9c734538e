/* Configuration loading: one table of keys, each with its default, its
 * parser and its bounds. The files are merged key by key (a later drop-in
 * wins), then every value is parsed; all errors are collected so that
 * --check-config shows them at once. */
#include "hg-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "config.h"
#include "hg-macros.h"

const char hg_config_strict_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'";

#define DAY_SEC (24 * 3600)

typedef struct ConfigKey ConfigKey;

/* Parses value into config; false with the reason in why on failure. */
typedef bool (*ParseFunc)(const ConfigKey *key, const char *value,
                          HgConfig *config, GString *why);

struct ConfigKey {
  const char *group;
  const char *name;
  const char *default_value;
  ParseFunc parse;
  size_t offset; /* of the field in HgConfig */
  uint64_t min, max;
};

#define FIELD(config, key, type) ((type *)((char *)(config) + (key)->offset))

static bool parse_uint(const ConfigKey *key, const char *value,
                       HgConfig *config, GString *why) {
  guint64 n;

  if (!g_ascii_isdigit(value[0]) ||
      !g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &n, NULL) ||
      n < key->min || n > key->max) {
    g_string_printf(why,
                    "must be a whole number from %" G_GUINT64_FORMAT
                    " to %" G_GUINT64_FORMAT,
                    key->min, key->max);
    return false;
  }
  *FIELD(config, key, uint64_t) = n;
  return true;
}

static bool is_name_char(char c, const char *extra) {
  return g_ascii_isalnum(c) || strchr(extra, c);
}

static bool all_chars(const char *s, const char *extra) {
  for (; *s; s++)
    if (!is_name_char(*s, extra))
      return false;
  return true;
}

static void set_string(const ConfigKey *key, HgConfig *config,
                       const char *value) {
  char **field = FIELD(config, key, char *);

  g_free(*field);
  *field = *value ? g_strdup(value) : NULL;
}

/* A PAM service is a file name under /etc/pam.d. */
static bool parse_pam_service(const ConfigKey *key, const char *value,
                              HgConfig *config, GString *why) {
  if (!*value || strlen(value) > 64 || value[0] == '.' ||
      !all_chars(value, "_.-")) {
    g_string_assign(why, "must be a PAM service name (letters, digits, "
                         "'_', '.', '-'; at most 64)");
    return false;
  }
  set_string(key, config, value);
  return true;
}

static bool parse_pam_helper(const ConfigKey *key, const char *value,
                             HgConfig *config, GString *why) {
  static const char *const names[] = {"auto", "fork", "socket"};

  for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
    if (strcmp(value, names[i]) == 0) {
      config->pam_helper = (HgPamHelper)i;
      return true;
    }
  g_string_assign(why, "must be auto, fork or socket");
  return false;
}

/* A socket's path: absolute, and short enough for sockaddr_un. */
static bool parse_socket_path(const ConfigKey *key, const char *value,
                              HgConfig *config, GString *why) {
  if (value[0] != '/' || strlen(value) > 107) {
    g_string_assign(why, "must be an absolute path of at most 107 bytes");
    return false;
  }
  set_string(key, config, value);
  return true;
}

/* logind names seats "seat" followed by letters, digits, '_' or '-'. */
static bool parse_seat(const ConfigKey *key, const char *value,
                       HgConfig *config, GString *why) {
  if (!g_str_has_prefix(value, "seat") || strlen(value) > 64 ||
      !all_chars(value, "_-")) {
    g_string_assign(why, "must be a seat name such as seat0");
    return false;
  }
  set_string(key, config, value);
  return true;
}

static bool parse_csp(const ConfigKey *key, const char *value, HgConfig *config,
                      GString *why) {
  size_t n = strlen(value);

  if (n == 0 || n > 2048) {
    g_string_assign(why, "must be a Content-Security-Policy of 1 to 2048 "
                         "characters");
    return false;
  }
  for (const char *p = value; *p; p++)
    if (*p < 0x20 || *p > 0x7e) {
      g_string_assign(why, "must be printable ASCII (it becomes an HTTP "
                           "header)");
      return false;
    }
  set_string(key, config, value);
  return true;
}

static bool parse_web_root(const ConfigKey *key, const char *value,
                           HgConfig *config, GString *why) {
  struct stat st;

  if (*value) {
    if (value[0] != '/') {
      g_string_assign(why, "must be an absolute path");
      return false;
    }
    if (stat(value, &st) < 0) {
      g_string_printf(why, "cannot be used: %s", g_strerror(errno));
      return false;
    }
    if (!S_ISDIR(st.st_mode)) {
      g_string_assign(why, "is not a directory");
      return false;
    }
  }
  set_string(key, config, value);
  return true;
}

static void listen_address_free(gpointer p) {
  HgListenAddress *a = p;

  if (a) {
    g_free(a->text);
    g_free(a);
  }
}

static bool parse_port(const char *s, uint16_t *ret) {
  guint64 n;

  if (!g_ascii_isdigit(s[0]) ||
      !g_ascii_string_to_unsigned(s, 10, 1, 65535, &n, NULL))
    return false;
  *ret = (uint16_t)n;
  return true;
}

/* "IPv4:port" or "[IPv6]:port", numeric and loopback only in v1. */
static HgListenAddress *parse_one_listen(const char *token, GString *why) {
  g_autofree char *host = NULL;
  g_autoptr(GString) text = g_string_new(NULL);
  HgListenAddress a = {0};
  const char *colon = strrchr(token, ':');
  char buf[INET6_ADDRSTRLEN];

  if (!colon || !parse_port(colon + 1, &a.port)) {
    g_string_printf(why,
                    "'%s' is not ADDRESS:PORT with a port from 1 to "
                    "65535",
                    token);
    return NULL;
  }
  host = g_strndup(token, colon - token);
  if (host[0] == '[' && g_str_has_suffix(host, "]")) {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&a.addr;
    host[strlen(host) - 1] = '\0';
    if (inet_pton(AF_INET6, host + 1, &sa->sin6_addr) != 1)
      goto bad_address;
    if (!IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr))
      goto not_loopback;
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(a.port);
    a.addr_len = sizeof(*sa);
    g_string_printf(text, "[%s]:%u",
                    inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof(buf)),
                    a.port);
  } else {
    struct sockaddr_in *sa = (struct sockaddr_in *)&a.addr;
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
      goto bad_address;
    if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
      goto not_loopback;
    sa->sin_family = AF_INET;
    sa->sin_port = htons(a.port);
    a.addr_len = sizeof(*sa);
    g_string_printf(text, "%s:%u",
                    inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof(buf)),
                    a.port);
  }
  a.text = g_string_free(g_steal_pointer(&text), FALSE);
  return g_memdup2(&a, sizeof(a));

bad_address:
  g_string_printf(why,
                  "'%s' is not a numeric IPv4 address or [IPv6] "
                  "address",
                  token);
  return NULL;
not_loopback:
  g_string_printf(why,
                  "'%s' is not a loopback address (v1 listens on "
                  "127.0.0.0/8 and [::1] only)",
                  token);
  return NULL;
}

static bool parse_listen(const ConfigKey *key, const char *value,
                         HgConfig *config, GString *why) {
  g_autoptr(GPtrArray) list =
      g_ptr_array_new_with_free_func(listen_address_free);
  g_auto(GStrv) tokens = g_strsplit(value, ";", -1);

  for (char **t = tokens; *t; t++) {
    HgListenAddress *a;
    g_strstrip(*t);
    if (!**t)
      continue;
    a = parse_one_listen(*t, why);
    if (!a)
      return false;
    g_ptr_array_add(list, a);
    for (guint i = 0; i + 1 < list->len; i++)
      if (strcmp(((HgListenAddress *)list->pdata[i])->text, a->text) == 0) {
        g_string_printf(why, "'%s' is listed twice", a->text);
        return false;
      }
  }
  if (list->len == 0 || list->len > HG_CONFIG_MAX_LISTEN) {
    g_string_printf(why, "must list 1 to %d addresses", HG_CONFIG_MAX_LISTEN);
    return false;
  }
  g_clear_pointer(&config->listen, g_ptr_array_unref);
  config->listen = g_steal_pointer(&list);
  return true;
}

static bool span_chars(const char *s, size_t n, const char *extra) {
  for (size_t i = 0; i < n; i++)
    if (!is_name_char(s[i], extra))
      return false;
  return true;
}

/* A Host header value: a DNS name or [IPv6], with an optional port. */
static bool valid_host(const char *h) {
  const char *end, *colon;
  uint16_t port;

  if (h[0] == '[') {
    end = strchr(h, ']');
    if (!end || end == h + 1 || !span_chars(h + 1, end - h - 1, ":."))
      return false;
    end++;
  } else {
    colon = strrchr(h, ':');
    end = colon ? colon : h + strlen(h);
    if (end == h || end - h > 253 || !span_chars(h, end - h, ".-"))
      return false;
  }
  return *end == '\0' || (*end == ':' && parse_port(end + 1, &port));
}

static bool parse_hosts(const ConfigKey *key, const char *value,
                        HgConfig *config, GString *why) {
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) tokens = g_strsplit(value, ";", -1);

  for (char **t = tokens; *t; t++) {
    g_strstrip(*t);
    if (!**t)
      continue;
    if (!valid_host(*t)) {
      g_string_printf(why,
                      "'%s' is not a host name or [IPv6] address with "
                      "an optional :PORT",
                      *t);
      return false;
    }
    g_ptr_array_add(hosts, g_ascii_strdown(*t, -1));
  }
  if (hosts->len > 32) {
    g_string_assign(why, "lists more than 32 hosts");
    return false;
  }
  g_ptr_array_add(hosts, NULL);
  g_strfreev(config->allowed_hosts);
  config->allowed_hosts =
      (GStrv)g_ptr_array_free(g_steal_pointer(&hosts), FALSE);
  return true;
}

static bool parse_sources(const ConfigKey *key, const char *value,
                          HgConfig *config, GString *why) {
  g_auto(GStrv) tokens = g_strsplit(value, ";", -1);
  unsigned sources = 0;

  for (char **t = tokens; *t; t++) {
    g_strstrip(*t);
    if (!**t)
      continue;
    if (strcmp(*t, "page") == 0)
      sources |= HG_IDLE_SOURCE_PAGE;
    else if (strcmp(*t, "logind") == 0)
      sources |= HG_IDLE_SOURCE_LOGIND;
    else if (strcmp(*t, "tty") == 0)
      sources |= HG_IDLE_SOURCE_TTY;
    else {
      g_string_printf(why, "'%s' is not an idle source (page, logind, tty)",
                      *t);
      return false;
    }
  }
  config->idle_sources = sources;
  return true;
}

/* Resolved here, once: the main loop never waits on NSS (SSSD, LDAP). */
static bool parse_group(const ConfigKey *key, const char *value,
                        HgConfig *config, GString *why) {
  struct group grp, *result = NULL;
  char buf[16384];
  int r;

  if (*value) {
    r = getgrnam_r(value, &grp, buf, sizeof(buf), &result);
    if (r != 0 || !result) {
      g_string_printf(why, "no such group (%s)",
                      r ? g_strerror(r) : "not found");
      return false;
    }
    config->admin_gid = result->gr_gid;
  }
  set_string(key, config, value);
  return true;
}

static bool parse_action(const ConfigKey *key, const char *value,
                         HgConfig *config, GString *why) {
  int action = hg_desktop_action_from_string(value);

  if (action < 0) {
    g_string_assign(why, "must be terminate, lock or lock-then-terminate");
    return false;
  }
  config->desktop_action = (HgDesktopAction)action;
  return true;
}

/* Opening hours, as a policy rule takes them: the message says where in
 * the value the error is. */
static bool parse_allowed_hours(const ConfigKey *key, const char *value,
                                HgConfig *config, GString *why) {
  return hg_schedule_parse(value, &config->fallback.hours, why);
}

/* Lead times before the absolute end, as a policy rule takes them. */
static bool parse_warn_before(const ConfigKey *key, const char *value,
                              HgConfig *config, GString *why) {
  return hg_warn_before_parse(value, &config->fallback, why);
}

#define UINT_KEY(g, k, def, field, lo, hi)                                     \
  { g, k, def, parse_uint, offsetof(HgConfig, field), lo, hi }
#define KEY(g, k, def, parser, field)                                          \
  { g, k, def, parser, offsetof(HgConfig, field), 0, 0 }

/* The whole configuration surface. hourglass.conf(5) and data/hourglass.conf
 * document each line; tests/unit/test-config.c walks it. */
static const ConfigKey config_keys[] = {
    UINT_KEY("Timeouts", "WarnAfterSec", "540", warn_after_sec, 1,
             7 * DAY_SEC - 1),
    UINT_KEY("Timeouts", "ExpireAfterSec", "600", expire_after_sec, 2,
             7 * DAY_SEC),
    UINT_KEY("Timeouts", "MaxSessionSec", "28800", max_session_sec, 0,
             31 * DAY_SEC),
    UINT_KEY("Timeouts", "CloseAfterSec", "30", close_after_sec, 0, DAY_SEC),
    UINT_KEY("Timeouts", "ExtendBySec", "0", extend_by_sec, 0, DAY_SEC),
    UINT_KEY("Timeouts", "MaxExtensions", "0", max_extensions, 0, 100),
    KEY("Timeouts", "WarnBeforeSec", "", parse_warn_before, fallback),
    UINT_KEY("Timeouts", "DailyAllowanceSec", "0", daily_allowance_sec, 0,
             DAY_SEC),
    KEY("Timeouts", "AllowedHours", "", parse_allowed_hours, fallback),
    KEY("Http", "Listen", "127.0.0.1:8080", parse_listen, listen),
    KEY("Http", "AllowedHosts", "", parse_hosts, allowed_hosts),
    KEY("Http", "WebRoot", "", parse_web_root, web_root),
    KEY("Http", "WebRootCsp", hg_config_strict_csp, parse_csp, web_root_csp),
    UINT_KEY("Http", "RequestTimeoutSec", "10", request_timeout_sec, 1, 300),
    UINT_KEY("Http", "IdleTimeoutSec", "30", idle_timeout_sec, 1, 3600),
    UINT_KEY("Limits", "MaxSessions", "256", max_sessions, 1, 65536),
    UINT_KEY("Limits", "MaxSessionsPerUser", "4", max_sessions_per_user, 1,
             65536),
    UINT_KEY("Limits", "MaxLoginsInProgress", "8", max_logins_in_progress, 1,
             1024),
    UINT_KEY("Limits", "MaxLoginsInProgressPerPeer", "3",
             max_logins_in_progress_per_peer, 1, 1024),
    UINT_KEY("Limits", "LoginRatePerSec", "5", login_rate_per_sec, 1, 10000),
    UINT_KEY("Limits", "MaxConnections", "128", max_connections, 1, 4096),
    UINT_KEY("Limits", "MaxConnectionsPerPeer", "16", max_connections_per_peer,
             1, 4096),
    KEY("Pam", "Service", "hourglass", parse_pam_service, pam_service),
    UINT_KEY("Pam", "MinUid", "1000", min_uid, 0, 4294967294u),
    UINT_KEY("Pam", "HelperTimeoutSec", "30", helper_timeout_sec, 1, 600),
    UINT_KEY("Pam", "ConversationTimeoutSec", "120", conversation_timeout_sec,
             5, 3600),
    UINT_KEY("Pam", "FailDelayMSec", "2000", fail_delay_msec, 0, 30000),
    KEY("Pam", "Helper", "auto", parse_pam_helper, pam_helper),
    KEY("Pam", "HelperSocket", "/run/hourglass-pam/socket", parse_socket_path,
        helper_socket),
    KEY("Idle", "Sources", "page;logind;tty", parse_sources, idle_sources),
    KEY("Idle", "Seat", "seat0", parse_seat, seat),
    UINT_KEY("Idle", "InhibitMaxSec", "0", inhibit_max_sec, 0, 31 * DAY_SEC),
    KEY("DBus", "AdminGroup", "", parse_group, admin_group),
    KEY("Desktop", "Action", "terminate", parse_action, desktop_action),
    UINT_KEY("Desktop", "LockedMaxSec", "600", locked_max_sec, 1, 7 * DAY_SEC),
};

#define N_KEYS HG_ELEMENTSOF(config_keys)

/* What the files said for one key, and which file said it last. */
typedef struct {
  char *value;
  char *file;
  bool refused;
} Setting;

static void settings_clear(Setting *settings) {
  for (size_t i = 0; i < N_KEYS; i++) {
    g_free(settings[i].value);
    g_free(settings[i].file);
  }
}

static int find_key(const char *group, const char *name) {
  for (size_t i = 0; i < N_KEYS; i++)
    if (strcmp(config_keys[i].group, group) == 0 &&
        (!name || strcmp(config_keys[i].name, name) == 0))
      return (int)i;
  return -1;
}

static void add_error(GPtrArray *errors, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
static void add_error(GPtrArray *errors, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  g_ptr_array_add(errors, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

/* Quotes a value for a message: control characters escaped, long values
 * cut, so a message stays one readable line. */
static char *quote_value(const char *value) {
  g_autofree char *escaped = g_strescape(value, NULL);

  if (strlen(escaped) > 120)
    return g_strdup_printf("%.117s...", escaped);
  return g_steal_pointer(&escaped);
}

static void read_file(const char *path, bool missing_ok, Setting *settings,
                      HgPolicyRules *rules, GPtrArray *errors) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) groups = NULL;
  gsize len;

  if (!g_file_get_contents(path, &text, &len, &error) ||
      !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &error)) {
    if (!(missing_ok &&
          g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)))
      add_error(errors, "%s: cannot read: %s", path, error->message);
    return;
  }

  groups = g_key_file_get_groups(kf, NULL);
  for (char **g = groups; *g; g++) {
    g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);

    if (g_str_has_prefix(*g, "Policy ")) {
      hg_policy_rules_read(rules, kf, *g, path, text, errors);
      continue;
    }
    if (find_key(*g, NULL) < 0) {
      add_error(errors, "%s: [%s]: unknown group", path, *g);
      continue;
    }
    for (char **k = keys; keys && *k; k++) {
      g_autoptr(GError) kerr = NULL;
      g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
      g_autofree char *value = g_key_file_get_string(kf, *g, *k, &kerr);
      g_autofree char *quoted = quote_value(raw ? raw : "");
      int i = find_key(*g, *k);

      if (i < 0)
        add_error(errors, "%s: [%s] %s=%s: unknown key", path, *g, *k, quoted);
      else if (!value)
        add_error(errors, "%s: [%s] %s=%s: %s", path, *g, *k, quoted,
                  kerr->message);
      else {
        /* GKeyFile drops the blanks before a value, not after it: an
         * invisible trailing space must not make a number invalid. */
        g_strchomp(value);
        g_free(settings[i].value);
        g_free(settings[i].file);
        settings[i].value = g_steal_pointer(&value);
        settings[i].file = g_strdup(path);
      }
    }
  }
}

static int compare_strings(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char *hg_config_dropin_dir(const char *path) {
  return g_strconcat(path, ".d", NULL);
}

/* Drop-ins: every *.conf in PATH.d, in strcmp order (10-a before 20-b). */
static void read_dropins(const char *path, Setting *settings,
                         HgPolicyRules *rules, GPtrArray *errors) {
  g_autofree char *dir_path = hg_config_dropin_dir(path);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, &error);
  const char *name;

  if (!dir) {
    if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      add_error(errors, "%s: cannot read: %s", dir_path, error->message);
    return;
  }
  while ((name = g_dir_read_name(dir)))
    if (g_str_has_suffix(name, ".conf") && name[0] != '.')
      g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_strings);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *file = g_build_filename(dir_path, names->pdata[i], NULL);
    read_file(file, false, settings, rules, errors);
  }
}

static bool apply(const ConfigKey *key, const char *value, HgConfig *config,
                  const char *file, GPtrArray *errors) {
  g_autoptr(GString) why = g_string_new(NULL);
  g_autofree char *quoted = NULL;

  if (key->parse(key, value, config, why))
    return true;
  quoted = quote_value(value);
  add_error(errors, "%s: [%s] %s=%s: %s", file, key->group, key->name, quoted,
            why->str);
  return false;
}

/* The fallback's limits, from [Timeouts], [Idle] and [Desktop] (the
 * lead times were parsed into it already). */
static void fill_fallback(HgConfig *config) {
  HgLimits *l = &config->fallback;

  l->warn_after = hg_sec_to_usec(config->warn_after_sec);
  l->expire_after = hg_sec_to_usec(config->expire_after_sec);
  l->max_session = hg_sec_to_usec(config->max_session_sec);
  l->close_after = hg_sec_to_usec(config->close_after_sec);
  l->inhibit_max = hg_sec_to_usec(config->inhibit_max_sec);
  l->action = config->desktop_action;
  l->locked_max = hg_sec_to_usec(config->locked_max_sec);
  l->extend_by = hg_sec_to_usec(config->extend_by_sec);
  l->max_extensions = (unsigned)config->max_extensions;
  l->daily_allowance = hg_sec_to_usec(config->daily_allowance_sec);
}

/* Each rule's limits over the fallback must be sound by themselves. A
 * fallback that is not has its own message (check_timeouts(),
 * check_extensions()): the rules that take from it are not blamed too. */
static void check_rules(HgConfig *config, GPtrArray *errors) {
  g_autoptr(GString) fallback_why = g_string_new(NULL);

  fill_fallback(config);
  if (!hg_limits_valid(&config->fallback, fallback_why))
    return;
  for (unsigned i = 0; i < hg_policy_rules_count(config->rules); i++) {
    const HgPolicyRule *rule = hg_policy_rules_get(config->rules, i);
    g_autoptr(GString) why = g_string_new(NULL);
    HgLimits l;

    hg_policy_rule_apply(rule, &config->fallback, &l);
    if (!hg_limits_valid(&l, why))
      add_error(errors,
                "%s:%u: [Policy %s]: %s (with what the rule does not "
                "set taken from [Timeouts])",
                rule->file, rule->line, rule->name, why->str);
  }
}

/* A default the table cannot parse is a bug that the unit tests catch; it
 * is still an error like any other, never an abort. */
static HgConfig *config_with_defaults(GPtrArray *errors) {
  HgConfig *config = g_new0(HgConfig, 1);

  config->rules = hg_policy_rules_new();
  for (size_t i = 0; i < N_KEYS; i++)
    (void)apply(&config_keys[i], config_keys[i].default_value, config,
                "(built-in default)", errors);
  return config;
}

HgConfig *hg_config_new_default(void) {
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(HgConfig) config = config_with_defaults(errors);

  fill_fallback(config);
  return errors->len == 0 ? g_steal_pointer(&config) : NULL;
}

static void check_timeouts(const HgConfig *config, const Setting *settings,
                           GPtrArray *errors) {
  int w = find_key("Timeouts", "WarnAfterSec");
  int e = find_key("Timeouts", "ExpireAfterSec");

  /* A refused value already has its message; comparing it would only add
   * a confusing second one. */
  if (config->warn_after_sec < config->expire_after_sec ||
      settings[w].refused || settings[e].refused)
    return;
  add_error(errors,
            "%s: [Timeouts] WarnAfterSec=%" G_GUINT64_FORMAT
            ": must be less than ExpireAfterSec=%" G_GUINT64_FORMAT " (%s)",
            settings[w].file ? settings[w].file : "(built-in default)",
            config->warn_after_sec, config->expire_after_sec,
            settings[e].file ? settings[e].file : "built-in default");
}

/* [Timeouts]' extension keys together, as a rule's are. */
static void check_extensions(const HgConfig *config, const Setting *settings,
                             GPtrArray *errors) {
  int m = find_key("Timeouts", "MaxExtensions");
  int e = find_key("Timeouts", "ExtendBySec");

  if (config->max_extensions == 0 || config->extend_by_sec > 0 ||
      settings[m].refused || settings[e].refused)
    return;
  add_error(errors,
            "%s: [Timeouts] MaxExtensions=%" G_GUINT64_FORMAT
            ": needs ExtendBySec",
            settings[m].file ? settings[m].file : "(built-in default)",
            config->max_extensions);
}

int hg_config_load(const char *path, HgConfig **ret, GPtrArray **ret_errors) {
  g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(HgConfig) config = config_with_defaults(errors);
  Setting settings[N_KEYS] = {0};
  bool named = path != NULL;

  if (!path)
    path = HG_CONFIG_FILE;
  read_file(path, !named, settings, config->rules, errors);
  read_dropins(path, settings, config->rules, errors);
  for (size_t i = 0; i < N_KEYS; i++)
    if (settings[i].value)
      settings[i].refused = !apply(&config_keys[i], settings[i].value, config,
                                   settings[i].file, errors);
  check_timeouts(config, settings, errors);
  check_extensions(config, settings, errors);
  check_rules(config, errors);
  settings_clear(settings);

  config->path = g_strdup(path);
  if (errors->len > 0) {
    if (ret_errors)
      *ret_errors = g_steal_pointer(&errors);
    return -EINVAL;
  }
  *ret = g_steal_pointer(&config);
  return 0;
}

HgConfig *hg_config_free(HgConfig *config) {
  if (!config)
    return NULL;
  g_clear_pointer(&config->listen, g_ptr_array_unref);
  g_strfreev(config->allowed_hosts);
  g_free(config->web_root);
  g_free(config->web_root_csp);
  g_free(config->pam_service);
  g_free(config->helper_socket);
  g_free(config->seat);
  g_free(config->admin_group);
  hg_policy_rules_free(config->rules);
  g_free(config->path);
  g_free(config);
  return NULL;
}

void hg_config_get_limits(const HgConfig *config, HgLimits *ret) {
  *ret = config->fallback;
}

bool hg_config_limits_of(const HgConfig *config, const char *policy,
                         HgLimits *ret) {
  const HgPolicyRule *rule = hg_policy_rules_find(config->rules, policy);

  hg_policy_rule_apply(rule, &config->fallback, ret);
  return rule || !policy;
}
