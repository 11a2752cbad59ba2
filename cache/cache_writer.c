/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_writer.c: the disk tier's write-behind thread (see cache.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/cm_log.h"
#include "cache/cache.h"
#include "cache/cache_priv.h"

struct wb_item {
	struct cache_blk	*blk;		/* owned reference */
	unsigned char		id[32];
	struct wb_item		*next;
};

struct cache_writer {
	unsigned		magic;
#define CACHE_WRITER_MAGIC	0x3b17e5a1
	struct cache_store	*store;
	struct cache_disk	*disk;
	pthread_t		thr;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	struct wb_item		*head, *tail;	/* under mtx */
	uint64_t		queued;		/* bytes, under mtx */
	uint64_t		max;
	uint64_t		dropped;	/* under mtx */
	int			stop;		/* under mtx */
};

static void *
writer_main(void *arg)
{
	struct cache_writer *w = arg;
	struct wb_item *it;

	pthread_mutex_lock(&w->mtx);
	for (;;) {
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mtx);
		if (w->head == NULL)
			break;		/* stopping, and all written */
		it = w->head;
		w->head = it->next;
		if (w->head == NULL)
			w->tail = NULL;
		pthread_mutex_unlock(&w->mtx);
		/* A failure is counted by the disk tier; it costs a refetch. */
		if (cache_disk_put(w->disk, it->id, cache_blk_data(it->blk), cache_blk_len(it->blk)) != 0)
			CM_LOGW("disk tier: cannot write a block");
		pthread_mutex_lock(&w->mtx);
		w->queued -= cache_blk_len(it->blk);
		pthread_mutex_unlock(&w->mtx);
		cache_blk_release(w->store, &it->blk);
		free(it);
		pthread_mutex_lock(&w->mtx);
	}
	pthread_mutex_unlock(&w->mtx);
	return (NULL);
}

struct cache_writer *
cache_writer_new(struct cache_store *s, struct cache_disk *d, uint64_t max_queued_bytes)
{
	struct cache_writer *w = calloc(1, sizeof *w);

	if (w == NULL)
		return (NULL);
	w->magic = CACHE_WRITER_MAGIC;
	w->store = s;
	w->disk = d;
	w->max = max_queued_bytes;
	if (pthread_mutex_init(&w->mtx, NULL) != 0)
		goto fail_mtx;
	if (pthread_cond_init(&w->cv, NULL) != 0)
		goto fail_cv;
	if (pthread_create(&w->thr, NULL, writer_main, w) != 0)
		goto fail_thr;
	return (w);
fail_thr:
	pthread_cond_destroy(&w->cv);
fail_cv:
	pthread_mutex_destroy(&w->mtx);
fail_mtx:
	free(w);
	return (NULL);
}

void
cache_writer_close(struct cache_writer **wp)
{
	struct cache_writer *w = *wp;

	*wp = NULL;
	if (w == NULL)
		return;
	CM_ASSERT(w->magic == CACHE_WRITER_MAGIC);
	pthread_mutex_lock(&w->mtx);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	(void)pthread_join(w->thr, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
	w->magic = 0;
	free(w);
}

int
cache_writer_put(struct cache_writer *w, struct cache_blk *b, const unsigned char id[32])
{
	struct wb_item *it;
	uint64_t len = cache_blk_len(b);

	pthread_mutex_lock(&w->mtx);
	if (w->stop || w->queued + len > w->max) {
		w->dropped++;
		pthread_mutex_unlock(&w->mtx);
		return (-1);
	}
	w->queued += len;
	pthread_mutex_unlock(&w->mtx);
	it = malloc(sizeof *it);
	if (it == NULL) {
		pthread_mutex_lock(&w->mtx);
		w->queued -= len;
		w->dropped++;
		pthread_mutex_unlock(&w->mtx);
		return (-1);
	}
	it->blk = cache_blk_ref(w->store, b);
	memcpy(it->id, id, sizeof it->id);
	it->next = NULL;
	pthread_mutex_lock(&w->mtx);
	if (w->tail != NULL)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	return (0);
}

void
cache_writer_stats(struct cache_writer *w, uint64_t *queued, uint64_t *dropped)
{
	pthread_mutex_lock(&w->mtx);
	*queued = w->queued;
	*dropped = w->dropped;
	pthread_mutex_unlock(&w->mtx);
}
