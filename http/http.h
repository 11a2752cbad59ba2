/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h: the one header of http/, the S3-agnostic data path: the HTTP/1.1
 * server core (http_server.c) and the libcurl client (http_client.c); and
 * every role's operations endpoints on libmicrohttpd (http_admin.c).
 *
 * The server: Cachalot's HTTP/1.1 data-path server core.
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
 * event_base that accepted it. A http_server is created and started by
 * the main thread; http_server_loop runs on its own thread per base.
 */
/*
 * The client: HTTP requests to the origin, streamed both ways, on the
 * same event loop as the client connection (libcurl multi driven by
 * libevent). Connections to the origin are pooled and kept alive by the
 * multi handle. This file knows nothing of S3: the caller builds the URL,
 * the headers and their signature.
 *
 * Threads: an http_client belongs to one event loop; every call and callback
 * happens on that loop's thread.
 */
#ifndef CACHALOT_HTTP_H
#define CACHALOT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "s3sig/s3sig.h"

struct event_base;
struct http_conn;
struct http_server;

#define HTTP_MAX_HDRS 128

struct http_limits {
	size_t		max_header_bytes;	/* request line + headers; 431 */
	size_t		max_url;		/* 414 */
	size_t		max_headers;		/* count; 431 */
	int		header_timeout_ms;	/* headers must complete; 408 */
	int		idle_timeout_ms;	/* keep-alive idle; close */
	int		body_timeout_ms;	/* body stalls; 408 */
	unsigned	max_conns;		/* per server; 503 */
	size_t		out_high_water;		/* handler should pause above */
};
void http_limits_default(struct http_limits *l);

/* One request, owned by its connection until the response is complete. */
struct http_req {
	struct cm_slice		method;
	struct cm_slice		url;		/* request-target as sent */
	struct cm_slice		path;		/* url before '?' */
	struct cm_slice		query;		/* after '?', may be empty */
	struct s3sig_hdr	hdrs[HTTP_MAX_HDRS];
	size_t			nhdrs;
	int64_t			content_length;	/* -1: none (chunked or no body) */
	int			chunked;	/* Transfer-Encoding: chunked */
	int			head;		/* HEAD: no response body */
	int			http_minor;
	char			id[17];		/* request id, hex */
	uint64_t		start_us;
};

enum http_rc {
	HTTP_OK = 0,
	HTTP_PAUSE = 1,	/* stop reading the body until http_conn_resume */
	HTTP_ERROR = -1,	/* close the connection */
};

/*
 * The errors the core answers itself, before or instead of a handler. The
 * core picks the status; the body is the server's error writer's (its
 * http_server_ops.error_doc), so that the core stays agnostic of what the
 * documents say (the gateway writes S3 XML; http_error_doc_plain a line).
 */
enum http_err {
	HTTP_E_BAD_REQUEST,		/* 400: the parser refused the bytes */
	HTTP_E_TIMEOUT,			/* 408: headers or body too slow */
	HTTP_E_URI_TOO_LONG,		/* 414 */
	HTTP_E_HEADERS_TOO_LARGE,	/* 431 */
	HTTP_E_BUSY,			/* 503: connection limit */
};
int http_err_status(enum http_err e);
const char *http_err_name(enum http_err e);	/* "timeout", ... for logs */
struct cm_buf;
/* Writes the body of a core error into body (empty on failure) and returns
 * its Content-Type. msg: a detail (the parser's), or NULL for the writer's
 * own text; req_id: the request's, possibly "". Any thread. */
typedef const char *http_error_doc_f(enum http_err e, const char *msg, const char *req_id,
    struct cm_buf *body);
http_error_doc_f http_error_doc_plain;	/* text/plain: the reason and msg */

/*
 * What a request asks of the core once it is classified: a const table per
 * kind of request (a pass-through, a cached read, ...), set with
 * http_conn_set_req from on_request. Every slot is filled (with the
 * http_req_def_* defaults where a kind has nothing to do), so that the core
 * never tests for NULL and no callback has to guess what the connection
 * holds. They run on the connection's thread.
 */
struct http_req_ops {
	const char	*name;
	/* Body bytes, in order; the handler takes them all (copying what it
	 * cannot pass on) and returns HTTP_PAUSE to stop more arriving. */
	int	(*body)(struct http_conn *, const char *p, size_t len);
	/* The body is complete (also for requests without one). */
	void	(*body_end)(struct http_conn *);
	/* The output queue fell below the high-water mark again. */
	void	(*drain)(struct http_conn *);
	/* The connection is going away (client closed, error, timeout, or
	 * server shutdown); the handler releases its per-request state. It is
	 * not called after the request's response ended. */
	void	(*abort)(struct http_conn *);
};
int http_req_def_body(struct http_conn *, const char *p, size_t len);	/* discards */
void http_req_def_body_end(struct http_conn *);		/* nothing */
void http_req_def_drain(struct http_conn *);		/* nothing */
void http_req_def_abort(struct http_conn *);		/* nothing */
/* Every slot a default: a request answered from on_request, and the ops of
 * every request once its answer ended. */
extern const struct http_req_ops http_req_null_ops;

/* What the core asks of the server's owner. Both slots are required. */
struct http_server_ops {
	/* Headers are complete. The handler may answer at once (the body is
	 * then not read and the connection closed after the answer) or set
	 * the request's ops (http_conn_set_req) and wait for the body. */
	int			(*on_request)(struct http_conn *, struct http_req *);
	http_error_doc_f	*error_doc;	/* or http_error_doc_plain */
};

/*
 * Creates a server listening on host:port with nthreads event loops, each
 * with its own SO_REUSEPORT socket. thread_ctx[i] is handed to the handler
 * of loop i through http_conn_thread_ctx. Returns NULL with a message in err
 * (at most errlen bytes) when the address cannot be bound.
 */
struct http_server *http_server_new(const char *hostport, int nthreads,
    const struct http_limits *limits, const struct http_server_ops *ops,
    void **thread_ctx, char *err, size_t errlen);
/* The event_base of loop i, for origin clients that share the loop. */
struct event_base *http_server_base(struct http_server *s, int i);
/* Runs every loop on its own thread. The caller blocks the signals it
 * wants to handle before, so that loop threads inherit the mask. */
int http_server_start(struct http_server *s);
/* Asks every loop to stop (any thread, not from a signal handler). */
void http_server_stop(struct http_server *s);
/* Waits for the loops started to end. */
void http_server_join(struct http_server *s);
/* Closes every connection (handlers get on_abort); after join. */
void http_server_close_all(struct http_server *s);
void http_server_free(struct http_server **sp);
/* The port actually bound (for port 0 in tests). */
int http_server_port(const struct http_server *s);
/* Open connections now, all loops. */
unsigned http_server_conns(const struct http_server *s);

/* ---- For handlers, on the connection's own thread ---- */

void *http_conn_thread_ctx(struct http_conn *c);
void *http_conn_get_data(struct http_conn *c);
/* The request's ops and its state (borrowed by the core, released by the
 * handler: in abort, or when it ends the answer). ops: every slot set. */
void http_conn_set_req(struct http_conn *c, const struct http_req_ops *ops, void *data);
/* Forgets the request's state (the handler freed it); the ops become
 * http_req_null_ops. */
void http_conn_clear_req(struct http_conn *c);
struct http_req *http_conn_req(struct http_conn *c);
const char *http_conn_peer(struct http_conn *c);

/* Starts the answer. content_length -1 means unknown (chunked for
 * HTTP/1.1, close-delimited for 1.0). hdrs must not include Content-Length,
 * Transfer-Encoding, Connection or Date: the core writes those. */
int http_conn_respond(struct http_conn *c, int status, const struct s3sig_hdr *hdrs,
    size_t nhdrs, int64_t content_length);
/* Queues body bytes (copied). Returns HTTP_OK, or HTTP_PAUSE when the output
 * queue is above its high-water mark: produce no more until on_drain. */
int http_conn_write(struct http_conn *c, const char *p, size_t len);
/* The same without a copy: p is lent until release(p, len, arg) is called
 * (once: when the bytes are written, or the connection goes, or at once
 * when they cannot be queued). */
int http_conn_write_ref(struct http_conn *c, const char *p, size_t len,
    void (*release)(const void *p, size_t len, void *arg), void *arg);
/* The answer is complete. The connection reads the next request, or closes
 * if the request body was not read to its end. */
void http_conn_end(struct http_conn *c);
/* The answer cannot be completed (an origin failed mid-body): close. */
void http_conn_fail(struct http_conn *c);
/* Resumes body reading after HTTP_PAUSE. */
void http_conn_resume(struct http_conn *c);
/* Bytes queued for the client and not yet written. */
size_t http_conn_out_pending(struct http_conn *c);
uint64_t http_conn_bytes_out(struct http_conn *c);

/* ---- Helpers ---- */
const struct s3sig_hdr *http_req_hdr(const struct http_req *r, const char *name);
const char *http_status_reason(int status);
/* 1 when a response header belongs to the connection, not the answer
 * (Connection, Keep-Alive, Transfer-Encoding, Content-Length, Date, Server,
 * TE, Trailer, Upgrade, Proxy-Connection): a proxy writes its own. */
int http_hdr_hop_by_hop(struct cm_slice name);


/* ==== The client (http_client.c) ==== */



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
/* 1 when err (an on_done's) says the connection was refused: nobody
 * listens there (a process that is not running). */
int http_creq_err_refused(const char *err);
/* Microseconds from start to the response's headers (0 until then). */
uint64_t http_creq_ttfb_us(const struct http_creq *r);


/* ==== The operations endpoints (http_admin.c) ==== */

/*
 * Every role's operations endpoints (--admin-listen; the master's API on
 * --listen) on libmicrohttpd, one server for all: a role gives a const
 * table of routes and a gate, the server listens, finds the route, keeps a
 * request's body within a bound and sends what the handler filled in.
 *
 * Threads: one internal thread of libmicrohttpd (the admin thread) runs
 * the gate and every handler, one request at a time; start and stop are
 * the main thread's.
 */
struct http_admin;
struct http_admin_req;		/* one request, valid during its handler's call */

#define HTTP_ADMIN_MAX_HDRS	4

/* The answer a handler fills in: 200 text/plain and an empty body when
 * it sets nothing. The body is bounded by the table's answer_max (a
 * handler whose answer does not fit says so with http_admin_text). */
struct http_admin_resp {
	unsigned	status;
	const char	*type;		/* static */
	struct cm_buf	body;		/* sent, then freed, by the server */
	size_t		nhdrs;
	struct {
		char	name[64];
		char	value[128];
	}		hdrs[HTTP_ADMIN_MAX_HDRS];	/* extra headers (a signature) */
};

typedef void http_admin_handler_f(void *arg, const struct http_admin_req *rq,
    struct http_admin_resp *rs);
/* Before any route: 0 to go on, else rs is the answer (a refusal). */
typedef int http_admin_gate_f(void *arg, const struct http_admin_req *rq,
    struct http_admin_resp *rs);
http_admin_gate_f http_admin_def_gate;	/* every request goes on */

#define HTTP_ADMIN_PREFIX	0x1	/* path is a prefix of the request's */

struct http_admin_route {
	const char		*method;	/* "GET" (takes HEAD too), "POST", ... */
	const char		*path;		/* the decoded path, without the query */
	unsigned		flags;		/* HTTP_ADMIN_PREFIX */
	http_admin_handler_f	*handler;
};

/*
 * A role's endpoints. Every slot is set (gate: http_admin_def_gate). A
 * method no route takes is answered 405, a path no route of the method
 * takes 404 (after the gate), "method not allowed" and "not found".
 */
struct http_admin_ops {
	const char			*name;		/* "gateway", "master" */
	const struct http_admin_route	*routes;
	size_t				nroutes;
	http_admin_gate_f		*gate;
	size_t				body_max;	/* a request body's bytes kept; 0:
							 * none read; longer: dropped */
	size_t				answer_max;	/* an answer body's bytes */
	unsigned			timeout_s;	/* an idle connection is closed */
	unsigned			max_conns;
};

/* Listens on hostport (HOST:PORT, [V6]:PORT, *:PORT) and serves ops's
 * routes with arg (borrowed, must outlive the server). NULL with "cannot
 * listen on HOSTPORT: REASON" in err. Main thread. */
struct http_admin *http_admin_start(const char *hostport, const struct http_admin_ops *ops,
    void *arg, char *err, size_t errlen);
int http_admin_port(const struct http_admin *a);	/* the port bound */
/* Stops the thread (no handler runs after it returns); *ap = NULL. */
void http_admin_stop(struct http_admin **ap);

/* The request. Strings and slices are the server's, valid during the
 * call. method, path (decoded) and target (the request line's, as sent);
 * arg: a query argument, decoded, NULL when absent; hdr: a header's value
 * (len 0 when absent); body: what was kept (see body_max); peer: the
 * client's address, "?" when unknown. */
const char *http_admin_method(const struct http_admin_req *rq);
const char *http_admin_path(const struct http_admin_req *rq);
const char *http_admin_target(const struct http_admin_req *rq);
const char *http_admin_arg(const struct http_admin_req *rq, const char *name);
struct cm_slice http_admin_hdr(const struct http_admin_req *rq, const char *name);
struct cm_slice http_admin_body(const struct http_admin_req *rq);
const char *http_admin_peer(const struct http_admin_req *rq);

/* The answer: status, text/plain and text as the body (what was there
 * goes); 0, or -1 when it does not fit. An extra header: 0, or -1 when
 * there are HTTP_ADMIN_MAX_HDRS already or it is too long. */
int http_admin_text(struct http_admin_resp *rs, unsigned status, const char *text);
int http_admin_header(struct http_admin_resp *rs, const char *name, const char *value);

#endif
