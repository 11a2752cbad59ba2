/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_metrics.h: the gateway's counters, one set per event loop so that the
 * hot path increments without contention; /metrics sums them.
 *
 * Threads: each set is written by its loop with relaxed atomic adds and
 * read by the admin thread; a scrape sees each counter exactly, the set
 * approximately at one instant, as Prometheus expects.
 */
#ifndef CACHALOT_GW_METRICS_H
#define CACHALOT_GW_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/common.h"

/* The S3 operations that requests are counted under. */
#define GW_OPS(X) \
	X(GetObject) X(HeadObject) X(PutObject) X(CopyObject) X(DeleteObject) \
	X(DeleteObjects) X(ListObjects) X(ListObjectsV2) X(ListObjectVersions) \
	X(ListBuckets) X(CreateBucket) X(DeleteBucket) X(HeadBucket) \
	X(GetBucketLocation) X(CreateMultipartUpload) X(UploadPart) X(UploadPartCopy) \
	X(CompleteMultipartUpload) X(AbortMultipartUpload) X(ListMultipartUploads) \
	X(ListParts) X(GetObjectTagging) X(PutObjectTagging) X(DeleteObjectTagging) \
	X(GetObjectAcl) X(PutObjectAcl) X(BucketSubresource) X(Other)

enum gw_op {
#define X(n) GW_OP_##n,
	GW_OPS(X)
#undef X
	GW_OP__MAX
};
const char *gw_op_name(enum gw_op op);

/* Status classes counted: 2xx 3xx 4xx 5xx, and the S3 error codes the
 * gateway itself produced. */
#define GW_LAT_BUCKETS 14	/* origin latency histogram, seconds */

struct gw_metrics {
	_Atomic uint64_t	req[GW_OP__MAX][4];	/* by op and status class */
	_Atomic uint64_t	bytes_in;		/* request bodies from clients */
	_Atomic uint64_t	bytes_out;		/* response bodies to clients */
	_Atomic uint64_t	origin_bytes_in;	/* from the origin */
	_Atomic uint64_t	origin_requests;
	_Atomic uint64_t	origin_errors;		/* transport failures */
	_Atomic uint64_t	auth_refused;		/* refused before the origin */
	_Atomic uint64_t	lat_bucket[GW_LAT_BUCKETS + 1];	/* +Inf last */
	_Atomic uint64_t	lat_sum_us;
	_Atomic uint64_t	lat_count;
	_Atomic uint64_t	errors_by_code[32];	/* see gw_metrics_error_index */
	_Atomic uint64_t	cache_bytes_hit;	/* served from blocks already cached */
	_Atomic uint64_t	cache_bytes_filled;	/* fetched from the origin into blocks */
	_Atomic uint64_t	cache_bytes_disk;	/* served from blocks read from disk */
	_Atomic uint64_t	revalidated_unchanged;
	_Atomic uint64_t	revalidated_changed;
	_Atomic uint64_t	worker_failovers;	/* cluster: a worker failed, the next asked */
};

#define GW_INC(m, field, n) atomic_fetch_add_explicit(&(m)->field, (n), memory_order_relaxed)

void gw_metrics_request(struct gw_metrics *m, enum gw_op op, int status);
void gw_metrics_origin_latency(struct gw_metrics *m, uint64_t us);
/* Counts an error the gateway answered, by its S3 code. */
void gw_metrics_error(struct gw_metrics *m, const char *code);

/* Appends the Prometheus text of the sum of n sets, plus open connections. */
int gw_metrics_render(struct cm_buf *out, struct gw_metrics *const *sets, size_t n,
    unsigned open_conns);

#endif
