/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_priv.h: shared only inside http/: the server core's threads,
 * connections and the functions its two files call of each other
 * (http_server.c: the server, its loops, accepting and closing
 * connections; http_conn.c: a connection's parsing, input, output, and the
 * handler's calls). Everything here runs on a connection's loop thread,
 * but the server's creation, start and stop (the main thread).
 */
#ifndef CACHALOT_HTTP_PRIV_H
#define CACHALOT_HTTP_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <event2/util.h>
#include <http_parser.h>

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

int http_i_has_body(const struct http_req *r);
const char *http_i_date(struct http_thread *t);
void http_i_timer_arm(struct http_conn *c, int ms);
void http_i_conn_feed(struct http_conn *c, const char *p, size_t len);
void http_i_conn_update_read(struct http_conn *c);
void http_i_on_read(evutil_socket_t fd, short what, void *arg);
void http_i_conn_flush(struct http_conn *c);
void http_i_on_write(evutil_socket_t fd, short what, void *arg);
void http_i_on_timer(evutil_socket_t fd, short what, void *arg);
void http_i_request_done(struct http_conn *c);
void http_i_conn_kill(struct http_conn *c);
void http_i_conn_close(struct http_conn *c);

#endif
