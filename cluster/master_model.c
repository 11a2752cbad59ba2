/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_model.c: the master's state and its rules: workers and their
 * states, the ring epoch, per-bucket statistics, purge orders.
 *
 *   - A worker's heartbeat brings it up (from down: the epoch goes up and
 *     the answer says "joined", so that it revalidates what it holds); a
 *     new address or weight of a worker that is up changes the ring (the
 *     epoch goes up).
 *   - A worker silent for down_after_ms is marked down by the sweeper and
 *     leaves the ring (the epoch goes up).
 *   - Drained: out of the ring until undrained, then down until its next
 *     heartbeat.
 *   - Purge orders are numbered; a worker is sent those above the number
 *     it says it has seen; the oldest goes when MASTER_MAX_PURGES are kept.
 *   - Statistics are deltas added to the bucket's and the worker's counts.
 *
 * No I/O here: the messages are parsed and written by clu_proto.c, and
 * every change is handed to the persistence ops (master_store.c), called
 * under mtx so that the records are kept in the order of the changes.
 *
 * Threads: libmicrohttpd's polling thread (master_routes.c) and the
 * sweeper (master_main.c). Lock: m->mtx guards the whole model; it is the
 * master's only lock (the persistence ops take none of their own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

const char *const master_wstate_name[] = { "up", "down", "drained" };

/* ---- Default persistence: nothing kept ---- */

static void
no_worker(void *arg, const struct master_worker *w)
{
	(void)arg;
	(void)w;
}

static void
no_epoch(void *arg, uint64_t epoch)
{
	(void)arg;
	(void)epoch;
}

static void
no_bucket(void *arg, const struct master_bucket *b)
{
	(void)arg;
	(void)b;
}

static void
no_purge_add(void *arg, const struct master_purge *p, uint64_t seq)
{
	(void)arg;
	(void)p;
	(void)seq;
}

static void
no_purge_del(void *arg, uint64_t seq)
{
	(void)arg;
	(void)seq;
}

int
master_model_init(struct master *m, uint64_t down_after_ms, const struct master_persist_ops *po,
    void *parg)
{
	memset(m, 0, sizeof *m);
	if (po != NULL)
		m->po = *po;
	if (m->po.worker == NULL)
		m->po.worker = no_worker;
	if (m->po.epoch == NULL)
		m->po.epoch = no_epoch;
	if (m->po.bucket == NULL)
		m->po.bucket = no_bucket;
	if (m->po.purge_add == NULL)
		m->po.purge_add = no_purge_add;
	if (m->po.purge_del == NULL)
		m->po.purge_del = no_purge_del;
	m->parg = parg;
	m->down_after_ms = down_after_ms;
	m->started = (int64_t)time(NULL);
	m->w = calloc(MASTER_MAX_WORKERS, sizeof *m->w);
	m->b = calloc(MASTER_MAX_BUCKETS, sizeof *m->b);
	m->p = calloc(MASTER_MAX_PURGES, sizeof *m->p);
	if (m->w == NULL || m->b == NULL || m->p == NULL)
		goto fail;
	if (pthread_mutex_init(&m->mtx, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&m->cv, NULL) != 0) {
		pthread_mutex_destroy(&m->mtx);
		goto fail;
	}
	m->magic = MASTER_MAGIC;
	return (0);
fail:
	free(m->w);
	free(m->b);
	free(m->p);
	memset(m, 0, sizeof *m);
	return (-1);
}

void
master_model_fini(struct master *m)
{
	if (m->magic != MASTER_MAGIC)
		return;		/* never made */
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mtx);
	free(m->w);
	free(m->b);
	free(m->p);
	m->magic = 0;
}

static struct master_worker *
find_worker(struct master *m, struct cm_slice id)
{
	size_t i;

	for (i = 0; i < m->nw; i++)
		if (cm_slice_eq(id, m->w[i].id))
			return (&m->w[i]);
	return (NULL);
}

/* The bucket's record, made when create and the name is a bucket name
 * (the gateway's rule: every bucket it serves can be counted and purged). */
static struct master_bucket *
find_bucket(struct master *m, struct cm_slice name, int create)
{
	size_t i;

	for (i = 0; i < m->nb; i++)
		if (cm_slice_eq(name, m->b[i].name))
			return (&m->b[i]);
	if (!create || m->nb == MASTER_MAX_BUCKETS ||
	    !cm_s3_bucket_valid(name, CM_S3_BUCKET_LEGACY))
		return (NULL);
	memset(&m->b[m->nb], 0, sizeof m->b[m->nb]);
	memcpy(m->b[m->nb].name, name.p, name.len);
	return (&m->b[m->nb++]);
}

static void
bump_epoch(struct master *m, const char *why, const char *id)
{
	m->epoch++;
	m->po.epoch(m->parg, m->epoch);
	CM_LOGI("master: ring epoch %llu: %s %s", (unsigned long long)m->epoch, id, why);
}

/* One stats line's deltas into the bucket's counters and the worker's (w
 * NULL: a gateway's). */
static void
stats_locked(struct master *m, struct master_worker *w, const struct clu_stat *st)
{
	struct master_bucket *bk = find_bucket(m, st->bucket, 1);

	if (bk == NULL)
		return;
	bk->c.hits += st->hits;
	bk->c.misses += st->misses;
	bk->c.served += st->served;
	bk->c.origin += st->origin;
	bk->c.evictions += st->evictions;
	if (w != NULL) {
		w->c.hits += st->hits;
		w->c.misses += st->misses;
		w->c.served += st->served;
		w->c.origin += st->origin;
	}
	m->po.bucket(m->parg, bk);
}

void
master_gateway_stats(struct master *m, struct cm_slice body, struct cm_buf *out, unsigned *status)
{
	struct cm_slice id, cur;
	struct clu_stat st;

	CLU_CHECK(m, MASTER_MAGIC);
	if (clu_gwstats_parse(body, &id, &cur) != 0) {
		*status = 400;
		(void)cm_buf_adds(out, "expected 'gateway ID' first\n");
		return;
	}
	pthread_mutex_lock(&m->mtx);
	while (clu_stats_next(&cur, &st))
		stats_locked(m, NULL, &st);
	pthread_mutex_unlock(&m->mtx);
	*status = 200;
	(void)cm_buf_adds(out, "ok\n");
}

void
master_heartbeat(struct master *m, struct cm_slice body, struct cm_buf *out, unsigned *status)
{
	struct master_worker *w;
	struct clu_hb hb;
	struct clu_stat st;
	struct cm_slice cur;
	size_t i;
	int joined = 0;

	CLU_CHECK(m, MASTER_MAGIC);
	*status = 400;
	if (clu_hb_parse(body, &hb) != 0) {
		(void)cm_buf_adds(out, "expected 'worker ID HOST:PORT WEIGHT' first\n");
		return;
	}
	pthread_mutex_lock(&m->mtx);
	w = find_worker(m, hb.id);
	if (w == NULL) {
		if (m->nw == MASTER_MAX_WORKERS) {
			pthread_mutex_unlock(&m->mtx);
			*status = 503;
			(void)cm_buf_adds(out, "too many workers\n");
			return;
		}
		w = &m->w[m->nw++];
		memset(w, 0, sizeof *w);
		memcpy(w->id, hb.id.p, hb.id.len);
		w->state = MW_DOWN;
	}
	if (!cm_slice_eq(hb.addr, w->addr) || w->weight != hb.weight) {
		memset(w->addr, 0, sizeof w->addr);
		memcpy(w->addr, hb.addr.p, hb.addr.len);
		w->weight = (uint32_t)hb.weight;
		if (w->state == MW_UP)
			bump_epoch(m, "moved or reweighted", w->id);
	}
	w->seen_ms = cm_mono_ms();
	w->seen_wall = (int64_t)time(NULL);
	w->purge_seen = hb.purge_seen;
	if (w->state == MW_DOWN) {
		w->state = MW_UP;
		joined = 1;
		bump_epoch(m, "joined", w->id);
	}
	/* Orders it has not seen were dropped (the oldest go past
	 * MASTER_MAX_PURGES): it revalidates everything instead. */
	if (m->np > 0 && hb.purge_seen + 1 < m->p[0].seq && w->state == MW_UP)
		joined = 1;
	cur = hb.rest;
	while (clu_stats_next(&cur, &st))
		stats_locked(m, w, &st);
	w->c.evictions += hb.evictions;
	m->evictions += hb.evictions;
	m->po.worker(m->parg, w);
	(void)clu_hb_answer_write(out, m->epoch, master_wstate_name[w->state], joined);
	for (i = 0; i < m->np; i++) {
		struct clu_purge p = { .seq = m->p[i].seq, .bucket = cm_slice_str(m->p[i].bucket),
		    .prefix = cm_slice_str(m->p[i].prefix) };

		if (p.seq > hb.purge_seen)
			(void)clu_purge_write(out, &p);
	}
	pthread_mutex_unlock(&m->mtx);
	*status = 200;
}

unsigned
master_drain(struct master *m, const char *id, int drained, struct cm_buf *out)
{
	struct master_worker *w;

	CLU_CHECK(m, MASTER_MAGIC);
	if (id == NULL || !clu_proto_id_valid(cm_slice_str(id))) {
		(void)cm_buf_adds(out, "expected ?worker=ID\n");
		return (400);
	}
	pthread_mutex_lock(&m->mtx);
	w = find_worker(m, cm_slice_str(id));
	if (w == NULL) {
		pthread_mutex_unlock(&m->mtx);
		(void)cm_buf_adds(out, "no such worker\n");
		return (404);
	}
	if (drained && w->state != MW_DRAINED) {
		int was_up = w->state == MW_UP;

		w->state = MW_DRAINED;
		if (was_up)
			bump_epoch(m, "drained", w->id);
	} else if (!drained && w->state == MW_DRAINED) {
		w->state = MW_DOWN;	/* up again at its next heartbeat */
	}
	m->po.worker(m->parg, w);
	(void)cm_buf_addf(out, "worker %s %s, ring epoch %llu\n", w->id, master_wstate_name[w->state],
	    (unsigned long long)m->epoch);
	pthread_mutex_unlock(&m->mtx);
	return (200);
}

unsigned
master_purge_order(struct master *m, const char *bucket, const char *prefix, struct cm_buf *out)
{
	struct master_purge *p;

	CLU_CHECK(m, MASTER_MAGIC);
	if (bucket == NULL || !cm_s3_bucket_valid(cm_slice_str(bucket), CM_S3_BUCKET_LEGACY)) {
		(void)cm_buf_adds(out, "expected ?bucket=NAME[&prefix=P]\n");
		return (400);
	}
	if (prefix == NULL)
		prefix = "";
	if (strlen(prefix) >= MASTER_PREFIX_MAX || strpbrk(prefix, " \n\r") != NULL) {
		(void)cm_buf_adds(out, "prefix too long or with spaces\n");
		return (400);
	}
	pthread_mutex_lock(&m->mtx);
	if (m->np == MASTER_MAX_PURGES) {
		/* The oldest order goes: every worker has long seen it. */
		m->po.purge_del(m->parg, m->p[0].seq);
		memmove(&m->p[0], &m->p[1], (m->np - 1) * sizeof *m->p);
		m->np--;
	}
	p = &m->p[m->np++];
	memset(p, 0, sizeof *p);
	p->seq = ++m->purge_seq;
	snprintf(p->bucket, sizeof p->bucket, "%s", bucket);
	snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
	m->po.purge_add(m->parg, p, m->purge_seq);
	(void)cm_buf_addf(out, "purge %llu of %s/%s ordered; workers apply it at their next "
	    "heartbeat\n", (unsigned long long)p->seq, p->bucket, p->prefix);
	pthread_mutex_unlock(&m->mtx);
	return (200);
}

unsigned
master_purge_applied(struct master *m, const char *seq, struct cm_buf *out)
{
	uint64_t n;
	size_t i, behind = 0;

	CLU_CHECK(m, MASTER_MAGIC);
	if (seq == NULL || cm_parse_u64(cm_slice_str(seq), UINT64_MAX, &n) != 0 || n == 0) {
		(void)cm_buf_adds(out, "expected ?seq=N\n");
		return (400);
	}
	pthread_mutex_lock(&m->mtx);
	if (n > m->purge_seq) {
		pthread_mutex_unlock(&m->mtx);
		(void)cm_buf_adds(out, "no such purge\n");
		return (404);
	}
	for (i = 0; i < m->nw; i++)
		if (m->w[i].state == MW_UP && m->w[i].purge_seen < n)
			behind++;
	pthread_mutex_unlock(&m->mtx);
	if (behind == 0)
		(void)cm_buf_adds(out, "applied\n");
	else
		(void)cm_buf_addf(out, "pending %zu\n", behind);
	return (200);
}

void
master_sweep_locked(struct master *m, uint64_t now_ms)
{
	size_t i;

	CLU_CHECK(m, MASTER_MAGIC);
	for (i = 0; i < m->nw; i++) {
		struct master_worker *w = &m->w[i];

		if (w->state == MW_UP && now_ms - w->seen_ms > m->down_after_ms) {
			w->state = MW_DOWN;
			m->po.worker(m->parg, w);
			bump_epoch(m, "missed its heartbeats: down", w->id);
		}
	}
}

/* ---- Loading ---- */

int
master_load_worker(struct master *m, struct cm_slice id, struct cm_slice addr, uint64_t weight,
    struct cm_slice state, int64_t seen_wall)
{
	struct master_worker *w;

	CLU_CHECK(m, MASTER_MAGIC);
	if (m->nw == MASTER_MAX_WORKERS || !clu_proto_id_valid(id) || addr.len == 0 ||
	    addr.len >= sizeof w->addr || weight == 0 || weight > 1000)
		return (-1);
	w = &m->w[m->nw++];
	memset(w, 0, sizeof *w);
	memcpy(w->id, id.p, id.len);
	memcpy(w->addr, addr.p, addr.len);
	w->weight = (uint32_t)weight;
	w->state = cm_slice_eq(state, "drained") ? MW_DRAINED : cm_slice_eq(state, "up") ? MW_UP :
	    MW_DOWN;
	w->seen_ms = cm_mono_ms();	/* a grace period from this start */
	w->seen_wall = seen_wall;
	return (0);
}

int
master_load_bucket(struct master *m, struct cm_slice name, const struct master_counters *c)
{
	struct master_bucket *bk;

	CLU_CHECK(m, MASTER_MAGIC);
	bk = find_bucket(m, name, 1);
	if (bk == NULL)
		return (-1);
	if (c != NULL)
		bk->c = *c;
	else
		memset(&bk->c, 0, sizeof bk->c);
	return (0);
}

int
master_load_purge(struct master *m, uint64_t seq, struct cm_slice bucket, struct cm_slice prefix)
{
	struct master_purge *p;

	CLU_CHECK(m, MASTER_MAGIC);
	if (m->np == MASTER_MAX_PURGES || bucket.len == 0 || bucket.len >= sizeof p->bucket ||
	    prefix.len >= sizeof p->prefix)
		return (-1);
	p = &m->p[m->np++];
	memset(p, 0, sizeof *p);
	p->seq = seq;
	memcpy(p->bucket, bucket.p, bucket.len);
	if (prefix.len > 0)
		memcpy(p->prefix, prefix.p, prefix.len);
	return (0);
}
