/* Session tokens: 256 random bits, sent to the browser once in the cookie
 * and kept by the server only as a SHA-256 hash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hg-session.h"

#define HG_COOKIE_NAME "hourglass_session"
#define HG_TOKEN_BYTES 32
#define HG_TOKEN_TEXT_LEN 43 /* base64url of 32 bytes, no padding */

/* A fresh token as text (HG_TOKEN_TEXT_LEN + 1 chars) and its hash. */
int hg_token_new(char text[HG_TOKEN_TEXT_LEN + 1],
                 uint8_t hash[HG_TOKEN_HASH_LEN]);

/* Hashes a token presented by a client. false for anything that is not
 * shaped like one of ours (length, alphabet), which is never looked up. */
bool hg_token_hash(const char *text, uint8_t hash[HG_TOKEN_HASH_LEN]);

/* "hourglass_session=TOKEN; HttpOnly; SameSite=Strict; Path=/" */
char *hg_token_cookie(const char *text);
/* The header that removes the cookie. */
const char *hg_token_cookie_clear(void);
