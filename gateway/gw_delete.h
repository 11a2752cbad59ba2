/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_delete.h: the keys a DeleteObjects request names, read from its body
 * so that the cache forgets those keys and nothing else. See gw_delete.c.
 */
#ifndef CACHALOT_GW_DELETE_H
#define CACHALOT_GW_DELETE_H

#include <stddef.h>

/* Most keys one DeleteObjects may name (S3's limit). */
#define GW_DELETE_MAX_KEYS	1000

/* Called with each key: its bytes as the object's name (entities and
 * character references decoded), NUL-terminated, len bytes. 0 to go on. */
typedef int gw_delete_key_f(void *arg, const char *key, size_t len);

/*
 * Calls cb for every /Delete/Object/Key of body (untrusted: the client's
 * request as it passed). Returns the number of keys, or -1 when body is not
 * such a document (not well-formed XML, a DOCTYPE, another root, an Object
 * without a Key, an empty Key, more than max keys, cb failed): the caller
 * then forgets more (the bucket), never less. cb may have been called for
 * some keys before a -1.
 */
int gw_delete_keys(const char *body, size_t len, size_t max, gw_delete_key_f *cb, void *arg);

#endif
