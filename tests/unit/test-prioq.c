/* The deadline heap against a brute-force reference under random puts,
 * removals and key changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "hg-prioq.h"

typedef struct {
  uint64_t key;
  size_t idx;
  bool queued;
} Item;

static int compare(const void *a, const void *b) {
  const Item *x = a, *y = b;
  return x->key < y->key ? -1 : x->key > y->key;
}

static uint64_t min_key(const Item *items, size_t n) {
  uint64_t m = UINT64_MAX;
  for (size_t i = 0; i < n; i++)
    if (items[i].queued && items[i].key < m)
      m = items[i].key;
  return m;
}

static void test_random_operations(void **state) {
  enum { N = 500, ROUNDS = 20000 };
  g_autoptr(GRand) rand = g_rand_new_with_seed(42);
  Item *items = g_new0(Item, N);
  HgPrioq *q = hg_prioq_new(compare);
  size_t queued = 0;

  for (size_t i = 0; i < N; i++)
    items[i].idx = HG_PRIOQ_IDX_NULL;

  for (int round = 0; round < ROUNDS; round++) {
    Item *it = &items[g_rand_int_range(rand, 0, N)];
    Item *top;

    if (!it->queued) {
      it->key = g_rand_int_range(rand, 0, 1000000);
      hg_prioq_put(q, it, &it->idx);
      it->queued = true;
      queued++;
    } else if (g_rand_boolean(rand)) {
      hg_prioq_remove(q, it, &it->idx);
      assert_true(it->idx == HG_PRIOQ_IDX_NULL);
      it->queued = false;
      queued--;
    } else {
      it->key = g_rand_int_range(rand, 0, 1000000);
      hg_prioq_reshuffle(q, it, &it->idx);
    }
    assert_int_equal(hg_prioq_size(q), queued);
    top = hg_prioq_peek(q);
    if (queued == 0)
      assert_null(top);
    else
      assert_true(top->key == min_key(items, N));
  }

  /* Draining yields keys in order. */
  for (uint64_t last = 0; hg_prioq_peek(q);) {
    Item *top = hg_prioq_peek(q);
    assert_true(top->key >= last);
    last = top->key;
    hg_prioq_remove(q, top, &top->idx);
  }
  hg_prioq_free(q);
  g_free(items);
}

static void test_free_clears_indexes(void **state) {
  HgPrioq *q = hg_prioq_new(compare);
  Item a = {.key = 1, .idx = HG_PRIOQ_IDX_NULL};

  hg_prioq_put(q, &a, &a.idx);
  assert_true(a.idx == 0);
  hg_prioq_free(q);
  assert_true(a.idx == HG_PRIOQ_IDX_NULL);
  assert_null(hg_prioq_free(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_operations),
      cmocka_unit_test(test_free_clears_indexes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
