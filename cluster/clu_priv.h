/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_priv.h: what the files of cluster/ share among themselves.
 *
 *   - struct clu_link (clu_link.c): one process's line to the master: a
 *     libcurl easy handle used by the cluster thread only, and the
 *     master's reachability as the last request found it;
 *   - struct clu_counts (clu_counts.c): per-bucket statistics counted by
 *     the loops without a lock and taken by the cluster thread.
 *
 * Locks: clu_link.mtx guards why only; it is a leaf (taken with no other
 * held, or under none of cluster/'s).
 */
#ifndef CACHALOT_CLU_PRIV_H
#define CACHALOT_CLU_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "common/cm_s3name.h"

/* Checks a shared object's magic on entry of an exported function. */
#define CLU_CHECK(o, m)	do { AN(o); CM_ASSERT((o)->magic == (m)); } while (0)

#define CLU_VIEW_MAGIC		0xc1a0e001u
#define CLU_AGENT_MAGIC		0xc1a0a6e7u
#define MASTER_MAGIC		0xc1a0a57eu
#define MASTER_STORE_MAGIC	0xc1a0db5eu

#define CLU_MAX_ANSWER		(4u << 20)
#define CLU_MAX_BODY		(1u << 20)

/* ---- The line to the master ---- */

struct clu_link {
	char		url[1024];	/* no trailing '/' */
	char		host[300];	/* the Host header: the URL's authority */
	char		base[700];	/* the URL's path before ours ("" none) */
	void		*easy;		/* CURL *, the cluster thread only */
	struct clu_auth_key key;	/* every request is signed with it */
	pthread_mutex_t	mtx;
	/* -1 unknown, 0 no, 1 yes; why (under mtx) names the failure. */
	_Atomic int	ok;
	_Atomic int	refused;	/* 0, 1 our requests, 2 its answers (said once) */
	char		why[256];
};

/* 0, or -1 with err (no master, no cluster secret or one too short). */
int clu_link_init(struct clu_link *l, const char *url, const char *secret, char *err,
    size_t errlen);
void clu_link_fini(struct clu_link *l);
/* One request (POST body when not NULL, else GET) to url + path, signed
 * with the cluster secret (clu_auth.h): 0 and the answer in out when the
 * master said 200 (and, signed_answer set, proved with a signature bound
 * to this request's nonce that it knows the secret: else -1, the answer
 * refused and said once). Cluster thread. */
int clu_link_ask(struct clu_link *l, const char *path, const char *body, int signed_answer,
    struct cm_buf *out);
int clu_link_reachable(struct clu_link *l, char *why, size_t len);

/* ---- Per-bucket statistics, lock-free ---- */

#define CLU_COUNT_BUCKETS	1024

/* One bucket's counts as taken (the name copied). */
struct clu_bcount {
	char		name[CM_S3_BUCKET_MAX + 1];
	uint64_t	hits, misses, served, origin;
};

struct clu_counts {
	struct clu_bslot	*slot;	/* CLU_COUNT_BUCKETS */
};

int clu_counts_init(struct clu_counts *c);
void clu_counts_fini(struct clu_counts *c);
/* Any thread, no lock. Buckets beyond CLU_COUNT_BUCKETS are not counted. */
void clu_counts_add(struct clu_counts *c, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin);
/* Takes every bucket's counts since the last time into snap
 * (CLU_COUNT_BUCKETS entries); returns how many buckets had some. One
 * taker at a time (the cluster thread). */
size_t clu_counts_take(struct clu_counts *c, struct clu_bcount *snap);
/* Gives back what a message that was not delivered carried. */
void clu_counts_give_back(struct clu_counts *c, const struct clu_bcount *snap, size_t n);
/* The stats lines of snap: st[i].bucket borrows snap[i].name. */
void clu_counts_as_stats(const struct clu_bcount *snap, size_t n, struct clu_stat *st);

/* ---- The master (master_*.c) ---- */

#define MASTER_MAX_WORKERS	RING_MAX_WORKERS
#define MASTER_MAX_BUCKETS	4096
#define MASTER_MAX_PURGES	1024
#define MASTER_PREFIX_MAX	1024

enum master_wstate { MW_UP, MW_DOWN, MW_DRAINED };
extern const char *const master_wstate_name[];	/* "up", "down", "drained" */

struct master_counters {
	uint64_t	hits, misses, served, origin, evictions;
};

struct master_worker {
	char			id[RING_ID_MAX];
	char			addr[RING_ADDR_MAX];
	uint32_t		weight;
	enum master_wstate	state;
	uint64_t		seen_ms;	/* monotonic, this process */
	int64_t			seen_wall;
	uint64_t		purge_seen;	/* its last heartbeat's (0 until one) */
	struct master_counters	c;		/* since this master process started */
};

struct master_bucket {
	char			name[CM_S3_BUCKET_MAX + 1];
	struct master_counters	c;
};

struct master_purge {
	uint64_t	seq;
	char		bucket[CM_S3_BUCKET_MAX + 1];
	char		prefix[MASTER_PREFIX_MAX];
};

/*
 * Where the model's changes are kept (master_store.c: LevelDB). Called
 * under the model's mutex, once per change; slots may be NULL (the
 * model puts defaults in: nothing kept).
 */
struct master_persist_ops {
	const char	*name;
	void		(*worker)(void *arg, const struct master_worker *w);
	void		(*epoch)(void *arg, uint64_t epoch);
	void		(*bucket)(void *arg, const struct master_bucket *b);
	/* A purge order was added (purge_seq: the last sequence number). */
	void		(*purge_add)(void *arg, const struct master_purge *p, uint64_t purge_seq);
	void		(*purge_del)(void *arg, uint64_t seq);
};

/* The master's state (master_model.c). mtx guards everything below it;
 * it is the only lock of the master and is never held across network or
 * disk I/O but the persistence calls (see master_model.c). */
struct master {
	unsigned			magic;
	pthread_mutex_t			mtx;
	pthread_cond_t			cv;		/* wakes the sweeper to stop */
	int				stop;
	struct master_persist_ops	po;		/* defaults in */
	void				*parg;
	uint64_t			epoch;
	uint64_t			down_after_ms;
	struct master_worker		*w;
	size_t				nw;
	struct master_bucket		*b;
	size_t				nb;
	struct master_purge		*p;
	size_t				np;
	uint64_t			purge_seq;
	uint64_t			evictions;	/* reported since this process started */
	int64_t				started;	/* wall clock */
	/* The API's authentication (master_routes.c): the key and the seen
	 * nonces are set before the daemon starts; refused counts by reason,
	 * atomics (no lock). */
	struct clu_auth_key		key;
	struct clu_auth_seen		*seen;
	_Atomic uint64_t		refused[CLU_AUTH_NRESULTS];
	/* Peers already logged as refused (MHD's one thread only). */
	char				(*refused_peer)[48];
	size_t				nrefused_peer;
};

/* master_model.c: the rules, no I/O of its own. */
int master_model_init(struct master *m, uint64_t down_after_ms,
    const struct master_persist_ops *po, void *parg);
void master_model_fini(struct master *m);
/* POST /v1/heartbeat and POST /v1/stats: the answer into out, its status
 * into *status. */
void master_heartbeat(struct master *m, struct cm_slice body, struct cm_buf *out,
    unsigned *status);
void master_gateway_stats(struct master *m, struct cm_slice body, struct cm_buf *out,
    unsigned *status);
/* POST /v1/drain, /v1/undrain, /v1/purge: the HTTP status; text in out. */
unsigned master_drain(struct master *m, const char *id, int drained, struct cm_buf *out);
unsigned master_purge_order(struct master *m, const char *bucket, const char *prefix,
    struct cm_buf *out);
/* GET /v1/purged?seq=N: "applied" once every worker that is up has
 * applied purge N (a worker down or drained is told to revalidate
 * everything when it is up again), else "pending" with how many have not;
 * the HTTP status. */
unsigned master_purge_applied(struct master *m, const char *seq, struct cm_buf *out);
/* Marks the workers silent for down_after_ms down. Under mtx. */
void master_sweep_locked(struct master *m, uint64_t now_ms);
/* Loading (before any thread): records as they were kept. 0, or -1 when
 * the record is refused (malformed, or no room). */
int master_load_worker(struct master *m, struct cm_slice id, struct cm_slice addr,
    uint64_t weight, struct cm_slice state, int64_t seen_wall);
int master_load_bucket(struct master *m, struct cm_slice name, const struct master_counters *c);
int master_load_purge(struct master *m, uint64_t seq, struct cm_slice bucket,
    struct cm_slice prefix);

/* master_store.c: the model kept in LevelDB under dir. */
struct master_store;
struct master_store *master_store_open(const char *dir, char *err, size_t errlen);
void master_store_close(struct master_store **sp);
/* Reads every record into m (before any thread). 0, or -1. */
int master_store_load(struct master_store *s, struct master *m);
extern const struct master_persist_ops master_store_ops;	/* arg: the store */

/* master_view.c: renderings of the model; each takes m->mtx. */
void master_view_ring(struct master *m, struct cm_buf *out);
void master_view_workers(struct master *m, struct cm_buf *out, int json);
void master_view_stats(struct master *m, struct cm_buf *out, const char *bucket, int json);
void master_view_status(struct master *m, struct cm_buf *out, int json);
void master_view_html(struct master *m, struct cm_buf *out);
void master_view_metrics(struct master *m, struct cm_buf *out);

/* master_routes.c: the HTTP API, a route table over http_admin (http.h):
 * listening on hostport, or NULL with "cannot listen on ..." in err. */
struct http_admin;
struct http_admin *master_routes_start(struct master *m, const char *hostport, char *err,
    size_t errlen);

#endif
