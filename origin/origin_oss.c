/* SPDX-License-Identifier: Apache-2.0 */
/*
 * origin_oss.c: Alibaba OSS origins. Always virtual-hosted
 * (bucket.endpoint), x-amz-* headers carried as their x-oss-* counterparts
 * (or dropped where OSS has none), x-oss-range-behavior: standard so that
 * ranges past the end are answered as S3 answers them, Content-MD5 on
 * DeleteObjects (OSS requires it, current SDKs send a CRC instead: the
 * gateway adds it, see delete_needs_md5), and an OSS4-HMAC-SHA256
 * signature. Responses come back with x-oss-meta-* and x-oss-request-id
 * renamed to their x-amz-* names.
 *
 * Pure functions, any thread.
 */
#include <string.h>

#include "origin/origin.h"

static int
oss_address(struct cm_buf *host, struct cm_buf *path, const char *thost, const char *prefix,
    struct cm_slice bucket)
{
	if (bucket.len > 0 && (cm_buf_add(host, bucket.p, bucket.len) != 0 ||
	    cm_buf_addc(host, '.') != 0))
		return (-1);
	if (cm_buf_adds(host, thost) != 0 || cm_buf_adds(path, prefix) != 0)
		return (-1);
	return (0);
}

/* x-amz-* names that OSS knows under another x-oss-* name, and those it
 * has no counterpart for (dropped). Others become x-oss-<rest>. */
static const struct {
	const char	*amz;
	const char	*oss;	/* NULL: dropped */
} oss_names[] = {
	{ "x-amz-acl", "x-oss-object-acl" },
	{ "x-amz-checksum-crc32", NULL }, { "x-amz-checksum-crc32c", NULL },
	{ "x-amz-checksum-crc64nvme", NULL }, { "x-amz-checksum-sha1", NULL },
	{ "x-amz-checksum-sha256", NULL }, { "x-amz-sdk-checksum-algorithm", NULL },
	{ "x-amz-expected-bucket-owner", NULL }, { "x-amz-checksum-mode", NULL },
	{ "x-amz-request-payer", NULL }, { "x-amz-user-agent", NULL },
};

static int
oss_header(struct origin_req *f, struct cm_slice *n)
{
	size_t i;
	const char *p;

	if (n->len <= 6 || !cm_slice_eq_nocase(cm_slice(n->p, 6), CM_SLICE_LIT("x-amz-")))
		return (0);
	for (i = 0; i < CM_ARRAY_LEN(oss_names); i++) {
		if (!cm_slice_eq_nocase(*n, cm_slice_str(oss_names[i].amz)))
			continue;
		if (oss_names[i].oss == NULL)
			return (1);
		*n = cm_slice_str(oss_names[i].oss);
		return (0);
	}
	p = origin_req_keep(f, "x-oss-", 6);
	if (p == NULL || origin_req_keep(f, n->p + 6, n->len - 6) == NULL)
		return (-1);
	*n = cm_slice(p, n->len);
	return (0);
}

static int
oss_dated(struct origin_req *f, const char *date)
{
	if (origin_req_add_hdr(f, "x-oss-date", 10, date, 16) != 0 ||
	    origin_req_add_hdr(f, "x-oss-content-sha256", 20, S3SIG_UNSIGNED_PAYLOAD, 16) != 0 ||
	    origin_req_add_hdr(f, "x-oss-range-behavior", 20, "standard", 8) != 0)
		return (-1);
	return (0);
}

static int
oss_sign(const struct s3sig_signer *signer, const struct s3sig_req *sreq, struct cm_slice bucket,
    struct cm_slice rawkey, time_t now, struct cm_buf *authz)
{
	struct s3sig_signer s = *signer;
	struct cm_buf key;
	int rv = -1;

	s.service = "oss";
	cm_buf_init(&key, 64 * 1024);
	if (s3sig_uri_decode_path(&key, rawkey) != 0 ||
	    s3sig_sign_oss_v4(&s, sreq, bucket, cm_buf_slice(&key), now, authz) != 0)
		goto out;
	rv = 0;
out:
	cm_buf_free(&key);
	return (rv);
}

static struct cm_slice
oss_resp_name(struct cm_slice name, char *buf, size_t buflen)
{
	if (name.len < 6 || !cm_slice_eq_nocase(cm_slice(name.p, 6), CM_SLICE_LIT("x-oss-")))
		return (name);
	if (cm_slice_eq_nocase(name, CM_SLICE_LIT("x-oss-request-id")))
		return (CM_SLICE_LIT("x-amz-request-id"));
	if (name.len > 11 && cm_slice_eq_nocase(cm_slice(name.p, 11), CM_SLICE_LIT("x-oss-meta-")) &&
	    name.len < buflen) {
		memcpy(buf, "x-amz-meta-", 11);
		memcpy(buf + 11, name.p + 11, name.len - 11);
		return (cm_slice(buf, name.len));
	}
	return (name);
}

const struct origin_ops origin_oss_ops = {
	.name = "oss",
	.address = oss_address,
	.bucket_in_path = 0,
	.header = oss_header,
	.dated = oss_dated,
	.sign = oss_sign,
	.resp_name = oss_resp_name,
	.delete_needs_md5 = 1,
};
