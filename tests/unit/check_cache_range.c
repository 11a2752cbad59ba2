/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_cache_range.c: Range and conditional answers as AWS S3 gives them
 * (RFC 7233/7232 with S3's documented precedence), including the cases
 * where the s3rver test origin answers wrongly: bytes=0-0, suffix ranges,
 * 416 on unsatisfiable ranges, suffix ranges of empty objects.
 */
#include <check.h>

#include "cache/cache.h"
#include "tests/unit/testreq.h"

static void
rng(const char *hdr, uint64_t size, int want, uint64_t first, uint64_t last)
{
	struct cache_range r = { 0, 0 };
	int got = cache_range_eval(cm_slice_str(hdr), size, &r);

	ck_assert_msg(got == want, "Range '%s' of %llu bytes: %d, want %d", hdr,
	    (unsigned long long)size, got, want);
	if (want == 206)
		ck_assert_msg(r.first == first && r.last == last, "Range '%s': %llu-%llu, want %llu-%llu",
		    hdr, (unsigned long long)r.first, (unsigned long long)r.last,
		    (unsigned long long)first, (unsigned long long)last);
}

START_TEST(ranges)
{
	rng("", 100, 200, 0, 0);
	rng("bytes=0-0", 100, 206, 0, 0);		/* s3rver answers the whole object */
	rng("bytes=0-99", 100, 206, 0, 99);
	rng("bytes=10-", 100, 206, 10, 99);
	rng("bytes=90-200", 100, 206, 90, 99);		/* last clamped */
	rng("bytes=-10", 100, 206, 90, 99);
	rng("bytes=-100", 100, 206, 0, 99);
	rng("bytes=-1000", 100, 206, 0, 99);		/* suffix longer than the object */
	rng("bytes=100-", 100, 416, 0, 0);
	rng("bytes=100-200", 100, 416, 0, 0);
	rng("bytes=-0", 100, 416, 0, 0);
	rng("bytes=0-", 0, 416, 0, 0);			/* nothing to serve of an empty object */
	rng("bytes=-5", 0, 200, 0, 0);			/* AWS: 200, empty body */
	rng("bytes=5-1", 100, 200, 0, 0);		/* first > last: ignored */
	rng("bytes=a-b", 100, 200, 0, 0);
	rng("bytes=1-2,5-6", 100, 200, 0, 0);		/* no multi-range in S3 */
	rng("items=0-1", 100, 200, 0, 0);
	rng("bytes=", 100, 200, 0, 0);
	rng("bytes=-", 100, 200, 0, 0);
	rng("BYTES= 3 - 4 ", 100, 206, 3, 4);
	rng("bytes=18446744073709551615-", 100, 416, 0, 0);
	rng("bytes=0-18446744073709551616", 100, 200, 0, 0);	/* overflows: ignored */
}
END_TEST

static int
cond(const char *im, const char *inm, const char *ims, const char *ius)
{
	struct cache_obj_info o = { CM_SLICE_LIT("\"abc123\""), 10, 1369353600 };	/* 24 May 2013 */
	struct cache_conds c = { cm_slice_str(im), cm_slice_str(inm), cm_slice_str(ims),
	    cm_slice_str(ius) };

	return (cache_cond_eval(&o, &c));
}

#define BEFORE	"Thu, 23 May 2013 00:00:00 GMT"
#define AFTER	"Sat, 25 May 2013 00:00:00 GMT"

START_TEST(conditionals)
{
	ck_assert_int_eq(cond("", "", "", ""), 200);
	ck_assert_int_eq(cond("\"abc123\"", "", "", ""), 200);
	ck_assert_int_eq(cond("abc123", "", "", ""), 200);		/* unquoted */
	ck_assert_int_eq(cond("\"x\", \"abc123\"", "", "", ""), 200);
	ck_assert_int_eq(cond("*", "", "", ""), 200);
	ck_assert_int_eq(cond("\"other\"", "", "", ""), 412);
	ck_assert_int_eq(cond("", "\"abc123\"", "", ""), 304);
	ck_assert_int_eq(cond("", "W/\"abc123\"", "", ""), 304);
	ck_assert_int_eq(cond("", "*", "", ""), 304);
	ck_assert_int_eq(cond("", "\"other\"", "", ""), 200);
	ck_assert_int_eq(cond("", "", AFTER, ""), 304);			/* not modified since */
	ck_assert_int_eq(cond("", "", BEFORE, ""), 200);
	ck_assert_int_eq(cond("", "", "", BEFORE), 412);		/* modified since */
	ck_assert_int_eq(cond("", "", "", AFTER), 200);
	/* S3's precedence: If-Match true wins over If-Unmodified-Since false;
	 * If-None-Match false (a match) wins over If-Modified-Since true. */
	ck_assert_int_eq(cond("\"abc123\"", "", "", BEFORE), 200);
	ck_assert_int_eq(cond("", "\"abc123\"", BEFORE, ""), 304);
	ck_assert_int_eq(cond("", "\"other\"", AFTER, ""), 200);
	/* 412 before 304. */
	ck_assert_int_eq(cond("\"other\"", "\"abc123\"", "", ""), 412);
	/* Dates that do not parse are ignored. */
	ck_assert_int_eq(cond("", "", "yesterday", "tomorrow"), 200);
}
END_TEST

START_TEST(blocks)
{
	uint64_t b0, b1;

	cache_blocks_for(0, 0, 1 << 20, &b0, &b1);
	ck_assert(b0 == 0 && b1 == 0);
	cache_blocks_for((1 << 20) - 1, 1 << 20, 1 << 20, &b0, &b1);	/* spans a boundary */
	ck_assert(b0 == 0 && b1 == 1);
	cache_blocks_for(5u << 20, (7u << 20) - 1, 1 << 20, &b0, &b1);
	ck_assert(b0 == 5 && b1 == 6);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = { ranges, conditionals, blocks };

	return (testreq_run("cache_range", tests, sizeof tests / sizeof tests[0], 0, 0));
}
