/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the aws-chunked decoder with trailers, in every payload mode,
 * fed in pieces whose sizes come from the input's first byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
sink(void *arg, const char *p, size_t len)
{
	(void)p;
	*(size_t *)arg += len;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3sig_body_init in;
	struct s3sig_body *b;
	size_t off, n, step, got = 0;
	enum s3sig_err e = S3SIG_OK;

	if (size < 1)
		return (0);
	memset(&in, 0, sizeof in);
	in.payload = (enum s3sig_payload)(data[0] % 5);
	in.trailer_ck = (enum s3sig_ck_algo)(1 + (data[0] >> 3) % 5);
	in.decoded_length = (data[0] & 0x80) ? 5 : -1;
	memcpy(in.seed_sig, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", 65);
	memcpy(in.amz_date, "20130524T000000Z", 17);
	memcpy(in.scope, "20130524/us-east-1/s3/aws4_request", 35);
	step = 1 + (data[0] & 0x3f);
	data++;
	size--;
	if (s3sig_body_new(&in, &b) != S3SIG_OK)
		return (0);
	for (off = 0; off < size && e == S3SIG_OK; off += n) {
		n = size - off < step ? size - off : step;
		e = s3sig_body_feed(b, (const char *)data + off, n, sink, &got);
	}
	if (e == S3SIG_OK)
		(void)s3sig_body_finish(b);
	s3sig_body_free(&b);
	return (0);
}
