/* Opening hours; see hg-schedule.h. The parser reads the text once, left
 * to right, and joins each entry's spans into the sorted set at once, so
 * every error knows its position. The questions step through the week
 * from boundary to boundary on the wall clock (hg-wall.h), re-reading it
 * wherever the zone's offset changes. */
#include "hg-schedule.h"

#include <string.h>

#include "hg-macros.h"
#include "hg-wall.h"

#define DAY_MINUTES (24 * 60)
#define USEC_PER_MINUTE (60 * HG_USEC_PER_SEC)
#define WEEK_USEC ((hg_usec_t)HG_WEEK_MINUTES * USEC_PER_MINUTE)

static const char *const day_names[7] = {"Mon", "Tue", "Wed", "Thu",
                                         "Fri", "Sat", "Sun"};

typedef struct {
  const char *text;
  size_t pos;
  GString *why;
  HgSchedule *out;
} Parser;

static bool fail_at(Parser *p, size_t at, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static bool fail_at(Parser *p, size_t at, const char *fmt, ...) {
  va_list ap;

  g_string_printf(p->why, "at character %zu: ", at + 1);
  va_start(ap, fmt);
  g_string_append_vprintf(p->why, fmt, ap);
  va_end(ap);
  return false;
}

static char peek(const Parser *p) { return p->text[p->pos]; }

static void skip_blanks(Parser *p) {
  while (peek(p) == ' ' || peek(p) == '\t')
    p->pos++;
}

static bool parse_day(Parser *p, unsigned *ret) {
  for (unsigned d = 0; d < 7; d++)
    if (g_ascii_strncasecmp(p->text + p->pos, day_names[d], 3) == 0 &&
        !g_ascii_isalpha(p->text[p->pos + 3])) {
      p->pos += 3;
      *ret = d;
      return true;
    }
  return fail_at(p, p->pos,
                 "expected a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)");
}

/* "Mon", "Mon-Fri" (wrapping: "Fri-Mon"), and lists of them. */
static bool parse_days(Parser *p, bool days[7]) {
  unsigned from, to;

  for (;;) {
    if (!parse_day(p, &from))
      return false;
    to = from;
    if (peek(p) == '-') {
      p->pos++;
      if (!parse_day(p, &to))
        return false;
    }
    for (unsigned d = from;; d = (d + 1) % 7) {
      days[d] = true;
      if (d == to)
        break;
    }
    if (peek(p) != ',')
      return true;
    p->pos++;
    skip_blanks(p);
  }
}

/* H:MM or HH:MM as minutes of the day; 24:00 only where it may end. */
static bool parse_time(Parser *p, bool is_end, unsigned *ret) {
  const char *s = p->text + p->pos;
  size_t at = p->pos, n = 0;
  unsigned h = 0, m;

  while (n < 2 && g_ascii_isdigit(s[n]))
    h = h * 10 + (unsigned)(s[n++] - '0');
  if (n == 0 || s[n] != ':' || !g_ascii_isdigit(s[n + 1]) ||
      !g_ascii_isdigit(s[n + 2]) || g_ascii_isdigit(s[n + 3]))
    return fail_at(p, at, "expected a time HH:MM");
  m = (unsigned)(s[n + 1] - '0') * 10 + (unsigned)(s[n + 2] - '0');
  if (h == 24 && m == 0 && !is_end)
    return fail_at(p, at, "24:00 only ends a span");
  if ((h > 23 || m > 59) && !(h == 24 && m == 0))
    return fail_at(p, at, "%.*s is not a time of day (00:00 to 24:00)",
                   (int)n + 3, s);
  p->pos += n + 3;
  *ret = h * 60 + m;
  return true;
}

/* Adds [start, end) in minutes of the week (end may pass the week's end:
 * it wraps to Monday), joining what overlaps or touches. false when that
 * would make more than HG_SCHEDULE_MAX_SPANS. */
static bool add_span(HgSchedule *s, unsigned start, unsigned end) {
  HgScheduleSpan merged = {(uint16_t)start, (uint16_t)end};
  HgScheduleSpan out[HG_SCHEDULE_MAX_SPANS + 1];
  unsigned n = 0;
  bool placed = false;

  if (end > HG_WEEK_MINUTES)
    return add_span(s, start, HG_WEEK_MINUTES) &&
           add_span(s, 0, end - HG_WEEK_MINUTES);
  /* s is sorted and disjoint: at most one more span comes out. */
  for (unsigned i = 0; i < s->n_spans; i++) {
    HgScheduleSpan x = s->spans[i];
    if (x.end < merged.start) {
      out[n++] = x;
      continue;
    }
    if (x.start > merged.end) {
      if (!placed)
        out[n++] = merged;
      placed = true;
      out[n++] = x;
      continue;
    }
    merged.start = HG_MIN(merged.start, x.start);
    merged.end = HG_MAX(merged.end, x.end);
  }
  if (!placed)
    out[n++] = merged;
  if (n > HG_SCHEDULE_MAX_SPANS)
    return false;
  memcpy(s->spans, out, n * sizeof(out[0]));
  s->n_spans = n;
  return true;
}

/* One HH:MM-HH:MM, added on every day of days. */
static bool parse_span(Parser *p, const bool days[7]) {
  size_t at = p->pos;
  unsigned start, end;

  if (!parse_time(p, false, &start))
    return false;
  if (peek(p) != '-')
    return fail_at(p, p->pos,
                   "expected '-' between the start and the end of a span");
  p->pos++;
  if (!parse_time(p, true, &end))
    return false;
  if (end == start)
    return fail_at(p, at, "a span from %02u:%02u to %02u:%02u is empty",
                   start / 60, start % 60, end / 60, end % 60);
  if (end < start)
    end += DAY_MINUTES; /* past midnight, into the next day */
  for (unsigned d = 0; d < 7; d++)
    if (days[d] &&
        !add_span(p->out, d * DAY_MINUTES + start, d * DAY_MINUTES + end))
      return fail_at(p, at, "more than %d separate spans in the week",
                     HG_SCHEDULE_MAX_SPANS);
  return true;
}

static bool parse_entry(Parser *p) {
  bool days[7] = {false};

  if (g_ascii_isdigit(peek(p))) {
    memset(days, true, sizeof(days));
  } else {
    if (!g_ascii_isalpha(peek(p)))
      return fail_at(p, p->pos,
                     "expected a day (Mon, Tue, Wed, Thu, Fri, "
                     "Sat, Sun) or a time");
    if (!parse_days(p, days))
      return false;
    if (peek(p) != ' ' && peek(p) != '\t')
      return fail_at(p, p->pos,
                     "expected a space between the days and the times");
    skip_blanks(p);
  }
  for (;;) {
    if (!parse_span(p, days))
      return false;
    skip_blanks(p);
    if (peek(p) != ',')
      return true;
    p->pos++;
    skip_blanks(p);
  }
}

bool hg_schedule_parse(const char *text, HgSchedule *ret, GString *why) {
  HgSchedule s = {0};
  Parser p = {text, 0, why, &s};
  size_t len = strlen(text);

  if (len > HG_SCHEDULE_TEXT_MAX)
    return fail_at(&p, HG_SCHEDULE_TEXT_MAX, "longer than %d characters",
                   HG_SCHEDULE_TEXT_MAX);
  for (;;) {
    skip_blanks(&p);
    if (peek(&p) == '\0')
      break;
    if (peek(&p) != ';' && !parse_entry(&p))
      return false;
    skip_blanks(&p);
    if (peek(&p) == '\0')
      break;
    if (peek(&p) != ';')
      return fail_at(&p, p.pos,
                     "expected ';' between entries or ',' between spans");
    p.pos++;
  }
  *ret = s;
  return true;
}

bool hg_schedule_is_always(const HgSchedule *s) { return s->n_spans == 0; }

static bool whole_week(const HgSchedule *s) {
  return s->n_spans == 1 && s->spans[0].start == 0 &&
         s->spans[0].end == HG_WEEK_MINUTES;
}

/* The wall clock at t as µs of the week from Monday 00:00. */
static hg_usec_t week_usec(GTimeZone *tz, hg_usec_t t) {
  HgWallTime w;

  hg_wall_time(tz, t, &w);
  return w.weekday * HG_USEC_PER_DAY + w.of_day;
}

static bool open_at(const HgSchedule *s, hg_usec_t w) {
  for (unsigned i = 0; i < s->n_spans; i++)
    if (w >= s->spans[i].start * USEC_PER_MINUTE &&
        w < s->spans[i].end * USEC_PER_MINUTE)
      return true;
  return false;
}

/* Wall time from w to the next span edge after it, around the week. */
static hg_usec_t to_next_edge(const HgSchedule *s, hg_usec_t w) {
  for (unsigned i = 0; i < s->n_spans; i++) {
    hg_usec_t a = s->spans[i].start * USEC_PER_MINUTE;
    hg_usec_t b = s->spans[i].end * USEC_PER_MINUTE;
    if (a > w)
      return a - w;
    if (b > w)
      return b - w;
  }
  return WEEK_USEC - w + s->spans[0].start * USEC_PER_MINUTE;
}

bool hg_schedule_is_open(const HgSchedule *s, GTimeZone *tz, hg_usec_t t) {
  return s->n_spans == 0 || open_at(s, week_usec(tz, t));
}

/* The first instant at or after t that is open (or closed) as wanted. Each
 * step lands on an edge of a span or on a change of the zone's offset;
 * a week has at most 2 * HG_SCHEDULE_MAX_SPANS edges, and a step is at
 * most a day (hg_wall_advance), so the bound below is never reached. */
static hg_usec_t next_change(const HgSchedule *s, GTimeZone *tz, hg_usec_t t,
                             bool want_open) {
  hg_usec_t u = t;

  if (s->n_spans == 0 || whole_week(s))
    return want_open ? t : HG_USEC_INFINITY;
  for (int i = 0; i < 4 * HG_SCHEDULE_MAX_SPANS + 32; i++) {
    hg_usec_t w = week_usec(tz, u);
    if (open_at(s, w) == want_open)
      return u;
    u = hg_wall_advance(tz, u, to_next_edge(s, w));
  }
  return HG_USEC_INFINITY;
}

hg_usec_t hg_schedule_next_close(const HgSchedule *s, GTimeZone *tz,
                                 hg_usec_t t) {
  return next_change(s, tz, t, false);
}

hg_usec_t hg_schedule_next_open(const HgSchedule *s, GTimeZone *tz,
                                hg_usec_t t) {
  return next_change(s, tz, t, true);
}

static void append_piece(GString *out, unsigned start, unsigned end) {
  unsigned day = start / DAY_MINUTES, a = start % DAY_MINUTES;
  unsigned b = end - day * DAY_MINUTES;

  if (out->len > 0)
    g_string_append(out, "; ");
  g_string_append_printf(out, "%s %02u:%02u-%02u:%02u", day_names[day], a / 60,
                         a % 60, b / 60, b % 60);
}

char *hg_schedule_format(const HgSchedule *s) {
  GString *out = g_string_new(NULL);

  /* Each span cut at midnights: every piece is one day's, and the text
   * parses back to the same schedule. */
  for (unsigned i = 0; i < s->n_spans; i++) {
    unsigned start = s->spans[i].start, end = s->spans[i].end;
    while (start < end) {
      unsigned midnight = (start / DAY_MINUTES + 1) * DAY_MINUTES;
      append_piece(out, start, HG_MIN(end, midnight));
      start = HG_MIN(end, midnight);
    }
  }
  return g_string_free(out, FALSE);
}
