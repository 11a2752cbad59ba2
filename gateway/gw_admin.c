/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_admin.c: the data-path roles' operations endpoints on admin-listen, a
 * route table over http/http_admin.c (libmicrohttpd, off the data path):
 *   /healthz  liveness: 200 "ok" while the process answers
 *   /readyz   readiness: 200 or 503 with a JSON body naming what is wrong
 *             (the origin unreachable, the master unreachable where one is
 *             configured, the disk tier down where one is configured)
 *   /metrics  Prometheus text (cm_prom): the sum of every loop's counters,
 *             the cache's, the cluster's; names per role (docs/METRICS.md)
 *
 * Readiness is known without touching the data path: a probe thread looks
 * every PROBE_MS at the origin (a TCP, and for https TLS, connection with
 * a short timeout: no HTTP request, so the origin counts nothing), at the
 * cluster thread's last exchange with the master, and at the disk tier
 * (open, writable, no new write errors). Each change of a part's state is
 * logged once, at warn.
 *
 * Threads: the admin thread (http_admin.c) answers; the probe thread writes the
 * readiness state (under a->mtx, which nothing else takes). Counters
 * written by the loops are read with relaxed atomics (see gw_metrics.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/cm_log.h"
#include "common/cm_prom.h"
#include "gateway/gw_priv.h"
#include "cache/cache.h"

#define PROBE_MS		2000
#define PROBE_TIMEOUT_MS	1000L
#define WHY_MAX			256

/* A part of readiness: -1 not known yet, 0 down (why says how), 1 up. */
struct part {
	const char	*name;		/* "origin", "master", "disk" */
	int		used;		/* configured for this process */
	int		ok;
	char		why[WHY_MAX];
};

enum { P_ORIGIN, P_MASTER, P_DISK, P__MAX };

struct gw_admin {
	struct http_admin	*http;
	struct gw_ctx		**ctxs;
	size_t			n;
	struct http_server	*srv;
	enum gw_role		role;
	time_t			started;
	/* The probe thread. */
	pthread_t		thr;
	int			have_thr;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	int			stop;		/* under mtx */
	struct part		parts[P__MAX];	/* under mtx */
	uint64_t		disk_errors;	/* probe thread only */
	CURL			*easy;		/* probe thread only */
};

static const struct gw_conf *
conf_of(const struct gw_admin *a)
{
	return (a->ctxs[0]->conf);
}

static enum gw_role
role_of(const struct gw_conf *gc)
{
	if (gc->role == CM_ROLE_WORKER)
		return (GW_ROLE_WORKER);
	if (gc->role == CM_ROLE_SERVE)
		return (GW_ROLE_SERVE);
	return (GW_ROLE_GATEWAY);
}

/* ---- Readiness ---- */

/* The origin answers a connection (TCP, TLS for https) in time. */
static int
probe_origin(struct gw_admin *a, char *why, size_t len)
{
	const struct origin_target *o = &conf_of(a)->origin;
	char url[400];
	CURLcode rc;

	curl_easy_reset(a->easy);
	if ((size_t)snprintf(url, sizeof url, "%s://%s/", o->scheme, o->host) >= sizeof url ||
	    curl_easy_setopt(a->easy, CURLOPT_URL, url) != CURLE_OK) {
		snprintf(why, len, "the origin URL is too long or malformed");
		return (0);
	}
	curl_easy_setopt(a->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(a->easy, CURLOPT_CONNECTTIMEOUT_MS, PROBE_TIMEOUT_MS);
	curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS, 2 * PROBE_TIMEOUT_MS);
	curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->easy, CURLOPT_FORBID_REUSE, 1L);
	rc = curl_easy_perform(a->easy);
	if (rc != CURLE_OK) {
		if ((size_t)snprintf(why, len, "%s: %s", o->host, curl_easy_strerror(rc)) >= len)
			why[len - 1] = '\0';	/* cut short: still says what */
		return (0);
	}
	return (1);
}

/* The disk tier was opened, its directory is writable, and no write
 * failed since the last probe. */
static int
probe_disk(struct gw_admin *a, char *why, size_t len)
{
	struct cache_disk *d = conf_of(a)->cache != NULL ? cache_store_disk(conf_of(a)->cache) : NULL;
	struct cache_disk_stats ds;
	uint64_t before = a->disk_errors;

	if (d == NULL) {
		snprintf(why, len, "off: it could not be opened at start (see the log)");
		return (0);
	}
	if (access(cache_disk_dir(d), W_OK) != 0) {
		snprintf(why, len, "%s: %s", cache_disk_dir(d), strerror(errno));
		return (0);
	}
	cache_disk_stats(d, &ds);
	a->disk_errors = ds.errors;
	if (ds.errors > before) {
		snprintf(why, len, "%llu writes failed in the last %d s",
		    (unsigned long long)(ds.errors - before), PROBE_MS / 1000);
		return (0);
	}
	return (1);
}

/* Records a part's state; a change is said once. */
static void
set_part(struct gw_admin *a, int i, int ok, const char *why)
{
	struct part *p = &a->parts[i];
	int was;

	pthread_mutex_lock(&a->mtx);
	was = p->ok;
	p->ok = ok;
	snprintf(p->why, sizeof p->why, "%s", ok ? "" : why);
	pthread_mutex_unlock(&a->mtx);
	if (ok == was)
		return;
	if (ok == 1 && was != -1)
		CM_LOGW("ready: %s is back", p->name);
	else if (ok == 0)
		CM_LOGW("not ready: %s %s", p->name, why);
}

static void
probe_once(struct gw_admin *a)
{
	const struct gw_conf *gc = conf_of(a);
	char why[WHY_MAX];
	int ok;

	why[0] = '\0';
	ok = probe_origin(a, why, sizeof why);
	set_part(a, P_ORIGIN, ok, why);
	if (a->parts[P_MASTER].used) {
		char w[200] = "";

		ok = gc->cluster != NULL ? clu_view_master_reachable(gc->cluster, w, sizeof w) :
		    clu_agent_master_reachable(gc->agent, w, sizeof w);
		snprintf(why, sizeof why, "%s: %s", gc->cfg->master, ok < 0 ? "not asked yet" : w);
		set_part(a, P_MASTER, ok, why);
	}
	if (a->parts[P_DISK].used) {
		ok = probe_disk(a, why, sizeof why);
		set_part(a, P_DISK, ok, why);
	}
}

static void *
probe_main(void *arg)
{
	struct gw_admin *a = arg;
	struct timespec ts;

	pthread_mutex_lock(&a->mtx);
	while (!a->stop) {
		pthread_mutex_unlock(&a->mtx);
		probe_once(a);
		pthread_mutex_lock(&a->mtx);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += PROBE_MS / 1000;
		ts.tv_nsec += (long)(PROBE_MS % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!a->stop && pthread_cond_timedwait(&a->cv, &a->mtx, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&a->mtx);
	return (NULL);
}

/* Appends s as a JSON string's contents. */
static int
json_str(struct cm_buf *out, const char *s)
{
	int rv = 0;

	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			rv |= cm_buf_addf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			rv |= cm_buf_addf(out, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			rv |= cm_buf_add(out, s, 1);
	}
	return (rv);
}

/* {"ready":BOOL,"origin":"ok"|"unreachable: ...",...}; 1 when ready. */
static int
readiness(struct gw_admin *a, struct cm_buf *out)
{
	static const char *const down[P__MAX] = { "unreachable", "unreachable", "down" };
	struct cm_buf parts;
	int ready = 1, rv = 0;
	size_t i;

	cm_buf_init(&parts, 8192);
	pthread_mutex_lock(&a->mtx);
	for (i = 0; i < P__MAX; i++) {
		const struct part *p = &a->parts[i];

		if (!p->used)
			continue;
		rv |= cm_buf_addf(&parts, ",\"%s\":\"", p->name);
		if (p->ok == 1) {
			rv |= cm_buf_adds(&parts, "ok");
		} else {
			ready = 0;
			rv |= cm_buf_addf(&parts, "%s: ", p->ok < 0 ? "unknown" : down[i]);
			rv |= json_str(&parts, p->ok < 0 ? "not probed yet" : p->why);
		}
		rv |= cm_buf_adds(&parts, "\"");
	}
	pthread_mutex_unlock(&a->mtx);
	rv |= cm_buf_addf(out, "{\"ready\":%s", ready ? "true" : "false");
	if (parts.p != NULL)
		rv |= cm_buf_add(out, parts.p, parts.len);
	rv |= cm_buf_adds(out, "}\n");
	cm_buf_free(&parts);
	if (rv != 0)
		ready = 0;
	return (ready);
}

/* ---- Metrics ---- */

/* The families of the block cache (serve, worker) or of the staging store
 * (cluster gateway). Every family of the role is written, zero when the
 * part is off, so that a role's set of families does not vary. */
static void
cache_metrics(struct gw_admin *a, struct cm_prom *p)
{
	const struct gw_conf *gc = conf_of(a);
	struct cache_disk *disk = gc->cache != NULL ? cache_store_disk(gc->cache) : NULL;
	struct cache_disk_stats ds;
	struct cache_stats st;
	uint64_t q = 0, skipped = 0;

	memset(&st, 0, sizeof st);
	memset(&ds, 0, sizeof ds);
	if (gc->cache != NULL)
		cache_stats(gc->cache, &st);
	if (disk != NULL)
		cache_disk_stats(disk, &ds);
	if (gc->writer != NULL)
		cache_writer_stats(gc->writer, &q, &skipped);
	if (a->role == GW_ROLE_GATEWAY) {
		if (gc->cluster == NULL)
			return;		/* a plain gateway has no store */
		cm_prom_family(p, "cachalot_gateway_staging_waiters_total", "counter",
		    "Opens of a staging block still being fetched (one fetch served several).");
		cm_prom_u64(p, st.waiters, NULL);
		cm_prom_family(p, "cachalot_gateway_staging_evictions_total", "counter",
		    "Blocks evicted from the staging store.");
		cm_prom_u64(p, st.evictions, NULL);
		cm_prom_family(p, "cachalot_gateway_staging_bytes", "gauge",
		    "Bytes of blocks the staging store holds.");
		cm_prom_u64(p, st.mem_bytes, NULL);
		cm_prom_family(p, "cachalot_gateway_staging_capacity_bytes", "gauge",
		    "Bytes of blocks the staging store may hold.");
		cm_prom_u64(p, st.mem_cap, NULL);
		return;
	}
	cm_prom_family(p, "cachalot_cache_singleflight_waiters_total", "counter",
	    "Opens of a block still being filled (one origin fetch served several).");
	cm_prom_u64(p, st.waiters, NULL);
	cm_prom_family(p, "cachalot_cache_evictions_total", "counter", "Blocks evicted, by tier.");
	cm_prom_u64(p, st.evictions, "tier", "memory", NULL);
	cm_prom_u64(p, ds.evictions, "tier", "disk", NULL);
	cm_prom_family(p, "cachalot_cache_tier_bytes", "gauge", "Bytes of blocks held, by tier.");
	cm_prom_u64(p, st.mem_bytes, "tier", "memory", NULL);
	cm_prom_u64(p, ds.bytes, "tier", "disk", NULL);
	cm_prom_family(p, "cachalot_cache_capacity_bytes", "gauge",
	    "Bytes of blocks a tier may hold, as configured (0: the tier is off).");
	cm_prom_u64(p, gc->cache != NULL ? gc->cfg->mem_cache : 0, "tier", "memory", NULL);
	cm_prom_u64(p, disk != NULL ? gc->cfg->disk_cache : 0, "tier", "disk", NULL);
	cm_prom_family(p, "cachalot_cache_objects", "gauge",
	    "Object versions whose metadata is cached in memory.");
	cm_prom_u64(p, st.meta_entries, NULL);
	cm_prom_family(p, "cachalot_cache_disk_corrupt_total", "counter",
	    "Disk blocks that failed their check (dropped, refetched).");
	cm_prom_u64(p, ds.corrupt, NULL);
	cm_prom_family(p, "cachalot_cache_disk_errors_total", "counter", "Disk writes that failed.");
	cm_prom_u64(p, ds.errors, NULL);
	cm_prom_family(p, "cachalot_cache_disk_queue_bytes", "gauge",
	    "Filled blocks waiting to be written to disk.");
	cm_prom_u64(p, q, NULL);
	cm_prom_family(p, "cachalot_cache_disk_skipped_total", "counter",
	    "Blocks not written to disk: the write queue was full.");
	cm_prom_u64(p, skipped, NULL);
	cm_prom_family(p, "cachalot_cache_disk_reads_queued", "gauge",
	    "Block reads waiting for the disk tier's I/O thread.");
	cm_prom_u64(p, gc->io != NULL ? cache_io_reads_queued(gc->io) : 0, NULL);
}

static int
metrics(struct gw_admin *a, struct cm_buf *out)
{
	const struct gw_conf *gc = conf_of(a);
	struct gw_metrics *sets[256];
	struct cm_prom p;
	char why[8];
	size_t i;

	for (i = 0; i < a->n && i < CM_ARRAY_LEN(sets); i++)
		sets[i] = &a->ctxs[i]->metrics;
	cm_prom_init(&p, out);
	cm_prom_family(&p, "cachalot_build_info", "gauge",
	    "Always 1: the version and role of this process.");
	cm_prom_u64(&p, 1, "version", PACKAGE_VERSION, "role", gw_role_name(a->role), NULL);
	cm_prom_family(&p, "cachalot_start_time_seconds", "gauge",
	    "When this process started, seconds since the epoch.");
	cm_prom_u64(&p, (uint64_t)a->started, NULL);
	gw_metrics_render(&p, sets, i, a->role, gc->cache != NULL, http_server_conns(a->srv));
	cache_metrics(a, &p);
	if (gc->cluster != NULL || gc->agent != NULL) {
		cm_prom_family(&p, "cachalot_cluster_master_reachable", "gauge",
		    "1 when the last request to the master was answered, else 0.");
		cm_prom_u64(&p, (gc->cluster != NULL ? clu_view_master_reachable(gc->cluster, why,
		    sizeof why) : clu_agent_master_reachable(gc->agent, why, sizeof why)) == 1, NULL);
	}
	if (gc->cluster != NULL && a->role == GW_ROLE_GATEWAY) {
		cm_prom_family(&p, "cachalot_cluster_ring_epoch", "gauge", "The epoch of the ring in use.");
		cm_prom_u64(&p, clu_view_epoch(gc->cluster), NULL);
		cm_prom_family(&p, "cachalot_cluster_ring_workers", "gauge", "Workers in the ring in use.");
		cm_prom_u64(&p, clu_view_size(gc->cluster), NULL);
	}
	return (cm_prom_finish(&p));
}

/* ---- The routes (the admin thread) ---- */

static void
h_healthz(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	(void)rq;
	(void)http_admin_text(rs, 200, "ok\n");
}

static void
h_readyz(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	struct gw_admin *a = arg;
	int ready;

	(void)rq;
	ready = readiness(a, &rs->body);
	rs->type = "application/json";
	rs->status = ready ? 200 : 503;
	if (rs->body.p == NULL) {
		rs->status = 503;
		(void)cm_buf_adds(&rs->body, "{\"ready\":false}\n");
	}
}

static void
h_metrics(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	struct gw_admin *a = arg;

	(void)rq;
	if (a->n == 0 || metrics(a, &rs->body) != 0) {
		(void)http_admin_text(rs, 500, "metrics too large\n");
		return;
	}
	rs->type = "text/plain; version=0.0.4";
}

/* GET and HEAD only: anything else is answered 405. */
static const struct http_admin_route routes[] = {
	{ "GET", "/healthz", 0, h_healthz },
	{ "GET", "/readyz", 0, h_readyz },
	{ "GET", "/metrics", 0, h_metrics },
};

static const struct http_admin_ops admin_ops = {
	.name = "gateway",
	.routes = routes,
	.nroutes = CM_ARRAY_LEN(routes),
	.gate = http_admin_def_gate,
	.body_max = 0,			/* no route takes a body */
	.answer_max = 4u << 20,		/* /metrics */
	.timeout_s = 10,
	.max_conns = 64,
};

/* ---- Start and stop ---- */

struct gw_admin *
gw_admin_start(const char *hostport, struct gw_ctx **ctxs, size_t n, struct http_server *srv,
    char *err, size_t errlen)
{
	struct gw_admin *a;
	const struct gw_conf *gc;

	CM_ASSERT(n > 0);
	CM_ASSERT(ctxs[0]->magic == GW_CTX_MAGIC);
	a = calloc(1, sizeof *a);
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	a->ctxs = ctxs;
	a->n = n;
	a->srv = srv;
	a->started = time(NULL);
	gc = conf_of(a);
	a->role = role_of(gc);
	a->parts[P_ORIGIN] = (struct part){ .name = "origin", .used = 1, .ok = -1 };
	a->parts[P_MASTER] = (struct part){ .name = "master", .ok = -1,
	    .used = gc->cluster != NULL || gc->agent != NULL };
	a->parts[P_DISK] = (struct part){ .name = "disk", .ok = -1,
	    .used = a->role != GW_ROLE_GATEWAY && gc->cfg->disk_cache > 0 && gc->cfg->mem_cache > 0 };
	if (pthread_mutex_init(&a->mtx, NULL) != 0) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (pthread_cond_init(&a->cv, NULL) != 0) {
		pthread_mutex_destroy(&a->mtx);
		free(a);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	a->easy = curl_easy_init();
	if (a->easy == NULL) {
		snprintf(err, errlen, "libcurl: cannot make a handle for the readiness probe");
		goto fail;
	}
	if (pthread_create(&a->thr, NULL, probe_main, a) != 0) {
		snprintf(err, errlen, "cannot start the readiness probe thread");
		goto fail;
	}
	a->have_thr = 1;
	a->http = http_admin_start(hostport, &admin_ops, a, err, errlen);
	if (a->http == NULL)
		goto fail;
	return (a);
fail:
	gw_admin_stop(&a);
	return (NULL);
}

int
gw_admin_port(const struct gw_admin *a)
{
	return (http_admin_port(a->http));
}

void
gw_admin_stop(struct gw_admin **ap)
{
	struct gw_admin *a = *ap;

	*ap = NULL;
	if (a == NULL)
		return;
	http_admin_stop(&a->http);	/* no handler runs past it */
	if (a->have_thr) {
		pthread_mutex_lock(&a->mtx);
		a->stop = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mtx);
		(void)pthread_join(a->thr, NULL);
	}
	if (a->easy != NULL)
		curl_easy_cleanup(a->easy);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mtx);
	free(a);
}
