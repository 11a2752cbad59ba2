/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_proto.c: the cluster's messages (see clu_proto.h for the grammar).
 * Pure functions over bounded buffers and borrowed slices; any thread, no
 * lock, no allocation but the cm_buf a writer is given.
 */
#include <string.h>

#include "cluster/clu_proto.h"
#include "cluster/ring.h"

int
clu_proto_id_valid(struct cm_slice s)
{
	size_t i;

	if (s.p == NULL || s.len == 0 || s.len >= RING_ID_MAX)
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-' || c == ':'))
			return (0);
	}
	return (1);
}

/* A field a writer may put on a line: no space, no line break. */
static int
field_ok(struct cm_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (s.p[i] == ' ' || s.p[i] == '\n' || s.p[i] == '\r' || s.p[i] == '\0')
			return (0);
	return (1);
}

/* A worker's address, host:port: 1 to RING_ADDR_MAX - 1 of letters,
 * digits and ". - _ : [ ] %" (names, IPv4, bracketed IPv6 with a zone). It
 * goes into the ring's text, JSON and the status page as is. */
static int
addr_ok(struct cm_slice s)
{
	size_t i;

	if (s.p == NULL || s.len == 0 || s.len >= RING_ADDR_MAX)
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(".-_:[]%", c) != NULL) || c == '\0')
			return (0);
	}
	return (1);
}

/* The next line of *cursor, trimmed, split into its first word (*kw) and
 * what follows (returned; p NULL when there is nothing). 0 at the end. */
static int
next_line(struct cm_slice *cursor, struct cm_slice *kw, struct cm_slice *rest)
{
	struct cm_slice line;

	if (cursor->p == NULL || cursor->len == 0)
		return (0);
	*cursor = cm_slice_cut(*cursor, '\n', &line);
	*rest = cm_slice_cut(cm_slice_trim(line), ' ', kw);
	return (1);
}

static int
stats_write(struct cm_buf *out, const struct clu_stat *st, size_t n)
{
	size_t i;
	int rv = 0;

	for (i = 0; i < n; i++) {
		if (st[i].bucket.len == 0 || !field_ok(st[i].bucket))
			return (-1);
		rv |= cm_buf_addf(out, "stats %.*s %llu %llu %llu %llu %llu\n", (int)st[i].bucket.len,
		    st[i].bucket.p, (unsigned long long)st[i].hits, (unsigned long long)st[i].misses,
		    (unsigned long long)st[i].served, (unsigned long long)st[i].origin,
		    (unsigned long long)st[i].evictions);
	}
	return (rv != 0 ? -1 : 0);
}

/* "BUCKET HITS MISSES SERVED ORIGIN EVICTIONS": 0, or -1 when malformed. */
static int
stats_parse(struct cm_slice s, struct clu_stat *st)
{
	uint64_t *f[5] = { &st->hits, &st->misses, &st->served, &st->origin, &st->evictions };
	struct cm_slice t;
	size_t i;

	memset(st, 0, sizeof *st);
	s = cm_slice_cut(s, ' ', &st->bucket);
	if (st->bucket.len == 0)
		return (-1);
	for (i = 0; i < 5; i++) {
		s = cm_slice_trim(cm_slice_cut(cm_slice_trim(s), ' ', &t));
		if (cm_parse_u64(t, UINT64_MAX, f[i]) != 0)
			return (-1);
	}
	return (s.len == 0 ? 0 : -1);
}

int
clu_stats_next(struct cm_slice *cursor, struct clu_stat *st)
{
	struct cm_slice kw, rest;

	while (next_line(cursor, &kw, &rest))
		if (cm_slice_eq(kw, "stats") && stats_parse(rest, st) == 0)
			return (1);
	memset(st, 0, sizeof *st);
	return (0);
}

int
clu_hb_write(struct cm_buf *out, const struct clu_hb *hb, const struct clu_stat *st, size_t n)
{
	int rv;

	if (!clu_proto_id_valid(hb->id) || !addr_ok(hb->addr))
		return (-1);
	rv = cm_buf_addf(out, "worker %.*s %.*s %llu\npurge-seen %llu\n", (int)hb->id.len, hb->id.p,
	    (int)hb->addr.len, hb->addr.p, (unsigned long long)hb->weight,
	    (unsigned long long)hb->purge_seen);
	rv |= stats_write(out, st, n);
	/* Evictions are the store's, not a bucket's: one line. */
	rv |= cm_buf_addf(out, "evictions %llu\n", (unsigned long long)hb->evictions);
	return (rv != 0 ? -1 : 0);
}

int
clu_hb_parse(struct cm_slice body, struct clu_hb *hb)
{
	struct cm_slice kw, rest, wt, cur;
	uint64_t v;

	memset(hb, 0, sizeof *hb);
	cur = body;
	if (!next_line(&cur, &kw, &rest) || !cm_slice_eq(kw, "worker"))
		return (-1);
	rest = cm_slice_cut(rest, ' ', &hb->id);
	wt = cm_slice_trim(cm_slice_cut(rest, ' ', &hb->addr));
	if (!clu_proto_id_valid(hb->id) || !addr_ok(hb->addr) || cm_parse_u64(wt, 1000, &v) != 0 ||
	    v == 0)
		return (-1);
	hb->weight = v;
	hb->rest = cur;
	while (next_line(&cur, &kw, &rest)) {
		if (cm_slice_eq(kw, "purge-seen")) {
			if (cm_parse_u64(cm_slice_trim(rest), UINT64_MAX, &hb->purge_seen) != 0)
				hb->purge_seen = 0;
		} else if (cm_slice_eq(kw, "evictions") &&
		    cm_parse_u64(cm_slice_trim(rest), UINT64_MAX, &v) == 0) {
			hb->evictions += v;	/* wraps like the counters it feeds */
		}
	}
	return (0);
}

int
clu_hb_answer_write(struct cm_buf *out, uint64_t epoch, const char *state, int joined)
{
	return (cm_buf_addf(out, "epoch %llu\nstate %s\n%s", (unsigned long long)epoch, state,
	    joined ? "joined\n" : ""));
}

void
clu_hb_answer_parse(struct cm_slice body, struct clu_hb_answer *a)
{
	struct cm_slice kw, rest, cur = body;
	uint64_t v;

	memset(a, 0, sizeof *a);
	a->rest = body;
	while (next_line(&cur, &kw, &rest)) {
		if (cm_slice_eq(kw, "epoch") && cm_parse_u64(cm_slice_trim(rest), UINT64_MAX, &v) == 0)
			a->epoch = v;
		else if (cm_slice_eq(kw, "state") && rest.p != NULL)
			a->state = cm_slice_trim(rest);
		else if (cm_slice_eq(kw, "joined"))
			a->joined = 1;
	}
}

int
clu_purge_write(struct cm_buf *out, const struct clu_purge *p)
{
	if (p->bucket.len == 0 || !field_ok(p->bucket) || !field_ok(p->prefix))
		return (-1);
	/* With no prefix the line ends in a space, as it always has. */
	return (cm_buf_addf(out, "purge %llu %.*s %.*s\n", (unsigned long long)p->seq,
	    (int)p->bucket.len, p->bucket.p, (int)p->prefix.len, p->prefix.p != NULL ? p->prefix.p : ""));
}

int
clu_purge_next(struct cm_slice *cursor, struct clu_purge *p)
{
	struct cm_slice kw, rest, seq;

	while (next_line(cursor, &kw, &rest)) {
		if (!cm_slice_eq(kw, "purge") || rest.p == NULL)
			continue;
		memset(p, 0, sizeof *p);
		rest = cm_slice_cut(rest, ' ', &seq);
		p->prefix = cm_slice_cut(rest, ' ', &p->bucket);
		if (p->prefix.p == NULL)
			p->prefix = cm_slice("", 0);
		if (cm_parse_u64(seq, UINT64_MAX, &p->seq) != 0 || p->bucket.len == 0)
			continue;
		return (1);
	}
	memset(p, 0, sizeof *p);
	return (0);
}

int
clu_gwstats_write(struct cm_buf *out, const char *id, const struct clu_stat *st, size_t n)
{
	struct cm_slice s = cm_slice_str(id);

	if (s.len == 0 || !field_ok(s))
		return (-1);
	if (cm_buf_addf(out, "gateway %s\n", id) != 0)
		return (-1);
	return (stats_write(out, st, n));
}

int
clu_gwstats_parse(struct cm_slice body, struct cm_slice *id, struct cm_slice *rest)
{
	struct cm_slice kw, cur = body;

	*id = cm_slice("", 0);
	*rest = cm_slice("", 0);
	/* The ID only names the sender (a gateway is no member of the ring). */
	if (!next_line(&cur, &kw, id) || !cm_slice_eq(kw, "gateway"))
		return (-1);
	*id = cm_slice_trim(*id);
	if (id->p == NULL || id->len == 0)
		return (-1);
	*rest = cur;
	return (0);
}
