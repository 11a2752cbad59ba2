/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_server.c: the HTTP/1.1 data-path core (see http.h).
 *
 * Per connection, the states:
 *
 *   IDLE      no request yet; idle timer       -> HEADERS on the first byte
 *   HEADERS   reading request line + headers;  -> REQUEST when complete
 *             header timer, size limits             (handler on_request)
 *   REQUEST   the handler owns the request; the body (if any) is passed on
 *             with back-pressure; body timer while the body is incomplete.
 *             The parser is paused at the end of the message, so pipelined
 *             requests wait in 'pend'.       -> IDLE when the answer ends
 *                                               and the body was all read
 *   CLOSING   flushing the last answer, then closed.
 *
 * Memory per connection: the struct, a header arena while headers are read
 * (max_header_bytes), unparsed bytes of pipelined requests (at most one
 * read's worth while reading is stopped) and the output queue (bounded by the
 * handler honouring HTTP_PAUSE). Reads go through one buffer per thread.
 *
 * Threads: one event loop per thread; a connection lives on one loop. The
 * connection count is the only shared state (atomic).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <http_parser.h>

#include "common/cm_log.h"
#include "common/cm_net.h"
#include "http/http.h"

#define READ_BUF	(64 * 1024)

struct http_thread {
	struct http_server	*srv;
	struct event_base	*base;
	struct evconnlistener	*lsn;
	void			*ctx;
	int			idx;
	pthread_t		tid;
	uint64_t		req_seq;
	struct http_conn		*conns;		/* every open connection */
	time_t			date_at;
	char			date[40];
	char			rbuf[READ_BUF];
};

struct http_server {
	struct http_limits		lim;
	const struct http_server_ops	*ops;
	int				nthreads;
	int				nstarted;
	int				port;
	struct http_thread		*t;
	atomic_uint			conns;
	uint32_t			id_salt;
};

enum cstate { C_IDLE, C_HEADERS, C_REQUEST, C_CLOSING };

struct span {
	size_t	off;
	size_t	len;
};

struct http_conn {
	unsigned		magic;
#define HTTP_CONN_MAGIC		0x3c0aa71e
	struct http_thread	*t;
	int			fd;
	enum cstate		state;
	struct event		*rev;
	struct event		*wev;
	struct event		*timer;
	http_parser		parser;
	struct evbuffer		*out;

	/* Header arena: url and header pieces appended as they come. */
	char			*arena;
	size_t			arena_len;
	struct span		url;
	struct span		hname[HTTP_MAX_HDRS];
	struct span		hval[HTTP_MAX_HDRS];
	size_t			nh;
	int			in_value;

	char			*pend;		/* unparsed input, owned */
	size_t			pend_len;

	struct http_req		req;
	int			body_done;	/* message complete */
	int			body_paused;	/* handler said HTTP_PAUSE */
	int			msg_paused;	/* parser held at message end */
	int			expect_continue;
	int			responded;
	int			resp_ended;
	int			resp_chunked;
	int			resp_close;
	int			want_drain;
	int			read_eof;
	int			in_parser;	/* inside http_parser_execute */
	int			dead;		/* closing: freed from the timer */
	int			handler_active;	/* on_request called, not ended */
	const struct http_req_ops	*rops;	/* the request's; never NULL */
	void			*data;
	uint64_t		bytes_out;
	struct http_conn		*next;
	struct http_conn		*prev;
	char			peer[64];
};

static void conn_close(struct http_conn *c);
static void conn_kill(struct http_conn *c);
static void conn_feed(struct http_conn *c, const char *p, size_t len);
static void conn_update_read(struct http_conn *c);
static void conn_flush(struct http_conn *c);
static void request_done(struct http_conn *c);

static int
has_body(const struct http_req *r)
{
	return (r->content_length > 0 || r->chunked);
}

void
http_limits_default(struct http_limits *l)
{
	l->max_header_bytes = 64 * 1024;
	l->max_url = 16 * 1024;
	l->max_headers = 100;
	l->header_timeout_ms = 10000;
	l->idle_timeout_ms = 60000;
	l->body_timeout_ms = 60000;
	l->max_conns = 4096;
	l->out_high_water = 256 * 1024;
}

const char *
http_status_reason(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 200: return ("OK");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 301: return ("Moved Permanently");
	case 304: return ("Not Modified");
	case 307: return ("Temporary Redirect");
	case 400: return ("Bad Request");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 409: return ("Conflict");
	case 411: return ("Length Required");
	case 412: return ("Precondition Failed");
	case 413: return ("Payload Too Large");
	case 414: return ("URI Too Long");
	case 416: return ("Range Not Satisfiable");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	default: return ("Unknown");
	}
}

const struct s3sig_hdr *
http_req_hdr(const struct http_req *r, const char *name)
{
	struct cm_slice n = cm_slice_str(name);
	size_t i;

	for (i = 0; i < r->nhdrs; i++)
		if (cm_slice_eq_nocase(r->hdrs[i].name, n))
			return (&r->hdrs[i]);
	return (NULL);
}

static const char *
http_date(struct http_thread *t)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != t->date_at) {
		gmtime_r(&now, &tm);
		strftime(t->date, sizeof t->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		t->date_at = now;
	}
	return (t->date);
}

static void
timer_arm(struct http_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms <= 0) {
		evtimer_del(c->timer);
		return;
	}
	evtimer_add(c->timer, &tv);
}

/* ---- Errors the core answers itself ---- */

static const struct {
	int		status;
	const char	*name;
} errs[] = {
	[HTTP_E_BAD_REQUEST] = { 400, "bad request" },
	[HTTP_E_TIMEOUT] = { 408, "timeout" },
	[HTTP_E_URI_TOO_LONG] = { 414, "uri too long" },
	[HTTP_E_HEADERS_TOO_LARGE] = { 431, "headers too large" },
	[HTTP_E_BUSY] = { 503, "busy" },
};

int
http_err_status(enum http_err e)
{
	CM_ASSERT((size_t)e < sizeof errs / sizeof errs[0]);
	return (errs[e].status);
}

const char *
http_err_name(enum http_err e)
{
	CM_ASSERT((size_t)e < sizeof errs / sizeof errs[0]);
	return (errs[e].name);
}

const char *
http_error_doc_plain(enum http_err e, const char *msg, const char *req_id, struct cm_buf *body)
{
	(void)req_id;
	if (cm_buf_addf(body, "%s%s%s\n", http_status_reason(http_err_status(e)),
	    msg != NULL ? ": " : "", msg != NULL ? msg : "") != 0)
		cm_buf_reset(body);
	return ("text/plain");
}

static void
core_error(struct http_conn *c, enum http_err e, const char *msg)
{
	int status = http_err_status(e);
	const char *ctype;
	struct cm_buf body;

	CM_LOGI("http %s: %d %s (%s) req=%s", c->peer, status, http_err_name(e),
	    msg != NULL ? msg : "-", c->req.id[0] != '\0' ? c->req.id : "-");
	if (c->responded) {
		conn_kill(c);
		return;
	}
	/* The document is the owner's (the gateway's S3 XML). */
	cm_buf_init(&body, 4096);
	ctype = c->t->srv->ops->error_doc(e, msg, c->req.id, &body);
	c->responded = 1;
	c->resp_ended = 1;
	c->resp_close = 1;
	c->state = C_CLOSING;
	evbuffer_add_printf(c->out, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: Cachalot\r\n"
	    "x-amz-request-id: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, http_status_reason(status),
	    http_date(c->t), c->req.id, ctype, body.len);
	if (body.len > 0)
		evbuffer_add(c->out, body.p, body.len);
	cm_buf_free(&body);
	conn_flush(c);
}

/* ---- Parser callbacks ---- */

static int
arena_add(struct http_conn *c, const char *p, size_t len)
{
	if (c->arena == NULL) {
		c->arena = malloc(c->t->srv->lim.max_header_bytes);
		if (c->arena == NULL)
			return (-1);
	}
	if (len > c->t->srv->lim.max_header_bytes - c->arena_len)
		return (-1);
	memcpy(c->arena + c->arena_len, p, len);
	c->arena_len += len;
	return (0);
}

static int
on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_thread *t = c->t;

	memset(&c->req, 0, sizeof c->req);
	c->arena_len = 0;
	c->url.off = c->url.len = 0;
	c->nh = 0;
	c->in_value = 0;
	c->body_done = 0;
	c->expect_continue = 0;
	c->responded = c->resp_ended = c->resp_chunked = c->resp_close = 0;
	c->want_drain = 0;
	c->rops = &http_req_null_ops;
	c->state = C_HEADERS;
	c->req.start_us = cm_mono_us();
	snprintf(c->req.id, sizeof c->req.id, "%08X%02X%06llX", t->srv->id_salt,
	    (unsigned)t->idx & 0xff, (unsigned long long)(++t->req_seq & 0xffffff));
	timer_arm(c, t->srv->lim.header_timeout_ms);
	return (0);
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (c->url.len + len > c->t->srv->lim.max_url) {
		core_error(c, HTTP_E_URI_TOO_LONG, NULL);
		return (-1);
	}
	if (c->url.len == 0)
		c->url.off = c->arena_len;
	if (arena_add(c, at, len) != 0) {
		core_error(c, HTTP_E_HEADERS_TOO_LARGE, NULL);
		return (-1);
	}
	c->url.len += len;
	return (0);
}

static int
too_large(struct http_conn *c)
{
	core_error(c, HTTP_E_HEADERS_TOO_LARGE, NULL);
	return (-1);
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (c->in_value || c->nh == 0) {
		if (c->nh == c->t->srv->lim.max_headers || c->nh == HTTP_MAX_HDRS)
			return (too_large(c));
		c->nh++;
		c->hname[c->nh - 1].off = c->arena_len;
		c->hname[c->nh - 1].len = 0;
		c->hval[c->nh - 1].off = 0;
		c->hval[c->nh - 1].len = 0;
		c->in_value = 0;
	}
	if (arena_add(c, at, len) != 0)
		return (too_large(c));
	c->hname[c->nh - 1].len += len;
	return (0);
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (c->nh == 0)
		return (-1);
	if (!c->in_value) {
		c->in_value = 1;
		c->hval[c->nh - 1].off = c->arena_len;
	}
	if (arena_add(c, at, len) != 0)
		return (too_large(c));
	c->hval[c->nh - 1].len += len;
	return (0);
}

static void
send_continue(struct http_conn *c)
{
	if (c->expect_continue && !c->responded) {
		evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	c->expect_continue = 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_req *r = &c->req;
	const struct s3sig_hdr *h;
	size_t i, q;
	int rc;

	r->method = cm_slice_str(http_method_str((enum http_method)p->method));
	r->url = cm_slice(c->arena + c->url.off, c->url.len);
	for (q = 0; q < r->url.len && r->url.p[q] != '?'; q++)
		;
	r->path = cm_slice(r->url.p, q);
	r->query = q < r->url.len ? cm_slice(r->url.p + q + 1, r->url.len - q - 1) :
	    cm_slice(r->url.p + q, 0);
	for (i = 0; i < c->nh; i++) {
		r->hdrs[i].name = cm_slice(c->arena + c->hname[i].off, c->hname[i].len);
		r->hdrs[i].value = c->hval[i].len > 0 ?
		    cm_slice(c->arena + c->hval[i].off, c->hval[i].len) : cm_slice("", 0);
	}
	r->nhdrs = c->nh;
	r->http_minor = p->http_minor;
	r->head = p->method == HTTP_HEAD;
	r->chunked = (p->flags & F_CHUNKED) != 0;
	r->content_length = (p->flags & F_CONTENTLENGTH) ? (int64_t)p->content_length : -1;
	h = http_req_hdr(r, "expect");
	c->expect_continue = h != NULL &&
	    cm_slice_eq_nocase(cm_slice_trim(h->value), CM_SLICE_LIT("100-continue"));
	c->state = C_REQUEST;
	timer_arm(c, c->t->srv->lim.body_timeout_ms);
	c->handler_active = 1;
	rc = c->t->srv->ops->on_request(c, r);
	if (rc == HTTP_ERROR) {
		c->handler_active = 0;	/* it released its state */
		conn_kill(c);
		return (-1);
	}
	if (c->state == C_CLOSING || c->dead)
		return (-1);
	/* Answered already: a body will not be read; close after. */
	if (c->responded) {
		if (has_body(r)) {
			c->resp_close = 1;
			http_parser_pause(p, 1);
			c->msg_paused = 1;
		}
		return (0);
	}
	if (has_body(r))
		send_continue(c);
	return (0);
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	int rc;

	if (c->responded && c->resp_close)
		return (0);	/* discarding the rest of an answered request */
	rc = c->rops->body(c, at, len);
	if (c->dead)
		return (-1);
	if (rc == HTTP_ERROR) {
		conn_kill(c);
		return (-1);
	}
	if (rc == HTTP_PAUSE) {
		c->body_paused = 1;
		http_parser_pause(p, 1);
	}
	return (0);
}

static int
on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	c->body_done = 1;
	timer_arm(c, 0);
	if (c->resp_ended) {
		/* Answered before the (empty) body ended: next request. */
		request_done(c);
		return (0);
	}
	/* Hold the next pipelined request until this one is answered. */
	http_parser_pause(p, 1);
	c->msg_paused = 1;
	c->rops->body_end(c);
	return (0);
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* ---- Input ---- */

static int
stash(struct http_conn *c, const char *p, size_t len)
{
	char *np;

	if (len == 0)
		return (0);
	np = realloc(c->pend, c->pend_len + len);
	if (np == NULL)
		return (-1);
	memmove(np + c->pend_len, p, len);
	c->pend = np;
	c->pend_len += len;
	return (0);
}

static void
conn_feed(struct http_conn *c, const char *p, size_t len)
{
	size_t n;
	enum http_errno e;

	while (len > 0 && !c->dead && c->state != C_CLOSING) {
		if (c->msg_paused || c->body_paused) {
			if (stash(c, p, len) != 0)
				conn_kill(c);
			return;
		}
		c->in_parser = 1;
		n = http_parser_execute(&c->parser, &settings, p, len);
		c->in_parser = 0;
		if (c->dead)
			return;
		if (c->state == C_CLOSING)
			return;
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (e == HPE_PAUSED) {
			p += n;
			len -= n;
			continue;	/* stashes the rest */
		}
		if (e != HPE_OK) {
			if (e == HPE_HEADER_OVERFLOW)
				too_large(c);
			else if (c->state == C_REQUEST && c->responded)
				conn_kill(c);
			else
				core_error(c, HTTP_E_BAD_REQUEST, http_errno_description(e));
			return;
		}
		p += n;
		len -= n;
		if (n == 0)
			break;
	}
}

/* Feeds what waited in pend (after a pause ended). */
static void
conn_drain_pend(struct http_conn *c)
{
	char *p = c->pend;
	size_t len = c->pend_len;

	c->pend = NULL;
	c->pend_len = 0;
	conn_feed(c, p, len);
	free(p);
}

static void
conn_update_read(struct http_conn *c)
{
	int want = !c->dead && c->state != C_CLOSING && !c->read_eof &&
	    !c->body_paused && !c->msg_paused;

	if (want)
		event_add(c->rev, NULL);
	else
		event_del(c->rev);
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	ssize_t n;

	(void)what;
	n = read(fd, c->t->rbuf, sizeof c->t->rbuf);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		conn_close(c);
		return;
	}
	if (n == 0) {
		c->read_eof = 1;
		/* A half-closed client still gets its answer. */
		if (c->state == C_REQUEST && c->body_done && !c->resp_ended) {
			conn_update_read(c);
			return;
		}
		if (c->state == C_HEADERS)
			CM_LOGD("http %s: closed during headers", c->peer);
		conn_close(c);
		return;
	}
	if (c->state == C_IDLE)
		timer_arm(c, c->t->srv->lim.header_timeout_ms);
	else if (c->state == C_REQUEST && !c->body_done)
		timer_arm(c, c->t->srv->lim.body_timeout_ms);
	conn_feed(c, c->t->rbuf, (size_t)n);
	if (!c->dead)
		conn_update_read(c);
}

/* ---- Output ---- */

static void
conn_flush(struct http_conn *c)
{
	int n;
	size_t left;

	if (c->dead)
		return;
	while ((left = evbuffer_get_length(c->out)) > 0) {
		n = evbuffer_write(c->out, c->fd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_kill(c);
			return;
		}
		c->bytes_out += (uint64_t)n;
		if (n == 0)
			break;
	}
	left = evbuffer_get_length(c->out);
	if (left > 0) {
		event_add(c->wev, NULL);
		return;
	}
	event_del(c->wev);
	if (c->resp_ended && c->resp_close) {
		conn_kill(c);
		return;
	}
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	conn_flush(c);
	if (!c->dead && c->want_drain &&
	    evbuffer_get_length(c->out) <= c->t->srv->lim.out_high_water / 2) {
		c->want_drain = 0;
		c->rops->drain(c);
	}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead) {
		conn_close(c);
		return;
	}
	switch (c->state) {
	case C_IDLE:
		conn_close(c);
		break;
	case C_HEADERS:
		core_error(c, HTTP_E_TIMEOUT, NULL);
		break;
	case C_REQUEST:
		if (!c->body_done && !c->body_paused)
			core_error(c, HTTP_E_TIMEOUT, NULL);
		else if (!c->body_done)
			timer_arm(c, c->t->srv->lim.body_timeout_ms);
		break;
	case C_CLOSING:
		conn_close(c);
		break;
	}
}

int
http_conn_respond(struct http_conn *c, int status, const struct s3sig_hdr *hdrs, size_t nhdrs,
    int64_t content_length)
{
	struct http_req *r = &c->req;
	size_t i;
	int keep;

	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	CM_ASSERT(!c->responded);
	c->responded = 1;
	keep = http_should_keep_alive(&c->parser) && !c->read_eof;
	if (!c->body_done && has_body(r))
		keep = 0;	/* we will not read the rest of the body */
	if (content_length < 0 && r->http_minor == 0 && !r->head)
		keep = 0;
	if (!keep)
		c->resp_close = 1;
	c->expect_continue = 0;
	evbuffer_add_printf(c->out, "HTTP/1.%d %d %s\r\nDate: %s\r\nServer: Cachalot\r\n",
	    r->http_minor == 0 ? 0 : 1, status, http_status_reason(status), http_date(c->t));
	for (i = 0; i < nhdrs; i++) {
		evbuffer_add(c->out, hdrs[i].name.p, hdrs[i].name.len);
		evbuffer_add(c->out, ": ", 2);
		evbuffer_add(c->out, hdrs[i].value.p, hdrs[i].value.len);
		evbuffer_add(c->out, "\r\n", 2);
	}
	if (content_length >= 0) {
		if (status != 204 && status != 304)
			evbuffer_add_printf(c->out, "Content-Length: %lld\r\n", (long long)content_length);
	} else if (r->http_minor > 0 && !r->head && status != 204 && status != 304) {
		evbuffer_add(c->out, "Transfer-Encoding: chunked\r\n", 28);
		c->resp_chunked = 1;
	}
	if (c->resp_close)
		evbuffer_add(c->out, "Connection: close\r\n", 19);
	else if (r->http_minor == 0)
		evbuffer_add(c->out, "Connection: keep-alive\r\n", 24);
	evbuffer_add(c->out, "\r\n", 2);
	return (HTTP_OK);
}

/* After bytes were queued: written at 16 KiB, and back-pressure above the
 * high-water mark. */
static int
queued(struct http_conn *c)
{
	if (evbuffer_get_length(c->out) >= 16 * 1024)
		conn_flush(c);
	if (c->dead)
		return (HTTP_ERROR);
	if (evbuffer_get_length(c->out) > c->t->srv->lim.out_high_water) {
		c->want_drain = 1;
		return (HTTP_PAUSE);
	}
	return (HTTP_OK);
}

int
http_conn_write(struct http_conn *c, const char *p, size_t len)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC && c->responded && !c->resp_ended);
	if (c->req.head || len == 0)
		return (HTTP_OK);
	if (c->resp_chunked)
		evbuffer_add_printf(c->out, "%zx\r\n", len);
	if (evbuffer_add(c->out, p, len) != 0)
		return (HTTP_ERROR);
	if (c->resp_chunked)
		evbuffer_add(c->out, "\r\n", 2);
	return (queued(c));
}

int
http_conn_write_ref(struct http_conn *c, const char *p, size_t len,
    void (*release)(const void *p, size_t len, void *arg), void *arg)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC && c->responded && !c->resp_ended);
	if (c->req.head || len == 0 || c->resp_chunked) {
		int rc = http_conn_write(c, p, len);

		release(p, len, arg);
		return (rc);
	}
	/* No copy: the socket is written from p itself (writev). */
	if (evbuffer_add_reference(c->out, p, len, release, arg) != 0) {
		release(p, len, arg);
		return (HTTP_ERROR);
	}
	return (queued(c));
}

/* The request is answered and its body read: back to IDLE. Inside the
 * parser, parsing simply goes on; outside, what waited is fed now. */
static void
request_done(struct http_conn *c)
{
	free(c->arena);
	c->arena = NULL;
	c->arena_len = 0;
	c->data = NULL;
	c->state = C_IDLE;
	timer_arm(c, c->t->srv->lim.idle_timeout_ms);
	if (c->msg_paused) {
		c->msg_paused = 0;
		http_parser_pause(&c->parser, 0);
	}
	if (!c->in_parser) {
		conn_drain_pend(c);
		if (!c->dead)
			conn_update_read(c);
	}
}

void
http_conn_end(struct http_conn *c)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC && c->responded && !c->resp_ended);
	if (c->resp_chunked && !c->req.head)
		evbuffer_add(c->out, "0\r\n\r\n", 5);
	c->resp_ended = 1;
	c->handler_active = 0;
	c->rops = &http_req_null_ops;
	if ((!c->body_done && has_body(&c->req)) || c->read_eof)
		c->resp_close = 1;
	if (c->resp_close) {
		c->state = C_CLOSING;
		event_del(c->rev);
		timer_arm(c, c->t->srv->lim.body_timeout_ms);
		conn_flush(c);
		return;
	}
	conn_flush(c);
	/* A request without body answered from on_request: the parser's
	 * on_message_complete (still to come) moves on. */
	if (!c->dead && c->body_done)
		request_done(c);
}

void
http_conn_fail(struct http_conn *c)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	c->resp_ended = 1;	/* the handler is done with it */
	c->handler_active = 0;
	c->rops = &http_req_null_ops;
	conn_kill(c);
}

void
http_conn_resume(struct http_conn *c)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	if (!c->body_paused)
		return;
	c->body_paused = 0;
	http_parser_pause(&c->parser, 0);
	conn_drain_pend(c);
	if (!c->dead)
		conn_update_read(c);
}

size_t
http_conn_out_pending(struct http_conn *c)
{
	return (evbuffer_get_length(c->out));
}

uint64_t
http_conn_bytes_out(struct http_conn *c)
{
	return (c->bytes_out);
}

void *http_conn_thread_ctx(struct http_conn *c) { return (c->t->ctx); }
void *http_conn_get_data(struct http_conn *c) { return (c->data); }

void
http_conn_set_req(struct http_conn *c, const struct http_req_ops *ops, void *data)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	AN(ops);
	AN(ops->body);
	AN(ops->body_end);
	AN(ops->drain);
	AN(ops->abort);
	c->rops = ops;
	c->data = data;
}

void
http_conn_clear_req(struct http_conn *c)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	c->rops = &http_req_null_ops;
	c->data = NULL;
}

int
http_req_def_body(struct http_conn *c, const char *p, size_t len)
{
	(void)c;
	(void)p;
	(void)len;
	return (HTTP_OK);
}

void http_req_def_body_end(struct http_conn *c) { (void)c; }
void http_req_def_drain(struct http_conn *c) { (void)c; }
void http_req_def_abort(struct http_conn *c) { (void)c; }

const struct http_req_ops http_req_null_ops = {
	.name = "none",
	.body = http_req_def_body,
	.body_end = http_req_def_body_end,
	.drain = http_req_def_drain,
	.abort = http_req_def_abort,
};
struct http_req *http_conn_req(struct http_conn *c) { return (&c->req); }
const char *http_conn_peer(struct http_conn *c) { return (c->peer); }

/* ---- Connections ---- */

/* Closes from the timer, never under a caller's feet: a handler may be in
 * the middle of a http_conn_* call, the parser in the middle of a callback. */
static void
conn_kill(struct http_conn *c)
{
	struct timeval zero = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	evtimer_add(c->timer, &zero);
}

static void
conn_close(struct http_conn *c)
{
	struct http_server *s;

	if (c->fd < 0)
		return;
	s = c->t->srv;
	if (c->handler_active) {
		c->handler_active = 0;
		c->rops->abort(c);
		c->rops = &http_req_null_ops;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->t->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->timer);
	close(c->fd);
	c->fd = -1;
	evbuffer_free(c->out);
	free(c->arena);
	free(c->pend);
	atomic_fetch_sub(&s->conns, 1);
	c->magic = 0;
	free(c);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct http_thread *t = arg;
	struct http_server *s = t->srv;
	struct http_conn *c;
	char host[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	(void)l;
	(void)salen;
	if (atomic_fetch_add(&s->conns, 1) >= s->lim.max_conns) {
		struct cm_buf busy, body;
		const char *ctype;

		atomic_fetch_sub(&s->conns, 1);
		CM_LOGW("http: connection limit %u reached, refusing", s->lim.max_conns);
		cm_buf_init(&busy, 4096);
		cm_buf_init(&body, 4096);
		ctype = s->ops->error_doc(HTTP_E_BUSY, NULL, "", &body);
		if (cm_buf_addf(&busy, "HTTP/1.1 503 Service Unavailable\r\n"
		    "Content-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		    ctype, body.len) == 0 && cm_buf_add(&busy, body.p, body.len) == 0)
			(void)!write(fd, busy.p, busy.len);
		cm_buf_free(&busy);
		cm_buf_free(&body);
		close(fd);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		atomic_fetch_sub(&s->conns, 1);
		close(fd);
		return;
	}
	c->magic = HTTP_CONN_MAGIC;
	c->rops = &http_req_null_ops;
	c->t = t;
	c->fd = fd;
	c->state = C_IDLE;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
	snprintf(c->peer, sizeof c->peer, "%s", host);
	c->out = evbuffer_new();
	c->rev = event_new(t->base, fd, EV_READ | EV_PERSIST, on_read, c);
	c->wev = event_new(t->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
	c->timer = evtimer_new(t->base, on_timer, c);
	if (c->out == NULL || c->rev == NULL || c->wev == NULL || c->timer == NULL) {
		if (c->out != NULL)
			evbuffer_free(c->out);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		if (c->timer != NULL)
			event_free(c->timer);
		close(fd);
		free(c);
		atomic_fetch_sub(&s->conns, 1);
		return;
	}
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->next = t->conns;
	if (t->conns != NULL)
		t->conns->prev = c;
	t->conns = c;
	timer_arm(c, s->lim.idle_timeout_ms);
	event_add(c->rev, NULL);
}

/* ---- Server ---- */

struct http_server *
http_server_new(const char *hostport, int nthreads, const struct http_limits *limits,
    const struct http_server_ops *ops, void **thread_ctx, char *err, size_t errlen)
{
	struct http_server *s;
	struct sockaddr_storage ss;
	socklen_t sl;
	int i;

	AN(ops);
	AN(ops->on_request);
	AN(ops->error_doc);
	CM_ASSERT(nthreads > 0);
	/* A client that goes away while we write must cost a closed
	 * connection, not the process: writev cannot take MSG_NOSIGNAL. */
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0) {
		snprintf(err, errlen, "libevent threading unavailable");
		return (NULL);
	}
	/* Our loops share the port through SO_REUSEPORT, which would also let
	 * another process's listener share it silently: refuse a taken port. */
	if (cm_listen_check(hostport, err, errlen) != 0)
		return (NULL);
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	s->lim = *limits;
	s->ops = ops;
	s->nthreads = nthreads;
	s->port = -1;
	{
		struct timeval tv;

		gettimeofday(&tv, NULL);
		s->id_salt = (uint32_t)(tv.tv_sec * 2654435761u) ^ (uint32_t)tv.tv_usec ^
		    ((uint32_t)getpid() << 16);
	}
	s->t = calloc((size_t)nthreads, sizeof *s->t);
	if (s->t == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	for (i = 0; i < nthreads; i++) {
		struct http_thread *t = &s->t[i];

		t->srv = s;
		t->idx = i;
		t->ctx = thread_ctx != NULL ? thread_ctx[i] : NULL;
		t->base = event_base_new();
		if (t->base == NULL) {
			snprintf(err, errlen, "cannot create an event loop");
			goto fail;
		}
		if (cm_hostport_resolve(hostport, s->port, &ss, &sl) != 0) {
			snprintf(err, errlen, "cannot resolve '%s'", hostport);
			goto fail;
		}
		t->lsn = evconnlistener_new_bind(t->base, on_accept, t,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT |
		    LEV_OPT_CLOSE_ON_EXEC, 1024, (struct sockaddr *)&ss, (int)sl);
		if (t->lsn == NULL) {
			snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
			goto fail;
		}
		if (s->port < 0) {
			struct sockaddr_storage b;
			socklen_t bl = sizeof b;

			if (getsockname(evconnlistener_get_fd(t->lsn), (struct sockaddr *)&b, &bl) != 0)
				goto fail;
			s->port = ntohs(b.ss_family == AF_INET ? ((struct sockaddr_in *)&b)->sin_port :
			    ((struct sockaddr_in6 *)&b)->sin6_port);
		}
	}
	return (s);
fail:
	http_server_free(&s);
	return (NULL);
}

struct event_base *
http_server_base(struct http_server *s, int i)
{
	CM_ASSERT(i >= 0 && i < s->nthreads);
	return (s->t[i].base);
}

int
http_server_port(const struct http_server *s)
{
	return (s->port);
}

unsigned
http_server_conns(const struct http_server *s)
{
	return (atomic_load(&((struct http_server *)s)->conns));
}

static void *
loop_main(void *arg)
{
	struct http_thread *t = arg;

	(void)event_base_dispatch(t->base);
	return (NULL);
}

int
http_server_start(struct http_server *s)
{
	int i;

	for (i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->t[i].tid, NULL, loop_main, &s->t[i]) != 0) {
			s->nstarted = i;
			return (-1);
		}
	}
	s->nstarted = s->nthreads;
	return (0);
}

void
http_server_join(struct http_server *s)
{
	int i;

	for (i = 0; i < s->nstarted; i++)
		pthread_join(s->t[i].tid, NULL);
	s->nstarted = 0;
}

void
http_server_stop(struct http_server *s)
{
	int i;

	for (i = 0; i < s->nthreads; i++)
		if (s->t[i].base != NULL)
			event_base_loopbreak(s->t[i].base);
}

void
http_server_close_all(struct http_server *s)
{
	int i;

	for (i = 0; i < s->nthreads; i++)
		while (s->t[i].conns != NULL)
			conn_close(s->t[i].conns);
}

void
http_server_free(struct http_server **sp)
{
	struct http_server *s = *sp;
	int i;

	*sp = NULL;
	if (s == NULL)
		return;
	http_server_close_all(s);
	for (i = 0; i < s->nthreads; i++) {
		if (s->t[i].lsn != NULL)
			evconnlistener_free(s->t[i].lsn);
		if (s->t[i].base != NULL)
			event_base_free(s->t[i].base);
	}
	free(s->t);
	free(s);
}
