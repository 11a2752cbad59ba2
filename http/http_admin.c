/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_admin.c: every role's operations endpoints, the one libmicrohttpd
 * server of Cachalot (simplicity over speed: off the data path). A role
 * gives a const table (struct http_admin_ops, http.h): its routes, a gate
 * run before any of them, how much of a request's body is kept; this file
 * listens, finds the route, keeps the body within its bound, hands the
 * handler the request and sends the answer the handler filled in.
 *
 * A request, in order:
 *   1. its method: one no route of the table takes is answered 405 at once
 *      (GET routes take HEAD too; libmicrohttpd sends a HEAD no body);
 *   2. its body: read up to ops->body_max bytes (0: not read, the answer
 *      goes at once); a longer one drops the connection;
 *   3. the gate (ops->gate; http_admin_def_gate lets everything on): it may
 *      answer instead (the master refuses an unsigned POST there);
 *   4. the route: exact path, or a prefix for HTTP_ADMIN_PREFIX; none is
 *      answered 404.
 *
 * Threads: libmicrohttpd's one internal polling thread (the "admin
 * thread") runs every callback and every handler, one request at a time;
 * start and stop are the main thread's. Locks: none of its own; what a
 * handler reads of its role is that role's to guard.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/cm_net.h"
#include "http/http.h"

#define HTTP_ADMIN_MAGIC	0xad3170c1u

struct http_admin {
	unsigned			magic;
	const struct http_admin_ops	*ops;
	void				*arg;
	struct MHD_Daemon		*d;
	int				port;
};

/* One request's state, from its request line to its end (*con_cls). */
struct http_admin_st {
	char		*target;	/* the request line's target, as sent */
	struct cm_buf	body;		/* at most ops->body_max */
	int		begun;
};

struct http_admin_req {
	struct MHD_Connection		*mc;
	const char			*method;
	const char			*path;
	const struct http_admin_st	*st;
	char				peer[48];
};

int
http_admin_def_gate(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	(void)rq;
	(void)rs;
	return (0);
}

/* ---- The request, for handlers ---- */

const char *
http_admin_method(const struct http_admin_req *rq)
{
	return (rq->method);
}

const char *
http_admin_path(const struct http_admin_req *rq)
{
	return (rq->path);
}

const char *
http_admin_target(const struct http_admin_req *rq)
{
	return (rq->st->target);
}

const char *
http_admin_arg(const struct http_admin_req *rq, const char *name)
{
	return (MHD_lookup_connection_value(rq->mc, MHD_GET_ARGUMENT_KIND, name));
}

struct cm_slice
http_admin_hdr(const struct http_admin_req *rq, const char *name)
{
	const char *v = MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND, name);

	return (v != NULL ? cm_slice_str(v) : cm_slice(NULL, 0));
}

struct cm_slice
http_admin_body(const struct http_admin_req *rq)
{
	return (cm_buf_slice(&rq->st->body));
}

const char *
http_admin_peer(const struct http_admin_req *rq)
{
	return (rq->peer);
}

/* ---- The answer, for handlers ---- */

int
http_admin_text(struct http_admin_resp *rs, unsigned status, const char *text)
{
	rs->status = status;
	rs->type = "text/plain";
	cm_buf_reset(&rs->body);
	return (cm_buf_adds(&rs->body, text));
}

int
http_admin_header(struct http_admin_resp *rs, const char *name, const char *value)
{
	int n, v;

	if (rs->nhdrs == HTTP_ADMIN_MAX_HDRS)
		return (-1);
	n = snprintf(rs->hdrs[rs->nhdrs].name, sizeof rs->hdrs[0].name, "%s", name);
	v = snprintf(rs->hdrs[rs->nhdrs].value, sizeof rs->hdrs[0].value, "%s", value);
	if (n < 0 || (size_t)n >= sizeof rs->hdrs[0].name || v < 0 ||
	    (size_t)v >= sizeof rs->hdrs[0].value)
		return (-1);
	rs->nhdrs++;
	return (0);
}

/* ---- libmicrohttpd's callbacks (the admin thread) ---- */

/* The request line's target as the client sent it (libmicrohttpd gives
 * the path decoded and the query split; a signature is over the raw
 * form). Becomes *con_cls; NULL when out of memory (the request is then
 * dropped). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http_admin *a = cls;
	struct http_admin_st *st = calloc(1, sizeof *st);

	(void)mc;
	if (st == NULL)
		return (NULL);
	cm_buf_init(&st->body, a->ops->body_max);
	st->target = strdup(uri != NULL ? uri : "");
	if (st->target == NULL) {
		free(st);
		return (NULL);
	}
	return (st);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode t)
{
	struct http_admin_st *st = *con_cls;

	(void)cls;
	(void)mc;
	(void)t;
	if (st == NULL)
		return;
	cm_buf_free(&st->body);
	free(st->target);
	free(st);
	*con_cls = NULL;
}

/* Sends rs (its body handed to libmicrohttpd, which frees it once sent). */
static enum MHD_Result
send_resp(struct MHD_Connection *mc, struct http_admin_resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	size_t i;

	r = MHD_create_response_from_buffer(rs->body.len, rs->body.p != NULL ? rs->body.p :
	    (char *)"", rs->body.p != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		cm_buf_free(&rs->body);
		return (MHD_NO);
	}
	rs->body.p = NULL;	/* libmicrohttpd's now */
	rs->body.len = 0;
	(void)MHD_add_response_header(r, "Content-Type", rs->type);
	for (i = 0; i < rs->nhdrs; i++)
		(void)MHD_add_response_header(r, rs->hdrs[i].name, rs->hdrs[i].value);
	rc = MHD_queue_response(mc, rs->status, r);
	MHD_destroy_response(r);
	return (rc);
}

static enum MHD_Result
send_text(struct http_admin *a, struct MHD_Connection *mc, unsigned status, const char *text)
{
	struct http_admin_resp rs = { .status = status, .type = "text/plain" };

	cm_buf_init(&rs.body, a->ops->answer_max);
	(void)cm_buf_adds(&rs.body, text);
	return (send_resp(mc, &rs));
}

/* A GET route takes HEAD too. */
static int
method_is(const char *route, const char *method)
{
	return (strcmp(route, method) == 0 ||
	    (strcmp(route, "GET") == 0 && strcmp(method, "HEAD") == 0));
}

static int
method_taken(const struct http_admin_ops *ops, const char *method)
{
	size_t i;

	for (i = 0; i < ops->nroutes; i++)
		if (method_is(ops->routes[i].method, method))
			return (1);
	return (0);
}

static const struct http_admin_route *
find_route(const struct http_admin_ops *ops, const char *method, const char *path)
{
	const struct http_admin_route *rt;
	size_t i;

	for (i = 0; i < ops->nroutes; i++) {
		rt = &ops->routes[i];
		if (!method_is(rt->method, method))
			continue;
		if ((rt->flags & HTTP_ADMIN_PREFIX) ? strncmp(path, rt->path, strlen(rt->path)) == 0 :
		    strcmp(path, rt->path) == 0)
			return (rt);
	}
	return (NULL);
}

static void
peer_of(struct MHD_Connection *mc, char *peer, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa;

	snprintf(peer, len, "?");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    peer, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    peer, (socklen_t)len);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_admin *a = cls;
	struct http_admin_st *st = *con_cls;
	const struct http_admin_route *rt;
	struct http_admin_req rq;
	struct http_admin_resp rs;

	(void)version;
	CM_ASSERT(a->magic == HTTP_ADMIN_MAGIC);
	if (st == NULL)
		return (MHD_NO);	/* out of memory in on_uri */
	if (!st->begun) {
		st->begun = 1;
		if (!method_taken(a->ops, method))
			return (send_text(a, mc, 405, "method not allowed\n"));
		if (a->ops->body_max > 0)
			return (MHD_YES);	/* the body first */
	} else if (*upload_size != 0) {
		if (cm_buf_add(&st->body, upload_data, *upload_size) != 0)
			return (MHD_NO);	/* too big: the connection is dropped */
		*upload_size = 0;
		return (MHD_YES);
	}
	rq = (struct http_admin_req){ .mc = mc, .method = method, .path = url, .st = st };
	peer_of(mc, rq.peer, sizeof rq.peer);
	memset(&rs, 0, sizeof rs);
	rs.status = 200;
	rs.type = "text/plain";
	cm_buf_init(&rs.body, a->ops->answer_max);
	if (a->ops->gate(a->arg, &rq, &rs) != 0)
		return (send_resp(mc, &rs));
	rt = find_route(a->ops, method, url);
	if (rt == NULL) {
		cm_buf_free(&rs.body);
		return (send_text(a, mc, 404, "not found\n"));
	}
	rt->handler(a->arg, &rq, &rs);
	return (send_resp(mc, &rs));
}

/* ---- Start and stop (main thread) ---- */

struct http_admin *
http_admin_start(const char *hostport, const struct http_admin_ops *ops, void *arg, char *err,
    size_t errlen)
{
	struct http_admin *a;
	struct sockaddr_storage ss;
	socklen_t sl;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	size_t i;

	AN(ops);
	AN(ops->gate);
	for (i = 0; i < ops->nroutes; i++)
		CM_ASSERT(ops->routes[i].method != NULL && ops->routes[i].path != NULL &&
		    ops->routes[i].handler != NULL);
	if (cm_hostport_resolve(hostport, -1, &ss, &sl) != 0) {
		snprintf(err, errlen, "cannot listen on %s: expected HOST:PORT with a known host",
		    hostport);
		return (NULL);
	}
	a = calloc(1, sizeof *a);
	if (a == NULL) {
		snprintf(err, errlen, "cannot listen on %s: out of memory", hostport);
		return (NULL);
	}
	a->magic = HTTP_ADMIN_MAGIC;
	a->ops = ops;
	a->arg = arg;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	a->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a, MHD_OPTION_URI_LOG_CALLBACK, on_uri, a,
	    MHD_OPTION_CONNECTION_TIMEOUT, ops->timeout_s,
	    MHD_OPTION_CONNECTION_LIMIT, ops->max_conns, MHD_OPTION_END);
	if (a->d == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", hostport,
		    errno != 0 ? strerror(errno) : "libmicrohttpd could not start");
		a->magic = 0;
		free(a);
		return (NULL);
	}
	info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
	a->port = info != NULL ? info->port : 0;
	return (a);
}

int
http_admin_port(const struct http_admin *a)
{
	CM_ASSERT(a->magic == HTTP_ADMIN_MAGIC);
	return (a->port);
}

void
http_admin_stop(struct http_admin **ap)
{
	struct http_admin *a = *ap;

	*ap = NULL;
	if (a == NULL)
		return;
	CM_ASSERT(a->magic == HTTP_ADMIN_MAGIC);
	MHD_stop_daemon(a->d);
	a->magic = 0;
	free(a);
}
