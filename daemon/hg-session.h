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

/* Who tells hourglass of a session's input: what `hourglassctl status`
 * lists, and the facts behind "why does this session not time out". */
typedef enum {
  HG_INPUT_SOURCE_PAGE,      /* the page script's pings */
  HG_INPUT_SOURCE_LOGIND,    /* logind's idle hint */
  HG_INPUT_SOURCE_TTY,       /* the last input on the session's tty */
  HG_INPUT_SOURCE_AGENT,     /* hourglass-agent, by its method */
  HG_INPUT_SOURCE_INHIBITOR, /* an idle lock (a video playing) */
  _HG_INPUT_SOURCE_MAX,
  _HG_INPUT_SOURCE_INVALID = -1,
} HgInputSource;

const char *hg_input_source_to_string(HgInputSource source);
HgInputSource hg_input_source_from_string(const char *s);

/* What one source last said of a session. */
typedef struct {
  bool present;
  char *method;   /* how it sees input ("pts/3", "x11-sync"...), or NULL */
  hg_usec_t last; /* CLOCK_BOOTTIME of its last report, 0 for none yet */
} HgSourceReport;

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
/* The policy rule it matched at sign-in (NULL: the fallback), and that
 * rule's limits as the configuration now says. */
const char *hg_session_get_policy(const HgSession *s);
const HgLimits *hg_session_get_limits(const HgSession *s);
/* What a source said of the session; present is false if it never did. */
const HgSourceReport *hg_session_get_report(const HgSession *s,
                                            HgInputSource source);
