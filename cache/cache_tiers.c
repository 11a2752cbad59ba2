/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_tiers.c: where blocks move between the tiers of a store's chain
 * (struct cache_tier_ops: memory, cache_tier_mem.c, then the tiers below
 * it, today the disk tier of cache_tier_disk.c). Promotion: a block missing
 * in memory is asked of the tiers below (cache_blk_promote: read on the I/O
 * thread into the block the requester opened), and when it is READY it
 * enters memory (cache_tiers_admit, from cache_blk_finish: a fill from the
 * origin enters the same way). Demotion: a block just filled is handed to
 * the tiers below (cache_blk_demote). The callers (the local block source,
 * gateway/gw_fill.c) name no tier and no disk block.
 *
 * Threads: the loops (promote, demote), and whoever finishes a block
 * (admit: a loop, or the I/O thread). Locks: cache_tiers_admit runs under
 * the store's mutex and calls the memory tier only, which has no lock of
 * its own and does no I/O (caller_locks, asserted when the store is made).
 * cache_blk_promote and cache_blk_demote take no lock: the tiers below are
 * set once before any loop runs (cache_store_attach_tier) and freed with
 * the store, so they are read without s->mtx, and their slots, which do
 * I/O through their threads, are never called under it. A tier that does
 * I/O cannot be put where s->mtx is held: attach refuses a caller_locks
 * tier below memory and cache_store_new a tier that is not caller_locks in
 * memory's place. That is how "no file I/O under the store's lock" holds
 * for the tiers.
 */
#include <stdatomic.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

/* The default remove slot: the tier forgets by evicting. */
void
cache_tier_def_remove(struct cache_tier *t, const struct cache_blk_key *k)
{
	(void)k;
	CM_ASSERT(t->magic == CACHE_TIER_MAGIC);
}

/* The default stats slot: nothing counted. */
void
cache_tier_def_stats(struct cache_tier *t, struct cache_tier_stats *out)
{
	CM_ASSERT(t->magic == CACHE_TIER_MAGIC);
	out->cap = out->blocks = out->bytes = out->evictions = 0;
}

void
cache_tier_check(const struct cache_tier *t, int caller_locks)
{
	CM_ASSERT(t != NULL && t->magic == CACHE_TIER_MAGIC && t->ops != NULL);
	/* Every slot set (defaults where a tier has nothing to do): callers
	 * never test for NULL. */
	CM_ASSERT(t->ops->name != NULL && t->ops->lookup != NULL && t->ops->store != NULL &&
	    t->ops->remove != NULL && t->ops->stats != NULL && t->ops->fini != NULL);
	CM_ASSERT(!t->ops->caller_locks == !caller_locks);
}

void
cache_store_attach_tier(struct cache_store *s, struct cache_tier *t)
{
	size_t i;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	if (t != NULL)
		cache_tier_check(t, 0);	/* below memory: its own locks, never s->mtx */
	for (i = 0; i < s->nbelow; i++)
		s->below[i]->ops->fini(&s->below[i]);
	s->nbelow = 0;
	if (t != NULL)
		s->below[s->nbelow++] = t;
}

int
cache_tiers_admit(struct cache_store *s, struct cache_blk *b)
{
	struct cache_blk_key k = { .vid = b->vid, .idx = b->idx };

	return (s->mem->ops->store(s->mem, &k, b));
}

int
cache_blk_promote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_io_req *r)
{
	struct cache_blk_key k = { .idx = idx, .vhash = vhash };
	size_t i;
	int rc;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	CM_ASSERT(r->magic == CACHE_IO_REQ_MAGIC && r->b != NULL && r->b->magic == CACHE_BLK_MAGIC);
	k.vid = r->b->vid;
	for (i = 0; i < s->nbelow; i++) {
		rc = s->below[i]->ops->lookup(s->below[i], &k, NULL, r);
		CM_ASSERT(rc != CACHE_TIER_HIT);
		if (rc == CACHE_TIER_QUEUED)
			return (0);
	}
	return (-1);
}

int
cache_blk_demote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_blk *b)
{
	struct cache_blk_key k = { .idx = idx, .vhash = vhash };
	size_t i;
	int rv = 0;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC && b->magic == CACHE_BLK_MAGIC);
	k.vid = b->vid;
	for (i = 0; i < s->nbelow; i++)
		if (s->below[i]->ops->store(s->below[i], &k, b) != 0)
			rv = -1;
	return (rv);
}
