/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_priv.h: shared only inside cache/: the object index (a chained hash
 * table keyed by 64-bit id) and intrusive FIFO/LRU queues of its nodes.
 * One node per tracked object: 48 bytes.
 */
#ifndef CACHALOT_CACHE_PRIV_H
#define CACHALOT_CACHE_PRIV_H

#include <stddef.h>
#include <pthread.h>
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
 * The store (cache_store.c; cache_tiers.c reads its tier). Shared here so
 * that promotion and demotion (cache_tiers.c) stay out of the memory
 * tier's file. Every field under mtx but 'tier', set once before the loops
 * run and freed with the store.
 */
struct cache_evict_ops;
struct cache_evict;
struct meta_ent;
struct bucket_gen;

struct cache_store {
	unsigned			magic;
#define CACHE_STORE_MAGIC		0x5702e5a1
	pthread_mutex_t			mtx;
	uint64_t			block_size;
	uint64_t			mem_cap;
	const struct cache_evict_ops	*pol;
	struct cache_evict		*ev;
	struct cache_blk		**bt;
	size_t				nbt;
	struct meta_ent			**mt;
	size_t				nmt;
	uint64_t			meta_cap;	/* entries held in memory */
	size_t				meta_hand;	/* next chain to shed from */
	struct bucket_gen		*gens;
	struct cache_disk		*disk;
	struct cache_io			*io;		/* its metadata files go there */
	struct cache_tier		*tier;		/* below memory (owned), or NULL */
	uint64_t			next_vid;
	struct cache_stats		st;
};

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
/* The disk tier's queues (cache_io.c, cache_writer.c; see cache.h). */
/* Queues r (borrowed until posted). 0, or -1 (out of memory: r is still
 * the caller's, its block unread). */
int cache_io_read(struct cache_io *io, struct cache_io_req *r);
/* Queues block b (a finished, whole block; the writer takes a reference of
 * its own) under the disk name id. 0 queued, -1 not (queue full). */
int cache_writer_put(struct cache_writer *w, struct cache_blk *b, const unsigned char id[32]);

#endif
