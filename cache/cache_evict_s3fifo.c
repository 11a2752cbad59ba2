/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_evict_s3fifo.c: S3-FIFO (Yang et al., "FIFO queues are all you need
 * for cache eviction", SOSP 2023).
 *
 *   S  small FIFO, 10% of the bytes: new objects enter here, unless the
 *      ghost remembers them. At S's tail: accessed since insertion -> to M;
 *      else evicted, its id to G. One-hit wonders never reach M.
 *   M  main FIFO, the rest: at its tail an object with freq > 0 goes back
 *      to the head with freq - 1 (a 2-bit clock), else it is evicted.
 *   G  ghost FIFO of ids evicted from S (no data), bounded to 90% of the
 *      capacity in the sizes it remembers: a miss on a ghost enters M.
 * A hit only bumps freq (capped at 3): no queue moves on the hit path.
 * One thread at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "cache/cache_priv.h"

enum { Q_SMALL = 1, Q_MAIN, Q_GHOST };

#define SMALL_PCT	10
#define GHOST_PCT	90
#define MAX_FREQ	3
#define MOVE_TO_MAIN	1	/* accesses in S that earn a place in M */

struct cache_evict {
	unsigned	magic;
#define S3FIFO_MAGIC	0x53f1f0aa
	uint64_t	cap;
	uint64_t	small_cap;
	uint64_t	ghost_cap;
	cache_evict_cb	*cb;
	void		*arg;
	struct ce_index	ix;		/* cached objects and ghosts alike */
	struct ce_queue	s, m, g;
};

static struct cache_evict *
s3_create(uint64_t capacity, cache_evict_cb *cb, void *arg)
{
	struct cache_evict *e = calloc(1, sizeof *e);

	if (e == NULL)
		return (NULL);
	if (ce_index_init(&e->ix) != 0) {
		free(e);
		return (NULL);
	}
	e->magic = S3FIFO_MAGIC;
	e->cap = capacity;
	e->small_cap = capacity / 100 * SMALL_PCT + capacity % 100 * SMALL_PCT / 100;
	if (e->small_cap == 0)
		e->small_cap = 1;
	e->ghost_cap = capacity / 100 * GHOST_PCT;
	e->cb = cb;
	e->arg = arg;
	return (e);
}

static void
ghost_trim(struct cache_evict *e)
{
	while (e->g.bytes > e->ghost_cap && e->g.tail != NULL) {
		struct ce_node *t = e->g.tail;

		ce_queue_unlink(&e->g, t);
		ce_index_del(&e->ix, t);
	}
}

static void
evict_node(struct cache_evict *e, struct ce_queue *q, struct ce_node *t, int to_ghost)
{
	ce_queue_unlink(q, t);
	if (e->cb != NULL)
		e->cb(e->arg, t->id, t->size);
	if (to_ghost) {
		t->queue = Q_GHOST;
		t->freq = 0;
		ce_queue_push(&e->g, t);
		ghost_trim(e);
	} else {
		ce_index_del(&e->ix, t);
	}
}

/* One object leaves M (others may go round again first). */
static void
evict_main(struct cache_evict *e)
{
	struct ce_node *t;

	while ((t = e->m.tail) != NULL) {
		if (t->freq == 0) {
			evict_node(e, &e->m, t, 0);
			return;
		}
		ce_queue_unlink(&e->m, t);
		t->freq--;
		ce_queue_push(&e->m, t);
	}
}

/* One object leaves S for good, or moves to M (which may then evict). */
static void
evict_small(struct cache_evict *e)
{
	struct ce_node *t;

	while ((t = e->s.tail) != NULL) {
		if (t->freq >= MOVE_TO_MAIN) {
			ce_queue_unlink(&e->s, t);
			t->queue = Q_MAIN;
			t->freq = 0;
			ce_queue_push(&e->m, t);
			while (e->m.bytes > e->cap - e->small_cap && e->m.count > 1)
				evict_main(e);
			continue;
		}
		evict_node(e, &e->s, t, 1);
		return;
	}
}

/* Makes room for size more bytes. */
static void
make_room(struct cache_evict *e, uint64_t size)
{
	while (e->s.bytes + e->m.bytes + size > e->cap) {
		if (e->s.bytes > e->small_cap || e->m.tail == NULL)
			evict_small(e);
		else
			evict_main(e);
		if (e->s.tail == NULL && e->m.tail == NULL)
			break;
	}
}

static int
s3_access(struct cache_evict *e, uint64_t id, uint64_t size)
{
	struct ce_node *n;
	int ghost = 0;

	CM_ASSERT(e->magic == S3FIFO_MAGIC);
	n = ce_index_get(&e->ix, id);
	if (n != NULL && n->queue != Q_GHOST) {
		if (n->freq < MAX_FREQ)
			n->freq++;
		return (1);
	}
	if (n != NULL) {
		ghost = 1;
		ce_queue_unlink(&e->g, n);
		ce_index_del(&e->ix, n);
	}
	if (size > e->cap)
		return (0);
	make_room(e, size);
	n = ce_index_add(&e->ix, id, size);
	if (n == NULL)
		return (0);
	n->queue = ghost ? Q_MAIN : Q_SMALL;
	ce_queue_push(ghost ? &e->m : &e->s, n);
	return (0);
}

static void
s3_remove(struct cache_evict *e, uint64_t id)
{
	struct ce_node *n = ce_index_get(&e->ix, id);

	if (n == NULL)
		return;
	ce_queue_unlink(n->queue == Q_SMALL ? &e->s : n->queue == Q_MAIN ? &e->m : &e->g, n);
	ce_index_del(&e->ix, n);
}

static uint64_t
s3_used(const struct cache_evict *e)
{
	return (e->s.bytes + e->m.bytes);
}

static void
s3_fini(struct cache_evict **ep)
{
	struct cache_evict *e = *ep;

	*ep = NULL;
	if (e == NULL)
		return;
	CM_ASSERT(e->magic == S3FIFO_MAGIC);
	ce_index_fini(&e->ix);
	e->magic = 0;
	free(e);
}

static int
s3_holds(const struct cache_evict *e, uint64_t id)
{
	const struct ce_node *n;

	CM_ASSERT(e->magic == S3FIFO_MAGIC);
	n = ce_index_get(&e->ix, id);
	return (n != NULL && n->queue != Q_GHOST);
}

const struct cache_evict_ops cache_evict_s3fifo_ops = {
	"s3fifo", s3_create, s3_access, s3_remove, s3_used, s3_fini, s3_holds,
};

const struct cache_evict_ops *
cache_evict_by_name(const char *name)
{
	static const struct cache_evict_ops *const all[] = {
		&cache_evict_s3fifo_ops, &cache_evict_lru_ops,
	};
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(all); i++)
		if (strcmp(all[i]->name, name) == 0)
			return (all[i]);
	return (NULL);
}
