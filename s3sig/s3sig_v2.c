/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_v2.c: the HMAC-SHA1 signatures of old clients and of OSS V1.
 *
 * SigV2 (header "AWS AK:sig" and presigned "AWSAccessKeyId=&Expires=&
 * Signature=", as `s3cmd signurl` makes) is off unless the configuration
 * allows it. Its string to sign, and OSS V1's, is
 *   VERB\nContent-MD5\nContent-Type\nDate\n<prefixed headers><resource>
 * with headers of the vendor prefix (x-amz- or x-oss-) lower-cased, sorted
 * and joined. Any thread; pure functions.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3sig_priv.h"

/* Sub-resources that SigV2 signs (botocore's list, which AWS documents). */
static const char *const v2_subresources[] = {
	"accelerate", "acl", "analytics", "cors", "delete", "inventory", "lifecycle",
	"location", "logging", "metrics", "notification", "object-lock", "partNumber",
	"policy", "replication", "requestPayment", "response-cache-control",
	"response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires",
	"restore", "select", "select-type", "storageClass", "tagging", "torrent",
	"uploadId", "uploads", "versionId", "versioning", "versions", "website",
};

static int
lower_prefix(struct cm_slice name, const char *prefix)
{
	size_t i, n = strlen(prefix);

	if (name.len < n)
		return (0);
	for (i = 0; i < n; i++) {
		char c = name.p[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != prefix[i])
			return (0);
	}
	return (1);
}

/* Appends the lower-cased name. */
static int
add_lower(struct cm_buf *out, struct cm_slice s)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (cm_buf_addc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c)) != 0)
			return (-1);
	}
	return (0);
}

/* Canonical vendor headers: "name:v1,v2\n" sorted by lower-case name. */
static int
vendor_headers(struct cm_buf *out, const struct s3sig_req *req, const char *prefix)
{
	struct cm_buf names;
	size_t i, done = 0, want = 0, j;
	int rv = -1;
	char last[256] = "";
	int have_last = 0;

	cm_buf_init(&names, 256);
	for (i = 0; i < req->nhdrs; i++)
		if (lower_prefix(req->hdrs[i].name, prefix))
			want++;
	while (done < want) {
		/* Smallest name greater than last. */
		const struct s3sig_hdr *best = NULL;
		char cur[256];

		for (i = 0; i < req->nhdrs; i++) {
			const struct s3sig_hdr *h = &req->hdrs[i];

			if (!lower_prefix(h->name, prefix) || h->name.len >= sizeof cur)
				continue;
			cm_buf_reset(&names);
			if (add_lower(&names, h->name) != 0)
				goto out;
			if (have_last && strcmp(names.p, last) <= 0)
				continue;
			if (best == NULL || strcmp(names.p, cur) < 0) {
				best = h;
				snprintf(cur, sizeof cur, "%s", names.p);
			}
		}
		if (best == NULL)
			break;
		snprintf(last, sizeof last, "%s", cur);
		have_last = 1;
		if (cm_buf_adds(out, cur) != 0 || cm_buf_addc(out, ':') != 0)
			goto out;
		j = 0;
		for (i = 0; i < req->nhdrs; i++) {
			if (!cm_slice_eq_nocase(req->hdrs[i].name, cm_slice_str(cur)))
				continue;
			if ((j++ > 0 && cm_buf_addc(out, ',') != 0) ||
			    cm_buf_add(out, cm_slice_trim(req->hdrs[i].value).p,
			    cm_slice_trim(req->hdrs[i].value).len) != 0)
				goto out;
			done++;
		}
		if (cm_buf_addc(out, '\n') != 0)
			goto out;
	}
	rv = 0;
out:
	cm_buf_free(&names);
	return (rv);
}

static struct cm_slice
hdr_value(const struct s3sig_req *req, const char *name)
{
	const struct s3sig_hdr *h = s3sig_find_hdr(req, name);

	return (h != NULL ? cm_slice_trim(h->value) : cm_slice("", 0));
}

int
s3sig_v1_string_to_sign(struct cm_buf *out, const struct s3sig_req *req,
    const char *prefix, struct cm_slice date, struct cm_slice resource)
{
	struct cm_slice md5 = hdr_value(req, "content-md5");
	struct cm_slice ct = hdr_value(req, "content-type");

	if (cm_buf_add(out, req->method.p, req->method.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, md5.p, md5.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, ct.p, ct.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, date.p, date.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    vendor_headers(out, req, prefix) != 0 ||
	    cm_buf_add(out, resource.p, resource.len) != 0)
		return (-1);
	return (0);
}

int
s3sig_hmac_sha1_b64(const char *secret, struct cm_slice data, char out[32])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)data.p,
	    data.len, mac, &n) == NULL)
		return (-1);
	return (cm_base64_encode(out, 32, mac, n));
}

/* "/bucket/key?acl&versionId=3" from the request as received. */
static int
v2_resource(struct cm_buf *out, const struct s3sig_req *req)
{
	struct cm_slice rest, part, k, v;
	size_t i;
	int first = 1;

	if (req->vhost_bucket.len > 0 &&
	    (cm_buf_addc(out, '/') != 0 ||
	    cm_buf_add(out, req->vhost_bucket.p, req->vhost_bucket.len) != 0))
		return (-1);
	if (cm_buf_add(out, req->path.p, req->path.len) != 0)
		return (-1);
	/* The list is sorted, so walking it in order sorts the output. */
	for (i = 0; i < CM_ARRAY_LEN(v2_subresources); i++) {
		rest = req->query;
		while (rest.p != NULL && rest.len > 0) {
			rest = cm_slice_cut(rest, '&', &part);
			v = cm_slice_cut(part, '=', &k);
			if (!cm_slice_eq(k, v2_subresources[i]))
				continue;
			if (cm_buf_addc(out, first ? '?' : '&') != 0 ||
			    cm_buf_add(out, k.p, k.len) != 0)
				return (-1);
			first = 0;
			if (v.p != NULL && (cm_buf_addc(out, '=') != 0 ||
			    s3sig_uri_decode(out, v.p, v.len, 1) != 0))
				return (-1);
		}
	}
	return (0);
}

enum s3sig_err
s3sig_verify_v2(const struct s3sig_conf *conf, const struct s3sig_req *req, time_t now,
    struct s3sig_auth *auth, int query_form)
{
	const struct s3sig_cred *cred;
	struct cm_buf res, sts, qv;
	struct cm_slice ak, sig, date;
	char mine[32];
	uint64_t exp;
	time_t t;
	enum s3sig_err e;

	cm_buf_init(&res, S3SIG_MAX_CANON);
	cm_buf_init(&sts, S3SIG_MAX_CANON);
	cm_buf_init(&qv, 1024);
	auth->kind = query_form ? S3SIG_KIND_V2_QUERY : S3SIG_KIND_V2_HEADER;
	if (query_form) {
		struct cm_slice rest = req->query, part, k, v, sig_raw = { NULL, 0 };
		size_t sig_off;

		ak = date = cm_slice(NULL, 0);
		while (rest.p != NULL && rest.len > 0) {
			rest = cm_slice_cut(rest, '&', &part);
			v = cm_slice_cut(part, '=', &k);
			if (cm_slice_eq(k, "AWSAccessKeyId"))
				ak = v;
			else if (cm_slice_eq(k, "Expires"))
				date = v;
			else if (cm_slice_eq(k, "Signature"))
				sig_raw = v;
		}
		sig_off = qv.len;
		if (ak.len == 0 || date.len == 0 || sig_raw.len == 0 ||
		    s3sig_uri_decode(&qv, sig_raw.p, sig_raw.len, 0) != 0) {
			e = S3SIG_QUERY_MALFORMED;
			goto out;
		}
		sig = cm_slice(qv.p + sig_off, qv.len - sig_off);
		if (cm_parse_u64(date, INT64_MAX, &exp) != 0) {
			e = S3SIG_QUERY_MALFORMED;
			goto out;
		}
		if ((uint64_t)now > exp) {
			e = S3SIG_EXPIRED;
			goto out;
		}
	} else {
		struct cm_slice av = cm_slice_trim(s3sig_find_hdr(req, "authorization")->value);

		av = cm_slice(av.p + 4, av.len - 4);
		sig = cm_slice_cut(av, ':', &ak);
		if (sig.p == NULL || ak.len == 0 || sig.len == 0) {
			e = S3SIG_AUTH_MALFORMED;
			goto out;
		}
		if (s3sig_find_hdr(req, "x-amz-date") != NULL) {
			struct cm_slice xd = hdr_value(req, "x-amz-date");

			if (s3sig_parse_http_date(xd, &t) != 0) {
				e = S3SIG_BAD_DATE;
				goto out;
			}
			date = cm_slice("", 0);
		} else {
			date = hdr_value(req, "date");
			if (s3sig_parse_http_date(date, &t) != 0) {
				e = S3SIG_BAD_DATE;
				goto out;
			}
		}
		if (t > now + conf->max_skew || t < now - conf->max_skew) {
			e = S3SIG_TIME_SKEWED;
			goto out;
		}
	}
	s3sig_copy(auth->access_key, sizeof auth->access_key, ak);
	cred = s3sig_find_cred(conf, ak);
	if (cred == NULL) {
		e = S3SIG_UNKNOWN_KEY;
		goto out;
	}
	if (v2_resource(&res, req) != 0 ||
	    s3sig_v1_string_to_sign(&sts, req, "x-amz-", date, cm_buf_slice(&res)) != 0 ||
	    s3sig_hmac_sha1_b64(cred->secret_key, cm_buf_slice(&sts), mine) < 0) {
		e = S3SIG_NOMEM;
		goto out;
	}
	if (sig.len != strlen(mine) || CRYPTO_memcmp(sig.p, mine, sig.len) != 0) {
		e = S3SIG_SIG_MISMATCH;
		goto out;
	}
	e = S3SIG_OK;
out:
	cm_buf_free(&res);
	cm_buf_free(&sts);
	cm_buf_free(&qv);
	return (e);
}
