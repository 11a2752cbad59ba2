/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_blksrc_local.c: the local block source (struct gw_blksrc_ops in
 * gw_priv.h): the store and its tiers. serve uses gw_blksrc_local; a
 * worker gw_blksrc_worker, the same but for its metadata: a gateway's
 * block request names the version it wants, and the worker takes its word.
 * Metadata that is cached and fresh is used as it is; else a HEAD to the
 * origin (gw_meta.c). Blocks open from memory, then are promoted from the
 * tier below it (cache_blk_promote: the disk tier, read on its I/O thread;
 * gw_blksrc_def_open, gw_fill.c); misses are filled from the origin and
 * demoted to the tier (cache_blk_demote). No disk block is named here.
 * An invalidation: the store forgets at once, done at once
 * (gw_blksrc_def_invalidate, gw_inval.c).
 *
 * Threads: a read's loop. The store locks for itself (cache.h).
 */
#include <stddef.h>
#include <string.h>

#include "cache/cache.h"
#include "gateway/gw_priv.h"

static void
local_meta(struct cread *x)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (x->have_meta && !x->meta.partial &&
	    cm_mono_ms() - x->meta.validated_ms < x->q.ctx->conf->cfg->freshness * 1000) {
		gw_cr_evaluate(x);
		return;
	}
	gw_cr_head_start(x);
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
	const struct s3sig_hdr *hs = http_req_hdr(x->q.req, "x-cachalot-object-size");
	const struct s3sig_hdr *im = http_req_hdr(x->q.req, "if-match");
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
	cache_version_hash(x->q.bucket, cm_buf_slice(&x->mkey), m->etag, m->size, m->vhash);
	cache_meta_put(x->store, x->q.bucket, cm_buf_slice(&x->mkey), m, cm_mono_ms());
	x->have_meta = 1;
	return (1);
}

static void
worker_meta(struct cread *x)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	if (worker_block_request(x)) {
		gw_cr_evaluate(x);	/* a gateway asks for blocks of a version */
		return;
	}
	local_meta(x);
}

const struct gw_blksrc_ops gw_blksrc_local = {
	.name = "local",
	.meta = local_meta,
	.open = gw_blksrc_def_open,
	.owners = gw_blksrc_def_owners,
	.run_max = RUN_MAX,
	.failed = gw_blksrc_def_failed,
	.count = gw_blksrc_def_count,
	.invalidate = gw_blksrc_def_invalidate,
	.writable = gw_blksrc_def_writable,
	.fini = gw_blksrc_def_fini,
};

const struct gw_blksrc_ops gw_blksrc_worker = {
	.name = "worker",
	.meta = worker_meta,
	.open = gw_blksrc_def_open,
	.owners = gw_blksrc_def_owners,
	.run_max = RUN_MAX,
	.failed = gw_blksrc_def_failed,
	.count = gw_blksrc_def_count,
	.invalidate = gw_blksrc_def_invalidate,
	.writable = gw_blksrc_def_writable,
	.fini = gw_blksrc_def_fini,
};
