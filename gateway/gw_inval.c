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
	done(arg, 1);
	return (NULL);
}

/* ---- The cluster's: every worker of the ring is told ---- */

/*
 * A ring that lags. Each invalidation carries the ring's epoch the gateway
 * sends it under (GW_EPOCH_HDR) and each worker answers the epoch the
 * master last gave it. A worker that knows a newer epoch tells the
 * gateway that its ring may miss a worker that joined since (and may
 * have cached the old version through another gateway): the gateway
 * fetches the ring now (clu_view_poll_soon), waits for it on its loop
 * (polled every LAG_TICK_MS, at most LAG_WAIT_MS), and tells every worker
 * of the new ring; when the ring cannot be had in that time, done is told
 * the forgetting is not confirmed (the write's answer says so).
 */
#define LAG_TICK_MS	20
#define LAG_WAIT_MS	3000
#define LAG_ROUNDS	4

/*
 * A worker that did not take its invalidation (no answer in time, an
 * error status) may be alive and serve the old version to another
 * gateway: the write is acknowledged only once the master has ordered
 * every worker to forget it and every worker up has applied that order
 * (a fence: clu_view_fence; the worker, if it is cut off, is marked down
 * and revalidates everything when it is back). A worker that refused the
 * connection is not running: when it starts it revalidates everything it
 * loaded (clu_agent_new), so it needs no fence. A fence that cannot be
 * had in time (the master away too) leaves the write unconfirmed.
 */
#define FENCE_GIVE_UP_MS	12000

/* An invalidation in flight: one request per worker (and key), in
 * rounds (a second one when a worker said the ring has moved on). */
struct gw_inval {
	unsigned		magic;
#define GW_INVAL_MAGIC		0x14a1d0e5
	const struct gw_blksrc	*s;
	struct gw_ctx		*ctx;
	gw_inval_done_f		*done;
	void			*arg;
	char			req_id[sizeof ((struct http_req *)0)->id];
	struct gw_forget	f;		/* a copy, into fbuf */
	struct cm_buf		fbuf;
	struct inval_one	*one;
	size_t			n;
	size_t			pending;
	uint64_t		epoch;		/* the ring's this round was sent under */
	uint64_t		newer;		/* the greatest a worker said, if newer */
	unsigned		rounds;
	unsigned		waited_ms;
	struct event		*tick;		/* waiting for the new ring, or the fence */
	int			missed;		/* a worker may have missed it: fence */
	struct clu_fence	*fence;		/* asked of the master, or NULL */
};

struct inval_one {
	struct gw_inval		*v;
	struct http_creq	*oreq;
};

static void
inval_cancel_round(struct gw_inval *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->one[i].oreq != NULL)
			http_creq_cancel(&v->one[i].oreq);
	free(v->one);
	v->one = NULL;
	v->n = v->pending = 0;
}

static void
inval_free(struct gw_inval *v)
{
	inval_cancel_round(v);
	if (v->tick != NULL)
		event_free(v->tick);
	clu_fence_release(&v->fence);
	cm_buf_free(&v->fbuf);
	v->magic = 0;
	free(v);
}

void
gw_inval_cancel(struct gw_inval **vp)
{
	struct gw_inval *v = *vp;

	*vp = NULL;
	if (v == NULL)
		return;
	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	inval_free(v);
}

/* The end: done once, v freed first (done may free what holds it). */
static void
inval_finish(struct gw_inval *v, int confirmed)
{
	gw_inval_done_f *done = v->done;
	void *darg = v->arg;

	if (!confirmed)
		GW_INC(&v->ctx->metrics, inval_unconfirmed, 1);
	else if (v->fence != NULL)
		GW_INC(&v->ctx->metrics, inval_fenced, 1);
	else if (v->rounds > 1)
		GW_INC(&v->ctx->metrics, inval_ring_caught_up, 1);
	else
		GW_INC(&v->ctx->metrics, inval_confirmed, 1);

	inval_free(v);
	done(darg, confirmed);
}

static int
inval_head(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n)
{
	struct inval_one *o = arg;
	struct gw_inval *v = o->v;
	uint64_t e;
	size_t i;

	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	if (status < 200 || status >= 300) {
		CM_LOGW("req=%s invalidation: a worker answered %d", v->req_id, status);
		v->missed = 1;
	}
	for (i = 0; i < n; i++)
		if (cm_slice_eq_nocase(hdrs[i].name, CM_SLICE_LIT(GW_EPOCH_HDR)) &&
		    cm_parse_u64(cm_slice_trim(hdrs[i].value), UINT64_MAX, &e) == 0 &&
		    e > v->epoch && e > v->newer)
			v->newer = e;
	return (0);
}
static int inval_data(void *arg, const char *p, size_t len) { (void)arg; (void)p; (void)len; return (0); }
static ssize_t inval_body(void *arg, char *buf, size_t max) { (void)arg; (void)buf; (void)max; return (0); }

static size_t inval_round(struct gw_inval *v);

/* Asks the master for a fence over what v->f names: a key's canonical
 * form as the prefix (forgetting the keys it begins too: more, never
 * less), else the bucket. 0, or -1. */
static int
inval_fence(struct gw_inval *v)
{
	struct cm_buf k;
	struct cm_slice prefix = cm_slice("", 0);
	int rv = -1;

	cm_buf_init(&k, 64 * 1024);
	if (v->f.what == GW_FORGET_KEY) {
		if (s3sig_canon_uri(&k, v->f.key) != 0)
			goto out;
		prefix = cm_buf_slice(&k);
	} else if (v->f.what == GW_FORGET_PREFIX) {
		prefix = v->f.key;
	}
	CM_LOGI("req=%s invalidation: a worker may have missed it: fencing %.*s/%.*s through the "
	    "master", v->req_id, (int)v->f.bucket.len, v->f.bucket.p, (int)prefix.len, prefix.p);
	v->fence = clu_view_fence(v->s->view, v->f.bucket, prefix);
	rv = v->fence != NULL ? 0 : -1;
out:
	cm_buf_free(&k);
	return (rv);
}

/* Waiting for the ring a worker said exists (LAG_TICK_MS apart). */
static void
inval_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw_inval *v = arg;
	struct timeval tv = { 0, LAG_TICK_MS * 1000 };

	(void)fd;
	(void)what;
	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	if (v->fence != NULL) {
		int st = clu_fence_state(v->fence);

		v->waited_ms += LAG_TICK_MS;
		if (st == CLU_FENCE_APPLIED || st == CLU_FENCE_FAILED || v->waited_ms >= FENCE_GIVE_UP_MS) {
			if (st != CLU_FENCE_APPLIED)
				CM_LOGW("req=%s invalidation: a worker did not take it and the fence "
				    "failed: not confirmed", v->req_id);
			inval_finish(v, st == CLU_FENCE_APPLIED);
			return;
		}
		evtimer_add(v->tick, &tv);
		return;
	}
	if (clu_view_epoch(v->s->view) >= v->newer) {
		CM_LOGI("req=%s invalidation: the ring moved on (epoch %llu): telling its workers",
		    v->req_id, (unsigned long long)clu_view_epoch(v->s->view));
		if (inval_round(v) == 0)
			inval_finish(v, 1);	/* nobody in the new ring */
		return;
	}
	v->waited_ms += LAG_TICK_MS;
	if (v->waited_ms >= LAG_WAIT_MS) {
		CM_LOGW("req=%s invalidation: a worker knows ring epoch %llu, this gateway has %llu "
		    "and could not fetch the new one in %d ms: not confirmed", v->req_id,
		    (unsigned long long)v->newer, (unsigned long long)clu_view_epoch(v->s->view),
		    LAG_WAIT_MS);
		inval_finish(v, 0);
		return;
	}
	if (v->waited_ms % 500 == 0)
		clu_view_poll_soon(v->s->view);
	evtimer_add(v->tick, &tv);
}

/* Waits on the loop (inval_tick, LAG_TICK_MS apart) for the new ring or
 * the fence. 0, or -1 out of memory. */
static int
inval_wait(struct gw_inval *v)
{
	struct timeval tv = { 0, LAG_TICK_MS * 1000 };

	if (v->tick == NULL)
		v->tick = evtimer_new(v->ctx->base, inval_tick, v);
	if (v->tick == NULL)
		return (-1);
	v->waited_ms = 0;
	evtimer_add(v->tick, &tv);
	return (0);
}

static void
inval_done(void *arg, const char *err)
{
	struct inval_one *o = arg;
	struct gw_inval *v = o->v;

	CM_ASSERT(v->magic == GW_INVAL_MAGIC);
	o->oreq = NULL;
	if (err != NULL) {
		CM_LOGW("req=%s invalidation on a worker failed: %s", v->req_id, err);
		if (!http_creq_err_refused(err))
			v->missed = 1;
	}
	if (--v->pending > 0)
		return;
	if (v->newer == 0 && !v->missed) {
		inval_finish(v, 1);
		return;
	}
	if (v->newer == 0) {
		/* A worker may have missed it: fenced through the master. */
		if (inval_fence(v) != 0 || inval_wait(v) != 0)
			inval_finish(v, 0);
		return;
	}
	/* A worker knows a newer ring than this round was sent under. */
	if (v->rounds >= LAG_ROUNDS || inval_wait(v) != 0) {
		inval_finish(v, 0);
		return;
	}
	clu_view_poll_soon(v->s->view);
}

static const struct http_creq_ops inval_ops = { inval_head, inval_data, inval_body, inval_done };

/* Copies f into v (its slices into v->fbuf). 0, or -1 out of memory. */
static int
inval_copy(struct gw_inval *v, const struct gw_forget *f)
{
	size_t klen = 0, i, at, boff, koff, ksoff;
	struct cm_buf *b = &v->fbuf;

	for (i = 0, at = 0; f->what == GW_FORGET_KEYS && i < f->nkeys; i++) {
		size_t l = strlen(f->keys + at) + 1;

		at += l;
		klen += l;
	}
	cm_buf_init(b, f->bucket.len + f->key.len + klen + 64);
	boff = b->len;
	if (cm_buf_add(b, f->bucket.p, f->bucket.len) != 0 || cm_buf_addc(b, '\0') != 0)
		return (-1);
	koff = b->len;
	if (cm_buf_add(b, f->key.p, f->key.len) != 0 || cm_buf_addc(b, '\0') != 0)
		return (-1);
	ksoff = b->len;
	if (klen > 0 && cm_buf_add(b, f->keys, klen) != 0)
		return (-1);
	v->f = *f;
	v->f.bucket = cm_slice(b->p + boff, f->bucket.len);
	v->f.key = cm_slice(b->p + koff, f->key.len);
	v->f.keys = klen > 0 ? b->p + ksoff : NULL;
	v->f.req_id = v->req_id;
	return (0);
}

/* One round: tells every worker of the ring as it is now to forget what
 * v->f names (the key, each of a few keys, else the bucket). How many
 * requests were started (0: nobody could be told). */
static size_t
inval_round(struct gw_inval *v)
{
	const struct gw_forget *f = &v->f;
	struct origin_target *t;
	struct origin_req fwd;
	struct s3sig_hdr h[2];
	char epoch[24];
	size_t n, i, j, nk = 1, at;
	int bucket_wide = f->what == GW_FORGET_BUCKET || f->what == GW_FORGET_PREFIX ||
	    (f->what == GW_FORGET_KEYS && (f->nkeys == 0 || f->nkeys > INVAL_KEYS_MAX));

	inval_cancel_round(v);
	v->rounds++;
	v->newer = 0;
	if (f->what == GW_FORGET_KEYS && !bucket_wide)
		nk = f->nkeys;
	origin_req_init(&fwd);
	v->epoch = clu_view_epoch(v->s->view);
	n = clu_view_size(v->s->view);
	t = calloc(n > 0 ? n : 1, sizeof *t);
	if (t == NULL)
		goto out;
	n = gw_worker_all(v->s->view, t, n);	/* the ring may have shrunk since */
	if (n == 0)
		goto out;
	v->one = calloc(n * nk, sizeof *v->one);
	if (v->one == NULL)
		goto out;
	/* What tells the worker this DELETE is a gateway's invalidation (and
	 * not a client's write sent to the wrong place): signed with the
	 * rest, under the cluster's key. */
	snprintf(epoch, sizeof epoch, "%llu", (unsigned long long)v->epoch);
	h[0].name = CM_SLICE_LIT(GW_INVALIDATE_HDR);
	h[0].value = CM_SLICE_LIT("1");
	h[1].name = CM_SLICE_LIT(GW_EPOCH_HDR);
	h[1].value = cm_slice_str(epoch);
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
			    2, f->bucket, key, 0, NULL, time(NULL)) != 0 ||
			    gw_worker_sign(&fwd, v->ctx->conf, "DELETE") != 0)
				continue;
			/* The URL and headers are copied: one fwd serves all. */
			v->one[v->n].v = v;
			v->one[v->n].oreq = http_creq_start_ex(v->ctx->origin, "DELETE", fwd.url.p,
			    fwd.hdrs, fwd.n, -1, HTTP_CREQ_INTERNAL, &inval_ops, &v->one[v->n]);
			if (v->one[v->n].oreq != NULL)
				v->n++;
		}
	}
	v->pending = v->n;
out:
	origin_req_fini(&fwd);
	free(t);
	return (v->n);
}

struct gw_inval *
gw_inval_workers(const struct gw_blksrc *s, struct gw_ctx *ctx, const struct gw_forget *f,
    gw_inval_done_f *done, void *arg)
{
	struct gw_inval *v;

	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	gw_cache_forget(ctx->conf->cache, f);	/* the staging store */
	v = calloc(1, sizeof *v);
	if (v == NULL) {
		done(arg, 0);
		return (NULL);
	}
	v->magic = GW_INVAL_MAGIC;
	v->s = s;
	v->ctx = ctx;
	v->done = done;
	v->arg = arg;
	snprintf(v->req_id, sizeof v->req_id, "%s", f->req_id != NULL ? f->req_id : "-");
	if (inval_copy(v, f) != 0) {
		inval_free(v);
		done(arg, 0);
		return (NULL);
	}
	if (inval_round(v) == 0) {
		/* Nobody to tell: a ring with no worker (each that comes back
		 * revalidates what it held before serving it). */
		inval_free(v);
		done(arg, 1);
		return (NULL);
	}
	return (v);
}
