/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_log.c: the access log, buffered per loop and written off the data path.
 *
 * Each event loop formats its access-log lines into a buffer of its own
 * (struct gw_log_loop, no lock: only that loop touches its fill buffer).
 * A buffer is handed to the writer thread when the next line would not fit,
 * and by a one-second timer armed when the first line goes into an empty
 * buffer, so a line reaches the file at most about a second after its
 * request ended, traffic or none. The writer thread takes the buffers in the
 * order they were handed over and writes each with one write(2) (a pipe gets
 * pieces of at most PIPE_BUF bytes cut at line ends, so that the other log
 * lines, written with one write each by cm_log, never land inside a line).
 * Memory is bounded: GW_LOG_NBUF buffers per loop. When all of a loop's
 * buffers wait for the writer (the disk or the reader of stderr cannot keep
 * up), the loop waits for one to come back: lines are never dropped.
 * gw_log_close, once the loops have stopped, hands over what every loop
 * holds, lets the writer write everything and joins it: SIGTERM loses none.
 *
 * Threads: the loops (gw_log_line, the timer), the writer thread, and the
 * main thread (gw_log_open, gw_log_loop_new, gw_log_reopen, gw_log_close).
 * Lock: gw_log.mu protects the queue of full buffers, every loop's free list,
 * the stop and reopen flags. It is taken once per handed-over buffer by a
 * loop, never per line. No other lock is taken while holding it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/common.h"
#include "common/cm_log.h"
#include "gateway/gw_priv.h"

#define GW_LOG_BUF	(64 * 1024)	/* bytes per buffer */
#define GW_LOG_NBUF	4		/* buffers per loop at most */
#define GW_LOG_LINE_MAX	2048		/* longest line; longer ones are cut */

struct gw_log_buf {
	unsigned		magic;
#define GW_LOG_BUF_MAGIC	0x10cb0ff0
	struct gw_log_buf	*next;
	struct gw_log_loop	*owner;		/* gets it back once written */
	size_t			len;
	char			p[GW_LOG_BUF];
};

struct gw_log_loop {
	unsigned		magic;
#define GW_LOG_LOOP_MAGIC	0x10c10091
	struct gw_log		*w;
	struct gw_log_loop	*next;		/* w->loops; main thread only */
	struct gw_log_buf	*fill;		/* the loop's; NULL until a line comes */
	struct gw_log_buf	*free;		/* written buffers; under w->mu */
	unsigned		nbufs;		/* allocated, at most GW_LOG_NBUF */
	struct event		*timer;
	int			armed;
	time_t			stamp_sec;	/* stamp is this second, formatted */
	char			stamp[24];	/* "2026-12-01T19:41:01" */
};

struct gw_log {
	unsigned		magic;
#define GW_LOG_MAGIC		0x10c1e11e
	int			fd;
	int			own_fd;		/* a FILE we opened (not stderr) */
	int			pipe;		/* fd is a pipe or a socket */
	char			*path;		/* FILE, or NULL for stderr */
	pthread_mutex_t		mu;
	pthread_cond_t		cv_writer;	/* buffers queued, stop or reopen */
	pthread_cond_t		cv_loops;	/* a buffer came back */
	struct gw_log_buf	*head, **tail;	/* handed over, not yet written */
	int			stop, reopen;
	pthread_t		thr;
	int			started;
	struct gw_log_loop	*loops;
	unsigned long long	failed;		/* bytes write(2) refused */
};

/* Writes all of p to fd, retrying short writes and EINTR. 0 or -1. */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return (-1);
		p += k;
		n -= (size_t)k;
	}
	return (0);
}

/* Writer thread: one buffer out. To a pipe, pieces of at most PIPE_BUF
 * bytes ending at a line's end (each piece is atomic against cm_log's). */
static void
write_buf(struct gw_log *w, const struct gw_log_buf *b)
{
	size_t off = 0, n;
	int fail = 0;

	CM_ASSERT(b->magic == GW_LOG_BUF_MAGIC);
	while (off < b->len && !fail) {
		n = b->len - off;
		if (w->pipe && n > PIPE_BUF) {
			n = PIPE_BUF;
			while (n > 0 && b->p[off + n - 1] != '\n')
				n--;
			if (n == 0)
				n = PIPE_BUF;	/* no line end: cannot be, lines are short */
		}
		fail = write_all(w->fd, b->p + off, n) != 0;
		off += n;
	}
	if (fail) {
		if (w->failed == 0)
			CM_LOGE("access log %s: write failed: %s (lines are lost until it works)",
			    w->path != NULL ? w->path : "stderr", strerror(errno));
		w->failed += b->len;
	}
}

/* Writer thread: a fresh descriptor for FILE (after logrotate moved it). */
static void
reopen_file(struct gw_log *w)
{
	int fd;

	if (!w->own_fd)
		return;
	fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		CM_LOGE("access log %s: cannot reopen: %s (writing on to the old file)", w->path,
		    strerror(errno));
		return;
	}
	(void)close(w->fd);
	w->fd = fd;
	CM_LOGI("access log %s reopened", w->path);
}

static void *
writer_main(void *arg)
{
	struct gw_log *w = arg;
	struct gw_log_buf *list, *b;
	int stop, reopen;

	CM_ASSERT(w->magic == GW_LOG_MAGIC);
	AZ(pthread_mutex_lock(&w->mu));
	for (;;) {
		while (w->head == NULL && !w->stop && !w->reopen)
			AZ(pthread_cond_wait(&w->cv_writer, &w->mu));
		list = w->head;
		w->head = NULL;
		w->tail = &w->head;
		stop = w->stop;
		reopen = w->reopen;
		w->reopen = 0;
		AZ(pthread_mutex_unlock(&w->mu));
		if (reopen)
			reopen_file(w);
		for (b = list; b != NULL; b = b->next)
			write_buf(w, b);
		AZ(pthread_mutex_lock(&w->mu));
		while (list != NULL) {
			b = list;
			list = b->next;
			b->len = 0;
			b->next = b->owner->free;
			b->owner->free = b;
		}
		AZ(pthread_cond_broadcast(&w->cv_loops));
		/* stop is only set once nothing more is handed over. */
		if (stop && w->head == NULL)
			break;
	}
	AZ(pthread_mutex_unlock(&w->mu));
	return (NULL);
}

int
gw_log_open(const char *spec, struct gw_log **out, char *err, size_t errlen)
{
	struct gw_log *w = NULL;
	struct stat st;
	int rv = -1;

	*out = NULL;
	if (spec == NULL || strcmp(spec, "off") == 0)
		return (0);
	w = calloc(1, sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	w->magic = GW_LOG_MAGIC;
	w->fd = -1;
	w->tail = &w->head;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		snprintf(err, errlen, "cannot create its lock");
		free(w);
		w = NULL;
		goto out;
	}
	AZ(pthread_cond_init(&w->cv_writer, NULL));
	AZ(pthread_cond_init(&w->cv_loops, NULL));
	if (strcmp(spec, "stderr") == 0) {
		w->fd = STDERR_FILENO;
	} else {
		w->path = strdup(spec);
		if (w->path == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		w->fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (w->fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", spec, strerror(errno));
			goto out;
		}
		w->own_fd = 1;
	}
	if (fstat(w->fd, &st) == 0)
		w->pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
	if (pthread_create(&w->thr, NULL, writer_main, w) != 0) {
		snprintf(err, errlen, "cannot start its writer thread");
		goto out;
	}
	w->started = 1;
	*out = w;
	w = NULL;
	rv = 0;
out:
	gw_log_close(&w);
	return (rv);
}

/* Loop thread: gives the fill buffer to the writer. */
static void
hand_over(struct gw_log_loop *l)
{
	struct gw_log *w = l->w;
	struct gw_log_buf *b = l->fill;

	if (b == NULL || b->len == 0)
		return;
	l->fill = NULL;
	b->next = NULL;
	AZ(pthread_mutex_lock(&w->mu));
	*w->tail = b;
	w->tail = &b->next;
	AZ(pthread_cond_signal(&w->cv_writer));
	AZ(pthread_mutex_unlock(&w->mu));
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_log_loop *l = arg;

	(void)fd;
	(void)what;
	CM_ASSERT(l->magic == GW_LOG_LOOP_MAGIC);
	l->armed = 0;
	hand_over(l);
}

/* Loop thread: an empty buffer to fill: a written one, a new one while
 * fewer than GW_LOG_NBUF exist, else the next one the writer gives back.
 * NULL only when a first buffer cannot be allocated. */
static struct gw_log_buf *
get_buf(struct gw_log_loop *l)
{
	struct gw_log *w = l->w;
	struct gw_log_buf *b;

	AZ(pthread_mutex_lock(&w->mu));
	for (;;) {
		b = l->free;
		if (b != NULL) {
			l->free = b->next;
			break;
		}
		if (l->nbufs < GW_LOG_NBUF) {
			b = malloc(sizeof *b);
			if (b != NULL) {
				b->magic = GW_LOG_BUF_MAGIC;
				l->nbufs++;
				break;
			}
			if (l->nbufs == 0)
				break;		/* none will ever come back */
		}
		AZ(pthread_cond_wait(&w->cv_loops, &w->mu));
	}
	AZ(pthread_mutex_unlock(&w->mu));
	if (b != NULL) {
		CM_ASSERT(b->magic == GW_LOG_BUF_MAGIC);
		b->next = NULL;
		b->owner = l;
		b->len = 0;
	}
	return (b);
}

struct gw_log_loop *
gw_log_loop_new(struct gw_log *w, struct event_base *base)
{
	struct gw_log_loop *l;

	if (w == NULL)
		return (NULL);
	CM_ASSERT(w->magic == GW_LOG_MAGIC);
	l = calloc(1, sizeof *l);
	if (l == NULL)
		return (NULL);
	l->magic = GW_LOG_LOOP_MAGIC;
	l->w = w;
	l->stamp_sec = (time_t)-1;
	l->timer = evtimer_new(base, on_timer, l);
	if (l->timer == NULL) {
		free(l);
		return (NULL);
	}
	l->next = w->loops;
	w->loops = l;
	return (l);
}

void
gw_log_line(struct gw_log_loop *l, const char *fmt, ...)
{
	static const struct timeval flush_after = { 1, 0 };
	struct gw_log_buf *b;
	struct timeval tv;
	struct tm tm;
	va_list ap;
	char *p;
	int n, m;

	if (l == NULL)
		return;			/* access-log = off */
	CM_ASSERT(l->magic == GW_LOG_LOOP_MAGIC);
	if (l->fill != NULL && GW_LOG_BUF - l->fill->len < GW_LOG_LINE_MAX)
		hand_over(l);
	if (l->fill == NULL && (l->fill = get_buf(l)) == NULL)
		return;			/* out of memory: the line is lost */
	b = l->fill;
	gettimeofday(&tv, NULL);
	if (tv.tv_sec != l->stamp_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		if (strftime(l->stamp, sizeof l->stamp, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			l->stamp[0] = '\0';
		l->stamp_sec = tv.tv_sec;
	}
	/* The same shape as cm_log's lines, so stderr reads as one log. */
	p = b->p + b->len;
	n = snprintf(p, GW_LOG_LINE_MAX, "%s.%03dZ info ", l->stamp, (int)(tv.tv_usec / 1000));
	if (n < 0 || n >= GW_LOG_LINE_MAX)
		return;
	va_start(ap, fmt);
	m = vsnprintf(p + n, GW_LOG_LINE_MAX - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > GW_LOG_LINE_MAX - 2)
		n = GW_LOG_LINE_MAX - 2;	/* cut: vsnprintf stopped there */
	p[n++] = '\n';
	b->len += (size_t)n;
	if (!l->armed && event_add(l->timer, &flush_after) == 0)
		l->armed = 1;
}

void
gw_log_reopen(struct gw_log *w)
{
	if (w == NULL)
		return;
	CM_ASSERT(w->magic == GW_LOG_MAGIC);
	AZ(pthread_mutex_lock(&w->mu));
	w->reopen = 1;
	AZ(pthread_cond_signal(&w->cv_writer));
	AZ(pthread_mutex_unlock(&w->mu));
}

void
gw_log_close(struct gw_log **wp)
{
	struct gw_log *w = *wp;
	struct gw_log_loop *l, *next;
	struct gw_log_buf *b;

	*wp = NULL;
	if (w == NULL)
		return;
	CM_ASSERT(w->magic == GW_LOG_MAGIC);
	/* The loops have stopped: what each holds goes to the writer. */
	for (l = w->loops; l != NULL; l = l->next) {
		if (l->timer != NULL)
			event_free(l->timer);
		l->timer = NULL;
		if (w->started)
			hand_over(l);
	}
	if (w->started) {
		AZ(pthread_mutex_lock(&w->mu));
		w->stop = 1;
		AZ(pthread_cond_signal(&w->cv_writer));
		AZ(pthread_mutex_unlock(&w->mu));
		AZ(pthread_join(w->thr, NULL));
	}
	if (w->failed > 0)
		CM_LOGE("access log %s: %llu bytes could not be written",
		    w->path != NULL ? w->path : "stderr", w->failed);
	for (l = w->loops; l != NULL; l = next) {
		next = l->next;
		if (l->fill != NULL)
			l->fill->magic = 0;
		free(l->fill);
		while ((b = l->free) != NULL) {
			l->free = b->next;
			b->magic = 0;
			free(b);
		}
		l->magic = 0;
		free(l);
	}
	if (w->own_fd && w->fd >= 0)
		(void)close(w->fd);
	AZ(pthread_cond_destroy(&w->cv_writer));
	AZ(pthread_cond_destroy(&w->cv_loops));
	AZ(pthread_mutex_destroy(&w->mu));
	free(w->path);
	w->magic = 0;
	free(w);
}
