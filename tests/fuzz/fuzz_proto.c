/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: every parser of the cluster's messages (cluster/clu_proto.c)
 * on the same bytes, what a parser accepted written back and parsed again
 * to the same values, and the master's rules (cluster/master_model.c, no
 * store) fed the bytes as a heartbeat and as gateway statistics, with the
 * ring it then shows parsed by ring_parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static int
same(struct cm_slice a, struct cm_slice b)
{
	return (a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0));
}

/* Each stats line accepted is written and read back unchanged. */
static size_t
stats_round_trip(struct cm_slice cur)
{
	struct clu_stat st, back;
	struct cm_buf b;
	struct cm_slice c2, id, rest;
	size_t n = 0;

	while (clu_stats_next(&cur, &st)) {
		CHECK(st.bucket.len > 0);
		cm_buf_init(&b, 1 << 16);
		if (clu_gwstats_write(&b, "g", &st, 1) == 0) {
			CHECK(clu_gwstats_parse(cm_buf_slice(&b), &id, &rest) == 0);
			c2 = rest;
			CHECK(clu_stats_next(&c2, &back) == 1);
			CHECK(same(st.bucket, back.bucket) && st.hits == back.hits &&
			    st.misses == back.misses && st.served == back.served &&
			    st.origin == back.origin && st.evictions == back.evictions);
		}
		cm_buf_free(&b);
		n++;
	}
	return (n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct master m;
	static int have_m;
	struct cm_slice in = cm_slice((const char *)data, size), id, rest, cur;
	struct clu_hb hb, back;
	struct clu_hb_answer a;
	struct clu_purge p, pb;
	struct cm_buf b, out;
	struct ring *r;
	unsigned status;
	char err[256];

	if (have_m && (m.nw > 64 || m.nb > 64)) {
		/* Kept small: a cheap ring each time, a bounded footprint. */
		master_model_fini(&m);
		have_m = 0;
	}
	if (!have_m) {
		cm_log_set_level(CM_LOG_ERROR);
		CHECK(master_model_init(&m, 1000, NULL, NULL) == 0);
		have_m = 1;
	}
	/* Heartbeat. */
	if (clu_hb_parse(in, &hb) == 0) {
		CHECK(clu_proto_id_valid(hb.id) && hb.weight >= 1 && hb.weight <= 1000);
		cm_buf_init(&b, 1 << 16);
		CHECK(clu_hb_write(&b, &hb, NULL, 0) == 0);
		CHECK(clu_hb_parse(cm_buf_slice(&b), &back) == 0);
		CHECK(same(hb.id, back.id) && same(hb.addr, back.addr) && hb.weight == back.weight &&
		    hb.purge_seen == back.purge_seen && hb.evictions == back.evictions);
		cm_buf_free(&b);
		(void)stats_round_trip(hb.rest);
	}
	/* The answer and its purges. */
	clu_hb_answer_parse(in, &a);
	cur = a.rest;
	while (clu_purge_next(&cur, &p)) {
		CHECK(p.bucket.len > 0);
		cm_buf_init(&b, 1 << 16);
		if (clu_purge_write(&b, &p) == 0) {
			struct cm_slice c2 = cm_buf_slice(&b);

			CHECK(clu_purge_next(&c2, &pb) == 1);
			CHECK(pb.seq == p.seq && same(pb.bucket, p.bucket) && same(pb.prefix, p.prefix));
		}
		cm_buf_free(&b);
	}
	/* Gateway statistics. */
	if (clu_gwstats_parse(in, &id, &rest) == 0) {
		CHECK(id.len > 0);
		(void)stats_round_trip(rest);
	}
	/* The master fed the bytes; what it then serves is well formed. */
	cm_buf_init(&out, 1 << 20);
	master_heartbeat(&m, in, &out, &status);
	CHECK(status == 200 || status == 400 || status == 503);
	if (status == 200) {
		clu_hb_answer_parse(cm_buf_slice(&out), &a);
		CHECK(a.state.len > 0);
	}
	cm_buf_reset(&out);
	master_gateway_stats(&m, in, &out, &status);
	CHECK(status == 200 || status == 400);
	cm_buf_reset(&out);
	master_view_ring(&m, &out);
	r = ring_parse(out.p != NULL ? out.p : "", out.len, err, sizeof err);
	CHECK(r != NULL);
	ring_free(&r);
	cm_buf_free(&out);
	return (0);
}
