/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_routes.c: the master's HTTP API on libmicrohttpd (--listen):
 *
 *   POST /v1/heartbeat   a worker (clu_proto.h); answered with the epoch,
 *                        its state and the purges it has not seen
 *   POST /v1/stats       a gateway's statistics (clu_proto.h)
 *   GET  /v1/ring        the ring: workers that are up (ring.h text form)
 *   GET  /v1/status, /v1/workers, /v1/stats[?bucket=B]   (?format=json)
 *   POST /v1/drain?worker=ID, /v1/undrain?worker=ID
 *   POST /v1/purge?bucket=B[&prefix=P]
 *   GET  /  status page; /healthz; /readyz; /metrics
 *
 * Routing only: the rules are master_model.c's, the renderings
 * master_view.c's. No request is authenticated here (as before this
 * split): the master is to listen on a private address. This file is where
 * a check of the cluster's key would go, in on_request before dispatch.
 *
 * Threads: libmicrohttpd's one internal polling thread runs every
 * callback. Locks: none of its own; the model's and views' functions take
 * m->mtx themselves.
 */
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "cluster/clu_priv.h"

struct upload {
	struct cm_buf	body;
};

static enum MHD_Result
reply(struct MHD_Connection *mc, unsigned status, const char *type, struct cm_buf *body)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	/* MHD frees the buffer (MUST_FREE) once sent. */
	r = MHD_create_response_from_buffer(body->len, body->p != NULL ? body->p : (char *)"",
	    body->p != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		cm_buf_free(body);
		return (MHD_NO);
	}
	body->p = NULL;
	(void)MHD_add_response_header(r, "Content-Type", type);
	rc = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return (rc);
}

static enum MHD_Result
reply_text(struct MHD_Connection *mc, unsigned status, const char *text)
{
	struct cm_buf b;

	cm_buf_init(&b, 4096);
	(void)cm_buf_adds(&b, text);
	return (reply(mc, status, "text/plain", &b));
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)mc;
	(void)t;
	if (u != NULL) {
		cm_buf_free(&u->body);
		free(u);
		*con_cls = NULL;
	}
}

static const char *
arg_of(struct MHD_Connection *mc, const char *name)
{
	return (MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, name));
}

/* POSTs: 0 and *rc when url is one of them. */
static int
post_route(struct master *m, struct MHD_Connection *mc, const char *url, struct cm_slice body,
    struct cm_buf *out, enum MHD_Result *rc)
{
	unsigned status;

	if (strcmp(url, "/v1/heartbeat") == 0)
		master_heartbeat(m, body, out, &status);
	else if (strcmp(url, "/v1/stats") == 0)
		master_gateway_stats(m, body, out, &status);
	else if (strcmp(url, "/v1/drain") == 0)
		status = master_drain(m, arg_of(mc, "worker"), 1, out);
	else if (strcmp(url, "/v1/undrain") == 0)
		status = master_drain(m, arg_of(mc, "worker"), 0, out);
	else if (strcmp(url, "/v1/purge") == 0)
		status = master_purge_order(m, arg_of(mc, "bucket"), arg_of(mc, "prefix"), out);
	else
		return (-1);
	*rc = reply(mc, status, "text/plain", out);
	return (0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct master *m = cls;
	struct upload *u = *con_cls;
	const char *fmt = arg_of(mc, "format"), *type = "text/plain";
	int json = fmt != NULL && strcmp(fmt, "json") == 0, post = strcmp(method, "POST") == 0;
	enum MHD_Result rc;
	struct cm_buf out;

	(void)version;
	CLU_CHECK(m, MASTER_MAGIC);
	if (u == NULL) {
		u = calloc(1, sizeof *u);
		if (u == NULL)
			return (MHD_NO);
		cm_buf_init(&u->body, CLU_MAX_BODY);
		*con_cls = u;
		return (MHD_YES);
	}
	if (*upload_size != 0) {
		if (cm_buf_add(&u->body, upload_data, *upload_size) != 0)
			return (MHD_NO);	/* too big: the connection is dropped */
		*upload_size = 0;
		return (MHD_YES);
	}
	if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return (reply_text(mc, 405, "method not allowed\n"));
	cm_buf_init(&out, 16u << 20);
	if (post) {
		if (post_route(m, mc, url, cm_buf_slice(&u->body), &out, &rc) == 0)
			return (rc);
		cm_buf_free(&out);
		return (reply_text(mc, 404, "not found\n"));
	}
	if (strcmp(url, "/healthz") == 0) {
		cm_buf_free(&out);
		return (reply_text(mc, 200, "ok\n"));
	}
	/* Ready once listening: its state is loaded before. */
	if (strcmp(url, "/readyz") == 0) {
		(void)cm_buf_adds(&out, "{\"ready\":true}\n");
		return (reply(mc, 200, "application/json", &out));
	}
	if (strcmp(url, "/v1/ring") == 0) {
		master_view_ring(m, &out);
	} else if (strcmp(url, "/v1/workers") == 0) {
		master_view_workers(m, &out, json);
	} else if (strcmp(url, "/v1/stats") == 0) {
		master_view_stats(m, &out, arg_of(mc, "bucket"), json);
	} else if (strcmp(url, "/v1/status") == 0) {
		master_view_status(m, &out, json);
	} else if (strcmp(url, "/") == 0) {
		master_view_html(m, &out);
		json = 0;
		type = "text/html";
	} else if (strcmp(url, "/metrics") == 0) {
		master_view_metrics(m, &out);
	} else {
		cm_buf_free(&out);
		return (reply_text(mc, 404, "not found\n"));
	}
	return (reply(mc, 200, json ? "application/json" : type, &out));
}

struct MHD_Daemon *
master_routes_start(struct master *m, const struct sockaddr_in *sin)
{
	CLU_CHECK(m, MASTER_MAGIC);
	return (MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
	    on_request, m, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sin,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
	    MHD_OPTION_END));
}
