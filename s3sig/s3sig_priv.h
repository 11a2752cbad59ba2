/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_priv.h: shared only inside s3sig/: canonicalisation, hashing
 * helpers, the signing-key cache and the checksum engines.
 */
#ifndef CACHALOT_S3SIG_PRIV_H
#define CACHALOT_S3SIG_PRIV_H

#include "s3sig.h"

#define S3SIG_MAX_CANON		(64 * 1024)	/* canonical request bound */
#define S3SIG_MAX_QUERY_PARAMS	256
#define S3SIG_ALGO_V4		"AWS4-HMAC-SHA256"

/* ---- s3sig_canon.c ---- */

/* Percent-encodes bytes as SigV4 wants: unreserved kept, everything else
 * %XX upper case; '/' kept when keep_slash. */
int s3sig_uri_encode(struct cm_buf *out, const char *p, size_t len, int keep_slash);
/* Decodes %XX (and '+' as space when plus_space); bad escapes stay literal. */
int s3sig_uri_decode(struct cm_buf *out, const char *p, size_t len, int plus_space);
/* S3's canonical URI: the path decoded once and encoded once, never
 * normalised. */
int s3sig_canon_path(struct cm_buf *out, struct cm_slice path);
/* Canonical query: sorted, each key and value re-encoded, "key=" for keys
 * without a value; the parameter named skip (if not NULL) is left out. */
int s3sig_canon_query(struct cm_buf *out, struct cm_slice query, const char *skip);
/* Canonical headers for a ';'-separated list of lower-case names, each
 * "name:value\n" with values trimmed, inner white space folded and repeated
 * headers joined by ','. */
int s3sig_canon_headers(struct cm_buf *out, const struct s3sig_req *req,
    struct cm_slice signed_headers);
/* Finds a header by name, case-insensitively; the first one wins. */
const struct s3sig_hdr *s3sig_find_hdr(const struct s3sig_req *req, const char *name);

/* The whole canonical request. query_skip: see s3sig_canon_query. */
int s3sig_canon_request(struct cm_buf *out, const struct s3sig_req *req,
    struct cm_slice signed_headers, const char *query_skip,
    struct cm_slice payload_hash);
/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canon)>" */
int s3sig_string_to_sign(struct cm_buf *out, const char *algo, struct cm_slice amz_date,
    struct cm_slice scope, struct cm_slice canon);

/* ---- s3sig_v4.c ---- */

/* Appends "a;b;c": req's header names lower-cased, sorted, unique. */
int s3sig_signed_headers(const struct s3sig_req *req, struct cm_buf *out);

/* ---- s3sig_crypto.c ---- */

void s3sig_sha256(const void *p, size_t len, unsigned char out[32]);
void s3sig_sha256_hex(const void *p, size_t len, char out[65]);
void s3sig_hmac256(const void *key, size_t keylen, const void *p, size_t len,
    unsigned char out[32]);
/* kSigning = HMAC(HMAC(HMAC(HMAC(prefix+secret, date), region), service), term) */
void s3sig_derive_key(const char *prefix, const char *secret, struct cm_slice date,
    struct cm_slice region, struct cm_slice service, const char *term,
    unsigned char out[32]);

/* Signing keys per (access key, date, region, service), so that a
 * verification costs two hashes instead of six. One per verifier. */
#define S3SIG_KEYCACHE_SLOTS 64
struct s3sig_keycache_ent {
	char		id[192];	/* "AK\0date\0region\0service" flattened */
	size_t		idlen;
	unsigned char	key[32];
};
struct s3sig_keycache {
	struct s3sig_keycache_ent	ent[S3SIG_KEYCACHE_SLOTS];
	uint64_t			derivations;
};
void s3sig_keycache_get(struct s3sig_keycache *kc, const struct s3sig_cred *cred,
    struct cm_slice date, struct cm_slice region, struct cm_slice service,
    unsigned char out[32]);

/* ---- s3sig_checksum.c ---- */

enum s3sig_ck_algo {
	S3SIG_CK_NONE = 0,
	S3SIG_CK_CRC32,
	S3SIG_CK_CRC32C,
	S3SIG_CK_CRC64NVME,
	S3SIG_CK_SHA1,
	S3SIG_CK_SHA256,
};

struct s3sig_ck {
	enum s3sig_ck_algo	algo;
	uint64_t		crc;
	void			*md;	/* EVP_MD_CTX for SHA-*; owned */
};

/* "x-amz-checksum-crc32" (any case) to its algorithm; NONE if unknown. */
enum s3sig_ck_algo s3sig_ck_by_header(struct cm_slice name);
int s3sig_ck_init(struct s3sig_ck *ck, enum s3sig_ck_algo algo);
void s3sig_ck_update(struct s3sig_ck *ck, const void *p, size_t len);
/* Writes the digest (big-endian for CRCs, as S3 encodes them) and frees. */
int s3sig_ck_final(struct s3sig_ck *ck, unsigned char out[32]);
void s3sig_ck_fini(struct s3sig_ck *ck);

/* ---- s3sig_body.c ---- */

struct s3sig_body_init {
	enum s3sig_payload	payload;
	char			payload_sha[65];	/* PAYLOAD_SHA256 */
	int64_t			decoded_length;		/* -1 unknown */
	enum s3sig_ck_algo	header_ck;		/* x-amz-checksum-* header */
	unsigned char		header_ck_val[32];
	int			header_ck_len;
	enum s3sig_ck_algo	trailer_ck;		/* declared in x-amz-trailer */
	/* For chunk signatures. */
	unsigned char		signing_key[32];
	char			seed_sig[65];
	char			amz_date[17];
	char			scope[160];
};
enum s3sig_err s3sig_body_new(const struct s3sig_body_init *in, struct s3sig_body **out);

/* ---- s3sig_v2.c ---- */

/* VERB\nContent-MD5\nContent-Type\nDate\n<prefix headers><resource> */
int s3sig_v1_string_to_sign(struct cm_buf *out, const struct s3sig_req *req,
    const char *prefix, struct cm_slice date, struct cm_slice resource);
/* base64(HMAC-SHA1(secret, data)) into out; returns its length or -1. */
int s3sig_hmac_sha1_b64(const char *secret, struct cm_slice data, char out[32]);

enum s3sig_err s3sig_verify_v2(const struct s3sig_conf *conf, const struct s3sig_req *req,
    time_t now, struct s3sig_auth *auth, int query_form);

/* Shared by the verifiers. */
const struct s3sig_cred *s3sig_find_cred(const struct s3sig_conf *conf, struct cm_slice ak);
void s3sig_copy(char *dst, size_t dstlen, struct cm_slice s);

#endif
