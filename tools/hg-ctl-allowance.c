/* hourglassctl allowance: what a user used of today's allowance and what
 * is left (Manager.GetAllowance), and an operator's extra time for today
 * (GrantAllowance), for people and for scripts. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hg-ctl.h"
#include "hg-macros.h"

/* GrantAllowance's bound: a grant is a day at most. */
#define GRANT_MAX_SEC 86400

/* What GetAllowance answered, in seconds. */
typedef struct {
  uint64_t used, granted, left; /* left: UINT64_MAX when no allowance is set */
  bool spent;
} Allowance;

int ctl_allowance_parse_grant(const char *arg, uint32_t *ret) {
  uint64_t v = 0;

  if (!*arg || strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 6)
    return -EINVAL;
  for (const char *p = arg; *p; p++)
    v = v * 10 + (uint64_t)(*p - '0');
  if (v == 0 || v > GRANT_MAX_SEC)
    return -EINVAL;
  *ret = (uint32_t)v;
  return 0;
}

static int append_who(sd_bus_message *m, const char *key, const char *value) {
  return value ? sd_bus_message_append(m, "{sv}", key, "s", value) : 0;
}

static int call_get(sd_bus *bus, const CtlOptions *o, const char *user,
                    Allowance *ret, sd_bus_error *error) {
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
  int spent = 0, r;

  r = ctl_new_manager_call(bus, "GetAllowance", &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "s", user);
  if (r >= 0)
    r = sd_bus_message_open_container(m, 'a', "{sv}");
  if (r >= 0)
    r = append_who(m, "source", o->source);
  if (r >= 0)
    r = append_who(m, "seat", o->seat);
  if (r >= 0)
    r = append_who(m, "service", o->service);
  if (r >= 0)
    r = sd_bus_message_close_container(m);
  if (r >= 0)
    r = sd_bus_call(bus, m, 0, error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "tttb", &ret->used, &ret->granted,
                            &ret->left, &spent);
  ret->spent = spent;
  return r;
}

static void append_duration(GString *out, const char *label, uint64_t sec) {
  char buf[CTL_DURATION_MAX];

  g_string_append_printf(out, "%-8s %s\n", label,
                         ctl_format_duration(buf, sec));
}

static int print_text(const char *user, const Allowance *a) {
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree char *name = ctl_printable(user);

  g_string_append_printf(out, "User %s, today:\n", name);
  append_duration(out, "Used", a->used);
  append_duration(out, "Granted", a->granted);
  if (a->left == UINT64_MAX)
    g_string_append(out, "Left     unlimited (no DailyAllowanceSec)\n");
  else
    append_duration(out, "Left", a->left);
  g_string_append_printf(out, "Spent    %s\n",
                         a->spent ? "yes (today's record was damaged: only "
                                    "granted time is left)"
                                  : "no");
  return ctl_write_out(out);
}

static int print_json(const char *user, const Allowance *a) {
  g_autoptr(GString) out = g_string_new("{\"user\":");

  ctl_json_string(out, user);
  g_string_append_printf(out,
                         ",\"used_sec\":%" PRIu64 ",\"granted_sec\":%" PRIu64,
                         a->used, a->granted);
  if (a->left == UINT64_MAX)
    g_string_append(out, ",\"left_sec\":null");
  else
    g_string_append_printf(out, ",\"left_sec\":%" PRIu64, a->left);
  g_string_append_printf(out, ",\"spent\":%s}\n", a->spent ? "true" : "false");
  return ctl_write_out(out);
}

int ctl_allowance_show(sd_bus *bus, const CtlOptions *o, const char *user) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  Allowance a = {0};
  int r;

  r = call_get(bus, o, user, &a, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_READ_ALLOWANCE, user, &error, r);
  return o->json ? print_json(user, &a) : print_text(user, &a);
}

static int print_granted(const CtlOptions *o, const char *user,
                         uint64_t granted) {
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree char *name = NULL;
  char buf[CTL_DURATION_MAX];

  if (o->json) {
    g_string_append(out, "{\"user\":");
    ctl_json_string(out, user);
    g_string_append_printf(out, ",\"granted_sec\":%" PRIu64 "}\n", granted);
  } else {
    name = ctl_printable(user);
    g_string_append_printf(out, "User %s, granted today in all: %s\n", name,
                           ctl_format_duration(buf, granted));
  }
  return ctl_write_out(out);
}

int ctl_allowance_grant(sd_bus *bus, const CtlOptions *o, const char *user) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
  uint64_t granted = 0;
  int r;

  r = ctl_new_manager_call(bus, "GrantAllowance", &m);
  if (r >= 0)
    r = sd_bus_message_append(m, "su", user, o->grant_sec);
  if (r >= 0)
    r = sd_bus_call(bus, m, 0, &error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "t", &granted);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_GRANT, user, &error, r);
  return print_granted(o, user, granted);
}
