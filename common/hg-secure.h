/* Handling of secrets: comparisons whose time does not depend on where two
 * buffers differ, and random bytes from the kernel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the n bytes at a and b are equal; takes the same time for any
 * contents of the same length. */
bool hg_memeq_consttime(const void *a, const void *b, size_t n);

/* Fills buf with n bytes from getrandom(); 0 or -errno. Never returns
 * partially filled buffers as success. */
int hg_random_bytes(void *buf, size_t n);

/* Lower-case hex of n bytes into out, which holds 2n + 1 chars. */
void hg_hex_encode(const uint8_t *in, size_t n, char *out);
/* The n bytes of 2n lower-case hex digits (the rest of in is not read);
 * 0, or -EINVAL for anything that is not such a digit. */
int hg_hex_decode(const char *in, uint8_t *out, size_t n);
