/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master.c: the master (see master.h).
 *
 * Heartbeat body (text, one item per line):
 *   worker ID HOST:PORT WEIGHT
 *   purge-seen N
 *   stats BUCKET HITS MISSES BYTES_SERVED BYTES_FROM_ORIGIN EVICTIONS   (deltas)
 *   evictions N             (blocks the worker evicted since the last one)
 * HITS are blocks read cached, MISSES blocks fetched from the origin.
 * A gateway posts its own statistics (blocks its staging store served or
 * it fetched from the origin itself) to /v1/stats: "gateway ID" then
 * stats lines; they count in the buckets, in no worker.
 * Answer:
 *   epoch N
 *   state up|drained
 *   joined                  (when this heartbeat brought it into the ring)
 *   purge SEQ BUCKET [PREFIX]
 *
 * LevelDB keys: "epoch", "purge-seq", "w/ID" = "ADDR WEIGHT STATE WALL",
 * "s/BUCKET" = "HITS MISSES SERVED ORIGIN EVICTIONS", "p/SEQ" = "BUCKET PREFIX".
 *
 * Threads: libmicrohttpd's one polling thread serves every request; a
 * sweeper thread marks silent workers down; one mutex guards the state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <leveldb/c.h>
#include <microhttpd.h>

#include "common/cm_log.h"
#include "common/cm_net.h"
#include "common/cm_prom.h"
#include "cluster/master.h"
#include "cluster/ring.h"

#define MAX_WORKERS	RING_MAX_WORKERS
#define MAX_BUCKETS	4096
#define MAX_PURGES	1024
#define MAX_BODY	(1 << 20)

enum wstate { W_UP, W_DOWN, W_DRAINED };
static const char *const wstate_name[] = { "up", "down", "drained" };

struct counters {
	uint64_t	hits, misses, served, origin, evictions;
};

struct mworker {
	char		id[RING_ID_MAX];
	char		addr[RING_ADDR_MAX];
	uint32_t	weight;
	enum wstate	state;
	uint64_t	seen_ms;	/* monotonic, this process */
	int64_t		seen_wall;
	struct counters	c;		/* since this master process started */
};

struct mbucket {
	char		name[64];
	struct counters	c;
};

struct mpurge {
	uint64_t	seq;
	char		bucket[64];
	char		prefix[1024];
};

struct master {
	pthread_mutex_t	mtx;
	pthread_cond_t	cv;
	int		stop;
	leveldb_t	*db;
	leveldb_writeoptions_t *wo;
	leveldb_readoptions_t *ro;
	uint64_t	epoch;
	uint64_t	down_after_ms;
	struct mworker	*w;
	size_t		nw;
	struct mbucket	*b;
	size_t		nb;
	struct mpurge	*p;
	size_t		np;
	uint64_t	purge_seq;
	uint64_t	evictions;	/* reported since this process started */
	time_t		started;	/* wall clock */
};

/* ---- LevelDB ---- */

static void
db_put(struct master *m, const char *key, const char *val)
{
	char *err = NULL;

	leveldb_put(m->db, m->wo, key, strlen(key), val, strlen(val), &err);
	if (err != NULL) {
		CM_LOGE("master: LevelDB write of %s failed: %s", key, err);
		leveldb_free(err);
	}
}

static void
db_del(struct master *m, const char *key)
{
	char *err = NULL;

	leveldb_delete(m->db, m->wo, key, strlen(key), &err);
	if (err != NULL) {
		CM_LOGE("master: LevelDB delete of %s failed: %s", key, err);
		leveldb_free(err);
	}
}

static void
save_worker(struct master *m, const struct mworker *w)
{
	char k[8 + RING_ID_MAX], v[RING_ADDR_MAX + 64];

	snprintf(k, sizeof k, "w/%s", w->id);
	snprintf(v, sizeof v, "%s %u %s %lld", w->addr, w->weight, wstate_name[w->state],
	    (long long)w->seen_wall);
	db_put(m, k, v);
}

static void
save_epoch(struct master *m)
{
	char v[32];

	snprintf(v, sizeof v, "%llu", (unsigned long long)m->epoch);
	db_put(m, "epoch", v);
}

static void
save_bucket(struct master *m, const struct mbucket *b)
{
	char k[80], v[128];

	snprintf(k, sizeof k, "s/%s", b->name);
	snprintf(v, sizeof v, "%llu %llu %llu %llu %llu", (unsigned long long)b->c.hits,
	    (unsigned long long)b->c.misses, (unsigned long long)b->c.served,
	    (unsigned long long)b->c.origin, (unsigned long long)b->c.evictions);
	db_put(m, k, v);
}

static int
valid_id(struct cm_slice s)
{
	size_t i;

	if (s.len == 0 || s.len >= RING_ID_MAX)
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-' || c == ':'))
			return (0);
	}
	return (1);
}

/* S3 bucket names: 3-63 of a-z 0-9 . - (loosely: what we store as keys). */
static int
valid_bucket(struct cm_slice s)
{
	size_t i;

	if (s.len == 0 || s.len > 63)
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_'))
			return (0);
	}
	return (1);
}

static struct mworker *
find_worker(struct master *m, struct cm_slice id)
{
	size_t i;

	for (i = 0; i < m->nw; i++)
		if (cm_slice_eq(id, m->w[i].id))
			return (&m->w[i]);
	return (NULL);
}

static struct mbucket *
find_bucket(struct master *m, struct cm_slice name, int create)
{
	size_t i;

	for (i = 0; i < m->nb; i++)
		if (cm_slice_eq(name, m->b[i].name))
			return (&m->b[i]);
	if (!create || m->nb == MAX_BUCKETS || !valid_bucket(name))
		return (NULL);
	memset(&m->b[m->nb], 0, sizeof m->b[m->nb]);
	memcpy(m->b[m->nb].name, name.p, name.len);
	return (&m->b[m->nb++]);
}

static int
parse_counters(struct cm_slice s, struct counters *c)
{
	uint64_t *f[5] = { &c->hits, &c->misses, &c->served, &c->origin, &c->evictions };
	struct cm_slice t;
	size_t i;

	for (i = 0; i < 5; i++) {
		s = cm_slice_trim(cm_slice_cut(cm_slice_trim(s), ' ', &t));
		if (cm_parse_u64(t, UINT64_MAX, f[i]) != 0)
			return (-1);
	}
	return (s.len == 0 ? 0 : -1);
}

static int
load(struct master *m)
{
	leveldb_iterator_t *it = leveldb_create_iterator(m->db, m->ro);
	uint64_t now = cm_mono_ms();

	if (it == NULL)
		return (-1);
	for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl), *v = leveldb_iter_value(it, &vl);
		struct cm_slice key = cm_slice(k, kl), val = cm_slice(v, vl), a, b, c, d;
		uint64_t n;

		if (cm_slice_eq(key, "epoch") && cm_parse_u64(val, UINT64_MAX, &n) == 0) {
			m->epoch = n;
		} else if (cm_slice_eq(key, "purge-seq") && cm_parse_u64(val, UINT64_MAX, &n) == 0) {
			m->purge_seq = n;
		} else if (kl > 2 && memcmp(k, "w/", 2) == 0 && m->nw < MAX_WORKERS &&
		    valid_id(cm_slice(k + 2, kl - 2))) {
			struct mworker *w = &m->w[m->nw];

			memset(w, 0, sizeof *w);
			val = cm_slice_cut(val, ' ', &a);
			val = cm_slice_cut(val, ' ', &b);
			d = cm_slice_cut(val, ' ', &c);
			if (a.len == 0 || a.len >= sizeof w->addr ||
			    cm_parse_u64(b, 1000, &n) != 0 || n == 0)
				continue;
			memcpy(w->id, k + 2, kl - 2);
			memcpy(w->addr, a.p, a.len);
			w->weight = (uint32_t)n;
			w->state = cm_slice_eq(c, "drained") ? W_DRAINED :
			    cm_slice_eq(c, "up") ? W_UP : W_DOWN;
			w->seen_ms = now;	/* a grace period from this start */
			w->seen_wall = cm_parse_u64(d, INT64_MAX, &n) == 0 ? (int64_t)n : 0;
			m->nw++;
		} else if (kl > 2 && memcmp(k, "s/", 2) == 0) {
			struct mbucket *bk = find_bucket(m, cm_slice(k + 2, kl - 2), 1);

			if (bk != NULL && parse_counters(val, &bk->c) != 0)
				memset(&bk->c, 0, sizeof bk->c);
		} else if (kl > 2 && memcmp(k, "p/", 2) == 0 && m->np < MAX_PURGES) {
			struct mpurge *p = &m->p[m->np];

			b = cm_slice_cut(val, ' ', &a);
			if (cm_parse_u64(cm_slice(k + 2, kl - 2), UINT64_MAX, &p->seq) != 0 ||
			    a.len == 0 || a.len >= sizeof p->bucket || b.len >= sizeof p->prefix)
				continue;
			memset(p->bucket, 0, sizeof p->bucket);
			memset(p->prefix, 0, sizeof p->prefix);
			memcpy(p->bucket, a.p, a.len);
			if (b.len > 0)
				memcpy(p->prefix, b.p, b.len);
			m->np++;
		}
	}
	leveldb_iter_destroy(it);
	return (0);
}

/* ---- Answers ---- */

static enum MHD_Result
reply(struct MHD_Connection *mc, unsigned status, const char *type, struct cm_buf *body)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	/* MHD frees the buffer (MUST_FREE) once sent. */
	r = MHD_create_response_from_buffer(body->len, body->p != NULL ? body->p : (char *)"",
	    body->p != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		cm_buf_free(body);
		return (MHD_NO);
	}
	body->p = NULL;
	(void)MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return (rc);
}

static enum MHD_Result
reply_text(struct MHD_Connection *mc, unsigned status, const char *text)
{
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	(void)cm_buf_adds(&b, text);
	return (reply(mc, status, "text/plain", &b));
}

static void
ring_locked(struct master *m, struct cm_buf *out)
{
	size_t i;

	(void)cm_buf_addf(out, "epoch %llu\n", (unsigned long long)m->epoch);
	for (i = 0; i < m->nw; i++)
		if (m->w[i].state == W_UP)
			(void)cm_buf_addf(out, "worker %s %s %u\n", m->w[i].id, m->w[i].addr,
			    m->w[i].weight);
}

static void
bump_epoch(struct master *m, const char *why, const char *id)
{
	m->epoch++;
	save_epoch(m);
	CM_LOGI("master: ring epoch %llu: %s %s", (unsigned long long)m->epoch, id, why);
}

/* "BUCKET HITS MISSES SERVED ORIGIN EVICTIONS" (deltas) into the bucket's
 * counters and the worker's (w NULL: a gateway's). */
static void
stats_line_locked(struct master *m, struct mworker *w, struct cm_slice rest)
{
	struct cm_slice name;
	struct counters c;
	struct mbucket *bk;

	rest = cm_slice_cut(rest, ' ', &name);
	if (parse_counters(rest, &c) != 0)
		return;
	bk = find_bucket(m, name, 1);
	if (bk == NULL)
		return;
	bk->c.hits += c.hits;
	bk->c.misses += c.misses;
	bk->c.served += c.served;
	bk->c.origin += c.origin;
	bk->c.evictions += c.evictions;
	if (w != NULL) {
		w->c.hits += c.hits;
		w->c.misses += c.misses;
		w->c.served += c.served;
		w->c.origin += c.origin;
	}
	save_bucket(m, bk);
}

/* A gateway's statistics: "gateway ID", then stats lines. */
static void
gateway_stats(struct master *m, struct cm_slice body, struct cm_buf *out, unsigned *status)
{
	struct cm_slice line, f, rest;

	body = cm_slice_cut(body, '\n', &line);
	rest = cm_slice_cut(cm_slice_trim(line), ' ', &f);
	/* The ID only names the sender (a gateway is no member of the ring). */
	if (!cm_slice_eq(f, "gateway") || cm_slice_trim(rest).len == 0) {
		*status = 400;
		(void)cm_buf_adds(out, "expected 'gateway ID' first\n");
		return;
	}
	pthread_mutex_lock(&m->mtx);
	while (body.len > 0) {
		body = cm_slice_cut(body, '\n', &line);
		rest = cm_slice_cut(cm_slice_trim(line), ' ', &f);
		if (cm_slice_eq(f, "stats"))
			stats_line_locked(m, NULL, rest);
	}
	pthread_mutex_unlock(&m->mtx);
	*status = 200;
	(void)cm_buf_adds(out, "ok\n");
}

static void
heartbeat(struct master *m, struct cm_slice body, struct cm_buf *out, unsigned *status)
{
	struct cm_slice line, f, rest;
	struct mworker *w = NULL;
	uint64_t seen = 0, v;
	size_t i;
	int joined = 0;

	*status = 400;
	body = cm_slice_cut(body, '\n', &line);
	/* worker ID ADDR WEIGHT */
	rest = cm_slice_cut(cm_slice_trim(line), ' ', &f);
	if (!cm_slice_eq(f, "worker"))
		goto bad;
	{
		struct cm_slice id, addr, wt;

		rest = cm_slice_cut(rest, ' ', &id);
		wt = cm_slice_trim(cm_slice_cut(rest, ' ', &addr));
		if (!valid_id(id) || addr.len == 0 || addr.len >= RING_ADDR_MAX ||
		    memchr(addr.p, ' ', addr.len) != NULL || cm_parse_u64(wt, 1000, &v) != 0 || v == 0)
			goto bad;
		pthread_mutex_lock(&m->mtx);
		w = find_worker(m, id);
		if (w == NULL) {
			if (m->nw == MAX_WORKERS) {
				pthread_mutex_unlock(&m->mtx);
				*status = 503;
				(void)cm_buf_adds(out, "too many workers\n");
				return;
			}
			w = &m->w[m->nw++];
			memset(w, 0, sizeof *w);
			memcpy(w->id, id.p, id.len);
			w->state = W_DOWN;
		}
		if (!cm_slice_eq(addr, w->addr) || w->weight != v) {
			memset(w->addr, 0, sizeof w->addr);
			memcpy(w->addr, addr.p, addr.len);
			w->weight = (uint32_t)v;
			if (w->state == W_UP)
				bump_epoch(m, "moved or reweighted", w->id);
		}
		w->seen_ms = cm_mono_ms();
		w->seen_wall = (int64_t)time(NULL);
		if (w->state == W_DOWN) {
			w->state = W_UP;
			joined = 1;
			bump_epoch(m, "joined", w->id);
		}
	}
	/* The rest: purge-seen and stats lines. */
	while (body.len > 0) {
		body = cm_slice_cut(body, '\n', &line);
		rest = cm_slice_cut(cm_slice_trim(line), ' ', &f);
		if (cm_slice_eq(f, "purge-seen")) {
			if (cm_parse_u64(cm_slice_trim(rest), UINT64_MAX, &seen) != 0)
				seen = 0;
		} else if (cm_slice_eq(f, "stats")) {
			stats_line_locked(m, w, rest);
		} else if (cm_slice_eq(f, "evictions") &&
		    cm_parse_u64(cm_slice_trim(rest), UINT64_MAX, &v) == 0) {
			w->c.evictions += v;
			m->evictions += v;
		}
	}
	save_worker(m, w);
	(void)cm_buf_addf(out, "epoch %llu\nstate %s\n%s", (unsigned long long)m->epoch,
	    wstate_name[w->state], joined ? "joined\n" : "");
	for (i = 0; i < m->np; i++)
		if (m->p[i].seq > seen)
			(void)cm_buf_addf(out, "purge %llu %s %s\n", (unsigned long long)m->p[i].seq,
			    m->p[i].bucket, m->p[i].prefix);
	pthread_mutex_unlock(&m->mtx);
	*status = 200;
	return;
bad:
	(void)cm_buf_adds(out, "expected 'worker ID HOST:PORT WEIGHT' first\n");
}

static void
workers_locked(struct master *m, struct cm_buf *out, int json)
{
	uint64_t now = cm_mono_ms();
	size_t i;

	if (json)
		(void)cm_buf_addf(out, "{\"epoch\":%llu,\"workers\":[", (unsigned long long)m->epoch);
	else
		(void)cm_buf_addf(out, "%-24s %-22s %6s %-8s %9s %10s %10s %14s %14s\n", "WORKER",
		    "ADDRESS", "WEIGHT", "STATE", "SEEN", "HITS", "MISSES", "BYTES SERVED",
		    "FROM ORIGIN");
	/* HITS: blocks read cached; MISSES: blocks fetched from the origin. */
	for (i = 0; i < m->nw; i++) {
		const struct mworker *w = &m->w[i];
		double ago = (double)(now - w->seen_ms) / 1000.0;

		if (json)
			(void)cm_buf_addf(out, "%s{\"id\":\"%s\",\"address\":\"%s\",\"weight\":%u,"
			    "\"state\":\"%s\",\"seen_seconds_ago\":%.1f,\"hits\":%llu,\"misses\":%llu,"
			    "\"bytes_served\":%llu,\"bytes_from_origin\":%llu,\"evictions\":%llu}",
			    i > 0 ? "," : "", w->id, w->addr, w->weight, wstate_name[w->state], ago,
			    (unsigned long long)w->c.hits, (unsigned long long)w->c.misses,
			    (unsigned long long)w->c.served, (unsigned long long)w->c.origin,
			    (unsigned long long)w->c.evictions);
		else
			(void)cm_buf_addf(out, "%-24s %-22s %6u %-8s %8.1fs %10llu %10llu %14llu %14llu\n",
			    w->id, w->addr, w->weight, wstate_name[w->state], ago,
			    (unsigned long long)w->c.hits, (unsigned long long)w->c.misses,
			    (unsigned long long)w->c.served, (unsigned long long)w->c.origin);
	}
	if (json)
		(void)cm_buf_adds(out, "]}\n");
}

static void
stats_locked(struct master *m, struct cm_buf *out, const char *bucket, int json)
{
	size_t i, k = 0;

	if (json)
		(void)cm_buf_adds(out, "{\"buckets\":[");
	else
		(void)cm_buf_addf(out, "%-32s %10s %10s %9s %14s %14s %10s\n", "BUCKET", "HITS", "MISSES",
		    "HIT RATIO", "BYTES SERVED", "FROM ORIGIN", "EVICTIONS");
	for (i = 0; i < m->nb; i++) {
		const struct mbucket *b = &m->b[i];
		double total = (double)(b->c.hits + b->c.misses);

		if (bucket != NULL && strcmp(bucket, b->name) != 0)
			continue;
		if (json)
			(void)cm_buf_addf(out, "%s{\"bucket\":\"%s\",\"hits\":%llu,\"misses\":%llu,"
			    "\"hit_ratio\":%.4f,\"bytes_served\":%llu,\"bytes_from_origin\":%llu,"
			    "\"evictions\":%llu}", k > 0 ? "," : "", b->name,
			    (unsigned long long)b->c.hits, (unsigned long long)b->c.misses,
			    total > 0 ? (double)b->c.hits / total : 0.0, (unsigned long long)b->c.served,
			    (unsigned long long)b->c.origin, (unsigned long long)b->c.evictions);
		else
			(void)cm_buf_addf(out, "%-32s %10llu %10llu %9.3f %14llu %14llu %10llu\n", b->name,
			    (unsigned long long)b->c.hits, (unsigned long long)b->c.misses,
			    total > 0 ? (double)b->c.hits / total : 0.0, (unsigned long long)b->c.served,
			    (unsigned long long)b->c.origin, (unsigned long long)b->c.evictions);
		k++;
	}
	if (json)
		(void)cm_buf_adds(out, "]}\n");
}

static void
status_locked(struct master *m, struct cm_buf *out, int json)
{
	size_t i, n[3] = { 0, 0, 0 };
	struct counters t;

	memset(&t, 0, sizeof t);
	for (i = 0; i < m->nw; i++)
		n[m->w[i].state]++;
	for (i = 0; i < m->nb; i++) {
		t.hits += m->b[i].c.hits;
		t.misses += m->b[i].c.misses;
		t.served += m->b[i].c.served;
		t.origin += m->b[i].c.origin;
	}
	if (json)
		(void)cm_buf_addf(out, "{\"epoch\":%llu,\"workers_up\":%zu,\"workers_down\":%zu,"
		    "\"workers_drained\":%zu,\"hits\":%llu,\"misses\":%llu,\"bytes_served\":%llu,"
		    "\"bytes_from_origin\":%llu,\"evictions\":%llu}\n", (unsigned long long)m->epoch,
		    n[W_UP], n[W_DOWN], n[W_DRAINED], (unsigned long long)t.hits,
		    (unsigned long long)t.misses, (unsigned long long)t.served,
		    (unsigned long long)t.origin, (unsigned long long)m->evictions);
	else
		(void)cm_buf_addf(out, "ring epoch %llu: %zu workers up, %zu down, %zu drained\n"
		    "hits %llu, misses %llu, hit ratio %.3f\nbytes served %llu, from the origin %llu "
		    "(saved %llu)\nblocks evicted %llu (since the master started)\n",
		    (unsigned long long)m->epoch, n[W_UP], n[W_DOWN], n[W_DRAINED],
		    (unsigned long long)t.hits, (unsigned long long)t.misses,
		    t.hits + t.misses > 0 ? (double)t.hits / (double)(t.hits + t.misses) : 0.0,
		    (unsigned long long)t.served, (unsigned long long)t.origin,
		    (unsigned long long)(t.served > t.origin ? t.served - t.origin : 0),
		    (unsigned long long)m->evictions);
}

static void
metrics_locked(struct master *m, struct cm_buf *out)
{
	size_t i, n[3] = { 0, 0, 0 };
	struct counters t;
	struct cm_prom p;

	memset(&t, 0, sizeof t);
	for (i = 0; i < m->nw; i++)
		n[m->w[i].state]++;
	for (i = 0; i < m->nb; i++) {
		t.hits += m->b[i].c.hits;
		t.misses += m->b[i].c.misses;
		t.served += m->b[i].c.served;
		t.origin += m->b[i].c.origin;
	}
	cm_prom_init(&p, out);
	cm_prom_family(&p, "cachalot_build_info", "gauge",
	    "Always 1: the version and role of this process.");
	cm_prom_u64(&p, 1, "version", PACKAGE_VERSION, "role", "master", NULL);
	cm_prom_family(&p, "cachalot_start_time_seconds", "gauge",
	    "When this process started, seconds since the epoch.");
	cm_prom_u64(&p, (uint64_t)m->started, NULL);
	cm_prom_family(&p, "cachalot_master_ring_epoch", "gauge", "The ring's epoch.");
	cm_prom_u64(&p, m->epoch, NULL);
	cm_prom_family(&p, "cachalot_master_workers", "gauge", "Workers by state.");
	cm_prom_u64(&p, n[W_UP], "state", "up", NULL);
	cm_prom_u64(&p, n[W_DOWN], "state", "down", NULL);
	cm_prom_u64(&p, n[W_DRAINED], "state", "drained", NULL);
	cm_prom_family(&p, "cachalot_master_block_hits_total", "counter",
	    "Blocks read cached, as workers and gateways reported them (kept across restarts).");
	cm_prom_u64(&p, t.hits, NULL);
	cm_prom_family(&p, "cachalot_master_block_misses_total", "counter",
	    "Blocks fetched from the origin, as reported (kept across restarts).");
	cm_prom_u64(&p, t.misses, NULL);
	cm_prom_family(&p, "cachalot_master_bytes_served_total", "counter",
	    "Response bytes served, as reported (kept across restarts).");
	cm_prom_u64(&p, t.served, NULL);
	cm_prom_family(&p, "cachalot_master_bytes_from_origin_total", "counter",
	    "Bytes fetched from the origin, as reported (kept across restarts).");
	cm_prom_u64(&p, t.origin, NULL);
	cm_prom_family(&p, "cachalot_master_evictions_total", "counter",
	    "Blocks the workers evicted, as reported since this master started.");
	cm_prom_u64(&p, m->evictions, NULL);
	(void)cm_prom_finish(&p);
}

static enum MHD_Result
drain(struct master *m, struct MHD_Connection *mc, const char *id, int drained)
{
	struct mworker *w;
	struct cm_buf out;

	cm_buf_init(&out, 4096);
	if (id == NULL || !valid_id(cm_slice_str(id)))
		return (reply_text(mc, 400, "expected ?worker=ID\n"));
	pthread_mutex_lock(&m->mtx);
	w = find_worker(m, cm_slice_str(id));
	if (w == NULL) {
		pthread_mutex_unlock(&m->mtx);
		return (reply_text(mc, 404, "no such worker\n"));
	}
	if (drained && w->state != W_DRAINED) {
		int was_up = w->state == W_UP;

		w->state = W_DRAINED;
		if (was_up)
			bump_epoch(m, "drained", w->id);
	} else if (!drained && w->state == W_DRAINED) {
		w->state = W_DOWN;	/* up again at its next heartbeat */
	}
	save_worker(m, w);
	(void)cm_buf_addf(&out, "worker %s %s, ring epoch %llu\n", w->id, wstate_name[w->state],
	    (unsigned long long)m->epoch);
	pthread_mutex_unlock(&m->mtx);
	return (reply(mc, 200, "text/plain", &out));
}

static enum MHD_Result
purge(struct master *m, struct MHD_Connection *mc, const char *bucket, const char *prefix)
{
	struct mpurge *p;
	struct cm_buf out;
	char k[32], v[1100];

	if (bucket == NULL || !valid_bucket(cm_slice_str(bucket)))
		return (reply_text(mc, 400, "expected ?bucket=NAME[&prefix=P]\n"));
	if (prefix == NULL)
		prefix = "";
	if (strlen(prefix) >= sizeof p->prefix || strpbrk(prefix, " \n\r") != NULL)
		return (reply_text(mc, 400, "prefix too long or with spaces\n"));
	pthread_mutex_lock(&m->mtx);
	if (m->np == MAX_PURGES) {
		/* The oldest order goes: every worker has long seen it. */
		snprintf(k, sizeof k, "p/%020llu", (unsigned long long)m->p[0].seq);
		db_del(m, k);
		memmove(&m->p[0], &m->p[1], (m->np - 1) * sizeof *m->p);
		m->np--;
	}
	p = &m->p[m->np++];
	memset(p, 0, sizeof *p);
	p->seq = ++m->purge_seq;
	snprintf(p->bucket, sizeof p->bucket, "%s", bucket);
	snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
	snprintf(k, sizeof k, "p/%020llu", (unsigned long long)p->seq);
	snprintf(v, sizeof v, "%s %s", p->bucket, p->prefix);
	db_put(m, k, v);
	snprintf(v, sizeof v, "%llu", (unsigned long long)m->purge_seq);
	db_put(m, "purge-seq", v);
	cm_buf_init(&out, 4096);
	(void)cm_buf_addf(&out, "purge %llu of %s/%s ordered; workers apply it at their next "
	    "heartbeat\n", (unsigned long long)p->seq, p->bucket, p->prefix);
	pthread_mutex_unlock(&m->mtx);
	return (reply(mc, 200, "text/plain", &out));
}

struct upload {
	struct cm_buf	body;
};

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)mc;
	(void)t;
	if (u != NULL) {
		cm_buf_free(&u->body);
		free(u);
		*con_cls = NULL;
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct master *m = cls;
	struct upload *u = *con_cls;
	const char *fmt = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "format");
	int json = fmt != NULL && strcmp(fmt, "json") == 0, post = strcmp(method, "POST") == 0;
	struct cm_buf out;
	unsigned status;

	(void)version;
	if (u == NULL) {
		u = calloc(1, sizeof *u);
		if (u == NULL)
			return (MHD_NO);
		cm_buf_init(&u->body, MAX_BODY);
		*con_cls = u;
		return (MHD_YES);
	}
	if (*upload_size != 0) {
		if (cm_buf_add(&u->body, upload_data, *upload_size) != 0)
			return (MHD_NO);	/* too big: the connection is dropped */
		*upload_size = 0;
		return (MHD_YES);
	}
	cm_buf_init(&out, 16u << 20);
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (reply_text(mc, 405, "method not allowed\n"));
	if (post && strcmp(url, "/v1/heartbeat") == 0) {
		heartbeat(m, cm_buf_slice(&u->body), &out, &status);
		return (reply(mc, status, "text/plain", &out));
	}
	if (post && strcmp(url, "/v1/stats") == 0) {
		gateway_stats(m, cm_buf_slice(&u->body), &out, &status);
		return (reply(mc, status, "text/plain", &out));
	}
	if (post && strcmp(url, "/v1/drain") == 0)
		return (drain(m, mc, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "worker"), 1));
	if (post && strcmp(url, "/v1/undrain") == 0)
		return (drain(m, mc, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "worker"), 0));
	if (post && strcmp(url, "/v1/purge") == 0)
		return (purge(m, mc, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "bucket"),
		    MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "prefix")));
	if (post)
		return (reply_text(mc, 404, "not found\n"));
	if (strcmp(url, "/healthz") == 0)
		return (reply_text(mc, 200, "ok\n"));
	/* Ready once listening: its state is loaded before. */
	if (strcmp(url, "/readyz") == 0) {
		(void)cm_buf_adds(&out, "{\"ready\":true}\n");
		return (reply(mc, 200, "application/json", &out));
	}
	pthread_mutex_lock(&m->mtx);
	if (strcmp(url, "/v1/ring") == 0) {
		ring_locked(m, &out);
	} else if (strcmp(url, "/v1/workers") == 0) {
		workers_locked(m, &out, json);
	} else if (strcmp(url, "/v1/stats") == 0) {
		stats_locked(m, &out, MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "bucket"),
		    json);
	} else if (strcmp(url, "/v1/status") == 0) {
		status_locked(m, &out, json);
	} else if (strcmp(url, "/") == 0) {
		(void)cm_buf_adds(&out, "<!doctype html><title>Cachalot master</title><h1>Cachalot "
		    "master</h1><pre>");
		status_locked(m, &out, 0);
		(void)cm_buf_adds(&out, "\n");
		workers_locked(m, &out, 0);
		(void)cm_buf_adds(&out, "\n");
		stats_locked(m, &out, NULL, 0);
		(void)cm_buf_adds(&out, "</pre><p>JSON: /v1/status, /v1/workers, /v1/stats with "
		    "?format=json; the ring: /v1/ring</p>\n");
		json = 2;
	} else if (strcmp(url, "/metrics") == 0) {
		metrics_locked(m, &out);
	} else {
		pthread_mutex_unlock(&m->mtx);
		cm_buf_free(&out);
		return (reply_text(mc, 404, "not found\n"));
	}
	pthread_mutex_unlock(&m->mtx);
	return (reply(mc, 200, json == 2 ? "text/html" : json ? "application/json" : "text/plain",
	    &out));
}

/* ---- The sweeper ---- */

static void *
sweeper(void *arg)
{
	struct master *m = arg;
	struct timespec ts;
	size_t i;

	pthread_mutex_lock(&m->mtx);
	while (!m->stop) {
		uint64_t now = cm_mono_ms();

		for (i = 0; i < m->nw; i++) {
			struct mworker *w = &m->w[i];

			if (w->state == W_UP && now - w->seen_ms > m->down_after_ms) {
				w->state = W_DOWN;
				save_worker(m, w);
				bump_epoch(m, "missed its heartbeats: down", w->id);
			}
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&m->cv, &m->mtx, &ts);
	}
	pthread_mutex_unlock(&m->mtx);
	return (NULL);
}

static int
parse_listen(const char *hostport, struct sockaddr_in *sin)
{
	const char *colon = strrchr(hostport, ':');
	char host[64];

	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof host)
		return (-1);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return (inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1);
}

int
master_run(const struct cm_config *c)
{
	struct master m;
	leveldb_options_t *opt = NULL;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sin;
	pthread_t sw;
	sigset_t stop;
	char *err = NULL, path[4200];
	int rv = 1, sig = 0, have_sweeper = 0;

	cm_log_set_level(c->log_level);
	memset(&m, 0, sizeof m);
	m.started = time(NULL);
	m.down_after_ms = c->down_after * 1000;
	if (parse_listen(c->listen, &sin) != 0) {
		fprintf(stderr, "cachalot master: --listen '%s': expected IPv4:PORT\n", c->listen);
		return (2);
	}
	if (cm_listen_check(c->listen, path, sizeof path) != 0) {
		fprintf(stderr, "cachalot master: %s (choose another with --listen HOST:PORT)\n", path);
		return (2);
	}
	m.w = calloc(MAX_WORKERS, sizeof *m.w);
	m.b = calloc(MAX_BUCKETS, sizeof *m.b);
	m.p = calloc(MAX_PURGES, sizeof *m.p);
	opt = leveldb_options_create();
	m.wo = leveldb_writeoptions_create();
	m.ro = leveldb_readoptions_create();
	if (m.w == NULL || m.b == NULL || m.p == NULL || opt == NULL || m.wo == NULL || m.ro == NULL ||
	    pthread_mutex_init(&m.mtx, NULL) != 0 || pthread_cond_init(&m.cv, NULL) != 0) {
		fprintf(stderr, "cachalot master: out of memory\n");
		goto out;
	}
	leveldb_options_set_create_if_missing(opt, 1);
	snprintf(path, sizeof path, "%s/master", c->data_dir);
	if (cm_mkdir_p(path) != 0) {
		fprintf(stderr, "cachalot master: cannot create %s\n", path);
		goto out;
	}
	m.db = leveldb_open(opt, path, &err);
	if (m.db == NULL) {
		fprintf(stderr, "cachalot master: LevelDB at %s: %s\n", path, err != NULL ? err : "?");
		leveldb_free(err);
		goto out;
	}
	if (load(&m) != 0) {
		fprintf(stderr, "cachalot master: cannot read LevelDB at %s\n", path);
		goto out;
	}
	CM_LOGI("master: state from %s: epoch %llu, %zu workers, %zu buckets", path,
	    (unsigned long long)m.epoch, m.nw, m.nb);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	    on_request, &m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, &m,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "cachalot master: cannot listen on %s: %s (choose another with "
		    "--listen HOST:PORT)\n", c->listen, strerror(errno));
		rv = 2;
		goto out;
	}
	if (pthread_create(&sw, NULL, sweeper, &m) != 0) {
		fprintf(stderr, "cachalot master: cannot start the sweeper thread\n");
		goto out;
	}
	have_sweeper = 1;
	CM_LOGI("master listening on %s, workers down after %llu s", c->listen,
	    (unsigned long long)c->down_after);
	(void)sigwait(&stop, &sig);
	CM_LOGI("master stopping (signal %d)", sig);
	rv = 0;
out:
	if (d != NULL)
		MHD_stop_daemon(d);
	if (have_sweeper) {
		pthread_mutex_lock(&m.mtx);
		m.stop = 1;
		pthread_cond_signal(&m.cv);
		pthread_mutex_unlock(&m.mtx);
		(void)pthread_join(sw, NULL);
	}
	if (m.db != NULL)
		leveldb_close(m.db);
	if (opt != NULL)
		leveldb_options_destroy(opt);
	if (m.wo != NULL)
		leveldb_writeoptions_destroy(m.wo);
	if (m.ro != NULL)
		leveldb_readoptions_destroy(m.ro);
	free(m.w);
	free(m.b);
	free(m.p);
	return (rv);
}
