/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the disk tier's metadata files (cache_disk_meta_load), read
 * back at start from a data directory anyone with access to it may have
 * changed. The first byte chooses whether the file gets the right magic
 * and the right CRC32C (so that the checks behind them are reached too);
 * the rest is the file. A file that loads must keep the loader's promises:
 * names within their bounds and NUL-terminated, the metadata's header
 * lengths within its buffer, the ETag terminated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
crc32c(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	int k;

	while (n-- > 0) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return (~c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct cache_meta m;
	char bucket[1025], key[4097];
	size_t blen, klen, n;
	int64_t wall;
	unsigned char *f;
	FILE *fp;

	if (size < 1)
		return (0);
	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/fuzz_diskmeta.%d", (int)getpid());
	n = size - 1;
	f = malloc(n > 0 ? n : 1);
	if (f == NULL)
		return (0);
	memcpy(f, data + 1, n);
	if ((data[0] & 1) && n >= 4)
		memcpy(f, "MET2", 4);	/* META_MAGIC, little-endian */
	if ((data[0] & 2) && n >= 8) {
		uint32_t c = crc32c(f + 8, n - 8);

		memcpy(f + 4, &c, 4);
	}
	fp = fopen(path, "wb");
	if (fp == NULL) {
		free(f);
		return (0);
	}
	(void)fwrite(f, 1, n, fp);
	fclose(fp);
	free(f);
	if (cache_disk_meta_load(path, &m, &wall, bucket, &blen, key, &klen) == 0) {
		if (blen > 1024 || klen > 4096 || bucket[blen] != '\0' || key[klen] != '\0' ||
		    m.hdrs_full_len > sizeof m.hdrs || m.hdrs_len > m.hdrs_full_len ||
		    memchr(m.etag, '\0', sizeof m.etag) == NULL)
			__builtin_trap();
		(void)CACHE_META_USED(&m);
	}
	(void)unlink(path);
	return (0);
}
