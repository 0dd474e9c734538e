/* Opening hours: the weekly schedule of AllowedHours=, parsed and asked.
 * Pure: the instant (CLOCK_REALTIME µs) and the time zone come in, so
 * daylight saving changes and clock jumps are tested with fixed inputs.
 *
 * Syntax: entries separated by ';', each DAYS SPANS:
 *
 *   Mon-Fri 09:00-20:00; Sat 10:00-16:00
 *   Mon,Wed 08:00-12:00,13:00-17:00; Sun 22:00-02:00
 *   09:00-17:00                  (no days: every day)
 *
 * DAYS is a comma-separated list of Mon Tue Wed Thu Fri Sat Sun (any
 * case) or ranges of them (Fri-Mon wraps over the week's end). A SPAN is
 * HH:MM-HH:MM; 24:00 may end a span. A span whose end comes before its
 * start runs past midnight into the next day: "Fri 22:00-02:00" is open
 * from Friday 22:00 to Saturday 02:00 (the day named is the day it
 * starts). A span of no length (10:00-10:00) is an error. Spans that
 * overlap or touch are joined. Empty means always open.
 *
 * Meaning: open at an instant exactly when the local wall clock then reads
 * a time inside a span, start included, end excluded. So on the spring
 * change a span that lies in the skipped hour never opens and one that
 * ends in it closes at the jump; on the autumn change the repeated hour is
 * open or closed both times as its wall time says. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "hg-time.h"

#define HG_SCHEDULE_MAX_SPANS 64
#define HG_SCHEDULE_TEXT_MAX 1024
#define HG_WEEK_MINUTES (7 * 24 * 60)

/* Minutes of the week from Monday 00:00, start < end <= HG_WEEK_MINUTES. */
typedef struct {
  uint16_t start, end;
} HgScheduleSpan;

/* By value (a policy's limits are copied whole): no pointers. Spans are
 * sorted, disjoint and never touch; none at all means always open. */
typedef struct {
  unsigned n_spans;
  HgScheduleSpan spans[HG_SCHEDULE_MAX_SPANS];
} HgSchedule;

/* Parses text into *ret; false with "at character N: ..." (1-based) in
 * why. */
bool hg_schedule_parse(const char *text, HgSchedule *ret, GString *why);

/* No span: open all the time. (A schedule that covers the whole week is
 * open all the time too, but is not "always".) */
bool hg_schedule_is_always(const HgSchedule *s);

bool hg_schedule_is_open(const HgSchedule *s, GTimeZone *tz, hg_usec_t t);
/* The first instant at or after t at which it is closed (t itself when
 * closed then), HG_USEC_INFINITY if it never closes. */
hg_usec_t hg_schedule_next_close(const HgSchedule *s, GTimeZone *tz,
                                 hg_usec_t t);
/* The first instant at or after t at which it is open (t itself when open
 * then), HG_USEC_INFINITY if it never opens. */
hg_usec_t hg_schedule_next_open(const HgSchedule *s, GTimeZone *tz,
                                hg_usec_t t);

/* The canonical text of a schedule ("Mon 09:00-20:00; ..."), one entry per
 * span, for logs and D-Bus; "" for always. */
char *hg_schedule_format(const HgSchedule *s);
