/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_disk.h: the disk tier: blocks and object metadata under data-dir,
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
#ifndef CACHALOT_CACHE_DISK_H
#define CACHALOT_CACHE_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"

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

/* The stable name of a version's block: SHA-256 of bucket, key, ETag,
 * size, index. */
void cache_disk_block_id(const unsigned char vhash[32], uint64_t idx, unsigned char out[32]);
/* The version hash: SHA-256 of bucket, key, ETag and size. */
void cache_disk_version_hash(struct cm_slice bucket, struct cm_slice key, const char *etag,
    uint64_t size, unsigned char out[32]);

/* 0 and buf holds the len bytes; -1 not there; -2 there but corrupt
 * (deleted, counted). */
int cache_disk_get(struct cache_disk *d, const unsigned char id[32], char *buf, size_t len);
/* 0, or -1 (counted as an error). */
int cache_disk_put(struct cache_disk *d, const unsigned char id[32], const char *buf, size_t len);

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

#endif
