/* The state codec: a round trip for each kind of session, and every kind
 * of bad file refused with its reason (another boot, another version,
 * truncated at any byte, corrupt, malformed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "hg-peer.h"
#include "hg-state.h"

#define BOOT "0123456789abcdef0123456789abcdef"
#define OTHER_BOOT "fedcba9876543210fedcba9876543210"

static HgStateSession web_session(void) {
  HgStateSession s = {
      .id = "00112233445566778899aabbccddeeff",
      .user = g_strdup("alice"),
      .uid = 1001,
      .source = HG_SESSION_SOURCE_WEB,
      .has_token = true,
      .state = HG_SESSION_STATE_WARNING,
      .times = {.created = 1000000,
                .last_activity = 2500000,
                .last_alive = 3000000,
                .watch_liveness = true},
      .peer_uid = 1000,
      .policy = g_strdup("patrons"),
  };
  for (int i = 0; i < HG_TOKEN_HASH_LEN; i++)
    s.token_hash[i] = (uint8_t)(i * 7 + 1);
  return s;
}

static HgStateSession desktop_session(void) {
  HgStateSession s = {
      .id = "ffeeddccbbaa99887766554433221100",
      .user = g_strdup("b\xc3\xa9r\xc3\xa9nice"),
      .uid = 4294967294u,
      .source = HG_SESSION_SOURCE_DESKTOP,
      .state = HG_SESSION_STATE_ACTIVE,
      .times = {.created = 5,
                .last_activity = 5,
                .last_alive = 5,
                .busy = true},
      .peer_uid = HG_PEER_UID_UNKNOWN,
      .logind_id = g_strdup("c42"),
  };
  return s;
}

static void assert_same(const HgStateSession *a, const HgStateSession *b) {
  assert_string_equal(a->id, b->id);
  assert_string_equal(a->user, b->user);
  assert_int_equal(a->uid, b->uid);
  assert_int_equal(a->source, b->source);
  assert_int_equal(a->has_token, b->has_token);
  assert_memory_equal(a->token_hash, b->token_hash, HG_TOKEN_HASH_LEN);
  assert_int_equal(a->state, b->state);
  assert_true(a->times.created == b->times.created);
  assert_true(a->times.last_activity == b->times.last_activity);
  assert_true(a->times.last_alive == b->times.last_alive);
  assert_int_equal(a->times.busy, b->times.busy);
  assert_int_equal(a->times.watch_liveness, b->times.watch_liveness);
  assert_false(b->times.live);
  assert_int_equal(a->peer_uid, b->peer_uid);
  if (a->logind_id)
    assert_string_equal(a->logind_id, b->logind_id);
  else
    assert_null(b->logind_id);
  if (a->policy)
    assert_string_equal(a->policy, b->policy);
  else
    assert_null(b->policy);
}

static int decode(const char *data, size_t len, HgStateSession *ret,
                  char **why) {
  return hg_state_decode(data, len, BOOT, ret, why);
}

static void test_round_trip(void **state) {
  HgStateSession in[] = {web_session(), desktop_session()};

  for (size_t i = 0; i < G_N_ELEMENTS(in); i++) {
    HgStateSession out = {0};
    g_autofree char *why = NULL;
    size_t len;
    g_autofree char *bytes = hg_state_encode(&in[i], BOOT, &len);

    assert_int_equal(strlen(bytes), len);
    assert_int_equal(decode(bytes, len, &out, &why), 0);
    assert_null(why);
    assert_same(&in[i], &out);
    hg_state_session_clear(&out);
    hg_state_session_clear(&in[i]);
  }
}

/* Refused with err, and a reason that contains want. */
static void assert_refused(const char *data, size_t len, int err,
                           const char *want) {
  HgStateSession out = {0};
  g_autofree char *why = NULL;

  assert_int_equal(decode(data, len, &out, &why), err);
  assert_non_null(why);
  if (!strstr(why, want))
    fail_msg("reason \"%s\" lacks \"%s\"", why, want);
  assert_null(out.user);
}

/* A file with this body (without the checksum line) and a correct
 * checksum: malformed content that no damage explains. */
static char *with_checksum(const char *body, size_t *ret_len) {
  g_autofree char *sum =
      g_compute_checksum_for_string(G_CHECKSUM_SHA256, body, -1);
  char *text = g_strdup_printf("%sCHECKSUM=%s\n", body, sum);

  *ret_len = strlen(text);
  return text;
}

static void test_other_boot_and_version(void **state) {
  HgStateSession s = web_session();
  size_t len;
  g_autofree char *bytes = hg_state_encode(&s, OTHER_BOOT, &len);
  g_autofree char *v2 = NULL;
  g_autofree char *v2_ok = NULL;

  assert_refused(bytes, len, -ESTALE, "boot " OTHER_BOOT);
  v2 = g_strdup(bytes);
  v2[strlen("HOURGLASS_STATE=")] = '2';
  assert_refused(v2, len, -EPROTONOSUPPORT, "version 2");
  /* Another version is told as such even when the rest does not match. */
  v2_ok = with_checksum("HOURGLASS_STATE=7\nBOOT_ID=" BOOT "\n", &len);
  assert_refused(v2_ok, len, -EPROTONOSUPPORT, "version 7");
  hg_state_session_clear(&s);
}

static void test_truncated_anywhere(void **state) {
  HgStateSession s = desktop_session();
  size_t len;
  g_autofree char *bytes = hg_state_encode(&s, BOOT, &len);

  for (size_t n = 0; n < len; n++) {
    HgStateSession out = {0};
    g_autofree char *why = NULL;
    int r = decode(bytes, n, &out, &why);

    if (r != -EBADMSG && r != -EINVAL)
      fail_msg("%zu of %zu bytes: %d", n, len, r);
    assert_non_null(why);
  }
  assert_refused(bytes, len - 1, -EBADMSG, "truncated");
  hg_state_session_clear(&s);
}

static void test_corrupt(void **state) {
  HgStateSession s = web_session();
  size_t len;
  g_autofree char *bytes = hg_state_encode(&s, BOOT, &len);

  /* Any changed byte before the checksum is noticed. */
  for (size_t i = strlen("HOURGLASS_STATE=1\n"); i < len - 80; i++) {
    g_autofree char *copy = g_memdup2(bytes, len);
    HgStateSession out = {0};
    g_autofree char *why = NULL;

    copy[i] ^= 0x01;
    assert_true(decode(copy, len, &out, &why) < 0);
  }
  assert_refused("\xff\xfe", 2, -EINVAL, "UTF-8");
  assert_refused("HOURGLASS_STATE=1\n\0x\n", 21, -EINVAL, "UTF-8");
  assert_refused("something else\n", 15, -EINVAL, "not a state file");
  hg_state_session_clear(&s);
}

static void test_malformed(void **state) {
  static const struct {
    const char *fields;
    const char *why;
  } cases[] = {
      {"ID=00112233445566778899aabbccddeeff\n", "no USER"},
      {"ID=0011\nUSER=a\nUID=1\nSOURCE=web\nSTATE=active\nCREATED=1\n"
       "LAST_ACTIVITY=1\nLAST_ALIVE=1\nBUSY=0\nWATCH_LIVENESS=1\n",
       "bad ID"},
      {"EVIL=1\n", "unknown key"},
      {"USER=a\nUSER=b\n", "USER twice"},
      {"USER=a\x01"
       "b\n",
       "bad USER value"},
      {"no equals sign\n", "no '='"},
  };
  static const char good[] =
      "ID=00112233445566778899aabbccddeeff\nUSER=alice\nUID=1001\n"
      "SOURCE=web\nTOKEN_HASH="
      "0001020304050607080910111213141516171819202122232425262728293031\n"
      "STATE=active\nCREATED=10\nLAST_ACTIVITY=10\nLAST_ALIVE=10\nBUSY=0\n"
      "WATCH_LIVENESS=1\n";
  static const struct {
    const char *from, *to, *why;
  } edits[] = {
      {"LAST_ACTIVITY=10", "LAST_ACTIVITY=9", "before CREATED"},
      {"LAST_ALIVE=10", "LAST_ALIVE=1", "before CREATED"},
      {"CREATED=10", "CREATED=18446744073709551615", "bad time"},
      {"UID=1001", "UID=-1", "bad UID"},
      {"UID=1001", "UID=4294967295", "bad UID"},
      {"SOURCE=web", "SOURCE=kiosk", "bad SOURCE"},
      {"SOURCE=web", "SOURCE=desktop", "does not fit SOURCE"},
      {"STATE=active", "STATE=ended", "bad STATE"},
      {"BUSY=0", "BUSY=2", "bad BUSY"},
      {"TOKEN_HASH=00", "TOKEN_HASH=0G", "bad TOKEN_HASH"},
  };
  size_t len;

  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *body = g_strdup_printf(
        "HOURGLASS_STATE=1\nBOOT_ID=" BOOT "\n%s", cases[i].fields);
    g_autofree char *text = with_checksum(body, &len);
    assert_refused(text, len, -EINVAL, cases[i].why);
  }
  {
    g_autofree char *body =
        g_strdup_printf("HOURGLASS_STATE=1\nBOOT_ID=" BOOT "\n%s", good);
    g_autofree char *text = with_checksum(body, &len);
    HgStateSession out = {0};
    g_autofree char *why = NULL;

    assert_int_equal(decode(text, len, &out, &why), 0);
    assert_int_equal(out.peer_uid, HG_PEER_UID_UNKNOWN);
    hg_state_session_clear(&out);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(edits); i++) {
    g_autofree char *body =
        g_strdup_printf("HOURGLASS_STATE=1\nBOOT_ID=" BOOT "\n%s", good);
    g_autofree char *edited = NULL;
    g_autofree char *text = NULL;
    char *at = strstr(body, edits[i].from);

    assert_non_null(at);
    *at = '\0';
    edited = g_strconcat(body, edits[i].to, at + strlen(edits[i].from), NULL);
    text = with_checksum(edited, &len);
    assert_refused(text, len, -EINVAL, edits[i].why);
  }
  {
    g_autofree char *big = g_malloc0(HG_STATE_MAX_SIZE + 2);
    memset(big, 'a', HG_STATE_MAX_SIZE + 1);
    assert_refused(big, HG_STATE_MAX_SIZE + 1, -EINVAL, "larger than");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_other_boot_and_version),
      cmocka_unit_test(test_truncated_anywhere),
      cmocka_unit_test(test_corrupt),
      cmocka_unit_test(test_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
