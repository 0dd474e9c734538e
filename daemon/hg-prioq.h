/* A binary min-heap whose items know their own position, so that an item
 * can be moved or removed in O(log n) when its key changes. The registry
 * keeps every session's next deadline in one; the deadline timer only ever
 * looks at the top. */
#pragma once

#include <stddef.h>

typedef struct HgPrioq HgPrioq;

/* <0, 0, >0 like strcmp. */
typedef int (*HgPrioqCompare)(const void *a, const void *b);

#define HG_PRIOQ_IDX_NULL ((size_t)-1)

HgPrioq *hg_prioq_new(HgPrioqCompare compare);
HgPrioq *hg_prioq_free(HgPrioq *q);

/* *idx is the item's slot, kept up to date by the heap; it must stay valid
 * while the item is queued, and reads HG_PRIOQ_IDX_NULL once removed. */
void hg_prioq_put(HgPrioq *q, void *item, size_t *idx);
void hg_prioq_remove(HgPrioq *q, void *item, size_t *idx);
/* Call after the item's key changed. */
void hg_prioq_reshuffle(HgPrioq *q, void *item, size_t *idx);

void *hg_prioq_peek(const HgPrioq *q);
size_t hg_prioq_size(const HgPrioq *q);
