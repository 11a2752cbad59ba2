/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_v4.c: SigV4 verification (Authorization header and presigned query)
 * and SigV4 signing toward S3 origins.
 *
 * Verification order follows what AWS answers first: the form of the
 * credentials, the access key, the region, the date and its skew or expiry,
 * the payload mode, and only then the signature, compared in constant time.
 * Threads: a verifier is used by one thread at a time (its key cache is not
 * locked); the conf it borrows is read-only.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "s3sig_priv.h"

#define MAX_EXPIRES	604800

struct s3sig_verifier {
	unsigned			magic;
#define S3SIG_VERIFIER_MAGIC	0x5f3a91c2
	const struct s3sig_conf		*conf;
	struct s3sig_keycache		kc;
	/* Scratch reused by every verification on this thread: no
	 * allocation per request once they have grown. */
	struct cm_buf			canon;
	struct cm_buf			sts;
	struct cm_buf			scratch;
};

static const struct {
	int		status;
	const char	*code;
	const char	*msg;
	const char	*name;
} err_tbl[] = {
#define S3SIG_ERR(name, status, code, msg) { status, code, msg, #name },
#include "s3sig_err_tbl.h"
#undef S3SIG_ERR
};

int
s3sig_err_status(enum s3sig_err e)
{
	CM_ASSERT(e < S3SIG__MAX);
	return (err_tbl[e].status);
}

const char *
s3sig_err_code(enum s3sig_err e)
{
	CM_ASSERT(e < S3SIG__MAX);
	return (err_tbl[e].code);
}

const char *
s3sig_err_message(enum s3sig_err e)
{
	CM_ASSERT(e < S3SIG__MAX);
	return (err_tbl[e].msg);
}

const char *
s3sig_err_name(enum s3sig_err e)
{
	CM_ASSERT(e < S3SIG__MAX);
	return (err_tbl[e].name);
}

struct s3sig_verifier *
s3sig_verifier_new(const struct s3sig_conf *conf)
{
	struct s3sig_verifier *v;

	AN(conf);
	CM_ASSERT(conf->nregions > 0);
	v = calloc(1, sizeof *v);
	if (v == NULL)
		return (NULL);
	v->magic = S3SIG_VERIFIER_MAGIC;
	v->conf = conf;
	cm_buf_init(&v->canon, S3SIG_MAX_CANON);
	cm_buf_init(&v->sts, 1024);
	cm_buf_init(&v->scratch, 8192);
	return (v);
}

void
s3sig_verifier_free(struct s3sig_verifier **vp)
{
	struct s3sig_verifier *v = *vp;

	*vp = NULL;
	if (v == NULL)
		return;
	CM_ASSERT(v->magic == S3SIG_VERIFIER_MAGIC);
	cm_buf_free(&v->canon);
	cm_buf_free(&v->sts);
	cm_buf_free(&v->scratch);
	OPENSSL_cleanse(v, sizeof *v);
	free(v);
}

uint64_t
s3sig_verifier_derivations(const struct s3sig_verifier *v)
{
	return (v->kc.derivations);
}

const struct s3sig_cred *
s3sig_find_cred(const struct s3sig_conf *conf, struct cm_slice ak)
{
	size_t i;

	for (i = 0; i < conf->ncreds; i++)
		if (cm_slice_eq(ak, conf->creds[i].access_key))
			return (&conf->creds[i]);
	return (NULL);
}

void
s3sig_copy(char *dst, size_t dstlen, struct cm_slice s)
{
	size_t n = s.len < dstlen - 1 ? s.len : dstlen - 1;

	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static int
region_allowed(const struct s3sig_conf *conf, struct cm_slice r)
{
	size_t i;

	for (i = 0; i < conf->nregions; i++)
		if (cm_slice_eq(r, conf->regions[i]))
			return (1);
	return (0);
}

static int
signed_headers_has(struct cm_slice list, const char *name)
{
	struct cm_slice rest = list, n;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ';', &n);
		if (cm_slice_eq(n, name))
			return (1);
	}
	return (0);
}

static int
is_sha256_hex(struct cm_slice s)
{
	size_t i;

	if (s.len != 64)
		return (0);
	for (i = 0; i < s.len; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return (0);
	return (1);
}

/* Reads x-amz-content-sha256 into the body setup. */
static enum s3sig_err
payload_mode(const struct s3sig_conf *conf, const struct s3sig_req *req, int query_form,
    struct s3sig_body_init *bi, struct cm_slice *hash_out)
{
	const struct s3sig_hdr *h = s3sig_find_hdr(req, "x-amz-content-sha256");
	struct cm_slice v;
	int is_s3 = strcmp(conf->service, "s3") == 0;

	if (h == NULL) {
		if (query_form && is_s3) {
			bi->payload = S3SIG_PAYLOAD_UNSIGNED;
			*hash_out = CM_SLICE_LIT(S3SIG_UNSIGNED_PAYLOAD);
			return (S3SIG_OK);
		}
		if (is_s3)
			return (S3SIG_MISSING_CONTENT_SHA);
		/* Generic SigV4: the payload is the empty body unless said. */
		bi->payload = S3SIG_PAYLOAD_SHA256;
		memcpy(bi->payload_sha, S3SIG_EMPTY_SHA256, 65);
		*hash_out = CM_SLICE_LIT(S3SIG_EMPTY_SHA256);
		return (S3SIG_OK);
	}
	v = cm_slice_trim(h->value);
	*hash_out = v;
	if (cm_slice_eq(v, S3SIG_UNSIGNED_PAYLOAD))
		bi->payload = S3SIG_PAYLOAD_UNSIGNED;
	else if (cm_slice_eq(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
		bi->payload = S3SIG_PAYLOAD_STREAMING;
	else if (cm_slice_eq(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"))
		bi->payload = S3SIG_PAYLOAD_STREAMING_TRAILER;
	else if (cm_slice_eq(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
		bi->payload = S3SIG_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	else if (is_sha256_hex(v)) {
		bi->payload = S3SIG_PAYLOAD_SHA256;
		memcpy(bi->payload_sha, v.p, 64);
		bi->payload_sha[64] = '\0';
	} else
		return (S3SIG_BAD_CONTENT_SHA);
	if (query_form && bi->payload >= S3SIG_PAYLOAD_STREAMING)
		return (S3SIG_BAD_CONTENT_SHA);
	return (S3SIG_OK);
}

/* x-amz-trailer, x-amz-checksum-*, x-amz-decoded-content-length. */
static enum s3sig_err
body_extras(const struct s3sig_req *req, struct s3sig_body_init *bi)
{
	const struct s3sig_hdr *h;
	uint64_t n;
	size_t i;
	int streaming = bi->payload >= S3SIG_PAYLOAD_STREAMING;
	int trailer = bi->payload >= S3SIG_PAYLOAD_STREAMING_TRAILER;

	bi->decoded_length = -1;
	h = s3sig_find_hdr(req, "x-amz-decoded-content-length");
	if (h != NULL && streaming) {
		if (cm_parse_u64(cm_slice_trim(h->value), INT64_MAX, &n) != 0)
			return (S3SIG_BAD_CHUNK);
		bi->decoded_length = (int64_t)n;
	}
	h = s3sig_find_hdr(req, "x-amz-trailer");
	if (h != NULL && trailer) {
		bi->trailer_ck = s3sig_ck_by_header(cm_slice_trim(h->value));
		if (bi->trailer_ck == S3SIG_CK_NONE)
			return (S3SIG_BAD_CHECKSUM_ALGO);
	} else if (trailer) {
		return (S3SIG_BAD_TRAILER);
	}
	for (i = 0; i < req->nhdrs; i++) {
		enum s3sig_ck_algo a = s3sig_ck_by_header(req->hdrs[i].name);

		if (a == S3SIG_CK_NONE)
			continue;
		if (bi->header_ck != S3SIG_CK_NONE)
			return (S3SIG_BAD_CHECKSUM_ALGO);	/* two of them */
		bi->header_ck = a;
		bi->header_ck_len = cm_base64_decode(bi->header_ck_val,
		    sizeof bi->header_ck_val, cm_slice_trim(req->hdrs[i].value));
		if (bi->header_ck_len <= 0)
			return (S3SIG_CHECKSUM_MISMATCH);
	}
	if (bi->header_ck != S3SIG_CK_NONE && bi->trailer_ck != S3SIG_CK_NONE)
		return (S3SIG_BAD_CHECKSUM_ALGO);
	return (S3SIG_OK);
}

/* Compares hex signature given with the computed one, in constant time. */
static int
sig_equal(struct cm_slice given, const unsigned char mac[32])
{
	char hex[65];

	cm_hex_lower(hex, mac, 32);
	if (given.len != 64)
		return (0);
	return (CRYPTO_memcmp(hex, given.p, 64) == 0);
}

enum s3sig_err
s3sig_verify(struct s3sig_verifier *v, const struct s3sig_req *req, time_t now,
    struct s3sig_auth *auth, struct s3sig_body **bodyp)
{
	const struct s3sig_conf *conf;
	const struct s3sig_hdr *h;
	const struct s3sig_cred *cred;
	struct s3sig_v4_fields f;
	struct s3sig_body_init bi;
	struct cm_buf *canon, *sts, *scratch;
	struct cm_slice payload_hash, amz_date;
	unsigned char key[32], mac[32];
	enum s3sig_err e;
	time_t t;
	uint64_t expires = 0;
	int query_form;

	AN(v);
	CM_ASSERT(v->magic == S3SIG_VERIFIER_MAGIC);
	conf = v->conf;
	memset(auth, 0, sizeof *auth);
	memset(&bi, 0, sizeof bi);
	auth->decoded_length = -1;
	*bodyp = NULL;
	canon = &v->canon;
	sts = &v->sts;
	scratch = &v->scratch;
	cm_buf_reset(canon);
	cm_buf_reset(sts);

	h = s3sig_find_hdr(req, "authorization");
	query_form = h == NULL;
	if (h != NULL) {
		struct cm_slice av = cm_slice_trim(h->value);

		if (av.len >= 4 && memcmp(av.p, "AWS ", 4) == 0) {
			e = conf->allow_sigv2 ? s3sig_verify_v2(conf, req, now, auth, 0) :
			    S3SIG_UNSUPPORTED_AUTH;
			goto v2_out;
		}
		auth->kind = S3SIG_KIND_V4_HEADER;
		e = s3sig_parse_authz_v4(av, &f);
		if (e != S3SIG_OK)
			goto out;
	} else {
		struct cm_slice q = req->query, rest = q, part, k;
		int v4 = 0, v2 = 0;

		while (rest.p != NULL && rest.len > 0) {
			rest = cm_slice_cut(rest, '&', &part);
			(void)cm_slice_cut(part, '=', &k);
			if (cm_slice_eq(k, "X-Amz-Algorithm") || cm_slice_eq(k, "X-Amz-Credential"))
				v4 = 1;
			else if (cm_slice_eq(k, "AWSAccessKeyId"))
				v2 = 1;
		}
		if (!v4 && v2) {
			e = conf->allow_sigv2 ? s3sig_verify_v2(conf, req, now, auth, 1) :
			    S3SIG_UNSUPPORTED_AUTH;
			goto v2_out;
		}
		if (!v4) {
			e = S3SIG_ANONYMOUS;
			goto out;
		}
		auth->kind = S3SIG_KIND_V4_QUERY;
		e = s3sig_parse_query_v4(q, scratch, &f);
		if (e != S3SIG_OK)
			goto out;
	}
	s3sig_copy(auth->access_key, sizeof auth->access_key, f.access_key);

	cred = s3sig_find_cred(conf, f.access_key);
	if (cred == NULL) {
		e = S3SIG_UNKNOWN_KEY;
		goto out;
	}
	if (!cm_slice_eq(f.service, conf->service)) {
		e = S3SIG_WRONG_SERVICE;
		goto out;
	}
	if (!region_allowed(conf, f.region)) {
		/* s3cmd and the SDKs retry with the <Region> we answer. */
		snprintf(auth->region, sizeof auth->region, "%s", conf->regions[0]);
		e = S3SIG_WRONG_REGION;
		goto out;
	}
	if (!signed_headers_has(f.signed_headers, "host")) {
		e = S3SIG_HOST_UNSIGNED;
		goto out;
	}

	/* The date, its skew, or the presigned expiry. */
	if (query_form) {
		amz_date = f.amz_date;
	} else {
		h = s3sig_find_hdr(req, "x-amz-date");
		amz_date = h != NULL ? cm_slice_trim(h->value) : cm_slice(NULL, 0);
	}
	if (amz_date.len == 0) {
		/* Every SigV4 client sends x-amz-date (the string to sign
		 * needs the ISO form); a Date header alone is not enough. */
		e = S3SIG_BAD_DATE;
		goto out;
	}
	if (s3sig_parse_amz_date(amz_date, &t) != 0) {
		e = query_form ? S3SIG_QUERY_MALFORMED : S3SIG_BAD_DATE;
		goto out;
	}
	if (memcmp(amz_date.p, f.date.p, 8) != 0) {
		e = S3SIG_CRED_DATE;
		goto out;
	}
	if (query_form) {
		if (cm_parse_u64(f.expires, UINT32_MAX, &expires) != 0 ||
		    expires == 0 || expires > MAX_EXPIRES) {
			e = S3SIG_EXPIRES_RANGE;
			goto out;
		}
		if (t - conf->max_skew > now) {
			e = S3SIG_TIME_SKEWED;	/* signed in the future */
			goto out;
		}
		if (now > t + (time_t)expires) {
			e = S3SIG_EXPIRED;
			goto out;
		}
	} else if (t > now + conf->max_skew || t < now - conf->max_skew) {
		e = S3SIG_TIME_SKEWED;
		goto out;
	}

	e = payload_mode(conf, req, query_form, &bi, &payload_hash);
	if (e != S3SIG_OK)
		goto out;
	auth->payload = bi.payload;

	/* The signature itself. */
	if (s3sig_canon_request(canon, req, f.signed_headers,
	    query_form ? "X-Amz-Signature" : NULL, payload_hash) != 0) {
		e = S3SIG_NOMEM;
		goto out;
	}
	snprintf(bi.scope, sizeof bi.scope, "%.*s/%.*s/%.*s/aws4_request",
	    (int)f.date.len, f.date.p, (int)f.region.len, f.region.p,
	    (int)f.service.len, f.service.p);
	if (s3sig_string_to_sign(sts, S3SIG_ALGO_V4, amz_date, cm_slice_str(bi.scope),
	    cm_buf_slice(canon)) != 0) {
		e = S3SIG_NOMEM;
		goto out;
	}
	s3sig_keycache_get(&v->kc, cred, f.date, f.region, f.service, key);
	s3sig_hmac256(key, 32, sts->p, sts->len, mac);
	if (!sig_equal(f.signature, mac)) {
		auth->detail = "signature mismatch";
		e = S3SIG_SIG_MISMATCH;
		goto out;
	}

	e = body_extras(req, &bi);
	if (e != S3SIG_OK)
		goto out;
	auth->decoded_length = bi.decoded_length;
	memcpy(bi.signing_key, key, 32);
	memcpy(bi.seed_sig, f.signature.p, 64);
	bi.seed_sig[64] = '\0';
	s3sig_copy(bi.amz_date, sizeof bi.amz_date, amz_date);
	e = s3sig_body_new(&bi, bodyp);
	goto out;

v2_out:
	if (e == S3SIG_OK) {
		memset(&bi, 0, sizeof bi);
		bi.payload = S3SIG_PAYLOAD_UNSIGNED;
		e = body_extras(req, &bi);
		if (e == S3SIG_OK)
			e = s3sig_body_new(&bi, bodyp);
	}
out:
	if (auth->detail == NULL && e != S3SIG_OK)
		auth->detail = s3sig_err_name(e);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(&bi, sizeof bi);
	return (e);
}

/* ---- Signing ---- */

/* "host;x-amz-date": every header of req, lower-cased, sorted, unique. */
int
s3sig_signed_headers(const struct s3sig_req *req, struct cm_buf *out)
{
	struct cm_buf names;
	size_t i, j, best, *idx = NULL;
	int rv = -1;
	char prev[128] = "";

	cm_buf_init(&names, 16384);
	idx = calloc(req->nhdrs + 1, sizeof *idx);
	if (idx == NULL)
		goto out;
	/* Lower-case copies, NUL-separated. */
	for (i = 0; i < req->nhdrs; i++) {
		idx[i] = names.len;
		for (j = 0; j < req->hdrs[i].name.len; j++) {
			char c = req->hdrs[i].name.p[j];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (cm_buf_addc(&names, c) != 0)
				goto out;
		}
		if (cm_buf_add(&names, "", 1) != 0)
			goto out;
	}
	/* Selection by repeated minimum: n is small. */
	for (;;) {
		best = req->nhdrs;
		for (i = 0; i < req->nhdrs; i++) {
			const char *n = names.p + idx[i];

			if (strcmp(n, prev) <= 0 && prev[0] != '\0')
				continue;
			if (best == req->nhdrs || strcmp(n, names.p + idx[best]) < 0)
				best = i;
		}
		if (best == req->nhdrs)
			break;
		if (strlen(names.p + idx[best]) >= sizeof prev)
			goto out;
		snprintf(prev, sizeof prev, "%s", names.p + idx[best]);
		if ((out->len > 0 && cm_buf_addc(out, ';') != 0) || cm_buf_adds(out, prev) != 0)
			goto out;
	}
	rv = 0;
out:
	free(idx);
	cm_buf_free(&names);
	return (rv);
}

static int
sign_common(const struct s3sig_signer *s, const struct s3sig_req *req, time_t now,
    struct cm_slice signed_headers, const char *query_skip, struct cm_slice payload_hash,
    char scope[160], char sig[65])
{
	struct cm_buf canon, sts;
	char date[17];
	unsigned char key[32], mac[32];
	int rv = -1;

	cm_buf_init(&canon, S3SIG_MAX_CANON);
	cm_buf_init(&sts, 1024);
	s3sig_amz_date(now, date);
	snprintf(scope, 160, "%.8s/%s/%s/aws4_request", date, s->region, s->service);
	if (s3sig_canon_request(&canon, req, signed_headers, query_skip, payload_hash) != 0 ||
	    s3sig_string_to_sign(&sts, S3SIG_ALGO_V4, cm_slice(date, 16),
	    cm_slice_str(scope), cm_buf_slice(&canon)) != 0)
		goto out;
	s3sig_derive_key("AWS4", s->secret_key, cm_slice(date, 8), cm_slice_str(s->region),
	    cm_slice_str(s->service), "aws4_request", key);
	s3sig_hmac256(key, 32, sts.p, sts.len, mac);
	cm_hex_lower(sig, mac, 32);
	rv = 0;
out:
	OPENSSL_cleanse(key, sizeof key);
	cm_buf_free(&canon);
	cm_buf_free(&sts);
	return (rv);
}

int
s3sig_sign_v4(const struct s3sig_signer *s, const struct s3sig_req *req, time_t now,
    const char *payload_hash, struct cm_buf *authz)
{
	struct cm_buf sh;
	char scope[160], sig[65];
	int rv = -1;

	cm_buf_init(&sh, 8192);
	if (s3sig_signed_headers(req, &sh) != 0 ||
	    sign_common(s, req, now, cm_buf_slice(&sh), NULL, cm_slice_str(payload_hash),
	    scope, sig) != 0)
		goto out;
	rv = cm_buf_addf(authz, "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	    S3SIG_ALGO_V4, s->access_key, scope, sh.p, sig);
out:
	cm_buf_free(&sh);
	return (rv);
}

int
s3sig_presign_v4(const struct s3sig_signer *s, const struct s3sig_req *req, time_t now,
    long expires, struct cm_buf *query_out)
{
	struct cm_buf q;
	struct s3sig_req r = *req;
	char date[17], scope[160], sig[65];
	int rv = -1;

	if (expires <= 0 || expires > MAX_EXPIRES)
		return (-1);
	cm_buf_init(&q, 16384);
	s3sig_amz_date(now, date);
	if (req->query.len > 0 &&
	    (cm_buf_add(&q, req->query.p, req->query.len) != 0 || cm_buf_addc(&q, '&') != 0))
		goto out;
	if (cm_buf_addf(&q, "X-Amz-Algorithm=%s&X-Amz-Credential=", S3SIG_ALGO_V4) != 0 ||
	    s3sig_uri_encode(&q, s->access_key, strlen(s->access_key), 0) != 0 ||
	    cm_buf_addf(&q, "%%2F%.8s%%2F", date) != 0 ||
	    s3sig_uri_encode(&q, s->region, strlen(s->region), 0) != 0 ||
	    cm_buf_addf(&q, "%%2F%s%%2Faws4_request&X-Amz-Date=%s&X-Amz-Expires=%ld"
	    "&X-Amz-SignedHeaders=host", s->service, date, expires) != 0)
		goto out;
	r.query = cm_buf_slice(&q);
	if (sign_common(s, &r, now, CM_SLICE_LIT("host"), NULL,
	    CM_SLICE_LIT(S3SIG_UNSIGNED_PAYLOAD), scope, sig) != 0)
		goto out;
	if (cm_buf_add(query_out, q.p, q.len) != 0 ||
	    cm_buf_addf(query_out, "&X-Amz-Signature=%s", sig) != 0)
		goto out;
	rv = 0;
out:
	cm_buf_free(&q);
	return (rv);
}
