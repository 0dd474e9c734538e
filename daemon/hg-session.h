/* A session: one signed-in person, on the web page or at a desktop. Its
 * times and state are written only by the registry (hg-registry.h); every
 * other module reads them here. Reference-counted: a listener may keep one
 * after the session ended to finish its own work. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hg-bus-names.h"
#include "hg-peer.h"
#include "hg-policy.h"

#define HG_TOKEN_HASH_LEN 32 /* SHA-256 */

typedef enum {
  HG_SESSION_SOURCE_WEB,
  HG_SESSION_SOURCE_DESKTOP,
  _HG_SESSION_SOURCE_MAX,
  _HG_SESSION_SOURCE_INVALID = -1,
} HgSessionSource;

const char *hg_session_source_to_string(HgSessionSource source);
HgSessionSource hg_session_source_from_string(const char *s);

typedef struct HgSession HgSession;

HgSession *hg_session_ref(HgSession *s);
void hg_session_unref(HgSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HgSession, hg_session_unref)

const char *hg_session_get_id(const HgSession *s);
const char *hg_session_get_user(const HgSession *s);
uid_t hg_session_get_uid(const HgSession *s);
HgSessionSource hg_session_get_source(const HgSession *s);
HgSessionState hg_session_get_state(const HgSession *s);
HgEndReason hg_session_get_end_reason(const HgSession *s);
bool hg_session_is_ended(const HgSession *s);

/* CLOCK_BOOTTIME µs. */
hg_usec_t hg_session_get_created(const HgSession *s);
hg_usec_t hg_session_get_last_activity(const HgSession *s);
hg_usec_t hg_session_get_last_alive(const HgSession *s);
/* The SHA-256 of the session's cookie token, NULL for desktop sessions. */
const uint8_t *hg_session_get_token_hash(const HgSession *s);
/* The policy's verdict as of the last evaluation: warn_at, expire_at... */
const HgVerdict *hg_session_get_verdict(const HgSession *s);
const HgPolicyTimes *hg_session_get_times(const HgSession *s);
/* Web sessions: the local uid that signed in (its cookie is good from that
 * uid only), HG_PEER_UID_UNKNOWN when the kernel did not tell. */
uid_t hg_session_get_peer_uid(const HgSession *s);
/* Desktop sessions: their logind session; NULL for web sessions. */
const char *hg_session_get_logind_id(const HgSession *s);
/* Taken back from a state file after a restart, not created now. */
bool hg_session_is_restored(const HgSession *s);
