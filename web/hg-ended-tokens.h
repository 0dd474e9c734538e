/* For a few minutes after a web session ended, the hash of its token and
 * the reason, so that a late request from its page is told why (401
 * session-ended) rather than just "no session". Bounded in count and age;
 * the oldest entries go first. */
#pragma once

#include <glib.h>

#include "hg-registry.h"

#define HG_ENDED_TOKENS_MAX 4096
#define HG_ENDED_TOKENS_TTL (5 * 60 * HG_USEC_PER_SEC)

typedef struct HgEndedTokens HgEndedTokens;

/* Listens to the registry for ended sessions. */
HgEndedTokens *hg_ended_tokens_new(HgRegistry *reg);
HgEndedTokens *hg_ended_tokens_free(HgEndedTokens *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgEndedTokens, hg_ended_tokens_free)

/* The reason the session of this token ended, or HG_END_REASON_NONE. */
HgEndReason hg_ended_tokens_lookup(HgEndedTokens *t,
                                   const uint8_t hash[HG_TOKEN_HASH_LEN]);
