/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_admin.c: the operations endpoints on admin-listen, served by
 * libmicrohttpd (simplicity over speed, off the data path):
 *   /healthz  200 "ok" while the data path runs
 *   /metrics  Prometheus text: the sum of every loop's counters
 * Threads: libmicrohttpd's own thread; reads counters written by the loops
 * (relaxed atomics, see gw_metrics.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "common/cm_log.h"
#include "gateway/gw_priv.h"
#include "cache/cache.h"
#include "cache/cache_disk.h"
#include "cache/cache_writer.h"
#include "gateway/gw_cluster.h"

struct gw_admin {
	struct MHD_Daemon	*d;
	struct gw_ctx		**ctxs;
	size_t			n;
	struct gw_http_server	*srv;
	int			port;
};

static enum MHD_Result
reply(struct MHD_Connection *mc, unsigned status, const char *type, char *body, size_t len,
    enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL)
		return (MHD_NO);
	(void)MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return (rc);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct gw_admin *a = cls;
	struct gw_metrics *sets[256];
	struct cm_buf out;
	size_t i;

	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (*upload_size != 0) {
		*upload_size = 0;
		return (MHD_YES);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (reply(mc, 405, "text/plain", "method not allowed\n", 19,
		    MHD_RESPMEM_PERSISTENT));
	if (strcmp(url, "/healthz") == 0)
		return (reply(mc, 200, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT));
	if (strcmp(url, "/metrics") == 0) {
		cm_buf_init(&out, 1 << 20);
		for (i = 0; i < a->n && i < CM_ARRAY_LEN(sets); i++)
			sets[i] = &a->ctxs[i]->metrics;
		if (gw_metrics_render(&out, sets, i, gw_http_server_conns(a->srv)) != 0 ||
		    out.p == NULL) {
			cm_buf_free(&out);
			return (reply(mc, 500, "text/plain", "metrics too large\n", 18,
			    MHD_RESPMEM_PERSISTENT));
		}
		if (a->n > 0 && a->ctxs[0]->conf->cache != NULL) {
			struct cache_stats st;

			cache_stats(a->ctxs[0]->conf->cache, &st);
			(void)cm_buf_addf(&out,
			    "# HELP cachalot_cache_hits_total Block reads that found the block cached or filling.\n"
			    "# TYPE cachalot_cache_hits_total counter\ncachalot_cache_hits_total %llu\n"
			    "# HELP cachalot_cache_misses_total Block reads that fetched the block from the origin.\n"
			    "# TYPE cachalot_cache_misses_total counter\ncachalot_cache_misses_total %llu\n"
			    "# HELP cachalot_cache_singleflight_waiters_total Block reads that waited on another's fetch.\n"
			    "# TYPE cachalot_cache_singleflight_waiters_total counter\n"
			    "cachalot_cache_singleflight_waiters_total %llu\n"
			    "# HELP cachalot_cache_evictions_total Blocks evicted.\n"
			    "# TYPE cachalot_cache_evictions_total counter\ncachalot_cache_evictions_total %llu\n"
			    "# HELP cachalot_cache_tier_bytes Bytes held, by tier.\n"
			    "# TYPE cachalot_cache_tier_bytes gauge\ncachalot_cache_tier_bytes{tier=\"memory\"} %llu\n"
			    "# HELP cachalot_cache_objects Object versions whose metadata is cached.\n"
			    "# TYPE cachalot_cache_objects gauge\ncachalot_cache_objects %llu\n",
			    (unsigned long long)st.hits, (unsigned long long)st.misses,
			    (unsigned long long)st.waiters, (unsigned long long)st.evictions,
			    (unsigned long long)st.mem_bytes, (unsigned long long)st.meta_entries);
			if (cache_store_disk(a->ctxs[0]->conf->cache) != NULL) {
				struct cache_disk_stats ds;

				cache_disk_stats(cache_store_disk(a->ctxs[0]->conf->cache), &ds);
				(void)cm_buf_addf(&out, "cachalot_cache_tier_bytes{tier=\"disk\"} %llu\n"
				    "# HELP cachalot_cache_disk_corrupt_total Disk blocks that failed their check (dropped, refetched).\n"
				    "# TYPE cachalot_cache_disk_corrupt_total counter\ncachalot_cache_disk_corrupt_total %llu\n"
				    "# HELP cachalot_cache_disk_errors_total Disk writes that failed.\n"
				    "# TYPE cachalot_cache_disk_errors_total counter\ncachalot_cache_disk_errors_total %llu\n"
				    "# HELP cachalot_cache_disk_evictions_total Blocks evicted from disk.\n"
				    "# TYPE cachalot_cache_disk_evictions_total counter\ncachalot_cache_disk_evictions_total %llu\n",
				    (unsigned long long)ds.bytes, (unsigned long long)ds.corrupt,
				    (unsigned long long)ds.errors, (unsigned long long)ds.evictions);
			}
			if (a->ctxs[0]->conf->writer != NULL) {
				uint64_t q, d;

				cache_writer_stats(a->ctxs[0]->conf->writer, &q, &d);
				(void)cm_buf_addf(&out, "# HELP cachalot_cache_disk_queue_bytes Filled blocks waiting to be written to disk.\n"
				    "# TYPE cachalot_cache_disk_queue_bytes gauge\ncachalot_cache_disk_queue_bytes %llu\n"
				    "# HELP cachalot_cache_disk_skipped_total Blocks not written to disk: the write queue was full.\n"
				    "# TYPE cachalot_cache_disk_skipped_total counter\ncachalot_cache_disk_skipped_total %llu\n",
				    (unsigned long long)q, (unsigned long long)d);
			}
		}
		if (a->n > 0 && a->ctxs[0]->conf->cluster != NULL)
			(void)cm_buf_addf(&out, "# HELP cachalot_cluster_ring_epoch The epoch of the ring in use.\n"
			    "# TYPE cachalot_cluster_ring_epoch gauge\ncachalot_cluster_ring_epoch %llu\n"
			    "# HELP cachalot_cluster_ring_workers Workers in the ring in use.\n"
			    "# TYPE cachalot_cluster_ring_workers gauge\ncachalot_cluster_ring_workers %zu\n",
			    (unsigned long long)gw_cluster_epoch(a->ctxs[0]->conf->cluster),
			    gw_cluster_size(a->ctxs[0]->conf->cluster));
		/* MHD frees the buffer (MUST_FREE) once sent. */
		return (reply(mc, 200, "text/plain; version=0.0.4", out.p, out.len,
		    MHD_RESPMEM_MUST_FREE));
	}
	return (reply(mc, 404, "text/plain", "not found\n", 10, MHD_RESPMEM_PERSISTENT));
}

struct gw_admin *
gw_admin_start(const char *hostport, struct gw_ctx **ctxs, size_t n, struct gw_http_server *srv,
    char *err, size_t errlen)
{
	struct gw_admin *a;
	struct sockaddr_in sin;
	char host[64];
	const char *colon = strrchr(hostport, ':');
	const union MHD_DaemonInfo *info;

	a = calloc(1, sizeof *a);
	if (a == NULL)
		return (NULL);
	a->ctxs = ctxs;
	a->n = n;
	a->srv = srv;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof host) {
		snprintf(err, errlen, "admin-listen '%s': expected IPv4:PORT", hostport);
		free(a);
		return (NULL);
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, strcmp(host, "*") == 0 ? "0.0.0.0" : host, &sin.sin_addr) != 1) {
		snprintf(err, errlen, "admin-listen '%s': expected an IPv4 address", hostport);
		free(a);
		return (NULL);
	}
	a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	    on_request, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_END);
	if (a->d == NULL) {
		snprintf(err, errlen, "cannot listen on admin-listen %s", hostport);
		free(a);
		return (NULL);
	}
	info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info != NULL ? info->port : 0;
	return (a);
}

int
gw_admin_port(const struct gw_admin *a)
{
	return (a->port);
}

void
gw_admin_stop(struct gw_admin **ap)
{
	struct gw_admin *a = *ap;

	*ap = NULL;
	if (a == NULL)
		return;
	MHD_stop_daemon(a->d);
	free(a);
}
