/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_req.c: the one end of a request, for a pass-through (struct xfer,
 * gw_s3.c) and a cached read (struct cread, gw_cache.c) alike. Both embed
 * a struct gw_req (gw_priv.h): the request as it is logged and counted.
 * gw_req_end writes its access-log line, counts it (the loop's metrics,
 * and a cached read's per-bucket counts through the block source's count
 * slot), detaches it from its connection, lets its kind free what is its
 * own (struct gw_req_ops), and only then ends the answer. And the parts
 * of an answer both make: the gateway's own S3 errors (gw_req_error), the
 * origin's answer headers as a client gets them (gw_relay_headers).
 *
 * Threads: the request's loop (its connection's). No lock: the metrics are
 * the loop's own (relaxed atomics, read by the admin thread), the access
 * log's buffer is the loop's (gw_log.c), the block source is read-only and
 * its count slot needs no lock (clu_counts is lock-free).
 */
#include <stdio.h>
#include <string.h>

#include "common/cm_log.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"

void
gw_req_init(struct gw_req *q, const struct gw_req_ops *ops, struct gw_ctx *ctx,
    struct http_conn *conn, struct http_req *r)
{
	AN(ops);
	AN(ops->name);
	AN(ops->result);
	AN(ops->fini);
	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	memset(q, 0, sizeof *q);
	q->magic = GW_REQ_MAGIC;
	q->ops = ops;
	q->ctx = ctx;
	q->conn = conn;
	q->req = r;
	q->op = GW_OP_Other;
}

/* ---- Answers both kinds make ---- */

void
gw_req_error(struct gw_req *q, int status, const char *code, const char *msg,
    const struct gw_err_field *fields, size_t nfields, const struct s3sig_hdr *hdrs, size_t nhdrs)
{
	const struct http_req *r = q->req;
	struct s3sig_hdr h[2 + 4];
	struct cm_buf body;
	size_t n = 0, i;

	CM_ASSERT(q->magic == GW_REQ_MAGIC);
	CM_ASSERT(nhdrs <= 4);
	q->status = status;
	gw_metrics_error(&q->ctx->metrics, code);
	cm_buf_init(&body, 256 * 1024);
	if (gw_err_xml(&body, cm_slice_str(code), cm_slice_str(msg), fields, nfields, r->path,
	    cm_slice_str(r->id)) != 0) {
		/* What was echoed did not fit: the document without it. */
		cm_buf_reset(&body);
		if (gw_err_xml(&body, cm_slice_str(code), cm_slice_str(msg), NULL, 0,
		    cm_slice("", 0), cm_slice_str(r->id)) != 0)
			cm_buf_reset(&body);
	}
	h[n].name = CM_SLICE_LIT("Content-Type");
	h[n++].value = CM_SLICE_LIT("application/xml");
	h[n].name = CM_SLICE_LIT("x-amz-request-id");
	h[n++].value = cm_slice_str(r->id);
	for (i = 0; i < nhdrs; i++)
		h[n++] = hdrs[i];
	http_conn_respond(q->conn, status, h, n, (int64_t)body.len);
	if (body.len > 0)
		(void)http_conn_write(q->conn, body.p, body.len);
	cm_buf_free(&body);
}

/*
 * The origin's answer headers as a client gets them: Content-Length taken
 * out into *len (-1 when absent or above maxlen), hop-by-hop headers dropped,
 * names as S3 spells them (an OSS origin's renamed into names[], at most
 * namesz bytes); *have_id and *have_region say whether x-amz-request-id and
 * x-amz-bucket-region came. Returns how many of out[max] it filled; values
 * borrow from hdrs. For the pass-through and the cached read's relays.
 */
size_t
gw_relay_headers(const struct gw_conf *gc, const struct s3sig_hdr *hdrs, size_t n,
    struct s3sig_hdr *out, size_t max, char *names, size_t namesz, uint64_t maxlen, int64_t *len,
    int *have_id, int *have_region)
{
	size_t i, k = 0, nused = 0;
	uint64_t v;

	*len = -1;
	for (i = 0; i < n && k < max; i++) {
		if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("content-length"))) {
			if (cm_parse_u64(cm_slice_trim(hdrs[i].value), maxlen, &v) == 0)
				*len = (int64_t)v;
			continue;
		}
		if (http_hdr_hop_by_hop(hdrs[i].name))
			continue;
		out[k].name = gc->origin.ops->resp_name(hdrs[i].name, names + nused, namesz - nused);
		if (out[k].name.p == names + nused)
			nused += out[k].name.len;
		out[k].value = hdrs[i].value;
		if (cm_slice_eq_nocase(out[k].name, CM_SLICE_LIT("x-amz-request-id")))
			*have_id = 1;
		if (cm_slice_eq_nocase(out[k].name, CM_SLICE_LIT("x-amz-bucket-region")))
			*have_region = 1;
		k++;
	}
	return (k);
}

/* ---- The end ---- */

static void
copy_for_log(char *dst, size_t n, struct cm_slice s)
{
	size_t i, k = 0;

	for (i = 0; i < s.len && k + 1 < n; i++)
		dst[k++] = (s.p[i] > ' ' && s.p[i] < 0x7f) ? s.p[i] : '_';
	dst[k] = '\0';
}

/* Counts a finished request and writes its access-log line. */
static void
request_log(const struct gw_req *q, const char *result)
{
	struct gw_ctx *ctx = q->ctx;
	const struct http_req *r = q->req;
	char b[256], k[512];
	uint64_t us = cm_mono_us() - r->start_us;

	gw_metrics_request(&ctx->metrics, q->op, q->status, result, us);
	copy_for_log(b, sizeof b, q->bucket);
	copy_for_log(k, sizeof k, q->rawkey);
	gw_log_line(ctx->alog, "req=%s peer=%s op=%s bucket=%s key=%s status=%d in=%llu out=%llu "
	    "ms=%.1f origin_ms=%.1f result=%s", r->id, http_conn_peer(q->conn), gw_op_name(q->op),
	    b[0] ? b : "-", k[0] ? k : "-", q->status, (unsigned long long)q->bytes_in,
	    (unsigned long long)q->bytes_out, (double)us / 1000.0, (double)q->ttfb_us / 1000.0,
	    result);
}

void
gw_req_end(struct gw_req *q, enum gw_end how)
{
	struct http_conn *conn = q->conn;
	const struct gw_blksrc *s;

	CM_ASSERT(q->magic == GW_REQ_MAGIC);
	CM_ASSERT(q->ctx->magic == GW_CTX_MAGIC);
	request_log(q, q->result != NULL ? q->result : q->ops->result);
	/* An answer the client walked away from is not counted per bucket. */
	if (q->ops->per_bucket && how != GW_END_NONE && !q->req->head && q->status >= 200 &&
	    q->status < 300) {
		s = &q->ctx->conf->src;
		CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
		s->ops->count(s, q);
	}
	http_conn_clear_req(conn);
	q->magic = 0;
	q->ops->fini(q);	/* q is gone */
	if (how == GW_END_OK)
		http_conn_end(conn);
	else if (how == GW_END_FAIL)
		http_conn_fail(conn);
}

void
gw_req_abort(struct gw_req *q)
{
	CM_ASSERT(q->magic == GW_REQ_MAGIC);
	if (q->status == 0)
		q->status = 499;	/* client closed first, as nginx logs it */
	q->result = "aborted";
	gw_req_end(q, GW_END_NONE);
}
