/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_view.c: what the master shows of its model: the ring (text, for
 * the gateways), workers, per-bucket statistics and a summary as text or
 * JSON, the status page (HTML) and /metrics (Prometheus, via cm_prom).
 *
 * Threads: libmicrohttpd's polling thread. Lock: each function takes
 * m->mtx for the time it reads the model (and writes into out only).
 */
#include <stdio.h>
#include <string.h>

#include "cluster/clu_priv.h"
#include "common/cm_prom.h"

void
master_view_ring(struct master *m, struct cm_buf *out)
{
	size_t i;

	CLU_CHECK(m, MASTER_MAGIC);
	pthread_mutex_lock(&m->mtx);
	(void)ring_format_epoch(out, m->epoch);
	for (i = 0; i < m->nw; i++)
		if (m->w[i].state == MW_UP)
			(void)ring_format_worker(out, m->w[i].id, m->w[i].addr, m->w[i].weight);
	pthread_mutex_unlock(&m->mtx);
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
		const struct master_worker *w = &m->w[i];
		double ago = (double)(now - w->seen_ms) / 1000.0;

		if (json)
			(void)cm_buf_addf(out, "%s{\"id\":\"%s\",\"address\":\"%s\",\"weight\":%u,"
			    "\"state\":\"%s\",\"seen_seconds_ago\":%.1f,\"hits\":%llu,\"misses\":%llu,"
			    "\"bytes_served\":%llu,\"bytes_from_origin\":%llu,\"evictions\":%llu}",
			    i > 0 ? "," : "", w->id, w->addr, w->weight, master_wstate_name[w->state],
			    ago, (unsigned long long)w->c.hits, (unsigned long long)w->c.misses,
			    (unsigned long long)w->c.served, (unsigned long long)w->c.origin,
			    (unsigned long long)w->c.evictions);
		else
			(void)cm_buf_addf(out, "%-24s %-22s %6u %-8s %8.1fs %10llu %10llu %14llu %14llu\n",
			    w->id, w->addr, w->weight, master_wstate_name[w->state], ago,
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
		const struct master_bucket *b = &m->b[i];
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

/* Workers by state and the buckets' totals. */
static void
totals_locked(const struct master *m, size_t n[3], struct master_counters *t)
{
	size_t i;

	n[0] = n[1] = n[2] = 0;
	memset(t, 0, sizeof *t);
	for (i = 0; i < m->nw; i++)
		n[m->w[i].state]++;
	for (i = 0; i < m->nb; i++) {
		t->hits += m->b[i].c.hits;
		t->misses += m->b[i].c.misses;
		t->served += m->b[i].c.served;
		t->origin += m->b[i].c.origin;
	}
}

static void
status_locked(struct master *m, struct cm_buf *out, int json)
{
	struct master_counters t;
	size_t n[3];

	totals_locked(m, n, &t);
	if (json)
		(void)cm_buf_addf(out, "{\"epoch\":%llu,\"workers_up\":%zu,\"workers_down\":%zu,"
		    "\"workers_drained\":%zu,\"hits\":%llu,\"misses\":%llu,\"bytes_served\":%llu,"
		    "\"bytes_from_origin\":%llu,\"evictions\":%llu}\n", (unsigned long long)m->epoch,
		    n[MW_UP], n[MW_DOWN], n[MW_DRAINED], (unsigned long long)t.hits,
		    (unsigned long long)t.misses, (unsigned long long)t.served,
		    (unsigned long long)t.origin, (unsigned long long)m->evictions);
	else
		(void)cm_buf_addf(out, "ring epoch %llu: %zu workers up, %zu down, %zu drained\n"
		    "hits %llu, misses %llu, hit ratio %.3f\nbytes served %llu, from the origin %llu "
		    "(saved %llu)\nblocks evicted %llu (since the master started)\n",
		    (unsigned long long)m->epoch, n[MW_UP], n[MW_DOWN], n[MW_DRAINED],
		    (unsigned long long)t.hits, (unsigned long long)t.misses,
		    t.hits + t.misses > 0 ? (double)t.hits / (double)(t.hits + t.misses) : 0.0,
		    (unsigned long long)t.served, (unsigned long long)t.origin,
		    (unsigned long long)(t.served > t.origin ? t.served - t.origin : 0),
		    (unsigned long long)m->evictions);
}

void
master_view_workers(struct master *m, struct cm_buf *out, int json)
{
	CLU_CHECK(m, MASTER_MAGIC);
	pthread_mutex_lock(&m->mtx);
	workers_locked(m, out, json);
	pthread_mutex_unlock(&m->mtx);
}

void
master_view_stats(struct master *m, struct cm_buf *out, const char *bucket, int json)
{
	CLU_CHECK(m, MASTER_MAGIC);
	pthread_mutex_lock(&m->mtx);
	stats_locked(m, out, bucket, json);
	pthread_mutex_unlock(&m->mtx);
}

void
master_view_status(struct master *m, struct cm_buf *out, int json)
{
	CLU_CHECK(m, MASTER_MAGIC);
	pthread_mutex_lock(&m->mtx);
	status_locked(m, out, json);
	pthread_mutex_unlock(&m->mtx);
}

/* Appends text with HTML's special characters escaped (a worker's address
 * is the worker's to choose). */
static void
add_escaped(struct cm_buf *out, struct cm_slice text)
{
	size_t i;

	for (i = 0; i < text.len; i++) {
		char c = text.p[i];

		if (c == '<')
			(void)cm_buf_adds(out, "&lt;");
		else if (c == '>')
			(void)cm_buf_adds(out, "&gt;");
		else if (c == '&')
			(void)cm_buf_adds(out, "&amp;");
		else if (c == '"')
			(void)cm_buf_adds(out, "&quot;");
		else
			(void)cm_buf_add(out, &c, 1);
	}
}

void
master_view_html(struct master *m, struct cm_buf *out)
{
	struct cm_buf text;

	CLU_CHECK(m, MASTER_MAGIC);
	cm_buf_init(&text, out->max);
	pthread_mutex_lock(&m->mtx);
	status_locked(m, &text, 0);
	(void)cm_buf_adds(&text, "\n");
	workers_locked(m, &text, 0);
	(void)cm_buf_adds(&text, "\n");
	stats_locked(m, &text, NULL, 0);
	pthread_mutex_unlock(&m->mtx);
	(void)cm_buf_adds(out, "<!doctype html><title>Cachalot master</title><h1>Cachalot "
	    "master</h1><pre>");
	add_escaped(out, cm_buf_slice(&text));
	(void)cm_buf_adds(out, "</pre><p>JSON: /v1/status, /v1/workers, /v1/stats with "
	    "?format=json; the ring: /v1/ring</p>\n");
	cm_buf_free(&text);
}

void
master_view_metrics(struct master *m, struct cm_buf *out)
{
	struct master_counters t;
	struct cm_prom p;
	size_t n[3];

	CLU_CHECK(m, MASTER_MAGIC);
	pthread_mutex_lock(&m->mtx);
	totals_locked(m, n, &t);
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
	cm_prom_u64(&p, n[MW_UP], "state", "up", NULL);
	cm_prom_u64(&p, n[MW_DOWN], "state", "down", NULL);
	cm_prom_u64(&p, n[MW_DRAINED], "state", "drained", NULL);
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
	cm_prom_family(&p, "cachalot_master_auth_refused_total", "counter",
	    "Requests that change state refused for want of a valid cluster-secret signature, by reason.");
	{
		enum clu_auth_result r;

		for (r = CLU_AUTH_MISSING; r < CLU_AUTH_NRESULTS; r++)
			cm_prom_u64(&p, atomic_load(&m->refused[r]), "reason", clu_auth_result_name[r],
			    NULL);
	}
	(void)cm_prom_finish(&p);
	pthread_mutex_unlock(&m->mtx);
}
