/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_inval.c: invalidation, the invalidate slot of struct gw_blksrc_ops
 * (gw_priv.h): what is to be forgotten (struct gw_forget: a key, the keys
 * of a DeleteObjects, a prefix, a bucket; gw_forget_of_write makes a
 * write's), how a store forgets it (gw_cache_forget), and the two
 * implementations: the local block source's (serve, a worker: the store
 * forgets at once, done at once) and the cluster's (the staging store
 * forgets, every worker of the ring is told with a DELETE marked
 * x-cachalot-invalidate and signed with the cluster secret; done when the
 * last has answered or failed). A write's held answer is sent from done
 * (gw_s3.c), and so is a worker's 204 to a gateway's invalidation.
 *
 * Threads: the loop that asked (an invalidation in flight is its; its
 * requests run on that loop's libcurl client). No lock of its own; the
 * store locks for itself (cache.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "common/cm_log.h"
#include "gateway/gw_delete.h"
#include "gateway/gw_priv.h"

/* ---- What is to be forgotten ---- */

static int
add_enc_key(void *arg, const char *key, size_t len)
{
	struct cm_buf *b = arg;

	(void)len;	/* NUL-terminated; XML cannot hold a NUL */
	if (s3sig_uri_encode_path(b, key) != 0 || cm_buf_addc(b, '\0') != 0)
		return (-1);
	return (0);
}

void
gw_forget_of_write(struct gw_forget *f, struct cm_buf *keys, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey, const struct cm_buf *delbody,
    const char *req_id)
{
	int n = -1;

	memset(f, 0, sizeof *f);
	f->bucket = bucket;
	f->req_id = req_id;
	if (op == GW_OP_DeleteBucket) {
		f->what = GW_FORGET_BUCKET;
		return;
	}
	if (op != GW_OP_DeleteObjects) {
		f->what = GW_FORGET_KEY;
		f->key = rawkey;
		return;
	}
	/* The keys of a DeleteObjects body are literal (no percent-encoding);
	 * the cache knows a key by its canonical encoding, which is the
	 * encoding of the literal key. */
	if (keys != NULL && delbody != NULL && delbody->p != NULL)
		n = gw_delete_keys(delbody->p, delbody->len, GW_DELETE_MAX_KEYS, add_enc_key, keys);
	if (n < 0) {
		CM_LOGI("req=%s DeleteObjects on %.*s: its keys could not be read: the bucket is "
		    "forgotten", req_id, (int)bucket.len, bucket.p);
		f->what = GW_FORGET_BUCKET;
		return;
	}
	f->what = GW_FORGET_KEYS;
	f->keys = keys->p;
	f->nkeys = (size_t)n;
}

void
gw_cache_forget(struct cache_store *store, const struct gw_forget *f)
{
	struct cm_buf k;
	size_t i, at;

	if (store == NULL)
		return;
	switch (f->what) {
	case GW_FORGET_KEY:
		cm_buf_init(&k, 64 * 1024);
		if (s3sig_canon_uri(&k, f->key) == 0)
			cache_meta_invalidate(store, f->bucket, cm_buf_slice(&k));
		cm_buf_free(&k);
		break;
	case GW_FORGET_KEYS:
		for (i = 0, at = 0; i < f->nkeys; i++) {
			struct cm_slice key = cm_slice_str(f->keys + at);

			cache_meta_invalidate(store, f->bucket, key);
			at += key.len + 1;
		}
		break;
	case GW_FORGET_PREFIX:
		cache_meta_invalidate_prefix(store, f->bucket, f->key);
		break;
	case GW_FORGET_BUCKET:
		cache_meta_invalidate_bucket(store, f->bucket);
		break;
	}
}

/* ---- The local block source's: the store forgets, now ---- */

struct gw_inval *
gw_blksrc_def_invalidate(const struct gw_blksrc *s, struct gw_ctx *ctx, const struct gw_forget *f,
    gw_inval_done_f *done, void *arg)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	gw_cache_forget(ctx->conf->cache, f);
	done(arg);
	return (NULL);
}

/* ---- The cluster's: every worker of the ring is told ---- */

/* An invalidation in flight: one request per worker (and key). */
struct gw_inval {
	unsigned		magic;
#define GW_INVAL_MAGIC		0x14a1d0e5
	gw_inval_done_f		*done;
	void			*arg;
	char			req_id[sizeof ((struct http_req *)0)->id];
	struct inval_one	*one;
	size_t			n;
	size_t			pending;
};

struct inval_one {
	struct gw_inval		*v;
	struct http_creq	*oreq;
};

static void
inval_free(struct gw_inval *v)
{
	v->magic = 0;
	free(v->one);
	free(v);
}

void
gw_inval_cancel(struct gw_inval **vp)
{
	struct gw_inval *v = *vp;
	size_t i;

	*vp = NULL;
	if (v == NULL)
		return;
	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	for (i = 0; i < v->n; i++)
		if (v->one[i].oreq != NULL)
			http_creq_cancel(&v->one[i].oreq);
	inval_free(v);
}

static int inval_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{ (void)arg; (void)status; (void)hdrs; (void)n; return (0); }
static int inval_data(void *arg, const char *p, size_t len) { (void)arg; (void)p; (void)len; return (0); }
static ssize_t inval_body(void *arg, char *buf, size_t max) { (void)arg; (void)buf; (void)max; return (0); }

static void
inval_done(void *arg, const char *err)
{
	struct inval_one *o = arg;
	struct gw_inval *v = o->v;
	gw_inval_done_f *done;
	void *darg;

	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	o->oreq = NULL;
	if (err != NULL)
		CM_LOGW("req=%s invalidation on a worker failed: %s", v->req_id, err);
	if (--v->pending > 0)
		return;
	done = v->done;
	darg = v->arg;
	inval_free(v);
	done(darg);
}

static const struct http_creq_ops inval_ops = { inval_head, inval_data, inval_body, inval_done };

/* Tells every worker of the ring to forget what f names: the key, each of
 * a few keys, else the bucket. The invalidation in flight, or NULL when
 * nobody could be told. */
static struct gw_inval *
invalidate_workers(const struct gw_blksrc *s, struct gw_ctx *ctx, const struct gw_forget *f)
{
	struct origin_target *t;
	struct origin_req fwd;
	struct s3sig_hdr h[1];
	struct gw_inval *v = NULL;
	size_t n, i, j, nk = 1, at;
	int bucket_wide = f->what == GW_FORGET_BUCKET || f->what == GW_FORGET_PREFIX ||
	    (f->what == GW_FORGET_KEYS && (f->nkeys == 0 || f->nkeys > INVAL_KEYS_MAX));

	if (f->what == GW_FORGET_KEYS && !bucket_wide)
		nk = f->nkeys;
	origin_req_init(&fwd);
	n = clu_view_size(s->view);
	t = calloc(n > 0 ? n : 1, sizeof *t);
	if (t == NULL)
		goto out;
	n = gw_worker_all(s->view, t, n);	/* the ring may have shrunk since */
	if (n == 0)
		goto out;
	v = calloc(1, sizeof *v);
	if (v == NULL)
		goto out;
	v->magic = GW_INVAL_MAGIC;
	snprintf(v->req_id, sizeof v->req_id, "%s", f->req_id != NULL ? f->req_id : "-");
	v->one = calloc(n * nk, sizeof *v->one);
	if (v->one == NULL)
		goto out;
	/* What tells the worker this DELETE is a gateway's invalidation (and
	 * not a client's write sent to the wrong place): signed with the
	 * rest, under the cluster's key. */
	h[0].name = CM_SLICE_LIT(GW_INVALIDATE_HDR);
	h[0].value = CM_SLICE_LIT("1");
	for (i = 0; i < n; i++) {
		for (j = 0, at = 0; j < nk; j++) {
			struct cm_slice key = bucket_wide ? cm_slice("", 0) : f->key;

			if (f->what == GW_FORGET_KEYS && !bucket_wide) {
				key = cm_slice_str(f->keys + at);
				at += key.len + 1;
			}
			origin_req_fini(&fwd);
			origin_req_init(&fwd);
			if (origin_req_build(&fwd, &t[i], CM_SLICE_LIT("DELETE"), cm_slice("", 0), h,
			    1, f->bucket, key, 0, NULL, time(NULL)) != 0 ||
			    gw_worker_sign(&fwd, ctx->conf, "DELETE") != 0)
				continue;
			/* The URL and headers are copied: one fwd serves all. */
			v->one[v->n].v = v;
			v->one[v->n].oreq = http_creq_start_ex(ctx->origin, "DELETE", fwd.url.p,
			    fwd.hdrs, fwd.n, -1, HTTP_CREQ_INTERNAL, &inval_ops, &v->one[v->n]);
			if (v->one[v->n].oreq != NULL)
				v->n++;
		}
	}
	v->pending = v->n;
out:
	origin_req_fini(&fwd);
	free(t);
	if (v != NULL && v->n == 0) {
		inval_free(v);
		v = NULL;
	}
	return (v);
}

struct gw_inval *
gw_inval_workers(const struct gw_blksrc *s, struct gw_ctx *ctx, const struct gw_forget *f,
    gw_inval_done_f *done, void *arg)
{
	struct gw_inval *v;

	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	gw_cache_forget(ctx->conf->cache, f);	/* the staging store */
	v = invalidate_workers(s, ctx, f);
	if (v == NULL) {
		done(arg);	/* nobody to tell */
		return (NULL);
	}
	v->done = done;
	v->arg = arg;
	return (v);
}
