/* The local wall clock; see hg-wall.h. GTimeZone says the offset of any
 * instant; everything else is integer arithmetic on µs, without GDateTime
 * (which would allocate for every reading). */
#include "hg-wall.h"

#include <errno.h>
#include <stdbool.h>

#include "hg-macros.h"

/* The Julian day (GDate's count, 1 = 0001-01-01) of 1970-01-01. */
#define EPOCH_JULIAN 719163

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int32_t offset_at(GTimeZone *tz, int64_t sec) {
  gint interval = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, sec);
  return g_time_zone_get_offset(tz, interval);
}

static int64_t sec_of(hg_usec_t t) { return (int64_t)(t / HG_USEC_PER_SEC); }

void hg_wall_time(GTimeZone *tz, hg_usec_t t, HgWallTime *ret) {
  int64_t local =
      (int64_t)t + (int64_t)offset_at(tz, sec_of(t)) * (int64_t)HG_USEC_PER_SEC;
  int64_t day = floor_div(local, (int64_t)HG_USEC_PER_DAY);

  ret->day = day;
  /* 1970-01-01 was a Thursday: weekday 3 counting from Monday. */
  ret->weekday = (unsigned)(((day + 3) % 7 + 7) % 7);
  ret->of_day = (hg_usec_t)(local - day * (int64_t)HG_USEC_PER_DAY);
}

hg_usec_t hg_wall_advance(GTimeZone *tz, hg_usec_t t, hg_usec_t delta) {
  hg_usec_t cand = hg_usec_add(t, HG_MIN(delta, HG_USEC_PER_DAY));
  int64_t lo = sec_of(t), hi = sec_of(cand);
  int32_t from = offset_at(tz, lo);

  if (offset_at(tz, hi) == from)
    return cand;
  /* The offset changed in (lo, hi]: find the second it did. Zones change
   * at whole seconds, and never twice within a day. */
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (offset_at(tz, mid) == from)
      lo = mid;
    else
      hi = mid;
  }
  return (hg_usec_t)hi * HG_USEC_PER_SEC;
}

hg_usec_t hg_wall_next_day(GTimeZone *tz, hg_usec_t t) {
  HgWallTime start, w;
  hg_usec_t u = t;

  hg_wall_time(tz, t, &start);
  w = start;
  /* Each step reaches midnight or a change of offset; a day has at most
   * a few of those. */
  for (int i = 0; i < 8; i++) {
    u = hg_wall_advance(tz, u, HG_USEC_PER_DAY - w.of_day);
    hg_wall_time(tz, u, &w);
    if (w.day != start.day)
      return u;
  }
  return u;
}

hg_usec_t hg_wall_day_start(GTimeZone *tz, hg_usec_t t) {
  /* From a point surely in an earlier day, day by day up to t's. */
  hg_usec_t x = hg_usec_sub(t, 2 * HG_USEC_PER_DAY + HG_USEC_PER_DAY / 12);

  for (int i = 0; i < 8; i++) {
    hg_usec_t n = hg_wall_next_day(tz, x);
    if (n > t)
      break;
    x = n;
  }
  return x;
}

static void put_digits(char *out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; i--, v /= 10)
    out[i] = (char)('0' + v % 10);
}

void hg_wall_date_format(int64_t day, char buf[HG_WALL_DATE_LEN + 1]) {
  GDate d;

  g_date_clear(&d, 1);
  g_date_set_julian(&d, (guint32)(day + EPOCH_JULIAN));
  put_digits(buf, g_date_get_year(&d), 4);
  buf[4] = '-';
  put_digits(buf + 5, g_date_get_month(&d), 2);
  buf[7] = '-';
  put_digits(buf + 8, g_date_get_day(&d), 2);
  buf[HG_WALL_DATE_LEN] = '\0';
}

static bool digits(const char *s, size_t n, unsigned *ret) {
  unsigned v = 0;

  for (size_t i = 0; i < n; i++) {
    if (!g_ascii_isdigit(s[i]))
      return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  *ret = v;
  return true;
}

int hg_wall_date_parse(const char *s, int64_t *ret) {
  unsigned y, m, d;
  GDate date;

  if (strlen(s) != HG_WALL_DATE_LEN || s[4] != '-' || s[7] != '-' ||
      !digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d) ||
      y < 1970 || !g_date_valid_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y))
    return -EINVAL;
  g_date_clear(&date, 1);
  g_date_set_dmy(&date, (GDateDay)d, (GDateMonth)m, (GDateYear)y);
  *ret = (int64_t)g_date_get_julian(&date) - EPOCH_JULIAN;
  return 0;
}
