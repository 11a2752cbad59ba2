/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_store.c: the memory tier of blocks and the metadata of objects
 * (see cache.h).
 *
 * Lock: one mutex (s->mtx) guards the block table, the metadata table, the
 * bucket generations, the eviction policy, waiter lists and reference
 * counts. No file I/O is done under it: the metadata files are written
 * and removed by the I/O thread (cache_io.c), to which this file hands
 * copies with cache_io_meta_* (lock order: s->mtx -> the I/O queue's
 * mutex); the only other disk access, the start-up load in
 * cache_store_attach_disk, runs before any loop and not under s->mtx
 * (cache_meta_put takes it per entry, with s->io still NULL). Blocks
 * are read from disk by the I/O thread too (cache_io_read, asked through
 * the disk tier's ops by cache_tiers.c), never here. A block's bytes are
 * written by its single filler without the
 * lock; 'filled' is published with release ordering and read with acquire,
 * so readers never see bytes that are not there yet.
 *
 * A block's life: FILLING (in the table, not in the policy, readers may
 * wait) -> READY (admitted to the policy, counted in mem_bytes) -> evicted
 * (out of the table; freed when the last reader releases it). A FAILED
 * block leaves the table at once: the next reader fills it anew.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct waiter {
	struct event	*ev;
	struct waiter	*next;
};

struct cache_blk {
	unsigned		magic;
#define CACHE_BLK_MAGIC		0xb10cb10c
	uint64_t		vid;
	uint64_t		idx;
	size_t			len;
	_Atomic size_t		filled;
	_Atomic int		state;
	/* References: the table holds one while the block is in it, so only
	 * a block out of the table can reach 0; taking one needs one already
	 * (or the lock, to find it in the table). No lock to give one back. */
	_Atomic int		refs;
	int			in_table;
	struct waiter		*waiters;
	struct cache_blk	*hnext;
	struct cache_store	*store;		/* for cache_blk_unref */
	int			mapped;		/* allocated with mmap (big blocks) */
	char			data[];		/* len bytes, one allocation with the rest */
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

struct meta_ent {
	char		*bucket;
	size_t		blen;
	char		*key;
	size_t		klen;
	uint64_t	gen;		/* the bucket's generation when stored */
	struct cache_meta *m;
	struct meta_ent	*hnext;
};

struct bucket_gen {
	char			*name;
	size_t			len;
	uint64_t		gen;
	struct bucket_gen	*next;
};

static uint64_t
mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x7F4A7C159E3779B9ull + (a << 6) + (a >> 2));

	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return (h ^ (h >> 32));
}

/* The policy's id of a block: the version in the high half. */
static uint64_t
blk_id(uint64_t vid, uint64_t idx)
{
	return (vid << 32 | (idx & 0xffffffffu));
}

static struct cache_blk **
blk_slot(struct cache_store *s, uint64_t vid, uint64_t idx)
{
	return (&s->bt[mix(vid, idx) & (s->nbt - 1)]);
}

static struct cache_blk *
blk_find(struct cache_store *s, uint64_t vid, uint64_t idx)
{
	struct cache_blk *b;

	for (b = *blk_slot(s, vid, idx); b != NULL; b = b->hnext)
		if (b->vid == vid && b->idx == idx)
			return (b);
	return (NULL);
}

static void
blk_free(struct cache_blk *b)
{
	CM_ASSERT(atomic_load(&b->refs) == 0 && !b->in_table && b->waiters == NULL);
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
	struct waiter *w, *next;

	for (w = b->waiters; w != NULL; w = next) {
		next = w->next;
		event_active(w->ev, EV_READ, 1);
		free(w);
	}
	b->waiters = NULL;
}

/* Takes b out of the table (under the lock); drops the table's reference. */
static void
blk_unlink(struct cache_store *s, struct cache_blk *b)
{
	struct cache_blk **pp;

	if (!b->in_table)
		return;
	for (pp = blk_slot(s, b->vid, b->idx); *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == b) {
			*pp = b->hnext;
			break;
		}
	b->in_table = 0;
	s->st.blocks--;
	if (atomic_load(&b->state) == CACHE_BLK_READY)
		s->st.mem_bytes -= b->len;
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		blk_free(b);
}

/* The policy evicts a block (under the lock, from inside access()). */
static void
on_evict(void *arg, uint64_t id, uint64_t size)
{
	struct cache_store *s = arg;
	struct cache_blk *b = blk_find(s, id >> 32, id & 0xffffffffu);

	(void)size;
	s->st.evictions++;
	if (b != NULL)
		blk_unlink(s, b);
}

struct cache_store *
cache_store_new(uint64_t mem_bytes, uint64_t block_size, const struct cache_evict_ops *policy)
{
	struct cache_store *s = calloc(1, sizeof *s);
	uint64_t want;

	if (s == NULL)
		return (NULL);
	CM_ASSERT(block_size > 0);
	s->magic = CACHE_STORE_MAGIC;
	s->block_size = block_size;
	s->mem_cap = mem_bytes;
	s->pol = policy;
	s->next_vid = 1;
	want = mem_bytes / block_size + 1024;	/* chains of one on average */
	for (s->nbt = 1024; s->nbt < want && s->nbt < (1u << 24); s->nbt *= 2)
		;
	s->nmt = 65536;
	/* Metadata of objects whose blocks are long gone must not pile up:
	 * sixteen entries per block the tier holds, 65536 at least. */
	s->meta_cap = 16 * (mem_bytes / block_size);
	if (s->meta_cap < 65536)
		s->meta_cap = 65536;
	s->bt = calloc(s->nbt, sizeof *s->bt);
	s->mt = calloc(s->nmt, sizeof *s->mt);
	s->ev = policy->create(mem_bytes, on_evict, s);
	if (s->bt == NULL || s->mt == NULL || s->ev == NULL ||
	    pthread_mutex_init(&s->mtx, NULL) != 0) {
		if (s->ev != NULL)
			policy->fini(&s->ev);
		free(s->bt);
		free(s->mt);
		free(s);
		return (NULL);
	}
	return (s);
}

static void
meta_free(struct meta_ent *e)
{
	free(e->bucket);
	free(e->key);
	free(e->m);
	free(e);
}

void
cache_store_free(struct cache_store **sp)
{
	struct cache_store *s = *sp;
	struct bucket_gen *g, *gn;
	struct meta_ent *e, *en;
	size_t i;

	*sp = NULL;
	if (s == NULL)
		return;
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	for (i = 0; i < s->nbt; i++)
		while (s->bt[i] != NULL) {
			struct cache_blk *b = s->bt[i];

			wake_all(b);
			blk_unlink(s, b);
		}
	for (i = 0; i < s->nmt; i++)
		for (e = s->mt[i]; e != NULL; e = en) {
			en = e->hnext;
			meta_free(e);
		}
	for (g = s->gens; g != NULL; g = gn) {
		gn = g->next;
		free(g->name);
		free(g);
	}
	s->pol->fini(&s->ev);
	pthread_mutex_destroy(&s->mtx);
	free(s->bt);
	free(s->mt);
	if (s->tier != NULL)
		s->tier->ops->fini(&s->tier);
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
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	*out = s->st;
	out->mem_cap = s->mem_cap;
	pthread_mutex_unlock(&s->mtx);
}

/* ---- Metadata ---- */

static uint64_t
bucket_gen(struct cache_store *s, struct cm_slice bucket)
{
	struct bucket_gen *g;

	for (g = s->gens; g != NULL; g = g->next)
		if (g->len == bucket.len && memcmp(g->name, bucket.p, bucket.len) == 0)
			return (g->gen);
	return (0);
}

static struct meta_ent **
meta_slot(struct cache_store *s, struct cm_slice bucket, struct cm_slice key)
{
	uint64_t h = cm_fnv1a(key.p, key.len, cm_fnv1a(bucket.p, bucket.len, 0));

	return (&s->mt[h & (s->nmt - 1)]);
}

static struct meta_ent **
meta_find(struct cache_store *s, struct cm_slice bucket, struct cm_slice key)
{
	struct meta_ent **pp;

	for (pp = meta_slot(s, bucket, key); *pp != NULL; pp = &(*pp)->hnext)
		if ((*pp)->blen == bucket.len && (*pp)->klen == key.len &&
		    memcmp((*pp)->bucket, bucket.p, bucket.len) == 0 &&
		    memcmp((*pp)->key, key.p, key.len) == 0)
			return (pp);
	return (NULL);
}

/* Drops the blocks of a version that are in the table (the first ones;
 * any others age out, unreachable). */
static void
drop_version(struct cache_store *s, const struct cache_meta *m)
{
	uint64_t n = (m->size + s->block_size - 1) / s->block_size, i;
	struct cache_blk *b;

	for (i = 0; i < n && i < 65536; i++) {
		b = blk_find(s, m->vid, i);
		if (b == NULL)
			continue;
		if (atomic_load(&b->state) == CACHE_BLK_READY)
			s->pol->remove(s->ev, blk_id(b->vid, b->idx));
		blk_unlink(s, b);
	}
}

static void
meta_drop(struct cache_store *s, struct meta_ent **pp)
{
	struct meta_ent *e = *pp;

	*pp = e->hnext;
	if (s->io != NULL)
		cache_io_meta_remove(s->io, cm_slice(e->bucket, e->blen), cm_slice(e->key, e->klen));
	drop_version(s, e->m);
	s->st.meta_entries--;
	meta_free(e);
}

/* Over the cap: one entry leaves memory (its copy on disk stays, and with
 * it the way back to its blocks there), taken round-robin over the chains;
 * never keep, the entry just stored. */
static void
meta_shed(struct cache_store *s, const struct meta_ent *keep)
{
	size_t i;

	for (i = 0; i < s->nmt; i++) {
		struct meta_ent **pp = &s->mt[s->meta_hand], *e;

		s->meta_hand = (s->meta_hand + 1) % s->nmt;
		if (*pp == keep && *pp != NULL)
			pp = &(*pp)->hnext;
		if (*pp == NULL)
			continue;
		e = *pp;
		*pp = e->hnext;
		drop_version(s, e->m);
		s->st.meta_entries--;
		meta_free(e);
		return;
	}
}

int
cache_meta_get(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *out)
{
	struct meta_ent **pp;
	int rv = -1;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	pp = meta_find(s, bucket, key);
	if (pp != NULL && (*pp)->gen != bucket_gen(s, bucket)) {
		meta_drop(s, pp);	/* the bucket was invalidated since */
		pp = NULL;
	}
	if (pp != NULL) {
		memcpy(out, (*pp)->m, CACHE_META_USED((*pp)->m));
		rv = 0;
	}
	pthread_mutex_unlock(&s->mtx);
	return (rv);
}

void
cache_meta_put(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *m, uint64_t now_ms)
{
	struct meta_ent **pp, *e;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	m->validated_ms = now_ms;
	pp = meta_find(s, bucket, key);
	if (pp != NULL && (*pp)->gen == bucket_gen(s, bucket) && (*pp)->m->size == m->size &&
	    strcmp((*pp)->m->etag, m->etag) == 0) {
		struct cache_meta *nm;

		m->vid = (*pp)->m->vid;
		/* Same version, maybe other headers: sized anew. */
		nm = realloc((*pp)->m, CACHE_META_USED(m));
		if (nm == NULL) {
			meta_drop(s, pp);
			goto out;
		}
		memcpy(nm, m, CACHE_META_USED(m));
		(*pp)->m = nm;
		if (s->io != NULL)
			cache_io_meta_put(s->io, bucket, key, m, (int64_t)time(NULL));
		goto out;
	}
	if (pp != NULL)
		meta_drop(s, pp);
	m->vid = s->next_vid++;
	e = calloc(1, sizeof *e);
	if (e == NULL)
		goto out;
	e->bucket = malloc(bucket.len + 1);
	e->key = malloc(key.len + 1);
	e->m = malloc(CACHE_META_USED(m));	/* only the headers in use */
	if (e->bucket == NULL || e->key == NULL || e->m == NULL) {
		meta_free(e);
		goto out;
	}
	memcpy(e->bucket, bucket.p, bucket.len);
	memcpy(e->key, key.p, key.len);
	e->blen = bucket.len;
	if (s->io != NULL)
		cache_io_meta_put(s->io, bucket, key, m, (int64_t)time(NULL));
	e->klen = key.len;
	e->gen = bucket_gen(s, bucket);
	memcpy(e->m, m, CACHE_META_USED(m));
	pp = meta_slot(s, bucket, key);
	e->hnext = *pp;
	*pp = e;
	s->st.meta_entries++;
	if (s->st.meta_entries > s->meta_cap)
		meta_shed(s, e);
out:
	pthread_mutex_unlock(&s->mtx);
}

void
cache_meta_touch(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    uint64_t vid, uint64_t now_ms)
{
	struct meta_ent **pp;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	pp = meta_find(s, bucket, key);
	if (pp != NULL && (*pp)->m->vid == vid) {
		(*pp)->m->validated_ms = now_ms;
		if (s->io != NULL)
			cache_io_meta_put(s->io, bucket, key, (*pp)->m, (int64_t)time(NULL));
	}
	pthread_mutex_unlock(&s->mtx);
}

void
cache_meta_expire_all(struct cache_store *s)
{
	struct meta_ent *e;
	size_t i;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	for (i = 0; i < s->nmt; i++)
		for (e = s->mt[i]; e != NULL; e = e->hnext)
			e->m->validated_ms = 0;
	pthread_mutex_unlock(&s->mtx);
}

void
cache_meta_invalidate(struct cache_store *s, struct cm_slice bucket, struct cm_slice key)
{
	struct meta_ent **pp;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	pp = meta_find(s, bucket, key);
	if (pp != NULL)
		meta_drop(s, pp);
	pthread_mutex_unlock(&s->mtx);
}

void
cache_meta_invalidate_prefix(struct cache_store *s, struct cm_slice bucket, struct cm_slice prefix)
{
	struct meta_ent **pp;
	size_t i;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	if (prefix.len == 0) {
		cache_meta_invalidate_bucket(s, bucket);
		return;
	}
	pthread_mutex_lock(&s->mtx);
	for (i = 0; i < s->nmt; i++)
		for (pp = &s->mt[i]; *pp != NULL; )
			if ((*pp)->blen == bucket.len && (*pp)->klen >= prefix.len &&
			    memcmp((*pp)->bucket, bucket.p, bucket.len) == 0 &&
			    memcmp((*pp)->key, prefix.p, prefix.len) == 0)
				meta_drop(s, pp);
			else
				pp = &(*pp)->hnext;
	pthread_mutex_unlock(&s->mtx);
}

void
cache_meta_invalidate_bucket(struct cache_store *s, struct cm_slice bucket)
{
	struct bucket_gen *g;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	for (g = s->gens; g != NULL; g = g->next)
		if (g->len == bucket.len && memcmp(g->name, bucket.p, bucket.len) == 0)
			break;
	if (g == NULL && (g = calloc(1, sizeof *g)) != NULL) {
		g->name = malloc(bucket.len + 1);
		if (g->name == NULL) {
			free(g);
			g = NULL;
		} else {
			memcpy(g->name, bucket.p, bucket.len);
			g->len = bucket.len;
			g->next = s->gens;
			s->gens = g;
		}
	}
	if (g != NULL)
		g->gen++;
	/* With a disk, the bucket's entries go now, and their files with
	 * them: a restart must not bring them back. */
	if (s->disk != NULL) {
		size_t i;
		struct meta_ent **pp;

		for (i = 0; i < s->nmt; i++)
			for (pp = &s->mt[i]; *pp != NULL; )
				if ((*pp)->blen == bucket.len && memcmp((*pp)->bucket, bucket.p, bucket.len) == 0)
					meta_drop(s, pp);
				else
					pp = &(*pp)->hnext;
	}
	pthread_mutex_unlock(&s->mtx);
}

/* ---- Blocks ---- */

int
cache_blk_open(struct cache_store *s, uint64_t vid, uint64_t idx, size_t len,
    struct cache_blk **bp)
{
	struct cache_blk *b, **slot;
	int rv;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	*bp = NULL;
	CM_ASSERT(len > 0 && len <= s->block_size);
	pthread_mutex_lock(&s->mtx);
	b = blk_find(s, vid, idx);
	if (b != NULL) {
		atomic_fetch_add(&b->refs, 1);
		s->st.hits++;
		if (atomic_load(&b->state) == CACHE_BLK_READY)
			(void)s->pol->access(s->ev, blk_id(vid, idx), b->len);
		else
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
	b->in_table = 1;
	slot = blk_slot(s, vid, idx);
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
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		blk_free(b);	/* out of the table already: ours alone */
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
	struct waiter *w;
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
	struct waiter **pp, *w;

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
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	if (ok && atomic_load(&b->filled) == b->len) {
		/* Too big to keep: out while still FILLING (nothing counted). */
		if (b->in_table && b->len > s->mem_cap)
			blk_unlink(s, b);
		atomic_store_explicit(&b->state, CACHE_BLK_READY, memory_order_release);
		if (b->in_table) {
			s->st.mem_bytes += b->len;
			(void)s->pol->access(s->ev, blk_id(b->vid, b->idx), b->len);
		}
	} else {
		atomic_store_explicit(&b->state, CACHE_BLK_FAILED, memory_order_release);
		blk_unlink(s, b);
	}
	wake_all(b);
	pthread_mutex_unlock(&s->mtx);
}

int
cache_blk_fill_from(struct cache_store *s, struct cache_blk *b,
    int (*read)(void *arg, char *buf, size_t len), void *arg)
{
	int rv;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC && b->magic == CACHE_BLK_MAGIC);
	rv = read(arg, b->data, b->len);
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

struct cache_disk *
cache_store_disk(struct cache_store *s)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	return (s->disk);
}

void
cache_store_attach_io(struct cache_store *s, struct cache_io *io)
{
	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	pthread_mutex_lock(&s->mtx);
	s->io = io;
	pthread_mutex_unlock(&s->mtx);
}

/* Loads the metadata files of the disk tier (at start, before any loop). */
void
cache_store_attach_disk(struct cache_store *s, struct cache_disk *d, uint64_t freshness_ms)
{
	char dir[4200], p[4500];
	struct dirent *de;
	uint64_t now_ms;
	time_t wall = time(NULL);
	DIR *dh;
	int i;

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	now_ms = cm_mono_ms();
	s->disk = NULL;		/* no writes back while loading */
	for (i = 0; i < 256; i++) {
		snprintf(dir, sizeof dir, "%s/meta/%02x", cache_disk_dir(d), i);
		dh = opendir(dir);
		if (dh == NULL)
			continue;
		while ((de = readdir(dh)) != NULL) {
			struct cache_meta m;
			char bucket[1025], key[4097];
			size_t bl, kl;
			int64_t vw;

			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			if (cache_disk_meta_load(p, &m, &vw, bucket, &bl, key, &kl) != 0) {
				(void)unlink(p);
				continue;
			}
			/* Validated vw (wall clock): as old now as it was then. */
			{
				uint64_t age = wall > vw ? (uint64_t)(wall - vw) * 1000u : 0;

				if (age >= freshness_ms || age > now_ms)
					continue;	/* stale: revalidated when asked */
				cache_meta_put(s, cm_slice(bucket, bl), cm_slice(key, kl), &m, now_ms - age);
			}
		}
		closedir(dh);
	}
	s->disk = d;
}
