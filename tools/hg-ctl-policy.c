/* hourglassctl policy explain: which [Policy NAME] rule hourglassd would
 * apply to a user (Manager.ExplainPolicy), for one source or both, and the
 * limits that result, for people and for scripts. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-ctl.h"
#include "hg-macros.h"

static const char *const all_sources[] = {"web", "desktop"};

bool ctl_policy_source_is_valid(const char *source) {
  for (size_t i = 0; i < HG_ELEMENTSOF(all_sources); i++)
    if (strcmp(source, all_sources[i]) == 0)
      return true;
  return false;
}

/* One limit of the answer, by its configuration key. Values of a type
 * this version does not know are left out: additions must not break it. */
typedef enum { LIMIT_NUMBER, LIMIT_TEXT, LIMIT_LIST } LimitKind;

typedef struct {
  char *key;
  LimitKind kind;
  uint32_t number;
  char *text;
  GArray *list; /* uint32_t */
} Limit;

static void limit_free(gpointer p) {
  Limit *l = p;

  g_free(l->key);
  g_free(l->text);
  if (l->list)
    g_array_unref(l->list);
  g_free(l);
}

/* What the daemon answered for one source. */
typedef struct {
  const char *source; /* as asked */
  char *policy;       /* "" for the fallback */
  char *file;
  uint32_t line; /* 0 for the fallback */
  char **groups;
  GPtrArray *limits; /* Limit, in the daemon's order */
} Explanation;

static void explanation_clear(Explanation *e) {
  g_free(e->policy);
  g_free(e->file);
  g_strfreev(e->groups);
  if (e->limits)
    g_ptr_array_unref(e->limits);
  *e = (Explanation){0};
}

/* --- the call ---------------------------------------------------------- */

static int append_who(sd_bus_message *m, const char *key, const char *value) {
  return value ? sd_bus_message_append(m, "{sv}", key, "s", value) : 0;
}

static int call_explain(sd_bus *bus, const CtlOptions *o, const char *user,
                        const char *source, sd_bus_error *error,
                        sd_bus_message **ret_reply) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
  int r;

  r = ctl_new_manager_call(bus, "ExplainPolicy", &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "s", user);
  if (r >= 0)
    r = sd_bus_message_open_container(m, 'a', "{sv}");
  if (r >= 0)
    r = append_who(m, "source", source);
  if (r >= 0)
    r = append_who(m, "seat", o->seat);
  if (r >= 0)
    r = append_who(m, "service", o->service);
  if (r >= 0)
    r = sd_bus_message_close_container(m);
  if (r < 0)
    return r;
  return sd_bus_call(bus, m, 0, error, ret_reply);
}

/* --- reading the answer ------------------------------------------------ */

static int read_list(sd_bus_message *m, Limit *l) {
  uint32_t v;
  int r;

  l->kind = LIMIT_LIST;
  l->list = g_array_new(false, false, sizeof(uint32_t));
  r = sd_bus_message_enter_container(m, 'v', "au");
  if (r >= 0)
    r = sd_bus_message_enter_container(m, 'a', "u");
  while (r >= 0 && (r = sd_bus_message_read(m, "u", &v)) > 0)
    g_array_append_val(l->list, v);
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  if (r >= 0)
    r = sd_bus_message_exit_container(m);
  return r;
}

/* 1 when read, 0 when of a type this version does not know (left
 * unread), or a negative errno. */
static int read_value(sd_bus_message *m, Limit *l) {
  const char *contents = NULL, *text;
  int r;

  r = sd_bus_message_peek_type(m, NULL, &contents);
  if (r < 0)
    return r;
  if (g_strcmp0(contents, "u") == 0) {
    l->kind = LIMIT_NUMBER;
    r = sd_bus_message_read(m, "v", "u", &l->number);
  } else if (g_strcmp0(contents, "au") == 0)
    r = read_list(m, l);
  else if (g_strcmp0(contents, "s") == 0) {
    l->kind = LIMIT_TEXT;
    r = sd_bus_message_read(m, "v", "s", &text);
    if (r >= 0)
      l->text = g_strdup(text);
  } else
    return 0;
  return r < 0 ? r : 1;
}

/* One {sv} entry, added to out when its type is known. */
static int read_limit(sd_bus_message *m, GPtrArray *out) {
  Limit *l = g_new0(Limit, 1);
  const char *key;
  int r;

  g_ptr_array_add(out, l);
  r = sd_bus_message_read(m, "s", &key);
  if (r < 0)
    return r;
  l->key = g_strdup(key);
  r = read_value(m, l);
  if (r == 0) {
    g_ptr_array_remove_index(out, out->len - 1);
    r = sd_bus_message_skip(m, "v");
  }
  return r;
}

static int read_limits(sd_bus_message *m, Explanation *e) {
  int r;

  e->limits = g_ptr_array_new_with_free_func(limit_free);
  r = sd_bus_message_enter_container(m, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    r = read_limit(m, e->limits);
    if (r >= 0)
      r = sd_bus_message_exit_container(m);
  }
  return r < 0 ? r : sd_bus_message_exit_container(m);
}

static int read_explanation(sd_bus_message *m, Explanation *e) {
  const char *policy, *file;
  int r;

  r = sd_bus_message_read(m, "ssu", &policy, &file, &e->line);
  if (r < 0)
    return r;
  e->policy = g_strdup(policy);
  e->file = g_strdup(file);
  r = sd_bus_message_read_strv(m, &e->groups);
  if (r < 0)
    return r;
  return read_limits(m, e);
}

static int explain_one(sd_bus *bus, const CtlOptions *o, const char *user,
                       Explanation *e) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  int r;

  r = call_explain(bus, o, user, e->source, &error, &reply);
  if (r >= 0)
    r = read_explanation(reply, e);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ, user, &error, r);
  return 0;
}

/* --- for people -------------------------------------------------------- */

static bool is_seconds(const Limit *l) {
  return g_str_has_suffix(l->key, "Sec");
}

static void append_number(GString *out, const Limit *l, uint32_t v) {
  char buf[CTL_DURATION_MAX];

  g_string_append_printf(out, "%" PRIu32, v);
  if (is_seconds(l) && v > 0)
    g_string_append_printf(out, " (%s)", ctl_format_duration(buf, v));
}

/* Lead times as the configuration takes them: "600;60". */
static void append_list(GString *out, const Limit *l) {
  if (l->list->len == 0)
    g_string_append_c(out, '-');
  for (guint i = 0; i < l->list->len; i++)
    g_string_append_printf(out, "%s%" PRIu32, i ? ";" : "",
                           g_array_index(l->list, uint32_t, i));
}

static void append_limit_text(GString *out, const Limit *l, size_t width) {
  g_autofree char *key = ctl_printable(l->key);
  g_autofree char *text = NULL;

  g_string_append_printf(out, "  %-*s  ", (int)width, key);
  if (l->kind == LIMIT_NUMBER)
    append_number(out, l, l->number);
  else if (l->kind == LIMIT_LIST)
    append_list(out, l);
  else if (!l->text || !*l->text) /* AllowedHours: always open */
    g_string_append_c(out, '-');
  else {
    text = ctl_printable(l->text);
    g_string_append(out, text);
  }
  g_string_append_c(out, '\n');
}

/* " (seat seat1, service sshd)": what was asked beyond the source. */
static void append_asked(GString *out, const CtlOptions *o) {
  g_autofree char *seat = o->seat ? ctl_printable(o->seat) : NULL;
  g_autofree char *service = o->service ? ctl_printable(o->service) : NULL;

  if (!seat && !service)
    return;
  g_string_append(out, " (");
  if (seat)
    g_string_append_printf(out, "seat %s%s", seat, service ? ", " : "");
  if (service)
    g_string_append_printf(out, "service %s", service);
  g_string_append_c(out, ')');
}

static void append_heading(GString *out, const CtlOptions *o,
                           const Explanation *e) {
  g_autofree char *file = ctl_printable(e->file);
  g_autofree char *policy = ctl_printable(e->policy);

  g_string_append(out, e->source);
  append_asked(out, o);
  if (*e->policy)
    g_string_append_printf(out, ": [Policy %s] at %s:%" PRIu32 "\n", policy,
                           file, e->line);
  else
    g_string_append_printf(
        out, ": the fallback ([Timeouts] and [Desktop] in %s)\n", file);
}

static void append_groups(GString *out, const char *user, char **groups) {
  g_autofree char *name = ctl_printable(user);

  g_string_append_printf(out, "User %s, groups:", name);
  for (char **g = groups; g && *g; g++) {
    g_autofree char *group = ctl_printable(*g);
    g_string_append_printf(out, " %s", group);
  }
  if (!groups || !*groups)
    g_string_append(out, " none");
  g_string_append_c(out, '\n');
}

static int print_text(const CtlOptions *o, const char *user,
                      const Explanation *e, size_t n) {
  g_autoptr(GString) out = g_string_new(NULL);

  append_groups(out, user, e[0].groups);
  for (size_t i = 0; i < n; i++) {
    size_t width = 0;

    for (guint k = 0; k < e[i].limits->len; k++)
      width = HG_MAX(width, strlen(((Limit *)e[i].limits->pdata[k])->key));
    g_string_append_c(out, '\n');
    append_heading(out, o, &e[i]);
    for (guint k = 0; k < e[i].limits->len; k++)
      append_limit_text(out, e[i].limits->pdata[k], width);
  }
  return ctl_write_out(out);
}

/* --- for scripts ------------------------------------------------------- */

static void json_limit(GString *out, const Limit *l) {
  ctl_json_string(out, l->key);
  g_string_append_c(out, ':');
  if (l->kind == LIMIT_NUMBER)
    g_string_append_printf(out, "%" PRIu32, l->number);
  else if (l->kind == LIMIT_TEXT)
    ctl_json_string(out, l->text);
  else {
    g_string_append_c(out, '[');
    for (guint i = 0; i < l->list->len; i++)
      g_string_append_printf(out, "%s%" PRIu32, i ? "," : "",
                             g_array_index(l->list, uint32_t, i));
    g_string_append_c(out, ']');
  }
}

static void json_explanation(GString *out, const CtlOptions *o,
                             const Explanation *e) {
  g_string_append(out, "{\"source\":");
  ctl_json_string(out, e->source);
  g_string_append(out, ",\"seat\":");
  ctl_json_string(out, o->seat);
  g_string_append(out, ",\"service\":");
  ctl_json_string(out, o->service);
  g_string_append(out, ",\"policy\":");
  ctl_json_string(out, e->policy);
  g_string_append(out, ",\"file\":");
  ctl_json_string(out, e->file);
  g_string_append_printf(out, ",\"line\":%" PRIu32 ",\"limits\":{", e->line);
  for (guint k = 0; k < e->limits->len; k++) {
    if (k > 0)
      g_string_append_c(out, ',');
    json_limit(out, e->limits->pdata[k]);
  }
  g_string_append(out, "}}");
}

static int print_json(const CtlOptions *o, const char *user,
                      const Explanation *e, size_t n) {
  g_autoptr(GString) out = g_string_new("{\"user\":");

  ctl_json_string(out, user);
  g_string_append(out, ",\"groups\":[");
  for (char **g = e[0].groups; g && *g; g++) {
    if (g != e[0].groups)
      g_string_append_c(out, ',');
    ctl_json_string(out, *g);
  }
  g_string_append(out, "],\"sources\":[");
  for (size_t i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    json_explanation(out, o, &e[i]);
  }
  g_string_append(out, "]}\n");
  return ctl_write_out(out);
}

/* Without --source, both: a user may sign in on the page and at the
 * desktop, and the rules may differ. Groups are the first answer's (the
 * same lookup, moments apart). Nothing is printed unless every answer
 * came. */
int ctl_policy_explain(sd_bus *bus, const CtlOptions *o, const char *user) {
  Explanation e[HG_ELEMENTSOF(all_sources)] = {{0}};
  size_t n = 0;
  int r = 0;

  if (o->source)
    e[n++].source = o->source;
  else
    for (size_t i = 0; i < HG_ELEMENTSOF(all_sources); i++)
      e[n++].source = all_sources[i];
  for (size_t i = 0; r >= 0 && i < n; i++)
    r = explain_one(bus, o, user, &e[i]);
  if (r >= 0)
    r = o->json ? print_json(o, user, e, n) : print_text(o, user, e, n);
  for (size_t i = 0; i < n; i++)
    explanation_clear(&e[i]);
  return r;
}
