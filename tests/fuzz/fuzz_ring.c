/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the ring's text form as a gateway reads it from the master,
 * then placement on what was accepted. */
#include <stdint.h>
#include <string.h>

#include "cluster/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct ring *r = ring_parse((const char *)data, size, err, sizeof err);
	size_t o[4], n, i;

	if (r == NULL)
		return (0);
	for (i = 0; i < 16; i++) {
		n = ring_owners(r, ring_hash(cm_slice("b", 1), cm_slice("k", 1), i), o, 4);
		if (n > r->n || (r->n > 0 && n == 0))
			__builtin_trap();
		while (n-- > 0)
			if (o[n] >= r->n)
				__builtin_trap();
	}
	ring_free(&r);
	return (0);
}
