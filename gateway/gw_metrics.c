/* SPDX-License-Identifier: Apache-2.0 */
/* gw_metrics.c: see gw_metrics.h. */
#include <string.h>

#include "gateway/gw_metrics.h"

static const char *const op_names[] = {
#define X(n) #n,
	GW_OPS(X)
#undef X
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

void
gw_metrics_request(struct gw_metrics *m, enum gw_op op, int status)
{
	int cls = status / 100 - 2;

	if (cls < 0)
		cls = 0;
	if (cls > 3)
		cls = 3;
	GW_INC(m, req[op][cls], 1);
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

#define LOAD(m, f) atomic_load_explicit(&(m)->f, memory_order_relaxed)

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

int
gw_metrics_render(struct cm_buf *out, struct gw_metrics *const *sets, size_t n,
    unsigned open_conns)
{
	static const char *const cls[] = { "2xx", "3xx", "4xx", "5xx" };
	uint64_t cum = 0, v;
	size_t op, c, i;
	int rv = 0;

	rv |= cm_buf_adds(out, "# HELP cachalot_requests_total S3 requests answered, by operation and status class.\n"
	    "# TYPE cachalot_requests_total counter\n");
	for (op = 0; op < GW_OP__MAX; op++)
		for (c = 0; c < 4; c++) {
			v = SUM(req[op][c]);
			if (v > 0)
				rv |= cm_buf_addf(out, "cachalot_requests_total{op=\"%s\",status=\"%s\"} %llu\n",
				    op_names[op], cls[c], (unsigned long long)v);
		}
	rv |= cm_buf_addf(out, "# HELP cachalot_bytes_in_total Request body bytes received from clients.\n"
	    "# TYPE cachalot_bytes_in_total counter\ncachalot_bytes_in_total %llu\n",
	    (unsigned long long)SUM(bytes_in));
	rv |= cm_buf_addf(out, "# HELP cachalot_bytes_out_total Response body bytes sent to clients.\n"
	    "# TYPE cachalot_bytes_out_total counter\ncachalot_bytes_out_total %llu\n",
	    (unsigned long long)SUM(bytes_out));
	rv |= cm_buf_addf(out, "# HELP cachalot_origin_bytes_total Response body bytes received from the origin.\n"
	    "# TYPE cachalot_origin_bytes_total counter\ncachalot_origin_bytes_total %llu\n",
	    (unsigned long long)SUM(origin_bytes_in));
	rv |= cm_buf_addf(out, "# HELP cachalot_origin_requests_total Requests sent to the origin.\n"
	    "# TYPE cachalot_origin_requests_total counter\ncachalot_origin_requests_total %llu\n",
	    (unsigned long long)SUM(origin_requests));
	rv |= cm_buf_addf(out, "# HELP cachalot_origin_errors_total Origin requests that failed in transport.\n"
	    "# TYPE cachalot_origin_errors_total counter\ncachalot_origin_errors_total %llu\n",
	    (unsigned long long)SUM(origin_errors));
	rv |= cm_buf_addf(out, "# HELP cachalot_auth_refused_total Requests refused by signature checks (never sent to the origin).\n"
	    "# TYPE cachalot_auth_refused_total counter\ncachalot_auth_refused_total %llu\n",
	    (unsigned long long)SUM(auth_refused));
	rv |= cm_buf_adds(out, "# HELP cachalot_errors_total Errors the gateway answered itself, by S3 code.\n"
	    "# TYPE cachalot_errors_total counter\n");
	for (i = 0; i < CM_ARRAY_LEN(err_codes); i++) {
		v = SUM(errors_by_code[i]);
		if (v > 0)
			rv |= cm_buf_addf(out, "cachalot_errors_total{code=\"%s\"} %llu\n", err_codes[i],
			    (unsigned long long)v);
	}
	rv |= cm_buf_adds(out, "# HELP cachalot_origin_latency_seconds Time to the origin's response headers.\n"
	    "# TYPE cachalot_origin_latency_seconds histogram\n");
	for (i = 0; i < GW_LAT_BUCKETS; i++) {
		cum += SUM(lat_bucket[i]);
		rv |= cm_buf_addf(out, "cachalot_origin_latency_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)lat_le_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += SUM(lat_bucket[GW_LAT_BUCKETS]);
	rv |= cm_buf_addf(out, "cachalot_origin_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "cachalot_origin_latency_seconds_sum %.6f\ncachalot_origin_latency_seconds_count %llu\n",
	    (unsigned long long)cum, (double)SUM(lat_sum_us) / 1e6, (unsigned long long)SUM(lat_count));
	rv |= cm_buf_addf(out, "# HELP cachalot_cache_bytes_served_total Response bytes served from cached blocks.\n"
	    "# TYPE cachalot_cache_bytes_served_total counter\ncachalot_cache_bytes_served_total{tier=\"memory\"} %llu\n"
	    "cachalot_cache_bytes_served_total{tier=\"disk\"} %llu\n",
	    (unsigned long long)SUM(cache_bytes_hit), (unsigned long long)SUM(cache_bytes_disk));
	rv |= cm_buf_addf(out, "# HELP cachalot_cache_bytes_filled_total Bytes fetched from the origin into the block cache.\n"
	    "# TYPE cachalot_cache_bytes_filled_total counter\ncachalot_cache_bytes_filled_total %llu\n",
	    (unsigned long long)SUM(cache_bytes_filled));
	rv |= cm_buf_addf(out, "# HELP cachalot_revalidations_total Revalidations with the origin, by outcome.\n"
	    "# TYPE cachalot_revalidations_total counter\ncachalot_revalidations_total{result=\"unchanged\"} %llu\n"
	    "cachalot_revalidations_total{result=\"changed\"} %llu\n",
	    (unsigned long long)SUM(revalidated_unchanged), (unsigned long long)SUM(revalidated_changed));
	rv |= cm_buf_addf(out, "# HELP cachalot_worker_failovers_total Requests to a worker that failed and went to the next owner or the origin.\n"
	    "# TYPE cachalot_worker_failovers_total counter\ncachalot_worker_failovers_total %llu\n",
	    (unsigned long long)SUM(worker_failovers));
	rv |= cm_buf_addf(out, "# HELP cachalot_open_connections Client connections open now.\n"
	    "# TYPE cachalot_open_connections gauge\ncachalot_open_connections %u\n", open_conns);
	return (rv != 0 ? -1 : 0);
}
