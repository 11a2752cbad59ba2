/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_s3name.h: the one rule for S3 bucket names, used by the gateway (which
 * names it serves) and the master (which names it counts and purges).
 * Pure functions; any thread.
 */
#ifndef CACHALOT_CM_S3NAME_H
#define CACHALOT_CM_S3NAME_H

#include "common/common.h"

/* The longest name any rule accepts (legacy us-east-1 names). */
#define CM_S3_BUCKET_MAX	255

enum cm_s3_bucket_rule {
	/*
	 * S3's rule for buckets made today: 3 to 63 characters of lower-case
	 * letters, digits, '.' and '-'; starts and ends with a letter or a
	 * digit; no ".." ; not shaped like an IPv4 address.
	 */
	CM_S3_BUCKET_STRICT,
	/*
	 * What S3 accepted for buckets made in us-east-1 before March 2018,
	 * and S3-compatible origins still serve: 1 to 255 characters of
	 * letters of either case, digits, '.', '-' and '_' (S3 itself asked
	 * for 3 at least; Cachalot has always passed 1 and 2 on to the
	 * origin, which answers for them). "." and ".." are refused: they are
	 * path segments, not names. This is what the gateway and the master
	 * accept, so that every bucket an origin holds can be read, counted
	 * and purged through Cachalot.
	 */
	CM_S3_BUCKET_LEGACY,
};

/* 1 when name is a bucket name under rule, else 0. */
int cm_s3_bucket_valid(struct cm_slice name, enum cm_s3_bucket_rule rule);

#endif
