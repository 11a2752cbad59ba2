/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_inval.c: a write's invalidation (the invalidate slot of struct
 * gw_blksrc_ops, picked once in gw_main.c): the local store forgets what the write
 * names, and in a cluster every worker of the ring is told (a DELETE
 * marked x-cachalot-invalidate, signed under the cluster key); the write's
 * held answer is sent from done.
 *
 * Threads: the request's loop.
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

/*
 * A write went through (or may have): the cache forgets what it names,
 * before the client hears back. DeleteObjects names its keys in its body;
 * when that could not be kept or read, its whole bucket goes.
 */
void
gw_s3_forget(struct xfer *x)
{
	if (x->forgotten || !gw_s3_is_write(x->op))
		return;
	x->forgotten = 1;
	if (x->op == GW_OP_DeleteObjects)
		gw_cache_invalidate_delete(x->ctx, x->bucket_s, x->del_overflow ? NULL : &x->delbody);
	else
		gw_cache_invalidate(x->ctx, x->op, x->bucket_s, x->rawkey_s);
}

static int inval_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{ (void)arg; (void)status; (void)hdrs; (void)n; return (0); }
static int inval_data(void *arg, const char *p, size_t len) { (void)arg; (void)p; (void)len; return (0); }
static ssize_t inval_body(void *arg, char *buf, size_t max) { (void)arg; (void)buf; (void)max; return (0); }

static void
inval_done(void *arg, const char *err)
{
	struct inval *v = arg;
	struct xfer *x = v->x;

	v->oreq = NULL;
	if (err != NULL)
		CM_LOGW("req=%s invalidation on a worker failed: %s", x->req->id, err);
	if (--x->inval_pending == 0)
		x->inval_done(x);
}

static const struct http_creq_ops inval_ops = { inval_head, inval_data, inval_body, inval_done };

/* The keys of a DeleteObjects, encoded as request paths: "key\0key\0". */
struct enc_keys {
	struct cm_buf		b;
	size_t			n;
};

static int
add_enc_key(void *arg, const char *key, size_t len)
{
	struct enc_keys *k = arg;

	(void)len;
	if (s3sig_uri_encode_path(&k->b, key) != 0 || cm_buf_addc(&k->b, '\0') != 0)
		return (-1);
	k->n++;
	return (0);
}

/* Tells every worker of the ring to forget the key (or the bucket; for a
 * DeleteObjects of a few keys, each of them); the answer is released when
 * all have answered or failed. 0 when started, -1 when there is nobody to
 * tell. */
static int
invalidate_workers(struct xfer *x)
{
	struct origin_target *t;
	struct http_req r;
	struct enc_keys keys;
	size_t n, i, j, nk = 1, at;
	int bucket_wide = x->op == GW_OP_DeleteObjects || x->op == GW_OP_DeleteBucket, rv = -1;

	cm_buf_init(&keys.b, 256 * 1024);
	keys.n = 0;
	if (x->op == GW_OP_DeleteObjects && !x->del_overflow && x->delbody.p != NULL &&
	    gw_delete_keys(x->delbody.p, x->delbody.len, INVAL_KEYS_MAX, add_enc_key, &keys) > 0) {
		bucket_wide = 0;
		nk = keys.n;
	}
	n = clu_view_size(x->ctx->conf->src.view);
	t = calloc(n > 0 ? n : 1, sizeof *t);
	if (t == NULL)
		goto out;
	n = gw_worker_all(x->ctx->conf->src.view, t, n);	/* the ring may have shrunk since */
	x->inval = calloc(n > 0 ? n * nk : 1, sizeof *x->inval);
	if (n == 0 || x->inval == NULL)
		goto out;
	memset(&r, 0, sizeof r);
	r.method = CM_SLICE_LIT("DELETE");
	r.query = cm_slice("", 0);
	/* What tells the worker this DELETE is a gateway's invalidation (and
	 * not a client's write sent to the wrong place): signed with the
	 * rest, under the cluster's key. */
	r.hdrs[0].name = CM_SLICE_LIT(GW_INVALIDATE_HDR);
	r.hdrs[0].value = CM_SLICE_LIT("1");
	r.nhdrs = 1;
	memcpy(r.id, x->req->id, sizeof r.id);
	for (i = 0; i < n; i++) {
		for (j = 0, at = 0; j < nk; j++) {
			struct cm_slice key = bucket_wide ? cm_slice("", 0) : x->rawkey_s;

			if (keys.n > 0) {
				key = cm_slice_str(keys.b.p + at);
				at += key.len + 1;
			}
			origin_req_fini(&x->fwd);
			origin_req_init(&x->fwd);
			if (origin_req_build(&x->fwd, &t[i], r.method, r.query, r.hdrs,
			    r.nhdrs, x->bucket_s, key, 0, NULL, time(NULL)) != 0 ||
			    gw_worker_sign(&x->fwd, x->ctx->conf, "DELETE") != 0)
				continue;
			/* The URL and headers are copied: one fwd serves all. */
			x->inval[x->ninval].x = x;
			x->inval[x->ninval].oreq = http_creq_start_ex(x->ctx->origin, "DELETE",
			    x->fwd.url.p, x->fwd.hdrs, x->fwd.n, -1, HTTP_CREQ_INTERNAL, &inval_ops,
			    &x->inval[x->ninval]);
			if (x->inval[x->ninval].oreq != NULL)
				x->ninval++;
		}
	}
	x->inval_pending = x->ninval;
	rv = x->ninval > 0 ? 0 : -1;
out:
	free(t);
	cm_buf_free(&keys.b);
	return (rv);
}

/* ---- A write's invalidation: the block sources' invalidate slots ---- */

/* The local block source's (serve, a worker): the store forgets now. */
void
gw_blksrc_def_invalidate(struct xfer *x, gw_inval_done_f *done)
{
	CM_ASSERT(x->magic == XFER_MAGIC);
	gw_s3_forget(x);
	done(x);
}

/* A cluster gateway: its staging store forgets now, every worker of the
 * ring is told (a write the origin refused changed nothing there); done
 * when the last has answered or failed. */
void
gw_inval_workers(struct xfer *x, gw_inval_done_f *done)
{
	CM_ASSERT(x->magic == XFER_MAGIC);
	gw_s3_forget(x);
	x->inval_done = done;
	if (x->status < 300 && invalidate_workers(x) == 0)
		return;		/* done by the last invalidation */
	done(x);
}

