/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_cache_tier.c: the tiers behind struct cache_tier_ops
 * (cache_tiers.c, cache_tier_mem.c, cache_tier_disk.c): the memory tier
 * through its table (store, lookup, remove, eviction, a block too big, its
 * blocks outliving it); a store's chain: blocks evicted from memory come
 * back from the tier below (a test tier) and enter memory again; without a
 * tier nothing is promoted and demotion is a no-op; with the disk tier a
 * filled block is demoted (written by the writer thread) and promoted into
 * a block of the same version (read and CRC-checked by the I/O thread,
 * completed on the loop), while a block the tier never got is not asked of
 * the I/O thread at all.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "tests/unit/testreq.h"

#define BS	4096

static int ndone;
static struct cache_io_req *last;

static void
done(struct cache_io_req *r)
{
	ndone++;
	last = r;
}

static struct cache_blk *
filled(struct cache_store *s, uint64_t vid, uint64_t idx, char c)
{
	struct cache_blk *b = NULL;
	char buf[BS];

	ck_assert_int_eq(cache_blk_open(s, vid, idx, BS, &b), CACHE_FILL);
	memset(buf, c, sizeof buf);
	cache_blk_append(s, b, buf, sizeof buf);
	cache_blk_finish(s, b, 1);
	return (b);
}

/* The memory tier alone, through its table. Its blocks come from a store
 * whose own memory is too small to keep any (so they are in no table). */
START_TEST(mem_tier_ops)
{
	struct cache_store *s = cache_store_new(BS / 2, BS, cache_evict_by_name("lru"));
	struct cache_tier *t = cache_tier_mem_new(2 * BS, BS, cache_evict_by_name("s3fifo"));
	struct cache_tier *small = cache_tier_mem_new(BS / 2, BS, cache_evict_by_name("lru"));
	struct cache_blk_key k[3] = { { 1, 0, NULL }, { 1, 1, NULL }, { 1, 2, NULL } };
	struct cache_blk *b[3], *out;
	struct cache_tier_stats st;
	enum cache_blk_state bs;
	int i, held;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(small);
	ck_assert_str_eq(t->ops->name, "mem");
	ck_assert_int_eq(t->ops->caller_locks, 1);
	ck_assert(t->ops->lookup && t->ops->store && t->ops->remove && t->ops->stats && t->ops->fini);
	for (i = 0; i < 3; i++)
		b[i] = filled(s, 1, (uint64_t)i, (char)('a' + i));
	/* Too big for the store's own memory: not kept there. */
	ck_assert_int_eq(cache_blk_open(s, 1, 0, BS, &out), CACHE_FILL);
	cache_blk_finish(s, out, 0);
	cache_blk_release(s, &out);

	ck_assert_int_eq(t->ops->lookup(t, &k[0], &out, NULL), CACHE_TIER_MISS);
	ck_assert_int_eq(t->ops->store(t, &k[0], b[0]), 0);
	t->ops->stats(t, &st);
	ck_assert_uint_eq(st.blocks, 1);
	ck_assert_uint_eq(st.bytes, BS);
	ck_assert_uint_eq(st.cap, 2 * BS);
	out = NULL;
	ck_assert_int_eq(t->ops->lookup(t, &k[0], &out, NULL), CACHE_TIER_HIT);
	ck_assert_ptr_eq(out, b[0]);		/* the block itself: no copy */
	cache_blk_release(s, &out);
	t->ops->remove(t, &k[0]);
	ck_assert_int_eq(t->ops->lookup(t, &k[0], &out, NULL), CACHE_TIER_MISS);
	t->ops->stats(t, &st);
	ck_assert_uint_eq(st.blocks, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.evictions, 0);	/* a remove is not an eviction */

	/* Three blocks into two blocks' room: one is evicted. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(t->ops->store(t, &k[i], b[i]), 0);
	t->ops->stats(t, &st);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_uint_eq(st.blocks, 2);
	ck_assert_uint_le(st.bytes, 2 * BS);
	for (held = 0, i = 0; i < 3; i++)
		if (t->ops->lookup(t, &k[i], &out, NULL) == CACHE_TIER_HIT) {
			ck_assert_ptr_eq(out, b[i]);
			ck_assert_int_eq(cache_blk_data(out)[0], 'a' + i);
			cache_blk_release(s, &out);
			held++;
		}
	ck_assert_int_eq(held, 2);

	/* Larger than the tier: not kept. */
	ck_assert_int_eq(small->ops->store(small, &k[0], b[0]), -1);
	small->ops->stats(small, &st);
	ck_assert_uint_eq(st.blocks, 0);
	small->ops->fini(&small);
	ck_assert_ptr_null(small);

	/* The tier goes; the blocks its readers hold stay readable. */
	t->ops->fini(&t);
	ck_assert_ptr_null(t);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(cache_blk_avail(b[i], &bs), BS);
		ck_assert_int_eq(bs, CACHE_BLK_READY);
		ck_assert_int_eq(cache_blk_data(b[i])[BS - 1], 'a' + i);
		cache_blk_release(s, &b[i]);
	}
	cache_store_free(&s);
}
END_TEST

/* A tier below memory for the test: keeps references to what it is
 * given, keyed by version hash and index, and fills a promoted block from
 * them at once (a real tier queues the read and posts r; the test reads r
 * when promote returns). Counts its calls. */
struct fake {
	struct cache_tier	tier;
	struct cache_blk	*held[8];
	unsigned char		vh[8][32];
	uint64_t		idx[8];
	size_t			n;
	int			lookups, stores;
};

static int
copy_from(void *arg, char *buf, size_t len)
{
	memcpy(buf, cache_blk_data(arg), len);
	return (0);
}

static int
fake_lookup(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk **bp,
    struct cache_io_req *r)
{
	struct fake *f = t->priv;
	size_t i;

	ck_assert_ptr_null(bp);
	ck_assert_ptr_nonnull(k->vhash);
	f->lookups++;
	for (i = 0; i < f->n; i++)
		if (f->idx[i] == k->idx && memcmp(f->vh[i], k->vhash, 32) == 0) {
			r->rc = cache_blk_fill_from(cache_blk_store(r->b), r->b, copy_from,
			    f->held[i]);
			return (CACHE_TIER_QUEUED);
		}
	return (CACHE_TIER_MISS);
}

static int
fake_store(struct cache_tier *t, const struct cache_blk_key *k, struct cache_blk *b)
{
	struct fake *f = t->priv;

	f->stores++;
	if (f->n == 8)
		return (-1);
	f->held[f->n] = cache_blk_ref(cache_blk_store(b), b);
	memcpy(f->vh[f->n], k->vhash, 32);
	f->idx[f->n++] = k->idx;
	return (0);
}

static struct fake *fake_freed;

static void
fake_fini(struct cache_tier **tp)
{
	struct fake *f = (*tp)->priv;
	size_t i;

	*tp = NULL;
	for (i = 0; i < f->n; i++)
		cache_blk_release(cache_blk_store(f->held[i]), &f->held[i]);
	fake_freed = f;
}

static const struct cache_tier_ops fake_ops = {
	.name = "fake",
	.lookup = fake_lookup,
	.store = fake_store,
	.remove = cache_tier_def_remove,
	.stats = cache_tier_def_stats,
	.fini = fake_fini,
};

/* A store's chain: memory holds two blocks, the tier below all four it
 * was given; a block evicted from memory is promoted from below and is in
 * memory again (its next open a hit); a block never demoted is not found
 * below. */
START_TEST(eviction_to_tier_below)
{
	struct cache_store *s = cache_store_new(2 * BS, BS, cache_evict_by_name("s3fifo"));
	struct fake f = { .tier = { .magic = CACHE_TIER_MAGIC, .ops = &fake_ops, .priv = &f } };
	struct cache_io_req r = { .magic = CACHE_IO_REQ_MAGIC };
	unsigned char vh[32];
	struct cache_stats st;
	struct cache_blk *b;
	enum cache_blk_state bs;
	int i, evicted = 0;

	ck_assert_ptr_nonnull(s);
	cache_version_hash(cm_slice_str("bkt"), cm_slice_str("key"), "\"e\"", 4 * BS, vh);
	cache_store_attach_tier(s, &f.tier);
	for (i = 0; i < 4; i++) {
		b = filled(s, 1, (uint64_t)i, (char)('a' + i));
		ck_assert_int_eq(cache_blk_demote(s, vh, (uint64_t)i, b), 0);
		cache_blk_release(s, &b);
	}
	ck_assert_int_eq(f.stores, 4);
	cache_stats(s, &st);
	ck_assert_uint_ge(st.evictions, 2);
	ck_assert_uint_le(st.mem_bytes, 2 * BS);
	ck_assert_uint_eq(st.mem_cap, 2 * BS);
	for (i = 0; i < 4; i++) {
		if (cache_blk_open(s, 1, (uint64_t)i, BS, &b) == CACHE_READ) {
			ck_assert_int_eq(cache_blk_data(b)[0], 'a' + i);
			cache_blk_release(s, &b);
			continue;
		}
		/* Evicted from memory: promotion from the tier below. */
		evicted++;
		r.b = cache_blk_ref(s, b);
		ck_assert_int_eq(cache_blk_promote(s, vh, (uint64_t)i, &r), 0);
		ck_assert_int_eq(r.rc, 0);
		ck_assert_uint_eq(cache_blk_avail(b, &bs), BS);
		ck_assert_int_eq(bs, CACHE_BLK_READY);
		ck_assert_int_eq(cache_blk_data(b)[BS - 1], 'a' + i);
		cache_blk_release(s, &r.b);
		cache_blk_release(s, &b);
		/* ... and in memory again: a hit, the same bytes. */
		ck_assert_int_eq(cache_blk_open(s, 1, (uint64_t)i, BS, &b), CACHE_READ);
		ck_assert_int_eq(cache_blk_data(b)[0], 'a' + i);
		cache_blk_release(s, &b);
	}
	ck_assert_int_ge(evicted, 2);
	ck_assert_int_eq(f.lookups, evicted);
	/* Never demoted: asked below, not found, the caller fills it. */
	ck_assert_int_eq(cache_blk_open(s, 1, 7, BS, &b), CACHE_FILL);
	r.b = b;
	ck_assert_int_eq(cache_blk_promote(s, vh, 7, &r), -1);
	ck_assert_int_eq(f.lookups, evicted + 1);
	cache_blk_finish(s, b, 0);
	cache_blk_release(s, &b);
	cache_store_free(&s);
	ck_assert_ptr_eq(fake_freed, &f);	/* the store freed its tier */
}
END_TEST

START_TEST(no_tier)
{
	struct cache_store *s = cache_store_new(1u << 20, BS, cache_evict_by_name("s3fifo"));
	unsigned char vh[32] = { 1 };
	struct cache_io_req r = { .magic = CACHE_IO_REQ_MAGIC };
	struct cache_blk *b;

	ck_assert_ptr_nonnull(s);
	b = filled(s, 1, 0, 'a');
	ck_assert_int_eq(cache_blk_demote(s, vh, 0, b), 0);
	cache_blk_release(s, &b);
	ck_assert_int_eq(cache_blk_open(s, 2, 0, BS, &b), CACHE_FILL);
	r.b = b;
	ck_assert_int_eq(cache_blk_promote(s, vh, 0, &r), -1);
	cache_blk_finish(s, b, 0);
	cache_blk_release(s, &b);
	cache_store_free(&s);
}
END_TEST

START_TEST(disk_tier)
{
	char root[] = "/tmp/check_cache_tier.XXXXXX", err[256];
	struct cache_store *s = cache_store_new(1u << 20, BS, cache_evict_by_name("s3fifo"));
	struct event_base *base = event_base_new();
	struct cache_disk *d;
	struct cache_writer *w;
	struct cache_io *io;
	struct cache_io_q *q;
	struct cache_disk_stats ds;
	struct cache_tier *t;
	struct cache_io_req r = { .magic = CACHE_IO_REQ_MAGIC };
	struct cache_blk *b;
	unsigned char vh[32];
	enum cache_blk_state st;
	int i;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(base);
	ck_assert_ptr_nonnull(mkdtemp(root));
	cache_version_hash(cm_slice_str("bkt"), cm_slice_str("key"), "\"e\"", BS, vh);
	d = cache_disk_open(root, 1u << 20, err, sizeof err);
	ck_assert_msg(d != NULL, "%s", err);
	w = cache_writer_new(s, d, 1u << 20);
	io = cache_io_new(s, d);
	q = cache_io_q_new(base, done);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(io);
	ck_assert_ptr_nonnull(q);
	t = cache_tier_disk_new(d, io, w);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->ops->name, "disk");
	ck_assert_ptr_eq(t->ops->remove, cache_tier_def_remove);
	cache_store_attach_tier(s, t);

	/* Demotion: the writer thread writes it. */
	b = filled(s, 1, 0, 'z');
	ck_assert_int_eq(cache_blk_demote(s, vh, 0, b), 0);
	cache_blk_release(s, &b);
	for (i = 0; i < 1000; i++) {
		cache_disk_stats(d, &ds);
		if (ds.bytes >= BS)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(ds.bytes, BS);

	/* A block the tier never got: not queued, no I/O. */
	ck_assert_int_eq(cache_blk_open(s, 2, 1, BS, &b), CACHE_FILL);
	r.b = b;
	r.q = q;
	ck_assert_int_eq(cache_blk_promote(s, vh, 1, &r), -1);
	ck_assert_uint_eq(cache_io_reads_queued(io), 0);
	cache_blk_finish(s, b, 0);
	cache_blk_release(s, &b);

	/* Promotion: read on the I/O thread, completed on the loop. */
	ck_assert_int_eq(cache_blk_open(s, 2, 0, BS, &b), CACHE_FILL);
	r.b = cache_blk_ref(s, b);
	r.q = q;
	ck_assert_int_eq(cache_blk_promote(s, vh, 0, &r), 0);
	for (i = 0; i < 1000 && ndone == 0; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
	ck_assert_int_eq(ndone, 1);
	ck_assert_ptr_eq(last, &r);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(cache_blk_avail(b, &st), BS);
	ck_assert_int_eq(st, CACHE_BLK_READY);
	ck_assert_int_eq(cache_blk_data(b)[BS - 1], 'z');
	cache_blk_release(s, &r.b);
	cache_blk_release(s, &b);

	cache_store_attach_io(s, NULL);
	cache_io_close(&io);
	cache_io_q_free(&q);
	cache_writer_close(&w);
	cache_store_free(&s);
	cache_disk_close(&d);
	event_base_free(base);
	{
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("cache_tier");
	TCase *tc = tcase_create("tier");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, mem_tier_ops);
	tcase_add_test(tc, eviction_to_tier_below);
	tcase_add_test(tc, no_tier);
	tcase_add_test(tc, disk_tier);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? 0 : 1);
}
