/* Login throttling; see hg-throttle.h. */
#include "hg-throttle.h"

typedef struct {
  char *name; /* case-folded: an LDAP name must not dodge its back-off */
  unsigned failures;
  hg_usec_t last_failure;
  GList *link; /* in the LRU list */
} Entry;

struct HgThrottle {
  GHashTable *names; /* name -> Entry */
  GQueue lru;        /* Entry, least recently failed first */
  double rate;       /* tokens per second */
  double burst;
  double tokens;
  hg_usec_t refilled_at;
};

static void entry_free(gpointer p) {
  Entry *e = p;

  g_free(e->name);
  g_free(e);
}

HgThrottle *hg_throttle_new(unsigned rate_per_sec) {
  HgThrottle *t = g_new0(HgThrottle, 1);

  t->names = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init(&t->lru);
  hg_throttle_set_rate(t, rate_per_sec);
  t->tokens = t->burst;
  return t;
}

void hg_throttle_set_rate(HgThrottle *t, unsigned rate_per_sec) {
  t->rate = MAX(rate_per_sec, 1u);
  t->burst = t->rate * HG_THROTTLE_BURST_SEC;
  t->tokens = MIN(t->tokens, t->burst);
}

HgThrottle *hg_throttle_free(HgThrottle *t) {
  if (t) {
    g_queue_clear(&t->lru);
    g_hash_table_destroy(t->names);
    g_free(t);
  }
  return NULL;
}

static void forget(HgThrottle *t, Entry *e) {
  g_queue_delete_link(&t->lru, e->link);
  g_hash_table_remove(t->names, e->name);
}

static Entry *lookup(HgThrottle *t, const char *user) {
  g_autofree char *key = g_utf8_casefold(user, -1);
  return g_hash_table_lookup(t->names, key);
}

static hg_usec_t backoff(const Entry *e) {
  unsigned n;

  if (e->failures <= HG_THROTTLE_FREE_FAILURES)
    return 0;
  n = e->failures - HG_THROTTLE_FREE_FAILURES - 1;
  if (n >= 16)
    return HG_THROTTLE_CAP;
  return MIN(HG_THROTTLE_BASE << n, HG_THROTTLE_CAP);
}

static void refill(HgThrottle *t, hg_usec_t now) {
  if (now > t->refilled_at) {
    t->tokens += (double)(now - t->refilled_at) * t->rate / HG_USEC_PER_SEC;
    t->tokens = MIN(t->tokens, t->burst);
  }
  t->refilled_at = now;
}

hg_usec_t hg_throttle_check(HgThrottle *t, const char *user, hg_usec_t now) {
  Entry *e = lookup(t, user);

  if (e && now - e->last_failure >= HG_THROTTLE_FORGET) {
    forget(t, e);
    e = NULL;
  }
  if (e) {
    hg_usec_t until = e->last_failure + backoff(e);
    if (until > now)
      return until - now;
  }
  refill(t, now);
  if (t->tokens < 1.0)
    return (hg_usec_t)((1.0 - t->tokens) * HG_USEC_PER_SEC / t->rate) + 1;
  t->tokens -= 1.0;
  return 0;
}

void hg_throttle_failed(HgThrottle *t, const char *user, hg_usec_t now) {
  Entry *e = lookup(t, user);

  if (e) {
    g_queue_unlink(&t->lru, e->link);
  } else {
    if (g_hash_table_size(t->names) >= HG_THROTTLE_MAX_NAMES)
      forget(t, g_queue_peek_head(&t->lru));
    e = g_new0(Entry, 1);
    e->name = g_utf8_casefold(user, -1);
    e->link = g_list_alloc();
    e->link->data = e;
    g_hash_table_insert(t->names, e->name, e);
  }
  g_queue_push_tail_link(&t->lru, e->link);
  e->failures++;
  e->last_failure = now;
}

void hg_throttle_succeeded(HgThrottle *t, const char *user) {
  Entry *e = lookup(t, user);

  if (e)
    forget(t, e);
}

unsigned hg_throttle_size(const HgThrottle *t) {
  return g_hash_table_size(t->names);
}
