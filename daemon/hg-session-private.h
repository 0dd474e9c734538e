/* The session's fields, for hg-session.c and the registry only. */
#pragma once

#include "hg-session.h"

struct HgSession {
  unsigned n_ref;
  char id[HG_SESSION_ID_LEN + 1];
  char *user;
  uid_t uid;
  HgSessionSource source;

  HgPolicyTimes times;
  HgVerdict verdict;
  unsigned n_live; /* holders keeping the page live (event streams) */

  bool has_token;
  uint8_t token_hash[HG_TOKEN_HASH_LEN];
  uid_t peer_uid;
  char *logind_id;
  char *policy;    /* its rule's name, NULL: the fallback */
  HgLimits limits; /* its rule's limits */
  bool restored;
  HgSourceReport sources[_HG_INPUT_SOURCE_MAX];

  size_t deadline_idx; /* slot in the registry's deadline heap */
};

/* A new session with a fresh random id (or the given one: restored), or
 * NULL if the kernel has no randomness to give (errno set). */
HgSession *hg_session_new(HgSessionSource source, const char *user, uid_t uid,
                          const char *id, hg_usec_t now);
