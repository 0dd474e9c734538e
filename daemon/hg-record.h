/* The small files hourglass keeps: a session's state (in /run) and a
 * person's allowance of the day (in /var/lib). Both are KEY=value lines
 * sealed by a last line CHECKSUM=<SHA-256 of everything before it>, read
 * whole with a size bound and replaced whole through a temporary file.
 * Reading is strict: what cannot be read exactly is refused, with why. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Appends the checksum line of text. */
void hg_record_seal(GString *text);

/* Checks the checksum line that ends text (len bytes, a NUL after them)
 * and cuts text there (a NUL at the line's start); *ret_body is the length
 * it covers. -EBADMSG and why (truncated, no checksum, a mismatch). */
int hg_record_unseal(char *text, size_t len, size_t *ret_body, char **ret_why);

/* Sets *ret_why and returns err: one line for each refusal. */
int hg_record_refuse(char **ret_why, int err, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* Exactly len lowercase hex digits. */
bool hg_record_hex_ok(const char *s, size_t len);
/* Printable (no control characters), not empty, at most max bytes. */
bool hg_record_text_ok(const char *s, size_t max);
/* Decimal digits only, at most max. */
bool hg_record_parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* Reads name below dir_fd (never through a symlink): at most max bytes
 * are taken, so a longer file reads as max + 1 bytes and is refused by its
 * decoder. -errno. */
int hg_record_read(int dir_fd, const char *name, size_t max, char **ret,
                   size_t *ret_len);

/* Replaces name below dir_fd with data: a temporary file ".NAME.tmp"
 * (0600), renamed over it, so that a crash leaves the old file or the new
 * one. durable: fsync the file before and the directory after the rename,
 * for files that must outlast a power cut. -errno. */
int hg_record_replace(int dir_fd, const char *name, const char *data,
                      size_t len, bool durable);

/* SUB below the first directory systemd names in the variable env
 * (RUNTIME_DIRECTORY, STATE_DIRECTORY: ":"-separated absolute paths);
 * NULL when it names none. */
char *hg_record_unit_dir(const char *env, const char *sub);
