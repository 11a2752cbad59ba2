/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_origin.h: HTTP requests to the origin, streamed both ways, on the
 * same event loop as the client connection (libcurl multi driven by
 * libevent). Connections to the origin are pooled and kept alive by the
 * multi handle. This file knows nothing of S3: the caller builds the URL,
 * the headers and their signature.
 *
 * Threads: a gw_origin belongs to one event loop; every call and callback
 * happens on that loop's thread.
 */
#ifndef CACHALOT_GW_ORIGIN_H
#define CACHALOT_GW_ORIGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "s3sig/s3sig.h"

struct event_base;
struct gw_origin;
struct gw_oreq;

#define GW_ORIGIN_PAUSE	(-2)	/* on_read: nothing yet; on_data: take none */
#define GW_ORIGIN_ABORT	(-1)

/* What an origin request asks of its owner. All slots required. Callbacks
 * must not call gw_oreq_cancel; they return GW_ORIGIN_ABORT instead. */
struct gw_oreq_ops {
	/* The final status and headers (1xx skipped). 0 or GW_ORIGIN_ABORT. */
	int	(*on_head)(void *arg, int status, const struct s3sig_hdr *hdrs, size_t n);
	/* Response body: 0 when all of it was taken, GW_ORIGIN_PAUSE when none
	 * (it comes again after gw_oreq_resume_write), or GW_ORIGIN_ABORT. */
	int	(*on_data)(void *arg, const char *p, size_t len);
	/* Request body wanted: bytes written to buf (at most max), 0 at its
	 * end, GW_ORIGIN_PAUSE (call gw_oreq_resume_read when there is more)
	 * or GW_ORIGIN_ABORT (the origin sees a truncated request). */
	ssize_t	(*on_read)(void *arg, char *buf, size_t max);
	/* The end: err NULL on success, else what failed. Called once, after
	 * which the request is gone. */
	void	(*on_done)(void *arg, const char *err);
};

/* *out: a new origin client for loop base. NULL on failure. */
struct gw_origin *gw_origin_new(struct event_base *base);
void gw_origin_free(struct gw_origin **op);

/*
 * Starts method url with headers hdrs (copied; Host among them decides the
 * Host sent). body_len: -1 for no request body, else its exact length (read
 * through ops->on_read). Returns the request, or NULL when it could not be
 * started (ops->on_done is then not called).
 */
struct gw_oreq *gw_oreq_start(struct gw_origin *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len,
    const struct gw_oreq_ops *ops, void *arg);
/* The same, with flags: GW_OREQ_INTERNAL for a request to a worker (short
 * connect timeout; a transfer stalled for 3 s fails). */
#define GW_OREQ_INTERNAL	0x1
struct gw_oreq *gw_oreq_start_ex(struct gw_origin *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len, int flags,
    const struct gw_oreq_ops *ops, void *arg);
void gw_oreq_resume_read(struct gw_oreq *r);
void gw_oreq_resume_write(struct gw_oreq *r);
/* Stops the request; no callback follows. *rp = NULL. */
void gw_oreq_cancel(struct gw_oreq **rp);
/* Microseconds from start to the response's headers (0 until then). */
uint64_t gw_oreq_ttfb_us(const struct gw_oreq *r);

#endif
