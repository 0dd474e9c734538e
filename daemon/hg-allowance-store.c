/* The allowance's records; see hg-allowance-store.h. The codec is strict:
 * a record decides how long someone may use the machine, and one that
 * cannot be read exactly is not read at all. */
#include "hg-allowance-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hg-macros.h"
#include "hg-record.h"
#include "hg-secure.h"
#include "hg-wall.h"

#define FILE_NAME_MAX 200

struct HgAllowanceStore {
  int dir_fd;
  char *dir;
  uint64_t writes;
};

void hg_allowance_record_clear(HgAllowanceRecord *r) {
  g_clear_pointer(&r->user, g_free);
}

/* --- the codec --------------------------------------------------------- */

char *hg_allowance_record_encode(const HgAllowanceRecord *r, size_t *ret_len) {
  GString *out = g_string_new(NULL);
  char date[HG_WALL_DATE_LEN + 1];

  hg_wall_date_format(r->day, date);
  g_string_append_printf(
      out,
      "HOURGLASS_ALLOWANCE=%d\nUSER=%s\nDAY=%s\n"
      "USED_USEC=%" PRIu64 "\nGRANTED_USEC=%" PRIu64 "\n"
      "SPENT=%d\nBOOT_ID=%s\nSAVED_AT=%" PRIu64 "\nOPEN=%d\n",
      HG_ALLOWANCE_RECORD_VERSION, r->user, date, r->used, r->granted, r->spent,
      r->boot_id, r->saved_at, r->open);
  hg_record_seal(out);
  *ret_len = out->len;
  return g_string_free(out, FALSE);
}

static const char *const record_keys[] = {
    "HOURGLASS_ALLOWANCE",
    "USER",
    "DAY",
    "USED_USEC",
    "GRANTED_USEC",
    "SPENT",
    "BOOT_ID",
    "SAVED_AT",
    "OPEN",
};
#define N_RECORD_KEYS HG_ELEMENTSOF(record_keys)

/* Every key once, in its place: the values, or an error. */
static int split_lines(char *text, const char *values[N_RECORD_KEYS],
                       char **ret_why) {
  char *line = text;

  for (size_t k = 0; k < N_RECORD_KEYS; k++) {
    char *end = strchr(line, '\n'), *eq;
    size_t n = strlen(record_keys[k]);

    if (!end)
      return hg_record_refuse(ret_why, -EINVAL, "line %zu: missing", k + 1);
    *end = '\0';
    eq = line + n;
    if (strncmp(line, record_keys[k], n) != 0 || *eq != '=')
      return hg_record_refuse(ret_why, -EINVAL, "line %zu: not %s=", k + 1,
                              record_keys[k]);
    values[k] = eq + 1;
    line = end + 1;
  }
  if (*line)
    return hg_record_refuse(ret_why, -EINVAL, "more lines than a record has");
  return 0;
}

static int parse_values(const char *const v[N_RECORD_KEYS],
                        HgAllowanceRecord *r, char **ret_why) {
  uint64_t n;

  if (!hg_record_parse_u64(v[0], UINT32_MAX, &n) ||
      n != HG_ALLOWANCE_RECORD_VERSION)
    return hg_record_refuse(ret_why, -EPROTONOSUPPORT, "version %s, not %d",
                            v[0], HG_ALLOWANCE_RECORD_VERSION);
  if (!hg_record_text_ok(v[1], HG_ALLOWANCE_USER_MAX))
    return hg_record_refuse(ret_why, -EINVAL, "bad USER");
  if (hg_wall_date_parse(v[2], &r->day) < 0)
    return hg_record_refuse(ret_why, -EINVAL, "bad DAY");
  if (!hg_record_parse_u64(v[3], HG_ALLOWANCE_USED_MAX, &r->used) ||
      !hg_record_parse_u64(v[4], HG_ALLOWANCE_GRANTED_MAX, &r->granted))
    return hg_record_refuse(ret_why, -EINVAL, "bad USED_USEC or GRANTED_USEC");
  if (!hg_record_parse_u64(v[5], 1, &n))
    return hg_record_refuse(ret_why, -EINVAL, "bad SPENT");
  r->spent = n;
  if (!hg_record_hex_ok(v[6], HG_ALLOWANCE_BOOT_ID_LEN) ||
      !hg_record_parse_u64(v[7], HG_USEC_INFINITY - 1, &r->saved_at))
    return hg_record_refuse(ret_why, -EINVAL, "bad BOOT_ID or SAVED_AT");
  memcpy(r->boot_id, v[6], HG_ALLOWANCE_BOOT_ID_LEN + 1);
  if (!hg_record_parse_u64(v[8], 1, &n))
    return hg_record_refuse(ret_why, -EINVAL, "bad OPEN");
  r->open = n;
  r->user = g_strdup(v[1]);
  return 0;
}

int hg_allowance_record_decode(const char *data, size_t len,
                               HgAllowanceRecord *ret, char **ret_why) {
  const char *values[N_RECORD_KEYS];
  g_autofree char *text = NULL;
  HgAllowanceRecord r = {0};
  size_t body;
  int err;

  *ret_why = NULL;
  if (len > HG_ALLOWANCE_RECORD_MAX)
    return hg_record_refuse(ret_why, -EINVAL, "larger than %d bytes",
                            HG_ALLOWANCE_RECORD_MAX);
  if (memchr(data, '\0', len) || !g_utf8_validate(data, (gssize)len, NULL))
    return hg_record_refuse(ret_why, -EINVAL, "not UTF-8 text");
  if (len < 20 || strncmp(data, "HOURGLASS_ALLOWANCE=", 20) != 0)
    return hg_record_refuse(ret_why, -EINVAL, "not an allowance record");
  text = g_strndup(data, len);
  err = hg_record_unseal(text, len, &body, ret_why);
  if (err >= 0)
    err = split_lines(text, values, ret_why);
  if (err >= 0)
    err = parse_values(values, &r, ret_why);
  if (err < 0) {
    hg_allowance_record_clear(&r);
    return err;
  }
  *ret = r;
  return 0;
}

/* --- the files --------------------------------------------------------- */

char *hg_allowance_store_file_name(const char *user) {
  GString *out = g_string_new(NULL);

  for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
    if (g_ascii_isalnum(*p) || strchr("_-@", *p) ||
        (*p == '.' && p != (const unsigned char *)user))
      g_string_append_c(out, (char)*p);
    else
      g_string_append_printf(out, "%%%02X", *p);
  }
  if (out->len > FILE_NAME_MAX || out->len == 0) {
    g_autofree char *sum =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, user, -1);
    g_string_printf(out, "~%s", sum);
  }
  return g_string_free(out, FALSE);
}

char *hg_allowance_store_default_dir(void) {
  return hg_record_unit_dir("STATE_DIRECTORY", "allowance");
}

/* Ours and closed to others (user names are personal data). */
static int open_private_dir(int at_fd, const char *name, int *ret_fd) {
  _cleanup_close_ int fd = -1;
  struct stat sb;

  if (mkdirat(at_fd, name, 0700) < 0 && errno != EEXIST)
    return -errno;
  fd = openat(at_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  if (fstat(fd, &sb) < 0)
    return -errno;
  if (sb.st_uid != geteuid() || (sb.st_mode & 0077))
    return -EPERM;
  *ret_fd = TAKE_FD(fd);
  return 0;
}

int hg_allowance_store_new(const char *dir, HgAllowanceStore **ret) {
  int fd = -1;
  int r = open_private_dir(AT_FDCWD, dir, &fd);

  if (r < 0)
    return r;
  *ret = g_new0(HgAllowanceStore, 1);
  (*ret)->dir_fd = fd;
  (*ret)->dir = g_strdup(dir);
  return 0;
}

HgAllowanceStore *hg_allowance_store_free(HgAllowanceStore *st) {
  if (!st)
    return NULL;
  st->dir_fd = hg_close_nointr(st->dir_fd);
  g_free(st->dir);
  g_free(st);
  return NULL;
}

const char *hg_allowance_store_dir(const HgAllowanceStore *st) {
  return st->dir;
}

uint64_t hg_allowance_store_writes(const HgAllowanceStore *st) {
  return st->writes;
}

static int open_day(HgAllowanceStore *st, int64_t day, bool create,
                    int *ret_fd) {
  char date[HG_WALL_DATE_LEN + 1];
  int fd, r;

  hg_wall_date_format(day, date);
  if (!create) {
    fd = openat(st->dir_fd, date,
                O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    *ret_fd = fd;
    return fd < 0 ? -errno : 0;
  }
  r = open_private_dir(st->dir_fd, date, ret_fd);
  /* A new day's directory lasts only once its parent says so. */
  if (r >= 0 && fsync(st->dir_fd) < 0)
    r = -errno;
  return r;
}

int hg_allowance_store_load(HgAllowanceStore *st, const char *user, int64_t day,
                            HgAllowanceRecord *ret, char **ret_why) {
  g_autofree char *name = hg_allowance_store_file_name(user);
  g_autofree char *data = NULL;
  _cleanup_close_ int day_fd = -1;
  HgAllowanceRecord r = {0};
  size_t len = 0;
  int err;

  *ret_why = NULL;
  err = open_day(st, day, false, &day_fd);
  if (err >= 0)
    err = hg_record_read(day_fd, name, HG_ALLOWANCE_RECORD_MAX, &data, &len);
  if (err == -ENOENT)
    return err;
  if (err < 0)
    return hg_record_refuse(ret_why, err, "cannot be read: %s",
                            g_strerror(-err));
  err = hg_allowance_record_decode(data, len, &r, ret_why);
  if (err < 0)
    return err;
  if (strcmp(r.user, user) != 0 || r.day != day) {
    hg_allowance_record_clear(&r);
    return hg_record_refuse(ret_why, -EINVAL, "it is another user's or day's");
  }
  *ret = r;
  return 0;
}

int hg_allowance_store_save(HgAllowanceStore *st, const HgAllowanceRecord *r) {
  g_autofree char *name = hg_allowance_store_file_name(r->user);
  g_autofree char *data = NULL;
  _cleanup_close_ int day_fd = -1;
  size_t len;
  int err;

  err = open_day(st, r->day, true, &day_fd);
  if (err < 0)
    return err;
  data = hg_allowance_record_encode(r, &len);
  err = hg_record_replace(day_fd, name, data, len, true);
  if (err >= 0)
    st->writes++;
  return err;
}

/* Everything in a day's directory, then the directory. */
static void remove_day(int dir_fd, const char *name) {
  _cleanup_close_ int fd =
      openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;

  if (!d)
    return;
  fd = -1; /* the DIR has it */
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      (void)unlinkat(dirfd(d), de->d_name, 0);
  closedir(d);
  (void)unlinkat(dir_fd, name, AT_REMOVEDIR);
}

/* What a crash left of a write: ".NAME.tmp". */
static void remove_leftovers(int dir_fd, const char *name) {
  _cleanup_close_ int fd =
      openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;

  if (!d)
    return;
  fd = -1;
  while ((de = readdir(d)))
    if (de->d_name[0] == '.' && g_str_has_suffix(de->d_name, ".tmp"))
      (void)unlinkat(dirfd(d), de->d_name, 0);
  closedir(d);
}

unsigned hg_allowance_store_prune(HgAllowanceStore *st, int64_t today) {
  _cleanup_close_ int fd = fcntl(st->dir_fd, F_DUPFD_CLOEXEC, 3);
  g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;
  int64_t day;

  if (!d)
    return 0;
  fd = -1;
  rewinddir(d);
  while ((de = readdir(d))) {
    if (hg_wall_date_parse(de->d_name, &day) < 0)
      continue;
    g_ptr_array_add(day < today - 1 || day > today + 1 ? old : kept,
                    g_strdup(de->d_name));
  }
  closedir(d);
  for (guint i = 0; i < old->len; i++)
    remove_day(st->dir_fd, old->pdata[i]);
  for (guint i = 0; i < kept->len; i++)
    remove_leftovers(st->dir_fd, kept->pdata[i]);
  return old->len;
}
