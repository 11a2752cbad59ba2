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
#include "cluster/cluster.h"

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

/* The outcomes a request is logged with (gw_req_end's result), as
 * the request duration histogram labels them; anything else is "other". */
#define GW_RESULTS(X) \
	X(hit, "hit") X(hit_disk, "hit-disk") X(miss, "miss") X(pass, "pass") \
	X(refused, "refused") X(invalidated, "invalidated") X(broken, "broken") \
	X(aborted, "aborted") X(fill_failed, "fill-failed") X(other, "other")

enum gw_result {
#define X(n, s) GW_RES_##n,
	GW_RESULTS(X)
#undef X
	GW_RES__MAX
};

/* What the process is, for the role label and the names of its families. */
enum gw_role { GW_ROLE_SERVE, GW_ROLE_GATEWAY, GW_ROLE_WORKER };

/* Status classes counted: 2xx 3xx 4xx 5xx, and the S3 error codes the
 * gateway itself produced. */
#define GW_LAT_BUCKETS 14	/* origin latency histogram, seconds */
#define GW_DUR_BUCKETS 12	/* client request duration histogram, seconds */

struct gw_metrics {
	_Atomic uint64_t	req[GW_OP__MAX][4];	/* by op and status class */
	_Atomic uint64_t	bytes_in;		/* request bodies from clients */
	_Atomic uint64_t	bytes_out;		/* response bodies to clients */
	_Atomic uint64_t	origin_bytes_in;	/* from the origin */
	_Atomic uint64_t	origin_requests;
	_Atomic uint64_t	origin_errors;		/* transport failures */
	_Atomic uint64_t	auth_refused;		/* refused before the origin */
	/* A worker: requests without a valid cluster signature, by
	 * enum clu_auth_result (CLU_AUTH_OK unused). */
	_Atomic uint64_t	worker_auth_refused[CLU_AUTH_NRESULTS];
	_Atomic uint64_t	lat_bucket[GW_LAT_BUCKETS + 1];	/* +Inf last */
	_Atomic uint64_t	lat_sum_us;
	_Atomic uint64_t	lat_count;
	_Atomic uint64_t	errors_by_code[32];	/* see gw_metrics_error_index */
	_Atomic uint64_t	cache_bytes_hit;	/* served from blocks already cached */
	_Atomic uint64_t	cache_bytes_filled;	/* fetched from the origin into blocks */
	_Atomic uint64_t	cache_bytes_disk;	/* served from blocks read from disk */
	/* Blocks read by answers, each counted once, where its bytes came
	 * from: memory (or another request's fill of it), the disk tier,
	 * or fetched by this read (from the origin; on a cluster gateway
	 * from a worker or, when every owner failed, the origin). */
	_Atomic uint64_t	blk_hit_mem;
	_Atomic uint64_t	blk_hit_disk;
	_Atomic uint64_t	blk_fill_origin;
	_Atomic uint64_t	blk_fill_worker;
	/* Client request durations, by operation and result. */
	_Atomic uint64_t	dur_bucket[GW_OP__MAX][GW_RES__MAX][GW_DUR_BUCKETS + 1];
	_Atomic uint64_t	dur_sum_us[GW_OP__MAX][GW_RES__MAX];
	_Atomic uint64_t	revalidated_unchanged;
	_Atomic uint64_t	revalidated_changed;
	_Atomic uint64_t	worker_failovers;	/* cluster: a worker failed, the next asked */
	/* cluster: how writes' invalidations ended (gw_inval.c), and the
	 * writes refused before the origin for want of a ring (gw_s3.c) */
	_Atomic uint64_t	inval_confirmed;	/* every worker answered */
	_Atomic uint64_t	inval_ring_caught_up;	/* after fetching a newer ring */
	_Atomic uint64_t	inval_fenced;		/* through a fence at the master */
	_Atomic uint64_t	inval_unconfirmed;	/* answered 503 */
	_Atomic uint64_t	writes_no_ring;
};

#define GW_INC(m, field, n) atomic_fetch_add_explicit(&(m)->field, (n), memory_order_relaxed)

/* A finished client request: by op and status class, and its duration
 * (us) by op and result (gw_req_end's word). Relaxed atomics only. */
void gw_metrics_request(struct gw_metrics *m, enum gw_op op, int status, const char *result,
    uint64_t us);
void gw_metrics_origin_latency(struct gw_metrics *m, uint64_t us);
/* Counts an error the gateway answered, by its S3 code. */
void gw_metrics_error(struct gw_metrics *m, const char *code);

const char *gw_role_name(enum gw_role role);

struct cm_prom;
/* Writes the families of the sum of n sets (those of the loops) for a
 * process of that role, plus open connections. A gateway's staging
 * families are written when it has a staging store (a cluster gateway). */
void gw_metrics_render(struct cm_prom *p, struct gw_metrics *const *sets, size_t n,
    enum gw_role role, int staging, unsigned open_conns);

#endif
