/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_conn.c: one connection of the HTTP/1.1 core (see http.h): the errors
 * the core answers itself, parsing (libhttp-parser callbacks into the
 * header arena), input with back-pressure, output (an evbuffer written
 * with writev), and the calls a handler makes on its connection.
 *
 * Threads: the connection's loop.
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
#include "http/http_priv.h"

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
		http_i_conn_kill(c);
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
	    http_i_date(c->t), c->req.id, ctype, body.len);
	if (body.len > 0)
		evbuffer_add(c->out, body.p, body.len);
	cm_buf_free(&body);
	http_i_conn_flush(c);
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
	http_i_timer_arm(c, t->srv->lim.header_timeout_ms);
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
		http_i_conn_flush(c);
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
	http_i_timer_arm(c, c->t->srv->lim.body_timeout_ms);
	c->handler_active = 1;
	rc = c->t->srv->ops->on_request(c, r);
	if (rc == HTTP_ERROR) {
		c->handler_active = 0;	/* it released its state */
		http_i_conn_kill(c);
		return (-1);
	}
	if (c->state == C_CLOSING || c->dead)
		return (-1);
	/* Answered already: a body will not be read; close after. */
	if (c->responded) {
		if (http_i_has_body(r)) {
			c->resp_close = 1;
			http_parser_pause(p, 1);
			c->msg_paused = 1;
		}
		return (0);
	}
	if (http_i_has_body(r))
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
		http_i_conn_kill(c);
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
	http_i_timer_arm(c, 0);
	if (c->resp_ended) {
		/* Answered before the (empty) body ended: next request. */
		http_i_request_done(c);
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

void
http_i_conn_feed(struct http_conn *c, const char *p, size_t len)
{
	size_t n;
	enum http_errno e;

	while (len > 0 && !c->dead && c->state != C_CLOSING) {
		if (c->msg_paused || c->body_paused) {
			if (stash(c, p, len) != 0)
				http_i_conn_kill(c);
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
				http_i_conn_kill(c);
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
	http_i_conn_feed(c, p, len);
	free(p);
}

void
http_i_conn_update_read(struct http_conn *c)
{
	int want = !c->dead && c->state != C_CLOSING && !c->read_eof &&
	    !c->body_paused && !c->msg_paused;

	if (want)
		event_add(c->rev, NULL);
	else
		event_del(c->rev);
}

void
http_i_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	ssize_t n;

	(void)what;
	n = read(fd, c->t->rbuf, sizeof c->t->rbuf);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		http_i_conn_close(c);
		return;
	}
	if (n == 0) {
		c->read_eof = 1;
		/* A half-closed client still gets its answer. */
		if (c->state == C_REQUEST && c->body_done && !c->resp_ended) {
			http_i_conn_update_read(c);
			return;
		}
		if (c->state == C_HEADERS)
			CM_LOGD("http %s: closed during headers", c->peer);
		http_i_conn_close(c);
		return;
	}
	if (c->state == C_IDLE)
		http_i_timer_arm(c, c->t->srv->lim.header_timeout_ms);
	else if (c->state == C_REQUEST && !c->body_done)
		http_i_timer_arm(c, c->t->srv->lim.body_timeout_ms);
	http_i_conn_feed(c, c->t->rbuf, (size_t)n);
	if (!c->dead)
		http_i_conn_update_read(c);
}

/* ---- Output ---- */

void
http_i_conn_flush(struct http_conn *c)
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
			http_i_conn_kill(c);
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
		http_i_conn_kill(c);
		return;
	}
}

void
http_i_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	http_i_conn_flush(c);
	if (!c->dead && c->want_drain &&
	    evbuffer_get_length(c->out) <= c->t->srv->lim.out_high_water / 2) {
		c->want_drain = 0;
		c->rops->drain(c);
	}
}

void
http_i_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->dead) {
		http_i_conn_close(c);
		return;
	}
	switch (c->state) {
	case C_IDLE:
		http_i_conn_close(c);
		break;
	case C_HEADERS:
		core_error(c, HTTP_E_TIMEOUT, NULL);
		break;
	case C_REQUEST:
		if (!c->body_done && !c->body_paused)
			core_error(c, HTTP_E_TIMEOUT, NULL);
		else if (!c->body_done)
			http_i_timer_arm(c, c->t->srv->lim.body_timeout_ms);
		break;
	case C_CLOSING:
		http_i_conn_close(c);
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
	if (!c->body_done && http_i_has_body(r))
		keep = 0;	/* we will not read the rest of the body */
	if (content_length < 0 && r->http_minor == 0 && !r->head)
		keep = 0;
	if (!keep)
		c->resp_close = 1;
	c->expect_continue = 0;
	evbuffer_add_printf(c->out, "HTTP/1.%d %d %s\r\nDate: %s\r\nServer: Cachalot\r\n",
	    r->http_minor == 0 ? 0 : 1, status, http_status_reason(status), http_i_date(c->t));
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
		http_i_conn_flush(c);
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
void
http_i_request_done(struct http_conn *c)
{
	free(c->arena);
	c->arena = NULL;
	c->arena_len = 0;
	c->data = NULL;
	c->state = C_IDLE;
	http_i_timer_arm(c, c->t->srv->lim.idle_timeout_ms);
	if (c->msg_paused) {
		c->msg_paused = 0;
		http_parser_pause(&c->parser, 0);
	}
	if (!c->in_parser) {
		conn_drain_pend(c);
		if (!c->dead)
			http_i_conn_update_read(c);
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
	if ((!c->body_done && http_i_has_body(&c->req)) || c->read_eof)
		c->resp_close = 1;
	if (c->resp_close) {
		c->state = C_CLOSING;
		event_del(c->rev);
		http_i_timer_arm(c, c->t->srv->lim.body_timeout_ms);
		http_i_conn_flush(c);
		return;
	}
	http_i_conn_flush(c);
	/* A request without body answered from on_request: the parser's
	 * on_message_complete (still to come) moves on. */
	if (!c->dead && c->body_done)
		http_i_request_done(c);
}

void
http_conn_fail(struct http_conn *c)
{
	CM_ASSERT(c->magic == HTTP_CONN_MAGIC);
	c->resp_ended = 1;	/* the handler is done with it */
	c->handler_active = 0;
	c->rops = &http_req_null_ops;
	http_i_conn_kill(c);
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
		http_i_conn_update_read(c);
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
