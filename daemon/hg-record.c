/* Sealed record files; see hg-record.h. */
#include "hg-record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hg-macros.h"
#include "hg-secure.h"

#define SHA256_HEX_LEN 64

static const char checksum_key[] = "CHECKSUM=";

static char *sha256_hex(const char *data, size_t len) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data,
                                     len);
}

void hg_record_seal(GString *text) {
  g_autofree char *sum = sha256_hex(text->str, text->len);

  g_string_append_printf(text, "%s%s\n", checksum_key, sum);
}

int hg_record_unseal(char *text, size_t len, size_t *ret_body, char **ret_why) {
  const size_t key_len = sizeof(checksum_key) - 1;
  g_autofree char *want = NULL;
  char *line;

  if (len == 0 || text[len - 1] != '\n')
    return hg_record_refuse(ret_why, -EBADMSG, "truncated: no end of line");
  text[len - 1] = '\0';
  line = strrchr(text, '\n');
  line = line ? line + 1 : text;
  if (!g_str_has_prefix(line, checksum_key) ||
      !hg_record_hex_ok(line + key_len, SHA256_HEX_LEN))
    return hg_record_refuse(ret_why, -EBADMSG,
                            "truncated: no checksum at the end");
  want = sha256_hex(text, (size_t)(line - text));
  if (!hg_memeq_consttime(want, line + key_len, SHA256_HEX_LEN))
    return hg_record_refuse(ret_why, -EBADMSG, "checksum does not match");
  *ret_body = (size_t)(line - text);
  *line = '\0';
  return 0;
}

int hg_record_refuse(char **ret_why, int err, const char *fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  *ret_why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return err;
}

bool hg_record_hex_ok(const char *s, size_t len) {
  if (strlen(s) != len)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isdigit(s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return false;
  return true;
}

bool hg_record_text_ok(const char *s, size_t max) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return *s != '\0' && strlen(s) <= max;
}

bool hg_record_parse_u64(const char *s, uint64_t max, uint64_t *ret) {
  guint64 v;

  if (!g_ascii_isdigit(s[0]) ||
      !g_ascii_string_to_unsigned(s, 10, 0, max, &v, NULL))
    return false;
  *ret = v;
  return true;
}

int hg_record_read(int dir_fd, const char *name, size_t max, char **ret,
                   size_t *ret_len) {
  _cleanup_close_ int fd = -1;
  g_autofree char *buf = g_malloc(max + 1);
  size_t len = 0;

  fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  while (len <= max) {
    ssize_t n = read(fd, buf + len, max + 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    len += (size_t)n;
  }
  *ret = g_steal_pointer(&buf);
  *ret_len = len;
  return 0;
}

static int write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

int hg_record_replace(int dir_fd, const char *name, const char *data,
                      size_t len, bool durable) {
  g_autofree char *tmp = g_strconcat(".", name, ".tmp", NULL);
  _cleanup_close_ int fd = -1;
  int r;

  fd = openat(dir_fd, tmp,
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -errno;
  r = write_all(fd, data, len);
  if (r >= 0 && durable && fsync(fd) < 0)
    r = -errno;
  if (r >= 0 && close(TAKE_FD(fd)) < 0)
    r = -errno;
  if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
    r = -errno;
  if (r < 0) {
    (void)unlinkat(dir_fd, tmp, 0);
    return r;
  }
  return durable && fsync(dir_fd) < 0 ? -errno : 0;
}

char *hg_record_unit_dir(const char *env, const char *sub) {
  const char *e = getenv(env);
  g_autofree char *first = NULL;

  if (!e || *e != '/')
    return NULL;
  first = g_strndup(e, strcspn(e, ":"));
  return g_build_filename(first, sub, NULL);
}
