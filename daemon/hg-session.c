/* Session objects and their read-only accessors. */
#include "hg-session-private.h"

#include "hg-peer.h"

#include "hg-macros.h"
#include "hg-prioq.h"
#include "hg-secure.h"

static const char *const source_names[_HG_SESSION_SOURCE_MAX] = {
    [HG_SESSION_SOURCE_WEB] = "web",
    [HG_SESSION_SOURCE_DESKTOP] = "desktop",
};

const char *hg_session_source_to_string(HgSessionSource source) {
  if (source < 0 || source >= _HG_SESSION_SOURCE_MAX)
    return NULL;
  return source_names[source];
}

HgSessionSource hg_session_source_from_string(const char *s) {
  for (int i = 0; s && i < _HG_SESSION_SOURCE_MAX; i++)
    if (strcmp(source_names[i], s) == 0)
      return (HgSessionSource)i;
  return _HG_SESSION_SOURCE_INVALID;
}

static const char *const input_source_names[_HG_INPUT_SOURCE_MAX] = {
    [HG_INPUT_SOURCE_PAGE] = "page",
    [HG_INPUT_SOURCE_LOGIND] = "logind",
    [HG_INPUT_SOURCE_TTY] = "tty",
    [HG_INPUT_SOURCE_AGENT] = "agent",
    [HG_INPUT_SOURCE_INHIBITOR] = "inhibitor",
};

const char *hg_input_source_to_string(HgInputSource source) {
  if (source < 0 || source >= _HG_INPUT_SOURCE_MAX)
    return NULL;
  return input_source_names[source];
}

HgInputSource hg_input_source_from_string(const char *s) {
  for (int i = 0; s && i < _HG_INPUT_SOURCE_MAX; i++)
    if (strcmp(input_source_names[i], s) == 0)
      return (HgInputSource)i;
  return _HG_INPUT_SOURCE_INVALID;
}

HgSession *hg_session_new(HgSessionSource source, const char *user, uid_t uid,
                          const char *id, hg_usec_t now) {
  uint8_t raw[HG_SESSION_ID_LEN / 2];
  HgSession *s;
  int r;

  r = id ? 0 : hg_random_bytes(raw, sizeof(raw));
  if (r < 0) {
    errno = -r;
    return NULL;
  }

  s = g_new0(HgSession, 1);
  s->n_ref = 1;
  if (id)
    g_strlcpy(s->id, id, sizeof(s->id));
  else
    hg_hex_encode(raw, sizeof(raw), s->id);
  s->peer_uid = HG_PEER_UID_UNKNOWN;
  s->user = g_strdup(user);
  s->uid = uid;
  s->source = source;
  s->times = (HgPolicyTimes){
      .created = now,
      .last_activity = now,
      .last_alive = now,
      .watch_liveness = source == HG_SESSION_SOURCE_WEB,
      .lockable = source == HG_SESSION_SOURCE_DESKTOP,
  };
  s->deadline_idx = HG_PRIOQ_IDX_NULL;
  return s;
}

HgSession *hg_session_ref(HgSession *s) {
  g_return_val_if_fail(s && s->n_ref > 0, NULL);
  s->n_ref++;
  return s;
}

void hg_session_unref(HgSession *s) {
  if (!s)
    return;
  g_return_if_fail(s->n_ref > 0);
  if (--s->n_ref > 0)
    return;
  explicit_bzero(s->token_hash, sizeof(s->token_hash));
  for (int i = 0; i < _HG_INPUT_SOURCE_MAX; i++)
    g_free(s->sources[i].method);
  g_free(s->user);
  g_free(s->logind_id);
  g_free(s->policy);
  g_free(s);
}

const char *hg_session_get_id(const HgSession *s) { return s->id; }
const char *hg_session_get_user(const HgSession *s) { return s->user; }
uid_t hg_session_get_uid(const HgSession *s) { return s->uid; }
HgSessionSource hg_session_get_source(const HgSession *s) { return s->source; }
HgSessionState hg_session_get_state(const HgSession *s) {
  return s->verdict.state;
}
HgEndReason hg_session_get_end_reason(const HgSession *s) {
  return s->verdict.reason;
}
bool hg_session_is_ended(const HgSession *s) {
  return s->verdict.state == HG_SESSION_STATE_ENDED;
}
hg_usec_t hg_session_get_created(const HgSession *s) {
  return s->times.created;
}
hg_usec_t hg_session_get_last_activity(const HgSession *s) {
  return s->times.last_activity;
}
hg_usec_t hg_session_get_last_alive(const HgSession *s) {
  return s->times.last_alive;
}
const uint8_t *hg_session_get_token_hash(const HgSession *s) {
  return s->has_token ? s->token_hash : NULL;
}
const HgVerdict *hg_session_get_verdict(const HgSession *s) {
  return &s->verdict;
}
const HgPolicyTimes *hg_session_get_times(const HgSession *s) {
  return &s->times;
}
uid_t hg_session_get_peer_uid(const HgSession *s) { return s->peer_uid; }
const char *hg_session_get_logind_id(const HgSession *s) {
  return s->logind_id;
}
bool hg_session_is_restored(const HgSession *s) { return s->restored; }
const char *hg_session_get_policy(const HgSession *s) { return s->policy; }
const HgLimits *hg_session_get_limits(const HgSession *s) { return &s->limits; }
const HgSourceReport *hg_session_get_report(const HgSession *s,
                                            HgInputSource source) {
  g_return_val_if_fail(source >= 0 && source < _HG_INPUT_SOURCE_MAX, NULL);
  return &s->sources[source];
}
