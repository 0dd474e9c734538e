/* Token generation, hashing and the cookie that carries it. */
#include "hg-token.h"

#include <glib.h>
#include <string.h>

#include "hg-secure.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void base64url(const uint8_t *in, size_t n, char *out) {
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;

  for (size_t i = 0; i < n; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[o++] = alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out[o++] = alphabet[(acc << (6 - bits)) & 0x3f];
  out[o] = '\0';
}

static void sha256(const char *text, size_t len,
                   uint8_t hash[HG_TOKEN_HASH_LEN]) {
  g_autoptr(GChecksum) c = g_checksum_new(G_CHECKSUM_SHA256);
  gsize n = HG_TOKEN_HASH_LEN;

  g_checksum_update(c, (const guchar *)text, (gssize)len);
  g_checksum_get_digest(c, hash, &n);
}

int hg_token_new(char text[HG_TOKEN_TEXT_LEN + 1],
                 uint8_t hash[HG_TOKEN_HASH_LEN]) {
  uint8_t raw[HG_TOKEN_BYTES];
  int r = hg_random_bytes(raw, sizeof(raw));

  if (r < 0)
    return r;
  base64url(raw, sizeof(raw), text);
  explicit_bzero(raw, sizeof(raw));
  sha256(text, HG_TOKEN_TEXT_LEN, hash);
  return 0;
}

bool hg_token_hash(const char *text, uint8_t hash[HG_TOKEN_HASH_LEN]) {
  if (!text || strlen(text) != HG_TOKEN_TEXT_LEN ||
      strspn(text, alphabet) != HG_TOKEN_TEXT_LEN)
    return false;
  sha256(text, HG_TOKEN_TEXT_LEN, hash);
  return true;
}

char *hg_token_cookie(const char *text) {
  return g_strconcat(HG_COOKIE_NAME "=", text,
                     "; HttpOnly; SameSite=Strict; Path=/", NULL);
}

const char *hg_token_cookie_clear(void) {
  return HG_COOKIE_NAME "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
}
