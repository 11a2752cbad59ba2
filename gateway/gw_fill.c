/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_fill.c: the cached read's blocks (see gw_cache.c): opening them (from
 * memory, or a read queued on the disk tier's I/O thread), filling the
 * missing ones in runs by one ranged GET each (in a cluster from their
 * owners first), readahead.
 *
 * Threads: a cread's loop; a fill's callbacks run inside libcurl on it.
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

static ssize_t no_body(void *arg, char *buf, size_t max) { (void)arg; (void)buf; (void)max; return (0); }

/* ---- Filling blocks from the origin ---- */

/*
 * A fill's callbacks run inside libcurl: they never end the read there
 * (that would free the transfer under curl's feet) but make 'wake' active,
 * and the loop calls gw_cr_send_more next.
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
	uint64_t start = 0, total = UINT64_MAX, clen = UINT64_MAX;
	int etag_ok = 0;

	if (gw_try_head(&f->try, status))
		return (HTTP_CLIENT_ABORT);	/* an owner's 5xx: the next one */
	if (f->idx == x->bidx || x->q.ttfb_us == 0)
		x->q.ttfb_us = http_creq_ttfb_us(f->oreq);
	gw_metrics_origin_latency(&x->q.ctx->metrics, http_creq_ttfb_us(f->oreq));
	for (i = 0; i < n; i++) {
		struct cm_slice v = cm_slice_trim(hdrs[i].value);

		if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("etag")))
			etag_ok = cm_slice_eq(v, x->meta.etag);
		else if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("content-range")) &&
		    v.len > 6 && memcmp(v.p, "bytes ", 6) == 0) {
			struct cm_slice a, z, rest = cm_slice_cut(cm_slice(v.p + 6, v.len - 6), '-', &a);

			if (rest.p == NULL || cm_parse_u64(a, UINT64_MAX, &start) != 0)
				return (HTTP_CLIENT_ABORT);
			rest = cm_slice_cut(rest, '/', &z);
			if (rest.p == NULL || cm_parse_u64(rest, UINT64_MAX, &total) != 0)
				total = UINT64_MAX - 1;		/* "*" or malformed: not the size */
		} else if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT("content-length")) &&
		    cm_parse_u64(v, UINT64_MAX, &clen) != 0)
			clen = UINT64_MAX - 1;
	}
	/* An origin need not honour If-Match (s3rver does not): an answer of
	 * another size is another version, whatever its ETag says. */
	if (etag_ok && ((status == 206 && total != x->meta.size) ||
	    (status == 200 && clen != UINT64_MAX && clen != x->meta.size)))
		etag_ok = 0;
	if (!etag_ok || (status != 200 && status != 206)) {
		/* Changed under us (412 to If-Match, another ETag) or failing. */
		CM_LOGI("req=%s block %llu: origin answered %d%s", x->q.req->id,
		    (unsigned long long)f->idx, status, etag_ok ? "" : " with another version");
		cache_meta_invalidate(x->store, x->q.bucket, cm_buf_slice(&x->mkey));
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
	if (ok && gw_try_owner(&f->try)) {
		GW_INC(&x->q.ctx->metrics, blk_fill_worker, 1);
	} else if (ok) {
		GW_INC(&x->q.ctx->metrics, blk_fill_origin, 1);
		x->q.blk_misses++;
	}
	/* Demotion: the tier below memory keeps a copy (cache_tiers.c). */
	if (ok) {
		if (cache_blk_demote(x->store, x->meta.vhash, f->idx + f->cur, b) != 0)
			CM_LOGD("req=%s disk tier busy: block %llu not written", x->q.req->id,
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

	GW_INC(&x->q.ctx->metrics, origin_bytes_in, len);
	if (gw_try_owner(&f->try))
		x->q.worker_bytes += len;
	else
		x->q.origin_bytes += len;
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
		GW_INC(&x->q.ctx->metrics, cache_bytes_filled, take);
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
	char what[48];

	f->oreq = NULL;
	snprintf(what, sizeof what, " on block %llu", (unsigned long long)(f->idx + f->cur));
	if (f->cur < f->nblk && gw_try_failover(x, &f->try, err, what)) {
		/* The owner failed: the next owner (or the origin) gives the
		 * rest, from the first byte we do not have. */
		enum cache_blk_state st;

		f->start = (f->idx + f->cur) * cache_block_size(x->store) +
		    cache_blk_avail(f->blks[f->cur], &st);
		f->skip = 0;
		if (fill_send(x, f) == 0)
			return;
	}
	gw_try_fini(&f->try);
	x->nfills--;
	GW_INC(&x->q.ctx->metrics, origin_requests, 1);
	if (err != NULL)
		GW_INC(&x->q.ctx->metrics, origin_errors, 1);
	if (f->cur < f->nblk)
		CM_LOGW("req=%s blocks %llu-%llu fill failed: %s", x->q.req->id,
		    (unsigned long long)(f->idx + f->cur), (unsigned long long)(f->idx + f->nblk - 1),
		    err != NULL ? err : "short body");
	while (f->cur < f->nblk)
		fill_finish_block(f, 0);
	kick(x);
}

static const struct http_creq_ops fill_ops = { fill_on_head, fill_on_data, no_body, fill_on_done };

/* Stops every fill: their unfinished blocks fail (readers elsewhere see
 * that and fetch them again). */
void
gw_cr_fills_cancel(struct cread *x)
{
	size_t i;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	for (i = 0; x->fills != NULL && i < x->nslots; i++) {
		struct fill *f = &x->fills[i];

		if (f->oreq == NULL)
			continue;
		http_creq_cancel(&f->oreq);
		gw_try_fini(&f->try);
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
	uint64_t w = x->q.ctx->conf->cfg->readahead;
	uint64_t fit = x->q.ctx->conf->cfg->mem_cache / cache_block_size(x->store) / 4;

	if (w > fit)
		w = fit;
	if (w > READAHEAD_MAX)
		w = READAHEAD_MAX;
	return (w > 0 ? (size_t)w : 1);
}

/* Fill slots: a run holds one block at least, the reader's own block may
 * go beyond the window, and a run whose blocks are all done waits a moment
 * for its transfer's end. */
int
gw_cr_fills_init(struct cread *x)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
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
int
gw_cr_own_take(struct cread *x, uint64_t idx)
{
	uint64_t bit = 1ull << (idx % 64), *w = &x->own[(idx % OWN_BITS) / 64];
	int mine = (*w & bit) != 0;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	*w &= ~bit;
	return (mine);
}

size_t
gw_cr_block_len(const struct cread *x, uint64_t idx)
{
	uint64_t bs = cache_block_size(x->store), left = x->meta.size - idx * bs;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	return ((size_t)(left < bs ? left : bs));
}

/* Opens block idx from the read's block source (gw_blksrc_open_f). */
int
gw_cr_block_open(struct cread *x, uint64_t idx, struct cache_blk **bp, int main)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	return (x->q.ctx->conf->src.ops->open(x, idx, bp, main));
}

/*
 * The local block source's open (gw_blksrc_open_f): the store and its
 * tiers. *bp: a new reference. CACHE_READ: there (or being filled
 * elsewhere); CACHE_FILL: missing, the caller fills it; GW_CR_DISK: missing
 * in memory, its read from the disk tier is queued on the I/O thread (the
 * block is FILLING; gw_cache_disk_done follows on this loop, with a
 * reference of its own); -1: out of memory. Never reads the disk here.
 */
int
gw_blksrc_def_open(struct cread *x, uint64_t idx, struct cache_blk **bp, int main)
{
	int rc = cache_blk_open(x->store, x->meta.vid, idx, gw_cr_block_len(x, idx), bp);
	struct dwait *dw;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (rc != CACHE_FILL || x->q.ctx->ioq == NULL || x->q.ctx->conf->io == NULL)
		return (rc);
	dw = calloc(1, sizeof *dw);
	if (dw == NULL)
		return (rc);		/* from the origin, then */
	dw->r.magic = CACHE_IO_REQ_MAGIC;
	dw->r.b = cache_blk_ref(x->store, *bp);	/* the request's own */
	dw->r.q = x->q.ctx->ioq;
	dw->r.arg = dw;
	dw->r.idx = idx;
	dw->x = x;
	dw->main = main;
	/* Promotion (cache_tiers.c): not below memory either (a cold
	 * block), or not queued: filled at once, in this run. */
	if (cache_blk_promote(x->store, x->meta.vhash, idx, &dw->r) != 0) {
		cache_blk_release(x->store, &dw->r.b);
		free(dw);
		return (rc);
	}
	dw->xnext = x->dwaits;
	x->dwaits = dw;
	return (GW_CR_DISK);
}

void
gw_cr_dwait_unlink(struct cread *x, struct dwait *dw)
{
	struct dwait **pp;

	CM_ASSERT(x->magic == CREAD_MAGIC);
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
int
gw_cr_fill_run(struct cread *x, uint64_t idx, struct cache_blk *b, size_t max)
{
	uint64_t last = (x->end - 1) / cache_block_size(x->store);
	struct fill *f = NULL;
	size_t i;

	CM_ASSERT(x->magic == CREAD_MAGIC);
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
	if (max > x->q.ctx->conf->src.ops->run_max)
		max = x->q.ctx->conf->src.ops->run_max;	/* a cluster's: each block has its owner */
	while (f->nblk < max && idx + f->nblk <= last) {
		struct cache_blk *nb;
		int rc = gw_cr_block_open(x, idx + f->nblk, &nb, 0);

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
	gw_try_init(x, &f->try, idx);
	if (fill_send(x, f) != 0) {
		gw_try_fini(&f->try);
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
	const struct origin_target *t = NULL;
	struct s3sig_hdr h[3];
	char range[64], size[24];
	size_t n = 2;

	if (gw_try_next(&f->try, &t) != 0)
		return (-1);
	snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)f->start,
	    (unsigned long long)((f->idx + f->nblk - 1) * cache_block_size(x->store) +
	    gw_cr_block_len(x, f->idx + f->nblk - 1) - 1));
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
	f->oreq = gw_cr_origin_request(x, t, "GET", h, n, &fill_ops, f);
	return (f->oreq != NULL ? 0 : -1);
}

/* How many blocks the next run may take. */
size_t
gw_cr_run_room(const struct cread *x)
{
	size_t room = x->window > x->inflight ? x->window - x->inflight : 0;
	size_t half = x->window / 2 > 0 ? x->window / 2 : 1;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	/* Two runs in flight at least: the next starts while one streams. */
	return (room < half ? room : half);
}

/* After a miss: the following blocks of the answer are filled too, up to
 * the window, so that a cold read is not one round trip per block. */
void
gw_cr_read_ahead(struct cread *x)
{
	uint64_t last = (x->end - 1) / cache_block_size(x->store);
	struct cache_blk *b;
	int rc;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (x->fills == NULL)
		return;		/* no miss yet: hits need no help */
	if (x->ahead <= x->bidx)
		x->ahead = x->bidx + 1;
	while (gw_cr_run_room(x) > 0 && x->ahead <= last && x->ahead <= x->bidx + x->window) {
		rc = gw_cr_block_open(x, x->ahead, &b, 0);
		if (rc < 0)
			return;		/* the reader fills it itself when it gets there */
		if (rc == CACHE_READ || rc == GW_CR_DISK) {
			cache_blk_release(x->store, &b);
			x->ahead++;
			continue;
		}
		if (gw_cr_fill_run(x, x->ahead, b, gw_cr_run_room(x)) != 0)
			return;
		while (x->ahead <= last && filling(x, x->ahead))
			x->ahead++;
	}
}
