/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_agent.c: a worker's agent (see cluster.h).
 *
 * The cluster thread heartbeats to the master (POST /v1/heartbeat) every
 * heartbeat seconds with the per-bucket statistics counted since the last
 * one and the blocks the cache evicted since, and applies what the master
 * answers: the purges it has not seen, and on (re)admission to the ring a
 * revalidation of every cached object. What it needs of the local cache
 * comes through struct clu_agent_ops (no gateway or cache header here).
 *
 * Threads: the cluster thread runs the heartbeats and every ops call
 * (from clu_agent_start's first heartbeat on, the calling thread, before
 * the cluster thread exists); any loop calls clu_agent_count (no lock).
 * Locks: mtx guards stop only; purge_seen and evictions_sent belong to
 * the cluster thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"
#include "s3sig/s3sig.h"

struct clu_agent {
	unsigned		magic;
	struct clu_agent_ops	ops;		/* a copy with the defaults in */
	void			*arg;
	char			id[RING_ID_MAX];
	char			addr[RING_ADDR_MAX];
	uint64_t		weight;
	uint64_t		heartbeat_s;
	pthread_t		thr;
	int			started;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	int			stop;		/* under mtx */
	struct clu_counts	counts;		/* lock-free */
	struct clu_link		link;		/* the cluster thread */
	uint64_t		purge_seen;	/* the cluster thread */
	uint64_t		evictions_sent;	/* the cluster thread */
	_Atomic uint64_t	epoch;		/* the ring's, as the master last said */
};

/* ---- Default slots ---- */

static void
no_stats(void *arg, struct clu_stats *st)
{
	(void)arg;
	memset(st, 0, sizeof *st);
}

static void
no_purge(void *arg, struct cm_slice bucket, struct cm_slice prefix)
{
	(void)arg;
	(void)bucket;
	(void)prefix;
}

static void
no_expire(void *arg)
{
	(void)arg;
}

/* Applies one purge order: the prefix in the store's canonical form (that
 * of a literal key); when it cannot be made, the whole bucket (more than
 * asked, never less). */
static void
apply_purge(struct clu_agent *a, const struct clu_purge *p)
{
	struct cm_buf canon;
	char lit[1100];

	cm_buf_init(&canon, 64 * 1024);
	if (p->prefix.len == 0 || p->prefix.len >= sizeof lit ||
	    memchr(p->prefix.p, '\0', p->prefix.len) != NULL ||
	    snprintf(lit, sizeof lit, "%.*s", (int)p->prefix.len, p->prefix.p) < 0 ||
	    s3sig_uri_encode_path(&canon, lit) != 0)
		a->ops.purge(a->arg, p->bucket, cm_slice("", 0));
	else
		a->ops.purge(a->arg, p->bucket, cm_buf_slice(&canon));
	cm_buf_free(&canon);
	CM_LOGI("cluster: purge %llu of %.*s/%.*s applied", (unsigned long long)p->seq,
	    (int)p->bucket.len, p->bucket.p, (int)p->prefix.len, p->prefix.p);
	if (p->seq > a->purge_seen)
		a->purge_seen = p->seq;
}

/* One heartbeat with the statistics since the last one; they are kept for
 * the next one when the master does not answer. */
static void
heartbeat(struct clu_agent *a, struct cm_buf *ans)
{
	struct clu_bcount *snap;
	struct clu_stat *st = NULL;
	struct clu_hb hb;
	struct clu_hb_answer an;
	struct clu_purge p;
	struct clu_stats cs;
	struct cm_buf body;
	struct cm_slice cur;
	size_t n;

	snap = calloc(CLU_COUNT_BUCKETS, sizeof *snap);
	if (snap == NULL)
		return;
	cm_buf_init(&body, CLU_MAX_BODY);
	n = clu_counts_take(&a->counts, snap);
	st = calloc(n > 0 ? n : 1, sizeof *st);
	memset(&cs, 0, sizeof cs);
	a->ops.stats(a->arg, &cs);
	memset(&hb, 0, sizeof hb);
	hb.id = cm_slice_str(a->id);
	hb.addr = cm_slice_str(a->addr);
	hb.weight = a->weight;
	hb.purge_seen = a->purge_seen;
	hb.evictions = cs.evictions - a->evictions_sent;
	if (st != NULL)
		clu_counts_as_stats(snap, n, st);
	if (st == NULL || clu_hb_write(&body, &hb, st, n) != 0 ||
	    clu_link_ask(&a->link, "/v1/heartbeat", body.p, 0, ans) != 0) {
		clu_counts_give_back(&a->counts, snap, n);	/* counted again next time */
		goto out;
	}
	a->evictions_sent = cs.evictions;
	clu_hb_answer_parse(cm_buf_slice(ans), &an);
	if (an.epoch > atomic_load(&a->epoch))
		atomic_store(&a->epoch, an.epoch);
	if (cm_slice_eq(an.state, "drained"))
		CM_LOGD("cluster: this worker is drained (out of the ring)");
	if (an.joined) {
		/* (Re)admitted to the ring: while we were out (dead, cut off,
		 * new), writes through the gateways did not reach us. Every
		 * object is checked with the origin before its next use; same
		 * versions keep their blocks. */
		CM_LOGI("cluster: joined the ring; cached metadata will be revalidated");
		a->ops.expire_all(a->arg);
	}
	cur = an.rest;
	while (clu_purge_next(&cur, &p))
		apply_purge(a, &p);
out:
	cm_buf_free(&body);
	free(st);
	free(snap);
}

static void *
agent_main(void *arg)
{
	struct clu_agent *a = arg;
	struct cm_buf ans;
	struct timespec ts;

	cm_buf_init(&ans, CLU_MAX_ANSWER);
	pthread_mutex_lock(&a->mtx);
	while (!a->stop) {
		pthread_mutex_unlock(&a->mtx);
		heartbeat(a, &ans);
		pthread_mutex_lock(&a->mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(a->heartbeat_s > 0 ? a->heartbeat_s : 1);
		while (!a->stop && pthread_cond_timedwait(&a->cv, &a->mtx, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&a->mtx);
	cm_buf_free(&ans);
	return (NULL);
}

struct clu_agent *
clu_agent_new(const struct clu_agent_conf *ac, const struct clu_agent_ops *ops, void *arg,
    char *err, size_t errlen)
{
	struct clu_agent *a = NULL;
	int have_link = 0, have_mtx = 0;

	if (ac->master == NULL) {
		snprintf(err, errlen, "no master: set --master URL");
		goto fail;
	}
	if (ac->id == NULL || strlen(ac->id) >= RING_ID_MAX) {
		snprintf(err, errlen, "worker-id: at most %d characters", RING_ID_MAX - 1);
		goto fail;
	}
	a = calloc(1, sizeof *a);
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ops != NULL)
		a->ops = *ops;
	if (a->ops.stats == NULL)
		a->ops.stats = no_stats;
	if (a->ops.purge == NULL)
		a->ops.purge = no_purge;
	if (a->ops.expire_all == NULL)
		a->ops.expire_all = no_expire;
	a->arg = arg;
	snprintf(a->id, sizeof a->id, "%s", ac->id);
	snprintf(a->addr, sizeof a->addr, "%s", ac->addr != NULL ? ac->addr : "");
	a->weight = ac->weight;
	a->heartbeat_s = ac->heartbeat_s;
	if (clu_link_init(&a->link, ac->master, ac->cluster_secret, err, errlen) != 0)
		goto fail;
	have_link = 1;
	if (clu_counts_init(&a->counts) != 0 || pthread_mutex_init(&a->mtx, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	have_mtx = 1;
	if (pthread_cond_init(&a->cv, NULL) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->magic = CLU_AGENT_MAGIC;
	/* What this process loaded from its disk was fresh when it was
	 * written, but writes may have gone through the gateways while it
	 * was not running, and the master does not tell a worker restarted
	 * within down-after that it was away: nothing held from before this
	 * start is served before the origin confirms it (same versions keep
	 * their blocks). Here, before any listener is up. */
	a->ops.expire_all(a->arg);
	return (a);
fail:
	if (a != NULL) {
		if (have_mtx)
			pthread_mutex_destroy(&a->mtx);
		clu_counts_fini(&a->counts);
		if (have_link)
			clu_link_fini(&a->link);
		free(a);
	}
	return (NULL);
}

uint64_t
clu_agent_epoch(struct clu_agent *a)
{
	CLU_CHECK(a, CLU_AGENT_MAGIC);
	return (atomic_load(&a->epoch));
}

int
clu_agent_start(struct clu_agent *a)
{
	struct cm_buf ans;

	CLU_CHECK(a, CLU_AGENT_MAGIC);
	AZ(a->started);
	/* A first heartbeat before serving: the worker is in the ring. */
	cm_buf_init(&ans, CLU_MAX_ANSWER);
	heartbeat(a, &ans);
	cm_buf_free(&ans);
	if (pthread_create(&a->thr, NULL, agent_main, a) != 0)
		return (-1);
	a->started = 1;
	return (0);
}

void
clu_agent_free(struct clu_agent **ap)
{
	struct clu_agent *a = *ap;

	*ap = NULL;
	if (a == NULL)
		return;
	CLU_CHECK(a, CLU_AGENT_MAGIC);
	if (a->started) {
		pthread_mutex_lock(&a->mtx);
		a->stop = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mtx);
		(void)pthread_join(a->thr, NULL);
	}
	clu_link_fini(&a->link);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mtx);
	clu_counts_fini(&a->counts);
	a->magic = 0;
	free(a);
}

void
clu_agent_count(struct clu_agent *a, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin)
{
	CLU_CHECK(a, CLU_AGENT_MAGIC);
	if (hits + misses + served == 0)
		return;
	clu_counts_add(&a->counts, bucket, hits, misses, served, from_origin);
}

int
clu_agent_master_reachable(struct clu_agent *a, char *why, size_t len)
{
	CLU_CHECK(a, CLU_AGENT_MAGIC);
	return (clu_link_reachable(&a->link, why, len));
}
