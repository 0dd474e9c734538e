/* Ended-token memory; see hg-ended-tokens.h. */
#include "hg-ended-tokens.h"

#include <string.h>

#include "hg-secure.h"

typedef struct {
  uint8_t hash[HG_TOKEN_HASH_LEN];
  HgEndReason reason;
  hg_usec_t ended_at;
} Entry;

struct HgEndedTokens {
  HgRegistry *reg;
  unsigned listener;
  GHashTable *by_hash; /* &entry->hash -> Entry (owned by the queue) */
  GQueue order;        /* oldest first */
};

static guint hash_func(gconstpointer key) {
  guint h;

  memcpy(&h, key, sizeof(h));
  return h;
}

static gboolean equal_func(gconstpointer a, gconstpointer b) {
  return hg_memeq_consttime(a, b, HG_TOKEN_HASH_LEN);
}

static void drop_oldest(HgEndedTokens *t) {
  Entry *e = g_queue_pop_head(&t->order);

  g_hash_table_remove(t->by_hash, e->hash);
  g_free(e);
}

static void expire_old(HgEndedTokens *t, hg_usec_t now) {
  Entry *e;

  while ((e = g_queue_peek_head(&t->order)) &&
         (now - e->ended_at >= HG_ENDED_TOKENS_TTL ||
          g_queue_get_length(&t->order) > HG_ENDED_TOKENS_MAX))
    drop_oldest(t);
}

static void on_session_event(HgRegistry *reg, HgSession *s,
                             HgRegistryEvent event, void *userdata) {
  HgEndedTokens *t = userdata;
  const uint8_t *hash = hg_session_get_token_hash(s);
  Entry *e;

  if (event != HG_REGISTRY_EVENT_ENDED || !hash ||
      g_hash_table_contains(t->by_hash, hash))
    return;
  e = g_new0(Entry, 1);
  memcpy(e->hash, hash, HG_TOKEN_HASH_LEN);
  e->reason = hg_session_get_end_reason(s);
  e->ended_at = hg_clock_boottime(hg_registry_get_clock(reg));
  g_queue_push_tail(&t->order, e);
  g_hash_table_insert(t->by_hash, e->hash, e);
  expire_old(t, e->ended_at);
}

HgEndedTokens *hg_ended_tokens_new(HgRegistry *reg) {
  HgEndedTokens *t = g_new0(HgEndedTokens, 1);

  t->reg = reg;
  t->by_hash = g_hash_table_new(hash_func, equal_func);
  g_queue_init(&t->order);
  t->listener = hg_registry_subscribe(reg, on_session_event, t);
  return t;
}

HgEndedTokens *hg_ended_tokens_free(HgEndedTokens *t) {
  if (!t)
    return NULL;
  hg_registry_unsubscribe(t->reg, t->listener);
  while (!g_queue_is_empty(&t->order))
    drop_oldest(t);
  g_hash_table_destroy(t->by_hash);
  g_free(t);
  return NULL;
}

HgEndReason hg_ended_tokens_lookup(HgEndedTokens *t,
                                   const uint8_t hash[HG_TOKEN_HASH_LEN]) {
  Entry *e;

  expire_old(t, hg_clock_boottime(hg_registry_get_clock(t->reg)));
  e = g_hash_table_lookup(t->by_hash, hash);
  if (!e)
    return HG_END_REASON_NONE;
  return e->reason;
}
