/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig.h: what S3 clients sign, verified; what Cachalot sends, signed.
 *
 * Verification takes a parsed request (slices into the caller's buffers) and
 * answers with an outcome from s3sig_err_tbl.h plus, when the request is
 * authentic, a body checker that the caller feeds the raw body as it streams:
 * it removes aws-chunked framing, checks chunk signatures, the signed payload
 * hash and x-amz-checksum-* values (headers or trailers), and hands the
 * decoded payload to a sink. Nothing here buffers a body.
 *
 * Signing produces SigV4 (header or presigned query) toward S3 origins and
 * OSS V1/V4 toward Alibaba OSS. Verifying and signing share one
 * canonicalisation (s3sig_canon.c).
 *
 * Threads: a struct s3sig_verifier holds a signing-key cache and must be used
 * by one thread at a time (one per event loop); the s3sig_conf it points to
 * is read-only and may be shared. Everything else is pure.
 */
#ifndef CACHALOT_S3SIG_H
#define CACHALOT_S3SIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"

enum s3sig_err {
#define S3SIG_ERR(name, status, code, msg) S3SIG_##name,
#include "s3sig_err_tbl.h"
#undef S3SIG_ERR
	S3SIG__MAX
};

int s3sig_err_status(enum s3sig_err e);
const char *s3sig_err_code(enum s3sig_err e);   /* S3 <Code> */
const char *s3sig_err_message(enum s3sig_err e);
const char *s3sig_err_name(enum s3sig_err e);   /* for logs and tests */

struct s3sig_hdr {
	struct cm_slice	name;
	struct cm_slice	value;
};

/* A request as received (or about to be sent). All slices are borrowed. */
struct s3sig_req {
	struct cm_slice		method;
	struct cm_slice		path;		/* as on the wire, without query */
	struct cm_slice		query;		/* as on the wire, without '?' */
	const struct s3sig_hdr	*hdrs;
	size_t			nhdrs;
	/* Virtual-hosted bucket taken from Host, for SigV2's resource. */
	struct cm_slice		vhost_bucket;
};

struct s3sig_cred {
	const char	*access_key;
	const char	*secret_key;
};

/* What the verifier accepts. Read-only once verifiers exist; borrowed. */
struct s3sig_conf {
	const struct s3sig_cred	*creds;
	size_t			ncreds;
	const char *const	*regions;	/* at least one */
	size_t			nregions;
	const char		*service;	/* "s3" unless testing */
	int			allow_sigv2;
	int			max_skew;	/* seconds, 900 as AWS */
};

enum s3sig_kind {
	S3SIG_KIND_NONE = 0,
	S3SIG_KIND_V4_HEADER,
	S3SIG_KIND_V4_QUERY,
	S3SIG_KIND_V2_HEADER,
	S3SIG_KIND_V2_QUERY,
};

enum s3sig_payload {
	S3SIG_PAYLOAD_UNSIGNED = 0,		/* UNSIGNED-PAYLOAD, presigned, V2 */
	S3SIG_PAYLOAD_SHA256,			/* hex hash of the whole body */
	S3SIG_PAYLOAD_STREAMING,		/* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
	S3SIG_PAYLOAD_STREAMING_TRAILER,	/* ...-PAYLOAD-TRAILER */
	S3SIG_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
};

/* What verification found out, for the caller's logs and error bodies. */
struct s3sig_auth {
	enum s3sig_kind		kind;
	enum s3sig_payload	payload;
	const char		*detail;	/* static text, for the log */
	char			access_key[129];
	char			region[64];	/* the region to tell the client */
	int64_t			decoded_length;	/* -1 when not announced */
};

struct s3sig_verifier;
struct s3sig_body;

/* *out: new verifier borrowing conf; NULL on allocation failure. */
struct s3sig_verifier *s3sig_verifier_new(const struct s3sig_conf *conf);
void s3sig_verifier_free(struct s3sig_verifier **vp);
/* How many signing keys were derived (not found in the cache): for tests. */
uint64_t s3sig_verifier_derivations(const struct s3sig_verifier *v);

/*
 * Verifies req at time now. On S3SIG_OK, *bodyp is a new body checker that
 * the caller owns, feeds the whole raw body (possibly none) and frees;
 * otherwise *bodyp is NULL and auth says what to tell the client.
 */
enum s3sig_err s3sig_verify(struct s3sig_verifier *v, const struct s3sig_req *req,
    time_t now, struct s3sig_auth *auth, struct s3sig_body **bodyp);

/* Receives decoded payload bytes; returns 0, or non-zero to stop feeding. */
typedef int s3sig_sink_f(void *arg, const char *p, size_t len);

/*
 * Feeds raw body bytes in any split. Decoded bytes go to sink (which may be
 * NULL). Returns S3SIG_OK or the first failure; after a failure the body
 * must not be fed again. A sink that returns non-zero yields
 * S3SIG_SINK_STOPPED: the caller knows why it stopped.
 */
enum s3sig_err s3sig_body_feed(struct s3sig_body *b, const char *p, size_t len,
    s3sig_sink_f *sink, void *arg);
/* Called at the end of the raw body: checks hashes, checksums, framing. */
enum s3sig_err s3sig_body_finish(struct s3sig_body *b);
uint64_t s3sig_body_decoded(const struct s3sig_body *b);
void s3sig_body_free(struct s3sig_body **bp);

/* ---- Signing toward an origin ---- */

struct s3sig_signer {
	const char	*access_key;
	const char	*secret_key;
	const char	*region;
	const char	*service;	/* "s3" */
};

#define S3SIG_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define S3SIG_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Appends an object key percent-encoded as S3 clients send it: every byte
 * but the unreserved ones and '/'. */
int s3sig_uri_encode_path(struct cm_buf *out, const char *key);

/* Appends S3's canonical form of a request path: decoded once, encoded once
 * (every byte but unreserved ones and '/'), never normalised. The wire form
 * Cachalot sends to origins, so that what is signed is what is sent. */
int s3sig_canon_uri(struct cm_buf *out, struct cm_slice path);
/* Appends s percent-decoded once ('+' stays '+'): an object key from a
 * request path. */
int s3sig_uri_decode_path(struct cm_buf *out, struct cm_slice s);
/* Appends the canonical query (sorted, re-encoded, "key=" for bare keys),
 * leaving out the authentication parameters of presigned URLs (SigV4's
 * X-Amz-Algorithm... and SigV2's AWSAccessKeyId, Expires, Signature). */
int s3sig_canon_query_forward(struct cm_buf *out, struct cm_slice query);

/* "20130524T000000Z" from now; out has room for 17 bytes. */
void s3sig_amz_date(time_t now, char out[17]);

/*
 * SigV4 header form. req must already carry every header to be signed,
 * x-amz-date (equal to s3sig_amz_date(now)) and x-amz-content-sha256 equal
 * to payload_hash among them; all of req's headers are signed. Appends the
 * Authorization value to authz.
 */
int s3sig_sign_v4(const struct s3sig_signer *s, const struct s3sig_req *req,
    time_t now, const char *payload_hash, struct cm_buf *authz);

/*
 * SigV4 presigned query: appends to query_out the request's own query (if
 * any) followed by the X-Amz-* parameters, X-Amz-Signature last. Only host
 * is signed; req must carry a Host header.
 */
int s3sig_presign_v4(const struct s3sig_signer *s, const struct s3sig_req *req,
    time_t now, long expires, struct cm_buf *query_out);

/*
 * Alibaba OSS V1: "OSS AccessKeyId:Signature" for the header form.
 * resource is the CanonicalizedResource ("/bucket/key?acl"); date is the
 * Date header's value.
 */
int s3sig_sign_oss_v1(const struct s3sig_signer *s, const struct s3sig_req *req,
    struct cm_slice date, struct cm_slice resource, struct cm_buf *authz);
/* OSS V4 header form: bucket and key are decoded; req must carry x-oss-date
 * and x-oss-content-sha256. Signs x-oss-*, content-type and content-md5. */
int s3sig_sign_oss_v4(const struct s3sig_signer *s, const struct s3sig_req *req,
    struct cm_slice bucket, struct cm_slice key, time_t now, struct cm_buf *authz);

/* ---- Parsers, exported for tests and fuzz targets ---- */

struct s3sig_v4_fields {
	struct cm_slice	access_key;
	struct cm_slice	date;		/* YYYYMMDD */
	struct cm_slice	region;
	struct cm_slice	service;
	struct cm_slice	signed_headers;	/* "host;x-amz-date" */
	struct cm_slice	signature;	/* 64 hex */
	struct cm_slice	amz_date;	/* presigned: X-Amz-Date */
	struct cm_slice	expires;	/* presigned: X-Amz-Expires */
	struct cm_slice	token;		/* presigned: X-Amz-Security-Token */
};

/* Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
 * The slices point into value. */
enum s3sig_err s3sig_parse_authz_v4(struct cm_slice value, struct s3sig_v4_fields *f);
/* Parses the X-Amz-* parameters of a presigned query; decoded values are
 * written to scratch (which the slices then point into). */
enum s3sig_err s3sig_parse_query_v4(struct cm_slice query, struct cm_buf *scratch,
    struct s3sig_v4_fields *f);
/* An HTTP date ("Fri, 24 May 2013 00:00:00 GMT") to seconds; -1 when
 * malformed. */
int s3sig_parse_http_date(struct cm_slice s, time_t *out);
/* "20130524T000000Z" to seconds since the epoch; -1 when malformed. */
int s3sig_parse_amz_date(struct cm_slice s, time_t *out);

#endif
