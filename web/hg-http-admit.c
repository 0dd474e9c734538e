/* Connection budgets; see hg-http-admit.h. */
#include "hg-http-admit.h"

struct HgAdmission {
  GHashTable *per_peer; /* uid -> connections held */
  unsigned total;
};

HgAdmission *hg_admission_new(void) {
  HgAdmission *a = g_new0(HgAdmission, 1);

  a->per_peer = g_hash_table_new(NULL, NULL);
  return a;
}

HgAdmission *hg_admission_free(HgAdmission *a) {
  if (!a)
    return NULL;
  g_hash_table_destroy(a->per_peer);
  g_free(a);
  return NULL;
}

unsigned hg_admission_reserve(unsigned max_total) {
  return max_total < 2 ? 0 : MAX(max_total / 8, 1u);
}

unsigned hg_admission_of(const HgAdmission *a, uid_t uid) {
  return GPOINTER_TO_UINT(
      g_hash_table_lookup(a->per_peer, GUINT_TO_POINTER((guint)uid)));
}

unsigned hg_admission_total(const HgAdmission *a) { return a->total; }

static void set_count(HgAdmission *a, uid_t uid, unsigned n) {
  gpointer key = GUINT_TO_POINTER((guint)uid);

  if (n == 0)
    g_hash_table_remove(a->per_peer, key);
  else
    g_hash_table_insert(a->per_peer, key, GUINT_TO_POINTER(n));
}

HgAdmit hg_admission_enter(HgAdmission *a, const HgAdmitLimits *l, uid_t uid) {
  unsigned mine = hg_admission_of(a, uid);
  HgAdmit verdict;

  if (a->total >= l->max_total || mine >= l->max_per_peer)
    return HG_ADMIT_REFUSE;
  verdict = a->total < l->max_total - hg_admission_reserve(l->max_total)
                ? HG_ADMIT_OPEN
                : HG_ADMIT_RESERVE;
  set_count(a, uid, mine + 1);
  a->total++;
  return verdict;
}

void hg_admission_leave(HgAdmission *a, uid_t uid) {
  unsigned mine = hg_admission_of(a, uid);

  g_return_if_fail(mine > 0 && a->total > 0);
  set_count(a, uid, mine - 1);
  a->total--;
}
