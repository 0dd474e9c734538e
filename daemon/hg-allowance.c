/* The daily allowance's ledger; see hg-allowance.h. One entry per person
 * who is signed in (or whose record waits to be written); everyone else
 * is read from their record when asked. */
#include "hg-allowance.h"

#include <errno.h>

#include "hg-log.h"
#include "hg-macros.h"
#include "hg-wall.h"

typedef struct {
  char *user;
  HgAllowanceDay day;
  hg_usec_t since;       /* CLOCK_BOOTTIME up to which day.used counts */
  hg_usec_t saved_at;    /* CLOCK_BOOTTIME of the last write (or read) */
  hg_usec_t resume_from; /* this boot's record said open: its SAVED_AT */
  bool dirty;            /* changed since the record was written */
} Entry;

struct HgAllowance {
  const HgClock *clock;
  HgAllowanceStore *store;
  char boot_id[HG_ALLOWANCE_BOOT_ID_LEN + 1];
  GHashTable *entries; /* user -> Entry */
  int64_t pruned_day;
  HgLogLimit error_log;
};

/* Now on both clocks, and the wall clock's day. */
typedef struct {
  hg_usec_t boot, real;
  int64_t day;
} Now;

hg_usec_t hg_allowance_left(const HgAllowanceDay *d, hg_usec_t allowance) {
  hg_usec_t have = hg_usec_add(d->spent ? 0 : allowance, d->granted);

  return hg_usec_sub(have, d->used);
}

static void entry_free(gpointer p) {
  Entry *e = p;

  g_free(e->user);
  g_free(e);
}

HgAllowance *hg_allowance_new(const HgClock *clock, HgAllowanceStore *store,
                              const char *boot_id) {
  HgAllowance *a = g_new0(HgAllowance, 1);

  a->clock = clock;
  a->store = store;
  g_strlcpy(a->boot_id, boot_id, sizeof(a->boot_id));
  a->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
  a->pruned_day = INT64_MIN;
  a->error_log = HG_LOG_LIMIT_INIT(60 * HG_USEC_PER_SEC);
  return a;
}

HgAllowance *hg_allowance_free(HgAllowance *a) {
  if (!a)
    return NULL;
  g_hash_table_destroy(a->entries);
  g_free(a);
  return NULL;
}

static void read_now(HgAllowance *a, Now *ret) {
  g_autoptr(GTimeZone) tz = hg_clock_zone(a->clock);
  HgWallTime w;

  ret->boot = hg_clock_boottime(a->clock);
  ret->real = hg_clock_realtime(a->clock);
  hg_wall_time(tz, ret->real, &w);
  ret->day = w.day;
}

static void log_refused(const char *user, int64_t day, const char *why) {
  g_autofree char *f_user = g_strconcat("HG_USER=", user, NULL);
  char date[HG_WALL_DATE_LEN + 1];

  hg_wall_date_format(day, date);
  hg_log_fields(LOG_WARNING, (const char *[]){f_user, NULL},
                "Allowance record of %s for %s refused: %s. That day counts "
                "as used up; time an operator grants is still given",
                user, date, why);
}

/* e's day becomes day, as its record says. */
static void load_day(HgAllowance *a, Entry *e, int64_t day, hg_usec_t now) {
  HgAllowanceRecord rec = {0};
  g_autofree char *why = NULL;
  int r;

  e->day = (HgAllowanceDay){.day = day, .n_open = e->day.n_open};
  e->resume_from = 0;
  e->saved_at = now;
  if (!a->store)
    return;
  r = hg_allowance_store_load(a->store, e->user, day, &rec, &why);
  if (r == -ENOENT)
    return;
  if (r < 0) {
    log_refused(e->user, day, why);
    e->day.spent = true;
    e->dirty = true;
    return;
  }
  e->day.used = rec.used;
  e->day.granted = rec.granted;
  e->day.spent = rec.spent;
  if (rec.open && strcmp(rec.boot_id, a->boot_id) == 0 && rec.saved_at <= now)
    e->resume_from = rec.saved_at;
  hg_allowance_record_clear(&rec);
}

static int save(HgAllowance *a, Entry *e, hg_usec_t now) {
  HgAllowanceRecord rec = {
      .user = e->user,
      .day = e->day.day,
      .used = e->day.used,
      .granted = e->day.granted,
      .spent = e->day.spent,
      .saved_at = now,
      .open = e->day.n_open > 0,
  };
  unsigned quiet;
  int r = 0;

  memcpy(rec.boot_id, a->boot_id, sizeof(rec.boot_id));
  if (a->store)
    r = hg_allowance_store_save(a->store, &rec);
  e->saved_at = now; /* a failed write is tried again a minute later */
  if (r >= 0)
    e->dirty = false;
  else if (hg_log_limit_pass(&a->error_log, &quiet))
    hg_log_errno(LOG_ERR, r,
                 "Cannot write the allowance record of %s in %s (%u more "
                 "failures since the last such line): a crash would lose "
                 "the time since the last one",
                 e->user, hg_allowance_store_dir(a->store), quiet);
  return r;
}

/* The open stretch up to now, into the day's use. */
static void accrue(Entry *e, hg_usec_t now) {
  if (e->day.n_open == 0 || now <= e->since)
    return;
  e->day.used =
      HG_MIN(hg_usec_add(e->day.used, now - e->since), HG_ALLOWANCE_USED_MAX);
  e->since = now;
  e->dirty = true;
}

/* The wall clock shows another day: the stretch so far is split at that
 * day's start (as far as the clocks tell), the old day is written, the new
 * one read. */
static void roll(HgAllowance *a, Entry *e, const Now *n) {
  hg_usec_t after = 0;

  if (e->day.day == n->day)
    return;
  if (e->day.n_open > 0 && n->boot > e->since) {
    g_autoptr(GTimeZone) tz = hg_clock_zone(a->clock);
    hg_usec_t since_midnight =
        hg_usec_sub(n->real, hg_wall_day_start(tz, n->real));
    after = HG_MIN(n->boot - e->since, since_midnight);
    accrue(e, n->boot - after);
  }
  if (e->dirty)
    (void)save(a, e, n->boot);
  load_day(a, e, n->day, n->boot);
  e->since = n->boot - after;
}

/* user's entry, on today's day and counted up to now. */
static Entry *entry_get(HgAllowance *a, const char *user, const Now *n) {
  Entry *e = g_hash_table_lookup(a->entries, user);

  if (!e) {
    e = g_new0(Entry, 1);
    e->user = g_strdup(user);
    load_day(a, e, n->day, n->boot);
    g_hash_table_insert(a->entries, e->user, e);
  }
  roll(a, e, n);
  accrue(e, n->boot);
  return e;
}

/* No one signed in and nothing to write: the record says it all. Without
 * records the entry is all there is: it stays until a new day leaves
 * nothing in it. */
static bool droppable(const HgAllowance *a, const Entry *e) {
  if (e->day.n_open > 0 || e->dirty)
    return false;
  return a->store || (e->day.used == 0 && e->day.granted == 0 && !e->day.spent);
}

static void maybe_drop(HgAllowance *a, Entry *e) {
  if (droppable(a, e))
    g_hash_table_remove(a->entries, e->user);
}

void hg_allowance_open(HgAllowance *a, const char *user, bool resumed) {
  Now n;
  Entry *e;

  read_now(a, &n);
  e = entry_get(a, user, &n);
  if (e->day.n_open == 0) {
    e->since = n.boot;
    if (resumed && e->resume_from)
      e->since = e->resume_from;
  }
  e->resume_from = 0;
  e->day.n_open++;
  e->dirty = true;
}

void hg_allowance_close(HgAllowance *a, const char *user) {
  Now n;
  Entry *e;

  read_now(a, &n);
  e = entry_get(a, user, &n);
  g_return_if_fail(e->day.n_open > 0);
  e->day.n_open--;
  e->dirty = true;
  (void)save(a, e, n.boot);
  maybe_drop(a, e);
}

void hg_allowance_get(HgAllowance *a, const char *user, HgAllowanceDay *ret) {
  Now n;
  Entry *e;

  read_now(a, &n);
  e = entry_get(a, user, &n);
  *ret = e->day;
  maybe_drop(a, e);
}

int hg_allowance_grant(HgAllowance *a, const char *user, hg_usec_t amount,
                       HgAllowanceDay *ret) {
  Now n;
  Entry *e;
  int r;

  if (amount == 0 || amount > HG_USEC_PER_DAY)
    return -EINVAL;
  read_now(a, &n);
  e = entry_get(a, user, &n);
  e->day.granted =
      HG_MIN(hg_usec_add(e->day.granted, amount), HG_ALLOWANCE_GRANTED_MAX);
  e->dirty = true;
  r = save(a, e, n.boot);
  *ret = e->day;
  maybe_drop(a, e);
  return r;
}

hg_usec_t hg_allowance_tick(HgAllowance *a) {
  hg_usec_t next = HG_USEC_INFINITY;
  GHashTableIter it;
  gpointer value;
  Now n;

  read_now(a, &n);
  if (a->store && a->pruned_day != n.day) {
    hg_allowance_store_prune(a->store, n.day);
    a->pruned_day = n.day;
  }
  g_hash_table_iter_init(&it, a->entries);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Entry *e = value;
    roll(a, e, &n);
    accrue(e, n.boot);
    if (e->dirty &&
        n.boot >= hg_usec_add(e->saved_at, HG_ALLOWANCE_SAVE_INTERVAL))
      (void)save(a, e, n.boot);
    if (droppable(a, e)) {
      g_hash_table_iter_remove(&it);
      continue;
    }
    if (e->day.n_open > 0 || e->dirty)
      next = HG_MIN(next, hg_usec_add(e->saved_at, HG_ALLOWANCE_SAVE_INTERVAL));
  }
  return next;
}

void hg_allowance_flush(HgAllowance *a) {
  GHashTableIter it;
  gpointer value;
  Now n;

  read_now(a, &n);
  g_hash_table_iter_init(&it, a->entries);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Entry *e = value;
    roll(a, e, &n);
    accrue(e, n.boot);
    if (e->dirty)
      (void)save(a, e, n.boot);
  }
}

unsigned hg_allowance_count_open(const HgAllowance *a) {
  GHashTableIter it;
  gpointer value;
  unsigned n = 0;

  g_hash_table_iter_init(&it, a->entries);
  while (g_hash_table_iter_next(&it, NULL, &value))
    n += ((const Entry *)value)->day.n_open > 0;
  return n;
}
