/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_meta.c: the store's versions and object metadata (see cache.h):
 * a table of (bucket, key) -> struct cache_meta, which gives each version
 * (ETag and size) its number, vid, by which its blocks are known in memory
 * (so that two ETags' bytes are never stitched together); per-bucket
 * generations, so that a bucket's invalidation is one increment; a cap on
 * entries held in memory (shed round-robin, their files kept); and the
 * metadata files of the disk tier, kept in step through the I/O thread.
 *
 * Threads: any (the loops, a worker's agent, the main thread at start).
 * Lock: the store's mutex (s->mtx) guards the table, the generations and
 * next_vid; forgetting a version's blocks (cache_blk_drop_version) runs
 * under it too. No file I/O is done under it: the metadata files are
 * written and removed by the I/O thread (cache_io.c), to which this file
 * hands copies with cache_io_meta_* (a malloc and a queue push; lock order
 * s->mtx -> the I/O queue's mutex). The only disk access, the start-up
 * load of cache_store_attach_disk, is cache_disk_meta_scan's (cache_disk.c)
 * and runs before any loop, without s->mtx: its callback takes it per entry
 * (cache_meta_put, with s->io still NULL). This file calls no file I/O
 * function (tests/deploy/layering.sh checks it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

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

int
cache_meta_init(struct cache_store *s, uint64_t mem_bytes)
{
	s->next_vid = 1;
	s->nmt = 65536;
	/* Metadata of objects whose blocks are long gone must not pile up:
	 * sixteen entries per block the memory tier holds, 65536 at least. */
	s->meta_cap = 16 * (mem_bytes / s->block_size);
	if (s->meta_cap < 65536)
		s->meta_cap = 65536;
	s->mt = calloc(s->nmt, sizeof *s->mt);
	return (s->mt == NULL ? -1 : 0);
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
cache_meta_fini(struct cache_store *s)
{
	struct bucket_gen *g, *gn;
	struct meta_ent *e, *en;
	size_t i;

	for (i = 0; s->mt != NULL && i < s->nmt; i++)
		for (e = s->mt[i]; e != NULL; e = en) {
			en = e->hnext;
			meta_free(e);
		}
	for (g = s->gens; g != NULL; g = gn) {
		gn = g->next;
		free(g->name);
		free(g);
	}
	s->gens = NULL;
	free(s->mt);
	s->mt = NULL;
}

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

static void
meta_drop(struct cache_store *s, struct meta_ent **pp)
{
	struct meta_ent *e = *pp;

	*pp = e->hnext;
	if (s->io != NULL)
		cache_io_meta_remove(s->io, cm_slice(e->bucket, e->blen), cm_slice(e->key, e->klen));
	cache_blk_drop_version(s, e->m->vid, e->m->size);
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
		cache_blk_drop_version(s, e->m->vid, e->m->size);
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

struct meta_load {
	struct cache_store	*s;
	uint64_t		now_ms;
	uint64_t		freshness_ms;
	time_t			wall;
};

/* One metadata file read at start (cache_disk_meta_scan's callback). */
static void
meta_loaded(void *arg, struct cm_slice bucket, struct cm_slice key, struct cache_meta *m,
    int64_t vw)
{
	struct meta_load *ml = arg;
	/* Validated vw (wall clock): as old now as it was then. */
	uint64_t age = ml->wall > vw ? (uint64_t)(ml->wall - vw) * 1000u : 0;

	if (age >= ml->freshness_ms || age > ml->now_ms)
		return;		/* stale: revalidated when asked */
	cache_meta_put(ml->s, bucket, key, m, ml->now_ms - age);
}

/* Loads the metadata files of the disk tier (at start, before any loop). */
void
cache_store_attach_disk(struct cache_store *s, struct cache_disk *d, uint64_t freshness_ms)
{
	struct meta_load ml = { .s = s, .freshness_ms = freshness_ms };

	CM_ASSERT(s->magic == CACHE_STORE_MAGIC);
	ml.now_ms = cm_mono_ms();
	ml.wall = time(NULL);
	s->disk = NULL;		/* no writes back while loading */
	cache_disk_meta_scan(d, meta_loaded, &ml);
	s->disk = d;
}
