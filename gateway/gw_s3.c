/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_s3.c: the S3 request handler on the data path: addressing, signature
 * verification, the pass-through to the origin re-signed with the origin's
 * credentials, errors in S3's XML, the access log and the counters.
 *
 * One transfer (struct xfer) per request:
 *
 *   client headers -> verify -> [refused: S3 error, nothing sent on]
 *                             -> origin request started (at once when the
 *                                request has a body, else when the empty
 *                                body is verified)
 *   client body    -> s3sig body checker -> 'up' buffer -> origin read
 *                     (the last byte is held back until the whole body has
 *                      verified, so that a bad body never completes upstream)
 *   origin head    -> client response head
 *   origin body    -> client (paused both ways by high-water marks)
 *   origin done    -> response ended, log line, counters
 *
 * A worker checks the cluster signature of every request before anything
 * else (gw_wgate.c): gateways sign theirs with the cluster secret, and a
 * worker holds no client key.
 *
 * Back-pressure crosses between the HTTP core and libcurl only through the
 * deferred 'kick' event: neither side is resumed from inside the other's
 * callbacks. Threads: every xfer lives on one loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/cm_log.h"
#include "gateway/gw_delete.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"
#include "cluster/cluster.h"
#include "common/cm_s3name.h"

#include <openssl/evp.h>

static void xfer_done(struct xfer *x, enum xend how);
static const struct http_req_ops pass_ops;	/* below */

/* ---- Answers the gateway makes itself ---- */

void
gw_s3_error(struct gw_ctx *ctx, struct http_conn *conn, const struct http_req *r, int status,
    const char *code, const char *msg, const struct gw_err_field *fields, size_t nfields,
    const struct s3sig_hdr *hdrs, size_t nhdrs)
{
	struct s3sig_hdr h[2 + 4];
	struct cm_buf body;
	size_t n = 0, i;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	CM_ASSERT(nhdrs <= 4);
	gw_metrics_error(&ctx->metrics, code);
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
	http_conn_respond(conn, status, h, n, (int64_t)body.len);
	if (body.len > 0)
		(void)http_conn_write(conn, body.p, body.len);
	cm_buf_free(&body);
}

static void
send_error(struct xfer *x, int status, const char *code, const char *msg, const char *region)
{
	struct gw_err_field f = { "Region", cm_slice_str(region != NULL ? region : "") };

	x->status = status;
	snprintf(x->result, sizeof x->result, "refused");
	gw_s3_error(x->ctx, x->conn, x->req, status, code, msg, &f,
	    region != NULL && region[0] != '\0' ? 1 : 0, NULL, 0);
}

/* One of the gateway's own errors; msg NULL: the table's message. */
static void
send_gw_error(struct xfer *x, enum gw_err e, const char *msg)
{
	send_error(x, gw_err_status(e), gw_err_code(e), msg != NULL ? msg : gw_err_message(e), NULL);
}

static void
send_sig_error(struct xfer *x, enum s3sig_err e, const struct s3sig_auth *auth)
{
	send_error(x, s3sig_err_status(e), s3sig_err_code(e), s3sig_err_message(e),
	    e == S3SIG_WRONG_REGION ? auth->region : NULL);
}

/* ---- Deferred work ---- */

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;

	(void)fd;
	(void)what;
	CM_ASSERT(x->magic == XFER_MAGIC);
	if (x->want_resume_oread && x->oreq != NULL) {
		x->want_resume_oread = 0;
		x->oread_paused = 0;
		http_creq_resume_read(x->oreq);
	}
	if (x->want_resume_client && x->client_paused) {
		x->want_resume_client = 0;
		x->client_paused = 0;
		http_conn_resume(x->conn);	/* may feed body: on_body runs */
	}
}

static void
kick(struct xfer *x)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(x->kick, &zero);
}

/* ---- Origin callbacks ---- */

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

static int
o_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct xfer *x = arg;
	struct s3sig_hdr out[MAX_OUT_HDRS];
	char names[16384];
	size_t i, k;
	int64_t len = -1;
	int have_id = 0, have_region = 0;

	x->status = status;
	x->ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	gw_metrics_origin_latency(&x->ctx->metrics, x->ttfb_us);
	k = gw_relay_headers(x->ctx->conf, hdrs, n, out, MAX_OUT_HDRS - 2, names, sizeof names,
	    INT64_MAX, &len, &have_id, &have_region);
	if (!have_id) {
		out[k].name = CM_SLICE_LIT("x-amz-request-id");
		out[k++].value = cm_slice_str(x->req->id);
	}
	/* Clients that probe a bucket's region read it from HEAD bucket. */
	if (x->head_bucket && !have_region && status < 300) {
		out[k].name = CM_SLICE_LIT("x-amz-bucket-region");
		out[k++].value = cm_slice_str(x->ctx->conf->region);
	}
	if (x->location && status == 200) {
		/* Clients sign for the region this answers: ours, not the
		 * origin's (an OSS origin would name its own). */
		char body[256];
		int blen = snprintf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">%s"
		    "</LocationConstraint>", strcmp(x->ctx->conf->region, "us-east-1") == 0 ? "" :
		    x->ctx->conf->region);

		for (i = 0, blen = blen < 0 ? 0 : blen; i < k; i++)
			if (cm_slice_eq_nocase(out[i].name, CM_SLICE_LIT("content-type")))
				out[i].value = CM_SLICE_LIT("application/xml");
		http_conn_respond(x->conn, status, out, k, blen);
		(void)http_conn_write(x->conn, body, (size_t)blen);
		x->bytes_out += (uint64_t)blen;
		return (0);
	}
	x->location = 0;
	if (x->req->head && len < 0)
		len = -1;
	if (x->hold) {
		for (i = 0; i < k; i++)
			if (cm_buf_add(&x->held, out[i].name.p, out[i].name.len) != 0 ||
			    cm_buf_addc(&x->held, '\0') != 0 ||
			    cm_buf_add(&x->held, out[i].value.p, out[i].value.len) != 0 ||
			    cm_buf_addc(&x->held, '\0') != 0)
				return (HTTP_CLIENT_ABORT);
		return (0);
	}
	http_conn_respond(x->conn, status, out, k, len);
	return (0);
}

static int
o_data(void *arg, const char *p, size_t len)
{
	struct xfer *x = arg;
	int rc;

	if (x->location)
		return (0);	/* the origin's own answer is replaced */
	if (x->hold) {
		GW_INC(&x->ctx->metrics, origin_bytes_in, len);
		/* A write's answer is small XML at most; bounded here. */
		return (cm_buf_add(&x->held_body, p, len) == 0 ? 0 : HTTP_CLIENT_ABORT);
	}
	if (http_conn_out_pending(x->conn) > 1024 * 1024) {
		x->owrite_paused = 1;
		return (HTTP_CLIENT_PAUSE);
	}
	GW_INC(&x->ctx->metrics, origin_bytes_in, len);
	rc = http_conn_write(x->conn, p, len);
	if (rc == HTTP_ERROR)
		return (HTTP_CLIENT_ABORT);
	x->bytes_out += len;
	GW_INC(&x->ctx->metrics, bytes_out, len);
	return (0);
}

static ssize_t
o_read(void *arg, char *buf, size_t max)
{
	struct xfer *x = arg;
	size_t avail = x->up.len - x->up_off, hold = x->body_ok ? 0 : 1, n;

	if (x->body_err != S3SIG_OK)
		return (HTTP_CLIENT_ABORT);
	if (avail <= hold) {
		if (x->body_ok && avail == 0)
			return (0);
		x->oread_paused = 1;
		if (x->client_paused) {
			x->want_resume_client = 1;
			kick(x);
		}
		return (HTTP_CLIENT_PAUSE);
	}
	n = avail - hold < max ? avail - hold : max;
	memcpy(buf, x->up.p + x->up_off, n);
	x->up_off += n;
	if (x->up_off == x->up.len) {
		cm_buf_reset(&x->up);
		x->up_off = 0;
	}
	if (x->client_paused && x->up.len - x->up_off < UP_PAUSE / 2) {
		x->want_resume_client = 1;
		kick(x);
	}
	return ((ssize_t)n);
}

/* The held answer goes to the client now. */
static void
release_held(struct xfer *x)
{
	struct s3sig_hdr h[MAX_OUT_HDRS];
	size_t n = 0, at = 0;

	while (at < x->held.len && n < MAX_OUT_HDRS) {
		size_t nl = strlen(x->held.p + at), vl = strlen(x->held.p + at + nl + 1);

		h[n].name = cm_slice(x->held.p + at, nl);
		h[n].value = cm_slice(x->held.p + at + nl + 1, vl);
		n++;
		at += nl + vl + 2;
	}
	http_conn_respond(x->conn, x->status, h, n, (int64_t)x->held_body.len);
	if (x->held_body.len > 0 && http_conn_write(x->conn, x->held_body.p, x->held_body.len) != HTTP_ERROR) {
		x->bytes_out += x->held_body.len;
		GW_INC(&x->ctx->metrics, bytes_out, x->held_body.len);
	}
	xfer_done(x, END_OK);
}

static void
o_done(void *arg, const char *err)
{
	struct xfer *x = arg;

	x->oreq = NULL;
	GW_INC(&x->ctx->metrics, origin_requests, 1);
	/* A write's answer goes to the client from its invalidation's done:
	 * whatever the role, the client hears back once every cache that
	 * could serve the old bytes has forgotten them. */
	if (x->hold && err == NULL) {
		x->ctx->conf->src.ops->invalidate(x, release_held);
		return;
	}
	gw_s3_forget(x);	/* the write may have gone through */
	if (err != NULL) {
		GW_INC(&x->ctx->metrics, origin_errors, 1);
		CM_LOGW("req=%s origin failed: %s", x->req->id, err);
		if (x->status == 0) {
			send_gw_error(x, GW_E_ORIGIN_DOWN, NULL);
			xfer_done(x, END_OK);
		} else {
			snprintf(x->result, sizeof x->result, "broken");
			xfer_done(x, END_FAIL);
		}
		return;
	}
	xfer_done(x, END_OK);
}

static const struct http_creq_ops oreq_ops = { o_head, o_data, o_read, o_done };

/* ---- Building the origin request ---- */

static int
build_origin(struct xfer *x, const char *content_md5)
{
	const struct http_req *r = x->req;

	return (origin_req_build(&x->fwd, &x->ctx->conf->origin, r->method, r->query, r->hdrs,
	    r->nhdrs, x->bucket_s, x->rawkey_s, x->dechunk, content_md5, time(NULL)));
}

static int
start_origin(struct xfer *x)
{
	char method[16];

	snprintf(method, sizeof method, "%.*s", (int)x->req->method.len, x->req->method.p);
	x->oreq = http_creq_start(x->ctx->origin, method, x->fwd.url.p, x->fwd.hdrs, x->fwd.n,
	    x->origin_len, &oreq_ops, x);
	if (x->oreq == NULL) {
		send_gw_error(x, GW_E_INTERNAL, NULL);
		return (-1);
	}
	return (0);
}

/* ---- The handler ---- */

static void
xfer_free(struct xfer *x)
{
	size_t i;

	if (x->oreq != NULL)
		http_creq_cancel(&x->oreq);
	for (i = 0; i < x->ninval; i++)
		if (x->inval[i].oreq != NULL)
			http_creq_cancel(&x->inval[i].oreq);
	free(x->inval);
	cm_buf_free(&x->held);
	cm_buf_free(&x->held_body);
	cm_buf_free(&x->delbody);
	s3sig_body_free(&x->body);
	if (x->kick != NULL)
		event_free(x->kick);
	cm_buf_free(&x->up);
	origin_req_fini(&x->fwd);
	x->magic = 0;
	free(x);
}

static void
copy_for_log(char *dst, size_t n, struct cm_slice s)
{
	size_t i, k = 0;

	for (i = 0; i < s.len && k + 1 < n; i++)
		dst[k++] = (s.p[i] > ' ' && s.p[i] < 0x7f) ? s.p[i] : '_';
	dst[k] = '\0';
}

/* Counts a finished request and writes its access-log line. */
void
gw_request_log(struct gw_ctx *ctx, struct http_conn *conn, const struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice key, int status, uint64_t in, uint64_t out,
    uint64_t ttfb_us, const char *result)
{
	char b[256], k[512];
	uint64_t us = cm_mono_us() - r->start_us;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	gw_metrics_request(&ctx->metrics, op, status, result, us);
	copy_for_log(b, sizeof b, bucket);
	copy_for_log(k, sizeof k, key);
	gw_log_line(ctx->alog, "req=%s peer=%s op=%s bucket=%s key=%s status=%d in=%llu out=%llu "
	    "ms=%.1f origin_ms=%.1f result=%s", r->id, http_conn_peer(conn), gw_op_name(op),
	    b[0] ? b : "-", k[0] ? k : "-", status, (unsigned long long)in,
	    (unsigned long long)out, (double)us / 1000.0, (double)ttfb_us / 1000.0, result);
}

/* Logs and counts the request, detaches it from the connection, frees it,
 * and only then ends (or fails) the answer: ending may start the next
 * pipelined request on the same connection at once. */
static void
xfer_done(struct xfer *x, enum xend how)
{
	struct http_conn *conn = x->conn;

	gw_request_log(x->ctx, conn, x->req, x->op, x->bucket_s, x->rawkey_s, x->status,
	    x->bytes_in, x->bytes_out, x->ttfb_us, x->result[0] ? x->result : "pass");
	http_conn_clear_req(conn);
	xfer_free(x);
	if (how == END_OK)
		http_conn_end(conn);
	else if (how == END_FAIL)
		http_conn_fail(conn);
}

/* Decoded upload bytes from the body checker. */
static int
up_sink(void *arg, const char *p, size_t len)
{
	struct xfer *x = arg;

	if (x->op == GW_OP_DeleteObjects && !x->del_overflow &&
	    cm_buf_add(&x->delbody, p, len) != 0) {
		x->del_overflow = 1;		/* the bucket will go */
		cm_buf_free(&x->delbody);
	}
	if (x->up_off > 0 && x->up_off == x->up.len) {
		cm_buf_reset(&x->up);
		x->up_off = 0;
	}
	if (x->up.len + len > x->up.max && x->up_off > 0) {
		memmove(x->up.p, x->up.p + x->up_off, x->up.len - x->up_off);
		x->up.len -= x->up_off;
		x->up_off = 0;
	}
	return (cm_buf_add(&x->up, p, len));
}

static void
fail_body(struct xfer *x, enum s3sig_err e)
{
	x->body_err = e;
	CM_LOGI("req=%s body refused: %s", x->req->id, s3sig_err_name(e));
	if (x->oreq != NULL)
		http_creq_cancel(&x->oreq);
	send_error(x, s3sig_err_status(e), s3sig_err_code(e), s3sig_err_message(e), NULL);
	xfer_done(x, END_OK);
}




/* What a worker takes: a gateway's block read or metadata HEAD (a GET or
 * HEAD of an object the cache serves), or a gateway's invalidation (a
 * DELETE marked GW_INVALIDATE_HDR). */
static int
worker_accepts(const struct xfer *x, const struct http_req *r, struct cm_slice key)
{
	if ((x->op == GW_OP_GetObject || x->op == GW_OP_HeadObject) && key.len > 0 &&
	    gw_s3_cacheable(r))
		return (1);
	return ((x->op == GW_OP_DeleteObject || x->op == GW_OP_DeleteBucket) &&
	    http_req_hdr(r, GW_INVALIDATE_HDR) != NULL);
}

static int
h_request(struct http_conn *conn, struct http_req *r)
{
	struct gw_ctx *ctx = http_conn_thread_ctx(conn);
	const struct gw_conf *gc = ctx->conf;
	const struct s3sig_hdr *host = http_req_hdr(r, "host");
	struct cm_slice bucket, key;
	struct s3sig_req sreq;
	struct s3sig_auth auth;
	struct xfer *x;
	enum s3sig_err e;
	int vhost, dechunk;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	x = calloc(1, sizeof *x);
	if (x == NULL)
		return (HTTP_ERROR);
	x->magic = XFER_MAGIC;
	x->ctx = ctx;
	x->conn = conn;
	x->req = r;
	x->origin_len = -1;
	x->op = GW_OP_Other;
	cm_buf_init(&x->up, UP_MAX);
	cm_buf_init(&x->held, 64 * 1024);
	cm_buf_init(&x->held_body, HELD_BODY_MAX);
	cm_buf_init(&x->delbody, DEL_BODY_MAX);
	origin_req_init(&x->fwd);
	x->kick = evtimer_new(ctx->base, on_kick, x);
	http_conn_set_req(conn, &pass_ops, x);
	if (x->kick == NULL) {
		send_gw_error(x, GW_E_INTERNAL, NULL);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}

	/* A worker: nothing but a gateway's signed request is looked at.
	 * A client's request that a worker would not take from a gateway
	 * either (a write, a listing) is told so (405, send it to a
	 * gateway); any other gets 403 (but 503 SlowDown when the seen set
	 * is full). Counted and logged either way. */
	if (gc->worker && gc->ckey_set) {
		enum clu_auth_result a = gw_worker_gate(ctx, conn, r);

		if (a != CLU_AUTH_OK) {
			if (a == CLU_AUTH_MISSING && host != NULL &&
			    gw_s3_address(gc->cfg->virtual_host_domain, host->value, r->path,
			    &bucket, &key, &vhost) == 0) {
				x->op = gw_s3_classify(r->method, r->query, bucket.len > 0,
				    key.len > 0, http_req_hdr(r, "x-amz-copy-source") != NULL);
				if (!worker_accepts(x, r, key)) {
					send_gw_error(x, GW_E_WORKER_ONLY, NULL);
					xfer_done(x, END_OK);
					return (HTTP_OK);
				}
			}
			/* Too many nonces held to take one more: not the
			 * gateway's fault; a 5xx makes it ask the next owner. */
			send_gw_error(x, a == CLU_AUTH_BUSY ? GW_E_SLOW_DOWN : GW_E_CLUSTER_AUTH,
			    NULL);
			xfer_done(x, END_OK);
			return (HTTP_OK);
		}
	}
	if (host == NULL || gw_s3_address(gc->cfg->virtual_host_domain, host->value, r->path,
	    &bucket, &key, &vhost) != 0) {
		send_gw_error(x, GW_E_INVALID_REQUEST,
		    "A Host header and an absolute path are required.");
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	x->bucket_s = bucket;
	x->rawkey_s = key;
	x->op = gw_s3_classify(r->method, r->query, bucket.len > 0, key.len > 0,
	    http_req_hdr(r, "x-amz-copy-source") != NULL);
	x->head_bucket = x->op == GW_OP_HeadBucket;
	x->location = x->op == GW_OP_GetBucketLocation;

	memset(&sreq, 0, sizeof sreq);
	sreq.method = r->method;
	sreq.path = r->path;
	sreq.query = r->query;
	sreq.hdrs = r->hdrs;
	sreq.nhdrs = r->nhdrs;
	if (vhost)
		sreq.vhost_bucket = bucket;
	memset(&auth, 0, sizeof auth);
	/* A worker in a cluster checked the cluster's signature above. */
	e = gc->worker && gc->ckey_set ? S3SIG_OK :
	    s3sig_verify(ctx->verifier, &sreq, time(NULL), &auth, &x->body);
	if (e != S3SIG_OK) {
		GW_INC(&ctx->metrics, auth_refused, 1);
		CM_LOGI("req=%s refused: %s (%s) key=%s", r->id, s3sig_err_name(e),
		    auth.detail != NULL ? auth.detail : "", auth.access_key);
		send_sig_error(x, e, &auth);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	if (bucket.len > 0 && !cm_s3_bucket_valid(bucket, CM_S3_BUCKET_LEGACY)) {
		send_gw_error(x, GW_E_BAD_BUCKET_NAME, NULL);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	/* A worker serves block reads and takes invalidations, from gateways
	 * only: a client's write sent to it must not be answered as if it
	 * had gone through (it would be thrown away). */
	if (gc->worker && !worker_accepts(x, r, key)) {
		send_gw_error(x, GW_E_WORKER_ONLY, NULL);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	if (gc->worker && gw_s3_is_write(x->op)) {
		/* A gateway tells us a write went through: forget, answer. */
		gw_cache_invalidate(ctx, x->op, bucket, vhost ? cm_slice(r->path.p + 1,
		    r->path.len - 1) : key);
		x->status = 204;
		snprintf(x->result, sizeof x->result, "invalidated");
		http_conn_respond(conn, 204, NULL, 0, 0);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	x->hold = gw_s3_is_write(x->op);
	if (gc->cache != NULL && (x->op == GW_OP_GetObject || x->op == GW_OP_HeadObject) &&
	    key.len > 0 && gw_s3_cacheable(r)) {
		enum gw_op op = x->op;

		http_conn_clear_req(conn);
		xfer_free(x);
		gw_cache_start(ctx, conn, r, op, bucket, vhost ? cm_slice(r->path.p + 1,
		    r->path.len - 1) : key);
		return (HTTP_OK);
	}

	/* How long is the body the origin will get? */
	dechunk = auth.payload >= S3SIG_PAYLOAD_STREAMING;
	if (dechunk) {
		if (auth.decoded_length < 0) {
			send_gw_error(x, GW_E_NO_LENGTH,
			    "You must provide x-amz-decoded-content-length with aws-chunked uploads.");
			xfer_done(x, END_OK);
			return (HTTP_OK);
		}
		x->origin_len = auth.decoded_length;
	} else if (r->content_length >= 0) {
		x->origin_len = r->content_length;
	} else if (r->chunked) {
		send_gw_error(x, GW_E_NO_LENGTH, NULL);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	if (x->origin_len > (int64_t)MAX_PUT) {
		send_gw_error(x, GW_E_TOO_LARGE, NULL);
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	if (x->origin_len < 0 && (cm_slice_eq(r->method, "PUT") || cm_slice_eq(r->method, "POST")))
		x->origin_len = 0;
	if (x->origin_len == 0 && !cm_slice_eq(r->method, "PUT") && !cm_slice_eq(r->method, "POST"))
		x->origin_len = -1;

	x->dechunk = dechunk;
	/* OSS refuses DeleteObjects without Content-MD5, which current SDKs no
	 * longer send: the (small) body is collected and hashed first. */
	x->defer_md5 = gc->origin.ops->delete_needs_md5 && x->op == GW_OP_DeleteObjects &&
	    http_req_hdr(r, "content-md5") == NULL;
	if (x->defer_md5)
		return (HTTP_OK);
	if (build_origin(x, NULL) != 0) {
		send_gw_error(x, GW_E_INVALID_REQUEST, "The request is too large to forward.");
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	/* With a body, stream it; without, start once the (empty) body has
	 * verified in on_body_end. */
	if ((r->content_length > 0 || r->chunked) && start_origin(x) != 0) {
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	return (HTTP_OK);
}

static int
h_body(struct http_conn *conn, const char *p, size_t len)
{
	struct xfer *x = http_conn_get_data(conn);
	enum s3sig_err e;

	CM_ASSERT(x != NULL && x->magic == XFER_MAGIC);
	x->bytes_in += len;
	GW_INC(&x->ctx->metrics, bytes_in, len);
	e = s3sig_body_feed(x->body, p, len, up_sink, x);
	if (e == S3SIG_SINK_STOPPED && x->defer_md5) {
		x->body_err = e;
		send_gw_error(x, GW_E_MALFORMED_XML, "The XML you provided was too large "
		    "(DeleteObjects takes at most 1000 keys).");
		xfer_done(x, END_OK);
		return (HTTP_OK);
	}
	if (e != S3SIG_OK) {
		fail_body(x, e == S3SIG_SINK_STOPPED ? S3SIG_NOMEM : e);
		return (HTTP_OK);
	}
	if (x->defer_md5)
		return (HTTP_OK);
	if (x->oread_paused && x->up.len - x->up_off > 1) {
		x->want_resume_oread = 1;
		kick(x);
	}
	if (x->up.len - x->up_off >= UP_PAUSE) {
		x->client_paused = 1;
		return (HTTP_PAUSE);
	}
	return (HTTP_OK);
}

static void
h_body_end(struct http_conn *conn)
{
	struct xfer *x = http_conn_get_data(conn);
	enum s3sig_err e;

	CM_ASSERT(x != NULL && x->magic == XFER_MAGIC);
	e = s3sig_body_finish(x->body);
	if (e != S3SIG_OK) {
		fail_body(x, e);
		return;
	}
	x->body_ok = 1;
	if (x->defer_md5) {
		unsigned char md5[16];
		char b64[32];
		unsigned int n = 16;

		AN(EVP_Digest(x->up.p != NULL ? x->up.p + x->up_off : "", x->up.len - x->up_off,
		    md5, &n, EVP_md5(), NULL));
		(void)cm_base64_encode(b64, sizeof b64, md5, 16);
		if (build_origin(x, b64) != 0) {
			send_gw_error(x, GW_E_INVALID_REQUEST, "The request is too large to forward.");
			xfer_done(x, END_OK);
			return;
		}
	}
	if (x->oreq == NULL) {
		if (start_origin(x) != 0)
			xfer_done(x, END_OK);
		return;
	}
	if (x->oread_paused) {
		x->want_resume_oread = 1;
		kick(x);
	}
}

static void
h_drain(struct http_conn *conn)
{
	struct xfer *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == XFER_MAGIC);
	if (!x->owrite_paused || x->oreq == NULL)
		return;
	x->owrite_paused = 0;
	http_creq_resume_write(x->oreq);
}

static void
h_abort(struct http_conn *conn)
{
	struct xfer *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == XFER_MAGIC);
	snprintf(x->result, sizeof x->result, "aborted");
	if (x->status == 0)
		x->status = 499;	/* client closed first, as nginx logs it */
	xfer_done(x, END_NONE);
}

/* A request passed through to the origin (every kind but a cached read). */
static const struct http_req_ops pass_ops = {
	.name = "pass",
	.body = h_body,
	.body_end = h_body_end,
	.drain = h_drain,
	.abort = h_abort,
};

const struct http_server_ops gw_s3_ops = {
	.on_request = h_request,
	.error_doc = gw_err_http_doc,
};
