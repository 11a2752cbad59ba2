/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_parse.c: parsers of untrusted SigV4 fields: the Authorization
 * header, the presigned query parameters and the dates. Each has a fuzz
 * target in tests/fuzz. They never allocate except into the scratch
 * buffer they are given, which carries its own maximum.
 * Any thread; pure functions.
 */

#include <time.h>

#include "s3sig_priv.h"

/* Credential=AK/DATE/REGION/SERVICE/aws4_request */
static enum s3sig_err
parse_credential(struct cm_slice c, struct s3sig_v4_fields *f, enum s3sig_err bad)
{
	struct cm_slice term;

	/* The access key may not contain '/', the rest may not either. */
	c = cm_slice_cut(c, '/', &f->access_key);
	if (c.p == NULL)
		return (bad);
	c = cm_slice_cut(c, '/', &f->date);
	if (c.p == NULL)
		return (bad);
	c = cm_slice_cut(c, '/', &f->region);
	if (c.p == NULL)
		return (bad);
	c = cm_slice_cut(c, '/', &f->service);
	if (c.p == NULL)
		return (bad);
	term = c;
	if (!cm_slice_eq(term, "aws4_request") || f->access_key.len == 0 ||
	    f->access_key.len > 128 || f->date.len != 8 || f->region.len == 0 ||
	    f->region.len > 63 || f->service.len == 0 || f->service.len > 32)
		return (bad);
	return (S3SIG_OK);
}

static int
is_hex64(struct cm_slice s)
{
	size_t i;

	if (s.len != 64)
		return (0);
	for (i = 0; i < 64; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return (0);
	return (1);
}

static int
valid_signed_headers(struct cm_slice s)
{
	size_t i;

	if (s.len == 0 || s.p[0] == ';' || s.p[s.len - 1] == ';')
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (c >= 'A' && c <= 'Z')
			return (0);
		if (c <= ' ' || c == ',' || c == ':' || (unsigned char)c >= 0x7f)
			return (0);
		if (c == ';' && s.p[i + 1] == ';')
			return (0);
	}
	return (1);
}

enum s3sig_err
s3sig_parse_authz_v4(struct cm_slice value, struct s3sig_v4_fields *f)
{
	struct cm_slice rest, part, k, v;
	int have_cred = 0, have_sh = 0, have_sig = 0;
	enum s3sig_err e;

	memset(f, 0, sizeof *f);
	rest = cm_slice_cut(value, ' ', &k);
	if (rest.p == NULL || !cm_slice_eq(k, S3SIG_ALGO_V4))
		return (S3SIG_UNSUPPORTED_AUTH);
	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ',', &part);
		part = cm_slice_trim(part);
		if (part.len == 0)
			continue;
		v = cm_slice_cut(part, '=', &k);
		if (v.p == NULL)
			return (S3SIG_AUTH_MALFORMED);
		if (cm_slice_eq(k, "Credential") && !have_cred) {
			e = parse_credential(v, f, S3SIG_AUTH_MALFORMED);
			if (e != S3SIG_OK)
				return (e);
			have_cred = 1;
		} else if (cm_slice_eq(k, "SignedHeaders") && !have_sh) {
			f->signed_headers = v;
			have_sh = 1;
		} else if (cm_slice_eq(k, "Signature") && !have_sig) {
			f->signature = v;
			have_sig = 1;
		} else {
			return (S3SIG_AUTH_MALFORMED);
		}
	}
	if (!have_cred || !have_sh || !have_sig ||
	    !valid_signed_headers(f->signed_headers) || !is_hex64(f->signature))
		return (S3SIG_AUTH_MALFORMED);
	return (S3SIG_OK);
}

enum s3sig_err
s3sig_parse_query_v4(struct cm_slice query, struct cm_buf *scratch,
    struct s3sig_v4_fields *f)
{
	static const char *const names[] = {
		"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
		"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token",
	};
	struct { size_t off, len; int set; } got[CM_ARRAY_LEN(names)];
	struct cm_slice rest = query, part, k, v, vals[CM_ARRAY_LEN(names)];
	size_t i;
	enum s3sig_err e;

	memset(f, 0, sizeof *f);
	memset(got, 0, sizeof got);
	cm_buf_reset(scratch);
	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, '&', &part);
		v = cm_slice_cut(part, '=', &k);
		for (i = 0; i < CM_ARRAY_LEN(names); i++) {
			if (!cm_slice_eq(k, names[i]))
				continue;
			if (got[i].set)
				return (S3SIG_QUERY_MALFORMED);
			got[i].set = 1;
			got[i].off = scratch->len;
			if (s3sig_uri_decode(scratch, v.p, v.len, 1) != 0)
				return (S3SIG_QUERY_MALFORMED);
			got[i].len = scratch->len - got[i].off;
		}
	}
	/* The scratch buffer may have moved while growing: slice it now. */
	for (i = 0; i < CM_ARRAY_LEN(names); i++) {
		if (!got[i].set && i < 6)
			return (S3SIG_QUERY_MALFORMED);
		vals[i] = got[i].set && got[i].len > 0 ?
		    cm_slice(scratch->p + got[i].off, got[i].len) : cm_slice("", 0);
	}
	if (!cm_slice_eq(vals[0], S3SIG_ALGO_V4))
		return (S3SIG_UNSUPPORTED_AUTH);
	e = parse_credential(vals[1], f, S3SIG_QUERY_MALFORMED);
	if (e != S3SIG_OK)
		return (e);
	f->amz_date = vals[2];
	f->expires = vals[3];
	f->signed_headers = vals[4];
	f->signature = vals[5];
	f->token = vals[6];
	if (!valid_signed_headers(f->signed_headers) || !is_hex64(f->signature))
		return (S3SIG_QUERY_MALFORMED);
	return (S3SIG_OK);
}

int
s3sig_parse_amz_date(struct cm_slice s, time_t *out)
{
	struct tm tm;
	int v[6], i, j, pos = 0;
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };

	if (s.len != 16 || s.p[8] != 'T' || s.p[15] != 'Z')
		return (-1);
	for (i = 0; i < 6; i++) {
		if (i == 3)
			pos++;	/* the 'T' */
		v[i] = 0;
		for (j = 0; j < width[i]; j++, pos++) {
			if (s.p[pos] < '0' || s.p[pos] > '9')
				return (-1);
			v[i] = v[i] * 10 + (s.p[pos] - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60 || v[0] < 1970)
		return (-1);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = timegm(&tm);
	return (0);
}

/* RFC 1123 dates, "Fri, 24 May 2013 00:00:00 GMT", as SigV2 clients send. */
int
s3sig_parse_http_date(struct cm_slice s, time_t *out)
{
	char tmp[64];
	struct tm tm;
	const char *end;

	if (s.len == 0 || s.len >= sizeof tmp)
		return (-1);
	memcpy(tmp, s.p, s.len);
	tmp[s.len] = '\0';
	memset(&tm, 0, sizeof tm);
	end = strptime(tmp, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof tm);
		end = strptime(tmp, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	}
	if (end == NULL || *end != '\0')
		return (-1);
	*out = timegm(&tm);
	return (0);
}

void
s3sig_amz_date(time_t now, char out[17])
{
	struct tm tm;

	AN(gmtime_r(&now, &tm));
	AN(strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm));
}
