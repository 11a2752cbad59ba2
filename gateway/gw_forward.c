/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_forward.c: what a client's request becomes toward the origin.
 *
 * S3 origins: path-style URL (origin prefix + "/bucket/key"), the path and
 * query in S3's canonical form (so that what is signed is what is sent),
 * the client's end-to-end headers, and a SigV4 signature with the origin's
 * key over UNSIGNED-PAYLOAD (bodies stream; the client's body was checked).
 *
 * OSS origins: always virtual-hosted (bucket.endpoint), x-amz-* headers
 * carried as their x-oss-* counterparts, x-oss-range-behavior: standard so
 * that ranges past the end are answered as S3 answers them, Content-MD5 on
 * DeleteObjects (OSS requires it, current SDKs send a CRC instead), and an
 * OSS4-HMAC-SHA256 signature. Responses come back with x-oss-meta-* and
 * x-oss-request-id renamed to their x-amz-* names.
 *
 * Any thread; a gw_fwd belongs to one request.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_forward.h"

/* Stores bytes that must live as long as the request; NULL when full. */
static const char *
keep(struct gw_fwd *f, const char *p, size_t len)
{
	char *d;

	if (len > sizeof f->store - f->used)
		return (NULL);
	d = f->store + f->used;
	memcpy(d, p, len);
	f->used += len;
	return (d);
}

static int
add_hdr(struct gw_fwd *f, const char *name, size_t nlen, const char *value, size_t vlen)
{
	const char *n = keep(f, name, nlen), *v = keep(f, value, vlen);

	if (n == NULL || v == NULL || f->n == GW_FWD_MAX_HDRS)
		return (-1);
	f->hdrs[f->n].name = cm_slice(n, nlen);
	f->hdrs[f->n].value = cm_slice(v, vlen);
	f->n++;
	return (0);
}

void
gw_fwd_init(struct gw_fwd *f)
{
	f->n = 0;
	f->used = 0;
	cm_buf_init(&f->url, 64 * 1024);
}

void
gw_fwd_fini(struct gw_fwd *f)
{
	cm_buf_free(&f->url);
	f->n = 0;
}

static int
drop_toward_origin(struct cm_slice n, int dechunk)
{
	static const char *const names[] = {
		"host", "authorization", "x-amz-date", "x-amz-content-sha256",
		"x-amz-security-token", "connection", "keep-alive", "proxy-connection",
		"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
		"expect", "content-length", "date",
	};
	/* Framing of aws-chunked bodies, gone once de-chunked. */
	static const char *const chunk_names[] = {
		"x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm",
	};
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(names); i++)
		if (cm_slice_eq_nocase(n, cm_slice_str(names[i])))
			return (1);
	if (dechunk)
		for (i = 0; i < CM_ARRAY_LEN(chunk_names); i++)
			if (cm_slice_eq_nocase(n, cm_slice_str(chunk_names[i])))
				return (1);
	return (0);
}

/* x-amz-* names that OSS knows under another x-oss-* name, and those it
 * has no counterpart for (dropped). Others become x-oss-<rest>. */
static const struct {
	const char	*amz;
	const char	*oss;	/* NULL: dropped */
} oss_names[] = {
	{ "x-amz-acl", "x-oss-object-acl" },
	{ "x-amz-checksum-crc32", NULL }, { "x-amz-checksum-crc32c", NULL },
	{ "x-amz-checksum-crc64nvme", NULL }, { "x-amz-checksum-sha1", NULL },
	{ "x-amz-checksum-sha256", NULL }, { "x-amz-sdk-checksum-algorithm", NULL },
	{ "x-amz-expected-bucket-owner", NULL }, { "x-amz-checksum-mode", NULL },
	{ "x-amz-request-payer", NULL }, { "x-amz-user-agent", NULL },
};

/* Appends the OSS name for an x-amz-* header to f's store. */
static int
oss_name(struct gw_fwd *f, struct cm_slice n, struct cm_slice *out)
{
	size_t i;
	const char *p;

	for (i = 0; i < CM_ARRAY_LEN(oss_names); i++) {
		if (!cm_slice_eq_nocase(n, cm_slice_str(oss_names[i].amz)))
			continue;
		if (oss_names[i].oss == NULL)
			return (1);
		*out = cm_slice_str(oss_names[i].oss);
		return (0);
	}
	p = keep(f, "x-oss-", 6);
	if (p == NULL || keep(f, n.p + 6, n.len - 6) == NULL)
		return (-1);
	*out = cm_slice(p, n.len);
	return (0);
}

/* Content-Encoding without the aws-chunked token (kept in f's store). */
static struct cm_slice
strip_aws_chunked(struct gw_fwd *f, struct cm_slice v)
{
	struct cm_slice rest = v, tok;
	const char *start = f->store + f->used;
	size_t len = 0;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ',', &tok);
		tok = cm_slice_trim(tok);
		if (tok.len == 0 || cm_slice_eq_nocase(tok, CM_SLICE_LIT("aws-chunked")))
			continue;
		if ((len > 0 && keep(f, ",", 1) == NULL) || keep(f, tok.p, tok.len) == NULL)
			return (cm_slice("", 0));
		len += (len > 0 ? 1 : 0) + tok.len;
	}
	return (cm_slice(start, len));
}

int
gw_fwd_build(struct gw_fwd *f, const struct gw_conf *gc, const struct gw_target *t,
    const struct http_req *r, struct cm_slice bucket, struct cm_slice rawkey, int dechunk, const char *content_md5,
    time_t now)
{
	struct cm_buf path, q, authz, host, key;
	struct s3sig_req sreq;
	char date[17];
	size_t i, path_at;
	int rv = -1, oss, skip;

	if (t == NULL)
		t = &gc->origin;
	oss = t->oss;

	cm_buf_init(&path, 64 * 1024);
	cm_buf_init(&q, 64 * 1024);
	cm_buf_init(&authz, 4096);
	cm_buf_init(&host, 1024);
	cm_buf_init(&key, 64 * 1024);

	/* Host, then the URL: scheme://host + canonical path + ?query. */
	if (oss && bucket.len > 0 && (cm_buf_add(&host, bucket.p, bucket.len) != 0 ||
	    cm_buf_addc(&host, '.') != 0))
		goto out;
	if (cm_buf_adds(&host, t->host) != 0)
		goto out;
	if (cm_buf_adds(&path, t->prefix) != 0)
		goto out;
	if (!oss && bucket.len > 0 && (cm_buf_addc(&path, '/') != 0 ||
	    cm_buf_add(&path, bucket.p, bucket.len) != 0))
		goto out;
	if (cm_buf_addc(&path, '/') != 0 || cm_buf_add(&path, rawkey.p, rawkey.len) != 0)
		goto out;
	if (!oss && rawkey.len == 0 && bucket.len > 0)
		path.p[--path.len] = '\0';	/* "/bucket", not "/bucket/" */
	if (cm_buf_addf(&f->url, "%s://%.*s", t->scheme, (int)host.len, host.p) != 0)
		goto out;
	path_at = f->url.len;
	if (s3sig_canon_uri(&f->url, cm_buf_slice(&path)) != 0 ||
	    s3sig_canon_query_forward(&q, r->query) != 0)
		goto out;
	/* What is signed is the path as sent. */
	cm_buf_reset(&path);
	if (cm_buf_add(&path, f->url.p + path_at, f->url.len - path_at) != 0)
		goto out;
	if (q.len > 0 && (cm_buf_addc(&f->url, '?') != 0 || cm_buf_add(&f->url, q.p, q.len) != 0))
		goto out;

	/* The client's end-to-end headers. */
	for (i = 0; i < r->nhdrs; i++) {
		struct cm_slice n = r->hdrs[i].name, v = r->hdrs[i].value;

		if (drop_toward_origin(n, dechunk))
			continue;
		if (dechunk && cm_slice_eq_nocase(n, CM_SLICE_LIT("content-encoding"))) {
			v = strip_aws_chunked(f, v);
			if (v.len == 0)
				continue;
		}
		if (oss && n.len > 6 && cm_slice_eq_nocase(cm_slice(n.p, 6), CM_SLICE_LIT("x-amz-"))) {
			skip = oss_name(f, n, &n);
			if (skip < 0)
				goto out;
			if (skip)
				continue;
		}
		if (f->n == GW_FWD_MAX_HDRS - 8)
			goto out;
		f->hdrs[f->n].name = n;
		f->hdrs[f->n].value = v;
		f->n++;
	}
	s3sig_amz_date(now, date);
	if (add_hdr(f, "Host", 4, host.p, host.len) != 0)
		goto out;
	if (content_md5 != NULL &&
	    add_hdr(f, "Content-MD5", 11, content_md5, strlen(content_md5)) != 0)
		goto out;
	if (oss) {
		if (add_hdr(f, "x-oss-date", 10, date, 16) != 0 ||
		    add_hdr(f, "x-oss-content-sha256", 20, S3SIG_UNSIGNED_PAYLOAD, 16) != 0 ||
		    add_hdr(f, "x-oss-range-behavior", 20, "standard", 8) != 0)
			goto out;
	} else if (add_hdr(f, "x-amz-date", 10, date, 16) != 0 ||
	    add_hdr(f, "x-amz-content-sha256", 20, S3SIG_UNSIGNED_PAYLOAD, 16) != 0) {
		goto out;
	}

	memset(&sreq, 0, sizeof sreq);
	sreq.method = r->method;
	sreq.path = cm_buf_slice(&path);
	sreq.query = cm_buf_slice(&q);
	sreq.hdrs = f->hdrs;
	sreq.nhdrs = f->n;
	if (oss) {
		struct s3sig_signer s = t->signer;

		s.service = "oss";
		if (s3sig_uri_decode_path(&key, rawkey) != 0 ||
		    s3sig_sign_oss_v4(&s, &sreq, bucket, cm_buf_slice(&key), now, &authz) != 0)
			goto out;
	} else if (s3sig_sign_v4(&t->signer, &sreq, now, S3SIG_UNSIGNED_PAYLOAD,
	    &authz) != 0) {
		goto out;
	}
	if (add_hdr(f, "Authorization", 13, authz.p, authz.len) != 0)
		goto out;
	rv = 0;
out:
	cm_buf_free(&path);
	cm_buf_free(&q);
	cm_buf_free(&authz);
	cm_buf_free(&host);
	cm_buf_free(&key);
	return (rv);
}

struct cm_slice
gw_fwd_resp_name(const struct gw_conf *gc, struct cm_slice name, char *buf, size_t buflen)
{
	if (!gc->origin.oss || name.len < 6 ||
	    !cm_slice_eq_nocase(cm_slice(name.p, 6), CM_SLICE_LIT("x-oss-")))
		return (name);
	if (cm_slice_eq_nocase(name, CM_SLICE_LIT("x-oss-request-id")))
		return (CM_SLICE_LIT("x-amz-request-id"));
	if (name.len > 11 && cm_slice_eq_nocase(cm_slice(name.p, 11), CM_SLICE_LIT("x-oss-meta-")) &&
	    name.len < buflen) {
		memcpy(buf, "x-amz-meta-", 11);
		memcpy(buf + 11, name.p + 11, name.len - 11);
		return (cm_slice(buf, name.len));
	}
	return (name);
}
