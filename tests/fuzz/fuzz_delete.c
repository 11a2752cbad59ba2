/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the keys of a DeleteObjects body (gateway/gw_delete.c), the
 * client's untrusted XML. Whatever the bytes: no crash, no leak, keys
 * that are non-empty and NUL-free, at most the maximum, and a count that
 * matches the callbacks. */
#include <stdint.h>
#include <string.h>

#include "gateway/gw_delete.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
on_key(void *arg, const char *key, size_t len)
{
	size_t *n = arg;

	if (len == 0 || strlen(key) != len)
		__builtin_trap();
	(*n)++;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	int rc = gw_delete_keys((const char *)data, size, 8, on_key, &n);

	if (rc > 8 || (rc >= 0 && (size_t)rc != n))
		__builtin_trap();
	return (0);
}
