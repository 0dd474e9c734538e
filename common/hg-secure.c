/* Constant-time comparison and kernel randomness. */
#include "hg-secure.h"

#include <errno.h>
#include <sys/random.h>

bool hg_memeq_consttime(const void *a, const void *b, size_t n) {
  const volatile uint8_t *x = a, *y = b;
  uint8_t diff = 0;

  for (size_t i = 0; i < n; i++)
    diff |= x[i] ^ y[i];
  return diff == 0;
}

int hg_random_bytes(void *buf, size_t n) {
  uint8_t *p = buf;

  while (n > 0) {
    ssize_t k = getrandom(p, n, 0);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

void hg_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0xf];
  }
  out[2 * n] = '\0';
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int hg_hex_decode(const char *in, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = hex_digit(in[2 * i]), lo = hi < 0 ? -1 : hex_digit(in[2 * i + 1]);

    if (hi < 0 || lo < 0)
      return -EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}
