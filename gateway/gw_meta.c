/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_meta.c: the cached read's metadata (see gw_cache.c): a HEAD to the
 * origin (in a cluster, to the key's owners first, then the origin), what
 * is kept of its answer, and the origin's own errors relayed as they are.
 *
 * Threads: a cread's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "common/cm_log.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"

/* ---- Metadata from the origin's HEAD ---- */

static int
keep_header(struct cm_slice n, int *full_only)
{
	static const char *const names[] = {
		"content-type", "content-encoding", "content-disposition", "content-language",
		"cache-control", "expires", "x-amz-storage-class", "x-amz-server-side-encryption",
		"x-amz-server-side-encryption-aws-kms-key-id", "x-amz-website-redirect-location",
		"x-amz-version-id", "x-amz-tagging-count", "x-amz-object-lock-mode",
		"x-amz-object-lock-retain-until-date", "x-amz-replication-status",
	};
	size_t i;

	*full_only = 0;
	if (n.len > 11 && cm_slice_eq_nocase(cm_slice(n.p, 11), CM_SLICE_LIT("x-amz-meta-")))
		return (1);
	if (n.len > 15 && cm_slice_eq_nocase(cm_slice(n.p, 15), CM_SLICE_LIT("x-amz-checksum-"))) {
		*full_only = 1;
		return (1);
	}
	for (i = 0; i < CM_ARRAY_LEN(names); i++)
		if (cm_slice_eq_nocase(n, cm_slice_str(names[i])))
			return (1);
	return (0);
}

static int
meta_from_head(struct cread *x, const struct s3sig_hdr *hdrs, size_t n, struct cache_meta *m)
{
	struct cm_buf full;
	uint64_t v;
	size_t i;
	int have_len = 0, fo;

	memset(m, 0, sizeof *m);
	m->last_modified = -1;
	cm_buf_init(&full, CACHE_HDRS_MAX / 2);
	for (i = 0; i < n; i++) {
		char nb[256];
		struct cm_slice name = x->q.ctx->conf->origin.ops->resp_name(hdrs[i].name, nb, sizeof nb), val;

		val = cm_slice_trim(hdrs[i].value);
		if (cm_slice_eq_nocase(name, CM_SLICE_LIT("etag"))) {
			if (val.len == 0 || val.len >= sizeof m->etag)
				goto fail;
			memcpy(m->etag, val.p, val.len);
			m->etag[val.len] = '\0';
		} else if (cm_slice_eq_nocase(name, CM_SLICE_LIT("content-length"))) {
			if (cm_parse_u64(val, UINT64_MAX, &v) != 0)
				goto fail;
			m->size = v;
			have_len = 1;
		} else if (cm_slice_eq_nocase(name, CM_SLICE_LIT("last-modified"))) {
			time_t t;

			if (s3sig_parse_http_date(val, &t) == 0)
				m->last_modified = t;
		} else if (keep_header(name, &fo)) {
			char line[1024];
			int len = snprintf(line, sizeof line, "%.*s: %.*s\n", (int)name.len, name.p,
			    (int)val.len, val.p);

			if (len < 0 || (size_t)len >= sizeof line)
				continue;
			if (fo) {
				(void)cm_buf_add(&full, line, (size_t)len);
			} else if (m->hdrs_len + (size_t)len < sizeof m->hdrs / 2) {
				memcpy(m->hdrs + m->hdrs_len, line, (size_t)len);
				m->hdrs_len += (size_t)len;
			}
		}
	}
	if (m->etag[0] == '\0' || !have_len)
		goto fail;
	memcpy(m->hdrs + m->hdrs_len, full.p != NULL ? full.p : "", full.len);
	m->hdrs_full_len = m->hdrs_len + full.len;
	cm_buf_free(&full);
	return (0);
fail:
	cm_buf_free(&full);
	return (-1);
}



/* A HEAD's error: its x-amz-* headers (an OSS origin's under their S3
 * names) are kept for a client HEAD, which gets them and the status. */
static int
keep_error_headers(struct cread *x, const struct s3sig_hdr *hdrs, size_t n)
{
	size_t i;

	cm_buf_reset(&x->ehdrs);
	for (i = 0; i < n; i++) {
		char nb[256];
		struct cm_slice name = x->q.ctx->conf->origin.ops->resp_name(hdrs[i].name, nb, sizeof nb);

		if (name.len <= 6 || !cm_slice_eq_nocase(cm_slice(name.p, 6), CM_SLICE_LIT("x-amz-")))
			continue;
		if (cm_buf_add(&x->ehdrs, name.p, name.len) != 0 || cm_buf_addc(&x->ehdrs, '\0') != 0 ||
		    cm_buf_add(&x->ehdrs, hdrs[i].value.p, hdrs[i].value.len) != 0 ||
		    cm_buf_addc(&x->ehdrs, '\0') != 0)
			return (-1);
	}
	return (0);
}

/* A client HEAD: the origin's status and x-amz-* headers, no body (as S3
 * answers a HEAD), our request id when the origin gave none. */
static void
relay_head_error(struct cread *x)
{
	struct s3sig_hdr h[HTTP_MAX_HDRS];
	size_t n = 0, at = 0;
	int have_id = 0;

	while (at < x->ehdrs.len && n < CM_ARRAY_LEN(h) - 1) {
		size_t nl = strlen(x->ehdrs.p + at), vl = strlen(x->ehdrs.p + at + nl + 1);

		h[n].name = cm_slice(x->ehdrs.p + at, nl);
		h[n].value = cm_slice(x->ehdrs.p + at + nl + 1, vl);
		if (cm_slice_eq_nocase(h[n].name, CM_SLICE_LIT("x-amz-request-id")))
			have_id = 1;
		n++;
		at += nl + vl + 2;
	}
	if (!have_id)
		gw_cr_add_hdr(h, &n, "x-amz-request-id", cm_slice_str(x->q.req->id));
	x->q.status = x->head_status;
	x->q.result = "origin-error";
	http_conn_respond(x->q.conn, x->head_status, h, n, 0);
}

/*
 * A client GET whose HEAD failed: the origin is asked the same GET and its
 * answer goes to the client as it is, head and body (an S3 error document,
 * small: bounded here). Should the object have appeared in between (a 2xx
 * or 3xx), the client is told to retry: the cached path did not look at
 * that version.
 */
#define RELAY_MAX	(1024 * 1024)

static int
relay_on_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct cread *x = arg;
	struct s3sig_hdr out[HTTP_MAX_HDRS];
	char names[8192];
	size_t k;
	int64_t len = -1;
	int have_id = 0, have_region = 0;

	x->q.ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	if (status < 400) {
		x->q.result = "changed";
		return (HTTP_CLIENT_ABORT);
	}
	k = gw_relay_headers(x->q.ctx->conf, hdrs, n, out, CM_ARRAY_LEN(out) - 1, names, sizeof names,
	    RELAY_MAX, &len, &have_id, &have_region);
	if (!have_id)
		gw_cr_add_hdr(out, &k, "x-amz-request-id", cm_slice_str(x->q.req->id));
	x->q.status = status;
	x->q.result = "origin-error";
	http_conn_respond(x->q.conn, status, out, k, len);
	return (0);
}

static int
relay_on_data(void *arg, const char *p, size_t len)
{
	struct cread *x = arg;

	x->relay_bytes += len;
	if (x->relay_bytes > RELAY_MAX)
		return (HTTP_CLIENT_ABORT);	/* no error document is that large */
	GW_INC(&x->q.ctx->metrics, origin_bytes_in, len);
	if (http_conn_write(x->q.conn, p, len) == HTTP_ERROR)
		return (HTTP_CLIENT_ABORT);
	x->q.bytes_out += len;
	GW_INC(&x->q.ctx->metrics, bytes_out, len);
	return (0);
}

static ssize_t no_body(void *arg, char *buf, size_t max);

static void
relay_on_done(void *arg, const char *err)
{
	struct cread *x = arg;

	x->oreq = NULL;
	GW_INC(&x->q.ctx->metrics, origin_requests, 1);
	if (x->q.status == 0) {
		/* Unreachable, or the object is there after all. */
		int changed = x->q.result != NULL && strcmp(x->q.result, "changed") == 0;

		if (!changed)
			GW_INC(&x->q.ctx->metrics, origin_errors, 1);
		gw_cr_error(x, GW_E_ORIGIN_DOWN, !changed ? NULL : x->head_status >= 500 ?
		    "The origin failed; please retry." :
		    "The object changed while it was read; please retry.", NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
		return;
	}
	if (err != NULL) {
		GW_INC(&x->q.ctx->metrics, origin_errors, 1);
		x->q.result = "broken";
	}
	gw_cr_done(x, err == NULL);
}

static const struct http_creq_ops relay_ops = { relay_on_head, relay_on_data, no_body, relay_on_done };

static const struct http_creq_ops head_ops;

void
gw_cr_head_start(struct cread *x)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	gw_try_init(x, &x->head, GW_BLK_META);
	if (gw_cr_head_next(x) != 0) {
		gw_cr_error(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
	}
}

/* Sends the HEAD to the next target. 0, or -1 when none is left. */
int
gw_cr_head_next(struct cread *x)
{
	const struct origin_target *t = NULL;
	struct s3sig_hdr h[1];
	size_t n = 0;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (gw_try_next(&x->head, &t) != 0)
		return (-1);
	if (x->have_meta && !x->meta.partial) {
		h[0].name = CM_SLICE_LIT("If-None-Match");
		h[0].value = cm_slice_str(x->meta.etag);
		n = 1;
	}
	x->oreq = gw_cr_origin_request(x, t, "HEAD", h, n, &head_ops, x);
	return (x->oreq != NULL ? 0 : -1);
}

static int
head_on_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct cread *x = arg;
	struct cache_meta m;

	if (gw_try_head(&x->head, status))
		return (HTTP_CLIENT_ABORT);	/* an owner's 5xx: the next one */
	x->head_status = status;
	x->q.ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	gw_metrics_origin_latency(&x->q.ctx->metrics, x->q.ttfb_us);
	if (status == 304 && x->have_meta) {
		cache_meta_touch(x->store, x->q.bucket, cm_buf_slice(&x->mkey), x->meta.vid, cm_mono_ms());
		GW_INC(&x->q.ctx->metrics, revalidated_unchanged, 1);
		return (0);
	}
	if (status == 200 && meta_from_head(x, hdrs, n, &m) == 0) {
		cache_version_hash(x->q.bucket, cm_buf_slice(&x->mkey), m.etag, m.size, m.vhash);
		if (x->have_meta && strcmp(m.etag, x->meta.etag) != 0)
			GW_INC(&x->q.ctx->metrics, revalidated_changed, 1);
		cache_meta_put(x->store, x->q.bucket, cm_buf_slice(&x->mkey), &m, cm_mono_ms());
		memcpy(&x->meta, &m, CACHE_META_USED(&m));
		x->have_meta = 1;
		return (0);
	}
	/* Gone or unreadable at the origin: the cache forgets it. */
	cache_meta_invalidate(x->store, x->q.bucket, cm_buf_slice(&x->mkey));
	x->have_meta = 0;
	if (status != 200 && status != 304 && keep_error_headers(x, hdrs, n) != 0)
		return (HTTP_CLIENT_ABORT);
	return (0);
}

static int head_on_data(void *arg, const char *p, size_t len) { (void)arg; (void)p; (void)len; return (0); }
static ssize_t no_body(void *arg, char *buf, size_t max) { (void)arg; (void)buf; (void)max; return (0); }

static void
head_on_done(void *arg, const char *err)
{
	struct cread *x = arg;

	x->oreq = NULL;
	GW_INC(&x->q.ctx->metrics, origin_requests, 1);
	if (gw_try_failover(x, &x->head, err, "")) {
		if (gw_cr_head_next(x) == 0)
			return;
		err = "no target left";
	}
	if (err != NULL) {
		GW_INC(&x->q.ctx->metrics, origin_errors, 1);
		gw_cr_error(x, GW_E_ORIGIN_DOWN, NULL, NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
		return;
	}
	if (x->head_status != 200 && x->head_status != 304) {
		/* The origin's answer, in its own words. */
		if (x->q.req->head) {
			relay_head_error(x);
			gw_cr_done(x, 1);
			return;
		}
		x->oreq = gw_cr_origin_request(x, NULL, "GET", NULL, 0, &relay_ops, x);
		if (x->oreq == NULL) {
			gw_cr_error(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
			gw_cr_done(x, 1);
		}
		return;
	}
	if (!x->have_meta) {
		gw_cr_error(x, GW_E_ORIGIN_ODD, NULL, NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
		return;
	}
	gw_cr_evaluate(x);
}

static const struct http_creq_ops head_ops = { head_on_head, head_on_data, no_body, head_on_done };

/* An origin request of our own: method, and extra headers. */
struct http_creq *
gw_cr_origin_request(struct cread *x, const struct origin_target *t, const char *method,
    const struct s3sig_hdr *extra, size_t n, const struct http_creq_ops *ops, void *arg)
{
	struct http_req r;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	memset(&r, 0, sizeof r);
	r.method = cm_slice_str(method);
	r.path = x->q.req->path;
	r.query = cm_slice("", 0);
	if (n > 0)
		memcpy(r.hdrs, extra, n * sizeof *extra);
	r.nhdrs = n;
	memcpy(r.id, x->q.req->id, sizeof r.id);
	/* Only requests that go to the origin pay for the forward buffers. */
	if (x->fwd == NULL) {
		x->fwd = malloc(sizeof *x->fwd);
		if (x->fwd == NULL)
			return (NULL);
	} else {
		origin_req_fini(x->fwd);
	}
	origin_req_init(x->fwd);
	if (origin_req_build(x->fwd, t != NULL ? t : &x->q.ctx->conf->origin, r.method, r.query, r.hdrs,
	    r.nhdrs, x->q.bucket, x->q.rawkey, 0, NULL, time(NULL)) != 0)
		return (NULL);
	if (t != NULL && gw_worker_sign(x->fwd, x->q.ctx->conf, method) != 0)
		return (NULL);		/* a worker: the cluster's signature */
	/* The URL and headers are copied: one fwd serves every request. */
	return (http_creq_start_ex(x->q.ctx->origin, method, x->fwd->url.p, x->fwd->hdrs, x->fwd->n, -1,
	    t != NULL ? HTTP_CREQ_INTERNAL : 0, ops, arg));
}
