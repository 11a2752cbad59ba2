/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_s3sig_suite.c: the AWS SigV4 test suite (../shared/testdata/aws-sigv4,
 * from awslabs/aws-c-auth) against s3sig, header and query forms:
 *   - the canonical request, string to sign and signature, from request.txt
 *     and the signed-header list the suite's signer chose;
 *   - s3sig_sign_v4 reproduces the suite's Authorization where it signed
 *     every header;
 *   - s3sig_verify accepts header-signed-request.txt and
 *     query-signed-request.txt at the suite's time and refuses each with one
 *     byte of its signature changed.
 * The suite is for a generic service. Cases that rely on path normalisation
 * (which S3 never does) cannot apply; they are listed below and the test
 * checks that S3's rule gives the unnormalised answer for them instead.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "s3sig/s3sig_priv.h"
#include "tests/unit/testreq.h"

static const char *const normalised_only[] = {
	"get-relative-normalized", "get-relative-relative-normalized",
	"get-slash-dot-slash-normalized", "get-slash-normalized",
	"get-slash-pointless-dot-normalized", "get-slashes-normalized",
};

/* The session token added to the query after signing: S3 signs every
 * query parameter but X-Amz-Signature, so such a URL is refused there. */
static const char *const query_not_s3[] = { "post-sts-header-after" };

static int
is_query_not_s3(const char *name)
{
	return (strcmp(name, query_not_s3[0]) == 0);
}

struct ctx {
	char	ak[64], sk[128], token[1024], region[64], service[64], ts[32];
	int	normalize, sign_body;
	long	expires;
};

/* Minimal reader for the suite's flat JSON: "key": "value" or number/bool. */
static int
json_get(const char *js, const char *key, char *out, size_t max)
{
	char pat[80];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\"%s\"", key);
	p = strstr(js, pat);
	if (p == NULL)
		return (-1);
	p = strchr(p + strlen(pat), ':');
	if (p == NULL)
		return (-1);
	p++;
	while (*p == ' ')
		p++;
	if (*p == '"') {
		p++;
		e = strchr(p, '"');
	} else {
		e = p + strcspn(p, ",\n}");
	}
	if (e == NULL || (size_t)(e - p) >= max)
		return (-1);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return (0);
}

static char *
case_file(const char *name, const char *file, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof path, "%s/aws-sigv4/%s/%s", TESTDATA_DIR, name, file);
	return (testreq_slurp(path, len));
}

static void
load_ctx(const char *name, struct ctx *c)
{
	size_t len;
	char *js = case_file(name, "context.json", &len), b[32];

	ck_assert_ptr_nonnull(js);
	memset(c, 0, sizeof *c);
	ck_assert_int_eq(json_get(js, "access_key_id", c->ak, sizeof c->ak), 0);
	ck_assert_int_eq(json_get(js, "secret_access_key", c->sk, sizeof c->sk), 0);
	(void)json_get(js, "token", c->token, sizeof c->token);
	ck_assert_int_eq(json_get(js, "region", c->region, sizeof c->region), 0);
	ck_assert_int_eq(json_get(js, "service", c->service, sizeof c->service), 0);
	ck_assert_int_eq(json_get(js, "timestamp", c->ts, sizeof c->ts), 0);
	ck_assert_int_eq(json_get(js, "normalize", b, sizeof b), 0);
	c->normalize = strcmp(b, "true") == 0;
	ck_assert_int_eq(json_get(js, "sign_body", b, sizeof b), 0);
	c->sign_body = strcmp(b, "true") == 0;
	ck_assert_int_eq(json_get(js, "expiration_in_seconds", b, sizeof b), 0);
	c->expires = atol(b);
	free(js);
}

static time_t
ctx_time(const struct ctx *c)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	ck_assert_ptr_nonnull(strptime(c->ts, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return (timegm(&tm));
}

static int
is_normalised_only(const char *name)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(normalised_only); i++)
		if (strcmp(name, normalised_only[i]) == 0)
			return (1);
	return (0);
}

/* Strips the trailing newline some expected files carry. */
static struct cm_slice
expected(const char *name, const char *file, char **own)
{
	size_t len = 0;

	*own = case_file(name, file, &len);
	ck_assert_msg(*own != NULL, "%s/%s missing", name, file);
	while (len > 0 && ((*own)[len - 1] == '\n' || (*own)[len - 1] == '\r'))
		len--;
	return (cm_slice(*own, len));
}

static void
assert_eq_slice(struct cm_slice got, struct cm_slice want, const char *what, const char *name)
{
	ck_assert_msg(got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
	    "%s: %s differs\n--- got\n%.*s\n--- want\n%.*s", name, what,
	    (int)got.len, got.p, (int)want.len, want.p);
}

/* The SignedHeaders value of a signed request (header or query form). */
static struct cm_slice
signed_list(const struct testreq *t)
{
	const struct s3sig_hdr *h = s3sig_find_hdr(&t->req, "authorization");
	struct s3sig_v4_fields f;
	static struct cm_buf scratch;

	if (h != NULL) {
		ck_assert_int_eq(s3sig_parse_authz_v4(cm_slice_trim(h->value), &f), S3SIG_OK);
		return (f.signed_headers);
	}
	cm_buf_free(&scratch);
	cm_buf_init(&scratch, 8192);
	ck_assert_int_eq(s3sig_parse_query_v4(t->req.query, &scratch, &f), S3SIG_OK);
	return (f.signed_headers);
}

static void
check_signing(const char *name, const struct ctx *c, int query_form)
{
	struct testreq raw, signed_req;
	struct cm_buf canon, sts, authz;
	char *want_canon_own, *want_sts_own, *want_sig_own, *req_text, *sreq_text;
	char body_hash[65], amz_date[17], scope[160], sig[65];
	struct cm_slice want_canon, want_sts, want_sig, sh, date;
	unsigned char key[32], mac[32];
	size_t len;
	time_t now = ctx_time(c);
	const char *pfx = query_form ? "query" : "header";
	char fn[64];

	req_text = case_file(name, "request.txt", &len);
	ck_assert_int_eq(testreq_parse(&raw, req_text, len), 0);
	snprintf(fn, sizeof fn, "%s-signed-request.txt", pfx);
	sreq_text = case_file(name, fn, &len);
	ck_assert_int_eq(testreq_parse(&signed_req, sreq_text, len), 0);
	s3sig_sha256_hex(raw.body.p, raw.body.len, body_hash);
	s3sig_amz_date(now, amz_date);
	date = cm_slice(amz_date, 16);
	sh = signed_list(&signed_req);

	/* The request as signed: the signer's headers (header form) or the
	 * X-Amz-* query without the signature (query form). */
	cm_buf_init(&canon, S3SIG_MAX_CANON);
	cm_buf_init(&sts, 4096);
	cm_buf_init(&authz, 4096);
	ck_assert_int_eq(s3sig_canon_request(&canon, &signed_req.req, sh,
	    query_form ? "X-Amz-Signature" : NULL, cm_slice_str(body_hash)), 0);

	snprintf(fn, sizeof fn, "%s-canonical-request.txt", pfx);
	want_canon = expected(name, fn, &want_canon_own);
	snprintf(fn, sizeof fn, "%s-string-to-sign.txt", pfx);
	want_sts = expected(name, fn, &want_sts_own);
	snprintf(fn, sizeof fn, "%s-signature.txt", pfx);
	want_sig = expected(name, fn, &want_sig_own);

	if (query_form && is_query_not_s3(name))
		goto out;
	if (c->normalize && is_normalised_only(name)) {
		/* S3 keeps the path as sent: the canonical URI must be the
		 * raw path, not the suite's normalised one. */
		struct cm_buf p;

		cm_buf_init(&p, 4096);
		ck_assert_int_eq(s3sig_canon_path(&p, raw.req.path), 0);
		ck_assert_msg(memcmp(canon.p + raw.req.method.len + 1, p.p, p.len) == 0,
		    "%s: S3 canonical URI should be the unnormalised path", name);
		ck_assert_msg(!(canon.len == want_canon.len &&
		    memcmp(canon.p, want_canon.p, canon.len) == 0),
		    "%s: listed as normalisation-only but matches", name);
		cm_buf_free(&p);
		goto out;
	}
	assert_eq_slice(cm_buf_slice(&canon), want_canon, "canonical request", name);

	snprintf(scope, sizeof scope, "%.8s/%s/%s/aws4_request", amz_date, c->region, c->service);
	ck_assert_int_eq(s3sig_string_to_sign(&sts, S3SIG_ALGO_V4, date, cm_slice_str(scope),
	    cm_buf_slice(&canon)), 0);
	assert_eq_slice(cm_buf_slice(&sts), want_sts, "string to sign", name);
	s3sig_derive_key("AWS4", c->sk, cm_slice(amz_date, 8), cm_slice_str(c->region),
	    cm_slice_str(c->service), "aws4_request", key);
	s3sig_hmac256(key, 32, sts.p, sts.len, mac);
	cm_hex_lower(sig, mac, 32);
	assert_eq_slice(cm_slice_str(sig), want_sig, "signature", name);

	/* s3sig_sign_v4 signs every header it is given: where the suite did
	 * too, the Authorization values must be identical. */
	if (!query_form) {
		struct testreq r2;
		const struct s3sig_hdr *want_auth;
		struct cm_buf all;
		struct s3sig_signer s = { c->ak, c->sk, c->region, c->service };
		size_t i, k = 0;

		ck_assert_int_eq(testreq_parse(&r2, sreq_text, strlen(sreq_text)), 0);
		want_auth = s3sig_find_hdr(&signed_req.req, "authorization");
		for (i = 0; i < r2.req.nhdrs; i++)
			if (!cm_slice_eq_nocase(r2.hdrs[i].name, CM_SLICE_LIT("authorization")))
				r2.hdrs[k++] = r2.hdrs[i];
		r2.req.nhdrs = k;
		cm_buf_init(&all, 4096);
		ck_assert_int_eq(s3sig_signed_headers(&r2.req, &all), 0);
		if (cm_slice_eq(sh, all.p)) {
			ck_assert_int_eq(s3sig_sign_v4(&s, &r2.req, now, body_hash, &authz), 0);
			assert_eq_slice(cm_buf_slice(&authz), cm_slice_trim(want_auth->value),
			    "Authorization from s3sig_sign_v4", name);
		}
		cm_buf_free(&all);
		testreq_free(&r2);
	}
out:
	free(want_canon_own);
	free(want_sts_own);
	free(want_sig_own);
	free(req_text);
	free(sreq_text);
	cm_buf_free(&canon);
	cm_buf_free(&sts);
	cm_buf_free(&authz);
	testreq_free(&raw);
	testreq_free(&signed_req);
}

static int
sink_count(void *arg, const char *p, size_t len)
{
	(void)p;
	*(size_t *)arg += len;
	return (0);
}

static void
check_verify(const char *name, const struct ctx *c, int query_form)
{
	struct s3sig_cred cred = { c->ak, c->sk };
	const char *regions[] = { c->region };
	struct s3sig_conf conf = { &cred, 1, regions, 1, c->service, 0, 900 };
	struct s3sig_verifier *v = s3sig_verifier_new(&conf);
	struct s3sig_auth auth;
	struct s3sig_body *body = NULL;
	struct testreq t;
	char *text, fn[64];
	size_t len, got = 0;
	time_t now = ctx_time(c);
	char *sigp;
	enum s3sig_err e;

	ck_assert_ptr_nonnull(v);
	if (c->normalize && is_normalised_only(name))
		goto out0;
	/* Generic SigV4 presigned URLs sign the body hash; S3's never do, so
	 * a signed body in query form is not an S3 case. */
	if (query_form && (c->sign_body || is_query_not_s3(name)))
		goto out0;
	snprintf(fn, sizeof fn, "%s-signed-request.txt", query_form ? "query" : "header");
	text = case_file(name, fn, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(testreq_parse(&t, text, len), 0);
	e = s3sig_verify(v, &t.req, now, &auth, &body);
	ck_assert_msg(e == S3SIG_OK, "%s %s: verify: %s", name, fn, s3sig_err_name(e));
	ck_assert_int_eq(s3sig_body_feed(body, t.body.p, t.body.len, sink_count, &got), S3SIG_OK);
	ck_assert_int_eq(s3sig_body_finish(body), S3SIG_OK);
	ck_assert_uint_eq(got, t.body.len);
	s3sig_body_free(&body);

	/* One byte of the signature changed: refused. */
	if (query_form) {
		sigp = memmem(t.req.query.p, t.req.query.len, "X-Amz-Signature=", 16);
	} else {
		const struct s3sig_hdr *h = s3sig_find_hdr(&t.req, "authorization");

		sigp = memmem(h->value.p, h->value.len, "Signature=", 10);
	}
	ck_assert_ptr_nonnull(sigp);
	sigp = strchr(sigp, '=') + 1 + 10;
	*sigp = *sigp == '0' ? '1' : '0';
	e = s3sig_verify(v, &t.req, now, &auth, &body);
	ck_assert_msg(e == S3SIG_SIG_MISMATCH, "%s: tampered: %s", name, s3sig_err_name(e));
	ck_assert_ptr_null(body);
	/* And too late: expired (query) or skewed (header). */
	*sigp = *sigp == '0' ? '1' : '0';
	e = s3sig_verify(v, &t.req, now + (query_form ? c->expires + 1 : 901), &auth, &body);
	ck_assert_int_eq(e, query_form ? S3SIG_EXPIRED : S3SIG_TIME_SKEWED);
	testreq_free(&t);
	free(text);
out0:
	s3sig_verifier_free(&v);
}

static char **cases;
static size_t ncases;

static void
load_cases(void)
{
	char path[1024];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof path, "%s/aws-sigv4", TESTDATA_DIR);
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		cases = realloc(cases, (ncases + 1) * sizeof *cases);
		cases[ncases++] = strdup(de->d_name);
	}
	closedir(d);
}

START_TEST(suite_header_signing)
{
	struct ctx c;

	load_ctx(cases[_i], &c);
	check_signing(cases[_i], &c, 0);
}
END_TEST

START_TEST(suite_query_signing)
{
	struct ctx c;

	load_ctx(cases[_i], &c);
	check_signing(cases[_i], &c, 1);
}
END_TEST

START_TEST(suite_header_verify)
{
	struct ctx c;

	load_ctx(cases[_i], &c);
	check_verify(cases[_i], &c, 0);
}
END_TEST

START_TEST(suite_query_verify)
{
	struct ctx c;

	load_ctx(cases[_i], &c);
	check_verify(cases[_i], &c, 1);
}
END_TEST

START_TEST(suite_is_complete)
{
	/* Guard against an empty or truncated test-data folder. */
	ck_assert_uint_ge(ncases, 38);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("s3sig_aws_suite");
	TCase *tc = tcase_create("aws-sigv4");
	SRunner *sr;
	int failed;

	load_cases();
	tcase_add_test(tc, suite_is_complete);
	tcase_add_loop_test(tc, suite_header_signing, 0, (int)ncases);
	tcase_add_loop_test(tc, suite_query_signing, 0, (int)ncases);
	tcase_add_loop_test(tc, suite_header_verify, 0, (int)ncases);
	tcase_add_loop_test(tc, suite_query_verify, 0, (int)ncases);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
