/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the SigV4 Authorization header parser, then a whole header
 * verification with that value (dates, keys, regions, canonical request). */
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
	struct s3sig_hdr h[4] = {
		{ CM_SLICE_LIT("Host"), CM_SLICE_LIT("example.com:9000") },
		{ CM_SLICE_LIT("x-amz-date"), CM_SLICE_LIT("20130524T000000Z") },
		{ CM_SLICE_LIT("x-amz-content-sha256"), CM_SLICE_LIT("UNSIGNED-PAYLOAD") },
		{ CM_SLICE_LIT("Authorization"), { (const char *)data, size } },
	};
	struct s3sig_req r = { CM_SLICE_LIT("GET"), CM_SLICE_LIT("/b/k%20x"),
	    CM_SLICE_LIT("a=1&b"), h, 4, { NULL, 0 } };
	struct s3sig_verifier *v;
	struct s3sig_auth auth;
	struct s3sig_body *b = NULL;

	(void)s3sig_parse_authz_v4(cm_slice((const char *)data, size), &f);
	v = s3sig_verifier_new(&conf);
	if (v == NULL)
		return (0);
	if (s3sig_verify(v, &r, 1369353600, &auth, &b) == S3SIG_OK)
		s3sig_body_free(&b);
	s3sig_verifier_free(&v);
	return (0);
}
