/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_cluster.c: the ring poller (gateway) and the heartbeat (worker); see
 * gw_cluster.h. Talks to the master with libcurl's easy interface on its
 * own thread, so that a slow or absent master never blocks a loop.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cache/cache.h"
#include "common/cm_log.h"
#include "gateway/gw_cluster.h"

#define MAX_BUCKETS	1024
#define SUSPECT_MS	3000
#define MAX_ANSWER	(4u << 20)

struct bstat {
	char		name[64];
	uint64_t	hits, misses, served, origin;
};

/*
 * A bucket's counts since the last heartbeat, added to by the loops without
 * a lock (the hit path takes none): a slot is named once (free -> naming ->
 * named, by compare-and-swap) and keeps its name; the cluster thread takes
 * the counts with atomic exchanges.
 */
enum { SLOT_FREE, SLOT_NAMING, SLOT_NAMED };

struct bslot {
	_Atomic int		state;
	char			name[64];	/* written once, before SLOT_NAMED */
	_Atomic uint64_t	hits, misses, served, origin;
};

struct suspect {
	char		host[RING_ADDR_MAX];
	uint64_t	until_ms;
};

struct gw_cluster {
	const struct gw_conf	*gc;
	int			worker;
	struct cache_store	*store;
	pthread_t		thr;
	int			started;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	int			stop;		/* under mtx */
	struct ring		*ring;		/* under mtx; NULL until the first */
	struct suspect		sus[16];	/* under mtx */
	struct bslot		*b;		/* MAX_BUCKETS, lock-free (see above) */
	uint64_t		purge_seen;	/* cluster thread only */
	char			id[RING_ID_MAX];
	char			addr[RING_ADDR_MAX];
	char			url[1024];	/* the master, no trailing '/' */
	CURL			*easy;		/* cluster thread only */
	uint64_t		evictions_sent;	/* cluster thread only */
	/* The master's reachability, as the last request found it: -1
	 * unknown, 0 no, 1 yes; why (under mtx) names the failure. */
	_Atomic int		master_ok;
	char			master_why[256];
};

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct cm_buf *b = arg;

	return (cm_buf_add(b, p, size * n) == 0 ? size * n : 0);
}

/* One request to the master: 0 and the answer in out when it said 200. */
static int
ask(struct gw_cluster *cl, const char *path, const char *body, struct cm_buf *out)
{
	char url[1200];
	long code = 0;
	CURLcode rc;

	snprintf(url, sizeof url, "%s%s", cl->url, path);
	cm_buf_reset(out);
	curl_easy_reset(cl->easy);
	if (curl_easy_setopt(cl->easy, CURLOPT_URL, url) != CURLE_OK)
		return (-1);
	curl_easy_setopt(cl->easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(cl->easy, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(cl->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(cl->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(cl->easy, CURLOPT_WRITEDATA, out);
	if (body != NULL) {
		curl_easy_setopt(cl->easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(cl->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(cl->easy);
	if (rc != CURLE_OK) {
		/* Said once when the master goes away, once when it is back. */
		pthread_mutex_lock(&cl->mtx);
		snprintf(cl->master_why, sizeof cl->master_why, "%s", curl_easy_strerror(rc));
		pthread_mutex_unlock(&cl->mtx);
		if (atomic_exchange(&cl->master_ok, 0) != 0)
			CM_LOGW("cluster: master %s unreachable: %s", cl->url, curl_easy_strerror(rc));
		CM_LOGD("cluster: master %s: %s", url, curl_easy_strerror(rc));
		return (-1);
	}
	if (atomic_exchange(&cl->master_ok, 1) == 0)
		CM_LOGW("cluster: master %s reachable again", cl->url);
	curl_easy_getinfo(cl->easy, CURLINFO_RESPONSE_CODE, &code);
	return (code == 200 ? 0 : -1);
}

/* Gateway: fetch the ring; swap it in when its epoch is new. */
static void
poll_ring(struct gw_cluster *cl, struct cm_buf *ans)
{
	struct ring *r, *old = NULL;
	char err[256];

	if (ask(cl, "/v1/ring", NULL, ans) != 0)
		return;		/* the master is away: the last ring stays */
	r = ring_parse(ans->p != NULL ? ans->p : "", ans->len, err, sizeof err);
	if (r == NULL) {
		CM_LOGW("cluster: the master's ring is malformed: %s", err);
		return;
	}
	pthread_mutex_lock(&cl->mtx);
	if (cl->ring == NULL || cl->ring->epoch != r->epoch) {
		CM_LOGI("cluster: ring epoch %llu, %zu workers", (unsigned long long)r->epoch, r->n);
		old = cl->ring;
		cl->ring = r;
		r = NULL;
	}
	pthread_mutex_unlock(&cl->mtx);
	ring_free(&r);
	ring_free(&old);
}

static uint64_t
name_hash(struct cm_slice b)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.p[i]) * 1099511628211ull;
	return (h);
}

/* The slot of bucket, named now when new and there is room; NULL when the
 * table is full. Any thread; no lock. */
static struct bslot *
slot_of(struct gw_cluster *cl, struct cm_slice bucket)
{
	size_t i, h = (size_t)(name_hash(bucket) % MAX_BUCKETS);

	for (i = 0; i < MAX_BUCKETS; i++) {
		struct bslot *sl = &cl->b[(h + i) % MAX_BUCKETS];
		int st = atomic_load_explicit(&sl->state, memory_order_acquire);

		if (st == SLOT_FREE) {
			int want = SLOT_FREE;

			if (atomic_compare_exchange_strong(&sl->state, &want, SLOT_NAMING)) {
				memcpy(sl->name, bucket.p, bucket.len);
				sl->name[bucket.len] = '\0';
				atomic_store_explicit(&sl->state, SLOT_NAMED, memory_order_release);
				return (sl);
			}
			st = want;
		}
		/* Another thread is naming it: a memcpy away. */
		while (st == SLOT_NAMING)
			st = atomic_load_explicit(&sl->state, memory_order_acquire);
		if (cm_slice_eq(bucket, sl->name))
			return (sl);
	}
	return (NULL);
}

/* Adds d's counts to bucket's. */
static void
slot_add(struct gw_cluster *cl, struct cm_slice bucket, const struct bstat *d)
{
	struct bslot *sl = slot_of(cl, bucket);

	if (sl == NULL)
		return;		/* more than MAX_BUCKETS buckets: not counted */
	atomic_fetch_add_explicit(&sl->hits, d->hits, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->misses, d->misses, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->served, d->served, memory_order_relaxed);
	atomic_fetch_add_explicit(&sl->origin, d->origin, memory_order_relaxed);
}

/* Takes every bucket's counts since the last time into snap (MAX_BUCKETS
 * entries); how many buckets had some. Cluster thread. */
static size_t
slots_take(struct gw_cluster *cl, struct bstat *snap)
{
	size_t i, n = 0;

	for (i = 0; i < MAX_BUCKETS; i++) {
		struct bslot *sl = &cl->b[i];
		struct bstat *d = &snap[n];

		if (atomic_load_explicit(&sl->state, memory_order_acquire) != SLOT_NAMED)
			continue;
		d->hits = atomic_exchange_explicit(&sl->hits, 0, memory_order_relaxed);
		d->misses = atomic_exchange_explicit(&sl->misses, 0, memory_order_relaxed);
		d->served = atomic_exchange_explicit(&sl->served, 0, memory_order_relaxed);
		d->origin = atomic_exchange_explicit(&sl->origin, 0, memory_order_relaxed);
		if (d->hits + d->misses + d->served + d->origin == 0)
			continue;
		memcpy(d->name, sl->name, sizeof d->name);
		n++;
	}
	return (n);
}

/* Blocks the worker's cache evicted so far, from both tiers. */
static uint64_t
store_evictions(struct gw_cluster *cl)
{
	struct cache_stats st;
	struct cache_disk_stats ds;

	if (cl->store == NULL)
		return (0);
	cache_stats(cl->store, &st);
	if (cache_store_disk(cl->store) == NULL)
		return (st.evictions);
	cache_disk_stats(cache_store_disk(cl->store), &ds);
	return (st.evictions + ds.evictions);
}

/* Worker: the heartbeat, with the statistics since the last one; they are
 * kept for the next one when the master does not answer. Gateway: only the
 * statistics (blocks its staging store served, or fetched from the origin
 * when no worker could), when there are some. */
static void
heartbeat(struct gw_cluster *cl, struct cm_buf *ans)
{
	struct cm_buf body;
	struct bstat *snap;
	struct cm_slice rest, line, f;
	uint64_t evictions = 0;
	size_t n, i;
	int worker = cl->worker;

	snap = calloc(MAX_BUCKETS, sizeof *snap);
	if (snap == NULL)
		return;
	n = slots_take(cl, snap);
	if (!worker && n == 0) {
		free(snap);
		return;		/* a gateway with nothing to say */
	}
	cm_buf_init(&body, 1u << 20);
	if (worker)
		(void)cm_buf_addf(&body, "worker %s %s %llu\npurge-seen %llu\n", cl->id, cl->addr,
		    (unsigned long long)cl->gc->cfg->weight, (unsigned long long)cl->purge_seen);
	else
		(void)cm_buf_addf(&body, "gateway %s\n", cl->id);
	for (i = 0; i < n; i++)
		(void)cm_buf_addf(&body, "stats %s %llu %llu %llu %llu 0\n", snap[i].name,
		    (unsigned long long)snap[i].hits, (unsigned long long)snap[i].misses,
		    (unsigned long long)snap[i].served, (unsigned long long)snap[i].origin);
	/* Evictions are the store's, not a bucket's: one line for the worker. */
	if (worker) {
		evictions = store_evictions(cl);
		(void)cm_buf_addf(&body, "evictions %llu\n",
		    (unsigned long long)(evictions - cl->evictions_sent));
	}
	if (body.p == NULL || ask(cl, worker ? "/v1/heartbeat" : "/v1/stats", body.p, ans) != 0) {
		/* Not delivered: counted again next time. */
		for (i = 0; i < n; i++)
			slot_add(cl, cm_slice_str(snap[i].name), &snap[i]);
		goto out;
	}
	cl->evictions_sent = evictions;
	if (!worker)
		goto out;
	/* epoch N / state S / joined / purge SEQ BUCKET [PREFIX] */
	rest = cm_buf_slice(ans);
	while (rest.len > 0) {
		struct cm_slice seq, bucket;
		uint64_t v;

		rest = cm_slice_cut(rest, '\n', &line);
		line = cm_slice_cut(cm_slice_trim(line), ' ', &f);
		if (cm_slice_eq(f, "state") && cm_slice_eq(cm_slice_trim(line), "drained")) {
			CM_LOGD("cluster: this worker is drained (out of the ring)");
		} else if (cm_slice_eq(f, "joined")) {
			/* (Re)admitted to the ring: while we were out (dead,
			 * cut off, new), writes through the gateways did not
			 * reach us. Every object is checked with the origin
			 * before its next use; same versions keep their blocks. */
			CM_LOGI("cluster: joined the ring; cached metadata will be revalidated");
			if (cl->store != NULL)
				cache_meta_expire_all(cl->store);
		} else if (cm_slice_eq(f, "purge")) {
			struct cm_slice prefix = cm_slice_cut(line, ' ', &seq);
			struct cm_buf canon;
			char lit[1100];

			prefix = cm_slice_cut(prefix, ' ', &bucket);
			if (prefix.p == NULL)
				prefix = cm_slice("", 0);
			if (cm_parse_u64(seq, UINT64_MAX, &v) != 0 || bucket.len == 0)
				continue;
			/* The keys under the prefix, in the store's canonical
			 * form (that of a literal key); when it cannot be made,
			 * the whole bucket: more than asked, never less. */
			cm_buf_init(&canon, 64 * 1024);
			if (cl->store != NULL && (prefix.len == 0 || prefix.len >= sizeof lit ||
			    memchr(prefix.p, '\0', prefix.len) != NULL ||
			    snprintf(lit, sizeof lit, "%.*s", (int)prefix.len, prefix.p) < 0 ||
			    s3sig_uri_encode_path(&canon, lit) != 0))
				cache_meta_invalidate_bucket(cl->store, bucket);
			else if (cl->store != NULL)
				cache_meta_invalidate_prefix(cl->store, bucket, cm_buf_slice(&canon));
			cm_buf_free(&canon);
			CM_LOGI("cluster: purge %llu of %.*s/%.*s applied", (unsigned long long)v,
			    (int)bucket.len, bucket.p, (int)prefix.len, prefix.p);
			if (v > cl->purge_seen)
				cl->purge_seen = v;
		}
	}
out:
	cm_buf_free(&body);
	free(snap);
}

static void *
cluster_main(void *arg)
{
	struct gw_cluster *cl = arg;
	struct cm_buf ans;
	struct timespec ts;

	cm_buf_init(&ans, MAX_ANSWER);
	pthread_mutex_lock(&cl->mtx);
	while (!cl->stop) {
		pthread_mutex_unlock(&cl->mtx);
		if (cl->worker)
			heartbeat(cl, &ans);
		else
			poll_ring(cl, &ans);
		if (!cl->worker)
			heartbeat(cl, &ans);	/* the statistics only */
		pthread_mutex_lock(&cl->mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(cl->gc->cfg->heartbeat > 0 ? cl->gc->cfg->heartbeat : 1);
		while (!cl->stop && pthread_cond_timedwait(&cl->cv, &cl->mtx, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&cl->mtx);
	cm_buf_free(&ans);
	return (NULL);
}

struct gw_cluster *
gw_cluster_new(const struct gw_conf *gc, int worker, struct cache_store *store, char *err,
    size_t errlen)
{
	const struct cm_config *c = gc->cfg;
	struct gw_cluster *cl;
	size_t n;

	if (c->master == NULL) {
		snprintf(err, errlen, "no master: set --master URL");
		return (NULL);
	}
	cl = calloc(1, sizeof *cl);
	if (cl == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	cl->gc = gc;
	cl->worker = worker;
	atomic_init(&cl->master_ok, -1);
	cl->store = store;
	snprintf(cl->url, sizeof cl->url, "%s", c->master);
	n = strlen(cl->url);
	while (n > 0 && cl->url[n - 1] == '/')
		cl->url[--n] = '\0';
	snprintf(cl->addr, sizeof cl->addr, "%s", c->advertise != NULL ? c->advertise : c->listen);
	if (strlen(c->worker_id != NULL ? c->worker_id : cl->addr) >= sizeof cl->id) {
		snprintf(err, errlen, "worker-id: at most %zu characters", sizeof cl->id - 1);
		free(cl);
		return (NULL);
	}
	memcpy(cl->id, c->worker_id != NULL ? c->worker_id : cl->addr,
	    strlen(c->worker_id != NULL ? c->worker_id : cl->addr) + 1);
	cl->b = calloc(MAX_BUCKETS, sizeof *cl->b);
	cl->easy = curl_easy_init();
	if (cl->b == NULL || cl->easy == NULL || pthread_mutex_init(&cl->mtx, NULL) != 0 ||
	    pthread_cond_init(&cl->cv, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		if (cl->easy != NULL)
			curl_easy_cleanup(cl->easy);
		free(cl->b);
		free(cl);
		return (NULL);
	}
	return (cl);
}

int
gw_cluster_start(struct gw_cluster *cl)
{
	struct cm_buf ans;

	/* A first round before serving: a gateway starts with the ring, a
	 * worker is in it (when the master is there). */
	cm_buf_init(&ans, MAX_ANSWER);
	if (cl->worker)
		heartbeat(cl, &ans);
	else
		poll_ring(cl, &ans);
	cm_buf_free(&ans);
	if (pthread_create(&cl->thr, NULL, cluster_main, cl) != 0)
		return (-1);
	cl->started = 1;
	return (0);
}

void
gw_cluster_free(struct gw_cluster **clp)
{
	struct gw_cluster *cl = *clp;

	*clp = NULL;
	if (cl == NULL)
		return;
	if (cl->started) {
		pthread_mutex_lock(&cl->mtx);
		cl->stop = 1;
		pthread_cond_signal(&cl->cv);
		pthread_mutex_unlock(&cl->mtx);
		(void)pthread_join(cl->thr, NULL);
	}
	ring_free(&cl->ring);
	curl_easy_cleanup(cl->easy);
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mtx);
	free(cl->b);
	free(cl);
}

static void
target_of(const struct gw_cluster *cl, const struct ring_worker *w, struct gw_target *t)
{
	const struct gw_conf *gc = cl->gc;

	memset(t, 0, sizeof *t);
	t->ops = &origin_s3_ops;	/* workers speak S3 */
	snprintf(t->scheme, sizeof t->scheme, "http");
	snprintf(t->host, sizeof t->host, "%s", w->addr);
	/* Gateways sign toward workers with the cluster's (first) key. */
	t->signer.access_key = gc->creds[0].access_key;
	t->signer.secret_key = gc->creds[0].secret_key;
	t->signer.region = gc->region;
	t->signer.service = "s3";
}

static int
suspect_locked(struct gw_cluster *cl, const char *host, uint64_t now)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(cl->sus); i++)
		if (cl->sus[i].until_ms > now && strcmp(cl->sus[i].host, host) == 0)
			return (1);
	return (0);
}

size_t
gw_cluster_targets(struct gw_cluster *cl, uint64_t h, struct gw_target *out, size_t max)
{
	size_t idx[16], n, i, k = 0, pass;
	uint64_t now = cm_mono_ms();

	if (max > CM_ARRAY_LEN(idx))
		max = CM_ARRAY_LEN(idx);
	pthread_mutex_lock(&cl->mtx);
	if (cl->ring == NULL || cl->ring->n == 0) {
		pthread_mutex_unlock(&cl->mtx);
		return (0);
	}
	n = ring_owners(cl->ring, h, idx, max);
	/* Healthy owners first, in ring order; then the suspects. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			if (suspect_locked(cl, cl->ring->w[idx[i]].addr, now) == (int)pass)
				target_of(cl, &cl->ring->w[idx[i]], &out[k++]);
	pthread_mutex_unlock(&cl->mtx);
	return (k);
}

size_t
gw_cluster_all(struct gw_cluster *cl, struct gw_target *out, size_t max)
{
	size_t i, k = 0;

	pthread_mutex_lock(&cl->mtx);
	for (i = 0; cl->ring != NULL && i < cl->ring->n && k < max; i++)
		target_of(cl, &cl->ring->w[i], &out[k++]);
	pthread_mutex_unlock(&cl->mtx);
	return (k);
}

void
gw_cluster_suspect(struct gw_cluster *cl, const char *host)
{
	uint64_t now = cm_mono_ms();
	size_t i, pick = 0;

	pthread_mutex_lock(&cl->mtx);
	for (i = 0; i < CM_ARRAY_LEN(cl->sus); i++) {
		if (strcmp(cl->sus[i].host, host) == 0) {
			pick = i;
			break;
		}
		if (cl->sus[i].until_ms < cl->sus[pick].until_ms)
			pick = i;
	}
	snprintf(cl->sus[pick].host, sizeof cl->sus[pick].host, "%s", host);
	cl->sus[pick].until_ms = now + SUSPECT_MS;
	pthread_mutex_unlock(&cl->mtx);
}

uint64_t
gw_cluster_epoch(struct gw_cluster *cl)
{
	uint64_t e;

	pthread_mutex_lock(&cl->mtx);
	e = cl->ring != NULL ? cl->ring->epoch : 0;
	pthread_mutex_unlock(&cl->mtx);
	return (e);
}

size_t
gw_cluster_size(struct gw_cluster *cl)
{
	size_t n;

	pthread_mutex_lock(&cl->mtx);
	n = cl->ring != NULL ? cl->ring->n : 0;
	pthread_mutex_unlock(&cl->mtx);
	return (n);
}

int
gw_cluster_master_reachable(struct gw_cluster *cl, char *why, size_t len)
{
	int ok = atomic_load(&cl->master_ok);

	if (ok == 0) {
		pthread_mutex_lock(&cl->mtx);
		snprintf(why, len, "%s", cl->master_why);
		pthread_mutex_unlock(&cl->mtx);
	}
	return (ok);
}

void
gw_cluster_count(struct gw_cluster *cl, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin)
{
	struct bstat d;

	if (bucket.len == 0 || bucket.len >= sizeof cl->b[0].name || hits + misses + served == 0)
		return;
	memset(&d, 0, sizeof d);
	d.hits = hits;
	d.misses = misses;
	d.served = served;
	d.origin = from_origin;
	slot_add(cl, bucket, &d);	/* no lock: this is the hit path */
}
