/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_canon.c: the SigV4 canonical request, shared by verification and
 * signing so that the two can never disagree.
 *
 * S3 rules, which differ from the generic SigV4 ones: the path is decoded
 * once and encoded once and never normalised (no folding of ".", ".." or
 * "//"); query keys and values are decoded and re-encoded, sorted by key and
 * then value, and a key without a value is signed as "key="; header values
 * are trimmed with inner runs of white space folded to one space.
 * Any thread; pure functions.
 */
#include "s3sig_priv.h"

static int
unreserved(unsigned char c)
{
	return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~');
}

int
s3sig_uri_encode(struct cm_buf *out, const char *p, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	size_t i, run;

	for (i = 0; i < len; ) {
		for (run = i; run < len && (unreserved((unsigned char)p[run]) ||
		    (keep_slash && p[run] == '/')); run++)
			;
		if (run > i && cm_buf_add(out, p + i, run - i) != 0)
			return (-1);
		i = run;
		if (i == len)
			break;
		esc[0] = '%';
		esc[1] = hex[(unsigned char)p[i] >> 4];
		esc[2] = hex[(unsigned char)p[i] & 0xf];
		if (cm_buf_add(out, esc, 3) != 0)
			return (-1);
		i++;
	}
	return (0);
}

int
s3sig_uri_encode_path(struct cm_buf *out, const char *key)
{
	return (s3sig_uri_encode(out, key, strlen(key), 1));
}

int
s3sig_uri_decode(struct cm_buf *out, const char *p, size_t len, int plus_space)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < len; i++) {
		c = p[i];
		if (c == '%' && i + 2 < len &&
		    (hi = cm_hexval(p[i + 1])) >= 0 && (lo = cm_hexval(p[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (cm_buf_addc(out, c) != 0)
			return (-1);
	}
	return (0);
}

int
s3sig_canon_path(struct cm_buf *out, struct cm_slice path)
{
	struct cm_buf dec;
	int rv;

	if (path.len == 0)
		return (cm_buf_addc(out, '/'));
	cm_buf_init(&dec, out->max);
	rv = s3sig_uri_decode(&dec, path.p, path.len, 0);
	if (rv == 0)
		rv = s3sig_uri_encode(out, dec.p, dec.len, 1);
	cm_buf_free(&dec);
	return (rv);
}

struct qparam {
	size_t	off;	/* into the scratch buffer: "key\0value" encoded */
	size_t	klen;
	size_t	vlen;
};

static int
qparam_cmp(const char *qbase, const struct qparam *x, const struct qparam *y)
{
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(qbase + x->off, qbase + y->off, n);

	if (c != 0)
		return (c);
	if (x->klen != y->klen)
		return (x->klen < y->klen ? -1 : 1);
	n = x->vlen < y->vlen ? x->vlen : y->vlen;
	c = memcmp(qbase + x->off + x->klen, qbase + y->off + y->klen, n);
	if (c != 0)
		return (c);
	return (x->vlen < y->vlen ? -1 : x->vlen > y->vlen);
}

/* Decodes then strictly re-encodes one component into enc. */
static int
reencode(struct cm_buf *enc, struct cm_buf *tmp, struct cm_slice s)
{
	cm_buf_reset(tmp);
	if (s3sig_uri_decode(tmp, s.p, s.len, 1) != 0)
		return (-1);
	return (s3sig_uri_encode(enc, tmp->p, tmp->len, 0));
}

static const char *const presign_params[] = {
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
	"AWSAccessKeyId", "Signature",
};

static int
is_presign_param(struct cm_slice k, int v2)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(presign_params); i++)
		if (cm_slice_eq(k, presign_params[i]))
			return (1);
	/* Expires is SigV2's only in a SigV2 presigned URL. */
	return (v2 && cm_slice_eq(k, "Expires"));
}

static int canon_query(struct cm_buf *out, struct cm_slice query, const char *skip,
    int forward);

int
s3sig_canon_query(struct cm_buf *out, struct cm_slice query, const char *skip)
{
	return (canon_query(out, query, skip, 0));
}

int
s3sig_canon_query_forward(struct cm_buf *out, struct cm_slice query)
{
	return (canon_query(out, query, NULL, 1));
}

int
s3sig_uri_decode_path(struct cm_buf *out, struct cm_slice s)
{
	if (s.len == 0)
		return (cm_buf_add(out, "", 0));
	return (s3sig_uri_decode(out, s.p, s.len, 0));
}

int
s3sig_canon_uri(struct cm_buf *out, struct cm_slice path)
{
	return (s3sig_canon_path(out, path));
}

static int
canon_query(struct cm_buf *out, struct cm_slice query, const char *skip, int forward)
{
	struct qparam params[S3SIG_MAX_QUERY_PARAMS];
	struct cm_buf enc, tmp;
	struct cm_slice rest = query, part, k, v;
	size_t n = 0, i, start;
	int rv = -1, v2 = 0;

	if (forward) {
		/* A SigV2 presigned URL carries AWSAccessKeyId. */
		rest = query;
		while (rest.p != NULL && rest.len > 0) {
			rest = cm_slice_cut(rest, '&', &part);
			(void)cm_slice_cut(part, '=', &k);
			if (cm_slice_eq(k, "AWSAccessKeyId"))
				v2 = 1;
		}
		rest = query;
	}
	cm_buf_init(&enc, out->max);
	cm_buf_init(&tmp, out->max);
	/* Allocate now: offsets into enc.p are taken even when all is empty. */
	if (cm_buf_add(&enc, "", 0) != 0)
		goto out;
	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, '&', &part);
		if (part.len == 0)
			continue;
		v = cm_slice_cut(part, '=', &k);
		if (skip != NULL && cm_slice_eq(k, skip))
			continue;
		if (forward && is_presign_param(k, v2))
			continue;
		if (n == S3SIG_MAX_QUERY_PARAMS)
			goto out;
		start = enc.len;
		if (reencode(&enc, &tmp, k) != 0)
			goto out;
		params[n].off = start;
		params[n].klen = enc.len - start;
		if (reencode(&enc, &tmp, v) != 0)
			goto out;
		params[n].vlen = enc.len - start - params[n].klen;
		n++;
	}
	/* Insertion sort: qsort has no context argument, n is small and
	 * clients send parameters mostly sorted already. */
	for (i = 1; i < n; i++) {
		struct qparam t = params[i];
		size_t j = i;

		while (j > 0 && qparam_cmp(enc.p, &params[j - 1], &t) > 0) {
			params[j] = params[j - 1];
			j--;
		}
		params[j] = t;
	}
	for (i = 0; i < n; i++) {
		if ((i > 0 && cm_buf_addc(out, '&') != 0) ||
		    cm_buf_add(out, enc.p + params[i].off, params[i].klen) != 0 ||
		    cm_buf_addc(out, '=') != 0 ||
		    cm_buf_add(out, enc.p + params[i].off + params[i].klen, params[i].vlen) != 0)
			goto out;
	}
	rv = 0;
out:
	cm_buf_free(&enc);
	cm_buf_free(&tmp);
	return (rv);
}

const struct s3sig_hdr *
s3sig_find_hdr(const struct s3sig_req *req, const char *name)
{
	struct cm_slice n = cm_slice_str(name);
	size_t i;

	for (i = 0; i < req->nhdrs; i++)
		if (cm_slice_eq_nocase(req->hdrs[i].name, n))
			return (&req->hdrs[i]);
	return (NULL);
}

static int
is_ws(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/* Appends v trimmed, with inner runs of white space folded to one space. */
static int
add_folded(struct cm_buf *out, struct cm_slice v)
{
	size_t i = 0, end = v.len;
	int space = 0;

	while (i < end && is_ws(v.p[i]))
		i++;
	while (end > i && is_ws(v.p[end - 1]))
		end--;
	for (; i < end; i++) {
		if (is_ws(v.p[i])) {
			space = 1;
			continue;
		}
		if (space && cm_buf_addc(out, ' ') != 0)
			return (-1);
		space = 0;
		if (cm_buf_addc(out, v.p[i]) != 0)
			return (-1);
	}
	return (0);
}

int
s3sig_canon_headers(struct cm_buf *out, const struct s3sig_req *req,
    struct cm_slice signed_headers)
{
	struct cm_slice rest = signed_headers, name;
	size_t i;
	int first;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ';', &name);
		if (name.len == 0)
			return (-1);
		if (cm_buf_add(out, name.p, name.len) != 0 || cm_buf_addc(out, ':') != 0)
			return (-1);
		first = 1;
		for (i = 0; i < req->nhdrs; i++) {
			if (!cm_slice_eq_nocase(req->hdrs[i].name, name))
				continue;
			if (!first && cm_buf_addc(out, ',') != 0)
				return (-1);
			first = 0;
			if (add_folded(out, req->hdrs[i].value) != 0)
				return (-1);
		}
		if (cm_buf_addc(out, '\n') != 0)
			return (-1);
	}
	return (0);
}

int
s3sig_canon_request(struct cm_buf *out, const struct s3sig_req *req,
    struct cm_slice signed_headers, const char *query_skip,
    struct cm_slice payload_hash)
{
	if (cm_buf_add(out, req->method.p, req->method.len) != 0 ||
	    cm_buf_addc(out, '\n') != 0 ||
	    s3sig_canon_path(out, req->path) != 0 ||
	    cm_buf_addc(out, '\n') != 0 ||
	    s3sig_canon_query(out, req->query, query_skip) != 0 ||
	    cm_buf_addc(out, '\n') != 0 ||
	    s3sig_canon_headers(out, req, signed_headers) != 0 ||
	    cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, signed_headers.p, signed_headers.len) != 0 ||
	    cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, payload_hash.p, payload_hash.len) != 0)
		return (-1);
	return (0);
}

int
s3sig_string_to_sign(struct cm_buf *out, const char *algo, struct cm_slice amz_date,
    struct cm_slice scope, struct cm_slice canon)
{
	char hex[65];

	s3sig_sha256_hex(canon.p, canon.len, hex);
	if (cm_buf_adds(out, algo) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, amz_date.p, amz_date.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_add(out, scope.p, scope.len) != 0 || cm_buf_addc(out, '\n') != 0 ||
	    cm_buf_adds(out, hex) != 0)
		return (-1);
	return (0);
}
