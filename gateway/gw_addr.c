/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_addr.c: what a request is, before anything is done with it: its
 * bucket and key (virtual-hosted or path-style), its S3 operation, whether
 * it writes, whether the block cache may answer it, whether its bucket
 * name is one S3 takes. Pure functions, any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/cm_log.h"
#include "gateway/gw_delete.h"
#include "gateway/gw_err.h"
#include "gateway/gw_priv.h"
#include "cluster/cluster.h"

/* ---- Addressing and classification ---- */

int
gw_s3_address(const char *vhost_domain, struct cm_slice host, struct cm_slice path,
    struct cm_slice *bucket, struct cm_slice *key, int *vhost)
{
	struct cm_slice h = host, rest;
	size_t dl, i;

	*vhost = 0;
	*bucket = *key = cm_slice("", 0);
	if (path.len == 0 || path.p[0] != '/')
		return (-1);
	/* Host without port; IP literals and unknown hosts are path-style. */
	if (h.len > 0 && h.p[0] == '[') {
		h.len = 0;
	} else {
		for (i = 0; i < h.len && h.p[i] != ':'; i++)
			;
		h.len = i;
	}
	if (vhost_domain != NULL && (dl = strlen(vhost_domain)) > 0 && h.len > dl + 1 &&
	    h.p[h.len - dl - 1] == '.' &&
	    cm_slice_eq_nocase(cm_slice(h.p + h.len - dl, dl), cm_slice(vhost_domain, dl))) {
		*vhost = 1;
		*bucket = cm_slice(h.p, h.len - dl - 1);
		*key = cm_slice(path.p + 1, path.len - 1);
		return (0);
	}
	rest = cm_slice(path.p + 1, path.len - 1);
	*key = cm_slice_cut(rest, '/', bucket);
	if (key->p == NULL)
		*key = cm_slice("", 0);
	return (0);
}

static int
query_has(struct cm_slice q, const char *name)
{
	struct cm_slice rest = q, part, k;

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, '&', &part);
		(void)cm_slice_cut(part, '=', &k);
		if (cm_slice_eq(k, name))
			return (1);
	}
	return (0);
}

enum gw_op
gw_s3_classify(struct cm_slice m, struct cm_slice q, int has_bucket, int has_key, int copy)
{
	int get = cm_slice_eq(m, "GET"), head = cm_slice_eq(m, "HEAD");
	int put = cm_slice_eq(m, "PUT"), post = cm_slice_eq(m, "POST");
	int del = cm_slice_eq(m, "DELETE");

	if (!has_bucket)
		return (get ? GW_OP_ListBuckets : GW_OP_Other);
	if (!has_key) {
		if (post && query_has(q, "delete"))
			return (GW_OP_DeleteObjects);
		if (get && query_has(q, "location"))
			return (GW_OP_GetBucketLocation);
		if (get && query_has(q, "uploads"))
			return (GW_OP_ListMultipartUploads);
		if (get && query_has(q, "versions"))
			return (GW_OP_ListObjectVersions);
		if (get && q.len > 0 && !query_has(q, "list-type") && !query_has(q, "prefix") &&
		    !query_has(q, "delimiter") && !query_has(q, "marker") &&
		    !query_has(q, "max-keys") && !query_has(q, "encoding-type"))
			return (GW_OP_BucketSubresource);
		if (get)
			return (query_has(q, "list-type") ? GW_OP_ListObjectsV2 : GW_OP_ListObjects);
		if (head)
			return (GW_OP_HeadBucket);
		if (put)
			return (q.len > 0 ? GW_OP_BucketSubresource : GW_OP_CreateBucket);
		if (del)
			return (q.len > 0 ? GW_OP_BucketSubresource : GW_OP_DeleteBucket);
		return (GW_OP_Other);
	}
	if (query_has(q, "tagging"))
		return (get ? GW_OP_GetObjectTagging : put ? GW_OP_PutObjectTagging :
		    del ? GW_OP_DeleteObjectTagging : GW_OP_Other);
	if (query_has(q, "acl"))
		return (get ? GW_OP_GetObjectAcl : put ? GW_OP_PutObjectAcl : GW_OP_Other);
	if (post && query_has(q, "uploads"))
		return (GW_OP_CreateMultipartUpload);
	if (post && query_has(q, "uploadId"))
		return (GW_OP_CompleteMultipartUpload);
	if (put && query_has(q, "uploadId"))
		return (copy ? GW_OP_UploadPartCopy : GW_OP_UploadPart);
	if (del && query_has(q, "uploadId"))
		return (GW_OP_AbortMultipartUpload);
	if (get && query_has(q, "uploadId"))
		return (GW_OP_ListParts);
	if (get)
		return (GW_OP_GetObject);
	if (head)
		return (GW_OP_HeadObject);
	if (put)
		return (copy ? GW_OP_CopyObject : GW_OP_PutObject);
	if (del)
		return (GW_OP_DeleteObject);
	return (GW_OP_Other);
}

int
gw_s3_is_write(enum gw_op op)
{
	return (op == GW_OP_PutObject || op == GW_OP_CopyObject || op == GW_OP_DeleteObject ||
	    op == GW_OP_DeleteObjects || op == GW_OP_CompleteMultipartUpload ||
	    op == GW_OP_DeleteBucket || op == GW_OP_PutObjectTagging ||
	    op == GW_OP_DeleteObjectTagging);
}

/* GET/HEAD of an object that the block cache may answer: no versions,
 * parts, response overrides, customer keys or checksum modes, no body. */
int
gw_s3_cacheable(const struct http_req *r)
{
	static const char *const hdrs[] = {
		"x-amz-server-side-encryption-customer-algorithm", "x-amz-checksum-mode",
		"x-amz-request-payer",
	};
	struct cm_buf q;
	size_t i;
	int ok;

	if (r->content_length > 0 || r->chunked)
		return (0);
	for (i = 0; i < CM_ARRAY_LEN(hdrs); i++)
		if (http_req_hdr(r, hdrs[i]) != NULL)
			return (0);
	cm_buf_init(&q, 4096);
	ok = s3sig_canon_query_forward(&q, r->query) == 0 &&
	    (q.len == 0 || cm_slice_eq(cm_buf_slice(&q), "x-id=GetObject") ||
	    cm_slice_eq(cm_buf_slice(&q), "x-id=HeadObject"));
	cm_buf_free(&q);
	return (ok);
}
