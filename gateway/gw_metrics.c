/* SPDX-License-Identifier: Apache-2.0 */
/* gw_metrics.c: see gw_metrics.h. */
#include <string.h>

#include "common/cm_prom.h"
#include "gateway/gw_metrics.h"

static const char *const op_names[] = {
#define X(n) #n,
	GW_OPS(X)
#undef X
};

static const char *const res_names[] = {
#define X(n, s) s,
	GW_RESULTS(X)
#undef X
};

static const char *const role_names[] = { "serve", "gateway", "worker" };

/* Upper bounds of the client request duration buckets, in microseconds. */
static const uint64_t dur_le_us[GW_DUR_BUCKETS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000,
};

/* Upper bounds of the origin latency buckets, in microseconds. */
static const uint64_t lat_le_us[GW_LAT_BUCKETS] = {
	500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
	1000000, 2000000, 5000000, 10000000,
};

/* The error codes the gateway answers itself; the last slot is "other". */
static const char *const err_codes[] = {
	"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId",
	"RequestTimeTooSkewed", "AuthorizationHeaderMalformed",
	"AuthorizationQueryParametersError", "XAmzContentSHA256Mismatch", "BadDigest",
	"IncompleteBody", "InvalidRequest", "InvalidArgument", "MissingContentLength",
	"EntityTooLarge", "InvalidBucketName", "ServiceUnavailable", "InternalError",
	"MethodNotAllowed", "NoSuchKey", "PreconditionFailed", "InvalidRange", "other",
};

const char *
gw_op_name(enum gw_op op)
{
	CM_ASSERT(op < GW_OP__MAX);
	return (op_names[op]);
}

const char *
gw_role_name(enum gw_role role)
{
	CM_ASSERT((size_t)role < CM_ARRAY_LEN(role_names));
	return (role_names[role]);
}

void
gw_metrics_request(struct gw_metrics *m, enum gw_op op, int status, const char *result,
    uint64_t us)
{
	int cls = status / 100 - 2;
	size_t r, i;

	if (cls < 0)
		cls = 0;
	if (cls > 3)
		cls = 3;
	GW_INC(m, req[op][cls], 1);
	for (r = 0; r < GW_RES_other && (result == NULL || strcmp(result, res_names[r]) != 0); r++)
		;
	for (i = 0; i < GW_DUR_BUCKETS && us > dur_le_us[i]; i++)
		;
	GW_INC(m, dur_bucket[op][r][i], 1);
	GW_INC(m, dur_sum_us[op][r], us);
}

void
gw_metrics_origin_latency(struct gw_metrics *m, uint64_t us)
{
	size_t i;

	for (i = 0; i < GW_LAT_BUCKETS && us > lat_le_us[i]; i++)
		;
	GW_INC(m, lat_bucket[i], 1);
	GW_INC(m, lat_sum_us, us);
	GW_INC(m, lat_count, 1);
}

void
gw_metrics_error(struct gw_metrics *m, const char *code)
{
	size_t i, n = CM_ARRAY_LEN(err_codes);

	for (i = 0; i < n - 1 && strcmp(code, err_codes[i]) != 0; i++)
		;
	GW_INC(m, errors_by_code[i], 1);
}

static uint64_t
sum(struct gw_metrics *const *sets, size_t n, size_t off)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < n; i++)
		t += atomic_load_explicit((_Atomic uint64_t *)((char *)sets[i] + off),
		    memory_order_relaxed);
	return (t);
}

#define SUM(f) sum(sets, n, offsetof(struct gw_metrics, f))

/* A counter family of one unlabelled sample. */
static void
counter1(struct cm_prom *p, const char *name, const char *help, uint64_t v)
{
	cm_prom_family(p, name, "counter", help);
	cm_prom_u64(p, v, NULL);
}

void
gw_metrics_render(struct cm_prom *p, struct gw_metrics *const *sets, size_t n,
    enum gw_role role, int staging, unsigned open_conns)
{
	static const char *const cls[] = { "2xx", "3xx", "4xx", "5xx" };
	uint64_t counts[GW_DUR_BUCKETS + 1 > GW_LAT_BUCKETS + 1 ? GW_DUR_BUCKETS + 1 :
	    GW_LAT_BUCKETS + 1], total, v;
	double le[GW_DUR_BUCKETS > GW_LAT_BUCKETS ? GW_DUR_BUCKETS : GW_LAT_BUCKETS];
	size_t op, c, i, r;

	cm_prom_family(p, "cachalot_requests_total", "counter",
	    "S3 requests answered, by operation and status class.");
	for (op = 0; op < GW_OP__MAX; op++)
		for (c = 0; c < 4; c++) {
			v = SUM(req[op][c]);
			if (v > 0)
				cm_prom_u64(p, v, "op", op_names[op], "status", cls[c], NULL);
		}
	cm_prom_family(p, "cachalot_request_duration_seconds", "histogram",
	    "Client requests from their first byte to the end of the answer, by operation and result.");
	for (i = 0; i < GW_DUR_BUCKETS; i++)
		le[i] = (double)dur_le_us[i] / 1e6;
	for (op = 0; op < GW_OP__MAX; op++)
		for (r = 0; r < GW_RES__MAX; r++) {
			for (i = 0, total = 0; i <= GW_DUR_BUCKETS; i++)
				total += counts[i] = SUM(dur_bucket[op][r][i]);
			if (total > 0)
				cm_prom_histogram(p, le, counts, GW_DUR_BUCKETS,
				    (double)SUM(dur_sum_us[op][r]) / 1e6, "op", op_names[op],
				    "result", res_names[r], NULL);
		}
	counter1(p, "cachalot_bytes_in_total", "Request body bytes received from clients.",
	    SUM(bytes_in));
	counter1(p, "cachalot_bytes_out_total", "Response body bytes sent to clients.",
	    SUM(bytes_out));
	counter1(p, "cachalot_origin_bytes_total",
	    "Response body bytes received from upstream (the origin; on a cluster gateway also the workers).",
	    SUM(origin_bytes_in));
	counter1(p, "cachalot_origin_requests_total",
	    "Requests sent upstream (the origin; on a cluster gateway also the workers).",
	    SUM(origin_requests));
	counter1(p, "cachalot_origin_errors_total", "Upstream requests that failed in transport.",
	    SUM(origin_errors));
	counter1(p, "cachalot_auth_refused_total",
	    "Requests refused by signature checks (never sent to the origin).", SUM(auth_refused));
	if (role == GW_ROLE_WORKER) {
		cm_prom_family(p, "cachalot_worker_auth_refused_total", "counter",
		    "Requests refused for want of a valid cluster signature, by reason.");
		for (i = 1; i < CLU_AUTH_NRESULTS; i++)
			cm_prom_u64(p, SUM(worker_auth_refused[i]), "reason", clu_auth_result_name[i],
			    NULL);
	}
	cm_prom_family(p, "cachalot_errors_total", "counter",
	    "Errors the gateway answered itself, by S3 code.");
	for (i = 0; i < CM_ARRAY_LEN(err_codes); i++) {
		v = SUM(errors_by_code[i]);
		if (v > 0)
			cm_prom_u64(p, v, "code", err_codes[i], NULL);
	}
	cm_prom_family(p, "cachalot_origin_latency_seconds", "histogram",
	    "Time to the upstream response headers.");
	for (i = 0; i < GW_LAT_BUCKETS; i++)
		le[i] = (double)lat_le_us[i] / 1e6;
	for (i = 0; i <= GW_LAT_BUCKETS; i++)
		counts[i] = SUM(lat_bucket[i]);
	cm_prom_histogram(p, le, counts, GW_LAT_BUCKETS, (double)SUM(lat_sum_us) / 1e6, NULL);
	cm_prom_family(p, "cachalot_revalidations_total", "counter",
	    "Revalidations with the origin, by outcome.");
	cm_prom_u64(p, SUM(revalidated_unchanged), "result", "unchanged", NULL);
	cm_prom_u64(p, SUM(revalidated_changed), "result", "changed", NULL);
	if (role == GW_ROLE_GATEWAY && staging) {
		/* The staging store: not a cache tier of the cluster (the
		 * workers' are), hence names of its own. */
		counter1(p, "cachalot_gateway_staging_hits_total",
		    "Blocks read from the staging store without asking a worker (another request had them).",
		    SUM(blk_hit_mem) + SUM(blk_hit_disk));
		cm_prom_family(p, "cachalot_gateway_staging_fills_total", "counter",
		    "Blocks fetched into the staging store, by source.");
		cm_prom_u64(p, SUM(blk_fill_worker), "source", "worker", NULL);
		cm_prom_u64(p, SUM(blk_fill_origin), "source", "origin", NULL);
		counter1(p, "cachalot_gateway_staging_bytes_served_total",
		    "Response bytes served from blocks the staging store already had.",
		    SUM(cache_bytes_hit) + SUM(cache_bytes_disk));
		counter1(p, "cachalot_gateway_staging_bytes_filled_total",
		    "Bytes fetched into the staging store (from workers or the origin).",
		    SUM(cache_bytes_filled));
		counter1(p, "cachalot_worker_failovers_total",
		    "Requests to a worker that failed and went to the next owner or the origin.",
		    SUM(worker_failovers));
		cm_prom_family(p, "cachalot_gateway_write_invalidations_total", "counter",
		    "Writes whose invalidation on the workers ended, by how.");
		cm_prom_u64(p, SUM(inval_confirmed), "outcome", "confirmed", NULL);
		cm_prom_u64(p, SUM(inval_ring_caught_up), "outcome", "ring_caught_up", NULL);
		cm_prom_u64(p, SUM(inval_fenced), "outcome", "fenced", NULL);
		cm_prom_u64(p, SUM(inval_unconfirmed), "outcome", "unconfirmed", NULL);
		counter1(p, "cachalot_gateway_writes_refused_no_ring_total",
		    "Writes refused before the origin: no ring yet, so no worker could be told.",
		    SUM(writes_no_ring));
	} else if (role != GW_ROLE_GATEWAY) {
		cm_prom_family(p, "cachalot_cache_hits_total", "counter",
		    "Blocks read by answers that were cached, by the tier they came from.");
		cm_prom_u64(p, SUM(blk_hit_mem), "tier", "memory", NULL);
		cm_prom_u64(p, SUM(blk_hit_disk), "tier", "disk", NULL);
		counter1(p, "cachalot_cache_misses_total",
		    "Blocks read by answers that were fetched from the origin.",
		    SUM(blk_fill_origin) + SUM(blk_fill_worker));
		cm_prom_family(p, "cachalot_cache_bytes_served_total", "counter",
		    "Response bytes served from cached blocks, by tier.");
		cm_prom_u64(p, SUM(cache_bytes_hit), "tier", "memory", NULL);
		cm_prom_u64(p, SUM(cache_bytes_disk), "tier", "disk", NULL);
		counter1(p, "cachalot_cache_bytes_filled_total",
		    "Bytes fetched from the origin into the block cache.", SUM(cache_bytes_filled));
	}
	cm_prom_family(p, "cachalot_open_connections", "gauge", "Client connections open now.");
	cm_prom_u64(p, open_conns, NULL);
}
