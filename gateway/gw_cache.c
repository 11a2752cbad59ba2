/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_cache.c: GET and HEAD answered from the block cache, over the
 * process's block source (struct gw_blksrc_ops: the local store, or the
 * cluster's owners then the origin; picked once at start), which no line
 * of the read tests.
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
 * Files: this one (answers, sending, evaluation, entry points),
 * gw_meta.c (META, RELAY), gw_fill.c (blocks: opening, disk reads, fills,
 * readahead), gw_blksrc*.c (the block sources, and the one failover loop),
 * gw_req.c (the end it shares with the pass-through: log line, counts,
 * release); what they share is in gw_priv.h.
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
#include "common/cm_log.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"

static const struct http_req_ops cread_ops;	/* below */
static const struct gw_req_ops cread_req_ops;	/* below */

/* ---- Answers made here ---- */

void
gw_cr_add_hdr(struct s3sig_hdr *h, size_t *n, const char *name, struct cm_slice v)
{
	h[*n].name = cm_slice_str(name);
	h[*n].value = v;
	(*n)++;
}

/* One of the gateway's own errors (gw_err_tbl.h); msg NULL: the table's. */
void
gw_cr_error(struct cread *x, enum gw_err e, const char *msg, const struct gw_err_field *f,
    size_t nf, const struct s3sig_hdr *h, size_t nh)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	gw_req_error(&x->q, gw_err_status(e), gw_err_code(e),
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

	gw_cr_add_hdr(h, &n, "x-amz-request-id", cm_slice_str(x->q.req->id));
	gw_cr_add_hdr(h, &n, "ETag", cm_slice_str(m->etag));
	if (m->last_modified >= 0 && gmtime_r(&m->last_modified, &tm) != NULL &&
	    strftime(lm, sizeof lm, "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		gw_cr_add_hdr(h, &n, "Last-Modified", cm_slice_str(lm));
	gw_cr_add_hdr(h, &n, "Accept-Ranges", CM_SLICE_LIT("bytes"));
	if (status == 206) {
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)first,
		    (unsigned long long)last, (unsigned long long)m->size);
		gw_cr_add_hdr(h, &n, "Content-Range", cm_slice_str(cr));
	}
	/* Whole-object checksums only on whole-object answers. */
	n += replay_hdrs(m, status == 200 ? m->hdrs_full_len : m->hdrs_len, h + n,
	    CM_ARRAY_LEN(h) - n);
	x->q.status = status;
	http_conn_respond(x->q.conn, status, h, n, clen);
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
		gw_cr_send_more(x);
}

/*
 * The block the answer reads now (x->blk, x->bidx) is open: rc as
 * gw_cr_block_open's (GW_CR_DISK come back: CACHE_READ when the disk had it,
 * CACHE_FILL when not). Ours to fill: with the missing blocks after it, but
 * at least this one. Counts it. 0, or -1 when the answer failed (done).
 */
static int
blk_opened(struct cread *x, int rc)
{
	if (rc == CACHE_FILL && (gw_cr_fills_init(x) != 0 || gw_cr_fill_run(x, x->bidx,
	    cache_blk_ref(x->store, x->blk), gw_cr_run_room(x) > 0 ? gw_cr_run_room(x) : 1) != 0))
		rc = -1;
	if (rc < 0) {
		x->q.result = "fill-failed";
		gw_cr_done(x, 0);
		return (-1);
	}
	/* Fetched by this read (now or ahead), or not. */
	x->blk_filled = gw_cr_own_take(x, x->bidx);
	if (x->blk_filled)
		x->q.result = "miss";
	else if (x->q.result == NULL)
		x->q.result = x->from_disk ? "hit-disk" : "hit";
	/* Each block an answer reads is counted once. */
	if (!x->blk_filled) {
		x->q.blk_hits++;
		if (x->from_disk)
			GW_INC(&x->q.ctx->metrics, blk_hit_disk, 1);
		else
			GW_INC(&x->q.ctx->metrics, blk_hit_mem, 1);
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
	gw_cr_dwait_unlink(x, dw);
	if (!dw->main) {
		/* Read ahead (or a run's tail): missing, it is filled now. */
		if (r->rc != 0 && x->fills != NULL) {
			/* The fill takes the reference, whatever comes. */
			(void)gw_cr_fill_run(x, r->idx, b, gw_cr_run_room(x) > 0 ? gw_cr_run_room(x) : 1);
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
		gw_cr_send_more(x);
}

void
gw_cr_send_more(struct cread *x)
{
	uint64_t bs = cache_block_size(x->store);
	enum cache_blk_state st;
	size_t avail, off, want, n;
	int rc;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (x->state != S_SEND || x->disk_wait)
		return;
	while (x->pos < x->end) {
		if (x->blk == NULL) {
			x->bidx = x->pos / bs;
			x->from_disk = 0;
			rc = gw_cr_block_open(x, x->bidx, &x->blk, 1);
			if (rc == GW_CR_DISK) {
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
			gw_cr_read_ahead(x);
		off = (size_t)(x->pos - x->bidx * bs);
		want = (size_t)((x->end - x->bidx * bs) < cache_blk_len(x->blk) ?
		    x->end - x->bidx * bs : cache_blk_len(x->blk));
		if (avail > off) {
			n = (avail < want ? avail : want) - off;
			/* Big pieces are lent to the socket with a reference
			 * on the block: no copy; small ones are copied. */
			if (n >= LEND_MIN)
				rc = http_conn_write_ref(x->q.conn, cache_blk_data(x->blk) + off, n,
				    blk_lent_back, cache_blk_ref(x->store, x->blk));
			else
				rc = http_conn_write(x->q.conn, cache_blk_data(x->blk) + off, n);
			if (rc == HTTP_ERROR) {
				gw_cr_done(x, 0);
				return;
			}
			x->pos += n;
			x->q.bytes_out += n;
			GW_INC(&x->q.ctx->metrics, bytes_out, n);
			if (x->from_disk)
				GW_INC(&x->q.ctx->metrics, cache_bytes_disk, n);
			else if (!x->blk_filled)
				GW_INC(&x->q.ctx->metrics, cache_bytes_hit, n);
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
			x->q.result = "broken";
			gw_cr_done(x, 0);
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
	gw_cr_done(x, 1);
}

/* ---- Evaluation ---- */

static struct cm_slice
hv(const struct http_req *r, const char *name)
{
	const struct s3sig_hdr *h = http_req_hdr(r, name);

	return (h != NULL ? h->value : cm_slice("", 0));
}

void
gw_cr_evaluate(struct cread *x)
{
	struct cache_obj_info o;
	struct cache_conds c;
	struct cache_range rg;
	const struct s3sig_hdr *range = http_req_hdr(x->q.req, "range");
	int s;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	o.etag = cm_slice_str(x->meta.etag);
	o.size = x->meta.size;
	o.last_modified = x->meta.last_modified;
	c.if_match = hv(x->q.req, "if-match");
	c.if_none_match = hv(x->q.req, "if-none-match");
	c.if_modified_since = hv(x->q.req, "if-modified-since");
	c.if_unmodified_since = hv(x->q.req, "if-unmodified-since");
	s = cache_cond_eval(&o, &c);
	if (s == 412) {
		gw_cr_error(x, GW_E_PRECONDITION, NULL, NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
		return;
	}
	if (s == 304) {
		object_head(x, 304, 0, 0, -1);
		gw_cr_done(x, 1);
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
		gw_cr_add_hdr(h, &n, "Content-Range", cm_slice_str(cr));
		gw_cr_error(x, GW_E_BAD_RANGE, NULL, f, 2, h, n);
		gw_cr_done(x, 1);
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
	if (x->q.req->head || x->end == x->pos) {
		x->q.result = x->q.result != NULL ? x->q.result : "hit";
		gw_cr_done(x, 1);
		return;
	}
	x->state = S_SEND;
	gw_cr_send_more(x);
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
	gw_cr_fills_cancel(x);
	gw_try_fini(&x->head);
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

/* The cached read's own part of its end (gw_req_end). */
static void
cread_fini(struct gw_req *q)
{
	struct cread *x = GW_REQ_OF(struct cread, q);

	CM_ASSERT(x->magic == CREAD_MAGIC);
	cread_free(x);
}

static const struct gw_req_ops cread_req_ops = {
	.name = "cached read",
	.result = "hit",
	.per_bucket = 1,
	.fini = cread_fini,
};

/* The answer is over (ok) or cut: logged, counted, freed, ended. */
void
gw_cr_done(struct cread *x, int ok)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	gw_req_end(&x->q, ok ? GW_END_OK : GW_END_FAIL);
}

/* Starts a cached GET or HEAD; the request is verified and cacheable. */
void
gw_cache_start(struct gw_ctx *ctx, struct http_conn *conn, struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey)
{
	struct cread *x;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	CM_ASSERT(ctx->conf->src.magic == GW_BLKSRC_MAGIC);
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		http_conn_fail(conn);
		return;
	}
	x->magic = CREAD_MAGIC;
	gw_req_init(&x->q, &cread_req_ops, ctx, conn, r);
	x->store = ctx->conf->cache;
	x->q.op = op;
	x->q.bucket = bucket;
	x->q.rawkey = rawkey;
	x->state = S_META;
	cm_buf_init(&x->mkey, 64 * 1024);
	cm_buf_init(&x->ehdrs, 16 * 1024);
	x->wake = event_new(ctx->base, -1, 0, on_wake, x);
	http_conn_set_req(conn, &cread_ops, x);
	if (x->wake == NULL || s3sig_canon_uri(&x->mkey, rawkey) != 0) {
		gw_cr_error(x, GW_E_INTERNAL, NULL, NULL, 0, NULL, 0);
		gw_cr_done(x, 1);
		return;
	}
	x->have_meta = cache_meta_get(x->store, bucket, cm_buf_slice(&x->mkey), &x->meta) == 0;
	ctx->conf->src.ops->meta(x);	/* ends in gw_cr_evaluate, or in an answer */
}

static void
cread_drain(struct http_conn *conn)
{
	struct cread *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == CREAD_MAGIC);
	if (!x->paused)
		return;
	x->paused = 0;
	gw_cr_send_more(x);
}

static void
cread_abort(struct http_conn *conn)
{
	struct cread *x = http_conn_get_data(conn);

	CM_ASSERT(x != NULL && x->magic == CREAD_MAGIC);
	gw_req_abort(&x->q);
}

/* A cached GET or HEAD: no body to read (a body is discarded). */
static const struct http_req_ops cread_ops = {
	.name = "cached read",
	.body = http_req_def_body,
	.body_end = http_req_def_body_end,
	.drain = cread_drain,
	.abort = cread_abort,
};
