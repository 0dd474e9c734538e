/* Session tokens: shape, randomness, hashing, the cookie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-token.h"

static void test_new_tokens(void **state) {
  g_autoptr(GHashTable) seen =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; i < 1000; i++) {
    char text[HG_TOKEN_TEXT_LEN + 1];
    uint8_t hash[HG_TOKEN_HASH_LEN], again[HG_TOKEN_HASH_LEN];

    assert_int_equal(hg_token_new(text, hash), 0);
    assert_int_equal(strlen(text), HG_TOKEN_TEXT_LEN);
    assert_true(hg_token_hash(text, again));
    assert_memory_equal(hash, again, sizeof(hash));
    assert_false(g_hash_table_contains(seen, text));
    g_hash_table_add(seen, g_strdup(text));
  }
}

static void test_hash_refuses_foreign_shapes(void **state) {
  uint8_t hash[HG_TOKEN_HASH_LEN];
  char good[HG_TOKEN_TEXT_LEN + 1];
  char bad[HG_TOKEN_TEXT_LEN + 2];

  memset(good, 'A', HG_TOKEN_TEXT_LEN);
  good[HG_TOKEN_TEXT_LEN] = '\0';
  assert_true(hg_token_hash(good, hash));
  assert_false(hg_token_hash(NULL, hash));
  assert_false(hg_token_hash("", hash));
  assert_false(hg_token_hash("short", hash));
  memcpy(bad, good, sizeof(good));
  bad[5] = '=';
  assert_false(hg_token_hash(bad, hash));
  bad[5] = '+';
  assert_false(hg_token_hash(bad, hash));
  memset(bad, 'A', sizeof(bad) - 1);
  bad[sizeof(bad) - 1] = '\0';
  assert_false(hg_token_hash(bad, hash));
}

static void test_cookie(void **state) {
  g_autofree char *c = hg_token_cookie("TOKEN");

  assert_string_equal(c, "hourglass_session=TOKEN; HttpOnly; SameSite=Strict; "
                         "Path=/");
  assert_null(strstr(c, "Max-Age"));
  assert_non_null(strstr(hg_token_cookie_clear(), "Max-Age=0"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_tokens),
      cmocka_unit_test(test_hash_refuses_foreign_shapes),
      cmocka_unit_test(test_cookie),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
