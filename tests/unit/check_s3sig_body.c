/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_s3sig_body.c: the body checker on its own: the five checksum
 * algorithms against their published check values, unsigned aws-chunked
 * bodies with trailers (what current aws-cli and SDKs send), x-amz-checksum
 * headers, and hostile framing, each refused with the right S3 error.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"
#include "tests/unit/testreq.h"

static void
check_value(enum s3sig_ck_algo a, const char *hex)
{
	struct s3sig_ck ck;
	unsigned char d[32];
	char got[65];
	int n;

	ck_assert_int_eq(s3sig_ck_init(&ck, a), 0);
	s3sig_ck_update(&ck, "1234", 4);	/* in two pieces */
	s3sig_ck_update(&ck, "56789", 5);
	n = s3sig_ck_final(&ck, d);
	cm_hex_lower(got, d, (size_t)n);
	ck_assert_str_eq(got, hex);
}

START_TEST(checksum_check_values)
{
	/* The "123456789" check values of each algorithm's definition. */
	check_value(S3SIG_CK_CRC32, "cbf43926");
	check_value(S3SIG_CK_CRC32C, "e3069283");
	check_value(S3SIG_CK_CRC64NVME, "ae8b14860a799888");
	check_value(S3SIG_CK_SHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
	check_value(S3SIG_CK_SHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
	ck_assert_int_eq(s3sig_ck_by_header(CM_SLICE_LIT("X-Amz-Checksum-CRC64NVME")),
	    S3SIG_CK_CRC64NVME);
	ck_assert_int_eq(s3sig_ck_by_header(CM_SLICE_LIT("x-amz-checksum-md5")), S3SIG_CK_NONE);
}
END_TEST

struct collect {
	char	buf[256];
	size_t	n;
};

static int
collect(void *arg, const char *p, size_t len)
{
	struct collect *c = arg;

	if (c->n + len > sizeof c->buf)
		return (1);
	memcpy(c->buf + c->n, p, len);
	c->n += len;
	return (0);
}

/* Runs body through a checker of the given kind, byte by byte and whole. */
static enum s3sig_err
run(const struct s3sig_body_init *in, const char *body, size_t len, struct collect *c)
{
	struct s3sig_body *b;
	enum s3sig_err e, e1 = S3SIG__MAX;
	int pass;
	size_t i;

	for (pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(s3sig_body_new(in, &b), S3SIG_OK);
		memset(c, 0, sizeof *c);
		e = S3SIG_OK;
		if (pass == 0) {
			for (i = 0; i < len && e == S3SIG_OK; i++)
				e = s3sig_body_feed(b, body + i, 1, collect, c);
		} else {
			e = s3sig_body_feed(b, body, len, collect, c);
		}
		if (e == S3SIG_OK)
			e = s3sig_body_finish(b);
		s3sig_body_free(&b);
		if (pass == 0)
			e1 = e;
		else
			ck_assert_int_eq(e, e1);	/* the split never matters */
	}
	return (e);
}

static struct s3sig_body_init
unsigned_trailer(enum s3sig_ck_algo a)
{
	struct s3sig_body_init in;

	memset(&in, 0, sizeof in);
	in.payload = S3SIG_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
	in.decoded_length = -1;
	in.trailer_ck = a;
	return (in);
}

#define BODY(s) s, sizeof(s) - 1

START_TEST(unsigned_trailer_ok)
{
	struct s3sig_body_init in = unsigned_trailer(S3SIG_CK_CRC32);
	struct collect c;

	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), &c),
	    S3SIG_OK);
	ck_assert_uint_eq(c.n, 5);
	ck_assert(memcmp(c.buf, "hello", 5) == 0);
	/* Two chunks, decoded length announced. */
	in = unsigned_trailer(S3SIG_CK_CRC32);
	in.decoded_length = 5;
	ck_assert_int_eq(run(&in, BODY("2\r\nhe\r\n3\r\nllo\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"),
	    &c), S3SIG_OK);
	/* SHA-256 trailer. */
	in = unsigned_trailer(S3SIG_CK_SHA256);
	ck_assert_int_eq(run(&in, BODY("b\r\nhello world\r\n0\r\n"
	    "x-amz-checksum-sha256:uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=\r\n\r\n"), &c), S3SIG_OK);
}
END_TEST

START_TEST(unsigned_trailer_refused)
{
	struct s3sig_body_init in = unsigned_trailer(S3SIG_CK_CRC32);
	struct collect c;

	/* Wrong checksum. */
	ck_assert_int_eq(run(&in, BODY("5\r\nhellO\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), &c),
	    S3SIG_CHECKSUM_MISMATCH);
	/* A trailer of another algorithm than declared. */
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nx-amz-checksum-crc32c:NhCmhg==\r\n\r\n"), &c),
	    S3SIG_BAD_TRAILER);
	/* No trailer at all. */
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\n\r\n"), &c), S3SIG_INCOMPLETE_BODY);
	/* Decoded length that does not add up. */
	in.decoded_length = 6;
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), &c),
	    S3SIG_INCOMPLETE_BODY);
	in.decoded_length = 4;
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), &c),
	    S3SIG_INCOMPLETE_BODY);
}
END_TEST

START_TEST(hostile_framing)
{
	struct s3sig_body_init in = unsigned_trailer(S3SIG_CK_CRC32);
	struct collect c;
	char *big;

	ck_assert_int_eq(run(&in, BODY("x\r\nhello\r\n"), &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("\r\n"), &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("5\nhello\r\n"), &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("5\r\nhelloXX0\r\n"), &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("fffffffffffffffff\r\n"), &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n\r\nX"),
	    &c), S3SIG_BAD_CHUNK);
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n0\r\nnot a header\r\n\r\n"), &c), S3SIG_BAD_TRAILER);
	/* A size line longer than any honest one: refused, not buffered. */
	big = malloc(10000);
	memset(big, '1', 10000);
	ck_assert_int_eq(run(&in, big, 10000, &c), S3SIG_BAD_CHUNK);
	free(big);
	/* Plain STREAMING never has trailers. */
	memset(&in, 0, sizeof in);
	in.payload = S3SIG_PAYLOAD_STREAMING;
	in.decoded_length = -1;
	ck_assert_int_eq(run(&in, BODY("5\r\nhello\r\n"), &c), S3SIG_BAD_CHUNK); /* no signature */
}
END_TEST

START_TEST(header_checksum)
{
	struct s3sig_body_init in;
	struct collect c;

	memset(&in, 0, sizeof in);
	in.payload = S3SIG_PAYLOAD_UNSIGNED;
	in.decoded_length = -1;
	in.header_ck = S3SIG_CK_SHA1;
	in.header_ck_len = cm_base64_decode(in.header_ck_val, sizeof in.header_ck_val,
	    CM_SLICE_LIT("Kq5sNclPz7QV2+lfQIuc6R7oRu0="));
	ck_assert_int_eq(in.header_ck_len, 20);
	ck_assert_int_eq(run(&in, BODY("hello world"), &c), S3SIG_OK);
	ck_assert_int_eq(run(&in, BODY("hello worle"), &c), S3SIG_CHECKSUM_MISMATCH);
}
END_TEST

START_TEST(signed_payload_hash)
{
	struct s3sig_body_init in;
	struct collect c;

	memset(&in, 0, sizeof in);
	in.payload = S3SIG_PAYLOAD_SHA256;
	in.decoded_length = -1;
	s3sig_sha256_hex("hello world", 11, in.payload_sha);
	ck_assert_int_eq(run(&in, BODY("hello world"), &c), S3SIG_OK);
	ck_assert_int_eq(run(&in, BODY("hello world!"), &c), S3SIG_CONTENT_SHA_MISMATCH);
	ck_assert_int_eq(run(&in, BODY(""), &c), S3SIG_CONTENT_SHA_MISMATCH);
}
END_TEST

START_TEST(sink_can_stop)
{
	struct s3sig_body_init in;
	struct s3sig_body *b;
	char big[300];

	memset(&in, 0, sizeof in);
	in.payload = S3SIG_PAYLOAD_UNSIGNED;
	in.decoded_length = -1;
	memset(big, 'x', sizeof big);
	ck_assert_int_eq(s3sig_body_new(&in, &b), S3SIG_OK);
	{
		struct collect c;

		memset(&c, 0, sizeof c);
		ck_assert_int_eq(s3sig_body_feed(b, big, sizeof big, collect, &c), S3SIG_SINK_STOPPED);
	}
	s3sig_body_free(&b);
	ck_assert_ptr_null(b);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		checksum_check_values,
		unsigned_trailer_ok,
		unsigned_trailer_refused,
		hostile_framing,
		header_checksum,
		signed_payload_hash,
		sink_can_stop,
	};

	return (testreq_run("s3sig_body", tests, sizeof tests / sizeof tests[0], 0, 0));
}
