/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_checksum.c: the flexible checksums S3 clients send in
 * x-amz-checksum-* headers and aws-chunked trailers: CRC32 (ISO-HDLC),
 * CRC32C (Castagnoli), CRC64NVME, SHA-1 and SHA-256. The CRCs are reflected
 * and table-driven (tables built once, thread-safely); the digests use
 * OpenSSL. Values go on the wire as base64 of the big-endian digest.
 * Any thread.
 */
#include <pthread.h>

#include <openssl/evp.h>

#include "s3sig_priv.h"

static uint32_t crc32_tbl[256], crc32c_tbl[256];
static uint64_t crc64_tbl[256];
static pthread_once_t tbl_once = PTHREAD_ONCE_INIT;

static void
tables_init(void)
{
	uint32_t c32, c32c;
	uint64_t c64;
	int i, k;

	for (i = 0; i < 256; i++) {
		c32 = c32c = (uint32_t)i;
		c64 = (uint64_t)i;
		for (k = 0; k < 8; k++) {
			c32 = (c32 & 1) ? (c32 >> 1) ^ 0xEDB88320u : c32 >> 1;
			c32c = (c32c & 1) ? (c32c >> 1) ^ 0x82F63B78u : c32c >> 1;
			c64 = (c64 & 1) ? (c64 >> 1) ^ 0x9A6C9329AC4BC9B5ull : c64 >> 1;
		}
		crc32_tbl[i] = c32;
		crc32c_tbl[i] = c32c;
		crc64_tbl[i] = c64;
	}
}

static const struct {
	const char		*name;
	enum s3sig_ck_algo	algo;
} ck_names[] = {
	{ "x-amz-checksum-crc32", S3SIG_CK_CRC32 },
	{ "x-amz-checksum-crc32c", S3SIG_CK_CRC32C },
	{ "x-amz-checksum-crc64nvme", S3SIG_CK_CRC64NVME },
	{ "x-amz-checksum-sha1", S3SIG_CK_SHA1 },
	{ "x-amz-checksum-sha256", S3SIG_CK_SHA256 },
};

enum s3sig_ck_algo
s3sig_ck_by_header(struct cm_slice name)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(ck_names); i++)
		if (cm_slice_eq_nocase(name, cm_slice_str(ck_names[i].name)))
			return (ck_names[i].algo);
	return (S3SIG_CK_NONE);
}

int
s3sig_ck_init(struct s3sig_ck *ck, enum s3sig_ck_algo algo)
{
	const EVP_MD *md = NULL;

	AZ(pthread_once(&tbl_once, tables_init));
	ck->algo = algo;
	ck->crc = algo == S3SIG_CK_CRC64NVME ? ~0ull : 0xFFFFFFFFull;
	ck->md = NULL;
	if (algo == S3SIG_CK_SHA1)
		md = EVP_sha1();
	else if (algo == S3SIG_CK_SHA256)
		md = EVP_sha256();
	if (md == NULL)
		return (0);
	ck->md = EVP_MD_CTX_new();
	if (ck->md == NULL)
		return (-1);
	if (EVP_DigestInit_ex(ck->md, md, NULL) != 1) {
		EVP_MD_CTX_free(ck->md);
		ck->md = NULL;
		return (-1);
	}
	return (0);
}

void
s3sig_ck_update(struct s3sig_ck *ck, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint32_t c32 = (uint32_t)ck->crc;
	uint64_t c64 = ck->crc;
	size_t i;

	switch (ck->algo) {
	case S3SIG_CK_CRC32:
		for (i = 0; i < len; i++)
			c32 = crc32_tbl[(c32 ^ b[i]) & 0xff] ^ (c32 >> 8);
		ck->crc = c32;
		break;
	case S3SIG_CK_CRC32C:
		for (i = 0; i < len; i++)
			c32 = crc32c_tbl[(c32 ^ b[i]) & 0xff] ^ (c32 >> 8);
		ck->crc = c32;
		break;
	case S3SIG_CK_CRC64NVME:
		for (i = 0; i < len; i++)
			c64 = crc64_tbl[(c64 ^ b[i]) & 0xff] ^ (c64 >> 8);
		ck->crc = c64;
		break;
	case S3SIG_CK_SHA1:
	case S3SIG_CK_SHA256:
		AN(EVP_DigestUpdate(ck->md, p, len));
		break;
	case S3SIG_CK_NONE:
		break;
	}
}

int
s3sig_ck_final(struct s3sig_ck *ck, unsigned char out[32])
{
	unsigned int n = 0;
	uint64_t v;
	int i, len = 0;

	switch (ck->algo) {
	case S3SIG_CK_CRC32:
	case S3SIG_CK_CRC32C:
		v = (uint32_t)~ck->crc;
		len = 4;
		break;
	case S3SIG_CK_CRC64NVME:
		v = ~ck->crc;
		len = 8;
		break;
	case S3SIG_CK_SHA1:
	case S3SIG_CK_SHA256:
		AN(EVP_DigestFinal_ex(ck->md, out, &n));
		s3sig_ck_fini(ck);
		return ((int)n);
	default:
		return (0);
	}
	for (i = len - 1; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	return (len);
}

void
s3sig_ck_fini(struct s3sig_ck *ck)
{
	if (ck->md != NULL)
		EVP_MD_CTX_free(ck->md);
	ck->md = NULL;
}
