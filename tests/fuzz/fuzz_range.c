/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Range and conditional headers against an object. The first
 * 8 bytes are the object's size; the rest, split at newlines, the headers. */
#include <stdint.h>
#include <string.h>

#include "cache/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_obj_info o = { { "\"e\"", 3 }, 0, 1369353600 };
	struct cache_conds c;
	struct cache_range r;
	struct cm_slice in, f[5];
	int i;

	if (size < 8)
		return (0);
	memcpy(&o.size, data, 8);
	in = cm_slice((const char *)data + 8, size - 8);
	for (i = 0; i < 5; i++)
		in = cm_slice_cut(in, '\n', &f[i]);
	if (cache_range_eval(f[0], o.size, &r) == 206 && (r.first > r.last || r.last >= o.size))
		__builtin_trap();
	c.if_match = f[1];
	c.if_none_match = f[2];
	c.if_modified_since = f[3];
	c.if_unmodified_since = f[4];
	(void)cache_cond_eval(&o, &c);
	return (0);
}
