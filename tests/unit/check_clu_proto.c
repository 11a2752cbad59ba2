/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_clu_proto.c: the cluster's messages (cluster/clu_proto.c) and the
 * master's rules over them (cluster/master_model.c, no store): every
 * writer's output parses back to what was written; hostile text is refused
 * (first lines) or skipped (other lines), never read past its length; a
 * field with a space or a line break cannot be written (it would forge a
 * line); and the master answers heartbeats, purges, drains and silences as
 * the workers rely on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/clu_priv.h"
#include "tests/unit/testreq.h"

/* A heap copy of exactly len bytes, so that ASan sees any read past it. */
static struct cm_slice
exact(const char *s, char **keep)
{
	size_t n = strlen(s);

	*keep = malloc(n > 0 ? n : 1);
	ck_assert(*keep != NULL);
	memcpy(*keep, s, n);
	return (cm_slice(*keep, n));
}

START_TEST(heartbeat_round_trip)
{
	struct clu_stat st[2] = {
		{ .bucket = CM_SLICE_LIT("b1"), .hits = 1, .misses = 2, .served = 3, .origin = 4 },
		{ .bucket = CM_SLICE_LIT("Legacy_B"), .hits = 5, .served = 6, .evictions = 7 },
	}, got;
	struct clu_hb hb = { .id = CM_SLICE_LIT("w-1"), .addr = CM_SLICE_LIT("10.0.0.1:9100"),
	    .weight = 3, .purge_seen = 42, .evictions = 9 }, back;
	struct cm_buf b;
	struct cm_slice cur;

	cm_buf_init(&b, 4096);
	ck_assert_int_eq(clu_hb_write(&b, &hb, st, 2), 0);
	ck_assert_str_eq(b.p, "worker w-1 10.0.0.1:9100 3\npurge-seen 42\n"
	    "stats b1 1 2 3 4 0\nstats Legacy_B 5 0 6 0 7\nevictions 9\n");
	ck_assert_int_eq(clu_hb_parse(cm_buf_slice(&b), &back), 0);
	ck_assert(cm_slice_eq(back.id, "w-1") && cm_slice_eq(back.addr, "10.0.0.1:9100"));
	ck_assert(back.weight == 3 && back.purge_seen == 42 && back.evictions == 9);
	cur = back.rest;
	ck_assert(clu_stats_next(&cur, &got) == 1);
	ck_assert(cm_slice_eq(got.bucket, "b1") && got.hits == 1 && got.misses == 2 &&
	    got.served == 3 && got.origin == 4 && got.evictions == 0);
	ck_assert(clu_stats_next(&cur, &got) == 1);
	ck_assert(cm_slice_eq(got.bucket, "Legacy_B") && got.evictions == 7);
	ck_assert(clu_stats_next(&cur, &got) == 0);
	cm_buf_free(&b);
}
END_TEST

START_TEST(heartbeat_hostile)
{
	static const char *const bad[] = {
		"", "\n", "worker", "worker a", "worker a 1.2.3.4:5", "worker a 1.2.3.4:5 0\n",
		"worker a 1.2.3.4:5 1001\n", "worker a 1.2.3.4:5 -1\n", "worker a 1.2.3.4:5 1x\n",
		"worker a/b 1.2.3.4:5 1\n", "worker  1.2.3.4:5 1\n", "gateway g\n",
		"stats b 1 1 1 1 1\nworker a h:1 1\n",
		"worker aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa h:1 1\n",
		"worker a 1.2.3.4:5 18446744073709551617\n", "worker a 1.2.\x01.4:5 1\n",
		"worker a 1.2.\x7f.4:5 1\n", "worker a 1.2.\xc3\xa9:5 1\n", "worker a <b>:5\r 1\n",
		"worker a h\":1 1\n", "worker a h\\:1 1\n", "worker a <script>:1 1\n",
	};
	struct clu_hb hb;
	struct clu_stat st;
	struct cm_slice cur;
	char *keep;
	size_t i, n;

	for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
		ck_assert_msg(clu_hb_parse(exact(bad[i], &keep), &hb) == -1, "accepted: %s", bad[i]);
		free(keep);
	}
	/* Only the first line must be right: the others are skipped when
	 * malformed, summed when repeated (evictions), zero when unreadable. */
	ck_assert_int_eq(clu_hb_parse(exact("worker a [fe80::1%eth0]:9100 1\n", &keep), &hb), 0);
	free(keep);
	ck_assert_int_eq(clu_hb_parse(exact("worker a cache-1.example_net:9100 1\n", &keep), &hb), 0);
	free(keep);
	ck_assert_int_eq(clu_hb_parse(exact("worker a h:1 1000\npurge-seen x\nstats\nstats b\n"
	    "stats b 1 2 3 4\nstats b 1 2 3 4 5 6\nstats b 1 2 3 4 x\nfuture thing\n"
	    "evictions 2\nevictions y\nevictions 3\nstats ok 1 1 1 1 1", &keep), &hb), 0);
	ck_assert(hb.weight == 1000 && hb.purge_seen == 0 && hb.evictions == 5);
	cur = hb.rest;
	for (n = 0; clu_stats_next(&cur, &st); n++)
		ck_assert(cm_slice_eq(st.bucket, "ok"));
	ck_assert_uint_eq(n, 1);
	free(keep);
}
END_TEST

START_TEST(answer_and_purges_round_trip)
{
	struct clu_purge p[2] = {
		{ .seq = 7, .bucket = CM_SLICE_LIT("b"), .prefix = CM_SLICE_LIT("set/") },
		{ .seq = 8, .bucket = CM_SLICE_LIT("c"), .prefix = CM_SLICE_LIT("") },
	}, got;
	struct clu_hb_answer a;
	struct cm_buf b;
	struct cm_slice cur;

	cm_buf_init(&b, 4096);
	ck_assert_int_eq(clu_hb_answer_write(&b, 12, "up", 1), 0);
	ck_assert_int_eq(clu_purge_write(&b, &p[0]), 0);
	ck_assert_int_eq(clu_purge_write(&b, &p[1]), 0);
	ck_assert_str_eq(b.p, "epoch 12\nstate up\njoined\npurge 7 b set/\npurge 8 c \n");
	clu_hb_answer_parse(cm_buf_slice(&b), &a);
	ck_assert(a.epoch == 12 && cm_slice_eq(a.state, "up") && a.joined == 1);
	cur = a.rest;
	ck_assert(clu_purge_next(&cur, &got) == 1);
	ck_assert(got.seq == 7 && cm_slice_eq(got.bucket, "b") && cm_slice_eq(got.prefix, "set/"));
	ck_assert(clu_purge_next(&cur, &got) == 1);
	ck_assert(got.seq == 8 && cm_slice_eq(got.bucket, "c") && got.prefix.len == 0);
	ck_assert(clu_purge_next(&cur, &got) == 0);
	cm_buf_free(&b);
	/* Not joined, drained. */
	cm_buf_init(&b, 4096);
	ck_assert_int_eq(clu_hb_answer_write(&b, 3, "drained", 0), 0);
	clu_hb_answer_parse(cm_buf_slice(&b), &a);
	ck_assert(a.epoch == 3 && cm_slice_eq(a.state, "drained") && a.joined == 0);
	cm_buf_free(&b);
}
END_TEST

START_TEST(answer_hostile)
{
	struct clu_hb_answer a;
	struct clu_purge p;
	struct cm_slice cur;
	char *keep;
	size_t n;

	clu_hb_answer_parse(exact("", &keep), &a);
	ck_assert(a.epoch == 0 && a.state.len == 0 && !a.joined);
	free(keep);
	clu_hb_answer_parse(exact("epoch\nepoch x\nstate\njoinedx\npurge\npurge x b\npurge 1\n"
	    "purge 2  p\npurge 18446744073709551616 b\npurge 3 b p q\npurge 4 b", &keep), &a);
	ck_assert(a.epoch == 0 && a.state.len == 0 && !a.joined);
	cur = a.rest;
	for (n = 0; clu_purge_next(&cur, &p); n++)
		ck_assert(p.bucket.len > 0 && (p.seq == 3 || p.seq == 4));
	ck_assert_uint_eq(n, 2);
	free(keep);
}
END_TEST

START_TEST(gateway_stats_round_trip_and_hostile)
{
	static const char *const bad[] = { "", "gateway", "gateway \n", "worker a h:1 1\n",
	    "stats b 1 1 1 1 1\ngateway g\n" };
	struct clu_stat st = { .bucket = CM_SLICE_LIT("b"), .hits = 1, .misses = 1 }, got;
	struct cm_slice id, rest;
	struct cm_buf b;
	char *keep;
	size_t i;

	cm_buf_init(&b, 4096);
	ck_assert_int_eq(clu_gwstats_write(&b, "gw-1", &st, 1), 0);
	ck_assert_str_eq(b.p, "gateway gw-1\nstats b 1 1 0 0 0\n");
	ck_assert_int_eq(clu_gwstats_parse(cm_buf_slice(&b), &id, &rest), 0);
	ck_assert(cm_slice_eq(id, "gw-1"));
	ck_assert(clu_stats_next(&rest, &got) == 1 && cm_slice_eq(got.bucket, "b") && got.hits == 1);
	ck_assert(clu_stats_next(&rest, &got) == 0);
	cm_buf_free(&b);
	for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
		ck_assert_msg(clu_gwstats_parse(exact(bad[i], &keep), &id, &rest) == -1, "accepted: %s",
		    bad[i]);
		free(keep);
	}
}
END_TEST

/* A field that would end its line or split into two is not written. */
START_TEST(writers_refuse_forged_lines)
{
	struct clu_stat st = { .bucket = CM_SLICE_LIT("b\npurge 1 victim") };
	struct clu_hb hb = { .id = CM_SLICE_LIT("w"), .addr = CM_SLICE_LIT("h:1\npurge-seen 9"),
	    .weight = 1 };
	struct clu_purge p = { .seq = 1, .bucket = CM_SLICE_LIT("b"), .prefix = CM_SLICE_LIT("a b") };
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	ck_assert_int_eq(clu_hb_write(&b, &hb, NULL, 0), -1);
	hb.addr = CM_SLICE_LIT("h:1");
	hb.id = CM_SLICE_LIT("w x");
	ck_assert_int_eq(clu_hb_write(&b, &hb, NULL, 0), -1);
	hb.id = CM_SLICE_LIT("w");
	cm_buf_reset(&b);
	ck_assert_int_eq(clu_hb_write(&b, &hb, &st, 1), -1);
	ck_assert_int_eq(clu_gwstats_write(&b, "g", &st, 1), -1);
	ck_assert_int_eq(clu_gwstats_write(&b, "g h", NULL, 0), -1);
	ck_assert_int_eq(clu_purge_write(&b, &p), -1);
	p.prefix = CM_SLICE_LIT("a\npurge");
	ck_assert_int_eq(clu_purge_write(&b, &p), -1);
	st.bucket = CM_SLICE_LIT("b\nx");
	ck_assert_int_eq(clu_gwstats_write(&b, "g", &st, 1), -1);
	hb.addr = CM_SLICE_LIT("h:1\nx");
	ck_assert_int_eq(clu_hb_write(&b, &hb, NULL, 0), -1);
	hb.addr = CM_SLICE_LIT("h:1");
	p.prefix = CM_SLICE_LIT("a\r");
	ck_assert_int_eq(clu_purge_write(&b, &p), -1);
	p.prefix = CM_SLICE_LIT("");
	p.bucket = CM_SLICE_LIT("");
	ck_assert_int_eq(clu_purge_write(&b, &p), -1);
	cm_buf_free(&b);
	/* A full buffer is an error, not a truncated message. */
	cm_buf_init(&b, 16);
	hb.addr = CM_SLICE_LIT("10.0.0.1:9100");
	ck_assert_int_eq(clu_hb_write(&b, &hb, NULL, 0), -1);
	cm_buf_free(&b);
}
END_TEST

/* ---- Per-bucket counts (clu_counts.c) ---- */

struct adder {
	struct clu_counts	*c;
	const char		*bucket;
};

static void *
add_many(void *arg)
{
	struct adder *ad = arg;
	int i;

	for (i = 0; i < 20000; i++)
		clu_counts_add(ad->c, cm_slice_str(ad->bucket), 1, 2, 3, 4);
	return (NULL);
}

/* Counts added by loops while the cluster thread takes them are never lost
 * nor counted twice; what was given back comes again; names that could
 * not be a stats line's are not counted. */
START_TEST(counts_lose_nothing)
{
	struct clu_counts c;
	struct clu_bcount *snap = calloc(CLU_COUNT_BUCKETS, sizeof *snap);
	struct adder ad[2];
	pthread_t t[2];
	uint64_t hits[2] = { 0, 0 }, misses = 0, served = 0, origin = 0;
	size_t n, i, j, round;

	ck_assert(snap != NULL);
	ck_assert_int_eq(clu_counts_init(&c), 0);
	ad[0] = (struct adder){ &c, "b-one" };
	ad[1] = (struct adder){ &c, "B_two" };
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, add_many, &ad[i]), 0);
	/* While they add, and once more after: every third take is given
	 * back, as when a message is not delivered. */
	for (round = 0; round < 2000; round++) {
		if (round == 1000)
			for (i = 0; i < 2; i++)
				ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		n = clu_counts_take(&c, snap);
		if (round % 3 == 0 && round < 1999) {
			clu_counts_give_back(&c, snap, n);
			continue;
		}
		for (j = 0; j < n; j++) {
			/* One take is no consistent snapshot of one add (its four
			 * counts are added one by one): the totals are checked. */
			misses += snap[j].misses;
			served += snap[j].served;
			hits[strcmp(snap[j].name, "b-one") == 0 ? 0 : 1] += snap[j].hits;
			origin += snap[j].origin;
		}
	}
	ck_assert_msg(hits[0] == 20000 && hits[1] == 20000 && misses == 2 * 40000 &&
	    served == 3 * 40000 && origin == 4 * 40000, "%llu %llu %llu %llu %llu",
	    (unsigned long long)hits[0], (unsigned long long)hits[1], (unsigned long long)misses,
	    (unsigned long long)served, (unsigned long long)origin);
	clu_counts_add(&c, cm_slice_str("a b"), 1, 1, 1, 1);
	clu_counts_add(&c, cm_slice_str("a\nstats x 9 9 9 9 9"), 1, 1, 1, 1);
	clu_counts_add(&c, cm_slice_str(""), 1, 1, 1, 1);
	ck_assert_uint_eq(clu_counts_take(&c, snap), 0);
	clu_counts_fini(&c);
	free(snap);
}
END_TEST

/* ---- The master's rules ---- */

static unsigned
beat(struct master *m, const char *body, struct cm_buf *ans)
{
	unsigned status = 0;

	cm_buf_reset(ans);
	master_heartbeat(m, cm_slice_str(body), ans, &status);
	return (status);
}

/* Purge orders dropped before a worker saw them (more than the master
 * keeps): the worker is told to revalidate everything instead. */
START_TEST(master_dropped_purges_mean_revalidate_all)
{
	struct master m;
	struct cm_buf ans, out;
	struct clu_hb_answer a;
	int i;

	ck_assert_int_eq(master_model_init(&m, 1000, NULL, NULL), 0);
	cm_buf_init(&ans, 1 << 20);
	cm_buf_init(&out, 1 << 20);
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 0\n", &ans), 200);
	ck_assert_uint_eq(master_purge_order(&m, "bkt", "k", &out), 200);
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 1\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(!a.joined);
	for (i = 0; i < MASTER_MAX_PURGES + 1; i++) {
		cm_buf_reset(&out);
		ck_assert_uint_eq(master_purge_order(&m, "bkt", "k", &out), 200);
	}
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 1\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(a.joined);
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 1026\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(!a.joined);
	cm_buf_free(&ans);
	cm_buf_free(&out);
	master_model_fini(&m);
}
END_TEST

START_TEST(master_heartbeats_purges_drains)
{
	struct master m;
	struct cm_buf ans, ring;
	struct clu_hb_answer a;
	struct clu_purge p;
	struct cm_slice cur;
	unsigned status;

	ck_assert_int_eq(master_model_init(&m, 1000, NULL, NULL), 0);
	cm_buf_init(&ans, 1 << 20);
	cm_buf_init(&ring, 1 << 20);
	/* A new worker joins: the epoch goes up and the answer says so. */
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 0\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(a.epoch == 1 && a.joined && cm_slice_eq(a.state, "up"));
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(a.epoch == 1 && !a.joined);
	/* Hostile first lines change nothing. */
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 0\n", &ans), 400);
	ck_assert_uint_eq(beat(&m, "gateway w1\n", &ans), 400);
	/* A purge order reaches the workers that have not seen it, once. */
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_order(&m, "bkt", "set/", &ring), 200);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_order(&m, "bad/name", NULL, &ring), 400);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_order(&m, "bkt", "a b", &ring), 400);
	/* A fence's question: not applied until the worker says it saw it. */
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, "1", &ring), 200);
	ck_assert(strncmp(ring.p, "pending 1", 9) == 0);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, "2", &ring), 404);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, "x", &ring), 400);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, NULL, &ring), 400);
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 0\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	cur = a.rest;
	ck_assert(clu_purge_next(&cur, &p) == 1 && p.seq == 1 && cm_slice_eq(p.bucket, "bkt") &&
	    cm_slice_eq(p.prefix, "set/"));
	ck_assert(clu_purge_next(&cur, &p) == 0);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, "1", &ring), 200);
	ck_assert(strncmp(ring.p, "pending 1", 9) == 0);	/* sent, not yet applied */
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 1\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	cur = a.rest;
	ck_assert(clu_purge_next(&cur, &p) == 0);
	cm_buf_reset(&ring);
	ck_assert_uint_eq(master_purge_applied(&m, "1", &ring), 200);
	ck_assert(strncmp(ring.p, "applied", 7) == 0);
	/* A second worker; the ring lists both; drained leaves it. */
	ck_assert_uint_eq(beat(&m, "worker w2 127.0.0.1:9102 2\n", &ans), 200);
	cm_buf_reset(&ring);
	master_view_ring(&m, &ring);
	ck_assert_str_eq(ring.p, "epoch 2\nworker w1 127.0.0.1:9101 1\nworker w2 127.0.0.1:9102 2\n");
	cm_buf_reset(&ans);
	ck_assert_uint_eq(master_drain(&m, "w2", 1, &ans), 200);
	cm_buf_reset(&ans);
	ck_assert_uint_eq(master_drain(&m, "nobody", 1, &ans), 404);
	cm_buf_reset(&ans);
	ck_assert_uint_eq(master_drain(&m, "bad id", 1, &ans), 400);
	cm_buf_reset(&ring);
	master_view_ring(&m, &ring);
	ck_assert_str_eq(ring.p, "epoch 3\nworker w1 127.0.0.1:9101 1\n");
	/* A drained worker's heartbeat keeps it out. */
	ck_assert_uint_eq(beat(&m, "worker w2 127.0.0.1:9102 2\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(cm_slice_eq(a.state, "drained") && !a.joined && a.epoch == 3);
	/* Silence: down, out of the ring, and joined again at its next beat. */
	pthread_mutex_lock(&m.mtx);
	master_sweep_locked(&m, cm_mono_ms() + 5000);
	pthread_mutex_unlock(&m.mtx);
	cm_buf_reset(&ring);
	master_view_ring(&m, &ring);
	ck_assert_str_eq(ring.p, "epoch 4\n");
	ck_assert_uint_eq(beat(&m, "worker w1 127.0.0.1:9101 1\npurge-seen 1\n", &ans), 200);
	clu_hb_answer_parse(cm_buf_slice(&ans), &a);
	ck_assert(a.joined && a.epoch == 5);
	cm_buf_reset(&ans);
	master_gateway_stats(&m, cm_slice_str("gateway g\nstats bkt 1 2 3 4 0\n"), &ans, &status);
	ck_assert_uint_eq(status, 200);
	cm_buf_free(&ans);
	cm_buf_free(&ring);
	master_model_fini(&m);
}
END_TEST

/* Statistics go to buckets with a bucket's name only; the totals add up. */
START_TEST(master_counts_valid_buckets_only)
{
	struct master m;
	struct cm_buf ans;
	unsigned status;

	ck_assert_int_eq(master_model_init(&m, 1000, NULL, NULL), 0);
	cm_buf_init(&ans, 1 << 20);
	ck_assert_uint_eq(beat(&m, "worker w1 h:1 1\nstats good 1 2 30 40 0\nstats ../x 5 5 5 5 5\n"
	    "stats . 1 1 1 1 1\nevictions 4\n", &ans), 200);
	cm_buf_reset(&ans);
	master_gateway_stats(&m, cm_slice_str("gateway g\nstats good 1 0 10 0 0\nstats a<b 1 1 1 1 1\n"),
	    &ans, &status);
	ck_assert_uint_eq(status, 200);
	ck_assert_uint_eq(m.nb, 1);
	ck_assert_str_eq(m.b[0].name, "good");
	ck_assert(m.b[0].c.hits == 2 && m.b[0].c.misses == 2 && m.b[0].c.served == 40 &&
	    m.b[0].c.origin == 40);
	ck_assert(m.w[0].c.hits == 1 && m.w[0].c.evictions == 4 && m.evictions == 4);
	cm_buf_reset(&ans);
	master_view_stats(&m, &ans, NULL, 1);
	ck_assert_msg(strstr(ans.p, "\"bucket\":\"good\",\"hits\":2,\"misses\":2,\"hit_ratio\":0.5000")
	    != NULL, "%s", ans.p);
	cm_buf_free(&ans);
	master_model_fini(&m);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = { heartbeat_round_trip, heartbeat_hostile,
	    answer_and_purges_round_trip, answer_hostile, gateway_stats_round_trip_and_hostile,
	    writers_refuse_forged_lines, counts_lose_nothing, master_heartbeats_purges_drains,
	    master_dropped_purges_mean_revalidate_all,
	    master_counts_valid_buckets_only };

	return (testreq_run("clu_proto", tests, sizeof tests / sizeof tests[0], 0, 0));
}
