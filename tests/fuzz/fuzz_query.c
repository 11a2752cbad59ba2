/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: presigned query parsing (V4 and V2), query canonicalisation
 * and path canonicalisation of hostile URLs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct s3sig_cred cred = { "AKIAIOSFODNN7EXAMPLE", "secret" };
	static const char *const regions[] = { "us-east-1" };
	static const struct s3sig_conf conf = { &cred, 1, regions, 1, "s3", 1, 900 };
	struct s3sig_v4_fields f;
	struct cm_buf scratch, out;
	struct s3sig_hdr h = { CM_SLICE_LIT("Host"), CM_SLICE_LIT("example.com") };
	struct cm_slice in = cm_slice((const char *)data, size), path, query;
	struct s3sig_req r;
	struct s3sig_verifier *v;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;

	cm_buf_init(&scratch, 8192);
	cm_buf_init(&out, 65536);
	(void)s3sig_parse_query_v4(in, &scratch, &f);
	(void)s3sig_canon_query(&out, in, "X-Amz-Signature");
	cm_buf_reset(&out);
	/* The first '?' splits a path from a query, as on the wire. */
	query = cm_slice_cut(in, '?', &path);
	(void)s3sig_canon_path(&out, path);
	memset(&r, 0, sizeof r);
	r.method = CM_SLICE_LIT("GET");
	r.path = path;
	r.query = query;
	r.hdrs = &h;
	r.nhdrs = 1;
	v = s3sig_verifier_new(&conf);
	if (v != NULL && s3sig_verify(v, &r, 1369353600, &auth, &b) == S3SIG_OK)
		s3sig_body_free(&b);
	s3sig_verifier_free(&v);
	cm_buf_free(&scratch);
	cm_buf_free(&out);
	return (0);
}
