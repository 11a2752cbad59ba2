/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_view.c: a gateway's view of the cluster (see cluster.h).
 *
 * The cluster thread polls the master's ring (GET /v1/ring) every
 * heartbeat seconds and swaps in a new ring when the epoch changes; with
 * the master away the last ring stays. After each poll it posts what the
 * gateway counted (its staging store's hits, what it fetched from the
 * origin itself) to /v1/stats. Reads ask clu_view_targets for the workers
 * owning a block, best first; a worker whose request failed is "suspect"
 * for SUSPECT_MS and tried last.
 *
 * Threads: the cluster thread (polls, statistics); any loop through the
 * exported functions. Locks: mtx guards stop, ring and sus; the link's
 * mutex is never taken under it. clu_view_count takes none (hit path).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

#define SUSPECT_MS	3000

struct suspect {
	char		host[RING_ADDR_MAX];
	uint64_t	until_ms;
};

struct clu_view {
	unsigned		magic;
	struct clu_view_conf	conf;		/* strings borrowed */
	char			id[RING_ID_MAX];
	pthread_t		thr;
	int			started;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	int			stop;		/* under mtx */
	int			poll_now;	/* under mtx: clu_view_poll_soon */
	struct clu_fence	*fences;	/* under mtx: not yet applied */
	struct ring		*ring;		/* under mtx; NULL until the first */
	struct suspect		sus[16];	/* under mtx */
	struct clu_counts	counts;		/* lock-free */
	struct clu_link		link;		/* the cluster thread */
};

/* Fetches the ring; swaps it in when its epoch is new. Cluster thread. */
static void
poll_ring(struct clu_view *v, struct cm_buf *ans)
{
	struct ring *r, *old = NULL;
	char err[256];

	if (clu_link_ask(&v->link, "/v1/ring", NULL, 1, ans) != 0)
		return;		/* the master is away: the last ring stays */
	r = ring_parse(ans->p != NULL ? ans->p : "", ans->len, err, sizeof err);
	if (r == NULL) {
		CM_LOGW("cluster: the master's ring is malformed: %s", err);
		return;
	}
	pthread_mutex_lock(&v->mtx);
	if (v->ring == NULL || v->ring->epoch != r->epoch) {
		CM_LOGI("cluster: ring epoch %llu, %zu workers", (unsigned long long)r->epoch, r->n);
		old = v->ring;
		v->ring = r;
		r = NULL;
	}
	pthread_mutex_unlock(&v->mtx);
	ring_free(&r);
	ring_free(&old);
}

/* Posts the statistics counted since the last time, when there are some;
 * kept for the next time when the master does not take them. */
static void
post_stats(struct clu_view *v, struct cm_buf *ans)
{
	struct clu_bcount *snap;
	struct clu_stat *st = NULL;
	struct cm_buf body;
	size_t n;

	snap = calloc(CLU_COUNT_BUCKETS, sizeof *snap);
	if (snap == NULL)
		return;
	cm_buf_init(&body, CLU_MAX_BODY);
	n = clu_counts_take(&v->counts, snap);
	if (n == 0)
		goto out;	/* nothing to say */
	st = calloc(n, sizeof *st);
	if (st != NULL)
		clu_counts_as_stats(snap, n, st);
	if (st == NULL || clu_gwstats_write(&body, v->id, st, n) != 0 ||
	    clu_link_ask(&v->link, "/v1/stats", body.p, 0, ans) != 0)
		clu_counts_give_back(&v->counts, snap, n);	/* counted again next time */
out:
	cm_buf_free(&body);
	free(st);
	free(snap);
}

/* ---- Fences: a purge at the master, and its being applied ---- */

#define FENCE_WAIT_MS	10000	/* then failed: the caller says so */
#define FENCE_TICK_MS	100

struct clu_fence {
	unsigned		magic;
#define CLU_FENCE_MAGIC		0xfe4ce001
	_Atomic int		state;		/* CLU_FENCE_* */
	_Atomic int		refs;		/* the view's and the caller's */
	char			query[64 + 8 + 3 * 1024 + 16];	/* bucket=B&prefix=P, encoded */
	uint64_t		seq;		/* the cluster thread: the purge's, once ordered */
	uint64_t		deadline_ms;
	struct clu_fence	*next;		/* under the view's mtx */
};

void
clu_fence_release(struct clu_fence **fp)
{
	struct clu_fence *f = *fp;

	*fp = NULL;
	if (f == NULL)
		return;
	CLU_CHECK(f, CLU_FENCE_MAGIC);
	if (atomic_fetch_sub(&f->refs, 1) == 1) {
		f->magic = 0;
		free(f);
	}
}

int
clu_fence_state(struct clu_fence *f)
{
	CLU_CHECK(f, CLU_FENCE_MAGIC);
	return (atomic_load(&f->state));
}

struct clu_fence *
clu_view_fence(struct clu_view *v, struct cm_slice bucket, struct cm_slice prefix)
{
	struct clu_fence *f;
	char *eb, *ep;
	int n;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	f = calloc(1, sizeof *f);
	if (f == NULL)
		return (NULL);
	f->magic = CLU_FENCE_MAGIC;
	atomic_init(&f->state, CLU_FENCE_PENDING);
	atomic_init(&f->refs, 2);
	/* Percent-encoded as ctl does it (curl_easy_escape). */
	eb = curl_easy_escape(NULL, bucket.p, (int)bucket.len);
	ep = curl_easy_escape(NULL, prefix.len > 0 ? prefix.p : "", (int)prefix.len);
	n = eb != NULL && ep != NULL ? snprintf(f->query, sizeof f->query, "bucket=%s&prefix=%s",
	    eb, ep) : -1;
	curl_free(eb);
	curl_free(ep);
	if (n < 0 || (size_t)n >= sizeof f->query) {
		free(f);
		return (NULL);
	}
	f->deadline_ms = cm_mono_ms() + FENCE_WAIT_MS;
	pthread_mutex_lock(&v->mtx);
	f->next = v->fences;
	v->fences = f;
	v->poll_now = 1;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mtx);
	return (f);
}

/* One step of a fence: ordered, then asked after; 1 when it is over
 * (state set), 0 to try again. The cluster thread. */
static int
fence_step(struct clu_view *v, struct clu_fence *f, struct cm_buf *ans)
{
	char path[sizeof f->query + 32];
	const char *p;

	if (atomic_load(&f->refs) == 1)
		return (1);		/* the caller went away */
	if (f->seq == 0) {
		snprintf(path, sizeof path, "/v1/purge?%s", f->query);
		if (clu_link_ask(&v->link, path, "", 1, ans) == 0 && ans->p != NULL &&
		    (p = strstr(ans->p, "purge ")) != NULL) {
			struct cm_slice n = cm_slice(p + 6, strcspn(p + 6, " "));

			if (cm_parse_u64(n, UINT64_MAX, &f->seq) != 0)
				f->seq = 0;
		}
	}
	if (f->seq != 0) {
		snprintf(path, sizeof path, "/v1/purged?seq=%llu", (unsigned long long)f->seq);
		if (clu_link_ask(&v->link, path, NULL, 1, ans) == 0 && ans->p != NULL &&
		    strncmp(ans->p, "applied", 7) == 0) {
			atomic_store(&f->state, CLU_FENCE_APPLIED);
			return (1);
		}
	}
	if (cm_mono_ms() >= f->deadline_ms) {
		CM_LOGW("cluster: a fence (%s) was not %s within %d ms", f->query,
		    f->seq == 0 ? "taken by the master" : "applied by every worker", FENCE_WAIT_MS);
		atomic_store(&f->state, CLU_FENCE_FAILED);
		return (1);
	}
	return (0);
}

/* Every fence not yet over, one step each. 1 when some are left. */
static int
run_fences(struct clu_view *v, struct cm_buf *ans)
{
	struct clu_fence *list, *f, *keep = NULL;
	int left;

	pthread_mutex_lock(&v->mtx);
	list = v->fences;
	v->fences = NULL;
	pthread_mutex_unlock(&v->mtx);
	while ((f = list) != NULL) {
		list = f->next;
		if (fence_step(v, f, ans)) {
			clu_fence_release(&f);
		} else {
			f->next = keep;
			keep = f;
		}
	}
	pthread_mutex_lock(&v->mtx);
	while ((f = keep) != NULL) {
		keep = f->next;
		f->next = v->fences;
		v->fences = f;
	}
	left = v->fences != NULL;
	pthread_mutex_unlock(&v->mtx);
	return (left);
}

static void *
view_main(void *arg)
{
	struct clu_view *v = arg;
	struct cm_buf ans;
	struct timespec ts;

	cm_buf_init(&ans, CLU_MAX_ANSWER);
	pthread_mutex_lock(&v->mtx);
	uint64_t next_poll = 0, now;
	int fences = 0;

	while (!v->stop) {
		int asked = v->poll_now;

		v->poll_now = 0;
		pthread_mutex_unlock(&v->mtx);
		now = cm_mono_ms();
		if (asked || now >= next_poll || !fences) {
			poll_ring(v, &ans);
			post_stats(v, &ans);
			next_poll = now + 1000 * (v->conf.heartbeat_s > 0 ? v->conf.heartbeat_s : 1);
		}
		fences = run_fences(v, &ans);
		pthread_mutex_lock(&v->mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		if (fences) {
			/* A fence waits on the workers: asked after often. */
			ts.tv_nsec += FENCE_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		} else {
			ts.tv_sec += (time_t)(v->conf.heartbeat_s > 0 ? v->conf.heartbeat_s : 1);
		}
		while (!v->stop && !v->poll_now && pthread_cond_timedwait(&v->cv, &v->mtx, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&v->mtx);
	cm_buf_free(&ans);
	return (NULL);
}

struct clu_view *
clu_view_new(const struct clu_view_conf *vc, char *err, size_t errlen)
{
	struct clu_view *v = NULL;
	int have_link = 0, have_mtx = 0;

	if (vc->master == NULL) {
		snprintf(err, errlen, "no master: set --master URL");
		goto fail;
	}
	if (vc->id == NULL || strlen(vc->id) >= RING_ID_MAX) {
		snprintf(err, errlen, "worker-id: at most %d characters", RING_ID_MAX - 1);
		goto fail;
	}
	v = calloc(1, sizeof *v);
	if (v == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	v->conf = *vc;
	snprintf(v->id, sizeof v->id, "%s", vc->id);
	if (clu_link_init(&v->link, vc->master, vc->cluster_secret, err, errlen) != 0)
		goto fail;
	have_link = 1;
	if (clu_counts_init(&v->counts) != 0 || pthread_mutex_init(&v->mtx, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	have_mtx = 1;
	if (pthread_cond_init(&v->cv, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	v->magic = CLU_VIEW_MAGIC;
	return (v);
fail:
	if (v != NULL) {
		if (have_mtx)
			pthread_mutex_destroy(&v->mtx);
		clu_counts_fini(&v->counts);
		if (have_link)
			clu_link_fini(&v->link);
		free(v);
	}
	return (NULL);
}

int
clu_view_start(struct clu_view *v)
{
	struct cm_buf ans;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	AZ(v->started);
	/* A first poll before serving: the gateway starts with the ring. */
	cm_buf_init(&ans, CLU_MAX_ANSWER);
	poll_ring(v, &ans);
	cm_buf_free(&ans);
	if (pthread_create(&v->thr, NULL, view_main, v) != 0)
		return (-1);
	v->started = 1;
	return (0);
}

void
clu_view_free(struct clu_view **vp)
{
	struct clu_view *v = *vp;

	*vp = NULL;
	if (v == NULL)
		return;
	CLU_CHECK(v, CLU_VIEW_MAGIC);
	if (v->started) {
		pthread_mutex_lock(&v->mtx);
		v->stop = 1;
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->mtx);
		(void)pthread_join(v->thr, NULL);
	}
	while (v->fences != NULL) {
		struct clu_fence *f = v->fences;

		v->fences = f->next;
		atomic_store(&f->state, CLU_FENCE_FAILED);
		clu_fence_release(&f);
	}
	ring_free(&v->ring);
	clu_link_fini(&v->link);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mtx);
	clu_counts_fini(&v->counts);
	v->magic = 0;
	free(v);
}

static void
target_of(const struct ring_worker *w, struct clu_target *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->id, sizeof t->id, "%s", w->id);
	snprintf(t->host, sizeof t->host, "%s", w->addr);
}

static int
suspect_locked(const struct clu_view *v, const char *host, uint64_t now)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(v->sus); i++)
		if (v->sus[i].until_ms > now && strcmp(v->sus[i].host, host) == 0)
			return (1);
	return (0);
}

size_t
clu_view_targets(struct clu_view *v, uint64_t h, struct clu_target *out, size_t max)
{
	size_t idx[16], n, i, k = 0, pass;
	uint64_t now = cm_mono_ms();

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	if (max > CM_ARRAY_LEN(idx))
		max = CM_ARRAY_LEN(idx);
	pthread_mutex_lock(&v->mtx);
	if (v->ring == NULL || v->ring->n == 0) {
		pthread_mutex_unlock(&v->mtx);
		return (0);
	}
	n = ring_owners(v->ring, h, idx, max);
	/* Healthy owners first, in ring order; then the suspects. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			if (suspect_locked(v, v->ring->w[idx[i]].addr, now) == (int)pass)
				target_of(&v->ring->w[idx[i]], &out[k++]);
	pthread_mutex_unlock(&v->mtx);
	return (k);
}

size_t
clu_view_all(struct clu_view *v, struct clu_target *out, size_t max)
{
	size_t i, k = 0;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	pthread_mutex_lock(&v->mtx);
	for (i = 0; v->ring != NULL && i < v->ring->n && k < max; i++)
		target_of(&v->ring->w[i], &out[k++]);
	pthread_mutex_unlock(&v->mtx);
	return (k);
}

void
clu_view_suspect(struct clu_view *v, const char *host)
{
	uint64_t now = cm_mono_ms();
	size_t i, pick = 0;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	pthread_mutex_lock(&v->mtx);
	for (i = 0; i < CM_ARRAY_LEN(v->sus); i++) {
		if (strcmp(v->sus[i].host, host) == 0) {
			pick = i;
			break;
		}
		if (v->sus[i].until_ms < v->sus[pick].until_ms)
			pick = i;
	}
	snprintf(v->sus[pick].host, sizeof v->sus[pick].host, "%s", host);
	v->sus[pick].until_ms = now + SUSPECT_MS;
	pthread_mutex_unlock(&v->mtx);
}

void
clu_view_poll_soon(struct clu_view *v)
{
	CLU_CHECK(v, CLU_VIEW_MAGIC);
	pthread_mutex_lock(&v->mtx);
	v->poll_now = 1;
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->mtx);
}

uint64_t
clu_view_epoch(struct clu_view *v)
{
	uint64_t e;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	pthread_mutex_lock(&v->mtx);
	e = v->ring != NULL ? v->ring->epoch : 0;
	pthread_mutex_unlock(&v->mtx);
	return (e);
}

size_t
clu_view_size(struct clu_view *v)
{
	size_t n;

	CLU_CHECK(v, CLU_VIEW_MAGIC);
	pthread_mutex_lock(&v->mtx);
	n = v->ring != NULL ? v->ring->n : 0;
	pthread_mutex_unlock(&v->mtx);
	return (n);
}

int
clu_view_master_reachable(struct clu_view *v, char *why, size_t len)
{
	CLU_CHECK(v, CLU_VIEW_MAGIC);
	return (clu_link_reachable(&v->link, why, len));
}

void
clu_view_count(struct clu_view *v, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin)
{
	CLU_CHECK(v, CLU_VIEW_MAGIC);
	if (hits + misses + served == 0)
		return;
	clu_counts_add(&v->counts, bucket, hits, misses, served, from_origin);
}
