/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_s3.c: the S3 request handler on the data path: addressing, signature
 * verification, the pass-through to the origin re-signed with the origin's
 * credentials, a write's held answer, a worker's gate. What it shares with
 * the cached read (errors in S3's XML, the relayed headers, the one end of
 * a request: log line, counters, release) is gw_req.c's.
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
 *   origin done    -> a write: what it names is forgotten (the block
 *                     source's invalidate), the held answer sent from its
 *                     done; then gw_req_end: log line, counters, release,
 *                     response ended
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

static const struct http_req_ops pass_ops;	/* below */
static const struct gw_req_ops pass_req_ops;	/* below */

/* ---- Answers the gateway makes itself ---- */

static void
send_error(struct xfer *x, int status, const char *code, const char *msg, const char *region)
{
	struct gw_err_field f = { "Region", cm_slice_str(region != NULL ? region : "") };

	x->q.result = "refused";
	gw_req_error(&x->q, status, code, msg, &f,
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
		http_conn_resume(x->q.conn);	/* may feed body: on_body runs */
	}
}

static void
kick(struct xfer *x)
{
	struct timeval zero = { 0, 0 };

	evtimer_add(x->kick, &zero);
}

/* ---- Origin callbacks ---- */

static int
o_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct xfer *x = arg;
	struct s3sig_hdr out[MAX_OUT_HDRS];
	char names[16384];
	size_t i, k;
	int64_t len = -1;
	int have_id = 0, have_region = 0;

	x->q.status = status;
	x->q.ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	gw_metrics_origin_latency(&x->q.ctx->metrics, x->q.ttfb_us);
	k = gw_relay_headers(x->q.ctx->conf, hdrs, n, out, MAX_OUT_HDRS - 2, names, sizeof names,
	    INT64_MAX, &len, &have_id, &have_region);
	if (!have_id) {
		out[k].name = CM_SLICE_LIT("x-amz-request-id");
		out[k++].value = cm_slice_str(x->q.req->id);
	}
	/* Clients that probe a bucket's region read it from HEAD bucket. */
	if (x->head_bucket && !have_region && status < 300) {
		out[k].name = CM_SLICE_LIT("x-amz-bucket-region");
		out[k++].value = cm_slice_str(x->q.ctx->conf->region);
	}
	if (x->location && status == 200) {
		/* Clients sign for the region this answers: ours, not the
		 * origin's (an OSS origin would name its own). */
		char body[256];
		int blen = snprintf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">%s"
		    "</LocationConstraint>", strcmp(x->q.ctx->conf->region, "us-east-1") == 0 ? "" :
		    x->q.ctx->conf->region);

		for (i = 0, blen = blen < 0 ? 0 : blen; i < k; i++)
			if (cm_slice_eq_nocase(out[i].name, CM_SLICE_LIT("content-type")))
				out[i].value = CM_SLICE_LIT("application/xml");
		http_conn_respond(x->q.conn, status, out, k, blen);
		(void)http_conn_write(x->q.conn, body, (size_t)blen);
		x->q.bytes_out += (uint64_t)blen;
		return (0);
	}
	x->location = 0;
	if (x->q.req->head && len < 0)
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
	http_conn_respond(x->q.conn, status, out, k, len);
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
		GW_INC(&x->q.ctx->metrics, origin_bytes_in, len);
		/* A write's answer is small XML at most; bounded here. */
		return (cm_buf_add(&x->held_body, p, len) == 0 ? 0 : HTTP_CLIENT_ABORT);
	}
	if (http_conn_out_pending(x->q.conn) > 1024 * 1024) {
		x->owrite_paused = 1;
		return (HTTP_CLIENT_PAUSE);
	}
	GW_INC(&x->q.ctx->metrics, origin_bytes_in, len);
	rc = http_conn_write(x->q.conn, p, len);
	if (rc == HTTP_ERROR)
		return (HTTP_CLIENT_ABORT);
	x->q.bytes_out += len;
	GW_INC(&x->q.ctx->metrics, bytes_out, len);
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
	http_conn_respond(x->q.conn, x->q.status, h, n, (int64_t)x->held_body.len);
	if (x->held_body.len > 0 && http_conn_write(x->q.conn, x->held_body.p, x->held_body.len) != HTTP_ERROR) {
		x->q.bytes_out += x->held_body.len;
		GW_INC(&x->q.ctx->metrics, bytes_out, x->held_body.len);
	}
	gw_req_end(&x->q, GW_END_OK);
}

/* The write's invalidation is done (gw_inval_done_f): the held answer,
 * or, when no cache's forgetting could be made sure of, a 503 that says
 * the write went through (the origin's answer is not relayed: it would
 * tell the client that every read now sees the write). */
static void
held_forgotten(void *arg, int confirmed)
{
	struct xfer *x = arg;

	CM_ASSERT(x->magic == XFER_MAGIC);
	x->inval = NULL;
	if (!confirmed) {
		CM_LOGW("req=%s the write went through, but its invalidation could not be confirmed: "
		    "answered 503", x->q.req->id);
		x->q.status = 0;
		send_gw_error(x, GW_E_UNCONFIRMED, NULL);
		gw_req_end(&x->q, GW_END_OK);
		return;
	}
	release_held(x);
}

/*
 * A write's end: what it names is forgotten before the client hears back.
 * Gone through (the origin's 2xx): by the block source's invalidate,
 * whatever the role, and the held answer is sent from its done: the client
 * hears back once every cache that could serve the old bytes has forgotten
 * them. Refused (it changed nothing) or failed (it may have gone through):
 * this process's store forgets at once, the owners are not asked. 1 when
 * done answers (x is the invalidation's, or gone), 0 when the caller goes on.
 */
static int
write_forget(struct xfer *x, int through)
{
	const struct gw_blksrc *s = &x->q.ctx->conf->src;
	struct gw_forget f;
	struct cm_buf keys;
	struct gw_inval *v = NULL;

	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	cm_buf_init(&keys, GW_FORGET_KEYS_MAX);
	gw_forget_of_write(&f, &keys, x->q.op, x->q.bucket, x->q.rawkey,
	    x->del_overflow ? NULL : &x->delbody, x->q.req->id);
	if (through)
		v = s->ops->invalidate(s, x->q.ctx, &f, held_forgotten, x);
	else
		gw_cache_forget(x->q.ctx->conf->cache, &f);
	cm_buf_free(&keys);
	if (v != NULL)
		x->inval = v;	/* else done was called: x is gone */
	return (through);
}

static void
o_done(void *arg, const char *err)
{
	struct xfer *x = arg;

	x->oreq = NULL;
	GW_INC(&x->q.ctx->metrics, origin_requests, 1);
	if (x->hold && write_forget(x, err == NULL && x->q.status < 300))
		return;
	if (x->hold && err == NULL) {
		release_held(x);
		return;
	}
	if (err != NULL) {
		GW_INC(&x->q.ctx->metrics, origin_errors, 1);
		CM_LOGW("req=%s origin failed: %s", x->q.req->id, err);
		if (x->q.status == 0) {
			send_gw_error(x, GW_E_ORIGIN_DOWN, NULL);
			gw_req_end(&x->q, GW_END_OK);
		} else {
			x->q.result = "broken";
			gw_req_end(&x->q, GW_END_FAIL);
		}
		return;
	}
	gw_req_end(&x->q, GW_END_OK);
}

static const struct http_creq_ops oreq_ops = { o_head, o_data, o_read, o_done };

/* ---- Building the origin request ---- */

static int
build_origin(struct xfer *x, const char *content_md5)
{
	const struct http_req *r = x->q.req;

	return (origin_req_build(&x->fwd, &x->q.ctx->conf->origin, r->method, r->query, r->hdrs,
	    r->nhdrs, x->q.bucket, x->q.rawkey, x->dechunk, content_md5, time(NULL)));
}

static int
start_origin(struct xfer *x)
{
	char method[16];

	snprintf(method, sizeof method, "%.*s", (int)x->q.req->method.len, x->q.req->method.p);
	x->oreq = http_creq_start(x->q.ctx->origin, method, x->fwd.url.p, x->fwd.hdrs, x->fwd.n,
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
	if (x->oreq != NULL)
		http_creq_cancel(&x->oreq);
	if (x->inval != NULL)
		gw_inval_cancel(&x->inval);	/* the client went away first */
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

/* The pass-through's own part of its end (gw_req_end). */
static void
pass_fini(struct gw_req *q)
{
	struct xfer *x = GW_REQ_OF(struct xfer, q);

	CM_ASSERT(x->magic == XFER_MAGIC);
	xfer_free(x);
}

static const struct gw_req_ops pass_req_ops = {
	.name = "pass",
	.result = "pass",
	.per_bucket = 0,
	.fini = pass_fini,
};

/* Decoded upload bytes from the body checker. */
static int
up_sink(void *arg, const char *p, size_t len)
{
	struct xfer *x = arg;

	if (x->q.op == GW_OP_DeleteObjects && !x->del_overflow &&
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
	CM_LOGI("req=%s body refused: %s", x->q.req->id, s3sig_err_name(e));
	if (x->oreq != NULL)
		http_creq_cancel(&x->oreq);
	send_error(x, s3sig_err_status(e), s3sig_err_code(e), s3sig_err_message(e), NULL);
	gw_req_end(&x->q, GW_END_OK);
}




/* A worker forgot what a gateway's invalidation names (gw_inval_done_f):
 * 204, with the ring's epoch as the master last told this worker (a
 * gateway whose ring is older learns that it lags: gw_inval.c). */
static void
worker_forgotten(void *arg, int confirmed)
{
	struct xfer *x = arg;
	struct s3sig_hdr h[1];
	char epoch[24];

	CM_ASSERT(x->magic == XFER_MAGIC);
	(void)confirmed;	/* the local store: always */
	x->inval = NULL;
	x->q.status = 204;
	x->q.result = "invalidated";
	snprintf(epoch, sizeof epoch, "%llu",
	    (unsigned long long)gw_blksrc_epoch(&x->q.ctx->conf->src));
	h[0].name = CM_SLICE_LIT(GW_EPOCH_HDR);
	h[0].value = cm_slice_str(epoch);
	http_conn_respond(x->q.conn, 204, h, 1, 0);
	gw_req_end(&x->q, GW_END_OK);
}

/* What a worker takes: a gateway's block read or metadata HEAD (a GET or
 * HEAD of an object the cache serves), or a gateway's invalidation (a
 * DELETE marked GW_INVALIDATE_HDR). */
static int
worker_accepts(const struct xfer *x, const struct http_req *r, struct cm_slice key)
{
	if ((x->q.op == GW_OP_GetObject || x->q.op == GW_OP_HeadObject) && key.len > 0 &&
	    gw_s3_cacheable(r))
		return (1);
	return ((x->q.op == GW_OP_DeleteObject || x->q.op == GW_OP_DeleteBucket) &&
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
	gw_req_init(&x->q, &pass_req_ops, ctx, conn, r);
	x->origin_len = -1;
	cm_buf_init(&x->up, UP_MAX);
	cm_buf_init(&x->held, 64 * 1024);
	cm_buf_init(&x->held_body, HELD_BODY_MAX);
	cm_buf_init(&x->delbody, DEL_BODY_MAX);
	origin_req_init(&x->fwd);
	x->kick = evtimer_new(ctx->base, on_kick, x);
	http_conn_set_req(conn, &pass_ops, x);
	if (x->kick == NULL) {
		send_gw_error(x, GW_E_INTERNAL, NULL);
		gw_req_end(&x->q, GW_END_OK);
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
				x->q.op = gw_s3_classify(r->method, r->query, bucket.len > 0,
				    key.len > 0, http_req_hdr(r, "x-amz-copy-source") != NULL);
				if (!worker_accepts(x, r, key)) {
					send_gw_error(x, GW_E_WORKER_ONLY, NULL);
					gw_req_end(&x->q, GW_END_OK);
					return (HTTP_OK);
				}
			}
			/* Too many nonces held to take one more: not the
			 * gateway's fault; a 5xx makes it ask the next owner. */
			send_gw_error(x, a == CLU_AUTH_BUSY ? GW_E_SLOW_DOWN : GW_E_CLUSTER_AUTH,
			    NULL);
			gw_req_end(&x->q, GW_END_OK);
			return (HTTP_OK);
		}
	}
	if (host == NULL || gw_s3_address(gc->cfg->virtual_host_domain, host->value, r->path,
	    &bucket, &key, &vhost) != 0) {
		send_gw_error(x, GW_E_INVALID_REQUEST,
		    "A Host header and an absolute path are required.");
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	x->q.bucket = bucket;
	x->q.rawkey = key;
	x->q.op = gw_s3_classify(r->method, r->query, bucket.len > 0, key.len > 0,
	    http_req_hdr(r, "x-amz-copy-source") != NULL);
	x->head_bucket = x->q.op == GW_OP_HeadBucket;
	x->location = x->q.op == GW_OP_GetBucketLocation;

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
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	if (bucket.len > 0 && !cm_s3_bucket_valid(bucket, CM_S3_BUCKET_LEGACY)) {
		send_gw_error(x, GW_E_BAD_BUCKET_NAME, NULL);
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	/* A worker serves block reads and takes invalidations, from gateways
	 * only: a client's write sent to it must not be answered as if it
	 * had gone through (it would be thrown away). */
	if (gc->worker && !worker_accepts(x, r, key)) {
		send_gw_error(x, GW_E_WORKER_ONLY, NULL);
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	if (gc->worker && gw_s3_is_write(x->q.op)) {
		/* A gateway tells us a write went through: the worker's block
		 * source forgets (its store, at once), then we answer. */
		struct gw_forget f;
		struct gw_inval *v;

		gw_forget_of_write(&f, NULL, x->q.op, bucket, vhost ? cm_slice(r->path.p + 1,
		    r->path.len - 1) : key, NULL, r->id);
		v = gc->src.ops->invalidate(&gc->src, ctx, &f, worker_forgotten, x);
		if (v != NULL)
			x->inval = v;	/* else done was called: x is gone */
		return (HTTP_OK);
	}
	x->hold = gw_s3_is_write(x->q.op);
	if (x->hold) {
		char why[128];

		if (!gc->src.ops->writable(&gc->src, why, sizeof why)) {
			CM_LOGI("req=%s write refused before the origin: %s", r->id, why);
			GW_INC(&ctx->metrics, writes_no_ring, 1);
			send_gw_error(x, GW_E_NO_RING, NULL);
			gw_req_end(&x->q, GW_END_OK);
			return (HTTP_OK);
		}
	}
	if (gc->cache != NULL && (x->q.op == GW_OP_GetObject || x->q.op == GW_OP_HeadObject) &&
	    key.len > 0 && gw_s3_cacheable(r)) {
		enum gw_op op = x->q.op;

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
			gw_req_end(&x->q, GW_END_OK);
			return (HTTP_OK);
		}
		x->origin_len = auth.decoded_length;
	} else if (r->content_length >= 0) {
		x->origin_len = r->content_length;
	} else if (r->chunked) {
		send_gw_error(x, GW_E_NO_LENGTH, NULL);
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	if (x->origin_len > (int64_t)MAX_PUT) {
		send_gw_error(x, GW_E_TOO_LARGE, NULL);
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	if (x->origin_len < 0 && (cm_slice_eq(r->method, "PUT") || cm_slice_eq(r->method, "POST")))
		x->origin_len = 0;
	if (x->origin_len == 0 && !cm_slice_eq(r->method, "PUT") && !cm_slice_eq(r->method, "POST"))
		x->origin_len = -1;

	x->dechunk = dechunk;
	/* OSS refuses DeleteObjects without Content-MD5, which current SDKs no
	 * longer send: the (small) body is collected and hashed first. */
	x->defer_md5 = gc->origin.ops->delete_needs_md5 && x->q.op == GW_OP_DeleteObjects &&
	    http_req_hdr(r, "content-md5") == NULL;
	if (x->defer_md5)
		return (HTTP_OK);
	if (build_origin(x, NULL) != 0) {
		send_gw_error(x, GW_E_INVALID_REQUEST, "The request is too large to forward.");
		gw_req_end(&x->q, GW_END_OK);
		return (HTTP_OK);
	}
	/* With a body, stream it; without, start once the (empty) body has
	 * verified in on_body_end. */
	if ((r->content_length > 0 || r->chunked) && start_origin(x) != 0) {
		gw_req_end(&x->q, GW_END_OK);
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
	x->q.bytes_in += len;
	GW_INC(&x->q.ctx->metrics, bytes_in, len);
	e = s3sig_body_feed(x->body, p, len, up_sink, x);
	if (e == S3SIG_SINK_STOPPED && x->defer_md5) {
		x->body_err = e;
		send_gw_error(x, GW_E_MALFORMED_XML, "The XML you provided was too large "
		    "(DeleteObjects takes at most 1000 keys).");
		gw_req_end(&x->q, GW_END_OK);
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
			gw_req_end(&x->q, GW_END_OK);
			return;
		}
	}
	if (x->oreq == NULL) {
		if (start_origin(x) != 0)
			gw_req_end(&x->q, GW_END_OK);
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
	gw_req_abort(&x->q);
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
