/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_http.h: Cachalot's HTTP/1.1 data-path server core.
 *
 * One libevent event_base per thread, each with its own SO_REUSEPORT
 * listener; requests parsed by libhttp-parser; responses queued in an
 * evbuffer and written with writev (evbuffer_write). The handler sees one
 * request at a time per connection (pipelined requests wait), gets the body
 * as it arrives with back-pressure, and answers with a status, headers and a
 * streamed body. Limits and timeouts are enforced here, answered with
 * 400/408/413/414/431/503 and a log line, so that a handler never meets a
 * hostile connection's excesses.
 *
 * Threads: everything about a connection runs on the thread of the
 * event_base that accepted it. A gw_http_server is created and started by
 * the main thread; gw_http_loop runs on its own thread per base.
 */
#ifndef CACHALOT_GW_HTTP_H
#define CACHALOT_GW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "s3sig/s3sig.h"

struct event_base;
struct gw_conn;
struct gw_http_server;

#define GW_MAX_HDRS 128

struct gw_http_limits {
	size_t		max_header_bytes;	/* request line + headers; 431 */
	size_t		max_url;		/* 414 */
	size_t		max_headers;		/* count; 431 */
	int		header_timeout_ms;	/* headers must complete; 408 */
	int		idle_timeout_ms;	/* keep-alive idle; close */
	int		body_timeout_ms;	/* body stalls; 408 */
	unsigned	max_conns;		/* per server; 503 */
	size_t		out_high_water;		/* handler should pause above */
};
void gw_http_limits_default(struct gw_http_limits *l);

/* One request, owned by its connection until the response is complete. */
struct gw_req {
	struct cm_slice		method;
	struct cm_slice		url;		/* request-target as sent */
	struct cm_slice		path;		/* url before '?' */
	struct cm_slice		query;		/* after '?', may be empty */
	struct s3sig_hdr	hdrs[GW_MAX_HDRS];
	size_t			nhdrs;
	int64_t			content_length;	/* -1: none (chunked or no body) */
	int			chunked;	/* Transfer-Encoding: chunked */
	int			head;		/* HEAD: no response body */
	int			http_minor;
	char			id[17];		/* request id, hex */
	uint64_t		start_us;
};

enum gw_rc {
	GW_OK = 0,
	GW_PAUSE = 1,	/* stop reading the body until gw_conn_resume */
	GW_ERROR = -1,	/* close the connection */
};

/* What the core asks of a handler. All slots are required. */
struct gw_handler_ops {
	/* Headers are complete. The handler may answer at once (the body is
	 * then not read and the connection closed after the answer) or wait
	 * for the body. */
	int	(*on_request)(struct gw_conn *, struct gw_req *);
	/* Body bytes, in order; the handler takes them all (copying what it
	 * cannot pass on) and returns GW_PAUSE to stop more arriving. */
	int	(*on_body)(struct gw_conn *, const char *p, size_t len);
	/* The body is complete (also for requests without one). */
	void	(*on_body_end)(struct gw_conn *);
	/* The output queue fell below the high-water mark again. */
	void	(*on_drain)(struct gw_conn *);
	/* The connection is going away (client closed, error, timeout, or
	 * server shutdown); the handler releases its per-request state. It is
	 * not called after the request's response ended normally. */
	void	(*on_abort)(struct gw_conn *);
};

/*
 * Creates a server listening on host:port with nthreads event loops, each
 * with its own SO_REUSEPORT socket. thread_ctx[i] is handed to the handler
 * of loop i through gw_conn_thread_ctx. Returns NULL with a message in err
 * (at most errlen bytes) when the address cannot be bound.
 */
struct gw_http_server *gw_http_server_new(const char *hostport, int nthreads,
    const struct gw_http_limits *limits, const struct gw_handler_ops *ops,
    void **thread_ctx, char *err, size_t errlen);
/* The event_base of loop i, for origin clients that share the loop. */
struct event_base *gw_http_base(struct gw_http_server *s, int i);
/* Runs every loop on its own thread. The caller blocks the signals it
 * wants to handle before, so that loop threads inherit the mask. */
int gw_http_server_start(struct gw_http_server *s);
/* Asks every loop to stop (any thread, not from a signal handler). */
void gw_http_server_stop(struct gw_http_server *s);
/* Waits for the loops started to end. */
void gw_http_server_join(struct gw_http_server *s);
/* Closes every connection (handlers get on_abort); after join. */
void gw_http_server_close_all(struct gw_http_server *s);
void gw_http_server_free(struct gw_http_server **sp);
/* The port actually bound (for port 0 in tests). */
int gw_http_server_port(const struct gw_http_server *s);
/* Open connections now, all loops. */
unsigned gw_http_server_conns(const struct gw_http_server *s);

/* ---- For handlers, on the connection's own thread ---- */

void *gw_conn_thread_ctx(struct gw_conn *c);
void *gw_conn_get_data(struct gw_conn *c);
void gw_conn_set_data(struct gw_conn *c, void *data);
struct gw_req *gw_conn_req(struct gw_conn *c);
const char *gw_conn_peer(struct gw_conn *c);

/* Starts the answer. content_length -1 means unknown (chunked for
 * HTTP/1.1, close-delimited for 1.0). hdrs must not include Content-Length,
 * Transfer-Encoding, Connection or Date: the core writes those. */
int gw_conn_respond(struct gw_conn *c, int status, const struct s3sig_hdr *hdrs,
    size_t nhdrs, int64_t content_length);
/* Queues body bytes (copied). Returns GW_OK, or GW_PAUSE when the output
 * queue is above its high-water mark: produce no more until on_drain. */
int gw_conn_write(struct gw_conn *c, const char *p, size_t len);
/* The same without a copy: p is lent until release(p, len, arg) is called
 * (once: when the bytes are written, or the connection goes, or at once
 * when they cannot be queued). */
int gw_conn_write_ref(struct gw_conn *c, const char *p, size_t len,
    void (*release)(const void *p, size_t len, void *arg), void *arg);
/* The answer is complete. The connection reads the next request, or closes
 * if the request body was not read to its end. */
void gw_conn_end(struct gw_conn *c);
/* The answer cannot be completed (an origin failed mid-body): close. */
void gw_conn_fail(struct gw_conn *c);
/* Resumes body reading after GW_PAUSE. */
void gw_conn_resume(struct gw_conn *c);
/* Bytes queued for the client and not yet written. */
size_t gw_conn_out_pending(struct gw_conn *c);
uint64_t gw_conn_bytes_out(struct gw_conn *c);

/* ---- Helpers ---- */
const struct s3sig_hdr *gw_req_hdr(const struct gw_req *r, const char *name);
const char *gw_status_reason(int status);

#endif
