/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_cache.c: GET and HEAD answered from the block cache (serve role).
 *
 *   META  the object's metadata from the cache; when unknown or older
 *         than --freshness, a HEAD to the origin (If-None-Match when a
 *         version is known: 304 keeps it, 200 replaces it). Any other
 *         answer is the origin's to give: a client HEAD gets its status
 *         and x-amz-* headers (a HEAD error has no body), a client GET
 *         the origin's answer to the same GET (RELAY), with its own
 *         <Code> and <Message> (NoSuchBucket, AccessDenied...)
 *   RELAY that GET's head and (small) body passed to the client
 *   EVAL  S3's conditionals and Range on that metadata (cache_range):
 *         304, 412, 416 answered here; else the head of a 200/206
 *   SEND  block after block: a block in the cache (or being filled by
 *         another request) is read as its bytes land; a missing one is
 *         filled from the origin with Range and If-Match: ETag, so that
 *         every block of one answer is of one version. A block that fails
 *         (origin error, object changed) fails the answer: the client sees
 *         a cut connection, never mixed bytes.
 *
 * Threads: a cread lives on its connection's loop; blocks are shared with
 * other loops through cache_store (see cache.h), which wakes this loop's
 * 'wake' event when a block another loop fills makes progress.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "cluster/ring.h"
#include "gateway/gw_cluster.h"
#include "common/cm_log.h"
#include "gateway/gw_delete.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"

enum cstate { S_META, S_SEND };

#define READAHEAD_MAX	64
#define RUN_MAX		16
#define OWN_BITS	128	/* > READAHEAD_MAX + RUN_MAX */

struct cread;

/* A block this read asked the disk tier's I/O thread for. Its completion
 * comes back on the read's loop (gw_cache_disk_done); a read that goes
 * away first leaves it behind with x = NULL. */
struct dwait {
	struct cache_io_req	r;		/* first: the completion hands back &r */
	struct cread		*x;		/* NULL: the read went away */
	struct dwait		*xnext;		/* x->dwaits */
	int			main;		/* x->blk waits on it */
};

/*
 * A run of consecutive missing blocks filled by one ranged GET: the block a
 * read needs now and the ones after it, or blocks further ahead
 * (readahead). Holds a reference on each block until it is finished.
 */
struct fill {
	struct cread		*x;
	struct http_creq		*oreq;		/* NULL: this slot is free */
	struct cache_blk	*blks[RUN_MAX];
	size_t			nblk;
	size_t			cur;		/* blks[cur] is being appended to */
	uint64_t		idx;		/* of blks[0] */
	uint64_t		start;		/* its first byte in the object */
	uint64_t		skip;		/* bytes of the origin's body to skip */
	/* Cluster gateway: the owners to try in order, then the origin. */
	struct gw_target	*targets;
	size_t			ntargets;
	size_t			tried;		/* targets[tried - 1] is asked now */
	int			retry;		/* the worker failed: ask the next */
};

struct cread {
	unsigned		magic;
#define CREAD_MAGIC		0xc4ead001
	struct gw_ctx		*ctx;
	struct cache_store	*store;
	struct http_conn		*conn;
	struct http_req		*req;
	enum gw_op		op;
	struct cm_slice		bucket;
	struct cm_slice		rawkey;
	struct cm_buf		mkey;		/* the key as the cache knows it */
	struct cache_meta	meta;
	int			have_meta;
	enum cstate		state;
	struct http_creq		*oreq;		/* the HEAD */
	struct gw_target	*htargets;	/* cluster gateway: the HEAD's owners */
	size_t			nhtargets;
	size_t			htried;
	int			hretry;
	struct origin_req		*fwd;		/* made when the origin is asked */
	struct cm_buf		ehdrs;		/* a HEAD's error: its x-amz-* headers,
						 * "name\0value\0" pairs */
	uint64_t		relay_bytes;	/* of the origin's error body */
	struct event		*wake;		/* block progress, or a fill's end */
	/* The answer's bytes: [pos, end) of the object. */
	uint64_t		pos;
	uint64_t		end;
	struct cache_blk	*blk;		/* the block being read */
	uint64_t		bidx;
	int			waiting;	/* on blk's progress */
	/* Fills of this read (made on its first miss); at most 'window'. */
	struct fill		*fills;
	size_t			window;		/* blocks */
	size_t			nslots;
	size_t			nfills;
	size_t			inflight;	/* blocks held by fills */
	uint64_t		ahead;		/* next block readahead looks at */
	int			paused;		/* client output full */
	int			from_disk;	/* blk came from the disk tier */
	int			disk_wait;	/* blk is being read by the I/O thread */
	struct dwait		*dwaits;	/* this read's disk reads in flight */
	int			blk_filled;	/* blk was missing: one of our fills */
	int			status;
	int			head_status;
	uint64_t		bytes_out;
	uint64_t		origin_bytes;
	uint64_t		blk_hits;	/* blocks this answer read cached */
	uint64_t		blk_misses;	/* blocks its fills fetched from the origin */
	uint64_t		worker_bytes;	/* cluster gateway: bytes from workers */
	/* Blocks this read's fills opened and it has not read yet, by index
	 * mod OWN_BITS (fills never reach OWN_BITS blocks past the reader). */
	uint64_t		own[2];
	uint64_t		ttfb_us;
	const char		*result;
};

static void send_more(struct cread *x);
static void cread_done(struct cread *x, int ok);
static int fill_run(struct cread *x, uint64_t idx, struct cache_blk *b, size_t max);
static size_t run_room(const struct cread *x);
static int fills_init(struct cread *x);
#define CACHE_DISK	2	/* block_open: asked of the I/O thread */
static const struct http_req_ops cread_ops;	/* below */

/* ---- Answers made here ---- */

static void
add_hdr(struct s3sig_hdr *h, size_t *n, const char *name, struct cm_slice v)
{
	h[*n].name = cm_slice_str(name);
	h[*n].value = v;
	(*n)++;
}

/* One of the gateway's own errors (gw_err_tbl.h); msg NULL: the table's. */
static void
error_answer(struct cread *x, enum gw_err e, const char *msg, const struct gw_err_field *f,
    size_t nf, const struct s3sig_hdr *h, size_t nh)
{
	x->status = gw_err_status(e);
	gw_s3_error(x->ctx, x->conn, x->req, x->status, gw_err_code(e),
	    msg != NULL ? msg : gw_err_message(e), f, nf, h, nh);
}

/* Parses the replay headers of the metadata into h. */
static size_t
replay_hdrs(const struct cache_meta *m, size_t upto, struct s3sig_hdr *h, size_t max)
{
	size_t i = 0, n = 0;

	while (i < upto && n < max) {
		const char *line = m->hdrs + i, *eol = memchr(line, '\n', upto - i), *colon;

		if (eol == NULL)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon != NULL) {
			h[n].name = cm_slice(line, (size_t)(colon - line));
			h[n].value = cm_slice_trim(cm_slice(colon + 1, (size_t)(eol - colon - 1)));
			n++;
		}
		i = (size_t)(eol - m->hdrs) + 1;
	}
	return (n);
}

/* The head of a 200/206/304 from the metadata. */
static void
object_head(struct cread *x, int status, uint64_t first, uint64_t last, int64_t clen)
{
	struct s3sig_hdr h[HTTP_MAX_HDRS];
	char lm[40], cr[96];
	size_t n = 0;
	struct tm tm;
	const struct cache_meta *m = &x->meta;

	add_hdr(h, &n, "x-amz-request-id", cm_slice_str(x->req->id));
	add_hdr(h, &n, "ETag", cm_slice_str(m->etag));
	if (m->last_modified >= 0 && gmtime_r(&m->last_modified, &tm) != NULL &&
	    strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		add_hdr(h, &n, "Last-Modified", cm_slice_str(lm));
	add_hdr(h, &n, "Accept-Ranges", CM_SLICE_LIT("bytes"));
	if (status == 206) {
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)m->size);
		add_hdr(h, &n, "Content-Range", cm_slice_str(cr));
	}
	/* Whole-object checksums only on whole-object answers. */
	n += replay_hdrs(m, status == 200 ? m->hdrs_full_len : m->hdrs_len, h + n,
	    CM_ARRAY_LEN(h) - n);
	x->status = status;
	http_conn_respond(x->conn, status, h, n, clen);
}

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
		struct cm_slice name = x->ctx->conf->origin.ops->resp_name(hdrs[i].name, nb, sizeof nb), val;

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

static void evaluate(struct cread *x);

/* Whether a response header is the connection's, not the answer's. */
static int
hop_by_hop(struct cm_slice n)
{
	static const char *const names[] = {
		"connection", "keep-alive", "proxy-connection", "transfer-encoding",
		"content-length", "date", "server", "te", "trailer", "upgrade",
	};
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(names); i++)
		if (cm_slice_eq_nocase(n, cm_slice_str(names[i])))
			return (1);
	return (0);
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
		struct cm_slice name = x->ctx->conf->origin.ops->resp_name(hdrs[i].name, nb, sizeof nb);

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
		add_hdr(h, &n, "x-amz-request-id", cm_slice_str(x->req->id));
	x->status = x->head_status;
	x->result = "origin-error";
	http_conn_respond(x->conn, x->head_status, h, n, 0);
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
	size_t i, k = 0, nused = 0;
	int64_t len = -1;
	uint64_t v;
	int have_id = 0;

	x->ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	if (status < 400) {
		x->result = "changed";
		return (HTTP_CLIENT_ABORT);
	}
	for (i = 0; i < n && k < CM_ARRAY_LEN(out) - 1; i++) {
		if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("content-length"))) {
			if (cm_parse_u64(cm_slice_trim(hdrs[i].value), RELAY_MAX, &v) == 0)
				len = (int64_t)v;
			continue;
		}
		if (hop_by_hop(hdrs[i].name))
			continue;
		out[k].name = x->ctx->conf->origin.ops->resp_name(hdrs[i].name, names + nused,
		    sizeof names - nused);
		if (out[k].name.p == names + nused)
			nused += out[k].name.len;
		out[k].value = hdrs[i].value;
		if (cm_slice_eq_nocase(out[k].name, CM_SLICE_LIT("x-amz-request-id")))
			have_id = 1;
		k++;
	}
	if (!have_id)
		add_hdr(out, &k, "x-amz-request-id", cm_slice_str(x->req->id));
	x->status = status;
	x->result = "origin-error";
	http_conn_respond(x->conn, status, out, k, len);
	return (0);
}

static int
relay_on_data(void *arg, const char *p, size_t len)
{
	struct cread *x = arg;

	x->relay_bytes += len;
	if (x->relay_bytes > RELAY_MAX)
		return (HTTP_CLIENT_ABORT);	/* no error document is that large */
	GW_INC(&x->ctx->metrics, origin_bytes_in, len);
	if (http_conn_write(x->conn, p, len) == HTTP_ERROR)
		return (HTTP_CLIENT_ABORT);
	x->bytes_out += len;
	GW_INC(&x->ctx->metrics, bytes_out, len);
	return (0);
}

static ssize_t no_body(void *arg, char *buf, size_t max);

static void
relay_on_done(void *arg, const char *err)
{
	struct cread *x = arg;

	x->oreq = NULL;
	GW_INC(&x->ctx->metrics, origin_requests, 1);
	if (x->status == 0) {
		/* Unreachable, or the object is there after all. */
		int changed = x->result != NULL && strcmp(x->result, "changed") == 0;

		if (!changed)
			GW_INC(&x->ctx->metrics, origin_errors, 1);
		error_answer(x, GW_E_ORIGIN_DOWN, !changed ? NULL : x->head_status >= 500 ?
		    "The origin failed; please retry." :
		    "The object changed while it was read; please retry.", NULL, 0, NULL, 0);
		cread_done(x, 1);
		return;
	}
	if (err != NULL) {
		GW_INC(&x->ctx->metrics, origin_errors, 1);
		x->result = "broken";
	}
	cread_done(x, err == NULL);
}

static const struct http_creq_ops relay_ops = { relay_on_head, relay_on_data, no_body, relay_on_done };

/* A cluster gateway asks the workers that own the object's metadata, best
 * first, then the origin itself. */
static int
cluster_gateway(const struct cread *x)
{
	return (x->ctx->conf->cluster != NULL && !x->ctx->conf->worker);
}

static const struct http_creq_ops head_ops;
static struct http_creq *origin_request(struct cread *x, const struct gw_target *t,
    const char *method, const struct s3sig_hdr *extra, size_t n, const struct http_creq_ops *ops,
    void *arg);

/* Sends the HEAD to the next target. 0, or -1 when none is left. */
static int
head_next(struct cread *x)
{
	const struct gw_target *t = NULL;
	struct s3sig_hdr h[1];
	size_t n = 0;

	if (x->htried < x->nhtargets)
		t = &x->htargets[x->htried];
	else if (x->htried > x->nhtargets)
		return (-1);
	x->htried++;
	if (x->have_meta && !x->meta.partial) {
		h[0].name = CM_SLICE_LIT("If-None-Match");
		h[0].value = cm_slice_str(x->meta.etag);
		n = 1;
	}
	x->oreq = origin_request(x, t, "HEAD", h, n, &head_ops, x);
	return (x->oreq != NULL ? 0 : -1);
}

/* Whether the request in flight goes to a worker (not the origin). */
#define ASKING_WORKER(tried, ntargets)	((tried) > 0 && (tried) <= (ntargets))

static int
head_on_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct cread *x = arg;
	struct cache_meta m;

	if (status >= 500 && ASKING_WORKER(x->htried, x->nhtargets)) {
		x->hretry = 1;		/* that worker is in trouble: the next one */
		return (HTTP_CLIENT_ABORT);
	}
	x->head_status = status;
	x->ttfb_us = x->oreq != NULL ? http_creq_ttfb_us(x->oreq) : 0;
	gw_metrics_origin_latency(&x->ctx->metrics, x->ttfb_us);
	if (status == 304 && x->have_meta) {
		cache_meta_touch(x->store, x->bucket, cm_buf_slice(&x->mkey), x->meta.vid, cm_mono_ms());
		GW_INC(&x->ctx->metrics, revalidated_unchanged, 1);
		return (0);
	}
	if (status == 200 && meta_from_head(x, hdrs, n, &m) == 0) {
		cache_disk_version_hash(x->bucket, cm_buf_slice(&x->mkey), m.etag, m.size, m.vhash);
		if (x->have_meta && strcmp(m.etag, x->meta.etag) != 0)
			GW_INC(&x->ctx->metrics, revalidated_changed, 1);
		cache_meta_put(x->store, x->bucket, cm_buf_slice(&x->mkey), &m, cm_mono_ms());
		memcpy(&x->meta, &m, CACHE_META_USED(&m));
		x->have_meta = 1;
		return (0);
	}
	/* Gone or unreadable at the origin: the cache forgets it. */
	cache_meta_invalidate(x->store, x->bucket, cm_buf_slice(&x->mkey));
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
	GW_INC(&x->ctx->metrics, origin_requests, 1);
	if ((err != NULL || x->hretry) && ASKING_WORKER(x->htried, x->nhtargets)) {
		CM_LOGI("req=%s worker %s failed (%s): asking the next", x->req->id,
		    x->htargets[x->htried - 1].host, err != NULL ? err : "server error");
		if (err != NULL)
			gw_cluster_suspect(x->ctx->conf->cluster, x->htargets[x->htried - 1].host);
		GW_INC(&x->ctx->metrics, worker_failovers, 1);
		x->hretry = 0;
		if (head_next(x) == 0)
			return;
		err = "no target left";
	}
	if (err != NULL) {
		GW_INC(&x->ctx->metrics, origin_errors, 1);
		error_answer(x, GW_E_ORIGIN_DOWN, NULL, NULL, 0, NULL, 0);
		cread_done(x, 1);
		return;
	}
	if (x->head_status != 200 && x->head_status != 304) {
		/* The origin's answer, in its own words. */
		if (x->req->head) {
			relay_head_error(x);
			cread_done(x, 1);
			return;
		}
		x->oreq = origin_request(x, NULL, "GET", NULL, 0, &relay_ops, x);
		if (x->oreq == NULL) {
			error_answer(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
			cread_done(x, 1);
		}
		return;
	}
	if (!x->have_meta) {
		error_answer(x, GW_E_ORIGIN_ODD, NULL, NULL, 0, NULL, 0);
		cread_done(x, 1);
		return;
	}
	evaluate(x);
}

static const struct http_creq_ops head_ops = { head_on_head, head_on_data, no_body, head_on_done };

/* An origin request of our own: method, and extra headers. */
static struct http_creq *
origin_request(struct cread *x, const struct gw_target *t, const char *method,
    const struct s3sig_hdr *extra, size_t n, const struct http_creq_ops *ops, void *arg)
{
	struct http_req r;

	memset(&r, 0, sizeof r);
	r.method = cm_slice_str(method);
	r.path = x->req->path;
	r.query = cm_slice("", 0);
	if (n > 0)
		memcpy(r.hdrs, extra, n * sizeof *extra);
	r.nhdrs = n;
	memcpy(r.id, x->req->id, sizeof r.id);
	/* Only requests that go to the origin pay for the forward buffers. */
	if (x->fwd == NULL) {
		x->fwd = malloc(sizeof *x->fwd);
		if (x->fwd == NULL)
			return (NULL);
	} else {
		origin_req_fini(x->fwd);
	}
	origin_req_init(x->fwd);
	if (origin_req_build(x->fwd, t != NULL ? t : &x->ctx->conf->origin, r.method, r.query, r.hdrs,
	    r.nhdrs, x->bucket, x->rawkey, 0, NULL, time(NULL)) != 0)
		return (NULL);
	/* The URL and headers are copied: one fwd serves every request. */
	return (http_creq_start_ex(x->ctx->origin, method, x->fwd->url.p, x->fwd->hdrs, x->fwd->n, -1,
	    t != NULL ? HTTP_CREQ_INTERNAL : 0, ops, arg));
}

/* ---- Filling blocks from the origin ---- */

/*
 * A fill's callbacks run inside libcurl: they never end the read there
 * (that would free the transfer under curl's feet) but make 'wake' active,
 * and the loop calls send_more next.
 */
static void
kick(struct cread *x)
{
	event_active(x->wake, EV_READ, 0);
}

static int
fill_on_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct fill *f = arg;
	struct cread *x = f->x;
	size_t i;
	uint64_t start = 0;
	int etag_ok = 0;

	if (status >= 500 && ASKING_WORKER(f->tried, f->ntargets)) {
		f->retry = 1;		/* that worker is in trouble: the next one */
		return (HTTP_CLIENT_ABORT);
	}
	if (f->idx == x->bidx || x->ttfb_us == 0)
		x->ttfb_us = http_creq_ttfb_us(f->oreq);
	gw_metrics_origin_latency(&x->ctx->metrics, http_creq_ttfb_us(f->oreq));
	for (i = 0; i < n; i++) {
		struct cm_slice v = cm_slice_trim(hdrs[i].value);

		if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("etag")))
			etag_ok = cm_slice_eq(v, x->meta.etag);
		else if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("content-range")) &&
		    v.len > 6 && memcmp(v.p, "bytes ", 6) == 0) {
			struct cm_slice a, rest = cm_slice_cut(cm_slice(v.p + 6, v.len - 6), '-', &a);

			if (rest.p == NULL || cm_parse_u64(a, UINT64_MAX, &start) != 0)
				return (HTTP_CLIENT_ABORT);
		}
	}
	if (!etag_ok || (status != 200 && status != 206)) {
		/* Changed under us (412 to If-Match, another ETag) or failing. */
		CM_LOGI("req=%s block %llu: origin answered %d%s", x->req->id,
		    (unsigned long long)f->idx, status, etag_ok ? "" : " with another version");
		cache_meta_invalidate(x->store, x->bucket, cm_buf_slice(&x->mkey));
		return (HTTP_CLIENT_ABORT);
	}
	/* An origin that ignores Range answers 200 with the whole object. */
	f->skip = status == 200 ? f->start : (start == f->start ? 0 : UINT64_MAX);
	return (f->skip == UINT64_MAX ? HTTP_CLIENT_ABORT : 0);
}

/* The run's current block is whole (ok) or never will be: handed to its
 * readers, and queued for the disk tier (written behind the loop; a block
 * not written only costs a later refetch). */
static void
fill_finish_block(struct fill *f, int ok)
{
	struct cread *x = f->x;
	struct cache_blk *b = f->blks[f->cur];

	cache_blk_finish(x->store, b, ok);
	/* A miss is a block fetched from the origin; on a cluster gateway a
	 * block from a worker is the worker's to count. */
	if (ok && ASKING_WORKER(f->tried, f->ntargets)) {
		GW_INC(&x->ctx->metrics, blk_fill_worker, 1);
	} else if (ok) {
		GW_INC(&x->ctx->metrics, blk_fill_origin, 1);
		x->blk_misses++;
	}
	if (ok && x->ctx->conf->writer != NULL) {
		unsigned char id[32];

		cache_disk_block_id(x->meta.vhash, f->idx + f->cur, id);
		if (cache_writer_put(x->ctx->conf->writer, b, id) != 0)
			CM_LOGD("req=%s disk tier busy: block %llu not written", x->req->id,
			    (unsigned long long)(f->idx + f->cur));
	}
	cache_blk_release(x->store, &f->blks[f->cur]);
	f->cur++;
	x->inflight--;
}

static int
fill_on_data(void *arg, const char *p, size_t len)
{
	struct fill *f = arg;
	struct cread *x = f->x;
	size_t room, take;
	enum cache_blk_state st;

	GW_INC(&x->ctx->metrics, origin_bytes_in, len);
	if (ASKING_WORKER(f->tried, f->ntargets))
		x->worker_bytes += len;
	else
		x->origin_bytes += len;
	if (f->skip > 0) {
		take = len < f->skip ? len : (size_t)f->skip;
		f->skip -= take;
		p += take;
		len -= take;
	}
	/* Readers, this one too, are woken by the store as bytes land. */
	while (len > 0 && f->cur < f->nblk) {
		struct cache_blk *b = f->blks[f->cur];

		room = cache_blk_len(b) - cache_blk_avail(b, &st);
		take = len < room ? len : room;
		cache_blk_append(x->store, b, p, take);
		GW_INC(&x->ctx->metrics, cache_bytes_filled, take);
		p += take;
		len -= take;
		if (take == room)
			fill_finish_block(f, 1);
	}
	return (0);	/* more than asked (an origin ignoring Range): dropped */
}

static int fill_send(struct cread *x, struct fill *f);

static void
fill_on_done(void *arg, const char *err)
{
	struct fill *f = arg;
	struct cread *x = f->x;

	f->oreq = NULL;
	if ((err != NULL || f->retry) && ASKING_WORKER(f->tried, f->ntargets) && f->cur < f->nblk) {
		/* The worker failed: the next owner (or the origin) gives the
		 * rest, from the first byte we do not have. */
		enum cache_blk_state st;

		CM_LOGI("req=%s worker %s failed on block %llu (%s): asking the next", x->req->id,
		    f->targets[f->tried - 1].host, (unsigned long long)(f->idx + f->cur),
		    err != NULL ? err : "server error");
		if (err != NULL)
			gw_cluster_suspect(x->ctx->conf->cluster, f->targets[f->tried - 1].host);
		GW_INC(&x->ctx->metrics, worker_failovers, 1);
		f->retry = 0;
		f->start = (f->idx + f->cur) * cache_block_size(x->store) +
		    cache_blk_avail(f->blks[f->cur], &st);
		f->skip = 0;
		if (fill_send(x, f) == 0)
			return;
	}
	free(f->targets);
	f->targets = NULL;
	f->ntargets = f->tried = 0;
	x->nfills--;
	GW_INC(&x->ctx->metrics, origin_requests, 1);
	if (err != NULL)
		GW_INC(&x->ctx->metrics, origin_errors, 1);
	if (f->cur < f->nblk)
		CM_LOGW("req=%s blocks %llu-%llu fill failed: %s", x->req->id,
		    (unsigned long long)(f->idx + f->cur), (unsigned long long)(f->idx + f->nblk - 1),
		    err != NULL ? err : "short body");
	while (f->cur < f->nblk)
		fill_finish_block(f, 0);
	kick(x);
}

static const struct http_creq_ops fill_ops = { fill_on_head, fill_on_data, no_body, fill_on_done };

/* Stops every fill: their unfinished blocks fail (readers elsewhere see
 * that and fetch them again). */
static void
fills_cancel(struct cread *x)
{
	size_t i;

	for (i = 0; x->fills != NULL && i < x->nslots; i++) {
		struct fill *f = &x->fills[i];

		if (f->oreq == NULL)
			continue;
		http_creq_cancel(&f->oreq);
		free(f->targets);
		f->targets = NULL;
		while (f->cur < f->nblk)
			fill_finish_block(f, 0);
	}
	x->nfills = 0;
	free(x->fills);
	x->fills = NULL;
}

/* Blocks in flight per read: the configured readahead, but never more
 * than a quarter of the memory tier (a filled block waits there for its
 * reader). */
static size_t
fill_window(const struct cread *x)
{
	uint64_t w = x->ctx->conf->cfg->readahead;
	uint64_t fit = x->ctx->conf->cfg->mem_cache / cache_block_size(x->store) / 4;

	if (w > fit)
		w = fit;
	if (w > READAHEAD_MAX)
		w = READAHEAD_MAX;
	return (w > 0 ? (size_t)w : 1);
}

/* Fill slots: a run holds one block at least, the reader's own block may
 * go beyond the window, and a run whose blocks are all done waits a moment
 * for its transfer's end. */
static int
fills_init(struct cread *x)
{
	if (x->fills != NULL)
		return (0);
	x->window = fill_window(x);
	x->nslots = 2 * x->window + 2;
	x->fills = calloc(x->nslots, sizeof *x->fills);
	return (x->fills != NULL ? 0 : -1);
}

/* Whether one of our fills is filling block idx. */
static int
filling(const struct cread *x, uint64_t idx)
{
	size_t i;

	for (i = 0; x->fills != NULL && i < x->nslots; i++) {
		const struct fill *f = &x->fills[i];

		if (f->oreq != NULL && idx >= f->idx + f->cur && idx < f->idx + f->nblk)
			return (1);
	}
	return (0);
}

static void
own_mark(struct cread *x, uint64_t idx)
{
	x->own[(idx % OWN_BITS) / 64] |= 1ull << (idx % 64);
}

/* Whether this read's fills fetched block idx (forgotten once asked). */
static int
own_take(struct cread *x, uint64_t idx)
{
	uint64_t bit = 1ull << (idx % 64), *w = &x->own[(idx % OWN_BITS) / 64];
	int mine = (*w & bit) != 0;

	*w &= ~bit;
	return (mine);
}

static size_t
block_len(const struct cread *x, uint64_t idx)
{
	uint64_t bs = cache_block_size(x->store), left = x->meta.size - idx * bs;

	return ((size_t)(left < bs ? left : bs));
}

/*
 * Opens block idx. *bp: a new reference. CACHE_READ: there (or being filled
 * elsewhere); CACHE_FILL: missing, the caller fills it; CACHE_DISK: missing
 * in memory, its read from the disk tier is queued on the I/O thread (the
 * block is FILLING; gw_cache_disk_done follows on this loop, with a
 * reference of its own); -1: out of memory. Never reads the disk here.
 */
static int
block_open(struct cread *x, uint64_t idx, struct cache_blk **bp, int main)
{
	int rc = cache_blk_open(x->store, x->meta.vid, idx, block_len(x, idx), bp);
	struct dwait *dw;

	if (rc != CACHE_FILL || x->ctx->ioq == NULL || x->ctx->conf->io == NULL)
		return (rc);
	dw = calloc(1, sizeof *dw);
	if (dw == NULL)
		return (rc);		/* from the origin, then */
	dw->r.magic = CACHE_IO_REQ_MAGIC;
	dw->r.b = cache_blk_ref(x->store, *bp);
	cache_disk_block_id(x->meta.vhash, idx, dw->r.id);
	dw->r.q = x->ctx->ioq;
	dw->r.arg = dw;
	dw->r.idx = idx;
	dw->x = x;
	dw->main = main;
	if (cache_io_read(x->ctx->conf->io, &dw->r) != 0) {
		cache_blk_release(x->store, &dw->r.b);
		free(dw);
		return (rc);
	}
	dw->xnext = x->dwaits;
	x->dwaits = dw;
	return (CACHE_DISK);
}

static void
dwait_unlink(struct cread *x, struct dwait *dw)
{
	struct dwait **pp;

	for (pp = &x->dwaits; *pp != NULL; pp = &(*pp)->xnext)
		if (*pp == dw) {
			*pp = dw->xnext;
			return;
		}
	CM_ASSERT(!"a disk read not of this read");
}

/*
 * Fills a run from block idx, whose reference b (opened CACHE_FILL) the fill
 * takes over, with the missing blocks after it, up to max blocks and the
 * answer's last block: one ranged GET for all. 0, or -1 (the blocks
 * failed).
 */
static int
fill_run(struct cread *x, uint64_t idx, struct cache_blk *b, size_t max)
{
	uint64_t last = (x->end - 1) / cache_block_size(x->store);
	struct fill *f = NULL;
	size_t i;
	for (i = 0; i < x->nslots && f == NULL; i++)
		if (x->fills[i].oreq == NULL)
			f = &x->fills[i];
	if (f == NULL) {
		cache_blk_finish(x->store, b, 0);
		cache_blk_release(x->store, &b);
		return (-1);
	}
	f->x = x;
	f->idx = idx;
	f->blks[0] = b;
	f->nblk = 1;
	own_mark(x, idx);
	f->cur = 0;
	x->inflight++;
	if (max > RUN_MAX)
		max = RUN_MAX;
	if (cluster_gateway(x))
		max = 1;	/* each block has its own owner */
	while (f->nblk < max && idx + f->nblk <= last) {
		struct cache_blk *nb;
		int rc = block_open(x, idx + f->nblk, &nb, 0);

		if (rc != CACHE_FILL) {
			if (rc >= 0)
				cache_blk_release(x->store, &nb);
			break;		/* the run ends where the cache has bytes */
		}
		own_mark(x, idx + f->nblk);
		f->blks[f->nblk++] = nb;
		x->inflight++;
	}
	f->start = idx * cache_block_size(x->store);
	f->skip = 0;
	f->retry = 0;
	f->tried = f->ntargets = 0;
	f->targets = NULL;
	if (cluster_gateway(x)) {
		f->targets = calloc(3, sizeof *f->targets);
		if (f->targets != NULL)
			f->ntargets = gw_cluster_targets(x->ctx->conf->cluster,
			    ring_hash(x->bucket, cm_buf_slice(&x->mkey), idx), f->targets, 3);
	}
	if (fill_send(x, f) != 0) {
		free(f->targets);
		f->targets = NULL;
		while (f->cur < f->nblk)
			fill_finish_block(f, 0);
		return (-1);
	}
	x->nfills++;
	return (0);
}

/* Asks the next target for the run's bytes from f->start on: the block's
 * owners in a cluster (telling them the version), then the origin. */
static int
fill_send(struct cread *x, struct fill *f)
{
	const struct gw_target *t = NULL;
	struct s3sig_hdr h[3];
	char range[64], size[24];
	size_t n = 2;

	if (f->tried < f->ntargets)
		t = &f->targets[f->tried];
	else if (f->tried > f->ntargets)
		return (-1);
	f->tried++;
	snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)f->start,
	    (unsigned long long)((f->idx + f->nblk - 1) * cache_block_size(x->store) +
	    block_len(x, f->idx + f->nblk - 1) - 1));
	h[0].name = CM_SLICE_LIT("Range");
	h[0].value = cm_slice_str(range);
	h[1].name = CM_SLICE_LIT("If-Match");
	h[1].value = cm_slice_str(x->meta.etag);
	if (t != NULL) {
		snprintf(size, sizeof size, "%llu", (unsigned long long)x->meta.size);
		h[2].name = CM_SLICE_LIT("x-cachalot-object-size");
		h[2].value = cm_slice_str(size);
		n = 3;
	}
	f->oreq = origin_request(x, t, "GET", h, n, &fill_ops, f);
	return (f->oreq != NULL ? 0 : -1);
}

/* How many blocks the next run may take. */
static size_t
run_room(const struct cread *x)
{
	size_t room = x->window > x->inflight ? x->window - x->inflight : 0;
	size_t half = x->window / 2 > 0 ? x->window / 2 : 1;

	/* Two runs in flight at least: the next starts while one streams. */
	return (room < half ? room : half);
}

/* After a miss: the following blocks of the answer are filled too, up to
 * the window, so that a cold read is not one round trip per block. */
static void
read_ahead(struct cread *x)
{
	uint64_t last = (x->end - 1) / cache_block_size(x->store);
	struct cache_blk *b;
	int rc;

	if (x->fills == NULL)
		return;		/* no miss yet: hits need no help */
	if (x->ahead <= x->bidx)
		x->ahead = x->bidx + 1;
	while (run_room(x) > 0 && x->ahead <= last && x->ahead <= x->bidx + x->window) {
		rc = block_open(x, x->ahead, &b, 0);
		if (rc < 0)
			return;		/* the reader fills it itself when it gets there */
		if (rc == CACHE_READ || rc == CACHE_DISK) {
			cache_blk_release(x->store, &b);
			x->ahead++;
			continue;
		}
		if (fill_run(x, x->ahead, b, run_room(x)) != 0)
			return;
		while (x->ahead <= last && filling(x, x->ahead))
			x->ahead++;
	}
}

/* ---- Sending ---- */

#define LEND_MIN	(16 * 1024)

static void
blk_lent_back(const void *p, size_t len, void *blk)
{
	(void)p;
	(void)len;
	cache_blk_unref(blk);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct cread *x = arg;

	(void)fd;
	(void)what;
	CM_ASSERT(x->magic == CREAD_MAGIC);
	x->waiting = 0;
	if (!x->paused)
		send_more(x);
}

/*
 * The block the answer reads now (x->blk, x->bidx) is open: rc as
 * block_open's (CACHE_DISK come back: CACHE_READ when the disk had it,
 * CACHE_FILL when not). Ours to fill: with the missing blocks after it, but
 * at least this one. Counts it. 0, or -1 when the answer failed (done).
 */
static int
blk_opened(struct cread *x, int rc)
{
	if (rc == CACHE_FILL && (fills_init(x) != 0 || fill_run(x, x->bidx,
	    cache_blk_ref(x->store, x->blk), run_room(x) > 0 ? run_room(x) : 1) != 0))
		rc = -1;
	if (rc < 0) {
		x->result = "fill-failed";
		cread_done(x, 0);
		return (-1);
	}
	/* Fetched by this read (now or ahead), or not. */
	x->blk_filled = own_take(x, x->bidx);
	if (x->blk_filled)
		x->result = "miss";
	else if (x->result == NULL)
		x->result = x->from_disk ? "hit-disk" : "hit";
	/* Each block an answer reads is counted once. */
	if (!x->blk_filled) {
		x->blk_hits++;
		if (x->from_disk)
			GW_INC(&x->ctx->metrics, blk_hit_disk, 1);
		else
			GW_INC(&x->ctx->metrics, blk_hit_mem, 1);
	}
	return (0);
}

/*
 * A disk read is back (on the loop that asked; cache_io_done_f). Read from
 * disk: the block is READY. Not there (or corrupt, deleted): the block is
 * still FILLING and ours to fill from the origin (or the owners). A read
 * that went away leaves the block failed: its next reader fills it anew.
 */
void
gw_cache_disk_done(struct cache_io_req *r)
{
	struct dwait *dw = r->arg;
	struct cread *x = dw->x;
	struct cache_blk *b = r->b;

	CM_ASSERT(r->magic == CACHE_IO_REQ_MAGIC && &dw->r == r);
	r->magic = 0;
	if (x == NULL) {
		struct cache_store *s = cache_blk_store(b);

		if (r->rc != 0)
			cache_blk_finish(s, b, 0);
		cache_blk_release(s, &b);
		free(dw);
		return;
	}
	CM_ASSERT(x->magic == CREAD_MAGIC);
	dwait_unlink(x, dw);
	if (!dw->main) {
		/* Read ahead (or a run's tail): missing, it is filled now. */
		if (r->rc != 0 && x->fills != NULL) {
			/* The fill takes the reference, whatever comes. */
			(void)fill_run(x, r->idx, b, run_room(x) > 0 ? run_room(x) : 1);
			b = NULL;
		} else if (r->rc != 0) {
			cache_blk_finish(x->store, b, 0);
		}
		if (b != NULL)
			cache_blk_release(x->store, &b);
		free(dw);
		return;
	}
	CM_ASSERT(x->disk_wait && x->blk == b && x->bidx == r->idx);
	cache_blk_release(x->store, &b);	/* x->blk holds its own */
	x->disk_wait = 0;
	x->from_disk = r->rc == 0;
	free(dw);			/* and r with it */
	if (blk_opened(x, x->from_disk ? CACHE_READ : CACHE_FILL) != 0)
		return;
	if (!x->paused)
		send_more(x);
}

static void
send_more(struct cread *x)
{
	uint64_t bs = cache_block_size(x->store);
	enum cache_blk_state st;
	size_t avail, off, want, n;
	int rc;

	if (x->state != S_SEND || x->disk_wait)
		return;
	while (x->pos < x->end) {
		if (x->blk == NULL) {
			x->bidx = x->pos / bs;
			x->from_disk = 0;
			rc = block_open(x, x->bidx, &x->blk, 1);
			if (rc == CACHE_DISK) {
				x->disk_wait = 1;	/* gw_cache_disk_done goes on */
				return;
			}
			if (blk_opened(x, rc) != 0)
				return;
		}
		avail = cache_blk_avail(x->blk, &st);
		/* Further runs once this block's bytes flow: asked earlier,
		 * they would compete with its first byte at the origin. */
		if (avail > 0)
			read_ahead(x);
		off = (size_t)(x->pos - x->bidx * bs);
		want = (size_t)((x->end - x->bidx * bs) < cache_blk_len(x->blk) ?
		    x->end - x->bidx * bs : cache_blk_len(x->blk));
		if (avail > off) {
			n = (avail < want ? avail : want) - off;
			/* Big pieces are lent to the socket with a reference
			 * on the block: no copy; small ones are copied. */
			if (n >= LEND_MIN)
				rc = http_conn_write_ref(x->conn, cache_blk_data(x->blk) + off, n,
				    blk_lent_back, cache_blk_ref(x->store, x->blk));
			else
				rc = http_conn_write(x->conn, cache_blk_data(x->blk) + off, n);
			if (rc == HTTP_ERROR) {
				cread_done(x, 0);
				return;
			}
			x->pos += n;
			x->bytes_out += n;
			GW_INC(&x->ctx->metrics, bytes_out, n);
			if (x->from_disk)
				GW_INC(&x->ctx->metrics, cache_bytes_disk, n);
			else if (!x->blk_filled)
				GW_INC(&x->ctx->metrics, cache_bytes_hit, n);
			if (x->pos - x->bidx * bs == want) {
				/* Only a registered wait costs the store lock
				 * (a hit never registers one). */
				if (x->waiting) {
					cache_blk_unwait(x->store, x->blk, x->wake);
					x->waiting = 0;
				}
				cache_blk_release(x->store, &x->blk);
				x->from_disk = 0;
			}
			if (rc == HTTP_PAUSE) {
				x->paused = 1;
				return;
			}
			continue;
		}
		if (st == CACHE_BLK_FAILED) {
			x->result = "broken";
			cread_done(x, 0);
			return;
		}
		if (!x->waiting) {
			if (cache_blk_wait(x->store, x->blk, avail, x->wake) == 1)
				continue;
			x->waiting = 1;
		}
		return;
	}
	/* All sent; our fills must be whole first (they finish blocks others
	 * may be waiting on). */
	if (x->nfills > 0)
		return;
	cread_done(x, 1);
}

/* ---- Evaluation ---- */

static struct cm_slice
hv(const struct http_req *r, const char *name)
{
	const struct s3sig_hdr *h = http_req_hdr(r, name);

	return (h != NULL ? h->value : cm_slice("", 0));
}

static void
evaluate(struct cread *x)
{
	struct cache_obj_info o;
	struct cache_conds c;
	struct cache_range rg;
	const struct s3sig_hdr *range = http_req_hdr(x->req, "range");
	int s;

	o.etag = cm_slice_str(x->meta.etag);
	o.size = x->meta.size;
	o.last_modified = x->meta.last_modified;
	c.if_match = hv(x->req, "if-match");
	c.if_none_match = hv(x->req, "if-none-match");
	c.if_modified_since = hv(x->req, "if-modified-since");
	c.if_unmodified_since = hv(x->req, "if-unmodified-since");
	s = cache_cond_eval(&o, &c);
	if (s == 412) {
		error_answer(x, GW_E_PRECONDITION, NULL, NULL, 0, NULL, 0);
		cread_done(x, 1);
		return;
	}
	if (s == 304) {
		object_head(x, 304, 0, 0, -1);
		cread_done(x, 1);
		return;
	}
	s = range != NULL ? cache_range_eval(range->value, x->meta.size, &rg) : 200;
	if (s == 416) {
		struct gw_err_field f[2];
		struct s3sig_hdr h[1];
		char cr[64], size[24];
		size_t n = 0;

		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)x->meta.size);
		snprintf(size, sizeof size, "%llu", (unsigned long long)x->meta.size);
		/* The client's bytes, echoed: gw_err_xml escapes them. */
		f[0].name = "RangeRequested";
		f[0].value = cm_slice_trim(range->value);
		f[1].name = "ActualObjectSize";
		f[1].value = cm_slice_str(size);
		add_hdr(h, &n, "Content-Range", cm_slice_str(cr));
		error_answer(x, GW_E_BAD_RANGE, NULL, f, 2, h, n);
		cread_done(x, 1);
		return;
	}
	if (s == 206) {
		x->pos = rg.first;
		x->end = rg.last + 1;
	} else {
		x->pos = 0;
		x->end = x->meta.size;
	}
	object_head(x, s, x->pos, x->end - 1, (int64_t)(x->end - x->pos));
	if (x->req->head || x->end == x->pos) {
		x->result = x->result != NULL ? x->result : "hit";
		cread_done(x, 1);
		return;
	}
	x->state = S_SEND;
	send_more(x);
}

/* ---- Entry points from gw_s3.c ---- */

static void
cread_free(struct cread *x)
{
	if (x->oreq != NULL)
		http_creq_cancel(&x->oreq);
	while (x->dwaits != NULL) {
		struct dwait *dw = x->dwaits;

		x->dwaits = dw->xnext;
		dw->x = NULL;		/* gw_cache_disk_done releases it */
	}
	if (x->blk != NULL) {
		if (x->waiting)
			cache_blk_unwait(x->store, x->blk, x->wake);
		cache_blk_release(x->store, &x->blk);
	}
	fills_cancel(x);
	free(x->htargets);
	if (x->wake != NULL)
		event_free(x->wake);
	if (x->fwd != NULL) {
		origin_req_fini(x->fwd);
		free(x->fwd);
	}
	cm_buf_free(&x->mkey);
	cm_buf_free(&x->ehdrs);
	x->magic = 0;
	free(x);
}

static void
cread_done(struct cread *x, int ok)
{
	struct http_conn *conn = x->conn;

	gw_request_log(x->ctx, conn, x->req, x->op, x->bucket, x->rawkey, x->status, 0, x->bytes_out,
	    x->ttfb_us, x->result != NULL ? x->result : "hit");
	if (x->ctx->conf->cluster != NULL && !x->req->head && x->status >= 200 && x->status < 300)
		gw_cluster_count(x->ctx->conf->cluster, x->bucket, x->blk_hits, x->blk_misses,
		    x->bytes_out - (x->worker_bytes < x->bytes_out ? x->worker_bytes : x->bytes_out),
		    x->origin_bytes);
	http_conn_clear_req(conn);
	cread_free(x);
	if (ok)
		http_conn_end(conn);
	else
		http_conn_fail(conn);
}

/*
 * Worker: a gateway's block request names the version it wants (If-Match
 * and x-cachalot-object-size, from the metadata owner it just asked). The
 * worker takes its word: a version it does not know becomes its current
 * one (marked partial: no headers to replay to clients), and its fills are
 * conditional on that ETag at the origin anyway. 1 when it is such a
 * request (x->meta set), else 0.
 */
static int
worker_block_request(struct cread *x)
{
	const struct s3sig_hdr *hs = http_req_hdr(x->req, "x-cachalot-object-size");
	const struct s3sig_hdr *im = http_req_hdr(x->req, "if-match");
	struct cm_slice etag;
	struct cache_meta *m;
	uint64_t size;

	if (hs == NULL || im == NULL || cm_parse_u64(cm_slice_trim(hs->value), UINT64_MAX, &size) != 0)
		return (0);
	etag = cm_slice_trim(im->value);
	if (etag.len == 0 || etag.len >= sizeof x->meta.etag)
		return (0);
	if (x->have_meta && cm_slice_eq(etag, x->meta.etag) && x->meta.size == size)
		return (1);
	m = &x->meta;
	memset(m, 0, offsetof(struct cache_meta, hdrs));
	memcpy(m->etag, etag.p, etag.len);
	m->size = size;
	m->last_modified = -1;
	m->partial = 1;
	cache_disk_version_hash(x->bucket, cm_buf_slice(&x->mkey), m->etag, m->size, m->vhash);
	cache_meta_put(x->store, x->bucket, cm_buf_slice(&x->mkey), m, cm_mono_ms());
	x->have_meta = 1;
	return (1);
}

/* Starts a cached GET or HEAD; the request is verified and cacheable. */
void
gw_cache_start(struct gw_ctx *ctx, struct http_conn *conn, struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey)
{
	struct cread *x;
	uint64_t now = cm_mono_ms();

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		http_conn_fail(conn);
		return;
	}
	x->magic = CREAD_MAGIC;
	x->ctx = ctx;
	x->store = ctx->conf->cache;
	x->conn = conn;
	x->req = r;
	x->op = op;
	x->bucket = bucket;
	x->rawkey = rawkey;
	x->state = S_META;
	cm_buf_init(&x->mkey, 64 * 1024);
	cm_buf_init(&x->ehdrs, 16 * 1024);
	x->wake = event_new(ctx->base, -1, 0, on_wake, x);
	http_conn_set_req(conn, &cread_ops, x);
	if (x->wake == NULL || s3sig_canon_uri(&x->mkey, rawkey) != 0) {
		error_answer(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
		cread_done(x, 1);
		return;
	}
	x->have_meta = cache_meta_get(x->store, bucket, cm_buf_slice(&x->mkey), &x->meta) == 0;
	if (ctx->conf->worker && worker_block_request(x)) {
		evaluate(x);		/* a gateway asks for blocks of a version */
		return;
	}
	/* A cluster gateway keeps no metadata of its own past the request:
	 * the owner's is the truth (writes through any gateway clear it). */
	if (x->have_meta && !x->meta.partial && !cluster_gateway(x) &&
	    now - x->meta.validated_ms < ctx->conf->cfg->freshness * 1000) {
		evaluate(x);
		return;
	}
	if (cluster_gateway(x)) {
		x->htargets = calloc(3, sizeof *x->htargets);
		if (x->htargets != NULL)
			x->nhtargets = gw_cluster_targets(ctx->conf->cluster,
			    ring_hash(bucket, cm_buf_slice(&x->mkey), RING_META), x->htargets, 3);
	}
	if (head_next(x) != 0) {
		error_answer(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
		cread_done(x, 1);
	}
}

static void
cread_drain(struct http_conn *conn)
{
	struct cread *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == CREAD_MAGIC);
	if (!x->paused)
		return;
	x->paused = 0;
	send_more(x);
}

static void
cread_abort(struct http_conn *conn)
{
	struct cread *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == CREAD_MAGIC);
	if (x->status == 0)
		x->status = 499;	/* client closed first, as nginx logs it */
	gw_request_log(x->ctx, conn, x->req, x->op, x->bucket, x->rawkey, x->status, 0, x->bytes_out,
	    x->ttfb_us, "aborted");
	http_conn_clear_req(conn);
	cread_free(x);
}

/* A cached GET or HEAD: no body to read (a body is discarded). */
static const struct http_req_ops cread_ops = {
	.name = "cached read",
	.body = http_req_def_body,
	.body_end = http_req_def_body_end,
	.drain = cread_drain,
	.abort = cread_abort,
};

/* The key of a write as the cache knows it (canonical form). */
void
gw_cache_invalidate(struct gw_ctx *ctx, enum gw_op op, struct cm_slice bucket,
    struct cm_slice rawkey)
{
	struct cm_buf k;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	if (ctx->conf->cache == NULL)
		return;
	if (op == GW_OP_DeleteObjects || op == GW_OP_DeleteBucket) {
		cache_meta_invalidate_bucket(ctx->conf->cache, bucket);
		return;
	}
	cm_buf_init(&k, 64 * 1024);
	if (s3sig_canon_uri(&k, rawkey) == 0)
		cache_meta_invalidate(ctx->conf->cache, bucket, cm_buf_slice(&k));
	cm_buf_free(&k);
}

struct forget_keys {
	struct cache_store	*store;
	struct cm_slice		bucket;
	struct cm_buf		k;
};

static int
forget_key(void *arg, const char *key, size_t len)
{
	struct forget_keys *f = arg;

	(void)len;	/* NUL-terminated; XML cannot hold a NUL */
	cm_buf_reset(&f->k);
	if (s3sig_uri_encode_path(&f->k, key) != 0)
		return (-1);
	cache_meta_invalidate(f->store, f->bucket, cm_buf_slice(&f->k));
	return (0);
}

/* The keys of a DeleteObjects body are literal (no percent-encoding): the
 * cache knows a key as its canonical encoding, which is the encoding of
 * the literal key. */
void
gw_cache_invalidate_delete(struct gw_ctx *ctx, struct cm_slice bucket, const struct cm_buf *body)
{
	struct forget_keys f;
	int n = -1;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	if (ctx->conf->cache == NULL)
		return;
	f.store = ctx->conf->cache;
	f.bucket = bucket;
	cm_buf_init(&f.k, 64 * 1024);
	if (body != NULL && body->p != NULL)
		n = gw_delete_keys(body->p, body->len, GW_DELETE_MAX_KEYS, forget_key, &f);
	cm_buf_free(&f.k);
	if (n < 0) {
		CM_LOGI("DeleteObjects on %.*s: its keys could not be read: the bucket is forgotten",
		    (int)bucket.len, bucket.p);
		cache_meta_invalidate_bucket(ctx->conf->cache, bucket);
	}
}
