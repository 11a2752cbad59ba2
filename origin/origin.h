/* SPDX-License-Identifier: Apache-2.0 */
/*
 * origin.h: how a request is addressed and signed toward an origin (S3 with
 * SigV4, Alibaba OSS with OSS4-HMAC-SHA256), one const table per kind
 * (origin_s3.c, origin_oss.c), and the one builder of an origin request that
 * uses them (origin_req.c). The one header of origin/; S3-aware, not
 * gateway-aware: it takes a request's method, query and headers, never the
 * gateway's types.
 *
 * Threads: pure functions, any thread; an origin_req belongs to one request.
 */
#ifndef CACHALOT_ORIGIN_H
#define CACHALOT_ORIGIN_H

#include <stddef.h>
#include <time.h>

#include "common/common.h"
#include "s3sig/s3sig.h"

struct origin_req;

/* What differs between origins. Every slot is set in each table. */
struct origin_ops {
	const char	*name;		/* "s3", "oss" */
	/* Appends the Host of a request for bucket (may be empty) to host, and
	 * the path before the key (prefix, and "/bucket" where the bucket is
	 * in the path) to path. 0, or -1 when full. */
	int		(*address)(struct cm_buf *host, struct cm_buf *path, const char *thost,
	    const char *prefix, struct cm_slice bucket);
	/* Whether an empty key leaves the path "/bucket" (not "/bucket/"). */
	int		bucket_in_path;
	/* A client's end-to-end header n on its way: 0 kept (*n possibly
	 * renamed, the new name in f's store), 1 dropped, -1 f is full. */
	int		(*header)(struct origin_req *f, struct cm_slice *n);
	/* Adds the origin's date and payload headers. 0, or -1 when full. */
	int		(*dated)(struct origin_req *f, const char *amz_date);
	/* Signs sreq (the request as sent) into authz. rawkey: as the client
	 * sent it (percent-encoded). 0, or -1. */
	int		(*sign)(const struct s3sig_signer *signer, const struct s3sig_req *sreq,
	    struct cm_slice bucket, struct cm_slice rawkey, time_t now, struct cm_buf *authz);
	/* The name a response header goes back to the client under; buf may
	 * hold it. */
	struct cm_slice	(*resp_name)(struct cm_slice name, char *buf, size_t buflen);
	/* DeleteObjects needs a Content-MD5 (OSS): the gateway hashes the
	 * body before it forwards when the client sent none. */
	int		delete_needs_md5;
};

extern const struct origin_ops origin_s3_ops, origin_oss_ops;
/* S3's addressing with no signature of its own (sign leaves authz empty and
 * no Authorization is sent): for requests the caller signs otherwise. */
extern const struct origin_ops origin_worker_ops;
/* "s3" or "oss" (the origin_type option); NULL when unknown. */
const struct origin_ops *origin_ops_by_name(const char *name);

/* Where requests go upstream: the origin, or (in a cluster) a worker. */
struct origin_target {
	const struct origin_ops	*ops;
	struct s3sig_signer	signer;
	char			scheme[8];		/* "http" or "https" */
	char			host[256];		/* host[:port] as in the URL */
	char			prefix[1024];		/* path prefix, no trailing '/' */
};

#define ORIGIN_MAX_HDRS (128 + 8)

/* One request's origin form. Owns its URL; names and values it makes live
 * in store, the rest borrow from the client's request. */
struct origin_req {
	struct cm_buf		url;
	struct s3sig_hdr	hdrs[ORIGIN_MAX_HDRS];
	size_t			n;
	char			store[16384];
	size_t			used;
};

void origin_req_init(struct origin_req *f);
void origin_req_fini(struct origin_req *f);
/* The request toward t: method, query (as sent) and the client's headers
 * (nhdrs at most ORIGIN_MAX_HDRS - 8), rawkey: the key as the client sent
 * it (percent-encoded); dechunk: the body was aws-chunked and is sent
 * decoded; content_md5: a base64 value to add, or NULL. 0, or -1 when
 * something is too large. */
int origin_req_build(struct origin_req *f, const struct origin_target *t, struct cm_slice method,
    struct cm_slice query, const struct s3sig_hdr *hdrs, size_t nhdrs, struct cm_slice bucket,
    struct cm_slice rawkey, int dechunk, const char *content_md5, time_t now);
/* For the origin kinds' tables: stores bytes that live as long as f (NULL
 * when full), and adds a header made of copies. */
const char *origin_req_keep(struct origin_req *f, const char *p, size_t len);
int origin_req_add_hdr(struct origin_req *f, const char *name, size_t nlen, const char *value,
    size_t vlen);

#endif
