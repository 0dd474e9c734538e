/* Binary min-heap with back-pointers; see hg-prioq.h. */
#include "hg-prioq.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
  void *item;
  size_t *idx;
} Slot;

struct HgPrioq {
  HgPrioqCompare compare;
  Slot *slots;
  size_t n, allocated;
};

HgPrioq *hg_prioq_new(HgPrioqCompare compare) {
  HgPrioq *q = g_new0(HgPrioq, 1);
  q->compare = compare;
  return q;
}

HgPrioq *hg_prioq_free(HgPrioq *q) {
  if (!q)
    return NULL;
  for (size_t i = 0; i < q->n; i++)
    *q->slots[i].idx = HG_PRIOQ_IDX_NULL;
  g_free(q->slots);
  g_free(q);
  return NULL;
}

static void swap(HgPrioq *q, size_t i, size_t j) {
  Slot t = q->slots[i];

  q->slots[i] = q->slots[j];
  q->slots[j] = t;
  *q->slots[i].idx = i;
  *q->slots[j].idx = j;
}

static bool less(const HgPrioq *q, size_t i, size_t j) {
  return q->compare(q->slots[i].item, q->slots[j].item) < 0;
}

static size_t sift_up(HgPrioq *q, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!less(q, i, parent))
      break;
    swap(q, i, parent);
    i = parent;
  }
  return i;
}

static void sift_down(HgPrioq *q, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, smallest = i;

    if (l < q->n && less(q, l, smallest))
      smallest = l;
    if (r < q->n && less(q, r, smallest))
      smallest = r;
    if (smallest == i)
      return;
    swap(q, i, smallest);
    i = smallest;
  }
}

void hg_prioq_put(HgPrioq *q, void *item, size_t *idx) {
  g_return_if_fail(*idx == HG_PRIOQ_IDX_NULL);

  if (q->n == q->allocated) {
    q->allocated = MAX(16, q->allocated * 2);
    q->slots = g_renew(Slot, q->slots, q->allocated);
  }
  q->slots[q->n] = (Slot){item, idx};
  *idx = q->n++;
  sift_up(q, *idx);
}

void hg_prioq_remove(HgPrioq *q, void *item, size_t *idx) {
  size_t i = *idx;

  g_return_if_fail(i < q->n && q->slots[i].item == item);

  q->n--;
  if (i != q->n) {
    q->slots[i] = q->slots[q->n];
    *q->slots[i].idx = i;
    if (sift_up(q, i) == i)
      sift_down(q, i);
  }
  *idx = HG_PRIOQ_IDX_NULL;
}

void hg_prioq_reshuffle(HgPrioq *q, void *item, size_t *idx) {
  size_t i = *idx;

  g_return_if_fail(i < q->n && q->slots[i].item == item);
  if (sift_up(q, i) == i)
    sift_down(q, i);
}

void *hg_prioq_peek(const HgPrioq *q) {
  return q->n > 0 ? q->slots[0].item : NULL;
}

size_t hg_prioq_size(const HgPrioq *q) { return q->n; }
