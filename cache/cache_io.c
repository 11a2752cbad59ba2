/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_io.c: the disk tier's I/O thread for reads and metadata files, so
 * that no event loop and no holder of the store's lock ever waits on the
 * disk (see cache.h, "The I/O thread").
 *
 * Jobs, in one FIFO (so that the metadata writes of one key land in the
 * order they were made): a block read (cache_io_read: the block, opened
 * CACHE_FILL by its requester, is filled from its file and its CRC checked
 * here; the request is then posted to its loop's completion queue), a
 * metadata write and a metadata removal (queued by the store under its
 * lock, with copies of what they write).
 *
 * Threads: the I/O thread runs io_main; cache_io_* are called from the
 * loops and, for metadata, from any holder of the store's lock. The
 * completion queue's callback runs on its loop's thread.
 * Locks: io->mtx guards the job queue and stop; q->mtx a completion queue's
 * list. Lock order: store mtx -> io->mtx (the store queues metadata jobs
 * under its lock); q->mtx is a leaf. No file I/O is done under either, and
 * the I/O thread holds neither the store's lock nor io->mtx while it reads
 * or writes a file: it unlinks a job under io->mtx, then drops it before
 * the I/O. That is how the store's "no file I/O under its lock" holds: the
 * only disk calls of the files that run under it (cache_store.c,
 * cache_meta.c, cache_tier_mem.c) are cache_io_meta_* (a malloc and a queue
 * push); block reads are asked by the disk tier's lookup, which
 * cache_tiers.c calls without the lock; the start-up load is
 * cache_disk_meta_scan's, before any loop, without the lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cache/cache.h"
#include "cache/cache_priv.h"
#include "common/cm_log.h"

enum job_kind { J_READ, J_META_PUT, J_META_DEL };

struct job {
	enum job_kind		kind;
	struct cache_io_req	*req;		/* J_READ: borrowed until posted */
	char			*bucket;	/* J_META_*: owned copies */
	size_t			blen;
	char			*key;
	size_t			klen;
	struct cache_meta	*m;		/* J_META_PUT: owned copy */
	int64_t			wall;
	struct job		*next;
};

struct cache_io {
	unsigned		magic;
#define CACHE_IO_MAGIC		0x10d15c10
	struct cache_store	*store;
	struct cache_disk	*disk;
	pthread_t		thr;
	pthread_mutex_t		mtx;
	pthread_cond_t		cv;
	struct job		*head, *tail;	/* under mtx */
	int			stop;		/* under mtx */
	uint64_t		reads_queued;	/* under mtx: block reads not yet posted */
	unsigned		delay_ms;	/* test only: CACHALOT_TEST_DISK_DELAY_MS */
};

struct cache_io_q {
	unsigned		magic;
#define CACHE_IO_Q_MAGIC	0x10d1c0de
	pthread_mutex_t		mtx;
	struct cache_io_req	*head;		/* under mtx: posted, not yet run */
	struct event		*ev;
	cache_io_done_f		*done;
};

struct dread {
	struct cache_disk	*disk;
	const unsigned char	*id;
};

static int
dread(void *arg, char *buf, size_t len)
{
	struct dread *r = arg;

	return (cache_disk_get(r->disk, r->id, buf, len));
}

static void
post(struct cache_io_req *r)
{
	struct cache_io_q *q = r->q;

	CM_ASSERT(q->magic == CACHE_IO_Q_MAGIC);
	pthread_mutex_lock(&q->mtx);
	r->next = q->head;
	q->head = r;
	pthread_mutex_unlock(&q->mtx);
	event_active(q->ev, 0, 0);	/* safe across threads (evthread) */
}

static void
job_free(struct job *j)
{
	free(j->bucket);
	free(j->key);
	free(j->m);
	free(j);
}

static void
job_run(struct cache_io *io, struct job *j)
{
	struct cm_slice b = cm_slice(j->bucket, j->blen), k = cm_slice(j->key, j->klen);
	struct dread dr;

	switch (j->kind) {
	case J_READ:
		if (io->delay_ms > 0)
			usleep(io->delay_ms * 1000u);
		dr.disk = io->disk;
		dr.id = j->req->id;
		/* 0: the block is READY (its waiters woken); else it is
		 * still the requester's to fill from elsewhere. */
		j->req->rc = cache_blk_fill_from(io->store, j->req->b, dread, &dr);
		break;
	case J_META_PUT:
		(void)cache_disk_meta_put(io->disk, b, k, j->m, j->wall);
		break;
	case J_META_DEL:
		cache_disk_meta_remove(io->disk, b, k);
		break;
	}
}

static void *
io_main(void *arg)
{
	struct cache_io *io = arg;
	struct job *j;

	pthread_mutex_lock(&io->mtx);
	for (;;) {
		while (io->head == NULL && !io->stop)
			pthread_cond_wait(&io->cv, &io->mtx);
		if (io->head == NULL)
			break;		/* stopping, and every job done */
		j = io->head;
		io->head = j->next;
		if (io->head == NULL)
			io->tail = NULL;
		pthread_mutex_unlock(&io->mtx);
		job_run(io, j);		/* no lock held: the I/O */
		pthread_mutex_lock(&io->mtx);
		if (j->kind == J_READ) {
			io->reads_queued--;
			pthread_mutex_unlock(&io->mtx);
			post(j->req);
			pthread_mutex_lock(&io->mtx);
		}
		job_free(j);
	}
	pthread_mutex_unlock(&io->mtx);
	return (NULL);
}

struct cache_io *
cache_io_new(struct cache_store *s, struct cache_disk *d)
{
	struct cache_io *io = calloc(1, sizeof *io);
	const char *delay = getenv("CACHALOT_TEST_DISK_DELAY_MS");

	if (io == NULL)
		return (NULL);
	io->magic = CACHE_IO_MAGIC;
	io->store = s;
	io->disk = d;
	if (delay != NULL && atoi(delay) > 0 && atoi(delay) < 600000) {
		io->delay_ms = (unsigned)atoi(delay);
		CM_LOGW("disk tier: block reads delayed by %u ms (CACHALOT_TEST_DISK_DELAY_MS)",
		    io->delay_ms);
	}
	if (pthread_mutex_init(&io->mtx, NULL) != 0)
		goto fail_mtx;
	if (pthread_cond_init(&io->cv, NULL) != 0)
		goto fail_cv;
	if (pthread_create(&io->thr, NULL, io_main, io) != 0)
		goto fail_thr;
	return (io);
fail_thr:
	pthread_cond_destroy(&io->cv);
fail_cv:
	pthread_mutex_destroy(&io->mtx);
fail_mtx:
	free(io);
	return (NULL);
}

void
cache_io_close(struct cache_io **iop)
{
	struct cache_io *io = *iop;

	*iop = NULL;
	if (io == NULL)
		return;
	CM_ASSERT(io->magic == CACHE_IO_MAGIC);
	pthread_mutex_lock(&io->mtx);
	io->stop = 1;
	pthread_cond_signal(&io->cv);
	pthread_mutex_unlock(&io->mtx);
	AZ(pthread_join(io->thr, NULL));
	pthread_cond_destroy(&io->cv);
	pthread_mutex_destroy(&io->mtx);
	io->magic = 0;
	free(io);
}

static void
push(struct cache_io *io, struct job *j)
{
	pthread_mutex_lock(&io->mtx);
	if (j->kind == J_READ)
		io->reads_queued++;
	if (io->tail != NULL)
		io->tail->next = j;
	else
		io->head = j;
	io->tail = j;
	pthread_cond_signal(&io->cv);
	pthread_mutex_unlock(&io->mtx);
}

int
cache_io_read(struct cache_io *io, struct cache_io_req *r)
{
	struct job *j;

	CM_ASSERT(io->magic == CACHE_IO_MAGIC);
	CM_ASSERT(r->magic == CACHE_IO_REQ_MAGIC && r->q != NULL && r->b != NULL);
	j = calloc(1, sizeof *j);
	if (j == NULL)
		return (-1);
	j->kind = J_READ;
	j->req = r;
	r->rc = -1;
	push(io, j);
	return (0);
}

static struct job *
meta_job(enum job_kind kind, struct cm_slice bucket, struct cm_slice key)
{
	struct job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return (NULL);
	j->kind = kind;
	j->bucket = malloc(bucket.len + 1);
	j->key = malloc(key.len + 1);
	if (j->bucket == NULL || j->key == NULL) {
		job_free(j);
		return (NULL);
	}
	memcpy(j->bucket, bucket.p, bucket.len);
	j->blen = bucket.len;
	memcpy(j->key, key.p, key.len);
	j->klen = key.len;
	return (j);
}

void
cache_io_meta_put(struct cache_io *io, struct cm_slice bucket, struct cm_slice key,
    const struct cache_meta *m, int64_t validated_wall)
{
	struct job *j;

	CM_ASSERT(io->magic == CACHE_IO_MAGIC);
	j = meta_job(J_META_PUT, bucket, key);
	if (j == NULL)
		return;		/* the file lags: a restart revalidates */
	j->m = malloc(sizeof *j->m);
	if (j->m == NULL) {
		job_free(j);
		return;
	}
	memcpy(j->m, m, CACHE_META_USED(m));
	j->wall = validated_wall;
	push(io, j);
}

void
cache_io_meta_remove(struct cache_io *io, struct cm_slice bucket, struct cm_slice key)
{
	struct job *j;

	CM_ASSERT(io->magic == CACHE_IO_MAGIC);
	j = meta_job(J_META_DEL, bucket, key);
	if (j == NULL) {
		CM_LOGW("disk tier: out of memory: a metadata file is not removed");
		return;
	}
	push(io, j);
}

uint64_t
cache_io_reads_queued(struct cache_io *io)
{
	uint64_t n;

	CM_ASSERT(io->magic == CACHE_IO_MAGIC);
	pthread_mutex_lock(&io->mtx);
	n = io->reads_queued;
	pthread_mutex_unlock(&io->mtx);
	return (n);
}

/* ---- Completion queues, one per loop ---- */

static void
q_run(struct cache_io_q *q)
{
	struct cache_io_req *r, *next;

	pthread_mutex_lock(&q->mtx);
	r = q->head;
	q->head = NULL;
	pthread_mutex_unlock(&q->mtx);
	/* Posted newest first: run them in the order they completed. */
	{
		struct cache_io_req *rev = NULL;

		for (; r != NULL; r = next) {
			next = r->next;
			r->next = rev;
			rev = r;
		}
		r = rev;
	}
	for (; r != NULL; r = next) {
		next = r->next;
		r->next = NULL;
		q->done(r);
	}
}

static void
on_posted(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	q_run(arg);
}

struct cache_io_q *
cache_io_q_new(struct event_base *base, cache_io_done_f *done)
{
	struct cache_io_q *q = calloc(1, sizeof *q);

	if (q == NULL)
		return (NULL);
	q->magic = CACHE_IO_Q_MAGIC;
	q->done = done;
	if (pthread_mutex_init(&q->mtx, NULL) != 0) {
		free(q);
		return (NULL);
	}
	q->ev = event_new(base, -1, 0, on_posted, q);
	if (q->ev == NULL) {
		pthread_mutex_destroy(&q->mtx);
		free(q);
		return (NULL);
	}
	return (q);
}

void
cache_io_q_free(struct cache_io_q **qp)
{
	struct cache_io_q *q = *qp;

	*qp = NULL;
	if (q == NULL)
		return;
	CM_ASSERT(q->magic == CACHE_IO_Q_MAGIC);
	q_run(q);		/* what was posted after the loop stopped */
	event_free(q->ev);
	pthread_mutex_destroy(&q->mtx);
	q->magic = 0;
	free(q);
}
