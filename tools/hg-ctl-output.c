/* What hourglassctl prints: durations and local times for people, JSON for
 * scripts, the session table and the status page. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hg-ctl.h"
#include "hg-macros.h"

const char *ctl_format_duration(char buf[static CTL_DURATION_MAX],
                                uint64_t sec) {
  if (sec < 60)
    snprintf(buf, CTL_DURATION_MAX, "%" PRIu64 "s", sec);
  else if (sec < 3600)
    snprintf(buf, CTL_DURATION_MAX, "%" PRIu64 "m%02" PRIu64 "s", sec / 60,
             sec % 60);
  else if (sec < 86400)
    snprintf(buf, CTL_DURATION_MAX, "%" PRIu64 "h%02" PRIu64 "m", sec / 3600,
             sec / 60 % 60);
  else
    snprintf(buf, CTL_DURATION_MAX, "%" PRIu64 "d%02" PRIu64 "h", sec / 86400,
             sec / 3600 % 24);
  return buf;
}

const char *ctl_format_timestamp(char buf[static CTL_TIMESTAMP_MAX],
                                 hg_usec_t usec) {
  time_t t = (time_t)(usec / HG_USEC_PER_SEC);
  struct tm tm;

  if (!localtime_r(&t, &tm) ||
      strftime(buf, CTL_TIMESTAMP_MAX, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    snprintf(buf, CTL_TIMESTAMP_MAX, "@%" PRIu64, usec / HG_USEC_PER_SEC);
  return buf;
}

/* Names come from PAM and NSS, ids from signals anyone on the bus may
 * send: keep control characters away from the terminal. */
char *ctl_printable(const char *s) {
  char *copy = g_strdup(s ? s : "-");

  for (char *p = copy; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  return copy;
}

void ctl_json_string(GString *out, const char *s) {
  if (!s) {
    g_string_append(out, "null");
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;

    if (c == '"' || c == '\\')
      g_string_append_printf(out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf(out, "\\u%04x", c);
    else
      g_string_append_c(out, (char)c);
  }
  g_string_append_c(out, '"');
}

/* Idle time rounds down, time left rounds up: "1s" left until the very
 * end, never "0s" too early. False when the daemon sent no time. */
static bool idle_sec(const CtlSession *s, hg_usec_t now, uint64_t *ret) {
  if (s->last_activity == 0)
    return false;
  *ret = hg_usec_sub(now, s->last_activity) / HG_USEC_PER_SEC;
  return true;
}

static bool expires_in_sec(const CtlSession *s, hg_usec_t now, uint64_t *ret) {
  if (s->expires_at == 0)
    return false;
  *ret = hg_usec_to_sec_ceil(hg_usec_sub(s->expires_at, now));
  return true;
}

static void json_member(GString *out, const char *key, const char *value) {
  g_string_append_printf(out, ",\"%s\":", key);
  ctl_json_string(out, value);
}

static void json_number(GString *out, const char *key, bool set,
                        uint64_t value) {
  if (set)
    g_string_append_printf(out, ",\"%s\":%" PRIu64, key, value);
  else
    g_string_append_printf(out, ",\"%s\":null", key);
}

/* What the policy says of the session, where the daemon said it. */
static void json_policy(GString *out, const CtlSession *s) {
  const struct {
    const char *key, *value;
  } strings[] = {
      {"policy", s->policy},
      {"action", s->action},
      {"warning", s->warning},
      {"stage", s->stage},
  };
  const struct {
    const char *key;
    unsigned seen;
    uint64_t value;
  } numbers[] = {
      {"lock_at", CTL_SEEN_LOCK_AT, s->lock_at},
      {"limit_at", CTL_SEEN_LIMIT_AT, s->limit_at},
      {"extensions", CTL_SEEN_EXTENSIONS, s->extensions},
      {"extensions_left", CTL_SEEN_EXTENSIONS_LEFT, s->extensions_left},
      {"warn_after_sec", CTL_SEEN_WARN_AFTER, s->warn_after_sec},
      {"expire_after_sec", CTL_SEEN_EXPIRE_AFTER, s->expire_after_sec},
      {"max_session_sec", CTL_SEEN_MAX_SESSION, s->max_session_sec},
  };

  for (size_t i = 0; i < HG_ELEMENTSOF(strings); i++)
    if (strings[i].value)
      json_member(out, strings[i].key, strings[i].value);
  for (size_t i = 0; i < HG_ELEMENTSOF(numbers); i++)
    if (s->seen & numbers[i].seen)
      json_number(out, numbers[i].key, true, numbers[i].value);
}

void ctl_json_session(GString *out, const CtlSession *s, hg_usec_t now) {
  uint64_t idle = 0, left = 0;
  bool has_idle = idle_sec(s, now, &idle);
  bool has_left = expires_in_sec(s, now, &left);

  g_string_append(out, "{\"id\":");
  ctl_json_string(out, s->id);
  json_member(out, "user", s->user);
  json_member(out, "source", s->source);
  json_member(out, "state", s->state);
  json_number(out, "created", true, s->created);
  json_number(out, "last_activity", true, s->last_activity);
  json_number(out, "warn_at", true, s->warn_at);
  json_number(out, "expires_at", true, s->expires_at);
  json_number(out, "idle_sec", has_idle, idle);
  json_number(out, "expires_in_sec", has_left, left);
  json_member(out, "path", s->path);
  json_policy(out, s);
  if (s->has_idle_known)
    g_string_append_printf(out, ",\"idle_known\":%s",
                           s->idle_known ? "true" : "false");
  if (s->idle_sources) {
    g_string_append(out, ",\"idle_sources\":[");
    for (guint i = 0; i < s->idle_sources->len; i++) {
      const CtlIdleSource *src = s->idle_sources->pdata[i];
      g_string_append(out, i ? ",{\"name\":" : "{\"name\":");
      ctl_json_string(out, src->name);
      json_member(out, "method", src->method);
      json_number(out, "last", src->last != 0, src->last);
      g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
  }
  g_string_append_c(out, '}');
}

enum { COL_ID, COL_USER, COL_SOURCE, COL_STATE, COL_IDLE, COL_EXPIRES, N_COLS };

static const char *const column_headers[N_COLS] = {
    "ID", "USER", "SOURCE", "STATE", "IDLE", "EXPIRES IN",
};

static void session_cells(const CtlSession *s, hg_usec_t now,
                          char *cells[N_COLS]) {
  char buf[CTL_DURATION_MAX];
  uint64_t sec;

  cells[COL_ID] = ctl_printable(s->id);
  cells[COL_USER] = ctl_printable(s->user);
  cells[COL_SOURCE] = ctl_printable(s->source);
  cells[COL_STATE] = ctl_printable(s->state);
  cells[COL_IDLE] =
      g_strdup(idle_sec(s, now, &sec) ? ctl_format_duration(buf, sec) : "-");
  cells[COL_EXPIRES] = g_strdup(
      expires_in_sec(s, now, &sec) ? ctl_format_duration(buf, sec) : "-");
}

/* Columns are as wide as their widest cell, counted in characters (user
 * names may be UTF-8); the last one is not padded. */
static void append_row(GString *out, char *const cells[N_COLS],
                       const size_t widths[N_COLS]) {
  for (size_t c = 0; c < N_COLS; c++) {
    g_string_append(out, cells[c]);
    if (c + 1 == N_COLS)
      break;
    for (size_t w = g_utf8_strlen(cells[c], -1); w < widths[c] + 2; w++)
      g_string_append_c(out, ' ');
  }
  g_string_append_c(out, '\n');
}

int ctl_print_table(const CtlSession *sessions, size_t n, hg_usec_t now,
                    bool legend) {
  g_autoptr(GString) out = g_string_new(NULL);
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  size_t widths[N_COLS];

  for (size_t c = 0; c < N_COLS; c++) {
    g_ptr_array_add(cells, g_strdup(column_headers[c]));
    widths[c] = strlen(column_headers[c]);
  }
  for (size_t i = 0; i < n; i++) {
    char *row[N_COLS];

    session_cells(&sessions[i], now, row);
    for (size_t c = 0; c < N_COLS; c++) {
      widths[c] = HG_MAX(widths[c], (size_t)g_utf8_strlen(row[c], -1));
      g_ptr_array_add(cells, row[c]);
    }
  }
  for (size_t i = legend ? 0 : 1; i <= n; i++)
    append_row(out, (char *const *)&cells->pdata[i * N_COLS], widths);
  if (legend)
    g_string_append_printf(out, "\n%zu session%s listed.\n", n,
                           n == 1 ? "" : "s");
  return ctl_write_out(out);
}

static void append_time(GString *out, const char *label, hg_usec_t t,
                        hg_usec_t now) {
  char stamp[CTL_TIMESTAMP_MAX], buf[CTL_DURATION_MAX];

  g_string_append_printf(out, "%13s: ", label);
  if (t == 0)
    g_string_append(out, "never\n");
  else if (t > now)
    g_string_append_printf(
        out, "%s (in %s)\n", ctl_format_timestamp(stamp, t),
        ctl_format_duration(buf, hg_usec_to_sec_ceil(t - now)));
  else
    g_string_append_printf(
        out, "%s (%s ago)\n", ctl_format_timestamp(stamp, t),
        ctl_format_duration(buf, (now - t) / HG_USEC_PER_SEC));
}

static void append_text(GString *out, const char *label, const char *value) {
  g_autofree char *printable = ctl_printable(value);

  g_string_append_printf(out, "%13s: %s\n", label, printable);
}

/* "  tty pts/3: 12s ago", one line per source; what it means when none
 * can tell idleness. */
static void append_idle_sources(GString *out, const CtlSession *s,
                                hg_usec_t now) {
  char buf[CTL_DURATION_MAX];

  if (!s->idle_sources)
    return;
  for (guint i = 0; i < s->idle_sources->len; i++) {
    const CtlIdleSource *src = s->idle_sources->pdata[i];
    g_autofree char *name = ctl_printable(src->name);
    g_autofree char *method = ctl_printable(*src->method ? src->method : "-");

    g_string_append_printf(out, "%13s  %s %s: ", i ? "" : "Idle sources:", name,
                           method);
    if (src->last == 0)
      g_string_append(out, "nothing reported yet\n");
    else
      g_string_append_printf(
          out, "last %s ago\n",
          ctl_format_duration(buf,
                              hg_usec_sub(now, src->last) / HG_USEC_PER_SEC));
  }
  if (s->idle_sources->len == 0)
    g_string_append_printf(out, "%13s: none\n", "Idle sources");
  if (s->has_idle_known && !s->idle_known)
    g_string_append_printf(out, "%13s  %s\n", "",
                           "nothing can tell this session's idleness: only "
                           "the absolute limit (MaxSessionSec) ends it");
}

/* The session's rule and where it stands; a daemon without policies sends
 * none of it, and nothing is shown. */
static void append_policy(GString *out, const CtlSession *s) {
  if (s->warning)
    append_text(out, "Warning", *s->warning ? s->warning : "none");
  if (s->stage)
    append_text(out, "Stage", s->stage);
  if (s->policy)
    append_text(out, "Policy", *s->policy ? s->policy : "(fallback)");
  if (s->action && *s->action)
    append_text(out, "Action", s->action);
}

static void append_seconds(GString *out, const char *label, uint32_t sec,
                           const char *suffix) {
  char buf[CTL_DURATION_MAX];

  g_string_append_printf(out, "%13s: %s%s\n", label,
                         ctl_format_duration(buf, sec), suffix);
}

/* The session's own limits, which its rule may set apart from the
 * fallback's; a daemon older than them sends none. */
static void append_own_limits(GString *out, const CtlSession *s) {
  if (s->seen & CTL_SEEN_WARN_AFTER)
    append_seconds(out, "Warn after", s->warn_after_sec, " idle");
  if (s->seen & CTL_SEEN_EXPIRE_AFTER)
    append_seconds(out, "Expire after", s->expire_after_sec, " idle");
  if ((s->seen & CTL_SEEN_MAX_SESSION) && s->max_session_sec == 0)
    append_text(out, "Max session", "none");
  else if (s->seen & CTL_SEEN_MAX_SESSION)
    append_seconds(out, "Max session", s->max_session_sec, "");
}

static void append_extensions(GString *out, const CtlSession *s) {
  g_string_append_printf(out, "%13s: ", "Extensions");
  if (s->extensions == 0 && s->extensions_left == 0)
    g_string_append(out, "none offered\n");
  else
    g_string_append_printf(out, "%" PRIu32 " taken, %" PRIu32 " left\n",
                           s->extensions, s->extensions_left);
}

/* The lock only for sessions that lock (lock-then-terminate), the
 * absolute limit with the person's extensions. */
static void append_limits(GString *out, const CtlSession *s, hg_usec_t now) {
  const unsigned both = CTL_SEEN_EXTENSIONS | CTL_SEEN_EXTENSIONS_LEFT;
  bool locks =
      s->lock_at != 0 || g_strcmp0(s->action, "lock-then-terminate") == 0;

  if ((s->seen & CTL_SEEN_LOCK_AT) && locks) {
    if (g_strcmp0(s->stage, "locked") == 0)
      append_text(out, "Locks at", "locked now");
    else
      append_time(out, "Locks at", s->lock_at, now);
  }
  if (s->seen & CTL_SEEN_LIMIT_AT)
    append_time(out, "Limit at", s->limit_at, now);
  if ((s->seen & both) == both)
    append_extensions(out, s);
}

int ctl_print_status(const CtlSession *s, hg_usec_t now) {
  g_autoptr(GString) out = g_string_new(NULL);

  append_text(out, "Id", s->id);
  append_text(out, "User", s->user);
  append_text(out, "Source", s->source);
  append_text(out, "State", s->state);
  append_policy(out, s);
  append_own_limits(out, s);
  append_time(out, "Created", s->created, now);
  append_time(out, "Last activity", s->last_activity, now);
  append_time(out, "Warns at", s->warn_at, now);
  append_time(out, "Expires at", s->expires_at, now);
  append_limits(out, s, now);
  append_idle_sources(out, s, now);
  append_text(out, "Object", s->path);
  return ctl_write_out(out);
}

/* Every line goes out at once: monitor's readers are often pipes, which
 * stdio would otherwise buffer. */
int ctl_write_out(const GString *text) {
  int r;

  if (fwrite(text->str, 1, text->len, stdout) == text->len &&
      fflush(stdout) == 0)
    return 0;
  r = -hg_errno_or_eio();
  fprintf(stderr, "hourglassctl: cannot write the output: %s\n", strerror(-r));
  return r;
}
