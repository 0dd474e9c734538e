/* The helper protocol: every message type through encode/decode and through
 * a real SOCK_SEQPACKET pair, and every malformed packet refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "hg-macros.h"
#include "hg-proto.h"

static const HgProtoMsg examples[] = {
    {.type = HG_PROTO_START, .text = "alice"},
    {.type = HG_PROTO_ANSWER, .text = "s3cret p\xc3\xa4ss"},
    {.type = HG_PROTO_ANSWER, .text = ""},
    {.type = HG_PROTO_PROMPT_ECHO_OFF, .text = "Password: "},
    {.type = HG_PROTO_PROMPT_ECHO_ON, .text = "Token code:"},
    {.type = HG_PROTO_INFO, .text = "Last login: \xe2\x82\xac\nline two"},
    {.type = HG_PROTO_ERROR, .text = ""},
    {.type = HG_PROTO_WAIT, .count = 1},
    {.type = HG_PROTO_WAIT, .count = HG_PROTO_MAX_PROMPTS},
    {.type = HG_PROTO_FAIL_DELAY, .usec = 2000000},
    {.type = HG_PROTO_FAIL_DELAY, .usec = UINT64_MAX},
    {.type = HG_PROTO_RESULT_OK, .text = "alice", .uid = 1001},
    {.type = HG_PROTO_RESULT_OK,
     .text = "x\xf0\x9f\x98\x80",
     .uid = 0xfffffffe},
    {.type = HG_PROTO_RESULT_FAIL, .failure = HG_AUTH_FAILURE_AUTH},
    {.type = HG_PROTO_RESULT_FAIL, .failure = HG_AUTH_FAILURE_INTERNAL},
    {.type = HG_PROTO_CLOSED},
    {.type = HG_PROTO_ACCOUNT, .text = "alice@realm"},
    {.type = HG_PROTO_SETUP, .text = "service=hourglass\nmin-uid=1000"},
    {.type = HG_PROTO_GROUPS, .text = "users\nstaff"},
};

static bool has_text(HgProtoType t) {
  return t == HG_PROTO_START || t == HG_PROTO_ANSWER ||
         t == HG_PROTO_PROMPT_ECHO_OFF || t == HG_PROTO_PROMPT_ECHO_ON ||
         t == HG_PROTO_INFO || t == HG_PROTO_ERROR || t == HG_PROTO_RESULT_OK ||
         t == HG_PROTO_ACCOUNT || t == HG_PROTO_SETUP || t == HG_PROTO_GROUPS;
}

static void assert_msg_equal(const HgProtoMsg *want, const HgProtoMsg *got) {
  assert_int_equal(want->type, got->type);
  if (has_text(want->type)) {
    assert_non_null(got->text);
    assert_string_equal(want->text, got->text);
    assert_int_equal(strlen(want->text), got->text_len);
  } else {
    assert_null(got->text);
  }
  assert_int_equal(want->type == HG_PROTO_WAIT ? want->count : 0, got->count);
  assert_true((want->type == HG_PROTO_FAIL_DELAY ? want->usec : 0) ==
              got->usec);
  assert_int_equal(want->type == HG_PROTO_RESULT_OK ? want->uid : 0, got->uid);
  if (want->type == HG_PROTO_RESULT_FAIL)
    assert_int_equal(want->failure, got->failure);
}

static void socket_pair(int fds[2]) {
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds),
                   0);
}

static void test_type_names(void **state) {
  unsigned named = 0, from_helper = 0;

  for (unsigned t = 0; t < 256; t++) {
    const char *name = hg_proto_type_to_string((HgProtoType)t);
    named += name != NULL;
    from_helper += hg_proto_type_from_helper((HgProtoType)t);
    if (!name)
      assert_false(hg_proto_type_from_helper((HgProtoType)t));
  }
  assert_int_equal(named, 14);
  assert_int_equal(from_helper, 11);
  assert_false(hg_proto_type_from_helper(HG_PROTO_START));
  assert_false(hg_proto_type_from_helper(HG_PROTO_ANSWER));
  assert_true(hg_proto_type_from_helper(HG_PROTO_WAIT));
}

static void test_failure_names(void **state) {
  for (int f = 0; f < _HG_AUTH_FAILURE_MAX; f++) {
    const char *s = hg_auth_failure_to_string((HgAuthFailure)f);
    assert_non_null(s);
    assert_int_equal(hg_auth_failure_from_string(s), f);
  }
  assert_string_equal(hg_auth_failure_to_string(HG_AUTH_FAILURE_UID), "uid");
  assert_null(hg_auth_failure_to_string(_HG_AUTH_FAILURE_MAX));
  assert_int_equal(hg_auth_failure_from_string("Auth"), -EINVAL);
  assert_int_equal(hg_auth_failure_from_string(""), -EINVAL);
  assert_int_equal(hg_auth_failure_from_string(NULL), -EINVAL);
}

static void test_round_trip(void **state) {
  for (size_t i = 0; i < HG_ELEMENTSOF(examples); i++) {
    HgProtoBuf buf;
    HgProtoMsg got;

    assert_int_equal(hg_proto_encode(&examples[i], &buf), 0);
    assert_int_equal(hg_proto_decode(&buf, &got), 0);
    assert_msg_equal(&examples[i], &got);
  }
}

static void test_round_trip_socket(void **state) {
  int fds[2];

  socket_pair(fds);
  for (size_t i = 0; i < HG_ELEMENTSOF(examples); i++)
    assert_int_equal(hg_proto_send(fds[0], &examples[i]), 0);
  for (size_t i = 0; i < HG_ELEMENTSOF(examples); i++) {
    HgProtoBuf buf;
    HgProtoMsg got;

    assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &got, true), 1);
    assert_msg_equal(&examples[i], &got);
    hg_proto_buf_wipe(&buf);
  }
  assert_int_equal(hg_proto_recv(fds[1], &(HgProtoBuf){0}, true), -EAGAIN);
  close(fds[0]);
  assert_int_equal(hg_proto_recv(fds[1], &(HgProtoBuf){0}, false), 0);
  close(fds[1]);
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);

  assert_non_null(s);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

static void test_text_limits(void **state) {
  _cleanup_free_ char *max = repeat('a', HG_PROTO_MAX_TEXT);
  _cleanup_free_ char *over = repeat('a', HG_PROTO_MAX_TEXT + 1);
  _cleanup_free_ char *user_max = repeat('u', HG_PROTO_MAX_MSG - 5);
  _cleanup_free_ char *user_over = repeat('u', HG_PROTO_MAX_MSG - 4);
  HgProtoBuf buf;
  HgProtoMsg got;

  assert_int_equal(
      hg_proto_encode(&(HgProtoMsg){.type = HG_PROTO_INFO, .text = max}, &buf),
      0);
  assert_int_equal(buf.len, HG_PROTO_MAX_MSG);
  assert_int_equal(hg_proto_decode(&buf, &got), 0);
  assert_int_equal(got.text_len, HG_PROTO_MAX_TEXT);
  assert_int_equal(
      hg_proto_encode(&(HgProtoMsg){.type = HG_PROTO_INFO, .text = over}, &buf),
      -EMSGSIZE);
  assert_int_equal(
      hg_proto_encode(
          &(HgProtoMsg){.type = HG_PROTO_RESULT_OK, .text = user_max}, &buf),
      0);
  assert_int_equal(
      hg_proto_encode(
          &(HgProtoMsg){.type = HG_PROTO_RESULT_OK, .text = user_over}, &buf),
      -EMSGSIZE);
}

static void test_encode_refuses(void **state) {
  static const HgProtoMsg bad[] = {
      {.type = 0},
      {.type = 3},
      {.type = 200},
      {.type = HG_PROTO_START, .text = ""},
      {.type = HG_PROTO_START, .text = NULL},
      {.type = HG_PROTO_INFO, .text = NULL},
      {.type = HG_PROTO_INFO, .text = "bad \xff byte"},
      {.type = HG_PROTO_RESULT_OK, .text = "", .uid = 1000},
      {.type = HG_PROTO_WAIT, .count = 0},
      {.type = HG_PROTO_WAIT, .count = HG_PROTO_MAX_PROMPTS + 1},
      {.type = HG_PROTO_RESULT_FAIL, .failure = _HG_AUTH_FAILURE_MAX},
      {.type = HG_PROTO_RESULT_FAIL, .failure = (HgAuthFailure)-1},
  };

  for (size_t i = 0; i < HG_ELEMENTSOF(bad); i++) {
    HgProtoBuf buf;
    assert_int_equal(hg_proto_encode(&bad[i], &buf), -EINVAL);
  }
}

static int decode_raw(const char *bytes, size_t len) {
  HgProtoBuf buf = {.len = len};
  HgProtoMsg m;

  memcpy(buf.data, bytes, len);
  return hg_proto_decode(&buf, &m);
}

#define RAW(s) (s), sizeof(s) - 1

static void test_decode_refuses(void **state) {
  static const struct {
    const char *bytes;
    size_t len;
  } bad[] = {
      {RAW("")},
      {RAW("\x00")},
      {RAW("\x04x")},
      {RAW("\x0f")},
      {RAW("\x1b")},
      {RAW("\x03")}, /* SETUP without settings */
      {RAW("\x19")}, /* ACCOUNT without a name */
      {RAW("\xff")},
      {RAW("\x18x")},                    /* CLOSED with a payload */
      {RAW("\x14\x01\x00\x00")},         /* WAIT too short */
      {RAW("\x14\x01\x00\x00\x00\x00")}, /* WAIT too long */
      {RAW("\x14\x00\x00\x00\x00")},     /* WAIT 0 */
      {RAW("\x14\x21\x00\x00\x00")},     /* WAIT 33 */
      {RAW("\x14\x01\x00\x00\x01")},     /* WAIT 2^24 + 1 */
      {RAW("\x15\x01\x02\x03\x04\x05\x06\x07")},
      {RAW("\x15\x01\x02\x03\x04\x05\x06\x07\x08\x09")},
      {RAW("\x17")},     /* RESULT_FAIL without a reason */
      {RAW("\x17\x05")}, /* unknown reason */
      {RAW("\x17\x00\x00")},
      {RAW("\x16\xe9\x03\x00")},         /* RESULT_OK without all the uid */
      {RAW("\x16\xe9\x03\x00\x00")},     /* RESULT_OK without a name */
      {RAW("\x16\xe9\x03\x00\x00\xc3")}, /* cut-off character */
      {RAW("\x01")},                     /* START without a name */
      {RAW("\x01\xff")},                 /* not UTF-8 */
      {RAW("\x12\xc0\x80")},             /* overlong NUL */
      {RAW("\x12\xe0\x80\x80")},         /* overlong */
      {RAW("\x12\xf0\x80\x80\x80")},     /* overlong */
      {RAW("\x12\xed\xa0\x80")},         /* surrogate */
      {RAW("\x12\xf4\x90\x80\x80")},     /* above U+10FFFF */
      {RAW("\x12\xf8\x88\x80\x80\x80")}, /* five bytes */
      {RAW("\x12\xe2\x82")},             /* cut off */
      {RAW("\x12\xe2\x28\xa1")},         /* bad continuation */
      {RAW("\x12\x80")},                 /* lone continuation */
      {RAW("\x02pass\x00word")},         /* NUL inside */
  };

  for (size_t i = 0; i < HG_ELEMENTSOF(bad); i++) {
    int r = decode_raw(bad[i].bytes, bad[i].len);
    if (r != -EBADMSG)
      fail_msg("malformed packet %zu: got %d", i, r);
  }
}

static void test_decode_accepts(void **state) {
  HgProtoBuf buf = {.len = 5};
  HgProtoMsg m;

  assert_int_equal(decode_raw(RAW("\x12\xf4\x8f\xbf\xbf")), 0); /* U+10FFFF */
  assert_int_equal(decode_raw(RAW("\x12\xef\xbf\xbd\t\r\n")), 0);
  assert_int_equal(decode_raw(RAW("\x14\x20\x00\x00\x00")), 0);

  /* A text is NUL-terminated where the packet ends, whatever follows. */
  memcpy(buf.data,
         "\x01"
         "bobXXXX",
         8);
  buf.len = 4;
  assert_int_equal(hg_proto_decode(&buf, &m), 0);
  assert_string_equal(m.text, "bob");
  assert_int_equal(m.text_len, 3);
  assert_ptr_equal(m.text, buf.data + 1);
}

static void test_buffer_length_checked(void **state) {
  HgProtoBuf buf = {.len = HG_PROTO_MAX_MSG + 1};
  HgProtoMsg m;

  memset(buf.data, 'a', sizeof(buf.data));
  buf.data[0] = HG_PROTO_INFO;
  assert_int_equal(hg_proto_decode(&buf, &m), -EBADMSG);
}

static void test_sanitize(void **state) {
  char out[16];

  hg_proto_text_sanitize("ok \xc3\xa9", out, sizeof(out));
  assert_string_equal(out, "ok \xc3\xa9");
  hg_proto_text_sanitize("a\xff"
                         "b\xc0\x80"
                         "c\xe2\x82",
                         out, sizeof(out));
  assert_string_equal(out, "a?b??c??");
  assert_true(hg_proto_text_valid(out, strlen(out)));
  /* Cut at a character boundary: the euro sign does not fit in 2 bytes. */
  hg_proto_text_sanitize("ab\xe2\x82\xac", out, 5);
  assert_string_equal(out, "ab");
  hg_proto_text_sanitize("abcdef", out, 4);
  assert_string_equal(out, "abc");
  hg_proto_text_sanitize("abc", out, 1);
  assert_string_equal(out, "");
}

static void test_truncated_packet(void **state) {
  char big[HG_PROTO_MAX_MSG + 100];
  HgProtoBuf buf;
  HgProtoMsg m;
  int fds[2];

  socket_pair(fds);
  memset(big, 'x', sizeof(big));
  big[0] = HG_PROTO_ANSWER;
  assert_int_equal(send(fds[0], big, sizeof(big), 0), (ssize_t)sizeof(big));
  assert_int_equal(send(fds[0], big, HG_PROTO_MAX_MSG + 1, 0),
                   HG_PROTO_MAX_MSG + 1);
  assert_int_equal(send(fds[0], big, HG_PROTO_MAX_MSG, 0), HG_PROTO_MAX_MSG);
  assert_int_equal(hg_proto_send(fds[0], &examples[0]), 0);

  assert_int_equal(hg_proto_recv(fds[1], &buf, true), -EMSGSIZE);
  assert_int_equal(buf.len, 0);
  assert_int_equal(buf.data[1], 0); /* the piece that came was wiped */
  assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &m, true), -EMSGSIZE);
  /* Exactly the maximum is fine, and the stream goes on after a refusal. */
  assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &m, true), 1);
  assert_int_equal(m.text_len, HG_PROTO_MAX_TEXT);
  assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &m, true), 1);
  assert_msg_equal(&examples[0], &m);

  /* A malformed packet is refused, and the next one read. */
  assert_int_equal(send(fds[0], "\x14\x00", 2, 0), 2);
  assert_int_equal(hg_proto_send(fds[0], &examples[1]), 0);
  assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &m, true), -EBADMSG);
  assert_int_equal(hg_proto_recv_msg(fds[1], &buf, &m, true), 1);
  assert_msg_equal(&examples[1], &m);
  hg_proto_buf_wipe(&buf);
  assert_int_equal(buf.len, 0);
  assert_int_equal(buf.data[1], 0);
  close(fds[0]);
  close(fds[1]);
}

static void test_send_to_gone_peer(void **state) {
  int fds[2];

  socket_pair(fds);
  close(fds[1]);
  /* Must fail with EPIPE, not kill the test with SIGPIPE. */
  assert_int_equal(hg_proto_send(fds[0], &examples[0]), -EPIPE);
  assert_int_equal(hg_proto_send(fds[0], &(HgProtoMsg){.type = 0}), -EINVAL);
  close(fds[0]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_names),
      cmocka_unit_test(test_failure_names),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_round_trip_socket),
      cmocka_unit_test(test_text_limits),
      cmocka_unit_test(test_encode_refuses),
      cmocka_unit_test(test_decode_refuses),
      cmocka_unit_test(test_decode_accepts),
      cmocka_unit_test(test_buffer_length_checked),
      cmocka_unit_test(test_sanitize),
      cmocka_unit_test(test_truncated_packet),
      cmocka_unit_test(test_send_to_gone_peer),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
