/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_counts.c: per-bucket statistics since the last message to the master
 * (see clu_priv.h), for a gateway's view and a worker's agent alike.
 *
 * Threads: the loops add without a lock (the hit path takes none); the
 * cluster thread takes. A slot is named once (free -> naming -> named, by
 * compare-and-swap) and keeps its name; counts are taken with atomic
 * exchanges, so a count added while they are taken goes to the next
 * message, never lost.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/clu_priv.h"

enum { SLOT_FREE, SLOT_NAMING, SLOT_NAMED };

struct clu_bslot {
	_Atomic int		state;
	char			name[CM_S3_BUCKET_MAX + 1];	/* written once, before SLOT_NAMED */
	_Atomic uint64_t	hits, misses, served, origin;
};

int
clu_counts_init(struct clu_counts *c)
{
	c->slot = calloc(CLU_COUNT_BUCKETS, sizeof *c->slot);
	return (c->slot != NULL ? 0 : -1);
}

void
clu_counts_fini(struct clu_counts *c)
{
	free(c->slot);
	c->slot = NULL;
}

static uint64_t
name_hash(struct cm_slice b)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.p[i]) * 1099511628211ull;
	return (h);
}

/* The slot of bucket, named now when new and there is room; NULL when the
 * table is full. */
static struct clu_bslot *
slot_of(struct clu_counts *c, struct cm_slice bucket)
{
	size_t i, h = (size_t)(name_hash(bucket) % CLU_COUNT_BUCKETS);

	for (i = 0; i < CLU_COUNT_BUCKETS; i++) {
		struct clu_bslot *sl = &c->slot[(h + i) % CLU_COUNT_BUCKETS];
		int st = atomic_load_explicit(&sl->state, memory_order_acquire);

		if (st == SLOT_FREE) {
			int want = SLOT_FREE;

			if (atomic_compare_exchange_strong(&sl->state, &want, SLOT_NAMING)) {
				memcpy(sl->name, bucket.p, bucket.len);
				sl->name[bucket.len] = '\0';
				atomic_store_explicit(&sl->state, SLOT_NAMED, memory_order_release);
				return (sl);
			}
			st = want;
		}
		/* Another thread is naming it: a memcpy away. */
		while (st == SLOT_NAMING)
			st = atomic_load_explicit(&sl->state, memory_order_acquire);
		if (cm_slice_eq(bucket, sl->name))
			return (sl);
	}
	return (NULL);
}

void
clu_counts_add(struct clu_counts *c, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin)
{
	struct clu_bslot *sl;

	/* A name that could not be a stats line's would block every message. */
	if (!cm_s3_bucket_valid(bucket, CM_S3_BUCKET_LEGACY))
		return;
	sl = slot_of(c, bucket);
	if (sl == NULL)
		return;		/* more than CLU_COUNT_BUCKETS buckets: not counted */
	atomic_fetch_add_explicit(&sl->hits, hits, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->misses, misses, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->served, served, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->origin, from_origin, memory_order_relaxed);
}

size_t
clu_counts_take(struct clu_counts *c, struct clu_bcount *snap)
{
	size_t i, n = 0;

	for (i = 0; i < CLU_COUNT_BUCKETS; i++) {
		struct clu_bslot *sl = &c->slot[i];
		struct clu_bcount *d = &snap[n];

		if (atomic_load_explicit(&sl->state, memory_order_acquire) != SLOT_NAMED)
			continue;
		d->hits = atomic_exchange_explicit(&sl->hits, 0, memory_order_relaxed);
		d->misses = atomic_exchange_explicit(&sl->misses, 0, memory_order_relaxed);
		d->served = atomic_exchange_explicit(&sl->served, 0, memory_order_relaxed);
		d->origin = atomic_exchange_explicit(&sl->origin, 0, memory_order_relaxed);
		if (d->hits + d->misses + d->served + d->origin == 0)
			continue;
		memcpy(d->name, sl->name, sizeof d->name);
		n++;
	}
	return (n);
}

void
clu_counts_give_back(struct clu_counts *c, const struct clu_bcount *snap, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		clu_counts_add(c, cm_slice_str(snap[i].name), snap[i].hits, snap[i].misses,
		    snap[i].served, snap[i].origin);
}

void
clu_counts_as_stats(const struct clu_bcount *snap, size_t n, struct clu_stat *st)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&st[i], 0, sizeof st[i]);
		st[i].bucket = cm_slice_str(snap[i].name);
		st[i].hits = snap[i].hits;
		st[i].misses = snap[i].misses;
		st[i].served = snap[i].served;
		st[i].origin = snap[i].origin;
	}
}
