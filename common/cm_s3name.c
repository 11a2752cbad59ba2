/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_s3name.c: S3 bucket names (see cm_s3name.h). Pure; any thread.
 */
#include "common/cm_s3name.h"

static int
is_lower_alnum(char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

/* "d.d.d.d" with 1 to 3 digits each: S3 refuses such names. */
static int
ipv4_shaped(struct cm_slice s)
{
	size_t i, digits = 0, dots = 0;

	for (i = 0; i < s.len; i++) {
		if (s.p[i] >= '0' && s.p[i] <= '9') {
			if (++digits > 3)
				return (0);
		} else if (s.p[i] == '.' && digits > 0) {
			dots++;
			digits = 0;
		} else {
			return (0);
		}
	}
	return (dots == 3 && digits > 0);
}

static int
strict_valid(struct cm_slice s)
{
	size_t i;

	if (s.len < 3 || s.len > 63 || !is_lower_alnum(s.p[0]) || !is_lower_alnum(s.p[s.len - 1]))
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!is_lower_alnum(c) && c != '.' && c != '-')
			return (0);
		if (c == '.' && i > 0 && s.p[i - 1] == '.')
			return (0);
	}
	return (!ipv4_shaped(s));
}

static int
legacy_valid(struct cm_slice s)
{
	size_t i;

	if (s.len < 1 || s.len > CM_S3_BUCKET_MAX)
		return (0);
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_'))
			return (0);
	}
	return (!cm_slice_eq(s, ".") && !cm_slice_eq(s, ".."));
}

int
cm_s3_bucket_valid(struct cm_slice name, enum cm_s3_bucket_rule rule)
{
	if (name.p == NULL)
		return (0);
	return (rule == CM_S3_BUCKET_STRICT ? strict_valid(name) : legacy_valid(name));
}
