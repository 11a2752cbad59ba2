/* SPDX-License-Identifier: Apache-2.0 */
/*
 * origin_s3.c: S3 origins (and workers, which speak S3). Path-style URL
 * (prefix + "/bucket/key"), the client's headers as they are, x-amz-date
 * and x-amz-content-sha256: UNSIGNED-PAYLOAD (bodies stream; the client's
 * body was checked), and a SigV4 signature with the target's key.
 *
 * Pure functions, any thread.
 */
#include <string.h>

#include "origin/origin.h"

static int
s3_address(struct cm_buf *host, struct cm_buf *path, const char *thost, const char *prefix,
    struct cm_slice bucket)
{
	if (cm_buf_adds(host, thost) != 0 || cm_buf_adds(path, prefix) != 0)
		return (-1);
	if (bucket.len > 0 && (cm_buf_addc(path, '/') != 0 ||
	    cm_buf_add(path, bucket.p, bucket.len) != 0))
		return (-1);
	return (0);
}

static int
s3_header(struct origin_req *f, struct cm_slice *n)
{
	(void)f;
	(void)n;
	return (0);
}

static int
s3_dated(struct origin_req *f, const char *date)
{
	if (origin_req_add_hdr(f, "x-amz-date", 10, date, 16) != 0 ||
	    origin_req_add_hdr(f, "x-amz-content-sha256", 20, S3SIG_UNSIGNED_PAYLOAD, 16) != 0)
		return (-1);
	return (0);
}

static int
s3_sign(const struct s3sig_signer *signer, const struct s3sig_req *sreq, struct cm_slice bucket,
    struct cm_slice rawkey, time_t now, struct cm_buf *authz)
{
	(void)bucket;
	(void)rawkey;
	return (s3sig_sign_v4(signer, sreq, now, S3SIG_UNSIGNED_PAYLOAD, authz));
}

static struct cm_slice
s3_resp_name(struct cm_slice name, char *buf, size_t buflen)
{
	(void)buf;
	(void)buflen;
	return (name);
}

const struct origin_ops origin_s3_ops = {
	.name = "s3",
	.address = s3_address,
	.bucket_in_path = 1,
	.header = s3_header,
	.dated = s3_dated,
	.sign = s3_sign,
	.resp_name = s3_resp_name,
	.delete_needs_md5 = 0,
};

/* Toward a cluster worker: addressed and dated as S3, and signed by the
 * caller with the cluster's key (gw_worker_sign), so no SigV4 is computed
 * only to be thrown away on every internal request. */
static int
unsigned_sign(const struct s3sig_signer *sg, const struct s3sig_req *r, struct cm_slice bucket,
    struct cm_slice rawkey, time_t now, struct cm_buf *authz)
{
	(void)sg;
	(void)r;
	(void)bucket;
	(void)rawkey;
	(void)now;
	cm_buf_reset(authz);
	return (0);
}

const struct origin_ops origin_worker_ops = {
	.name = "worker",
	.address = s3_address,
	.bucket_in_path = 1,
	.header = s3_header,
	.dated = s3_dated,
	.sign = unsigned_sign,
	.resp_name = s3_resp_name,
	.delete_needs_md5 = 0,
};

const struct origin_ops *
origin_ops_by_name(const char *name)
{
	if (strcmp(name, "s3") == 0)
		return (&origin_s3_ops);
	if (strcmp(name, "oss") == 0)
		return (&origin_oss_ops);
	return (NULL);
}
