/* The state codec: a live session <-> the bytes of its state file, so that
 * a restart or a crash of hourglassd keeps every session. Pure: no I/O, no
 * clock; the caller says which boot the bytes belong to. hg-state-store.h
 * reads and writes the files.
 *
 * A file is UTF-8 text, one KEY=value per line:
 *
 *   HOURGLASS_STATE=1            the format's version, first
 *   BOOT_ID=<32 hex>             the boot the times belong to, second
 *   ID=... USER=... ...          the session (see HgStateSession)
 *   CHECKSUM=<64 hex>            SHA-256 of every byte before this line, last
 *
 * Times are CLOCK_BOOTTIME µs, meaningful in their boot only. A file of
 * another version or boot, a truncated or corrupt one, is refused with a
 * reason: the daemon starts without that session, never with a session
 * that lives longer than it would have. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "hg-policy.h"
#include "hg-session.h"

#define HG_STATE_VERSION 1
#define HG_STATE_MAX_SIZE (16 * 1024)
#define HG_STATE_BOOT_ID_LEN 32

/* Everything a session needs to be taken back. */
typedef struct {
  char id[HG_SESSION_ID_LEN + 1];
  char *user;
  uid_t uid;
  HgSessionSource source;
  bool has_token;
  uint8_t token_hash[HG_TOKEN_HASH_LEN];
  HgSessionState state; /* active or warning */
  HgPolicyTimes times;  /* live is not kept: no stream survives a restart */
  /* web: the local uid that signed in (HG_PEER_UID_UNKNOWN if unknown) */
  uid_t peer_uid;
  /* desktop: the logind session (NULL for web sessions) */
  char *logind_id;
  /* the policy rule it matched at sign-in, NULL: the fallback */
  char *policy;
} HgStateSession;

void hg_state_session_clear(HgStateSession *s);

/* The bytes of s for boot boot_id (32 lower-case hex digits). */
char *hg_state_encode(const HgStateSession *s, const char *boot_id,
                      size_t *ret_len);

/* 0 and *ret filled (clear it), or an error with the reason in *ret_why
 * (free it):
 *   -EPROTONOSUPPORT  another version
 *   -ESTALE           another boot
 *   -EBADMSG          truncated, or its checksum does not match
 *   -EINVAL           anything else malformed */
int hg_state_decode(const char *data, size_t len, const char *boot_id,
                    HgStateSession *ret, char **ret_why);
