/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_blksrc_cluster.c: the cluster as a block source (struct
 * gw_blksrc_ops in gw_priv.h), for a gateway with a master. The metadata
 * and every block are asked of their owners on the ring (clu_view), best
 * first, failing over to the next owner, then the origin (gw_try,
 * gw_blksrc.c); an owner that failed on the transport is suspected. The
 * gateway keeps no metadata of its own past a request (the owner's is the
 * truth: writes through any gateway clear it), and its store is a staging
 * store in memory only: one fetch per block however many clients ask at
 * once. A fill is one block (each block has its own owner). A write's
 * invalidation goes to every worker of the ring (gw_inval_workers).
 * Every request to a worker carries the cluster signature
 * (gw_worker_sign, here; workers check it in gw_wgate.c). Counts go to
 * the master with the view's heartbeats.
 *
 * Threads: a read's loop; clu_view locks for itself (cluster.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "cluster/cluster.h"
#include "gateway/gw_priv.h"

static void
cluster_meta(struct cread *x)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	gw_cr_head_start(x);	/* cached or not: the owner's word */
}

/* The staging store only: no disk tier on a gateway. */
static int
cluster_open(struct cread *x, uint64_t idx, struct cache_blk **bp, int main)
{
	CM_ASSERT(x->magic == CREAD_MAGIC);
	(void)main;
	return (cache_blk_open(x->store, x->meta.vid, idx, gw_cr_block_len(x, idx), bp));
}

static size_t
cluster_owners(const struct gw_blksrc *s, const struct cread *x, uint64_t idx,
    struct origin_target *out, size_t max)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	return (gw_worker_targets(s->view, ring_hash(x->q.bucket, cm_buf_slice(&x->mkey), idx), out,
	    max));
}

static void
cluster_failed(const struct gw_blksrc *s, const char *host, const char *err)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	if (err != NULL)
		clu_view_suspect(s->view, host);	/* a 5xx: it is up, only failing */
}

static void
cluster_count(const struct gw_blksrc *s, const struct gw_req *q)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC && q->magic == GW_REQ_MAGIC);
	clu_view_count(s->view, q->bucket, q->blk_hits, q->blk_misses, gw_req_served(q),
	    q->origin_bytes);
}

/* The request toward a worker, signed with the cluster secret over what
 * it sends: method, target (path and query as in its URL), Host,
 * Content-Type, and the hash of its (empty) body. The SigV4 Authorization
 * origin_req_build made with a client key is dropped: workers check the
 * cluster signature only. */
int
gw_worker_sign(struct origin_req *f, const struct gw_conf *gc, const char *method)
{
	struct clu_auth_msg m;
	struct clu_auth_hdrs h;
	const char *u = f->url.p, *p;
	size_t i, j, l;

	AN(gc);
	if (!gc->ckey_set || u == NULL)
		return (-1);
	memset(&m, 0, sizeof m);
	m.method = cm_slice_str(method);
	p = strstr(u, "://");
	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return (-1);
	m.target = cm_slice(p, strlen(p));
	m.host = cm_slice("", 0);
	m.content_type = cm_slice("", 0);
	for (i = 0, j = 0; i < f->n; i++) {
		if (cm_slice_eq_nocase(f->hdrs[i].name, CM_SLICE_LIT("host")))
			m.host = f->hdrs[i].value;
		else if (cm_slice_eq_nocase(f->hdrs[i].name, CM_SLICE_LIT("content-type")))
			m.content_type = f->hdrs[i].value;
		f->hdrs[j++] = f->hdrs[i];
	}
	f->n = j;
	clu_auth_body_sha256("", 0, m.body_sha256);
	if (clu_auth_sign(&gc->ckey, &m, (int64_t)time(NULL), NULL, &h) != 0)
		return (-1);
	l = strlen(CLU_AUTH_DATE);
	if (origin_req_add_hdr(f, CLU_AUTH_DATE, l, h.date, strlen(h.date)) != 0 ||
	    origin_req_add_hdr(f, CLU_AUTH_NONCE, strlen(CLU_AUTH_NONCE), h.nonce,
	    strlen(h.nonce)) != 0 ||
	    origin_req_add_hdr(f, CLU_AUTH_MAC, strlen(CLU_AUTH_MAC), h.mac, strlen(h.mac)) != 0)
		return (-1);
	return (0);
}

/* A gateway that has never had a ring cannot tell any worker to forget
 * what a write changes: the write is refused before it reaches the origin
 * (one that had a ring keeps it while the master is away, and tells the
 * workers it knows; gw_inval.c handles a ring that lags). */
static int
cluster_writable(const struct gw_blksrc *s, char *why, size_t len)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	if (clu_view_epoch(s->view) > 0)
		return (1);
	snprintf(why, len, "no ring yet");
	return (0);
}

uint64_t
gw_blksrc_epoch(const struct gw_blksrc *s)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	if (s->view != NULL)
		return (clu_view_epoch(s->view));
	if (s->agent != NULL)
		return (clu_agent_epoch(s->agent));
	return (0);
}

const struct gw_blksrc_ops gw_blksrc_cluster = {
	.name = "cluster",
	.meta = cluster_meta,
	.open = cluster_open,
	.owners = cluster_owners,
	.run_max = 1,
	.failed = cluster_failed,
	.count = cluster_count,
	.writable = cluster_writable,
	.invalidate = gw_inval_workers,
	.fini = gw_blksrc_def_fini,
};
