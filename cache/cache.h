/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.h: the one header of cache/. The block cache of a worker: object metadata and fixed-size
 * blocks of object versions, held by a chain of tiers (memory, then disk), with single-flight
 * filling.
 *
 * A version is (bucket, key, ETag, size); it gets a number (vid) when its
 * metadata is stored, and blocks are keyed by (vid, index), so that bytes of
 * two versions can never be stitched together. The store (cache_store.c:
 * blocks and single-flight; cache_meta.c: versions and metadata) does no
 * I/O: the caller that opens a missing block is told to fill it (from the
 * tier below, through cache_blk_promote, or from the origin) and appends
 * bytes as they arrive; every other reader of that block waits on it and is
 * woken (on its own event loop) as bytes land. A READY block enters the
 * memory tier (cache_tier_mem.c), whose eviction policy decides when it
 * leaves; readers hold references, so its bytes are lent without a copy.
 *
 * Threads: any. One mutex per store guards its tables, the memory tier and
 * its eviction policy; block bytes are written by their one filler and read
 * without the lock up to the published fill mark. Wake-ups use
 * event_active, safe across loops. The tiers below memory are called
 * without it (see "Tiers").
 */
#ifndef CACHALOT_CACHE_H
#define CACHALOT_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/common.h"

/* ==== Eviction policies ==== */
/*
 * eviction policies, as the block cache and `cachalot sim`
 * see them. A policy tracks object ids and sizes against a byte capacity
 * and decides what leaves; it holds no data. Two implementations, so that
 * they can be compared on the same traces:
 *   s3fifo  S3-FIFO (Yang et al., SOSP 2023): small FIFO (10%), main FIFO
 *           with 2-bit frequency reinsertion (90%), ghost FIFO of ids
 *   lru     least recently used
 *
 * Threads: an instance is used by one thread at a time (the caller locks).
 */
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
/* Whether id is held now (not a ghost): a lookup, no change. */
typedef int cache_evict_holds_f(const struct cache_evict *e, uint64_t id);

struct cache_evict_ops {
	const char		*name;
	cache_evict_new_f	*create;
	cache_evict_access_f	*access;
	cache_evict_remove_f	*remove;
	cache_evict_used_f	*used;
	cache_evict_fini_f	*fini;
	cache_evict_holds_f	*holds;
};

extern const struct cache_evict_ops cache_evict_lru_ops;
extern const struct cache_evict_ops cache_evict_s3fifo_ops;

/* "lru" or "s3fifo" to its ops; NULL for anything else. */
const struct cache_evict_ops *cache_evict_by_name(const char *name);

/* ==== The store (cache_store.c, cache_meta.c) ==== */
struct event;
struct cache_store;
struct cache_blk;

#define CACHE_ETAG_MAX	128
#define CACHE_HDRS_MAX	8192

/* What a GET or HEAD answer needs from the origin's metadata. */
struct cache_meta {
	uint64_t	vid;			/* set by cache_meta_put */
	char		etag[CACHE_ETAG_MAX];	/* quoted, as the origin sent it */
	uint64_t	size;
	time_t		last_modified;		/* -1 when unknown */
	uint64_t	validated_ms;		/* monotonic time of the last check */
	unsigned char	vhash[32];		/* names the version's blocks on disk */
	int		partial;		/* known from a gateway: blocks only */
	size_t		hdrs_len;
	size_t		hdrs_full_len;		/* hdrs[hdrs_len..full) full-object only */
	/* Headers to replay on answers ("Name: value\r\n" lines): type,
	 * encoding, disposition, x-amz-meta-*, storage class... Last: the
	 * store keeps only the hdrs_full_len bytes used (CACHE_META_USED). */
	char		hdrs[CACHE_HDRS_MAX];
};

/* The bytes of m that matter: the fields and the headers in use. */
#define CACHE_META_USED(m)	(offsetof(struct cache_meta, hdrs) + (m)->hdrs_full_len)

/* The store's own counts. They count opens of blocks (a read and its
 * readahead may open one block twice): hits and misses as a user means
 * them, one per block an answer reads, are the gateway's (gw_metrics). */
struct cache_stats {
	uint64_t	hits;			/* block opens that found the block */
	uint64_t	misses;			/* block opens that had to fill it */
	uint64_t	waiters;		/* opens of a block still filling */
	uint64_t	mem_cap;		/* bytes of blocks the memory tier may hold */
	uint64_t	evictions;		/* from the memory tier */
	uint64_t	mem_bytes;		/* ready blocks the memory tier holds */
	uint64_t	blocks;			/* held in memory or being filled */
	uint64_t	meta_entries;
};

struct cache_disk;

/* A store whose memory tier holds mem_bytes of blocks of block_size bytes,
 * evicted by policy (no tier below it until cache_store_attach_tier). */
struct cache_store *cache_store_new(uint64_t mem_bytes, uint64_t block_size,
    const struct cache_evict_ops *policy);
void cache_store_free(struct cache_store **sp);
/* Backs the metadata with the disk tier: loads what it holds (validated
 * then, by the wall clock, freshness in ms) and keeps it in step. */
void cache_store_attach_disk(struct cache_store *s, struct cache_disk *d, uint64_t freshness_ms);
/* From now on the metadata files are written by io's thread (after
 * cache_store_attach_disk; io outlives the store's last use). */
struct cache_io;
void cache_store_attach_io(struct cache_store *s, struct cache_io *io);
struct cache_disk *cache_store_disk(struct cache_store *s);
uint64_t cache_block_size(const struct cache_store *s);
void cache_stats(struct cache_store *s, struct cache_stats *out);

/* Copies the metadata of bucket/key into *out: 0, or -1 when unknown. */
int cache_meta_get(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *out);
/* Stores metadata (validated now). A different ETag or size than what was
 * stored makes a new version (and drops the old one's blocks); the same
 * keeps the vid. m->vid is set to the version's number. */
void cache_meta_put(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *m, uint64_t now_ms);
/* The origin confirmed the version (304 to If-None-Match). */
void cache_meta_touch(struct cache_store *s, struct cm_slice bucket, struct cm_slice key,
    uint64_t vid, uint64_t now_ms);
/* Every object's metadata is revalidated before its next use (blocks are
 * kept: a revalidation that finds the same version keeps them). */
void cache_meta_expire_all(struct cache_store *s);
/* A write went through: forget the key (and its blocks), or the bucket. */
void cache_meta_invalidate(struct cache_store *s, struct cm_slice bucket, struct cm_slice key);
void cache_meta_invalidate_bucket(struct cache_store *s, struct cm_slice bucket);
/* Forgets every key of the bucket that begins with prefix (keys and
 * prefix in the canonical form the store is given keys in, where the
 * encoding of a prefix is a prefix of the encoding); an empty prefix is the
 * whole bucket. The other keys of the bucket keep their metadata and
 * blocks. Walks the whole table under the lock: for purges, not the data
 * path. Metadata that was shed from memory (kept on the disk tier only)
 * is not reached: it is not used before the origin is asked again, but a
 * restart within the freshness time could load it back. */
void cache_meta_invalidate_prefix(struct cache_store *s, struct cm_slice bucket,
    struct cm_slice prefix);

enum cache_open { CACHE_READ = 0, CACHE_FILL = 1 };

/*
 * Opens block idx of version vid, whose length is len. *bp: a new reference.
 * CACHE_FILL: the caller must fill it (cache_blk_append, then
 * cache_blk_finish) and may read it as it goes, like everyone else;
 * CACHE_READ: it is there or being filled. -1: out of memory.
 */
int cache_blk_open(struct cache_store *s, uint64_t vid, uint64_t idx, size_t len,
    struct cache_blk **bp);
void cache_blk_release(struct cache_store *s, struct cache_blk **bp);
/* Drops a reference taken with cache_blk_ref, knowing only the block (a
 * release callback for bytes lent out, as to an evbuffer). */
void cache_blk_unref(void *blk);
/* One more reference to b (for a filler that also reads). */
struct cache_blk *cache_blk_ref(struct cache_store *s, struct cache_blk *b);

enum cache_blk_state { CACHE_BLK_FILLING, CACHE_BLK_READY, CACHE_BLK_FAILED };

/* Bytes readable now (from cache_blk_data) and the state. */
size_t cache_blk_avail(struct cache_blk *b, enum cache_blk_state *state);
const char *cache_blk_data(const struct cache_blk *b);
struct cache_store *cache_blk_store(const struct cache_blk *b);
size_t cache_blk_len(const struct cache_blk *b);
/* Asks for ev to be made active when the block progresses. 0: registered;
 * 1: it has progressed past seen already (read again, no wake-up). */
int cache_blk_wait(struct cache_store *s, struct cache_blk *b, size_t seen, struct event *ev);
void cache_blk_unwait(struct cache_store *s, struct cache_blk *b, struct event *ev);

/* Filler only: the whole block from fill(arg, buf, len); on success (0)
 * the block is finished, else it is still the caller's to fill. Returns
 * fill's result. */
int cache_blk_fill_from(struct cache_store *s, struct cache_blk *b,
    int (*fill)(void *arg, char *buf, size_t len), void *arg);
/* Filler only: more bytes (at most the length opened); the end. */
void cache_blk_append(struct cache_store *s, struct cache_blk *b, const char *p, size_t len);
void cache_blk_finish(struct cache_store *s, struct cache_blk *b, int ok);

/* ---- The I/O thread (cache_io.c) ----
 *
 * Block reads from the disk tier and the metadata files are done by one
 * thread, never by a loop nor under the store's lock. A block read is
 * asked for a block its requester opened CACHE_FILL: the thread fills it
 * from its file (checking its CRC) and posts the request to the
 * requester's completion queue, whose callback runs on the requester's
 * loop; the block's other readers are woken as for any fill.
 */
struct cache_io_q;
struct event_base;

struct cache_io_req {
	unsigned		magic;
#define CACHE_IO_REQ_MAGIC	0x10d1e001
	struct cache_blk	*b;		/* opened CACHE_FILL; the request's reference */
	unsigned char		id[32];		/* its disk name (set by the disk tier) */
	struct cache_io_q	*q;		/* where it is posted when read */
	int			rc;		/* 0: READY from disk; else the requester fills it */
	void			*arg;		/* the requester's */
	uint64_t		idx;		/* the requester's */
	struct cache_io_req	*next;		/* the queues' */
};
/* Runs on the queue's loop (or in cache_io_q_free); r is the caller's again. */
typedef void cache_io_done_f(struct cache_io_req *r);

/* NULL when the thread cannot be started. CACHALOT_TEST_DISK_DELAY_MS
 * (tests only) delays every block read by that much. */
struct cache_io *cache_io_new(struct cache_store *s, struct cache_disk *d);
/* Does what is queued, stops the thread, frees. *iop = NULL. */
void cache_io_close(struct cache_io **iop);
/* (cache_io_read, asked by the disk tier only: cache_priv.h.) */
/* Block reads queued and not yet posted (for metrics and tests). */
uint64_t cache_io_reads_queued(struct cache_io *io);
/* For the store, under its lock: copies are queued, the files written by
 * the thread in the order queued. */
void cache_io_meta_put(struct cache_io *io, struct cm_slice bucket, struct cm_slice key,
    const struct cache_meta *m, int64_t validated_wall);
void cache_io_meta_remove(struct cache_io *io, struct cm_slice bucket, struct cm_slice key);
/* A loop's completion queue: done runs on base's thread for each request
 * posted. Freeing runs done for what was posted and not yet run (after the
 * loop stopped, before the I/O thread is closed... or after: nothing is
 * posted once cache_io_close returned). */
struct cache_io_q *cache_io_q_new(struct event_base *base, cache_io_done_f *done);
void cache_io_q_free(struct cache_io_q **qp);

/* ==== The disk tier (cache_disk.c) ==== */
/*
 * the disk tier: blocks and object metadata under data-dir,
 * surviving restarts and kill -9.
 *
 * A block file is named by the SHA-256 of its version and index (never by
 * the object key): blocks/ab/<64 hex>. It starts with a header (magic,
 * length, CRC32C of the bytes) and is written to a temporary name, then
 * renamed, so that a crash leaves either the whole block or none. A block
 * whose check fails when read is deleted and reported as missing: it is
 * never served. Metadata files (meta/ab/<hash of bucket and key>) hold what
 * a GET answer needs and when it was last validated (wall clock).
 *
 * Space: the tier holds at most 'capacity' bytes of blocks, evicting with
 * its own S3-FIFO; what is on disk at start is indexed again by scanning.
 * Errors (disk full, unwritable): the operation fails, is counted and
 * logged by the caller; reads go to the origin.
 *
 * Threads: any; one mutex guards the index, I/O happens outside it.
 */
struct cache_disk;

struct cache_disk_stats {
	uint64_t	bytes;		/* block bytes on disk */
	uint64_t	blocks;
	uint64_t	reads;		/* blocks read back */
	uint64_t	writes;
	uint64_t	corrupt;	/* failed their check, deleted */
	uint64_t	errors;		/* writes that failed */
	uint64_t	evictions;
};

/* Opens (creating) dir/blocks and dir/meta and indexes what is there.
 * NULL with err set. */
struct cache_disk *cache_disk_open(const char *dir, uint64_t capacity, char *err, size_t errlen);
void cache_disk_close(struct cache_disk **dp);
void cache_disk_stats(struct cache_disk *d, struct cache_disk_stats *out);

/* The version hash, which names a version in every tier (its blocks' disk
 * names derive from it, privately: cache_priv.h): SHA-256 of bucket, key,
 * ETag and size. */
void cache_version_hash(struct cm_slice bucket, struct cm_slice key, const char *etag,
    uint64_t size, unsigned char out[32]);


/* Metadata, by bucket and key. validated_wall: seconds since the epoch. */
int cache_disk_meta_put(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key,
    const struct cache_meta *m, int64_t validated_wall);
int cache_disk_meta_get(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key,
    struct cache_meta *m, int64_t *validated_wall);
void cache_disk_meta_remove(struct cache_disk *d, struct cm_slice bucket, struct cm_slice key);
/* Reads one metadata file by path (for loading at start): bucket has room
 * for 1025 bytes, key for 4097. 0, or -1 when unreadable or corrupt. */
int cache_disk_meta_load(const char *path, struct cache_meta *m, int64_t *validated_wall,
    char *bucket, size_t *blen, char *key, size_t *klen);
const char *cache_disk_dir(const struct cache_disk *d);

/* ==== The write-behind thread (cache_writer.c) ==== */
/*
 * writes filled blocks to the disk tier behind the event
 * loops (write-behind), so that a loop never waits on the disk while it
 * streams a cold read: a write(2) into a page cache full of dirty pages can
 * block for long.
 *
 * The queue is bounded by bytes: a block that does not fit is not written
 * (counted); it is still served from memory and refetched if it is later
 * evicted. A queued block is held by a reference, so its bytes stay valid
 * until written. Closing writes what is queued, then stops the thread.
 *
 * Threads: cache_writer_put from any thread; one writer thread.
 */
struct cache_writer;

/* NULL when the thread cannot be started. */
struct cache_writer *cache_writer_new(struct cache_store *s, struct cache_disk *d,
    uint64_t max_queued_bytes);
/* Writes the queue out, stops the thread, frees. *wp = NULL. */
void cache_writer_close(struct cache_writer **wp);
/* (cache_writer_put, which takes a disk name: cache_priv.h.) */
/* Bytes waiting to be written; blocks dropped because the queue was full. */
void cache_writer_stats(struct cache_writer *w, uint64_t *queued, uint64_t *dropped);

/* ==== Tiers (cache_tiers.c, cache_tier_mem.c, cache_tier_disk.c) ====
 *
 * The store (versions, metadata, single-flight) sits over a chain of tiers
 * behind one const table of function pointers: memory first
 * (cache_tier_mem.c: the resident blocks and the eviction policy), then the
 * tiers below it (cache_tier_disk.c: the block files). How a tier names and
 * keeps its blocks is its own (the disk tier's names, cache_disk_block_id,
 * are used by cache_tier_disk.c only). Promotion (a block found below ->
 * memory) and demotion (a filled block -> the tiers below) are done in one
 * place, cache_tiers.c (cache_blk_promote, cache_blk_demote, and the
 * admission of a READY block into memory).
 *
 * Locks: the memory tier has no lock of its own (caller_locks): its slots
 * run under the store's mutex, so that a memory hit takes one lock. A tier
 * below memory has its own locks and does I/O (on its threads): its slots
 * are called by cache_tiers.c only, never under the store's mutex (lookup
 * queues the read on the I/O thread, store queues the write on the writer).
 * Every slot is set (cache_tier_def_* where a tier has nothing to do).
 */
struct cache_tier;

/* A block as the tiers know it: the version's number (vid: memory's name
 * of it, for this process's life), its lasting name (vhash[32]: the
 * disk's; NULL where only the number is known, as in memory's slots) and
 * its index. */
struct cache_blk_key {
	uint64_t		vid;
	uint64_t		idx;
	const unsigned char	*vhash;
};

enum cache_tier_rc {
	CACHE_TIER_MISS = -1,	/* not held (no I/O done), or not queued */
	CACHE_TIER_QUEUED = 0,	/* a tier below memory: the read is queued */
	CACHE_TIER_HIT = 1,	/* the memory tier: *bp is the block, READY */
};

/* Finds block k. The memory tier: CACHE_TIER_HIT with *bp a new reference
 * (r unused, may be NULL). A tier below memory: CACHE_TIER_QUEUED, the read
 * of the block into r->b (opened CACHE_FILL) queued on its thread, r
 * borrowed until posted to r->q (bp unused, may be NULL). Else
 * CACHE_TIER_MISS. */
typedef int  cache_tier_lookup_f(struct cache_tier *t, const struct cache_blk_key *k,
    struct cache_blk **bp, struct cache_io_req *r);
/* Keeps b (a finished, whole block; borrowed, the tier takes a reference
 * of its own). The memory tier: b is READY and in no tier's table; it is
 * resident from now on (the policy may evict others). A tier below: the
 * write is queued. 0, or -1 not kept (larger than memory; busy: counted). */
typedef int  cache_tier_store_f(struct cache_tier *t, const struct cache_blk_key *k,
    struct cache_blk *b);
/* Forgets block k (a tier below may keep it until it is evicted: its
 * versions keep stale bytes apart). Not an eviction: not counted. */
typedef void cache_tier_remove_f(struct cache_tier *t, const struct cache_blk_key *k);

struct cache_tier_stats {
	uint64_t	cap;		/* bytes the tier may hold */
	uint64_t	blocks;
	uint64_t	bytes;
	uint64_t	evictions;
};
typedef void cache_tier_stats_f(struct cache_tier *t, struct cache_tier_stats *out);
/* Frees the tier (not what it borrows; its own block references are
 * dropped). *tp = NULL. */
typedef void cache_tier_fini_f(struct cache_tier **tp);

struct cache_tier_ops {
	const char		*name;		/* "mem", "disk" */
	int			caller_locks;	/* 1: no lock of its own, no I/O (memory) */
	cache_tier_lookup_f	*lookup;	/* required */
	cache_tier_store_f	*store;		/* required */
	cache_tier_remove_f	*remove;	/* cache_tier_def_remove: nothing */
	cache_tier_stats_f	*stats;		/* cache_tier_def_stats: zeros */
	cache_tier_fini_f	*fini;		/* required */
};

struct cache_tier {
	unsigned			magic;
#define CACHE_TIER_MAGIC		0x71e2d15c
	const struct cache_tier_ops	*ops;
	void				*priv;		/* the tier's own */
};

cache_tier_remove_f cache_tier_def_remove;
cache_tier_stats_f cache_tier_def_stats;
extern const struct cache_tier_ops cache_tier_mem_ops;
extern const struct cache_tier_ops cache_tier_disk_ops;

/* The memory tier: at most cap bytes of blocks of at most block_size
 * bytes, evicted by policy. Its slots are called by one thread at a time
 * (the store's mutex). NULL: out of memory. cache_store_new makes the
 * store's own. */
struct cache_tier *cache_tier_mem_new(uint64_t cap, uint64_t block_size,
    const struct cache_evict_ops *policy);
/* The disk tier over d, reading through io and writing through w (all
 * three borrowed: they outlive the tier's last use). NULL: out of memory. */
struct cache_tier *cache_tier_disk_new(struct cache_disk *d, struct cache_io *io,
    struct cache_writer *w);
/* Puts t below the store's memory, in place of any tier there (the store
 * takes it and frees it with itself; NULL: none); before any loop runs. */
void cache_store_attach_tier(struct cache_store *s, struct cache_tier *t);
/* Promotion: block idx of the version vhash, missing in memory (r->b opened
 * CACHE_FILL), is asked of the tiers below; 0: queued, r is posted to r->q
 * once read (r->rc 0: READY, and admitted to memory); -1: no tier, not
 * there, or not queued (r is the caller's, the block to be filled from the
 * origin). */
int cache_blk_promote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_io_req *r);
/* Demotion: a block just filled (b, borrowed) is handed to the tiers below.
 * 0 queued (or no tier); -1 a tier is busy, b is not kept there. */
int cache_blk_demote(struct cache_store *s, const unsigned char vhash[32], uint64_t idx,
    struct cache_blk *b);

/* ==== Ranges and conditions (cache_range.c) ==== */
/*
 * S3's answers to Range and conditional headers, computed
 * from what is known of an object (ETag, size, Last-Modified), so that a
 * cached object is answered exactly as AWS S3 answers, whatever the origin
 * itself would have said. Pure functions, any thread.
 */
struct cache_obj_info {
	struct cm_slice	etag;		/* as the origin sent it, quoted */
	uint64_t	size;
	time_t		last_modified;	/* -1 when unknown */
};

struct cache_conds {
	struct cm_slice	if_match;		/* len 0: absent */
	struct cm_slice	if_none_match;
	struct cm_slice	if_modified_since;
	struct cm_slice	if_unmodified_since;
};

/*
 * 200 (serve), 304 (Not Modified) or 412 (Precondition Failed), with S3's
 * precedence: If-Match decides and then If-Unmodified-Since is ignored;
 * If-None-Match decides and then If-Modified-Since is ignored. ETags are
 * compared strongly, quotes and a W/ prefix aside; "*" matches any object.
 * A date that does not parse is ignored, as HTTP says.
 */
int cache_cond_eval(const struct cache_obj_info *o, const struct cache_conds *c);

struct cache_range {
	uint64_t	first;
	uint64_t	last;		/* inclusive */
};

/*
 * What a Range header asks of an object of size bytes: 200 (no range, or
 * one S3 ignores: malformed, several ranges, first > last: the whole
 * object), 206 with *r set, or 416 (unsatisfiable; answer with
 * Content-Range: bytes *\/size). A suffix range of an empty object is 200
 * with an empty body, as AWS answers it.
 */
int cache_range_eval(struct cm_slice range, uint64_t size, struct cache_range *r);

/* The blocks (of bs bytes) that hold bytes first..last: *b0..*b1. */
void cache_blocks_for(uint64_t first, uint64_t last, uint64_t bs, uint64_t *b0, uint64_t *b1);

/* ==== The policy simulator (cache_sim.c) ==== */
/*
 * `cachalot sim`: replays a trace through the real eviction
 * policies (the same objects the worker links) and counts misses.
 *
 * Traces: libCacheSim's oracleGeneral binary format (24 bytes a request,
 * little-endian: uint32 time, uint64 object id, uint32 size, int64 next
 * access), or CSV lines "time,obj_id,obj_size" (a header line is skipped;
 * an id that is not a number is hashed). Main thread.
 */
struct cache_sim_req {
	uint64_t	id;
	uint64_t	size;
};

struct cache_trace;

/* Opens a trace; the format is told by its content. NULL with err set. */
struct cache_trace *cache_trace_open(const char *path, char *err, size_t errlen);
/* 1: *r is the next request; 0: end of trace; -1: malformed (err says
 * where). */
int cache_trace_next(struct cache_trace *t, struct cache_sim_req *r, char *err, size_t errlen);
void cache_trace_close(struct cache_trace **tp);

/* The record parsers, for tests and the fuzz target. 0 or -1. */
int cache_trace_parse_csv(const char *line, size_t len, struct cache_sim_req *r);
void cache_trace_parse_og(const unsigned char rec[24], struct cache_sim_req *r);

struct cache_sim_result {
	uint64_t	requests;
	uint64_t	misses;
	uint64_t	bytes;
	uint64_t	miss_bytes;
};

/* Replays trace once through npol x nsizes policy instances (res holds
 * npol * nsizes results, policy-major). 0, or -1 with err set. */
int cache_sim_run(const struct cache_evict_ops *const *pol, size_t npol, const uint64_t *sizes,
    size_t nsizes, const char *trace, struct cache_sim_result *res, char *err, size_t errlen);

#endif
