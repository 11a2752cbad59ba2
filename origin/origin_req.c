/* SPDX-License-Identifier: Apache-2.0 */
/*
 * origin_req.c: what a client's request becomes toward an origin: the URL
 * (the target's scheme and host, the path and query in S3's canonical form,
 * so that what is signed is what is sent), the client's end-to-end headers,
 * and the signature. What differs between S3 and OSS is asked of the
 * target's origin_ops (origin_s3.c, origin_oss.c).
 *
 * Pure functions, any thread; an origin_req belongs to one request.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "origin/origin.h"

const char *
origin_req_keep(struct origin_req *f, const char *p, size_t len)
{
	char *d;

	if (len > sizeof f->store - f->used)
		return (NULL);
	d = f->store + f->used;
	memcpy(d, p, len);
	f->used += len;
	return (d);
}

int
origin_req_add_hdr(struct origin_req *f, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	const char *n = origin_req_keep(f, name, nlen), *v = origin_req_keep(f, value, vlen);

	if (n == NULL || v == NULL || f->n == ORIGIN_MAX_HDRS)
		return (-1);
	f->hdrs[f->n].name = cm_slice(n, nlen);
	f->hdrs[f->n].value = cm_slice(v, vlen);
	f->n++;
	return (0);
}

void
origin_req_init(struct origin_req *f)
{
	f->n = 0;
	f->used = 0;
	cm_buf_init(&f->url, 64 * 1024);
}

void
origin_req_fini(struct origin_req *f)
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

/* Content-Encoding without the aws-chunked token (kept in f's store). */
static struct cm_slice
strip_aws_chunked(struct origin_req *f, struct cm_slice v)
{
	struct cm_slice rest = v, tok;
	const char *start = f->store + f->used;
	size_t len = 0;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ',', &tok);
		tok = cm_slice_trim(tok);
		if (tok.len == 0 || cm_slice_eq_nocase(tok, CM_SLICE_LIT("aws-chunked")))
			continue;
		if ((len > 0 && origin_req_keep(f, ",", 1) == NULL) ||
		    origin_req_keep(f, tok.p, tok.len) == NULL)
			return (cm_slice("", 0));
		len += (len > 0 ? 1 : 0) + tok.len;
	}
	return (cm_slice(start, len));
}

int
origin_req_build(struct origin_req *f, const struct origin_target *t, struct cm_slice method,
    struct cm_slice query, const struct s3sig_hdr *hdrs, size_t nhdrs, struct cm_slice bucket,
    struct cm_slice rawkey, int dechunk, const char *content_md5, time_t now)
{
	const struct origin_ops *ops;
	struct cm_buf path, q, authz, host;
	struct s3sig_req sreq;
	char date[17];
	size_t i, path_at;
	int rv = -1, skip;

	AN(t);
	ops = t->ops;
	AN(ops);

	cm_buf_init(&path, 64 * 1024);
	cm_buf_init(&q, 64 * 1024);
	cm_buf_init(&authz, 4096);
	cm_buf_init(&host, 1024);

	/* Host, then the URL: scheme://host + canonical path + ?query. */
	if (ops->address(&host, &path, t->host, t->prefix, bucket) != 0)
		goto out;
	if (cm_buf_addc(&path, '/') != 0 || cm_buf_add(&path, rawkey.p, rawkey.len) != 0)
		goto out;
	if (ops->bucket_in_path && rawkey.len == 0 && bucket.len > 0)
		path.p[--path.len] = '\0';	/* "/bucket", not "/bucket/" */
	if (cm_buf_addf(&f->url, "%s://%.*s", t->scheme, (int)host.len, host.p) != 0)
		goto out;
	path_at = f->url.len;
	if (s3sig_canon_uri(&f->url, cm_buf_slice(&path)) != 0 ||
	    s3sig_canon_query_forward(&q, query) != 0)
		goto out;
	/* What is signed is the path as sent. */
	cm_buf_reset(&path);
	if (cm_buf_add(&path, f->url.p + path_at, f->url.len - path_at) != 0)
		goto out;
	if (q.len > 0 && (cm_buf_addc(&f->url, '?') != 0 || cm_buf_add(&f->url, q.p, q.len) != 0))
		goto out;

	/* The client's end-to-end headers. */
	for (i = 0; i < nhdrs; i++) {
		struct cm_slice n = hdrs[i].name, v = hdrs[i].value;

		if (drop_toward_origin(n, dechunk))
			continue;
		if (dechunk && cm_slice_eq_nocase(n, CM_SLICE_LIT("content-encoding"))) {
			v = strip_aws_chunked(f, v);
			if (v.len == 0)
				continue;
		}
		skip = ops->header(f, &n);
		if (skip < 0)
			goto out;
		if (skip)
			continue;
		if (f->n == ORIGIN_MAX_HDRS - 8)
			goto out;
		f->hdrs[f->n].name = n;
		f->hdrs[f->n].value = v;
		f->n++;
	}
	s3sig_amz_date(now, date);
	if (origin_req_add_hdr(f, "Host", 4, host.p, host.len) != 0)
		goto out;
	if (content_md5 != NULL &&
	    origin_req_add_hdr(f, "Content-MD5", 11, content_md5, strlen(content_md5)) != 0)
		goto out;
	if (ops->dated(f, date) != 0)
		goto out;

	memset(&sreq, 0, sizeof sreq);
	sreq.method = method;
	sreq.path = cm_buf_slice(&path);
	sreq.query = cm_buf_slice(&q);
	sreq.hdrs = f->hdrs;
	sreq.nhdrs = f->n;
	if (ops->sign(&t->signer, &sreq, bucket, rawkey, now, &authz) != 0)
		goto out;
	if (authz.len > 0 && origin_req_add_hdr(f, "Authorization", 13, authz.p, authz.len) != 0)
		goto out;
	rv = 0;
out:
	cm_buf_free(&path);
	cm_buf_free(&q);
	cm_buf_free(&authz);
	cm_buf_free(&host);
	return (rv);
}
