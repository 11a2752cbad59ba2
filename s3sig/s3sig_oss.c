/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_oss.c: signing toward Alibaba OSS origins.
 *
 * V1: "OSS AK:base64(HMAC-SHA1(secret, VERB\nMD5\nType\nDate\nx-oss-*\n
 *     resource))", the SigV2 shape with x-oss- headers.
 * V4: "OSS4-HMAC-SHA256 Credential=AK/date/region/oss/aliyun_v4_request,
 *     Signature=..." over a canonical request that differs from AWS's: the
 *     URI is "/bucket/key" encoded once, query keys without value are signed
 *     bare ("acl", not "acl="), only x-oss-*, content-type and content-md5
 *     are signed by default, and the key is derived from "aliyun_v4"+secret.
 * Any thread; pure functions.
 */
#include <stdio.h>

#include <openssl/crypto.h>

#include "s3sig_priv.h"

int
s3sig_sign_oss_v1(const struct s3sig_signer *s, const struct s3sig_req *req,
    struct cm_slice date, struct cm_slice resource, struct cm_buf *authz)
{
	struct cm_buf sts;
	char sig[32];
	int rv = -1;

	cm_buf_init(&sts, S3SIG_MAX_CANON);
	if (s3sig_v1_string_to_sign(&sts, req, "x-oss-", date, resource) != 0 ||
	    s3sig_hmac_sha1_b64(s->secret_key, cm_buf_slice(&sts), sig) < 0)
		goto out;
	rv = cm_buf_addf(authz, "OSS %s:%s", s->access_key, sig);
out:
	cm_buf_free(&sts);
	return (rv);
}

static int
oss_default_signed(struct cm_slice name)
{
	return ((name.len >= 6 && cm_slice_eq_nocase(cm_slice(name.p, 6), CM_SLICE_LIT("x-oss-"))) ||
	    cm_slice_eq_nocase(name, CM_SLICE_LIT("content-type")) ||
	    cm_slice_eq_nocase(name, CM_SLICE_LIT("content-md5")));
}

/* OSS's query: raw parts sorted by raw key; "k" alone when empty. */
static int
oss_canon_query(struct cm_buf *out, struct cm_slice query)
{
	struct cm_slice parts[S3SIG_MAX_QUERY_PARAMS], rest = query, part, k, v, t;
	size_t n = 0, i, j;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, '&', &part);
		if (part.len == 0)
			continue;
		if (n == S3SIG_MAX_QUERY_PARAMS)
			return (-1);
		parts[n++] = part;
	}
	for (i = 1; i < n; i++) {
		for (j = i; j > 0; j--) {
			struct cm_slice ka, kb;
			size_t m;
			int c;

			(void)cm_slice_cut(parts[j - 1], '=', &ka);
			(void)cm_slice_cut(parts[j], '=', &kb);
			m = ka.len < kb.len ? ka.len : kb.len;
			c = memcmp(ka.p, kb.p, m);
			if (c < 0 || (c == 0 && ka.len <= kb.len))
				break;
			t = parts[j];
			parts[j] = parts[j - 1];
			parts[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++) {
		v = cm_slice_cut(parts[i], '=', &k);
		if ((i > 0 && cm_buf_addc(out, '&') != 0) || cm_buf_add(out, k.p, k.len) != 0)
			return (-1);
		/* Go's url.Values encodes spaces as '+'; OSS signs %20. */
		if (v.len > 0) {
			if (cm_buf_addc(out, '=') != 0)
				return (-1);
			for (j = 0; j < v.len; j++)
				if ((v.p[j] == '+' ? cm_buf_adds(out, "%20") :
				    cm_buf_addc(out, v.p[j])) != 0)
					return (-1);
		}
	}
	return (0);
}

int
s3sig_sign_oss_v4(const struct s3sig_signer *s, const struct s3sig_req *req,
    struct cm_slice bucket, struct cm_slice key, time_t now, struct cm_buf *authz)
{
	struct cm_buf canon, sts, names, uri;
	const struct s3sig_hdr *h;
	char date[17], scope[160], sig[65];
	unsigned char k[32], mac[32];
	size_t i;
	int rv = -1;

	cm_buf_init(&canon, S3SIG_MAX_CANON);
	cm_buf_init(&sts, 1024);
	cm_buf_init(&names, 8192);
	cm_buf_init(&uri, S3SIG_MAX_CANON);
	s3sig_amz_date(now, date);

	/* Default-signed headers, sorted: reuse the SigV4 canonical form by
	 * building their ';' list (names are lower-cased by the canon). */
	{
		struct s3sig_hdr sel[64];
		struct s3sig_req r = *req;
		size_t n = 0;

		for (i = 0; i < req->nhdrs && n < CM_ARRAY_LEN(sel); i++)
			if (oss_default_signed(req->hdrs[i].name))
				sel[n++] = req->hdrs[i];
		r.hdrs = sel;
		r.nhdrs = n;
		if (s3sig_signed_headers(&r, &names) != 0)
			goto out;
		if (cm_buf_adds(&uri, "/") != 0 ||
		    (bucket.len > 0 && (cm_buf_add(&uri, bucket.p, bucket.len) != 0 ||
		    cm_buf_addc(&uri, '/') != 0)) ||
		    cm_buf_add(&uri, key.p, key.len) != 0)
			goto out;
		if (cm_buf_add(&canon, req->method.p, req->method.len) != 0 ||
		    cm_buf_addc(&canon, '\n') != 0 ||
		    s3sig_uri_encode(&canon, uri.p, uri.len, 1) != 0 ||
		    cm_buf_addc(&canon, '\n') != 0 ||
		    oss_canon_query(&canon, req->query) != 0 ||
		    cm_buf_addc(&canon, '\n') != 0 ||
		    s3sig_canon_headers(&canon, &r, cm_buf_slice(&names)) != 0 ||
		    cm_buf_addc(&canon, '\n') != 0 ||	/* AdditionalHeaders: none */
		    cm_buf_addc(&canon, '\n') != 0)
			goto out;
	}
	h = s3sig_find_hdr(req, "x-oss-content-sha256");
	if (h == NULL || cm_buf_add(&canon, cm_slice_trim(h->value).p,
	    cm_slice_trim(h->value).len) != 0)
		goto out;
	snprintf(scope, sizeof scope, "%.8s/%s/%s/aliyun_v4_request", date, s->region,
	    s->service);
	if (s3sig_string_to_sign(&sts, "OSS4-HMAC-SHA256", cm_slice(date, 16),
	    cm_slice_str(scope), cm_buf_slice(&canon)) != 0)
		goto out;
	s3sig_derive_key("aliyun_v4", s->secret_key, cm_slice(date, 8), cm_slice_str(s->region),
	    cm_slice_str(s->service), "aliyun_v4_request", k);
	s3sig_hmac256(k, 32, sts.p, sts.len, mac);
	cm_hex_lower(sig, mac, 32);
	rv = cm_buf_addf(authz, "OSS4-HMAC-SHA256 Credential=%s/%s,Signature=%s",
	    s->access_key, scope, sig);
out:
	OPENSSL_cleanse(k, sizeof k);
	cm_buf_free(&canon);
	cm_buf_free(&sts);
	cm_buf_free(&names);
	cm_buf_free(&uri);
	return (rv);
}
