/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_s3sig_examples.c: the signature examples of the Amazon S3 API
 * reference (GET with Range, PUT, GET ?lifecycle, list, presigned URL,
 * chunked upload with its seed and chunk signatures, chunked upload with a
 * signed trailer, the SigV2 GET example), verified by s3sig_verify and
 * reproduced by the signers; then what AWS answers to bad requests.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"
#include "tests/unit/testreq.h"

#define AK	"AKIAIOSFODNN7EXAMPLE"
#define SK	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0	((time_t)1369353600)	/* 20130524T000000Z */
#define AUTHZ(sh, sig) "Authorization: AWS4-HMAC-SHA256 Credential=" AK \
	"/20130524/us-east-1/s3/aws4_request, SignedHeaders=" sh ", Signature=" sig "\n"

static const struct s3sig_cred creds[] = { { AK, SK }, { "OTHERKEY", "othersecret" } };
static const char *const regions[] = { "us-east-1", "eu-west-1" };
static const struct s3sig_conf conf = { creds, 2, regions, 2, "s3", 1, 900 };

static enum s3sig_err
verify_text(const char *text, time_t now, struct s3sig_auth *auth, struct s3sig_body **body,
    struct testreq *t)
{
	struct s3sig_verifier *v = s3sig_verifier_new(&conf);
	enum s3sig_err e;

	ck_assert_int_eq(testreq_parse(t, text, strlen(text)), 0);
	e = s3sig_verify(v, &t->req, now, auth, body);
	s3sig_verifier_free(&v);
	return (e);
}

/* Verifies a whole request with its body; returns the final outcome. */
static enum s3sig_err
verify_full(const char *text, time_t now)
{
	struct testreq t;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;
	enum s3sig_err e = verify_text(text, now, &auth, &b, &t);

	if (e == S3SIG_OK) {
		e = s3sig_body_feed(b, t.body.p, t.body.len, NULL, NULL);
		if (e == S3SIG_OK)
			e = s3sig_body_finish(b);
	}
	s3sig_body_free(&b);
	testreq_free(&t);
	return (e);
}

/* The signer must produce exactly the documented Authorization. */
static void
assert_signs_to(const char *text, const char *payload_hash, const char *want_sig)
{
	struct testreq t;
	struct s3sig_signer s = { AK, SK, "us-east-1", "s3" };
	struct cm_buf out;
	size_t i, k = 0;

	ck_assert_int_eq(testreq_parse(&t, text, strlen(text)), 0);
	for (i = 0; i < t.req.nhdrs; i++)
		if (!cm_slice_eq_nocase(t.hdrs[i].name, CM_SLICE_LIT("authorization")))
			t.hdrs[k++] = t.hdrs[i];
	t.req.nhdrs = k;
	cm_buf_init(&out, 4096);
	ck_assert_int_eq(s3sig_sign_v4(&s, &t.req, T0, payload_hash, &out), 0);
	ck_assert_msg(strstr(out.p, want_sig) != NULL, "signed %s, want %s", out.p, want_sig);
	cm_buf_free(&out);
	testreq_free(&t);
}

static const char get_range[] =
    "GET /test.txt HTTP/1.1\n"
    "Host: examplebucket.s3.amazonaws.com\n"
    "Range: bytes=0-9\n"
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-amz-date: 20130524T000000Z\n"
    AUTHZ("host;range;x-amz-content-sha256;x-amz-date",
	"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    "\n";

static const char put_object[] =
    "PUT /test$file.text HTTP/1.1\n"
    "Host: examplebucket.s3.amazonaws.com\n"
    "Date: Fri, 24 May 2013 00:00:00 GMT\n"
    "x-amz-date: 20130524T000000Z\n"
    "x-amz-storage-class: REDUCED_REDUNDANCY\n"
    "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
    AUTHZ("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
	"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    "\n"
    "Welcome to Amazon S3.";

static const char get_lifecycle[] =
    "GET /?lifecycle HTTP/1.1\n"
    "Host: examplebucket.s3.amazonaws.com\n"
    "x-amz-date: 20130524T000000Z\n"
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    AUTHZ("host;x-amz-content-sha256;x-amz-date",
	"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    "\n";

static const char get_list[] =
    "GET /?max-keys=2&prefix=J HTTP/1.1\n"
    "Host: examplebucket.s3.amazonaws.com\n"
    "x-amz-date: 20130524T000000Z\n"
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    AUTHZ("host;x-amz-content-sha256;x-amz-date",
	"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    "\n";

#define PRESIGNED_Q "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE" \
    "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z" \
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
#define PRESIGNED_SIG "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
static const char presigned[] =
    "GET /test.txt?" PRESIGNED_Q "&X-Amz-Signature=" PRESIGNED_SIG " HTTP/1.1\n"
    "Host: examplebucket.s3.amazonaws.com\n"
    "\n";

START_TEST(doc_get_range)
{
	ck_assert_int_eq(verify_full(get_range, T0), S3SIG_OK);
	assert_signs_to(get_range, S3SIG_EMPTY_SHA256,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}
END_TEST

START_TEST(doc_put_object)
{
	ck_assert_int_eq(verify_full(put_object, T0), S3SIG_OK);
	assert_signs_to(put_object,
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}
END_TEST

START_TEST(doc_put_object_body_tampered)
{
	char *t = strdup(put_object);

	/* Same headers and signature, one body byte changed. */
	t[strlen(t) - 2] = '!';
	ck_assert_int_eq(verify_full(t, T0), S3SIG_CONTENT_SHA_MISMATCH);
	free(t);
}
END_TEST

START_TEST(doc_get_lifecycle)
{
	ck_assert_int_eq(verify_full(get_lifecycle, T0), S3SIG_OK);
	assert_signs_to(get_lifecycle, S3SIG_EMPTY_SHA256,
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}
END_TEST

START_TEST(doc_get_list)
{
	ck_assert_int_eq(verify_full(get_list, T0), S3SIG_OK);
	assert_signs_to(get_list, S3SIG_EMPTY_SHA256,
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}
END_TEST

START_TEST(doc_presigned)
{
	struct s3sig_signer s = { AK, SK, "us-east-1", "s3" };
	struct s3sig_hdr host = { CM_SLICE_LIT("Host"), CM_SLICE_LIT("examplebucket.s3.amazonaws.com") };
	struct s3sig_req r = { CM_SLICE_LIT("GET"), CM_SLICE_LIT("/test.txt"), { NULL, 0 }, &host, 1,
	    { NULL, 0 } };
	struct cm_buf q;

	ck_assert_int_eq(verify_full(presigned, T0), S3SIG_OK);
	ck_assert_int_eq(verify_full(presigned, T0 + 86400), S3SIG_OK);
	ck_assert_int_eq(verify_full(presigned, T0 + 86401), S3SIG_EXPIRED);
	/* Signed 15 minutes ahead of our clock is tolerated, more is not. */
	ck_assert_int_eq(verify_full(presigned, T0 - 900), S3SIG_OK);
	ck_assert_int_eq(verify_full(presigned, T0 - 901), S3SIG_TIME_SKEWED);
	cm_buf_init(&q, 4096);
	ck_assert_int_eq(s3sig_presign_v4(&s, &r, T0, 86400, &q), 0);
	ck_assert_str_eq(q.p, PRESIGNED_Q "&X-Amz-Signature=" PRESIGNED_SIG);
	cm_buf_free(&q);
}
END_TEST

START_TEST(presigned_expires_bounds)
{
	static const char *const bad[] = { "0", "-1", "604801", "abc", "" };
	char text[1024];
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof text, "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		    "&X-Amz-Credential=" AK "%%2F20130524%%2Fus-east-1%%2Fs3%%2Faws4_request"
		    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=%s&X-Amz-SignedHeaders=host"
		    "&X-Amz-Signature=" PRESIGNED_SIG " HTTP/1.1\nHost: examplebucket.s3.amazonaws.com\n\n",
		    bad[i]);
		ck_assert_int_eq(verify_full(text, T0), S3SIG_EXPIRES_RANGE);
	}
}
END_TEST

/* ---- chunked uploads ---- */

static char *
chunked_request(const char *sha_mode, const char *extra_hdrs, const char *seed,
    const char *const sigs[3], const char *trailer)
{
	struct cm_buf b;
	char *a = malloc(65536);

	memset(a, 'a', 65536);
	cm_buf_init(&b, 1 << 20);
	cm_buf_addf(&b, "PUT /examplebucket/chunkObject.txt HTTP/1.1\n"
	    "Host: s3.amazonaws.com\n"
	    "x-amz-date: 20130524T000000Z\n"
	    "x-amz-storage-class: REDUCED_REDUNDANCY\n"
	    "x-amz-content-sha256: %s\n"
	    "Content-Encoding: aws-chunked\n"
	    "x-amz-decoded-content-length: 66560\n"
	    "Content-Length: 66824\n%s"
	    "Authorization: AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request, "
	    "SignedHeaders=content-encoding;%shost;x-amz-content-sha256;x-amz-date;"
	    "x-amz-decoded-content-length;x-amz-storage-class%s, Signature=%s\n\n",
	    sha_mode, extra_hdrs,
	    /* The documented examples: content-length signed only without trailer. */
	    trailer != NULL ? "" : "content-length;", trailer != NULL ? ";x-amz-trailer" : "", seed);
	cm_buf_addf(&b, "10000;chunk-signature=%s\r\n", sigs[0]);
	cm_buf_add(&b, a, 65536);
	cm_buf_addf(&b, "\r\n400;chunk-signature=%s\r\n", sigs[1]);
	cm_buf_add(&b, a, 1024);
	cm_buf_addf(&b, "\r\n0;chunk-signature=%s\r\n", sigs[2]);
	if (trailer != NULL)
		cm_buf_adds(&b, trailer);
	cm_buf_adds(&b, "\r\n");
	free(a);
	return (b.p);
}

static const char *const doc_chunk_sigs[3] = {
	"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
	"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
	"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
};
#define DOC_SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

static const char *const doc_trailer_sigs[3] = {
	"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
	"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
	"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
};
#define DOC_TRAILER_SEED "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
#define DOC_TRAILER "x-amz-checksum-crc32c:sOO8/Q==\r\n" \
	"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"

struct sink_state {
	size_t	n;
	int	all_a;
};

static int
sink(void *arg, const char *p, size_t len)
{
	struct sink_state *s = arg;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != 'a')
			s->all_a = 0;
	s->n += len;
	return (0);
}

/* Feeds the body in pieces of step bytes: framing may split anywhere. */
static enum s3sig_err
feed_chunked(const char *text, size_t step, struct sink_state *ss)
{
	struct testreq t;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;
	enum s3sig_err e;
	size_t off, n;

	/* The body is binary-safe here: 'a's and CRLFs only. */
	e = verify_text(text, T0, &auth, &b, &t);
	ss->n = 0;
	ss->all_a = 1;
	if (e != S3SIG_OK)
		goto out;
	for (off = 0; off < t.body.len && e == S3SIG_OK; off += n) {
		n = t.body.len - off < step ? t.body.len - off : step;
		e = s3sig_body_feed(b, t.body.p + off, n, sink, ss);
	}
	if (e == S3SIG_OK)
		e = s3sig_body_finish(b);
out:
	s3sig_body_free(&b);
	testreq_free(&t);
	return (e);
}

START_TEST(doc_chunked_upload)
{
	static const size_t steps[] = { 1, 7, 100, 4096, 1 << 20 };
	char *text = chunked_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "",
	    DOC_SEED, doc_chunk_sigs, NULL);
	struct sink_state ss;
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(steps); i++) {
		ck_assert_int_eq(feed_chunked(text, steps[i], &ss), S3SIG_OK);
		ck_assert_uint_eq(ss.n, 66560);
		ck_assert(ss.all_a);
	}
	free(text);
}
END_TEST

START_TEST(doc_chunked_tampered)
{
	const char *sigs[3] = { doc_chunk_sigs[0], doc_chunk_sigs[2], doc_chunk_sigs[1] };
	char *text = chunked_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", DOC_SEED, sigs, NULL);
	struct sink_state ss;
	char *p;

	ck_assert_int_eq(feed_chunked(text, 4096, &ss), S3SIG_CHUNK_SIG_MISMATCH);
	free(text);
	/* Right signatures, one data byte changed. */
	text = chunked_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", DOC_SEED,
	    doc_chunk_sigs, NULL);
	p = strstr(text, "\r\n400;");
	p[-5] = 'b';
	ck_assert_int_eq(feed_chunked(text, 4096, &ss), S3SIG_CHUNK_SIG_MISMATCH);
	free(text);
	/* Truncated before the final chunk. */
	text = chunked_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "", DOC_SEED,
	    doc_chunk_sigs, NULL);
	p = strstr(text, "\r\n0;chunk");
	p[2] = '\0';
	ck_assert_int_eq(feed_chunked(text, 4096, &ss), S3SIG_INCOMPLETE_BODY);
	free(text);
}
END_TEST

START_TEST(doc_chunked_trailer)
{
	static const size_t steps[] = { 1, 13, 65536, 1 << 20 };
	char *text = chunked_request("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	    "x-amz-trailer: x-amz-checksum-crc32c\n", DOC_TRAILER_SEED, doc_trailer_sigs,
	    DOC_TRAILER);
	struct sink_state ss;
	size_t i;
	char *p;

	for (i = 0; i < CM_ARRAY_LEN(steps); i++) {
		ck_assert_int_eq(feed_chunked(text, steps[i], &ss), S3SIG_OK);
		ck_assert_uint_eq(ss.n, 66560);
	}
	/* The checksum value changed: its signature no longer matches. */
	p = strstr(text, "sOO8/Q==");
	p[0] = 'A';
	ck_assert_int_eq(feed_chunked(text, 4096, &ss), S3SIG_CHUNK_SIG_MISMATCH);
	free(text);
}
END_TEST

/* ---- what AWS answers to bad requests ---- */

START_TEST(wrong_region_names_ours)
{
	struct testreq t;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;
	char *text = strdup(get_range), *p = strstr(text, "us-east-1");

	memcpy(p, "ap-east-1", 9);
	ck_assert_int_eq(verify_text(text, T0, &auth, &b, &t), S3SIG_WRONG_REGION);
	ck_assert_str_eq(auth.region, "us-east-1");
	ck_assert_int_eq(s3sig_err_status(S3SIG_WRONG_REGION), 400);
	ck_assert_str_eq(s3sig_err_code(S3SIG_WRONG_REGION), "AuthorizationHeaderMalformed");
	ck_assert_ptr_null(b);
	testreq_free(&t);
	free(text);
}
END_TEST

START_TEST(unknown_key_and_skew)
{
	char *text = strdup(get_range), *p = strstr(text, AK);

	ck_assert_int_eq(verify_full(get_range, T0 + 900), S3SIG_OK);
	ck_assert_int_eq(verify_full(get_range, T0 - 900), S3SIG_OK);
	ck_assert_int_eq(verify_full(get_range, T0 + 901), S3SIG_TIME_SKEWED);
	ck_assert_int_eq(verify_full(get_range, T0 - 901), S3SIG_TIME_SKEWED);
	p[0] = 'B';
	ck_assert_int_eq(verify_full(text, T0), S3SIG_UNKNOWN_KEY);
	free(text);
}
END_TEST

START_TEST(host_is_signed_with_its_port)
{
	char *text = strdup(get_range), *p = strstr(text, "amazonaws.com");

	/* Same request to another port: the signature covered the Host. */
	memcpy(p, "amazonaws.co:", 13);
	ck_assert_int_eq(verify_full(text, T0), S3SIG_SIG_MISMATCH);
	free(text);
}
END_TEST

START_TEST(anonymous_and_unsupported)
{
	ck_assert_int_eq(verify_full("GET /b/k HTTP/1.1\nHost: x\n\n", T0), S3SIG_ANONYMOUS);
	ck_assert_int_eq(verify_full("GET /b/k HTTP/1.1\nHost: x\nAuthorization: Bearer x\n\n", T0),
	    S3SIG_UNSUPPORTED_AUTH);
	ck_assert_int_eq(verify_full("GET /b/k HTTP/1.1\nHost: x\nAuthorization: AWS4-HMAC-SHA256 "
	    "Credential=" AK "/20130524/us-east-1/s3/aws4_request\n\n", T0), S3SIG_AUTH_MALFORMED);
}
END_TEST

START_TEST(missing_content_sha)
{
	char *text = strdup(get_range), *p = strstr(text, "x-amz-content-sha256");

	memcpy(p, "x-amz-content-sha257", 20);
	ck_assert_int_eq(verify_full(text, T0), S3SIG_MISSING_CONTENT_SHA);
	free(text);
}
END_TEST

START_TEST(key_cache_saves_derivations)
{
	struct s3sig_verifier *v = s3sig_verifier_new(&conf);
	struct testreq t;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;
	int i;

	ck_assert_int_eq(testreq_parse(&t, get_range, strlen(get_range)), 0);
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(s3sig_verify(v, &t.req, T0, &auth, &b), S3SIG_OK);
		s3sig_body_free(&b);
	}
	ck_assert_uint_eq(s3sig_verifier_derivations(v), 1);
	testreq_free(&t);
	s3sig_verifier_free(&v);
}
END_TEST

START_TEST(sigv2_doc_example)
{
	/* The S3 developer guide's SigV2 GET Object example. */
	static const char req[] =
	    "GET /photos/puppy.jpg HTTP/1.1\n"
	    "Host: johnsmith.s3.amazonaws.com\n"
	    "Date: Tue, 27 Mar 2007 19:36:42 +0000\n"
	    "Authorization: AWS " AK ":bWq2s1WEIj+Ydj0vQ697zp+IXMU=\n\n";
	struct s3sig_verifier *v;
	struct s3sig_conf off = conf;
	struct testreq t;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;
	time_t when = 1175024202;	/* 2007-03-27T19:36:42Z */

	ck_assert_int_eq(testreq_parse(&t, req, strlen(req)), 0);
	t.req.vhost_bucket = CM_SLICE_LIT("johnsmith");
	v = s3sig_verifier_new(&conf);
	ck_assert_int_eq(s3sig_verify(v, &t.req, when, &auth, &b), S3SIG_OK);
	ck_assert_int_eq(auth.kind, S3SIG_KIND_V2_HEADER);
	s3sig_body_free(&b);
	ck_assert_int_eq(s3sig_verify(v, &t.req, when + 901, &auth, &b), S3SIG_TIME_SKEWED);
	t.req.vhost_bucket = CM_SLICE_LIT("johnsmit");
	ck_assert_int_eq(s3sig_verify(v, &t.req, when, &auth, &b), S3SIG_SIG_MISMATCH);
	s3sig_verifier_free(&v);
	/* Off by default: refused as AWS's V4-only regions refuse it. */
	off.allow_sigv2 = 0;
	v = s3sig_verifier_new(&off);
	t.req.vhost_bucket = CM_SLICE_LIT("johnsmith");
	ck_assert_int_eq(s3sig_verify(v, &t.req, when, &auth, &b), S3SIG_UNSUPPORTED_AUTH);
	s3sig_verifier_free(&v);
	testreq_free(&t);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		doc_get_range,
		doc_put_object,
		doc_put_object_body_tampered,
		doc_get_lifecycle,
		doc_get_list,
		doc_presigned,
		presigned_expires_bounds,
		doc_chunked_upload,
		doc_chunked_tampered,
		doc_chunked_trailer,
		wrong_region_names_ours,
		unknown_key_and_skew,
		host_is_signed_with_its_port,
		anonymous_and_unsupported,
		missing_content_sha,
		key_cache_saves_derivations,
		sigv2_doc_example,
	};

	return (testreq_run("s3sig_examples", tests, sizeof tests / sizeof tests[0], 60, 0));
}
