/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_tier_mem.c: the memory tier behind struct cache_tier_ops (see
 * cache.h): the resident blocks (READY, whole) in a chained hash table
 * keyed by (vid, index), and the eviction policy (struct cache_evict_ops:
 * S3-FIFO or LRU) that decides which of them leave. A block is one
 * allocation (cache_priv.h: its descriptor, then its bytes), chained here
 * through its own hnext; a hit hands out a reference, so its bytes are lent
 * to sockets without a copy and outlive an eviction until the last reader
 * lets go.
 *
 * The store (cache_store.c) makes blocks and fills them single-flight;
 * cache_tiers.c admits a block here when it is READY (store), the store
 * looks here first on every open (lookup) and forgets a version's blocks
 * (remove). Blocks leave by eviction (the policy's callback, from inside
 * its access()), by remove, or with the tier (fini): each way drops the
 * table's reference.
 *
 * Threads and locks: no lock of its own (caller_locks): every slot is
 * called with the store's mutex held (one thread at a time), so that a
 * memory hit takes that one lock and nothing else. No I/O, no allocation
 * on a hit (lookup: a hash chain, a reference, the policy's access).
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

struct tier_mem {
	unsigned			magic;
#define TIER_MEM_MAGIC			0x3e3071e2
	struct cache_tier		tier;
	const struct cache_evict_ops	*pol;
	struct cache_evict		*ev;
	struct cache_blk		**bt;
	size_t				nbt;		/* a power of two */
	struct cache_tier_stats		st;
};

/* Inline: on every open (the hit path). */
static inline struct tier_mem *
tier_mem(struct cache_tier *t)
{
	struct tier_mem *tm;

	CM_ASSERT(t != NULL && t->magic == CACHE_TIER_MAGIC && t->ops == &cache_tier_mem_ops);
	tm = t->priv;
	CM_ASSERT(tm->magic == TIER_MEM_MAGIC);
	return (tm);
}

static struct cache_blk **
mem_slot(struct tier_mem *tm, uint64_t vid, uint64_t idx)
{
	return (&tm->bt[cache_blk_slot(vid, idx, tm->nbt)]);
}

static inline struct cache_blk *
mem_find(struct tier_mem *tm, uint64_t vid, uint64_t idx)
{
	struct cache_blk *b;

	for (b = *mem_slot(tm, vid, idx); b != NULL; b = b->hnext)
		if (b->vid == vid && b->idx == idx)
			return (b);
	return (NULL);
}

/* Takes b out of the table; drops the table's reference (b may be freed). */
static void
mem_unlink(struct tier_mem *tm, struct cache_blk *b)
{
	struct cache_blk **pp;

	CM_ASSERT(b->where == CACHE_BLK_MEM);
	for (pp = mem_slot(tm, b->vid, b->idx); *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			break;
		}
	b->hnext = NULL;
	b->where = CACHE_BLK_NOWHERE;
	tm->st.blocks--;
	tm->st.bytes -= b->len;
	cache_blk_unref(b);
}

/* The policy evicts a block (from inside its access()). */
static void
on_evict(void *arg, uint64_t id, uint64_t size)
{
	struct tier_mem *tm = arg;
	struct cache_blk *b = mem_find(tm, id >> 32, id & 0xffffffffu);

	(void)size;
	tm->st.evictions++;
	if (b != NULL)
		mem_unlink(tm, b);
}

static int
mem_lookup(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk **bp,
    struct cache_io_req *r)
{
	struct tier_mem *tm = tier_mem(t);
	struct cache_blk *b = mem_find(tm, k->vid, k->idx);

	(void)r;
	if (b == NULL)
		return (CACHE_TIER_MISS);
	atomic_fetch_add(&b->refs, 1);
	(void)tm->pol->access(tm->ev, cache_blk_policy_id(b->vid, b->idx), b->len);
	*bp = b;
	return (CACHE_TIER_HIT);
}

static int
mem_store(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk *b)
{
	struct tier_mem *tm = tier_mem(t);
	struct cache_blk **slot;

	CM_ASSERT(b->magic == CACHE_BLK_MAGIC && b->where == CACHE_BLK_NOWHERE);
	CM_ASSERT(b->vid == k->vid && b->idx == k->idx);
	CM_ASSERT(atomic_load(&b->state) == CACHE_BLK_READY && atomic_load(&b->refs) > 0);
	CM_ASSERT(mem_find(tm, k->vid, k->idx) == NULL);
	if (b->len > tm->st.cap)
		return (-1);	/* too big to keep: its readers' only */
	atomic_fetch_add(&b->refs, 1);	/* the table's */
	b->where = CACHE_BLK_MEM;
	slot = mem_slot(tm, b->vid, b->idx);
	b->hnext = *slot;
	*slot = b;
	tm->st.blocks++;
	tm->st.bytes += b->len;
	(void)tm->pol->access(tm->ev, cache_blk_policy_id(b->vid, b->idx), b->len);
	return (0);
}

static void
mem_remove(struct cache_tier *t, const struct cache_blk_key *k)
{
	struct tier_mem *tm = tier_mem(t);
	struct cache_blk *b = mem_find(tm, k->vid, k->idx);

	if (b == NULL)
		return;
	tm->pol->remove(tm->ev, cache_blk_policy_id(b->vid, b->idx));
	mem_unlink(tm, b);
}

static void
mem_stats(struct cache_tier *t, struct cache_tier_stats *out)
{
	*out = tier_mem(t)->st;
}

static void
mem_fini(struct cache_tier **tp)
{
	struct tier_mem *tm = tier_mem(*tp);
	size_t i;

	*tp = NULL;
	for (i = 0; i < tm->nbt; i++)
		while (tm->bt[i] != NULL)
			mem_unlink(tm, tm->bt[i]);
	tm->pol->fini(&tm->ev);
	free(tm->bt);
	tm->tier.magic = 0;
	tm->magic = 0;
	free(tm);
}

const struct cache_tier_ops cache_tier_mem_ops = {
	.name = "mem",
	.caller_locks = 1,
	.lookup = mem_lookup,
	.store = mem_store,
	.remove = mem_remove,
	.stats = mem_stats,
	.fini = mem_fini,
};

struct cache_tier *
cache_tier_mem_new(uint64_t cap, uint64_t block_size, const struct cache_evict_ops *policy)
{
	struct tier_mem *tm;
	uint64_t want;

	AN(policy);
	CM_ASSERT(block_size > 0);
	tm = calloc(1, sizeof *tm);
	if (tm == NULL)
		return (NULL);
	tm->magic = TIER_MEM_MAGIC;
	tm->pol = policy;
	tm->st.cap = cap;
	want = cap / block_size + 1024;	/* chains of one on average */
	for (tm->nbt = 1024; tm->nbt < want && tm->nbt < (1u << 24); tm->nbt *= 2)
		;
	tm->bt = calloc(tm->nbt, sizeof *tm->bt);
	tm->ev = policy->create(cap, on_evict, tm);
	if (tm->bt == NULL || tm->ev == NULL) {
		if (tm->ev != NULL)
			policy->fini(&tm->ev);
		free(tm->bt);
		free(tm);
		return (NULL);
	}
	tm->tier.magic = CACHE_TIER_MAGIC;
	tm->tier.ops = &cache_tier_mem_ops;
	tm->tier.priv = tm;
	return (&tm->tier);
}
