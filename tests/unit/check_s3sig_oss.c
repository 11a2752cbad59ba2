/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_s3sig_oss.c: signing toward Alibaba OSS, against the vectors that
 * Alibaba publishes with its SDK (alibabacloud-oss-go-sdk-v2, signer tests):
 * V1 header signatures for an object and a sub-resource, V4 header
 * signatures with an awkward key and query.
 */
#include <check.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"
#include "tests/unit/testreq.h"

#define HDR(n, v) { CM_SLICE_LIT(n), CM_SLICE_LIT(v) }

START_TEST(oss_v1_object)
{
	struct s3sig_signer s = { "ak", "sk", "cn-hangzhou", "oss" };
	struct s3sig_hdr h[] = {
		HDR("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
		HDR("Content-Type", "text/html"),
		HDR("x-oss-meta-author", "alice"),
		HDR("x-oss-meta-magic", "abracadabra"),
		HDR("x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT"),
	};
	struct s3sig_req r = { CM_SLICE_LIT("PUT"), CM_SLICE_LIT("/nelson"), { NULL, 0 }, h, 5,
	    { NULL, 0 } };
	struct cm_buf out, sts;

	cm_buf_init(&out, 1024);
	cm_buf_init(&sts, 1024);
	ck_assert_int_eq(s3sig_v1_string_to_sign(&sts, &r, "x-oss-",
	    CM_SLICE_LIT("Wed, 28 Dec 2022 10:27:41 GMT"), CM_SLICE_LIT("/examplebucket/nelson")), 0);
	ck_assert_str_eq(sts.p, "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\n"
	    "Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n"
	    "x-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson");
	ck_assert_int_eq(s3sig_sign_oss_v1(&s, &r, CM_SLICE_LIT("Wed, 28 Dec 2022 10:27:41 GMT"),
	    CM_SLICE_LIT("/examplebucket/nelson"), &out), 0);
	ck_assert_str_eq(out.p, "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
	cm_buf_reset(&out);
	r.query = CM_SLICE_LIT("acl");
	ck_assert_int_eq(s3sig_sign_oss_v1(&s, &r, CM_SLICE_LIT("Wed, 28 Dec 2022 10:27:41 GMT"),
	    CM_SLICE_LIT("/examplebucket/nelson?acl"), &out), 0);
	ck_assert_str_eq(out.p, "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=");
	cm_buf_free(&out);
	cm_buf_free(&sts);
}
END_TEST

/* The example of Alibaba's "add signatures to headers" V1 documentation. */
START_TEST(oss_v1_doc_example)
{
	struct s3sig_signer s = { "44CF9590006BF252F707", "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV",
	    "cn-hangzhou", "oss" };
	struct s3sig_hdr h[] = {
		HDR("Content-Md5", "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM="),
		HDR("Content-Type", "text/html"),
		HDR("Date", "Thu, 17 Nov 2005 18:49:58 GMT"),
		HDR("Host", "oss-example.oss-cn-hangzhou.aliyuncs.com"),
		HDR("X-OSS-Meta-Author", "foo@bar.com"),
		HDR("X-OSS-Magic", "abracadabra"),
	};
	struct s3sig_req r = { CM_SLICE_LIT("PUT"), CM_SLICE_LIT("/nelson"), { NULL, 0 }, h, 6,
	    { NULL, 0 } };
	struct cm_buf out;

	cm_buf_init(&out, 1024);
	ck_assert_int_eq(s3sig_sign_oss_v1(&s, &r, CM_SLICE_LIT("Thu, 17 Nov 2005 18:49:58 GMT"),
	    CM_SLICE_LIT("/oss-example/nelson"), &out), 0);
	ck_assert_str_eq(out.p, "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA=");
	cm_buf_free(&out);
}
END_TEST

START_TEST(oss_v1_bucket_subresource)
{
	struct s3sig_signer s = { "ak", "sk", "cn-hangzhou", "oss" };
	struct s3sig_hdr h[] = { HDR("x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT") };
	struct s3sig_req r = { CM_SLICE_LIT("GET"), CM_SLICE_LIT("/"),
	    CM_SLICE_LIT("resourceGroup&acl"), h, 1, { NULL, 0 } };
	struct cm_buf out;

	cm_buf_init(&out, 1024);
	ck_assert_int_eq(s3sig_sign_oss_v1(&s, &r, CM_SLICE_LIT("Wed, 28 Dec 2022 10:27:41 GMT"),
	    CM_SLICE_LIT("/examplebucket/?acl&resourceGroup"), &out), 0);
	ck_assert_str_eq(out.p, "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=");
	cm_buf_free(&out);
}
END_TEST

/* The SDK's V4 case: key "1234+-/123/1.txt", a query with '+' and '|' in
 * keys and empty values, headers of which only some are signed. */
static void
oss_v4_case(const char *region, const char *product, time_t when, const char *want)
{
	struct s3sig_signer s = { "ak", "sk", region, product };
	char date[17];
	struct s3sig_hdr h[] = {
		HDR("x-oss-head1", "value"),
		HDR("abc", "value"),
		HDR("ZAbc", "value"),
		HDR("XYZ", "value"),
		HDR("content-type", "text/plain"),
		HDR("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
		{ CM_SLICE_LIT("x-oss-date"), { date, 16 } },
	};
	struct s3sig_req r = { CM_SLICE_LIT("PUT"), CM_SLICE_LIT("/1234%2B-/123/1.txt"),
	    CM_SLICE_LIT("%2Bparam1=value3&%2Bparam2=&%7Cparam1=value4&%7Cparam2=&param1=value1&param2="),
	    h, 7, { NULL, 0 } };
	struct cm_buf out;

	s3sig_amz_date(when, date);
	cm_buf_init(&out, 1024);
	ck_assert_int_eq(s3sig_sign_oss_v4(&s, &r, CM_SLICE_LIT("bucket"),
	    CM_SLICE_LIT("1234+-/123/1.txt"), when, &out), 0);
	ck_assert_str_eq(out.p, want);
	cm_buf_free(&out);
}

START_TEST(oss_v4_header)
{
	oss_v4_case("cn-hangzhou", "oss", 1702743657,
	    "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
	    "Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");
	oss_v4_case("cb-123", "oss-cloudbox", 1702743657,
	    "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,"
	    "Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43");
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		oss_v1_object,
		oss_v1_doc_example,
		oss_v1_bucket_subresource,
		oss_v4_header,
	};

	return (testreq_run("s3sig_oss", tests, sizeof tests / sizeof tests[0], 0, 0));
}
