/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_evict_lru.c: least recently used, the baseline S3-FIFO is measured
 * against. One queue, most recent at the head; a hit moves to the head.
 * One thread at a time.
 */
#include <stdlib.h>

#include "common/common.h"
#include "cache/cache_priv.h"

struct cache_evict {
	unsigned	magic;
#define LRU_MAGIC	0x11e0c4a1
	uint64_t	cap;
	cache_evict_cb	*cb;
	void		*arg;
	struct ce_index	ix;
	struct ce_queue	q;
};

static struct cache_evict *
lru_create(uint64_t capacity, cache_evict_cb *cb, void *arg)
{
	struct cache_evict *e = calloc(1, sizeof *e);

	if (e == NULL)
		return (NULL);
	if (ce_index_init(&e->ix) != 0) {
		free(e);
		return (NULL);
	}
	e->magic = LRU_MAGIC;
	e->cap = capacity;
	e->cb = cb;
	e->arg = arg;
	return (e);
}

static int
lru_access(struct cache_evict *e, uint64_t id, uint64_t size)
{
	struct ce_node *n;

	CM_ASSERT(e->magic == LRU_MAGIC);
	n = ce_index_get(&e->ix, id);
	if (n != NULL) {
		ce_queue_unlink(&e->q, n);
		ce_queue_push(&e->q, n);
		return (1);
	}
	if (size > e->cap)
		return (0);
	while (e->q.bytes + size > e->cap) {
		struct ce_node *t = e->q.tail;

		ce_queue_unlink(&e->q, t);
		if (e->cb != NULL)
			e->cb(e->arg, t->id, t->size);
		ce_index_del(&e->ix, t);
	}
	n = ce_index_add(&e->ix, id, size);
	if (n != NULL)
		ce_queue_push(&e->q, n);
	return (0);
}

static void
lru_remove(struct cache_evict *e, uint64_t id)
{
	struct ce_node *n = ce_index_get(&e->ix, id);

	if (n == NULL)
		return;
	ce_queue_unlink(&e->q, n);
	ce_index_del(&e->ix, n);
}

static uint64_t
lru_used(const struct cache_evict *e)
{
	return (e->q.bytes);
}

static void
lru_fini(struct cache_evict **ep)
{
	struct cache_evict *e = *ep;

	*ep = NULL;
	if (e == NULL)
		return;
	CM_ASSERT(e->magic == LRU_MAGIC);
	ce_index_fini(&e->ix);
	e->magic = 0;
	free(e);
}

static int
lru_holds(const struct cache_evict *e, uint64_t id)
{
	CM_ASSERT(e->magic == LRU_MAGIC);
	return (ce_index_get(&e->ix, id) != NULL);
}

const struct cache_evict_ops cache_evict_lru_ops = {
	"lru", lru_create, lru_access, lru_remove, lru_used, lru_fini, lru_holds,
};
