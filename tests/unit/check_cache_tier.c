/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_cache_tier.c: the tier below memory behind struct cache_tier_ops
 * (cache_tiers.c, cache_tier_disk.c): without a tier nothing is promoted
 * and demotion is a no-op; with the disk tier a filled block is demoted
 * (written by the writer thread) and promoted into a block of the same
 * version (read and CRC-checked by the I/O thread, completed on the loop),
 * while a block the tier never got is not asked of the I/O thread at all.
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
	tcase_add_test(tc, no_tier);
	tcase_add_test(tc, disk_tier);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? 0 : 1);
}
