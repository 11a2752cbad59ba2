/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_cache_evict.c: the eviction policies and the trace replayer.
 *   - LRU hit for hit against a naive reference LRU written here;
 *   - S3-FIFO never holds more than its capacity, reports every eviction,
 *     keeps a hot set through a one-time scan (LRU does not), readmits a
 *     ghost to the main queue;
 *   - traces in both formats, hostile lines refused, and `sim` results equal
 *     to the reference;
 *   - the block store's metadata stays under its cap (old entries leave
 *     memory), the newest entry always kept.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "tests/unit/testreq.h"

/* A reference LRU: an array in recency order, linear scans. */
struct ref {
	uint64_t	id[4096];
	uint64_t	size[4096];
	size_t		n;
	uint64_t	used;
	uint64_t	cap;
};

static int
ref_access(struct ref *r, uint64_t id, uint64_t size)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->id[i] == id) {
			uint64_t s = r->size[i];

			memmove(&r->id[1], &r->id[0], i * sizeof r->id[0]);
			memmove(&r->size[1], &r->size[0], i * sizeof r->size[0]);
			r->id[0] = id;
			r->size[0] = s;
			return (1);
		}
	if (size > r->cap)
		return (0);
	while (r->used + size > r->cap) {
		r->n--;
		r->used -= r->size[r->n];
	}
	memmove(&r->id[1], &r->id[0], r->n * sizeof r->id[0]);
	memmove(&r->size[1], &r->size[0], r->n * sizeof r->size[0]);
	r->id[0] = id;
	r->size[0] = size;
	r->n++;
	r->used += size;
	return (0);
}

struct tally {
	uint64_t	bytes;
	uint64_t	count;
};

static void
on_evict(void *arg, uint64_t id, uint64_t size)
{
	struct tally *t = arg;

	(void)id;
	t->bytes += size;
	t->count++;
}

static uint64_t
obj_size(uint64_t id)
{
	return (1 + (id * 2654435761u) % 97);
}

START_TEST(lru_matches_reference)
{
	static struct ref r;
	struct tally t = { 0, 0 };
	struct cache_evict *e;
	uint64_t admitted = 0;
	int i;

	memset(&r, 0, sizeof r);
	r.cap = 2000;
	e = cache_evict_lru_ops.create(r.cap, on_evict, &t);
	srand(7);
	for (i = 0; i < 20000; i++) {
		uint64_t id = (uint64_t)(rand() % 300), sz = obj_size(id);
		int hit = cache_evict_lru_ops.access(e, id, sz);

		ck_assert_int_eq(hit, ref_access(&r, id, sz));
		if (!hit)
			admitted += sz;
		ck_assert_uint_le(cache_evict_lru_ops.used(e), r.cap);
	}
	ck_assert_uint_eq(admitted - t.bytes, cache_evict_lru_ops.used(e));
	cache_evict_lru_ops.fini(&e);
	ck_assert_ptr_null(e);
}
END_TEST

START_TEST(s3fifo_invariants)
{
	struct tally t = { 0, 0 };
	struct cache_evict *e = cache_evict_s3fifo_ops.create(5000, on_evict, &t);
	uint64_t admitted = 0;
	int i;

	srand(11);
	for (i = 0; i < 50000; i++) {
		/* Zipf-ish: small ids far more often. */
		uint64_t id = (uint64_t)(rand() % (1 + rand() % 2000)), sz = obj_size(id);

		if (!cache_evict_s3fifo_ops.access(e, id, sz))
			admitted += sz;
		ck_assert_uint_le(cache_evict_s3fifo_ops.used(e), 5000);
		if (i % 1000 == 999) {
			uint64_t before = cache_evict_s3fifo_ops.used(e);

			/* Invalidation: gone, without an eviction callback. */
			cache_evict_s3fifo_ops.remove(e, id);
			admitted -= before - cache_evict_s3fifo_ops.used(e);
		}
	}
	ck_assert_uint_eq(admitted - t.bytes, cache_evict_s3fifo_ops.used(e));
	ck_assert_uint_gt(t.count, 1000);
	/* An object larger than the cache is never admitted. */
	ck_assert_int_eq(cache_evict_s3fifo_ops.access(e, 999999, 6000), 0);
	ck_assert_int_eq(cache_evict_s3fifo_ops.access(e, 999999, 6000), 0);
	cache_evict_s3fifo_ops.fini(&e);
}
END_TEST

/* Hot set, then a one-time scan, then the hot set again: hits counted. */
static int
hot_after_scan(const struct cache_evict_ops *ops)
{
	struct cache_evict *e = ops->create(100, NULL, NULL);
	int round, i, hits = 0;

	for (round = 0; round < 4; round++)
		for (i = 0; i < 50; i++)
			(void)ops->access(e, (uint64_t)i, 1);
	for (i = 0; i < 1000; i++)
		(void)ops->access(e, 100000 + (uint64_t)i, 1);
	for (i = 0; i < 50; i++)
		hits += ops->access(e, (uint64_t)i, 1);
	ops->fini(&e);
	return (hits);
}

START_TEST(s3fifo_resists_scans)
{
	ck_assert_int_eq(hot_after_scan(&cache_evict_s3fifo_ops), 50);
	ck_assert_int_eq(hot_after_scan(&cache_evict_lru_ops), 0);
}
END_TEST

START_TEST(s3fifo_ghost_readmits_to_main)
{
	struct cache_evict *e = cache_evict_s3fifo_ops.create(100, NULL, NULL);
	int i, hits = 0;

	/* Object 1 enters S once and is pushed out by one-hit wonders once
	 * the cache is full. */
	(void)cache_evict_s3fifo_ops.access(e, 1, 1);
	ck_assert_int_eq(cache_evict_s3fifo_ops.holds(e, 1), 1);
	for (i = 0; i < 150; i++)
		(void)cache_evict_s3fifo_ops.access(e, 1000 + (uint64_t)i, 1);
	/* A ghost is not held (the disk tier asks before it reads). */
	ck_assert_int_eq(cache_evict_s3fifo_ops.holds(e, 1), 0);
	ck_assert_int_eq(cache_evict_s3fifo_ops.holds(e, 424242), 0);
	ck_assert_int_eq(cache_evict_s3fifo_ops.access(e, 1, 1), 0);	/* a ghost: miss */
	/* Back in M now: more one-hit wonders (fewer than M holds) leave it. */
	for (i = 0; i < 60; i++)
		(void)cache_evict_s3fifo_ops.access(e, 5000 + (uint64_t)i, 1);
	hits = cache_evict_s3fifo_ops.access(e, 1, 1);
	ck_assert_int_eq(hits, 1);
	cache_evict_s3fifo_ops.fini(&e);
}
END_TEST

START_TEST(by_name)
{
	ck_assert_ptr_eq(cache_evict_by_name("s3fifo"), &cache_evict_s3fifo_ops);
	ck_assert_ptr_eq(cache_evict_by_name("lru"), &cache_evict_lru_ops);
	ck_assert_ptr_null(cache_evict_by_name("arc"));
}
END_TEST

START_TEST(csv_lines)
{
	struct cache_sim_req r;

	ck_assert_int_eq(cache_trace_parse_csv("1,42,4096\n", 10, &r), 0);
	ck_assert_uint_eq(r.id, 42);
	ck_assert_uint_eq(r.size, 4096);
	ck_assert_int_eq(cache_trace_parse_csv("7, abc , 10\r\n", 13, &r), 0);
	ck_assert_uint_ne(r.id, 0);	/* a hashed string id */
	ck_assert_uint_eq(r.size, 10);
	ck_assert_int_eq(cache_trace_parse_csv("1,2", 3, &r), -1);
	ck_assert_int_eq(cache_trace_parse_csv("1,,5", 4, &r), -1);
	ck_assert_int_eq(cache_trace_parse_csv("1,2,-5", 6, &r), -1);
	ck_assert_int_eq(cache_trace_parse_csv("1,2,99999999999999999999", 24, &r), -1);
	ck_assert_int_eq(cache_trace_parse_csv("", 0, &r), -1);
}
END_TEST

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

/* The same random trace in both formats; sim's LRU equals the reference. */
START_TEST(sim_both_formats)
{
	static struct ref r;
	char og[] = "/tmp/cachalot-og-XXXXXX", csv[] = "/tmp/cachalot-csv-XXXXXX", err[256];
	FILE *fo = fdopen(mkstemp(og), "wb"), *fc = fdopen(mkstemp(csv), "w");
	const struct cache_evict_ops *pols[2] = { &cache_evict_lru_ops, &cache_evict_s3fifo_ops };
	uint64_t sizes[2] = { 1500, 4000 }, ref_misses = 0;
	struct cache_sim_result res[4], res2[4];
	unsigned char rec[24];
	int i;

	memset(&r, 0, sizeof r);
	r.cap = 1500;
	fprintf(fc, "time,obj_id,obj_size\n");
	srand(3);
	for (i = 0; i < 5000; i++) {
		uint64_t id = (uint64_t)(rand() % 200), sz = obj_size(id);

		put_le(rec, (uint64_t)i, 4);
		put_le(rec + 4, id, 8);
		put_le(rec + 12, sz, 4);
		put_le(rec + 16, (uint64_t)-1, 8);
		fwrite(rec, 1, sizeof rec, fo);
		fprintf(fc, "%d,%llu,%llu\n", i, (unsigned long long)id, (unsigned long long)sz);
		ref_misses += !ref_access(&r, id, sz);
	}
	fclose(fo);
	fclose(fc);
	ck_assert_int_eq(cache_sim_run(pols, 2, sizes, 2, og, res, err, sizeof err), 0);
	ck_assert_int_eq(cache_sim_run(pols, 2, sizes, 2, csv, res2, err, sizeof err), 0);
	ck_assert_int_eq(memcmp(res, res2, sizeof res), 0);
	ck_assert_uint_eq(res[0].requests, 5000);
	ck_assert_uint_eq(res[0].misses, ref_misses);
	ck_assert_uint_le(res[1].misses, res[0].misses);	/* bigger cache, fewer misses */
	/* A truncated binary trace and a bad CSV line are errors that say where. */
	fo = fopen(og, "ab");
	fwrite(rec, 1, 10, fo);
	fclose(fo);
	ck_assert_int_eq(cache_sim_run(pols, 1, sizes, 1, og, res, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "truncated"));
	fc = fopen(csv, "a");
	fprintf(fc, "1,2\n");
	fclose(fc);
	ck_assert_int_eq(cache_sim_run(pols, 1, sizes, 1, csv, res, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 5002"));
	ck_assert_int_eq(cache_sim_run(pols, 1, sizes, 1, "/nonexistent", res, err, sizeof err), -1);
	unlink(og);
	unlink(csv);
}
END_TEST

START_TEST(store_metadata_is_capped)
{
	struct cache_store *s = cache_store_new(1u << 20, 1u << 20, &cache_evict_s3fifo_ops);
	struct cache_meta *m = calloc(1, sizeof *m), *out = calloc(1, sizeof *out);
	struct cache_stats st;
	char key[32];
	int i, kl;

	ck_assert(s != NULL && m != NULL && out != NULL);
	for (i = 0; i < 70000; i++) {
		kl = snprintf(key, sizeof key, "k%d", i);
		memset(m, 0, sizeof *m);
		snprintf(m->etag, sizeof m->etag, "\"%d\"", i);
		m->size = 10;
		cache_meta_put(s, cm_slice("b", 1), cm_slice(key, (size_t)kl), m, 1);
		ck_assert(cache_meta_get(s, cm_slice("b", 1), cm_slice(key, (size_t)kl), out) == 0);
		ck_assert_str_eq(out->etag, m->etag);
	}
	cache_stats(s, &st);
	ck_assert_msg(st.meta_entries == 65536, "entries %llu", (unsigned long long)st.meta_entries);
	cache_store_free(&s);
	free(m);
	free(out);
}
END_TEST

/* #10 item 13: a purge of a prefix forgets the keys under it (and their
 * blocks), in that bucket only; the bucket's other keys stay. */
START_TEST(store_prefix_invalidation_forgets_only_the_prefix)
{
	struct cache_store *s = cache_store_new(4u << 20, 1u << 20, &cache_evict_s3fifo_ops);
	struct cache_meta *m = calloc(1, sizeof *m), *out = calloc(1, sizeof *out);
	static const char *const keys[] = { "p/a", "p/b/c", "p", "pp/a", "q/p/a", "%C3%A9/x" };
	static const int gone[] = { 1, 1, 0, 0, 0, 1 };
	struct cache_blk *b;
	uint64_t vid_pa = 0, vid_q = 0;
	size_t i;

	ck_assert(s != NULL && m != NULL && out != NULL);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		memset(m, 0, sizeof *m);
		snprintf(m->etag, sizeof m->etag, "\"%zu\"", i);
		m->size = 10;
		cache_meta_put(s, cm_slice("b", 1), cm_slice_str(keys[i]), m, 1);
		if (i == 0)
			vid_pa = m->vid;
		cache_meta_put(s, cm_slice("other", 5), cm_slice_str(keys[i]), m, 1);
	}
	ck_assert(cache_meta_get(s, cm_slice("b", 1), cm_slice_str("q/p/a"), out) == 0);
	vid_q = out->vid;
	/* A block of p/a and one of q/p/a, filled. */
	ck_assert_int_eq(cache_blk_open(s, vid_pa, 0, 10, &b), CACHE_FILL);
	cache_blk_append(s, b, "0123456789", 10);
	cache_blk_finish(s, b, 1);
	cache_blk_release(s, &b);
	ck_assert_int_eq(cache_blk_open(s, vid_q, 0, 10, &b), CACHE_FILL);
	cache_blk_append(s, b, "0123456789", 10);
	cache_blk_finish(s, b, 1);
	cache_blk_release(s, &b);
	cache_meta_invalidate_prefix(s, cm_slice("b", 1), cm_slice_str("p/"));
	cache_meta_invalidate_prefix(s, cm_slice("b", 1), cm_slice_str("%C3%A9"));
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		ck_assert_msg((cache_meta_get(s, cm_slice("b", 1), cm_slice_str(keys[i]), out) != 0) ==
		    gone[i], "b/%s: %s", keys[i], gone[i] ? "kept" : "forgotten");
		ck_assert_msg(cache_meta_get(s, cm_slice("other", 5), cm_slice_str(keys[i]), out) == 0,
		    "other/%s forgotten", keys[i]);
	}
	/* p/a's block went with it; q/p/a's is still there. */
	ck_assert_int_eq(cache_blk_open(s, vid_pa, 0, 10, &b), CACHE_FILL);
	cache_blk_finish(s, b, 0);
	cache_blk_release(s, &b);
	ck_assert_int_eq(cache_blk_open(s, vid_q, 0, 10, &b), CACHE_READ);
	cache_blk_release(s, &b);
	/* An empty prefix is the whole bucket. */
	cache_meta_invalidate_prefix(s, cm_slice("b", 1), cm_slice("", 0));
	ck_assert(cache_meta_get(s, cm_slice("b", 1), cm_slice_str("q/p/a"), out) != 0);
	ck_assert(cache_meta_get(s, cm_slice("other", 5), cm_slice_str("q/p/a"), out) == 0);
	cache_store_free(&s);
	free(m);
	free(out);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		lru_matches_reference,
		s3fifo_invariants,
		s3fifo_resists_scans,
		s3fifo_ghost_readmits_to_main,
		by_name,
		csv_lines,
		sim_both_formats,
		store_metadata_is_capped,
		store_prefix_invalidation_forgets_only_the_prefix,
	};

	return (testreq_run("cache_evict", tests, sizeof tests / sizeof tests[0], 60, 0));
}
