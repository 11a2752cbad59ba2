/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_store.c: the store's blocks and their single-flight (see cache.h):
 * an open of a block finds it in the memory tier (a hit: a reference, the
 * bytes lent without a copy), or among the blocks being filled (a waiter),
 * or makes it (the caller fills it); its filler appends bytes, readers wait
 * on it and are woken on their own loops; a finished block enters the
 * memory tier (cache_tiers.c). The store's versions and metadata are
 * cache_meta.c's, the tiers cache_tier_*.c's behind struct cache_tier_ops.
 *
 * A block's life: FILLING (in the store's table of blocks being filled,
 * s->ft, where every other open of it finds it and waits) -> READY (out of
 * s->ft, admitted to the memory tier, which evicts it when its policy says)
 * -> freed when the last reference goes. A FAILED block leaves s->ft at
 * once: the next reader fills it anew. A version forgotten while its block
 * fills (cache_blk_drop_version) leaves the block to its readers only.
 *
 * Threads: any. Lock: one mutex (s->mtx) guards the table of blocks being
 * filled, waiter lists, where each block is, the counts, and the memory
 * tier, whose slots are called with it held (it has no lock of its own).
 * A memory hit takes s->mtx once and nothing else: no allocation, no copy.
 * No file I/O is done under it: this file calls no file function and no
 * tier below memory (those are cache_tiers.c's, called without s->mtx);
 * the memory tier does no I/O (caller_locks, asserted in cache_store_new).
 * A block's bytes are written by its single filler without the lock;
 * 'filled' is published with release ordering and read with acquire, so
 * readers never see bytes that are not there yet. References are atomic:
 * given back without the lock. Lock order: s->mtx -> the I/O queue's
 * mutex (cache_meta.c's metadata jobs) -> nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

struct cache_waiter {
	struct event		*ev;
	struct cache_waiter	*next;
};

/* Big blocks get a mapping of their own: freed, their memory goes back to
 * the system at once (glibc's heap would keep it). Small ones come from
 * malloc. */
#define BLK_MMAP_MIN	(128 * 1024)

static struct cache_blk *
blk_alloc(size_t len)
{
	size_t total = sizeof(struct cache_blk) + len;
	struct cache_blk *b;

	if (total >= BLK_MMAP_MIN) {
		void *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return (NULL);
		b = m;
		memset(b, 0, sizeof *b);
		b->mapped = 1;
		return (b);
	}
	b = malloc(total);
	if (b != NULL)
		memset(b, 0, sizeof *b);
	return (b);
}

static struct cache_blk **
flight_slot(struct cache_store *s, uint64_t vid, uint64_t idx)
{
	return (&s->ft[cache_blk_slot(vid, idx, s->nft)]);
}

static struct cache_blk *
flight_find(struct cache_store *s, uint64_t vid, uint64_t idx)
{
	struct cache_blk *b;

	for (b = *flight_slot(s, vid, idx); b != NULL; b = b->hnext)
		if (b->vid == vid && b->idx == idx)
			return (b);
	return (NULL);
}

static void
blk_free(struct cache_blk *b)
{
	CM_ASSERT(atomic_load(&b->refs) == 0 && b->where == CACHE_BLK_NOWHERE &&
	    b->waiters == NULL);
	b->magic = 0;
	if (b->mapped) {
		if (munmap(b, sizeof *b + b->len) != 0)
			CM_LOGE("cache: munmap of a block failed");
	} else {
		free(b);
	}
}

static void
wake_all(struct cache_blk *b)
{
	struct cache_waiter *w, *next;

	for (w = b->waiters; w != NULL; w = next) {
		next = w->next;
		event_active(w->ev, EV_READ, 1);
		free(w);
	}
	b->waiters = NULL;
}

/* Takes b out of the table of blocks being filled (under the lock),
 * keeping the table's reference: the caller gives it back. */
static void
flight_unlink(struct cache_store *s, struct cache_blk *b)
{
	struct cache_blk **pp;

	CM_ASSERT(b->where == CACHE_BLK_FLIGHT);
	for (pp = flight_slot(s, b->vid, b->idx); *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			break;
		}
	b->hnext = NULL;
	b->where = CACHE_BLK_NOWHERE;
	s->st.blocks--;
}

/* Drops a reference (the one a table held), freeing b at the last. */
static inline void
blk_put(struct cache_blk *b)
{
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		blk_free(b);
}

#define FLIGHT_SLOTS	4096	/* blocks being filled at once: readahead times clients */

struct cache_store *
cache_store_new(uint64_t mem_bytes, uint64_t block_size, const struct cache_evict_ops *policy)
{
	struct cache_store *s = calloc(1, sizeof *s);

	if (s == NULL)
		return (NULL);
	CM_ASSERT(block_size > 0);
	s->magic = CACHE_STORE_MAGIC;
	s->block_size = block_size;
	s->nft = FLIGHT_SLOTS;
	s->ft = calloc(s->nft, sizeof *s->ft);
	s->mem = cache_tier_mem_new(mem_bytes, block_size, policy);
	if (s->ft == NULL || s->mem == NULL || cache_meta_init(s, mem_bytes) != 0 ||
	    pthread_mutex_init(&s->mtx, NULL) != 0) {
		if (s->mem != NULL)
			s->mem->ops->fini(&s->mem);
		cache_meta_fini(s);
		free(s->ft);
		free(s);
		return (NULL);
	}
	/* Its slots run under s->mtx: a tier that locks or does I/O may not. */
	cache_tier_check(s->mem, 1);
	return (s);
}

void
cache_store_free(struct cache_store **sp)
{
	struct cache_store *s = *sp;
	size_t i;

	*sp = NULL;
	if (s == NULL)
		return;
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	for (i = 0; i < s->nft; i++)
		while (s->ft[i] != NULL) {
			struct cache_blk *b = s->ft[i];

			wake_all(b);
			flight_unlink(s, b);
			blk_put(b);
		}
	cache_meta_fini(s);
	s->mem->ops->fini(&s->mem);
	cache_store_attach_tier(s, NULL);
	pthread_mutex_destroy(&s->mtx);
	free(s->ft);
	s->magic = 0;
	free(s);
}

uint64_t
cache_block_size(const struct cache_store *s)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	return (s->block_size);
}

void
cache_stats(struct cache_store *s, struct cache_stats *out)
{
	struct cache_tier_stats ms;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	*out = s->st;
	s->mem->ops->stats(s->mem, &ms);
	pthread_mutex_unlock(&s->mtx);
	out->mem_cap = ms.cap;
	out->mem_bytes = ms.bytes;
	out->evictions = ms.evictions;
	out->blocks += ms.blocks;	/* being filled, and resident */
}

void
cache_blk_drop_version(struct cache_store *s, uint64_t vid, uint64_t size)
{
	uint64_t n = (size + s->block_size - 1) / s->block_size, i;
	struct cache_blk_key k = { .vid = vid };
	struct cache_blk *b;

	for (i = 0; i < n && i < 65536; i++) {
		k.idx = i;
		s->mem->ops->remove(s->mem, &k);
		b = flight_find(s, vid, i);
		if (b != NULL) {
			flight_unlink(s, b);
			blk_put(b);
		}
	}
}

/* ---- Blocks ---- */

int
cache_blk_open(struct cache_store *s, uint64_t vid, uint64_t idx, size_t len,
    struct cache_blk **bp)
{
	struct cache_blk_key k = { .vid = vid, .idx = idx };
	struct cache_blk *b, **slot;
	int rv;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	*bp = NULL;
	CM_ASSERT(len > 0 && len <= s->block_size);
	pthread_mutex_lock(&s->mtx);
	/* A memory hit: a reference, the policy told. */
	if (s->mem->ops->lookup(s->mem, &k, bp, NULL) == CACHE_TIER_HIT) {
		s->st.hits++;
		rv = CACHE_READ;
		goto out;
	}
	/* Being filled: wait on it (single-flight). */
	b = flight_find(s, vid, idx);
	if (b != NULL) {
		atomic_fetch_add(&b->refs, 1);
		s->st.hits++;
		s->st.waiters++;
		*bp = b;
		rv = CACHE_READ;
		goto out;
	}
	b = blk_alloc(len);
	if (b == NULL) {
		rv = -1;
		goto out;
	}
	b->magic = CACHE_BLK_MAGIC;
	b->store = s;
	b->vid = vid;
	b->idx = idx;
	b->len = len;
	atomic_store(&b->state, CACHE_BLK_FILLING);
	atomic_store(&b->refs, 2);	/* the table's and the caller's */
	b->where = CACHE_BLK_FLIGHT;
	slot = flight_slot(s, vid, idx);
	b->hnext = *slot;
	*slot = b;
	s->st.blocks++;
	s->st.misses++;
	*bp = b;
	rv = CACHE_FILL;
out:
	pthread_mutex_unlock(&s->mtx);
	return (rv);
}

void
cache_blk_release(struct cache_store *s, struct cache_blk **bp)
{
	struct cache_blk *b = *bp;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	*bp = NULL;
	if (b == NULL)
		return;
	CM_ASSERT(b->magic == CACHE_BLK_MAGIC && b->store == s);
	blk_put(b);	/* the last: out of every table already, ours alone */
}

void
cache_blk_unref(void *blk)
{
	struct cache_blk *b = blk;

	cache_blk_release(b->store, &b);
}

struct cache_blk *
cache_blk_ref(struct cache_store *s, struct cache_blk *b)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	CM_ASSERT(b->store == s && atomic_load(&b->refs) > 0);
	atomic_fetch_add(&b->refs, 1);
	return (b);
}

size_t
cache_blk_avail(struct cache_blk *b, enum cache_blk_state *state)
{
	*state = (enum cache_blk_state)atomic_load_explicit(&b->state, memory_order_acquire);
	return (atomic_load_explicit(&b->filled, memory_order_acquire));
}

const char *
cache_blk_data(const struct cache_blk *b)
{
	return (b->data);
}

size_t
cache_blk_len(const struct cache_blk *b)
{
	return (b->len);
}

int
cache_blk_wait(struct cache_store *s, struct cache_blk *b, size_t seen, struct event *ev)
{
	struct cache_waiter *w;
	int rv = 1;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	if (atomic_load(&b->filled) > seen || atomic_load(&b->state) != CACHE_BLK_FILLING)
		goto out;
	w = malloc(sizeof *w);
	if (w == NULL)
		goto out;	/* reads again: polling, not hanging */
	w->ev = ev;
	w->next = b->waiters;
	b->waiters = w;
	rv = 0;
out:
	pthread_mutex_unlock(&s->mtx);
	return (rv);
}

void
cache_blk_unwait(struct cache_store *s, struct cache_blk *b, struct event *ev)
{
	struct cache_waiter **pp, *w;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	for (pp = &b->waiters; *pp != NULL; ) {
		w = *pp;
		if (w->ev == ev) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&s->mtx);
}

void
cache_blk_append(struct cache_store *s, struct cache_blk *b, const char *p, size_t len)
{
	size_t f = atomic_load_explicit(&b->filled, memory_order_relaxed);

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	if (len > b->len - f)
		len = b->len - f;	/* never past the block: the caller checks */
	memcpy(b->data + f, p, len);
	atomic_store_explicit(&b->filled, f + len, memory_order_release);
	pthread_mutex_lock(&s->mtx);
	wake_all(b);
	pthread_mutex_unlock(&s->mtx);
}

void
cache_blk_finish(struct cache_store *s, struct cache_blk *b, int ok)
{
	int flying;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC && b->magic == CACHE_BLK_MAGIC);
	pthread_mutex_lock(&s->mtx);
	CM_ASSERT(b->where != CACHE_BLK_MEM);	/* finished once, by its filler */
	/* Not in flight: its version was forgotten meanwhile, it is its
	 * readers' only (never admitted). */
	flying = b->where == CACHE_BLK_FLIGHT;
	if (flying)
		flight_unlink(s, b);
	if (ok && atomic_load(&b->filled) == b->len) {
		atomic_store_explicit(&b->state, CACHE_BLK_READY, memory_order_release);
		/* Into memory (cache_tiers.c), with a reference of its own;
		 * too big to keep: its readers' only. */
		if (flying)
			(void)cache_tiers_admit(s, b);
	} else {
		atomic_store_explicit(&b->state, CACHE_BLK_FAILED, memory_order_release);
	}
	wake_all(b);
	if (flying)
		blk_put(b);	/* the flight table's: the caller holds one */
	pthread_mutex_unlock(&s->mtx);
}

int
cache_blk_fill_from(struct cache_store *s, struct cache_blk *b,
    int (*fill)(void *arg, char *buf, size_t len), void *arg)
{
	int rv;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC && b->magic == CACHE_BLK_MAGIC);
	rv = fill(arg, b->data, b->len);
	if (rv == 0) {
		atomic_store_explicit(&b->filled, b->len, memory_order_release);
		cache_blk_finish(s, b, 1);
	}
	return (rv);
}

struct cache_store *
cache_blk_store(const struct cache_blk *b)
{
	CM_ASSERT(b->magic == CACHE_BLK_MAGIC);
	return (b->store);
}
