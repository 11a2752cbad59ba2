/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_server.c: the HTTP/1.1 data-path core (see http.h): the server, its
 * loops, accepting and closing connections. A connection's parsing, input
 * and output are in http_conn.c; what both share is in http_priv.h.
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
#include "http/http_priv.h"


int
http_i_has_body(const struct http_req *r)
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

int
http_hdr_hop_by_hop(struct cm_slice n)
{
	static const char *const names[] = {
		"connection", "keep-alive", "proxy-connection", "transfer-encoding",
		"content-length", "date", "server", "te", "trailer", "upgrade",
	};
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(names); i++)
		if (cm_slice_eq_nocase(n, cm_slice_str(names[i])))
			return (1);
	return (0);
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

const char *
http_i_date(struct http_thread *t)
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

void
http_i_timer_arm(struct http_conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (ms <= 0) {
		evtimer_del(c->timer);
		return;
	}
	evtimer_add(c->timer, &tv);
}

/* ---- Connections ---- */

/* Closes from the timer, never under a caller's feet: a handler may be in
 * the middle of a http_conn_* call, the parser in the middle of a callback. */
void
http_i_conn_kill(struct http_conn *c)
{
	struct timeval zero = { 0, 0 };

	if (c->dead)
		return;
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	evtimer_add(c->timer, &zero);
}

void
http_i_conn_close(struct http_conn *c)
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
	c->rev = event_new(t->base, fd, EV_READ | EV_PERSIST, http_i_on_read, c);
	c->wev = event_new(t->base, fd, EV_WRITE | EV_PERSIST, http_i_on_write, c);
	c->timer = evtimer_new(t->base, http_i_on_timer, c);
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
	http_i_timer_arm(c, s->lim.idle_timeout_ms);
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
			http_i_conn_close(s->t[i].conns);
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
