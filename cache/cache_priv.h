/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_priv.h: shared only inside cache/: the eviction policies' object
 * index (a chained hash table keyed by 64-bit id) and intrusive FIFO/LRU
 * queues of its nodes (one node per tracked object: 48 bytes); the block
 * descriptor and the store, which cache_store.c, cache_meta.c,
 * cache_tiers.c and cache_tier_mem.c share; the disk tier's block names and
 * queues.
 */
#ifndef CACHALOT_CACHE_PRIV_H
#define CACHALOT_CACHE_PRIV_H

#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cache/cache.h"

struct ce_node {
	uint64_t	id;
	uint64_t	size;
	struct ce_node	*hnext;		/* hash chain */
	struct ce_node	*prev;		/* queue: towards the head (newest) */
	struct ce_node	*next;		/* queue: towards the tail (oldest) */
	uint8_t		queue;		/* which queue holds it (policy's own) */
	uint8_t		freq;
};

struct ce_index {
	struct ce_node	**b;
	size_t		nb;		/* power of two */
	size_t		n;
};

int ce_index_init(struct ce_index *ix);
void ce_index_fini(struct ce_index *ix);	/* frees every node */
struct ce_node *ce_index_get(const struct ce_index *ix, uint64_t id);
/* Inserts a new node for id (not present); NULL when out of memory. */
struct ce_node *ce_index_add(struct ce_index *ix, uint64_t id, uint64_t size);
/* Unlinks n from the index and frees it. */
void ce_index_del(struct ce_index *ix, struct ce_node *n);

struct ce_queue {
	struct ce_node	*head;
	struct ce_node	*tail;
	uint64_t	bytes;
	uint64_t	count;
};

void ce_queue_push(struct ce_queue *q, struct ce_node *n);	/* at the head */
void ce_queue_unlink(struct ce_queue *q, struct ce_node *n);

/*
 * A block (cache_store.c makes them, single-flight; cache_tier_mem.c keeps
 * the resident ones). Shared here so that the memory tier's table and the
 * store's table of blocks being filled chain the same descriptor: one
 * allocation per block, its bytes after it, lent to sockets by reference.
 */
struct cache_waiter;

enum cache_blk_where {
	CACHE_BLK_NOWHERE = 0,	/* in no table: its holders' only */
	CACHE_BLK_FLIGHT,	/* the store's table of blocks being filled */
	CACHE_BLK_MEM,		/* the memory tier's table (READY) */
};

struct cache_blk {
	unsigned		magic;
#define CACHE_BLK_MAGIC		0xb10cb10c
	uint64_t		vid;
	uint64_t		idx;
	size_t			len;
	_Atomic size_t		filled;
	_Atomic int		state;
	/* References: a table holds one while the block is in it, so only a
	 * block out of every table can reach 0; taking one needs one already
	 * (or the store's lock, to find it in a table). No lock to give one
	 * back (cache_blk_release, cache_blk_unref). */
	_Atomic int		refs;
	int			where;		/* enum cache_blk_where, under the store's lock */
	struct cache_waiter	*waiters;	/* under the store's lock */
	struct cache_blk	*hnext;		/* the chain of the table it is in */
	struct cache_store	*store;		/* for cache_blk_unref */
	int			mapped;		/* allocated with mmap (big blocks) */
	char			data[];		/* len bytes, one allocation with the rest */
};

/* The slot of block (vid, idx) in a table of n (a power of two) chains. */
static inline size_t
cache_blk_slot(uint64_t vid, uint64_t idx, size_t n)
{
	uint64_t h = vid * 0x9E3779B97F4A7C15ull ^ (idx + 0x7F4A7C159E3779B9ull + (vid << 6) +
	    (vid >> 2));

	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return ((size_t)(h ^ (h >> 32)) & (n - 1));
}

/* The eviction policy's id of a block: the version in the high half. */
static inline uint64_t
cache_blk_policy_id(uint64_t vid, uint64_t idx)
{
	return (vid << 32 | (idx & 0xffffffffu));
}

/*
 * The store (cache_store.c: blocks, single-flight; cache_meta.c: versions
 * and metadata; cache_tiers.c: its chain of tiers). Shared here so that
 * promotion and demotion (cache_tiers.c) and the metadata stay out of the
 * single-flight's file. Every field under mtx but 'mem' (set at creation),
 * 'below' and 'nbelow' (set once before the loops run), all freed with the
 * store.
 */
struct cache_evict_ops;
struct meta_ent;
struct bucket_gen;

#define CACHE_TIERS_BELOW	2	/* tiers under memory a store can chain */

struct cache_store {
	unsigned			magic;
#define CACHE_STORE_MAGIC		0x5702e5a1
	pthread_mutex_t			mtx;
	uint64_t			block_size;
	/* The memory tier (owned): its slots are called with mtx held only
	 * (cache_tier_ops.caller_locks). */
	struct cache_tier		*mem;
	/* The tiers below it (owned), nearest first: called by cache_tiers.c
	 * only, never with mtx held. */
	struct cache_tier		*below[CACHE_TIERS_BELOW];
	size_t				nbelow;
	struct cache_blk		**ft;		/* blocks being filled: single-flight */
	size_t				nft;
	struct meta_ent			**mt;		/* cache_meta.c's */
	size_t				nmt;
	uint64_t			meta_cap;	/* entries held in memory */
	size_t				meta_hand;	/* next chain to shed from */
	struct bucket_gen		*gens;
	struct cache_disk		*disk;
	struct cache_io			*io;		/* its metadata files go there */
	uint64_t			next_vid;
	struct cache_stats		st;		/* blocks: those being filled */
};

/* cache_meta.c, for cache_store_new and cache_store_free: the metadata
 * table. 0, or -1 out of memory (nothing to free then). */
int cache_meta_init(struct cache_store *s, uint64_t mem_bytes);
void cache_meta_fini(struct cache_store *s);
/* cache_store.c, for cache_meta.c, under s->mtx: forgets the blocks of
 * version vid (size bytes) held in memory or being filled (the first 65536;
 * any others age out, unreachable). */
void cache_blk_drop_version(struct cache_store *s, uint64_t vid, uint64_t size);
/* cache_tiers.c: asserts t is a tier with every slot set, and that it runs
 * under its owner's lock (caller_locks 1: memory) or not (0: below). */
void cache_tier_check(const struct cache_tier *t, int caller_locks);
/* cache_tiers.c, for cache_blk_finish, under s->mtx: a block just READY
 * (out of every table) enters the memory tier: 0 kept, -1 not (too big). */
int cache_tiers_admit(struct cache_store *s, struct cache_blk *b);

/*
 * The disk tier's blocks (cache_disk.c), for the tier's table
 * (cache_tier_disk.c), the I/O thread (cache_io.c) and the writer
 * (cache_writer.c) only: nothing outside cache/ names a disk block.
 */
/* The stable name of a version's block: SHA-256 of the version hash and
 * the index. */
void cache_disk_block_id(const unsigned char vhash[32], uint64_t idx, unsigned char out[32]);
/* Whether the tier's index holds the block (no I/O: a lookup under its
 * lock); a file it holds may still turn out missing or corrupt. */
int cache_disk_has(struct cache_disk *d, const unsigned char id[32]);
/* 0 and buf holds the len bytes; -1 not there; -2 there but corrupt
 * (deleted, counted). */
int cache_disk_get(struct cache_disk *d, const unsigned char id[32], char *buf, size_t len);
/* 0, or -1 (counted as an error). */
int cache_disk_put(struct cache_disk *d, const unsigned char id[32], const char *buf, size_t len);
/* The start-up load of the metadata files (for cache_store_attach_disk):
 * each file under meta/ is read (cache_disk_meta_load) and handed to cb;
 * an unreadable or corrupt one is removed. File I/O: run before any loop,
 * never under the store's lock (cb takes it per entry). */
typedef void cache_disk_meta_cb(void *arg, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *m, int64_t validated_wall);
void cache_disk_meta_scan(struct cache_disk *d, cache_disk_meta_cb *cb, void *arg);
/* The disk tier's queues (cache_io.c, cache_writer.c; see cache.h). */
/* Queues r (borrowed until posted). 0, or -1 (out of memory: r is still
 * the caller's, its block unread). */
int cache_io_read(struct cache_io *io, struct cache_io_req *r);
/* Queues block b (a finished, whole block; the writer takes a reference of
 * its own) under the disk name id. 0 queued, -1 not (queue full). */
int cache_writer_put(struct cache_writer *w, struct cache_blk *b, const unsigned char id[32]);

#endif
