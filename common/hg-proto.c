/* Encoding, decoding and transport of helper messages; see hg-proto.h. */
#include "hg-proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "hg-macros.h"

typedef enum {
  PAYLOAD_NONE,
  PAYLOAD_TEXT,
  PAYLOAD_COUNT,
  PAYLOAD_USEC,
  PAYLOAD_UID_TEXT,
  PAYLOAD_FAILURE,
} Payload;

typedef struct {
  const char *name;
  Payload payload;
  bool from_helper;
  bool text_required; /* an empty text is refused */
} TypeInfo;

static const TypeInfo type_table[] = {
    [HG_PROTO_START] = {"start", PAYLOAD_TEXT, false, true},
    [HG_PROTO_ANSWER] = {"answer", PAYLOAD_TEXT, false, false},
    [HG_PROTO_SETUP] = {"setup", PAYLOAD_TEXT, false, true},
    [HG_PROTO_PROMPT_ECHO_OFF] = {"prompt-echo-off", PAYLOAD_TEXT, true},
    [HG_PROTO_PROMPT_ECHO_ON] = {"prompt-echo-on", PAYLOAD_TEXT, true},
    [HG_PROTO_INFO] = {"info", PAYLOAD_TEXT, true},
    [HG_PROTO_ERROR] = {"error", PAYLOAD_TEXT, true},
    [HG_PROTO_WAIT] = {"wait", PAYLOAD_COUNT, true},
    [HG_PROTO_FAIL_DELAY] = {"fail-delay", PAYLOAD_USEC, true},
    [HG_PROTO_RESULT_OK] = {"result-ok", PAYLOAD_UID_TEXT, true, true},
    [HG_PROTO_RESULT_FAIL] = {"result-fail", PAYLOAD_FAILURE, true},
    [HG_PROTO_CLOSED] = {"closed", PAYLOAD_NONE, true},
    [HG_PROTO_ACCOUNT] = {"account", PAYLOAD_TEXT, true, true},
    [HG_PROTO_GROUPS] = {"groups", PAYLOAD_TEXT, true, false},
};

static const char *const failure_table[_HG_AUTH_FAILURE_MAX] = {
    [HG_AUTH_FAILURE_AUTH] = "auth",
    [HG_AUTH_FAILURE_ACCOUNT] = "account",
    [HG_AUTH_FAILURE_EXPIRED] = "expired",
    [HG_AUTH_FAILURE_UID] = "uid",
    [HG_AUTH_FAILURE_INTERNAL] = "internal",
};

static const TypeInfo *type_info(unsigned t) {
  if (t >= HG_ELEMENTSOF(type_table) || !type_table[t].name)
    return NULL;
  return &type_table[t];
}

const char *hg_proto_type_to_string(HgProtoType t) {
  const TypeInfo *info = type_info((unsigned)t);
  return info ? info->name : NULL;
}

bool hg_proto_type_from_helper(HgProtoType t) {
  const TypeInfo *info = type_info((unsigned)t);
  return info && info->from_helper;
}

const char *hg_auth_failure_to_string(HgAuthFailure f) {
  if ((unsigned)f >= _HG_AUTH_FAILURE_MAX)
    return NULL;
  return failure_table[f];
}

int hg_auth_failure_from_string(const char *s) {
  for (int i = 0; s && i < _HG_AUTH_FAILURE_MAX; i++)
    if (strcmp(s, failure_table[i]) == 0)
      return i;
  return -EINVAL;
}

/* Length of the valid UTF-8 sequence at s (at most left bytes), or 0 for
 * NUL, an invalid, overlong, surrogate or cut-off sequence. */
static size_t utf8_char_len(const uint8_t *s, size_t left) {
  uint32_t cp, min;
  size_t n;

  if (s[0] == 0)
    return 0;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2, cp = s[0] & 0x1f, min = 0x80;
  } else if ((s[0] & 0xf0) == 0xe0) {
    n = 3, cp = s[0] & 0x0f, min = 0x800;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4, cp = s[0] & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n > left)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

bool hg_proto_text_valid(const char *s, size_t len) {
  const uint8_t *p = (const uint8_t *)s;

  for (size_t i = 0; i < len;) {
    size_t k = utf8_char_len(p + i, len - i);
    if (k == 0)
      return false;
    i += k;
  }
  return true;
}

void hg_proto_text_sanitize(const char *in, char *out, size_t size) {
  const uint8_t *p = (const uint8_t *)in;
  size_t n = strlen(in), o = 0;

  for (size_t i = 0; i < n;) {
    size_t k = utf8_char_len(p + i, n - i);
    const uint8_t *src = k ? p + i : (const uint8_t *)"?";
    size_t w = k ? k : 1;

    if (o + w >= size)
      break;
    memcpy(out + o, src, w);
    o += w;
    i += w;
  }
  out[o] = '\0';
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n) {
  uint64_t v = 0;

  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static int put_text(HgProtoBuf *buf, const char *text, bool required) {
  size_t n;

  if (!text)
    return -EINVAL;
  n = strlen(text);
  if (n > HG_PROTO_MAX_MSG - buf->len)
    return -EMSGSIZE;
  if ((required && n == 0) || !hg_proto_text_valid(text, n))
    return -EINVAL;
  memcpy(buf->data + buf->len, text, n);
  buf->len += n;
  return 0;
}

int hg_proto_encode(const HgProtoMsg *m, HgProtoBuf *buf) {
  const TypeInfo *info = type_info((unsigned)m->type);
  uint8_t *p = (uint8_t *)buf->data;

  buf->len = 0;
  if (!info)
    return -EINVAL;
  p[0] = (uint8_t)m->type;
  buf->len = 1;
  switch (info->payload) {
  case PAYLOAD_NONE:
    return 0;
  case PAYLOAD_COUNT:
    if (m->count == 0 || m->count > HG_PROTO_MAX_PROMPTS)
      return -EINVAL;
    put_le(p + 1, m->count, 4);
    buf->len += 4;
    return 0;
  case PAYLOAD_USEC:
    put_le(p + 1, m->usec, 8);
    buf->len += 8;
    return 0;
  case PAYLOAD_FAILURE:
    if ((unsigned)m->failure >= _HG_AUTH_FAILURE_MAX)
      return -EINVAL;
    p[1] = (uint8_t)m->failure;
    buf->len += 1;
    return 0;
  case PAYLOAD_UID_TEXT:
    put_le(p + 1, m->uid, 4);
    buf->len += 4;
    return put_text(buf, m->text, info->text_required);
  case PAYLOAD_TEXT:
    return put_text(buf, m->text, info->text_required);
  }
  return -EINVAL;
}

static int decode_text(HgProtoBuf *buf, size_t off, bool required,
                       HgProtoMsg *m) {
  size_t n = buf->len - off;

  if ((required && n == 0) || !hg_proto_text_valid(buf->data + off, n))
    return -EBADMSG;
  buf->data[buf->len] = '\0';
  m->text = buf->data + off;
  m->text_len = n;
  return 0;
}

static int decode_payload(HgProtoBuf *buf, const TypeInfo *info,
                          HgProtoMsg *m) {
  const uint8_t *p = (const uint8_t *)buf->data;
  size_t len = buf->len;

  switch (info->payload) {
  case PAYLOAD_NONE:
    return len == 1 ? 0 : -EBADMSG;
  case PAYLOAD_COUNT:
    if (len != 5)
      return -EBADMSG;
    m->count = (uint32_t)get_le(p + 1, 4);
    return m->count >= 1 && m->count <= HG_PROTO_MAX_PROMPTS ? 0 : -EBADMSG;
  case PAYLOAD_USEC:
    if (len != 9)
      return -EBADMSG;
    m->usec = get_le(p + 1, 8);
    return 0;
  case PAYLOAD_FAILURE:
    if (len != 2 || p[1] >= _HG_AUTH_FAILURE_MAX)
      return -EBADMSG;
    m->failure = (HgAuthFailure)p[1];
    return 0;
  case PAYLOAD_UID_TEXT:
    if (len < 5)
      return -EBADMSG;
    m->uid = (uint32_t)get_le(p + 1, 4);
    return decode_text(buf, 5, info->text_required, m);
  case PAYLOAD_TEXT:
    return decode_text(buf, 1, info->text_required, m);
  }
  return -EBADMSG;
}

int hg_proto_decode(HgProtoBuf *buf, HgProtoMsg *ret) {
  HgProtoMsg m = {0};
  const TypeInfo *info;
  int r;

  if (buf->len < 1 || buf->len > HG_PROTO_MAX_MSG)
    return -EBADMSG;
  info = type_info((uint8_t)buf->data[0]);
  if (!info)
    return -EBADMSG;
  m.type = (HgProtoType)(uint8_t)buf->data[0];
  r = decode_payload(buf, info, &m);
  if (r < 0)
    return r;
  *ret = m;
  return 0;
}

int hg_proto_send(int fd, const HgProtoMsg *m) {
  HgProtoBuf buf;
  ssize_t n;
  int r;

  r = hg_proto_encode(m, &buf);
  if (r >= 0) {
    do
      n = send(fd, buf.data, buf.len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    r = n < 0 ? -errno : 0;
  }
  hg_proto_buf_wipe(&buf);
  return r;
}

int hg_proto_recv(int fd, HgProtoBuf *buf, bool nonblock) {
  struct iovec iov = {.iov_base = buf->data, .iov_len = HG_PROTO_MAX_MSG};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t n;

  buf->len = 0;
  do
    n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (mh.msg_flags & MSG_TRUNC) {
    /* The part that did arrive may be a piece of an answer. */
    explicit_bzero(buf->data, HG_PROTO_MAX_MSG);
    return -EMSGSIZE;
  }
  buf->len = (size_t)n;
  return n > 0 ? 1 : 0;
}

int hg_proto_recv_msg(int fd, HgProtoBuf *buf, HgProtoMsg *ret, bool nonblock) {
  int r = hg_proto_recv(fd, buf, nonblock);

  if (r <= 0)
    return r;
  r = hg_proto_decode(buf, ret);
  return r < 0 ? r : 1;
}

void hg_proto_buf_wipe(HgProtoBuf *buf) {
  explicit_bzero(buf->data, HG_MIN(buf->len + 1, sizeof(buf->data)));
  buf->len = 0;
}
