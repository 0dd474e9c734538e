/* The input of a session's tty; see hg-tty.h. */
#include "hg-tty.h"

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/stat.h>

#include "hg-macros.h"

/* The span of atime values the kernel does not tell apart (the low three
 * bits of the seconds). */
#define ATIME_SPAN_SEC 8

bool hg_tty_name_is_valid(const char *tty) {
  g_auto(GStrv) parts = NULL;
  size_t n = tty ? strlen(tty) : 0;

  if (n == 0 || n > 64 || tty[0] == '/' || tty[n - 1] == '/')
    return false;
  for (const char *p = tty; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("/_-.", *p))
      return false;
  parts = g_strsplit(tty, "/", -1);
  for (char **p = parts; *p; p++)
    if (!**p || strcmp(*p, ".") == 0 || strcmp(*p, "..") == 0)
      return false;
  return true;
}

hg_usec_t hg_tty_input_bound(int64_t atime_sec, hg_usec_t realtime_now) {
  int64_t span_end;

  if (atime_sec <= 0)
    return 0;
  span_end = (atime_sec & ~(int64_t)(ATIME_SPAN_SEC - 1)) + ATIME_SPAN_SEC;
  return HG_MIN(hg_sec_to_usec((uint64_t)span_end), realtime_now);
}

int hg_tty_last_input(const char *tty, const HgClock *clock, hg_usec_t *ret) {
  g_autofree char *path = NULL;
  hg_usec_t real_now, boot_now, bound;
  struct stat st;

  if (!hg_tty_name_is_valid(tty))
    return -EINVAL;
  path = g_strconcat("/dev/", tty, NULL);
  /* stat() needs no permission on the device itself: hourglassd, an
   * unprivileged user, cannot open other users' ttys and never tries. */
  if (stat(path, &st) < 0)
    return -errno;
  if (!S_ISCHR(st.st_mode))
    return -ENOTTY;
  real_now = clock->now(clock, CLOCK_REALTIME);
  boot_now = clock->now(clock, CLOCK_BOOTTIME);
  bound = hg_tty_input_bound(st.st_atim.tv_sec, real_now);
  *ret = hg_usec_sub(boot_now, real_now - bound);
  return 0;
}
