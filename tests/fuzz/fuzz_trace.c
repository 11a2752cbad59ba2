/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: trace records for `cachalot sim`: CSV lines and
 * oracleGeneral records, then the policies fed with what they parse. */
#include <stdint.h>
#include <string.h>

#include "cache/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_evict *e[2];
	struct cache_sim_req r;
	size_t off = 0, n;
	int i;

	e[0] = cache_evict_s3fifo_ops.create(1 << 16, NULL, NULL);
	e[1] = cache_evict_lru_ops.create(1 << 16, NULL, NULL);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);

		n = nl != NULL ? (size_t)(nl - data - off) + 1 : size - off;
		if (cache_trace_parse_csv((const char *)data + off, n, &r) == 0) {
			(void)cache_evict_s3fifo_ops.access(e[0], r.id, r.size);
			(void)cache_evict_lru_ops.access(e[1], r.id, r.size);
		}
		if (n >= 24) {
			cache_trace_parse_og(data + off, &r);
			(void)cache_evict_s3fifo_ops.access(e[0], r.id % 512, r.size % 4096);
			(void)cache_evict_lru_ops.access(e[1], r.id % 512, r.size % 4096);
		}
		off += n;
	}
	for (i = 0; i < 2; i++)
		if (e[i] != NULL)
			(i == 0 ? cache_evict_s3fifo_ops : cache_evict_lru_ops).fini(&e[i]);
	return (0);
}
