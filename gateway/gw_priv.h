/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_priv.h: shared only inside gateway/.
 */
#ifndef CACHALOT_GW_PRIV_H
#define CACHALOT_GW_PRIV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "common/cm_config.h"
#include "http/http_server.h"
#include "gateway/gw_metrics.h"
#include "http/http_client.h"
#include "s3sig/s3sig.h"

/* Where requests go upstream: the origin, or (in a cluster) a worker. */
struct gw_target {
	struct s3sig_signer	signer;
	int			oss;
	char			scheme[8];		/* "http" or "https" */
	char			host[256];		/* host[:port] as in the URL */
	char			prefix[1024];		/* path prefix, no trailing '/' */
};

struct gw_log;
struct gw_log_loop;
struct event_base;

/* A worker of the cluster as a target: plain HTTP, signed with the
 * cluster's key. */
static inline void
gw_target_of_worker(struct gw_target *t, const struct clu_target *w)
{
	memset(t, 0, sizeof *t);
	snprintf(t->scheme, sizeof t->scheme, "http");
	snprintf(t->host, sizeof t->host, "%s", w->host);
	t->signer = w->signer;
}

/* clu_view_targets and clu_view_all, as gateway targets. */
static inline size_t
gw_worker_targets(struct clu_view *v, uint64_t h, struct gw_target *out, size_t max)
{
	struct clu_target w[16];
	size_t n = clu_view_targets(v, h, w, max < 16 ? max : 16), i;

	for (i = 0; i < n; i++)
		gw_target_of_worker(&out[i], &w[i]);
	return (n);
}

static inline size_t
gw_worker_all(struct clu_view *v, struct gw_target *out, size_t max)
{
	struct clu_target *w = calloc(max > 0 ? max : 1, sizeof *w);
	size_t n = w != NULL ? clu_view_all(v, w, max) : 0, i;

	for (i = 0; i < n; i++)
		gw_target_of_worker(&out[i], &w[i]);
	free(w);
	return (n);
}

/* Read-only after start-up; shared by every loop. */
struct gw_conf {
	const struct cm_config	*cfg;
	struct s3sig_conf	sig;
	struct s3sig_cred	creds[CM_MAX_CREDS + 1];
	struct gw_target	origin;
	char			region[64];		/* announced to clients */
	struct clu_view		*cluster;		/* a gateway with a master */
	struct clu_agent	*agent;			/* a worker with a master */
	int			worker;			/* this process is a worker */
	int			role;			/* CM_ROLE_SERVE, _GATEWAY or _WORKER */
	struct cache_store	*cache;			/* serve: the block cache; else NULL */
	struct cache_writer	*writer;		/* its disk tier's write-behind, or NULL */
	struct gw_log		*alog;			/* the access log, or NULL (off) */
};

/* One per event loop. */
struct gw_ctx {
	unsigned		magic;
#define GW_CTX_MAGIC		0x9a7e11c0
	const struct gw_conf	*conf;
	struct event_base	*base;
	struct s3sig_verifier	*verifier;
	struct http_client	*origin;
	struct gw_metrics	metrics;
	struct gw_log_loop	*alog;			/* this loop's access-log buffer, or NULL */
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

/* gw_log.c: the access log, buffered per loop, written by its own thread.
 * gw_log_open: spec is "off" (*out = NULL), "stderr" or a FILE appended to;
 * starts the writer thread (call it with the stop signals blocked). 0, or -1
 * with a message in err. */
int gw_log_open(const char *spec, struct gw_log **out, char *err, size_t errlen);
/* Main thread, before the loops run: loop's buffer on base (its flush
 * timer). NULL when w is NULL (off) or out of memory. Owned by w. */
struct gw_log_loop *gw_log_loop_new(struct gw_log *w, struct event_base *base);
/* Loop thread: one line (no newline in fmt), timestamped like cm_log's,
 * written within about a second. l NULL: nothing. May wait for the writer
 * when all of the loop's buffers are waiting to be written; never drops. */
void gw_log_line(struct gw_log_loop *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Any thread: FILE is opened again (SIGHUP, after a log rotation). */
void gw_log_reopen(struct gw_log *w);
/* Main thread, once the loops are stopped (their base not yet freed):
 * writes everything every loop holds, stops the writer, frees every
 * gw_log_loop of w and w; *wp = NULL. */
void gw_log_close(struct gw_log **wp);

/* gw_cache.c: GET and HEAD from the block cache (serve role). */
struct cache_store;
void gw_cache_start(struct gw_ctx *ctx, struct http_conn *conn, struct http_req *r, enum gw_op op,
    struct cm_slice bucket, struct cm_slice rawkey);
int gw_cache_owns(struct http_conn *conn);	/* the connection's request is a cached read */
void gw_cache_drain(struct http_conn *conn);
void gw_cache_abort(struct http_conn *conn);
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
