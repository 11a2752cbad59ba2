/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_tier_disk.c: the disk tier behind struct cache_tier_ops (see
 * cache.h). A thin table over the block files of cache_disk.c: lookup asks
 * the disk's index (no I/O: its own lock) and queues the read on the I/O
 * thread (cache_io.c), which checks the block's CRC; store queues the
 * block on the write-behind thread (cache_writer.c). The blocks' disk names
 * (cache_disk_block_id) are made here and nowhere else outside cache_disk.c.
 *
 * Threads: lookup and store run on the loops (from cache_tiers.c), never
 * under the store's lock (caller_locks 0: cache_store_attach_tier puts it
 * below memory only); they take only the disk index's and the queues' own
 * locks, and do no I/O themselves (the I/O and writer threads do). stats
 * takes the disk index's lock. The tier's fields are set once, read only.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

struct tier_disk {
	unsigned		magic;
#define TIER_DISK_MAGIC		0xd15c7e12
	struct cache_tier	tier;
	struct cache_disk	*disk;		/* borrowed */
	struct cache_io		*io;		/* borrowed */
	struct cache_writer	*writer;	/* borrowed */
};

static struct tier_disk *
tier_disk(struct cache_tier *t)
{
	struct tier_disk *td;

	CM_ASSERT(t != NULL && t->magic == CACHE_TIER_MAGIC && t->ops == &cache_tier_disk_ops);
	td = t->priv;
	CM_ASSERT(td->magic == TIER_DISK_MAGIC);
	return (td);
}

static int
disk_lookup(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk **bp,
    struct cache_io_req *r)
{
	struct tier_disk *td = tier_disk(t);

	(void)bp;
	AN(k->vhash);
	CM_ASSERT(r != NULL && r->magic == CACHE_IO_REQ_MAGIC && r->b != NULL);
	cache_disk_block_id(k->vhash, k->idx, r->id);
	/* Not on disk (a cold block): the caller fills it at once. */
	if (!cache_disk_has(td->disk, r->id))
		return (CACHE_TIER_MISS);
	return (cache_io_read(td->io, r) == 0 ? CACHE_TIER_QUEUED : CACHE_TIER_MISS);
}

static int
disk_store(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk *b)
{
	struct tier_disk *td = tier_disk(t);
	unsigned char id[32];

	AN(k->vhash);
	cache_disk_block_id(k->vhash, k->idx, id);
	return (cache_writer_put(td->writer, b, id));
}

static void
disk_stats(struct cache_tier *t, struct cache_tier_stats *out)
{
	struct tier_disk *td = tier_disk(t);
	struct cache_disk_stats ds;

	cache_disk_stats(td->disk, &ds);
	out->cap = 0;		/* the disk's own (cache_disk_open) */
	out->blocks = ds.blocks;
	out->bytes = ds.bytes;
	out->evictions = ds.evictions;
}

static void
disk_fini(struct cache_tier **tp)
{
	struct tier_disk *td = tier_disk(*tp);

	*tp = NULL;
	td->tier.magic = 0;
	td->magic = 0;
	free(td);
}

const struct cache_tier_ops cache_tier_disk_ops = {
	.name = "disk",
	.caller_locks = 0,
	.lookup = disk_lookup,
	.store = disk_store,
	.remove = cache_tier_def_remove,
	.stats = disk_stats,
	.fini = disk_fini,
};

struct cache_tier *
cache_tier_disk_new(struct cache_disk *d, struct cache_io *io, struct cache_writer *w)
{
	struct tier_disk *td;

	AN(d);
	AN(io);
	AN(w);
	td = calloc(1, sizeof *td);
	if (td == NULL)
		return (NULL);
	td->magic = TIER_DISK_MAGIC;
	td->disk = d;
	td->io = io;
	td->writer = w;
	td->tier.magic = CACHE_TIER_MAGIC;
	td->tier.ops = &cache_tier_disk_ops;
	td->tier.priv = td;
	return (&td->tier);
}
