/* hourglassctl extend: a person's more time on the absolute limit
 * (RequestMoreTime) or an operator's extension, which counts as activity
 * (ExtendSession); and which of the two.
 *
 * The rule, unless --own or --operator says: RequestMoreTime when the
 * session is the caller's own (its user is the name of the caller's uid)
 * and its policy offers extensions (ExtensionsLeft > 0, or Extensions > 0:
 * offered and used up, so that the daemon's refusal says so instead of a
 * silent ExtendSession that cannot move the limit); ExtendSession
 * otherwise, as before policies existed. */
#include <inttypes.h>
#include <stdio.h>

#include "hg-ctl.h"
#include "hg-macros.h"

static bool offers_more_time(const CtlSession *s) {
  return s->extensions_left > 0 || s->extensions > 0;
}

static int choose_path(sd_bus *bus, const CtlOptions *o, const char *id,
                       CtlExtendPath *ret) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  g_auto(CtlSession) s = {0};
  g_autofree char *self = NULL;
  int r;

  if (o->extend_path != CTL_EXTEND_AUTO) {
    *ret = o->extend_path;
    return 0;
  }
  r = ctl_session_get(bus, id, &s, &error);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_EXTEND, id, &error, r);
  /* A uid without a name owns no session by that name. */
  (void)ctl_self_name(&self);
  *ret = ctl_session_is_own(&s, self) && offers_more_time(&s)
             ? CTL_EXTEND_OWN
             : CTL_EXTEND_OPERATOR;
  return 0;
}

static void append_grant_text(GString *out, uint64_t limit_at, uint32_t left) {
  hg_usec_t now = hg_now(CLOCK_REALTIME);
  char stamp[CTL_TIMESTAMP_MAX], buf[CTL_DURATION_MAX];

  g_string_append(out, "More time granted: ");
  if (limit_at == 0)
    g_string_append(out, "the session has no limit now");
  else
    g_string_append_printf(
        out, "the limit is now %s (in %s)",
        ctl_format_timestamp(stamp, limit_at),
        ctl_format_duration(buf,
                            hg_usec_to_sec_ceil(hg_usec_sub(limit_at, now))));
  g_string_append_printf(out, "; %" PRIu32 " extension%s left.\n", left,
                         left == 1 ? "" : "s");
}

static int print_grant(const CtlOptions *o, const char *id, uint64_t limit_at,
                       uint32_t left) {
  g_autoptr(GString) out = g_string_new(NULL);

  if (!o->json) {
    append_grant_text(out, limit_at, left);
    return ctl_write_out(out);
  }
  g_string_append(out, "{\"id\":");
  ctl_json_string(out, id);
  g_string_append_printf(
      out, ",\"limit_at\":%" PRIu64 ",\"extensions_left\":%" PRIu32 "}\n",
      limit_at, left);
  return ctl_write_out(out);
}

/* A refusal is org.hourglass1.Error.MoreTimeRefused with the daemon's
 * reason, which ctl_log_error() prints as it is. */
static int request_more_time(sd_bus *bus, const CtlOptions *o, const char *id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
  uint64_t limit_at;
  uint32_t left;
  int r;

  r = ctl_call_manager(bus, "RequestMoreTime", id, &error, &reply);
  if (r >= 0)
    r = sd_bus_message_read(reply, "tu", &limit_at, &left);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_MORE_TIME, id, &error, r);
  return print_grant(o, id, limit_at, left);
}

static int extend_session(sd_bus *bus, const CtlOptions *o, const char *id) {
  _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
  int r;

  r = ctl_call_manager(bus, "ExtendSession", id, &error, NULL);
  if (r < 0)
    return ctl_log_error(o, CTL_OP_EXTEND, id, &error, r);
  return 0;
}

int ctl_extend(sd_bus *bus, const CtlOptions *o, const char *id) {
  CtlExtendPath path = CTL_EXTEND_OPERATOR;
  int r;

  r = choose_path(bus, o, id, &path);
  if (r < 0)
    return r;
  if (path == CTL_EXTEND_OWN)
    return request_more_time(bus, o, id);
  return extend_session(bus, o, id);
}
