/* The socket protocol between hourglassd and its PAM helper: one message per
 * SOCK_SEQPACKET packet, a type byte followed by a payload. GLib-free, shared
 * by both ends; every decoder check is strict, since either end may be the
 * one that misbehaves. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The helper finds its end of the socketpair here. */
#define HG_PROTO_HELPER_FD 3

/* Largest message, type byte included. */
#define HG_PROTO_MAX_MSG 4096
#define HG_PROTO_MAX_TEXT (HG_PROTO_MAX_MSG - 1)
/* Most prompts in one PAM conversation call (PAM_MAX_NUM_MSG). */
#define HG_PROTO_MAX_PROMPTS 32

/* Payloads ("text" is UTF-8 without NUL bytes, its length the rest of the
 * packet; integers are little-endian):
 *
 * daemon -> helper:
 *   SETUP            text: "service=S\nmin-uid=N\nrhost=R\ntty=T\n
 *                    timeout=SEC", first, to a helper the service manager
 *                    started (socket activation), which has no arguments
 *   START            text: the user name, not empty
 *   ANSWER           text: the answer to one prompt (a secret)
 *   (closing the socket ends the login or the PAM session)
 * helper -> daemon:
 *   PROMPT_ECHO_OFF, PROMPT_ECHO_ON, INFO, ERROR   text
 *   WAIT             u32: the helper now reads that many ANSWERs (1..32)
 *   FAIL_DELAY       u64: µs the daemon should wait before telling a failure
 *   RESULT_OK        u32 uid, then text: the user name, not empty
 *   ACCOUNT          text: the account name NSS gives the user PAM settled
 *                    on, not empty; sent before RESULT_FAIL when known, so
 *                    that "ALICE", "alice@realm" and "alice" are throttled
 *                    as the one account they are
 *   GROUPS           text: the names of the user's groups, "\n"-separated,
 *                    sent before RESULT_OK (for the policy rules'
 *                    MatchGroup=: NSS is asked here, outside the daemon)
 *   RESULT_FAIL      u8: an HgAuthFailure
 *   CLOSED           empty: pam_close_session has run
 */
typedef enum {
  HG_PROTO_START = 1,
  HG_PROTO_ANSWER = 2,
  HG_PROTO_SETUP = 3,
  HG_PROTO_PROMPT_ECHO_OFF = 16,
  HG_PROTO_PROMPT_ECHO_ON = 17,
  HG_PROTO_INFO = 18,
  HG_PROTO_ERROR = 19,
  HG_PROTO_WAIT = 20,
  HG_PROTO_FAIL_DELAY = 21,
  HG_PROTO_RESULT_OK = 22,
  HG_PROTO_RESULT_FAIL = 23,
  HG_PROTO_CLOSED = 24,
  HG_PROTO_ACCOUNT = 25,
  HG_PROTO_GROUPS = 26,
} HgProtoType;

/* Why a login failed; for the logs only (every failure looks alike to the
 * person at the kiosk). */
typedef enum {
  HG_AUTH_FAILURE_AUTH,     /* pam_authenticate refused */
  HG_AUTH_FAILURE_ACCOUNT,  /* pam_acct_mgmt, pam_setcred or the session */
  HG_AUTH_FAILURE_EXPIRED,  /* the expired password was not changed */
  HG_AUTH_FAILURE_UID,      /* below MinUid, or unknown to NSS */
  HG_AUTH_FAILURE_INTERNAL, /* the helper broke, hung or was killed */
  _HG_AUTH_FAILURE_MAX,
} HgAuthFailure;

const char *hg_auth_failure_to_string(HgAuthFailure f);
/* An HgAuthFailure, or -EINVAL. */
int hg_auth_failure_from_string(const char *s);

/* NULL for a value that is not a message type. */
const char *hg_proto_type_to_string(HgProtoType t);
/* Types the helper may send (the daemon refuses the others). */
bool hg_proto_type_from_helper(HgProtoType t);

/* A message. Decoding points text into the buffer it decoded, so the message
 * lives as long as that buffer; for encoding, text is any NUL-terminated
 * string (text_len is ignored). */
typedef struct {
  HgProtoType type;
  const char *text; /* START, ANSWER, PROMPT_*, INFO, ERROR, RESULT_OK,
                       ACCOUNT, GROUPS, SETUP */
  size_t text_len;
  uint32_t count;        /* WAIT */
  uint64_t usec;         /* FAIL_DELAY */
  uint32_t uid;          /* RESULT_OK */
  HgAuthFailure failure; /* RESULT_FAIL */
} HgProtoMsg;

/* One packet as received, with room for the NUL that ends a decoded text.
 * A buffer that held an ANSWER holds a secret: wipe it. */
typedef struct {
  size_t len;
  char data[HG_PROTO_MAX_MSG + 1];
} HgProtoBuf;

/* Encodes m into buf; 0, -EMSGSIZE (too long) or -EINVAL (anything else
 * the decoder would refuse). */
int hg_proto_encode(const HgProtoMsg *m, HgProtoBuf *buf);
/* Decodes buf in place; 0 or -EBADMSG. */
int hg_proto_decode(HgProtoBuf *buf, HgProtoMsg *ret);

/* Sends one message without raising SIGPIPE; the encoded copy is wiped.
 * 0, or -errno (-EPIPE when the peer is gone). */
int hg_proto_send(int fd, const HgProtoMsg *m);
/* Receives one packet into buf, retrying on EINTR. 1 for a packet, 0 at
 * end of file, -EAGAIN when nonblock and nothing is there, -EMSGSIZE for a
 * packet longer than HG_PROTO_MAX_MSG (it is dropped), or -errno. */
int hg_proto_recv(int fd, HgProtoBuf *buf, bool nonblock);
/* hg_proto_recv() then hg_proto_decode(): 1, 0 at end of file, or -errno. */
int hg_proto_recv_msg(int fd, HgProtoBuf *buf, HgProtoMsg *ret, bool nonblock);

void hg_proto_buf_wipe(HgProtoBuf *buf);

/* True when the len bytes at s are UTF-8 without NUL bytes. */
bool hg_proto_text_valid(const char *s, size_t len);
/* Copies what a PAM module wrote into out (size bytes, at least 1) as a
 * valid protocol text: invalid bytes become '?', and an over-long text is cut
 * at a character boundary. Module texts are not ours to refuse. */
void hg_proto_text_sanitize(const char *in, char *out, size_t size);
