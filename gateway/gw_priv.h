/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_priv.h: shared only inside gateway/.
 */
#ifndef CACHALOT_GW_PRIV_H
#define CACHALOT_GW_PRIV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cluster/cluster.h"
#include "common/cm_config.h"
#include "gateway/gw_err.h"
#include "http/http.h"
#include "gateway/gw_metrics.h"
#include "origin/origin.h"
#include "s3sig/s3sig.h"

_Static_assert(ORIGIN_MAX_HDRS >= HTTP_MAX_HDRS + 8, "a client request fits an origin request");

struct gw_log;
struct gw_log_loop;
struct event_base;

/* A worker of the cluster as a target: plain HTTP, signed with the
 * cluster's key. */
static inline void
gw_target_of_worker(struct origin_target *t, const struct clu_target *w)
{
	memset(t, 0, sizeof *t);
	t->ops = &origin_worker_ops;	/* S3, signed with the cluster's key */
	snprintf(t->scheme, sizeof t->scheme, "http");
	snprintf(t->host, sizeof t->host, "%s", w->host);
}

/* clu_view_targets and clu_view_all, as gateway targets. */
static inline size_t
gw_worker_targets(struct clu_view *v, uint64_t h, struct origin_target *out, size_t max)
{
	struct clu_target w[16];
	size_t n = clu_view_targets(v, h, w, max < 16 ? max : 16), i;

	for (i = 0; i < n; i++)
		gw_target_of_worker(&out[i], &w[i]);
	return (n);
}

static inline size_t
gw_worker_all(struct clu_view *v, struct origin_target *out, size_t max)
{
	struct clu_target *w = calloc(max > 0 ? max : 1, sizeof *w);
	size_t n = w != NULL ? clu_view_all(v, w, max) : 0, i;

	for (i = 0; i < n; i++)
		gw_target_of_worker(&out[i], &w[i]);
	free(w);
	return (n);
}

struct cread;
struct cache_blk;

/*
 * A block source: where a cached read gets its metadata and its blocks,
 * and how a write makes every copy of what it names forgotten. One const
 * table per implementation, picked once at start (cli/cli_roles.c), so that the
 * read path tests no role: gw_blksrc_local.c (the store and its tiers:
 * serve; a worker's variant takes a gateway's word for the version it
 * asks blocks of), gw_blksrc_cluster.c (a cluster gateway: the owners on
 * the ring, failing over to the next owner, then the origin; its store is
 * a staging store). Every slot is set (gw_blksrc_def_* where an
 * implementation has nothing to do), so callers never test for NULL;
 * gw_blksrc_init checks it. Loop threads call every slot but fini (main
 * thread, once the loops are stopped).
 */
struct gw_blksrc;
struct gw_ctx;
struct gw_req;

/*
 * What an invalidation makes forgotten wherever blocks of it are cached:
 * in bucket, one key, the keys a DeleteObjects named, the keys under a
 * prefix, or the whole bucket. A write's is made by gw_forget_of_write
 * (gw_inval.c). Borrowed by whoever it is given to, for that call only.
 */
enum gw_forget_what { GW_FORGET_KEY, GW_FORGET_KEYS, GW_FORGET_PREFIX, GW_FORGET_BUCKET };
struct gw_forget {
	enum gw_forget_what	what;
	struct cm_slice		bucket;
	/* KEY: percent-encoded as a request's path names it (the store
	 * knows it by its canonical form, s3sig_canon_uri); PREFIX: in
	 * that canonical form (see cache_meta_invalidate_prefix). */
	struct cm_slice		key;
	/* KEYS: nkeys names, "key\0key\0...", each the percent-encoding of
	 * a literal key (s3sig_uri_encode_path: the canonical form too). */
	const char		*keys;
	size_t			nkeys;
	const char		*req_id;	/* whose, for the logs */
};
/* A DeleteObjects of more keys: the workers forget the bucket (one
 * request per key and worker is what it costs otherwise). */
#define INVAL_KEYS_MAX	32
/* An invalidation's end (called once, on the loop it was asked on).
 * confirmed: 1 when every cache that could serve the old bytes has
 * forgotten them (or was not reachable, see gw_inval_workers); 0 when that
 * could not be made sure of (a worker said the ring has moved on and this
 * gateway could not fetch the new one in time): the write went through,
 * but it may not be answered as if nothing served its old version. */
typedef void gw_inval_done_f(void *arg, int confirmed);
/* An invalidation in flight (gw_inval.c: the cluster's). */
struct gw_inval;

/* The read's metadata (x->meta, x->have_meta as the store has them): ends
 * in gw_cr_evaluate, or in an answer and gw_cr_done. */
typedef void gw_blksrc_meta_f(struct cread *x);
/* Opens block idx (*bp: a new reference): CACHE_READ, CACHE_FILL (the
 * caller fills it), GW_CR_DISK (queued on the I/O thread: the completion
 * comes back on this loop, gw_cache_disk_done) or -1. Never reads a disk. */
typedef int gw_blksrc_open_f(struct cread *x, uint64_t idx, struct cache_blk **bp, int main);
/* The owners to ask for block idx (GW_BLK_META: the metadata) before the
 * origin, best first, at most max: how many. */
typedef size_t gw_blksrc_owners_f(const struct gw_blksrc *s, const struct cread *x, uint64_t idx,
    struct origin_target *out, size_t max);
/* Owner host failed a request (err: a transport error, NULL: a 5xx). */
typedef void gw_blksrc_failed_f(const struct gw_blksrc *s, const char *host, const char *err);
/* A cached read's 2xx GET is over: its per-bucket counts (q's blk_hits,
 * blk_misses, bytes_out, worker_bytes, origin_bytes) to whoever keeps
 * them. */
typedef void gw_blksrc_count_f(const struct gw_blksrc *s, const struct gw_req *q);
/*
 * Forgets what f names (borrowed for the call) wherever blocks of it are
 * cached, then calls done(arg), once: at once, before it returns NULL
 * (local: the store forgets), or later on ctx's loop when the last owner
 * has answered or failed (cluster: every worker of the ring is told); it
 * then returns the invalidation in flight, which gw_inval_cancel stops
 * (done is then never called). A write's answer is sent from done: in
 * every role, the client hears back once nothing can serve the old bytes.
 */
typedef struct gw_inval *gw_blksrc_invalidate_f(const struct gw_blksrc *s, struct gw_ctx *ctx,
    const struct gw_forget *f, gw_inval_done_f *done, void *arg);
/* May a write go to the origin now? 1, or 0 with why (the gateway could
 * not make every cache forget what the write changes: a cluster gateway
 * that has no ring yet). Asked before the write is forwarded, so that a
 * refused write changed nothing. */
typedef int gw_blksrc_writable_f(const struct gw_blksrc *s, char *why, size_t len);
typedef void gw_blksrc_fini_f(struct gw_blksrc *s);

struct gw_blksrc_ops {
	const char		*name;		/* "local", "worker", "cluster" */
	gw_blksrc_meta_f	*meta;
	gw_blksrc_open_f	*open;		/* gw_blksrc_def_open: memory, then disk */
	gw_blksrc_owners_f	*owners;	/* gw_blksrc_def_owners: none */
	size_t			run_max;	/* blocks per fill, 1..RUN_MAX */
	gw_blksrc_failed_f	*failed;	/* gw_blksrc_def_failed: nothing */
	gw_blksrc_count_f	*count;		/* gw_blksrc_def_count: a worker's agent */
	gw_blksrc_invalidate_f	*invalidate;	/* gw_blksrc_def_invalidate: the store forgets */
	gw_blksrc_writable_f	*writable;	/* gw_blksrc_def_writable: always */
	gw_blksrc_fini_f	*fini;		/* gw_blksrc_def_fini */
};
extern const struct gw_blksrc_ops gw_blksrc_local, gw_blksrc_worker;	/* gw_blksrc_local.c */
extern const struct gw_blksrc_ops gw_blksrc_cluster;		/* gw_blksrc_cluster.c */

/* One per process, in gw_conf; read-only once the loops run. Borrows
 * what it names (the roles' wiring, cli/cli_roles.c, owns them). */
struct gw_blksrc {
	unsigned		magic;
#define GW_BLKSRC_MAGIC		0xb1c5a0c1
	const struct gw_blksrc_ops *ops;
	struct clu_view		*view;		/* cluster: the ring; else NULL */
	struct clu_agent	*agent;		/* a worker with a master; else NULL */
};

/* gw_blksrc.c: s is ops's, naming view and agent (either may be NULL). */
void gw_blksrc_init(struct gw_blksrc *s, const struct gw_blksrc_ops *ops, struct clu_view *view,
    struct clu_agent *agent);
gw_blksrc_open_f gw_blksrc_def_open;
gw_blksrc_owners_f gw_blksrc_def_owners;
gw_blksrc_failed_f gw_blksrc_def_failed;
gw_blksrc_count_f gw_blksrc_def_count;
gw_blksrc_writable_f gw_blksrc_def_writable;
gw_blksrc_fini_f gw_blksrc_def_fini;
/* The ring's epoch as this process knows it: a cluster gateway's view's,
 * a worker's agent's (from the master's answers), else 0. Any thread. */
uint64_t gw_blksrc_epoch(const struct gw_blksrc *s);

/* ---- Invalidation (gw_inval.c): the invalidate slots and what they share ---- */

/* The local block source's (serve, a worker): the store forgets at once. */
gw_blksrc_invalidate_f gw_blksrc_def_invalidate;
/* The cluster block source's: the (staging) store forgets, every worker
 * of the ring is told (a DELETE marked GW_INVALIDATE_HDR, one per key of
 * a KEYS of at most INVAL_KEYS_MAX, else the bucket; a PREFIX is the
 * bucket to them: forgetting more, never less); done when the last has
 * answered or failed. */
gw_blksrc_invalidate_f gw_inval_workers;
/* Stops an invalidation in flight (its requests cancelled, its done never
 * called); *vp = NULL. */
void gw_inval_cancel(struct gw_inval **vp);
/* The store (NULL: none, nothing to do) forgets what f names, now. */
void gw_cache_forget(struct cache_store *store, const struct gw_forget *f);
/*
 * What write op on bucket/rawkey (percent-encoded as sent) makes
 * forgotten, into *f: its key; the bucket for a DeleteBucket; for a
 * DeleteObjects the keys its body names (delbody: as it passed, untrusted;
 * NULL when it was too large to keep), encoded into keys (f->keys points
 * into it: the caller frees it once f is used), or the bucket when they
 * cannot be read from it. req_id is borrowed.
 */
#define GW_FORGET_KEYS_MAX	(4 * DEL_BODY_MAX)	/* a key encodes to 3 times its bytes at most */
void gw_forget_of_write(struct gw_forget *f, struct cm_buf *keys, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey, const struct cm_buf *delbody,
    const char *req_id);

/*
 * gw_blksrc.c: the one failover loop, for the metadata's HEAD and for a
 * fill alike: the owners the block source names, in order, then the
 * origin. A 5xx or a transport error from an owner moves to the next; the
 * origin's answer is final.
 */
struct gw_try {
	struct origin_target	*t;		/* the owners, or NULL */
	size_t			n;
	size_t			tried;		/* t[tried - 1] is asked now */
	int			retry;		/* the owner answered 5xx */
};
/* The owners of block idx (GW_BLK_META: the metadata) for read x. */
#define GW_BLK_META	RING_META
void gw_try_init(struct cread *x, struct gw_try *t, uint64_t idx);
/* The next target: 0 with *tp an owner, or NULL for the origin; -1 when
 * the origin was asked already. */
int gw_try_next(struct gw_try *t, const struct origin_target **tp);
/* Whether the request in flight goes to an owner (not the origin). */
int gw_try_owner(const struct gw_try *t);
/* On a response head: 1 when it is an owner's 5xx (abort, then fail over). */
int gw_try_head(struct gw_try *t, int status);
/* On a request's end: 1 when an owner failed (logged, told to the block
 * source, counted): the caller asks gw_try_next's target; what names what
 * was asked, for the log. */
int gw_try_failover(struct cread *x, struct gw_try *t, const char *err, const char *what);
void gw_try_fini(struct gw_try *t);

/* Read-only after start-up; shared by every loop. */
struct gw_conf {
	const struct cm_config	*cfg;
	struct s3sig_conf	sig;
	struct s3sig_cred	creds[CM_MAX_CREDS + 1];
	struct origin_target	origin;
	char			region[64];		/* announced to clients */
	struct clu_view		*cluster;		/* a gateway with a master */
	struct clu_agent	*agent;			/* a worker with a master */
	struct gw_blksrc	src;			/* the cached read's, and a write's invalidation */
	int			worker;			/* this process is a worker */
	int			role;			/* CM_ROLE_SERVE, _GATEWAY or _WORKER */
	struct cache_store	*cache;			/* serve: the block cache; else NULL */
	struct cache_writer	*writer;		/* its disk tier's write-behind, or NULL */
	struct gw_log		*alog;			/* the access log, or NULL (off) */
	struct cache_io		*io;			/* its disk tier's I/O thread, or NULL */
	/* A cluster's gateway or worker: the cluster secret, which signs
	 * every gateway-to-worker request (gw_worker_sign) and which a worker
	 * checks on every request before anything else; ckey_set 0 outside
	 * a cluster. seen: a worker's nonces, one set shared by its loops
	 * (its own mutex, a leaf). */
	struct clu_auth_key	ckey;
	int			ckey_set;
	struct clu_auth_seen	*seen;
};

/* gw_blksrc_cluster.c: adds the cluster signature to f, a request built
 * toward a worker (no body), and drops its SigV4 Authorization (workers
 * hold no client key). 0, or -1. */
int gw_worker_sign(struct origin_req *f, const struct gw_conf *gc, const char *method);

/* The header a gateway's invalidation DELETE carries to the workers. */
#define GW_INVALIDATE_HDR	"x-cachalot-invalidate"
/* On an invalidation, the ring's epoch the gateway sent it under; on the
 * worker's answer, the epoch the worker knows (a greater one tells the
 * gateway its ring lags: gw_inval.c). */
#define GW_EPOCH_HDR		"x-cachalot-epoch"

/* One per event loop. */
struct gw_ctx {
	unsigned		magic;
#define GW_CTX_MAGIC		0x9a7e11c0
	const struct gw_conf	*conf;
	struct event_base	*base;
	struct s3sig_verifier	*verifier;
	struct http_client	*origin;
	struct cache_io_q	*ioq;		/* this loop's disk completions, or NULL */
	struct gw_metrics	metrics;
	struct gw_log_loop	*alog;			/* this loop's access-log buffer, or NULL */
};

/* gw_wgate.c: CLU_AUTH_OK when r carries a valid, fresh, unseen cluster
 * signature; else counted and (once per peer) logged. */
enum clu_auth_result gw_worker_gate(struct gw_ctx *ctx, struct http_conn *conn,
    const struct http_req *r);

/* gw_s3.c */
extern const struct http_server_ops gw_s3_ops;
/* Classifies a request; bucket/key as parsed. */
enum gw_op gw_s3_classify(struct cm_slice method, struct cm_slice query, int has_bucket,
    int has_key, int copy_source);
/* Splits the address: virtual-hosted when Host is BUCKET.domain, else
 * path-style. key is still percent-encoded as sent. 0, or -1 when malformed. */
int gw_s3_address(const char *vhost_domain, struct cm_slice host, struct cm_slice path,
    struct cm_slice *bucket, struct cm_slice *key, int *vhost);

/* gw_req.c: answers an S3 error of the gateway's own (gw_err.h) to q,
 * with that status (q->status): its body from gw_err_xml with the
 * request's path as <Resource> and fields after <Message>, counted by code;
 * hdrs (at most 4) are added to the head. */
struct gw_err_field;
void gw_req_error(struct gw_req *q, int status, const char *code, const char *msg,
    const struct gw_err_field *fields, size_t nfields, const struct s3sig_hdr *hdrs, size_t nhdrs);

/* gw_req.c: the origin's answer headers as a client gets them (see there). */
size_t gw_relay_headers(const struct gw_conf *gc, const struct s3sig_hdr *hdrs, size_t n,
    struct s3sig_hdr *out, size_t max, char *names, size_t namesz, uint64_t maxlen, int64_t *len,
    int *have_id, int *have_region);

/*
 * gw_req.c: what a pass-through (struct xfer) and a cached read (struct
 * cread) share, embedded in each as its member q: the request as it is
 * logged and counted, and its one end, gw_req_end. Each kind says what is its
 * own in a const struct gw_req_ops. Lives on its connection's loop.
 */
struct gw_req_ops {
	const char	*name;		/* "pass", "cached read" */
	const char	*result;	/* logged when the request set none */
	/* A 2xx GET that ends (not aborted) is counted per bucket by the
	 * block source (its count slot): a cached read's. */
	int		per_bucket;
	/* Frees what embeds q (q->conn no longer points to it). */
	void		(*fini)(struct gw_req *q);
};

struct gw_req {
	unsigned		magic;
#define GW_REQ_MAGIC		0x9e9e0e4d
	const struct gw_req_ops	*ops;
	struct gw_ctx		*ctx;
	struct http_conn	*conn;
	struct http_req		*req;
	enum gw_op		op;
	struct cm_slice		bucket;		/* into the request */
	struct cm_slice		rawkey;		/* percent-encoded as sent */
	int			status;		/* 0: none sent yet */
	uint64_t		bytes_in;	/* request body bytes */
	uint64_t		bytes_out;	/* answer body bytes */
	uint64_t		ttfb_us;	/* to the origin's (or an owner's) head */
	const char		*result;	/* the log's word (static), or NULL */
	/* Per-bucket counts (a cached read's; see gw_blksrc_count_f). */
	uint64_t		blk_hits;	/* blocks this answer read cached */
	uint64_t		blk_misses;	/* blocks its fills fetched from the origin */
	uint64_t		worker_bytes;	/* cluster gateway: bytes from workers */
	uint64_t		origin_bytes;	/* bytes from the origin */
};

/* What a read served that no worker sent it (per-bucket "served"). */
static inline uint64_t
gw_req_served(const struct gw_req *q)
{
	return (q->bytes_out - (q->worker_bytes < q->bytes_out ? q->worker_bytes : q->bytes_out));
}

/* The struct of type that embeds q as its member 'q'. */
#define GW_REQ_OF(type, qp)	((type *)(void *)((char *)(qp) - offsetof(type, q)))

/* How a request's answer ends: whole (the next pipelined request may
 * come), cut (the connection fails: the client sees a short answer), or
 * not at all (the client went away: the core closes the connection). */
enum gw_end { GW_END_OK, GW_END_FAIL, GW_END_NONE };

/* Sets q up for ops (zeroing it) as request r on conn. */
void gw_req_init(struct gw_req *q, const struct gw_req_ops *ops, struct gw_ctx *ctx,
    struct http_conn *conn, struct http_req *r);
/*
 * The one end of a request: its access-log line and metrics (with q's
 * result, else its kind's), its per-bucket counts (ops->per_bucket),
 * detached from its connection, freed (ops->fini: q is gone), and only then
 * the answer ended or failed as how says: ending may start the next
 * pipelined request on the connection at once.
 */
void gw_req_end(struct gw_req *q, enum gw_end how);
/* The client went away first (a request's abort): logged "aborted", with
 * 499 when nothing was answered yet (as nginx logs it); gw_req_end with
 * GW_END_NONE (the core closes the connection). */
void gw_req_abort(struct gw_req *q);

/* gw_log.c: the access log, buffered per loop, written by its own thread.
 * gw_log_open: spec is "off" (*out = NULL), "stderr" or a FILE appended to;
 * starts the writer thread (call it with the stop signals blocked). 0, or -1
 * with a message in err. */
int gw_log_open(const char *spec, struct gw_log **out, char *err, size_t errlen);
/* Main thread, before the loops run: loop's buffer on base (its flush
 * timer). NULL when w is NULL (off) or out of memory. Owned by w. */
struct gw_log_loop *gw_log_loop_new(struct gw_log *w, struct event_base *base);
/* Loop thread: one line (no newline in fmt), timestamped like cm_log's,
 * written within about a second. l NULL: nothing. May wait for the writer
 * when all of the loop's buffers are waiting to be written; never drops. */
void gw_log_line(struct gw_log_loop *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Any thread: FILE is opened again (SIGHUP, after a log rotation). */
void gw_log_reopen(struct gw_log *w);
/* Main thread, once the loops are stopped (their base not yet freed):
 * writes everything every loop holds, stops the writer, frees every
 * gw_log_loop of w and w; *wp = NULL. */
void gw_log_close(struct gw_log **wp);

/* gw_cache.c: GET and HEAD from the block cache (serve role). */
struct cache_store;
void gw_cache_start(struct gw_ctx *ctx, struct http_conn *conn, struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey);
/* A disk read this loop asked for is done (cache_io_done_f). */
struct cache_io_req;
void gw_cache_disk_done(struct cache_io_req *r);

/* gw_admin.c: the operations endpoints; NULL with a message on failure. */
struct gw_admin;
struct gw_admin *gw_admin_start(const char *hostport, struct gw_ctx **ctxs, size_t n,
    struct http_server *srv, char *err, size_t errlen);
void gw_admin_stop(struct gw_admin **ap);
int gw_admin_port(const struct gw_admin *a);

/* ---- The cached read: gw_cache.c (answers, sending, entry points),
 * gw_meta.c (metadata from the origin's HEAD, or the owners'), gw_fill.c
 * (filling blocks: runs, readahead, disk reads). Its state lives on its
 * connection's loop. ---- */

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
	struct gw_try		try;		/* the block's owners, then the origin */
};

struct cread {
	unsigned		magic;
#define CREAD_MAGIC		0xc4ead001
	struct gw_req		q;		/* the request, its counts, its end */
	struct cache_store	*store;
	struct cm_buf		mkey;		/* the key as the cache knows it */
	struct cache_meta	meta;
	int			have_meta;
	enum cstate		state;
	struct http_creq		*oreq;		/* the HEAD */
	struct gw_try		head;		/* the metadata's owners, then the origin */
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
	int			head_status;
	/* Blocks this read's fills opened and it has not read yet, by index
	 * mod OWN_BITS (fills never reach OWN_BITS blocks past the reader). */
	uint64_t		own[2];
};

#define GW_CR_DISK	2	/* gw_cr_block_open: asked of the I/O thread */

/* gw_meta.c */
int gw_cr_head_next(struct cread *x);			/* the HEAD to the next target: 0, or -1 */
/* The HEAD to the metadata's owners (none: the origin); on failure the
 * read is answered and done. */
void gw_cr_head_start(struct cread *x);
/* An origin (t NULL) or owner request of the read's own: method and extra
 * headers; NULL when it cannot be made. */
struct http_creq *gw_cr_origin_request(struct cread *x, const struct origin_target *t, const char *method,
    const struct s3sig_hdr *extra, size_t n, const struct http_creq_ops *ops, void *arg);
/* gw_fill.c: blocks. gw_cr_block_open: CACHE_READ, CACHE_FILL, GW_CR_DISK
 * or -1 (*bp: a new reference); gw_cr_fill_run takes b's reference
 * whatever comes (0, or -1: the blocks failed). */
void gw_cr_fills_cancel(struct cread *x);
int gw_cr_fills_init(struct cread *x);
int gw_cr_own_take(struct cread *x, uint64_t idx);
int gw_cr_block_open(struct cread *x, uint64_t idx, struct cache_blk **bp, int main);
size_t gw_cr_block_len(const struct cread *x, uint64_t idx);	/* block idx's bytes */
void gw_cr_dwait_unlink(struct cread *x, struct dwait *dw);
int gw_cr_fill_run(struct cread *x, uint64_t idx, struct cache_blk *b, size_t max);
size_t gw_cr_run_room(const struct cread *x);
void gw_cr_read_ahead(struct cread *x);
/* gw_cache.c: sending, evaluation, the end (gw_cr_done: gw_req_end, the
 * answer ended when ok, else failed), errors of our own. */
void gw_cr_send_more(struct cread *x);
void gw_cr_evaluate(struct cread *x);
void gw_cr_done(struct cread *x, int ok);
void gw_cr_add_hdr(struct s3sig_hdr *h, size_t *n, const char *name, struct cm_slice v);
void gw_cr_error(struct cread *x, enum gw_err e, const char *msg, const struct gw_err_field *f,
    size_t nf, const struct s3sig_hdr *h, size_t nh);

/* ---- The pass-through (gw_s3.c), its invalidation (gw_inval.c) and
 * what a request is (gw_addr.c) ---- */

#define UP_MAX		(4 * 1024 * 1024)	/* decoded upload bytes held */
#define UP_PAUSE	(1024 * 1024)		/* pause the client above */
#define MAX_PUT		(5ull << 30)		/* S3's single PUT limit */
#define MAX_OUT_HDRS	(HTTP_MAX_HDRS + 8)
#define DEL_BODY_MAX	(2 * 1024 * 1024)	/* 1000 keys of 1 KiB fit */
#define HELD_BODY_MAX	(8 * 1024 * 1024)	/* a write's answer: DeleteObjects of 1000 keys */

struct xfer {
	unsigned		magic;
#define XFER_MAGIC		0x51f0e2d3
	struct gw_req		q;		/* the request, its counts, its end */
	struct http_creq		*oreq;
	struct s3sig_body	*body;
	struct event		*kick;
	struct cm_buf		up;
	size_t			up_off;
	struct origin_req		fwd;		/* the request as the origin gets it */
	int			dechunk;
	int			defer_md5;	/* OSS DeleteObjects: MD5 of the body first */
	/* DeleteObjects: its body as it passes (bounded), so that the cache
	 * forgets the keys it names; past the bound, the bucket. */
	struct cm_buf		delbody;
	int			del_overflow;
	int64_t			origin_len;	/* -1: no body toward the origin */
	enum s3sig_err		body_err;
	int			body_ok;
	int			client_paused;
	int			oread_paused;
	int			owrite_paused;
	int			want_resume_client;
	int			want_resume_oread;
	int			head_bucket;
	int			location;	/* GetBucketLocation: answer our region */
	/* A write, in every role: the origin's answer is held until what it
	 * names is forgotten (the block source's invalidate; read-after-write
	 * by one mechanism: the answer is sent from its done). */
	int			hold;
	struct cm_buf		held;		/* "name\0value\0" pairs */
	struct cm_buf		held_body;
	struct gw_inval		*inval;		/* the invalidation in flight, or NULL */
};

/* gw_addr.c */
int gw_s3_is_write(enum gw_op op);
int gw_s3_cacheable(const struct http_req *r);	/* a GET/HEAD the block cache may answer */

#endif
