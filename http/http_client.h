/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client.h: HTTP requests to the origin, streamed both ways, on the
 * same event loop as the client connection (libcurl multi driven by
 * libevent). Connections to the origin are pooled and kept alive by the
 * multi handle. This file knows nothing of S3: the caller builds the URL,
 * the headers and their signature.
 *
 * Threads: an http_client belongs to one event loop; every call and callback
 * happens on that loop's thread.
 */
#ifndef CACHALOT_HTTP_CLIENT_H
#define CACHALOT_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "s3sig/s3sig.h"

struct event_base;
struct http_client;
struct http_creq;

#define HTTP_CLIENT_PAUSE	(-2)	/* on_read: nothing yet; on_data: take none */
#define HTTP_CLIENT_ABORT	(-1)

/* What an origin request asks of its owner. All slots required. Callbacks
 * must not call http_creq_cancel; they return HTTP_CLIENT_ABORT instead. */
struct http_creq_ops {
	/* The final status and headers (1xx skipped). 0 or HTTP_CLIENT_ABORT. */
	int	(*on_head)(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n);
	/* Response body: 0 when all of it was taken, HTTP_CLIENT_PAUSE when none
	 * (it comes again after http_creq_resume_write), or HTTP_CLIENT_ABORT. */
	int	(*on_data)(void *arg, const char *p, size_t len);
	/* Request body wanted: bytes written to buf (at most max), 0 at its
	 * end, HTTP_CLIENT_PAUSE (call http_creq_resume_read when there is more)
	 * or HTTP_CLIENT_ABORT (the origin sees a truncated request). */
	ssize_t	(*on_read)(void *arg, char *buf, size_t max);
	/* The end: err NULL on success, else what failed. Called once, after
	 * which the request is gone. */
	void	(*on_done)(void *arg, const char *err);
};

/* *out: a new origin client for loop base. NULL on failure. */
struct http_client *http_client_new(struct event_base *base);
void http_client_free(struct http_client **op);

/*
 * Starts method url with headers hdrs (copied; Host among them decides the
 * Host sent). body_len: -1 for no request body, else its exact length (read
 * through ops->on_read). Returns the request, or NULL when it could not be
 * started (ops->on_done is then not called).
 */
struct http_creq *http_creq_start(struct http_client *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len,
    const struct http_creq_ops *ops, void *arg);
/* The same, with flags: HTTP_CREQ_INTERNAL for a request to a worker (short
 * connect timeout; a transfer stalled for 3 s fails). */
#define HTTP_CREQ_INTERNAL	0x1
struct http_creq *http_creq_start_ex(struct http_client *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len, int flags,
    const struct http_creq_ops *ops, void *arg);
void http_creq_resume_read(struct http_creq *r);
void http_creq_resume_write(struct http_creq *r);
/* Stops the request; no callback follows. *rp = NULL. */
void http_creq_cancel(struct http_creq **rp);
/* Microseconds from start to the response's headers (0 until then). */
uint64_t http_creq_ttfb_us(const struct http_creq *r);

#endif
