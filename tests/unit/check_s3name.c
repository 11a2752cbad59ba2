/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_s3name.c: the one bucket-name rule (common/cm_s3name.c): S3's
 * strict rule for new buckets, and the legacy rule the gateway and the
 * master apply (what they accepted before stays accepted).
 */
#include <check.h>
#include <string.h>

#include "common/cm_s3name.h"
#include "tests/unit/testreq.h"

static int
ok(const char *s, enum cm_s3_bucket_rule r)
{
	return (cm_s3_bucket_valid(cm_slice_str(s), r));
}

START_TEST(strict_is_s3s)
{
	static const char *const good[] = { "abc", "my-bucket", "my.bucket.1", "a1b", "0ab",
	    "123", "1.2.3", "a-------b", "xn--bcher-kva",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 63 */ };
	static const char *const bad[] = { "", "a", "ab", "Abc", "abC", "a_b", "-abc", "abc-",
	    ".abc", "abc.", "a..b", "a b", "a/b", "192.168.1.1", "1.2.3.4", "ab\xc3\xa9",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */ };
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(ok(good[i], CM_S3_BUCKET_STRICT), "refused: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!ok(bad[i], CM_S3_BUCKET_STRICT), "accepted: %s", bad[i]);
}
END_TEST

START_TEST(legacy_keeps_what_was_served)
{
	static const char *const good[] = { "a", "ab", "Abc", "My_Bucket", "a..b", "-x-", "x.",
	    "192.168.1.1", "abc" };
	static const char *const bad[] = { "", ".", "..", "a b", "a/b", "a%b", "a\nb", "ab\xc3\xa9",
	    "a:b" };
	char long_ok[256], too_long[257];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(ok(good[i], CM_S3_BUCKET_LEGACY), "refused: %s", good[i]);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!ok(bad[i], CM_S3_BUCKET_LEGACY), "accepted: %s", bad[i]);
	memset(long_ok, 'A', 255);
	long_ok[255] = '\0';
	memset(too_long, 'a', 256);
	too_long[256] = '\0';
	ck_assert(ok(long_ok, CM_S3_BUCKET_LEGACY));
	ck_assert(!ok(too_long, CM_S3_BUCKET_LEGACY));
	/* Every strict name is a legacy name. */
	ck_assert(ok("my.bucket-1", CM_S3_BUCKET_LEGACY));
	/* A slice is read for its length only. */
	ck_assert(cm_s3_bucket_valid(cm_slice("abc/def", 3), CM_S3_BUCKET_STRICT));
	ck_assert(!cm_s3_bucket_valid(cm_slice(NULL, 0), CM_S3_BUCKET_LEGACY));
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = { strict_is_s3s, legacy_keeps_what_was_served };

	return (testreq_run("s3name", tests, sizeof tests / sizeof tests[0], 0, 0));
}
