/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_evict.h: eviction policies, as the block cache and `cachalot sim`
 * see them. A policy tracks object ids and sizes against a byte capacity
 * and decides what leaves; it holds no data. Two implementations, so that
 * they can be compared on the same traces:
 *   s3fifo  S3-FIFO (Yang et al., SOSP 2023): small FIFO (10%), main FIFO
 *           with 2-bit frequency reinsertion (90%), ghost FIFO of ids
 *   lru     least recently used
 *
 * Threads: an instance is used by one thread at a time (the caller locks).
 */
#ifndef CACHALOT_CACHE_EVICT_H
#define CACHALOT_CACHE_EVICT_H

#include <stdint.h>

struct cache_evict;

/* An object leaves the cache (evicted to make room). */
typedef void cache_evict_cb(void *arg, uint64_t id, uint64_t size);

typedef struct cache_evict *cache_evict_new_f(uint64_t capacity, cache_evict_cb *cb, void *arg);
/* A request for id of size bytes: 1 when it is cached (a hit), 0 when not;
 * a missed object is admitted, evicting others through cb, unless it is
 * larger than the capacity. */
typedef int cache_evict_access_f(struct cache_evict *e, uint64_t id, uint64_t size);
/* Forgets id without a callback (the object was invalidated). */
typedef void cache_evict_remove_f(struct cache_evict *e, uint64_t id);
typedef uint64_t cache_evict_used_f(const struct cache_evict *e);
typedef void cache_evict_fini_f(struct cache_evict **ep);	/* *ep = NULL */

struct cache_evict_ops {
	const char		*name;
	cache_evict_new_f	*create;
	cache_evict_access_f	*access;
	cache_evict_remove_f	*remove;
	cache_evict_used_f	*used;
	cache_evict_fini_f	*fini;
};

extern const struct cache_evict_ops cache_evict_lru_ops;
extern const struct cache_evict_ops cache_evict_s3fifo_ops;

/* "lru" or "s3fifo" to its ops; NULL for anything else. */
const struct cache_evict_ops *cache_evict_by_name(const char *name);

#endif
