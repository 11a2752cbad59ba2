/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_tiers.c: where blocks move between memory (cache_store.c) and the
 * tier below it (a struct cache_tier_ops, today the disk tier of
 * cache_tier_disk.c): promotion (a block missing in memory is asked of the
 * tier, read on the I/O thread and made READY in memory) and demotion (a
 * block just filled is handed to the tier). The callers (the local block
 * source, gateway/gw_fill.c) name no tier and no disk block.
 *
 * Threads: the loops. The store's tier is set once before any loop runs
 * (cache_store_attach_tier) and freed with the store, so it is read without
 * s->mtx; nothing here takes s->mtx, so no tier call (and no file I/O) runs
 * under it.
 */
#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

/* The default remove slot: the tier forgets by evicting. */
void
cache_tier_def_remove(struct cache_tier *t, const unsigned char vhash[32], uint64_t idx)
{
	(void)vhash;
	(void)idx;
	CM_ASSERT(t->magic == CACHE_TIER_MAGIC);
}

void
cache_store_attach_tier(struct cache_store *s, struct cache_tier *t)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	CM_ASSERT(t == NULL || t->magic == CACHE_TIER_MAGIC);
	if (s->tier != NULL)
		s->tier->ops->fini(&s->tier);
	s->tier = t;
}

int
cache_blk_promote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_io_req *r)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	if (s->tier == NULL)
		return (-1);
	return (s->tier->ops->lookup(s->tier, vhash, idx, r));
}

int
cache_blk_demote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_blk *b)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	if (s->tier == NULL)
		return (0);
	return (s->tier->ops->store(s->tier, vhash, idx, b));
}
