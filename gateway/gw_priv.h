/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_priv.h: shared only inside gateway/.
 */
#ifndef CACHALOT_GW_PRIV_H
#define CACHALOT_GW_PRIV_H

#include "common/cm_config.h"
#include "http/http.h"
#include "gateway/gw_metrics.h"
#include "origin/origin.h"
#include "s3sig/s3sig.h"

/* Where requests go upstream: the origin, or (in a cluster) a worker.
 * gw_cluster.c still names it gw_target: the lead renames at the merge. */
#define gw_target origin_target
_Static_assert(ORIGIN_MAX_HDRS >= HTTP_MAX_HDRS + 8, "a client request fits an origin request");

struct gw_cluster;

/* Read-only after start-up; shared by every loop. */
struct gw_conf {
	const struct cm_config	*cfg;
	struct s3sig_conf	sig;
	struct s3sig_cred	creds[CM_MAX_CREDS + 1];
	struct gw_target	origin;
	char			region[64];		/* announced to clients */
	struct gw_cluster	*cluster;		/* gateway or worker with a master */
	int			worker;			/* this process is a worker */
	int			role;			/* CM_ROLE_SERVE, _GATEWAY or _WORKER */
	struct cache_store	*cache;			/* serve: the block cache; else NULL */
	struct cache_writer	*writer;		/* its disk tier's write-behind, or NULL */
	struct cache_io		*io;			/* its disk tier's I/O thread, or NULL */
};

/* The header a gateway's invalidation DELETE carries to the workers. */
#define GW_INVALIDATE_HDR	"x-cachalot-invalidate"

/* One per event loop. */
struct gw_ctx {
	unsigned		magic;
#define GW_CTX_MAGIC		0x9a7e11c0
	const struct gw_conf	*conf;
	struct event_base	*base;
	struct s3sig_verifier	*verifier;
	struct http_client	*origin;
	struct cache_io_q	*ioq;		/* this loop's disk completions, or NULL */
	struct gw_metrics	metrics;
};

/* gw_s3.c */
extern const struct http_server_ops gw_s3_ops;
/* Classifies a request; bucket/key as parsed. */
enum gw_op gw_s3_classify(struct cm_slice method, struct cm_slice query, int has_bucket,
    int has_key, int copy_source);
/* Splits the address: virtual-hosted when Host is BUCKET.domain, else
 * path-style. key is still percent-encoded as sent. 0, or -1 when malformed. */
int gw_s3_address(const char *vhost_domain, struct cm_slice host, struct cm_slice path,
    struct cm_slice *bucket, struct cm_slice *key, int *vhost);

/* gw_s3.c: answers an S3 error of the gateway's own (gw_err.h): its body
 * from gw_err_xml with the request's path as <Resource> and fields after
 * <Message>, counted by code; hdrs (at most 4) are added to the head. */
struct gw_err_field;
void gw_s3_error(struct gw_ctx *ctx, struct http_conn *conn, const struct http_req *r, int status,
    const char *code, const char *msg, const struct gw_err_field *fields, size_t nfields,
    const struct s3sig_hdr *hdrs, size_t nhdrs);

/* gw_s3.c: counts a finished request and writes its access-log line. */
void gw_request_log(struct gw_ctx *ctx, struct http_conn *conn, const struct http_req *r,
    enum gw_op op, struct cm_slice bucket, struct cm_slice key, int status, uint64_t in,
    uint64_t out, uint64_t ttfb_us, const char *result);

/* gw_cache.c: GET and HEAD from the block cache (serve role). */
struct cache_store;
void gw_cache_start(struct gw_ctx *ctx, struct http_conn *conn, struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey);
/* A disk read this loop asked for is done (cache_io_done_f). */
struct cache_io_req;
void gw_cache_disk_done(struct cache_io_req *r);
/* Before a write's answer: forget what the cache holds of its key. */
void gw_cache_invalidate(struct gw_ctx *ctx, enum gw_op op, struct cm_slice bucket,
    struct cm_slice rawkey);
/* A DeleteObjects went through: forget the keys its body names (body: the
 * request's as it passed; NULL when it was too large to keep), or the
 * bucket when they cannot be read from it. */
void gw_cache_invalidate_delete(struct gw_ctx *ctx, struct cm_slice bucket,
    const struct cm_buf *body);

/* gw_admin.c: the operations endpoints; NULL with a message on failure. */
struct gw_admin;
struct gw_admin *gw_admin_start(const char *hostport, struct gw_ctx **ctxs, size_t n,
    struct http_server *srv, char *err, size_t errlen);
void gw_admin_stop(struct gw_admin **ap);
int gw_admin_port(const struct gw_admin *a);

#endif
