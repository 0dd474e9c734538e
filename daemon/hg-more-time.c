/* Requests for more time, told; see hg-more-time.h. */
#include "hg-more-time.h"

#include <inttypes.h>

#include "hg-log.h"
#include "hg-macros.h"

static const char *const names[] = {
    [HG_MORE_TIME_GRANTED] = "granted",
    [HG_MORE_TIME_NOT_OFFERED] = "not-offered",
    [HG_MORE_TIME_NO_LIMIT] = "no-limit",
    [HG_MORE_TIME_USED_UP] = "used-up",
    [HG_MORE_TIME_TOO_EARLY] = "too-early",
    [HG_MORE_TIME_WAITING] = "waiting",
    [HG_MORE_TIME_FIXED] = "fixed-end",
};

const char *hg_more_time_to_string(HgMoreTime answer) {
  return (unsigned)answer < HG_ELEMENTSOF(names) ? names[answer] : NULL;
}

char *hg_more_time_explain(const HgSession *s, HgMoreTime answer) {
  const HgLimits *l = hg_session_get_limits(s);
  hg_usec_t leads[HG_WARN_BEFORE_MAX];

  switch (answer) {
  case HG_MORE_TIME_GRANTED:
    return NULL;
  case HG_MORE_TIME_NOT_OFFERED:
    return g_strdup("This session's policy gives no more time");
  case HG_MORE_TIME_NO_LIMIT:
    return g_strdup("This session has no time limit to extend");
  case HG_MORE_TIME_USED_UP:
    return g_strdup_printf("All %u extensions of this session are used",
                           l->max_extensions);
  case HG_MORE_TIME_TOO_EARLY:
    (void)hg_limits_warn_before(l, leads);
    return g_strdup_printf("More time can be asked for only in the last "
                           "%" PRIu64 " s before the session's time is up",
                           hg_usec_to_sec_ceil(leads[0]));
  case HG_MORE_TIME_WAITING:
    return g_strdup("Someone is waiting for this machine: no more time can "
                    "be given");
  case HG_MORE_TIME_FIXED:
    return g_strdup(hg_session_get_verdict(s)->hard_reason ==
                            HG_END_REASON_CLOSING_TIME
                        ? "The session ends at closing time: no more time "
                          "can be given"
                        : "Today's time is used up: no more time can be "
                          "given");
  }
  return g_strdup("Refused");
}

void hg_more_time_log(const HgSession *s, HgMoreTime answer, const char *how) {
  const HgLimits *l = hg_session_get_limits(s);
  g_autofree char *f_session =
      g_strconcat("HG_SESSION=", hg_session_get_id(s), NULL);
  g_autofree char *f_user =
      g_strconcat("HG_USER=", hg_session_get_user(s), NULL);
  g_autofree char *f_answer =
      g_strconcat("HG_MORE_TIME=", hg_more_time_to_string(answer), NULL);
  g_autofree char *why = hg_more_time_explain(s, answer);
  const char *fields[] = {f_session, f_user, f_answer, NULL};

  if (answer == HG_MORE_TIME_GRANTED)
    hg_log_fields(LOG_NOTICE, fields,
                  "Session %s of %s: %" PRIu64 " s more, asked for %s "
                  "(extension %u of %u)",
                  hg_session_get_id(s), hg_session_get_user(s),
                  hg_usec_to_sec_ceil(l->extend_by), how,
                  hg_session_get_times(s)->n_extended, l->max_extensions);
  else
    hg_log_fields(LOG_INFO, fields,
                  "Session %s of %s: more time asked for %s, refused: %s",
                  hg_session_get_id(s), hg_session_get_user(s), how, why);
}
