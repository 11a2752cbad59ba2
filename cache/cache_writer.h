/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_writer.h: writes filled blocks to the disk tier behind the event
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
#ifndef CACHALOT_CACHE_WRITER_H
#define CACHALOT_CACHE_WRITER_H

#include <stdint.h>

#include "cache/cache.h"
#include "cache/cache_disk.h"

struct cache_writer;

/* NULL when the thread cannot be started. */
struct cache_writer *cache_writer_new(struct cache_store *s, struct cache_disk *d,
    uint64_t max_queued_bytes);
/* Writes the queue out, stops the thread, frees. *wp = NULL. */
void cache_writer_close(struct cache_writer **wp);
/* Queues block b (a finished, whole block; the writer takes a reference of
 * its own) under the disk name id. 0 queued, -1 not (queue full). */
int cache_writer_put(struct cache_writer *w, struct cache_blk *b, const unsigned char id[32]);
/* Bytes waiting to be written; blocks dropped because the queue was full. */
void cache_writer_stats(struct cache_writer *w, uint64_t *queued, uint64_t *dropped);

#endif
