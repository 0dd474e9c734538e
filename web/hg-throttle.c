/* Login throttling; see hg-throttle.h. */
#include "hg-throttle.h"

#include <string.h>

typedef struct {
  char *key; /* "peer:account", the account case-folded */
  unsigned failures;
  hg_usec_t last_failure;
  GList *link; /* in the LRU list */
} Entry;

typedef struct {
  double tokens;
  hg_usec_t refilled_at;
} Bucket;

struct HgThrottle {
  GHashTable *entries; /* key -> Entry */
  GQueue lru;          /* Entry, least recently failed first */
  GHashTable *aliases; /* case-folded typed name -> case-folded account */
  GHashTable *buckets; /* peer uid -> Bucket */
  double rate;         /* tokens per second */
  double burst;
};

static void entry_free(gpointer p) {
  Entry *e = p;

  g_free(e->key);
  g_free(e);
}

HgThrottle *hg_throttle_new(unsigned rate_per_sec) {
  HgThrottle *t = g_new0(HgThrottle, 1);

  t->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init(&t->lru);
  t->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  t->buckets = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  hg_throttle_set_rate(t, rate_per_sec);
  return t;
}

void hg_throttle_set_rate(HgThrottle *t, unsigned rate_per_sec) {
  GHashTableIter it;
  gpointer value;

  t->rate = MAX(rate_per_sec, 1u);
  t->burst = t->rate * HG_THROTTLE_BURST_SEC;
  g_hash_table_iter_init(&it, t->buckets);
  while (g_hash_table_iter_next(&it, NULL, &value))
    ((Bucket *)value)->tokens = MIN(((Bucket *)value)->tokens, t->burst);
}

HgThrottle *hg_throttle_free(HgThrottle *t) {
  if (t) {
    g_queue_clear(&t->lru);
    g_hash_table_destroy(t->entries);
    g_hash_table_destroy(t->aliases);
    g_hash_table_destroy(t->buckets);
    g_free(t);
  }
  return NULL;
}

/* The account a typed name stands for, as far as is known. */
static char *account_of(HgThrottle *t, const char *user, const char *account) {
  g_autofree char *typed = g_utf8_casefold(user, -1);
  const char *known;

  if (account)
    return g_utf8_casefold(account, -1);
  known = g_hash_table_lookup(t->aliases, typed);
  return known ? g_strdup(known) : g_steal_pointer(&typed);
}

static char *entry_key(HgThrottle *t, uid_t peer, const char *user,
                       const char *account) {
  g_autofree char *name = account_of(t, user, account);
  return g_strdup_printf("%u:%s", (unsigned)peer, name);
}

static void learn_alias(HgThrottle *t, const char *user, const char *account) {
  g_autofree char *typed = NULL, *canonical = NULL;

  if (!account)
    return;
  typed = g_utf8_casefold(user, -1);
  canonical = g_utf8_casefold(account, -1);
  if (strcmp(typed, canonical) == 0)
    return;
  /* Forgetting them all is safe: each is learned again at its next use. */
  if (g_hash_table_size(t->aliases) >= HG_THROTTLE_MAX_NAMES)
    g_hash_table_remove_all(t->aliases);
  g_hash_table_replace(t->aliases, g_steal_pointer(&typed),
                       g_steal_pointer(&canonical));
}

static void forget(HgThrottle *t, Entry *e) {
  g_queue_delete_link(&t->lru, e->link);
  g_hash_table_remove(t->entries, e->key);
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

static void refill(const HgThrottle *t, Bucket *b, hg_usec_t now) {
  if (now > b->refilled_at) {
    b->tokens += (double)(now - b->refilled_at) * t->rate / HG_USEC_PER_SEC;
    b->tokens = MIN(b->tokens, t->burst);
  }
  b->refilled_at = now;
}

/* Full buckets carry no information: they go first when the table is
 * full, and all of them if need be. */
static void make_room(HgThrottle *t, hg_usec_t now) {
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init(&it, t->buckets);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    refill(t, value, now);
    if (((Bucket *)value)->tokens >= t->burst)
      g_hash_table_iter_remove(&it);
  }
  if (g_hash_table_size(t->buckets) >= HG_THROTTLE_MAX_PEERS)
    g_hash_table_remove_all(t->buckets);
}

static Bucket *bucket_of(HgThrottle *t, uid_t peer, hg_usec_t now) {
  gpointer key = GUINT_TO_POINTER((guint)peer);
  Bucket *b = g_hash_table_lookup(t->buckets, key);

  if (b)
    return b;
  if (g_hash_table_size(t->buckets) >= HG_THROTTLE_MAX_PEERS)
    make_room(t, now);
  b = g_new0(Bucket, 1);
  b->tokens = t->burst;
  b->refilled_at = now;
  g_hash_table_insert(t->buckets, key, b);
  return b;
}

hg_usec_t hg_throttle_check(HgThrottle *t, uid_t peer, const char *user,
                            hg_usec_t now) {
  g_autofree char *key = entry_key(t, peer, user, NULL);
  Entry *e = g_hash_table_lookup(t->entries, key);
  Bucket *b;

  if (e && now - e->last_failure >= HG_THROTTLE_FORGET) {
    forget(t, e);
    e = NULL;
  }
  if (e) {
    hg_usec_t until = e->last_failure + backoff(e);
    if (until > now)
      return until - now;
  }
  b = bucket_of(t, peer, now);
  refill(t, b, now);
  if (b->tokens < 1.0)
    return (hg_usec_t)((1.0 - b->tokens) * HG_USEC_PER_SEC / t->rate) + 1;
  b->tokens -= 1.0;
  return 0;
}

void hg_throttle_failed(HgThrottle *t, uid_t peer, const char *user,
                        const char *account, hg_usec_t now) {
  g_autofree char *key = NULL;
  Entry *e;

  learn_alias(t, user, account);
  key = entry_key(t, peer, user, account);
  e = g_hash_table_lookup(t->entries, key);
  if (e) {
    g_queue_unlink(&t->lru, e->link);
  } else {
    if (g_hash_table_size(t->entries) >= HG_THROTTLE_MAX_NAMES)
      forget(t, g_queue_peek_head(&t->lru));
    e = g_new0(Entry, 1);
    e->key = g_steal_pointer(&key);
    e->link = g_list_alloc();
    e->link->data = e;
    g_hash_table_insert(t->entries, e->key, e);
  }
  g_queue_push_tail_link(&t->lru, e->link);
  e->failures++;
  e->last_failure = now;
}

void hg_throttle_succeeded(HgThrottle *t, uid_t peer, const char *user,
                           const char *account) {
  g_autofree char *key = NULL;
  Entry *e;

  learn_alias(t, user, account);
  key = entry_key(t, peer, user, account);
  e = g_hash_table_lookup(t->entries, key);
  if (e)
    forget(t, e);
}

unsigned hg_throttle_size(const HgThrottle *t) {
  return g_hash_table_size(t->entries);
}
