/* SPDX-License-Identifier: Apache-2.0 */
/*
 * index_mem.c: what the cache's index costs per cached block and per
 * cached object, measured with a million of each (malloc's own count of
 * bytes in use, before and after; block bytes themselves subtracted).
 *
 *   memory tier  a block: its descriptor, its hash-table slot, its entry in
 *                the eviction policy (S3-FIFO)
 *   disk tier    a block on disk: its entry in the disk tier's S3-FIFO (the
 *                only thing the disk tier keeps per block in memory)
 *   object       an object's metadata: names, ETag, size, replayed headers
 *
 * Usage: index_mem [N]   (default 1000000). Prints figures, asserts nothing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"

#define BLOCK_BYTES	64	/* tiny blocks: the index is what is measured */

static size_t
in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (mi.uordblks + mi.hblkhd);
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	struct cache_store *s;
	struct cache_evict *ev;
	struct cache_meta *m;
	size_t before, after;
	unsigned long i;
	char key[64];

	if (n == 0)
		return (2);
	/* Memory tier: n blocks of BLOCK_BYTES, all ready. */
	before = in_use();
	s = cache_store_new((uint64_t)n * BLOCK_BYTES * 2, BLOCK_BYTES, &cache_evict_s3fifo_ops);
	if (s == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		struct cache_blk *b;
		char data[BLOCK_BYTES];

		if (cache_blk_open(s, 1 + i / 1024, i % 1024, BLOCK_BYTES, &b) != CACHE_FILL)
			return (1);
		memset(data, (int)i, sizeof data);
		cache_blk_append(s, b, data, sizeof data);
		cache_blk_finish(s, b, 1);
		cache_blk_release(s, &b);
	}
	after = in_use();
	printf("memory tier: %lu blocks, %.1f bytes of index per block (block bytes subtracted)\n", n,
	    (double)(after - before - (size_t)n * BLOCK_BYTES) / (double)n);

	/* Object metadata: n objects with a content type and one user header. */
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return (1);
	before = in_use();
	for (i = 0; i < n; i++) {
		int kl = snprintf(key, sizeof key, "datasets/part-%08lu.parquet", i);

		memset(m, 0, offsetof(struct cache_meta, hdrs));
		snprintf(m->etag, sizeof m->etag, "\"%032lx\"", i);
		m->size = 4096;
		m->last_modified = 1700000000;
		m->hdrs_len = m->hdrs_full_len = (size_t)snprintf(m->hdrs, sizeof m->hdrs,
		    "Content-Type: application/octet-stream\nx-amz-meta-owner: team-a\n");
		cache_meta_put(s, cm_slice("bench", 5), cm_slice(key, (size_t)kl), m, 1);
	}
	after = in_use();
	printf("object metadata: %lu objects, %.1f bytes per object (key of 30 bytes, 2 headers)\n", n,
	    (double)(after - before) / (double)n);
	free(m);
	cache_store_free(&s);

	/* Disk tier: its per-block index is one S3-FIFO entry per block. */
	before = in_use();
	ev = cache_evict_s3fifo_ops.create((uint64_t)n * (1u << 20) * 2, NULL, NULL);
	if (ev == NULL)
		return (1);
	for (i = 0; i < n; i++)
		(void)cache_evict_s3fifo_ops.access(ev, 0x9e3779b97f4a7c15ull * (i + 1), 1u << 20);
	after = in_use();
	printf("disk tier: %lu blocks, %.1f bytes of index per block\n", n,
	    (double)(after - before) / (double)n);
	cache_evict_s3fifo_ops.fini(&ev);
	return (0);
}
