/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_index.c: the object index and queues of cache_priv.h.
 * One thread at a time (the owner of the policy instance).
 */
#include <stdlib.h>

#include "common/common.h"
#include "cache/cache_priv.h"

static size_t
slot(const struct ce_index *ix, uint64_t id)
{
	/* Fibonacci hashing: ids may be dense or structured. */
	return ((size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (ix->nb - 1));
}

int
ce_index_init(struct ce_index *ix)
{
	ix->nb = 1024;
	ix->n = 0;
	ix->b = calloc(ix->nb, sizeof *ix->b);
	return (ix->b == NULL ? -1 : 0);
}

void
ce_index_fini(struct ce_index *ix)
{
	size_t i;
	struct ce_node *n, *next;

	for (i = 0; ix->b != NULL && i < ix->nb; i++)
		for (n = ix->b[i]; n != NULL; n = next) {
			next = n->hnext;
			free(n);
		}
	free(ix->b);
	ix->b = NULL;
	ix->n = ix->nb = 0;
}

struct ce_node *
ce_index_get(const struct ce_index *ix, uint64_t id)
{
	struct ce_node *n;

	for (n = ix->b[slot(ix, id)]; n != NULL; n = n->hnext)
		if (n->id == id)
			return (n);
	return (NULL);
}

/* Doubles the table; keeps the old one when memory is short. */
static void
grow(struct ce_index *ix)
{
	struct ce_index nx;
	struct ce_node *n, *next;
	size_t i, s;

	nx.nb = ix->nb * 2;
	nx.b = calloc(nx.nb, sizeof *nx.b);
	if (nx.b == NULL)
		return;
	for (i = 0; i < ix->nb; i++)
		for (n = ix->b[i]; n != NULL; n = next) {
			next = n->hnext;
			s = slot(&nx, n->id);
			n->hnext = nx.b[s];
			nx.b[s] = n;
		}
	free(ix->b);
	ix->b = nx.b;
	ix->nb = nx.nb;
}

struct ce_node *
ce_index_add(struct ce_index *ix, uint64_t id, uint64_t size)
{
	struct ce_node *n;
	size_t s;

	if (ix->n >= ix->nb)
		grow(ix);
	n = calloc(1, sizeof *n);
	if (n == NULL)
		return (NULL);
	n->id = id;
	n->size = size;
	s = slot(ix, id);
	n->hnext = ix->b[s];
	ix->b[s] = n;
	ix->n++;
	return (n);
}

void
ce_index_del(struct ce_index *ix, struct ce_node *n)
{
	struct ce_node **pp;

	for (pp = &ix->b[slot(ix, n->id)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			ix->n--;
			free(n);
			return;
		}
	CM_ASSERT(!"node not in its index");
}

void
ce_queue_push(struct ce_queue *q, struct ce_node *n)
{
	n->prev = NULL;
	n->next = q->head;
	if (q->head != NULL)
		q->head->prev = n;
	q->head = n;
	if (q->tail == NULL)
		q->tail = n;
	q->bytes += n->size;
	q->count++;
}

void
ce_queue_unlink(struct ce_queue *q, struct ce_node *n)
{
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		q->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		q->tail = n->prev;
	n->prev = n->next = NULL;
	CM_ASSERT(q->bytes >= n->size && q->count > 0);
	q->bytes -= n->size;
	q->count--;
}
