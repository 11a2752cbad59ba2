/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_priv.h: shared only inside cache/: the object index (a chained hash
 * table keyed by 64-bit id) and intrusive FIFO/LRU queues of its nodes.
 * One node per tracked object: 48 bytes.
 */
#ifndef CACHALOT_CACHE_PRIV_H
#define CACHALOT_CACHE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"

struct ce_node {
	uint64_t	id;
	uint64_t	size;
	struct ce_node	*hnext;		/* hash chain */
	struct ce_node	*prev;		/* queue: towards the head (newest) */
	struct ce_node	*next;		/* queue: towards the tail (oldest) */
	uint8_t		queue;		/* which queue holds it (policy's own) */
	uint8_t		freq;
};

struct ce_index {
	struct ce_node	**b;
	size_t		nb;		/* power of two */
	size_t		n;
};

int ce_index_init(struct ce_index *ix);
void ce_index_fini(struct ce_index *ix);	/* frees every node */
struct ce_node *ce_index_get(const struct ce_index *ix, uint64_t id);
/* Inserts a new node for id (not present); NULL when out of memory. */
struct ce_node *ce_index_add(struct ce_index *ix, uint64_t id, uint64_t size);
/* Unlinks n from the index and frees it. */
void ce_index_del(struct ce_index *ix, struct ce_node *n);

struct ce_queue {
	struct ce_node	*head;
	struct ce_node	*tail;
	uint64_t	bytes;
	uint64_t	count;
};

void ce_queue_push(struct ce_queue *q, struct ce_node *n);	/* at the head */
void ce_queue_unlink(struct ce_queue *q, struct ce_node *n);

#endif
