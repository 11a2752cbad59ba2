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
 * Routing, and the cluster secret: the rules are master_model.c's, the
 * renderings master_view.c's. Every request but a GET or HEAD (that is,
 * every one that changes state) must be signed with the cluster secret
 * (clu_auth.h, over the request line's target as sent, Host, Content-Type
 * and the body), fresh and not seen before; else it is answered 401 (no
 * signature) or 403 (any other reason), counted by reason
 * (cachalot_master_auth_refused_total) and logged once per peer address.
 * Reads stay open (status page, ring, workers, stats, health, metrics);
 * the ring's answer is signed over the asker's x-cachalot-nonce, so that a
 * gateway takes a ring only from a master that knows the secret.
 *
 * Threads: libmicrohttpd's one internal polling thread runs every
 * callback (so refused_peer needs no lock). Locks: none of its own; the
 * model's and views' functions take m->mtx themselves; the seen nonces
 * have their own (a leaf).
 */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

#define MAX_REFUSED_PEERS	256

struct upload {
	struct cm_buf	body;
	char		*uri;		/* the request line's target, as sent */
	int		begun;
};

/* The request line's target as the client sent it (libmicrohttpd gives
 * the path decoded and the query split; the signature is over the raw
 * form). Becomes *con_cls. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct upload *u = calloc(1, sizeof *u);

	(void)cls;
	(void)mc;
	if (u == NULL)
		return (NULL);
	cm_buf_init(&u->body, CLU_MAX_BODY);
	u->uri = strdup(uri != NULL ? uri : "");
	return (u);
}

static enum MHD_Result
reply_h(struct MHD_Connection *mc, unsigned status, const char *type, struct cm_buf *body,
    const struct clu_auth_hdrs *ah)
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
	if (ah != NULL) {
		(void)MHD_add_response_header(r, CLU_AUTH_DATE, ah->date);
		(void)MHD_add_response_header(r, CLU_AUTH_NONCE, ah->nonce);
		(void)MHD_add_response_header(r, CLU_AUTH_MAC, ah->mac);
	}
	rc = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return (rc);
}

static enum MHD_Result
reply(struct MHD_Connection *mc, unsigned status, const char *type, struct cm_buf *body)
{
	return (reply_h(mc, status, type, body, NULL));
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
		free(u->uri);
		free(u);
		*con_cls = NULL;
	}
}

static const char *
arg_of(struct MHD_Connection *mc, const char *name)
{
	return (MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, name));
}

static struct cm_slice
hdr_of(struct MHD_Connection *mc, const char *name)
{
	const char *v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);

	return (v != NULL ? cm_slice_str(v) : cm_slice(NULL, 0));
}

/* Logs a refusal once per peer address (then says when it stops). */
static void
log_refused(struct master *m, struct MHD_Connection *mc, const char *method, const char *uri,
    enum clu_auth_result r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char peer[48] = "?";
	size_t i;

	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			(void)inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			    peer, sizeof peer);
		else if (sa->sa_family == AF_INET6)
			(void)inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, peer, sizeof peer);
	}
	if (m->refused_peer == NULL &&
	    (m->refused_peer = calloc(MAX_REFUSED_PEERS, sizeof *m->refused_peer)) == NULL)
		return;
	for (i = 0; i < m->nrefused_peer; i++)
		if (strcmp(m->refused_peer[i], peer) == 0)
			return;
	if (m->nrefused_peer == MAX_REFUSED_PEERS)
		return;
	snprintf(m->refused_peer[m->nrefused_peer++], sizeof m->refused_peer[0], "%s", peer);
	CM_LOGW("master: refused %s %s from %s: %s (cluster-secret missing or not this "
	    "cluster's; said once per peer%s)", method, uri, peer,
	    r == CLU_AUTH_MISSING ? "not signed" : r == CLU_AUTH_BAD ? "wrong signature" :
	    clu_auth_result_name[r],
	    m->nrefused_peer == MAX_REFUSED_PEERS ? ", and no more peers will be named" : "");
}

/* A request that changes state: CLU_AUTH_OK, or why it is refused. */
static enum clu_auth_result
check_signed(struct master *m, struct MHD_Connection *mc, const char *method, struct upload *u)
{
	struct clu_auth_msg msg = {
		.method = cm_slice_str(method), .target = cm_slice_str(u->uri),
		.host = hdr_of(mc, "Host"), .content_type = hdr_of(mc, "Content-Type"),
	};

	clu_auth_body_sha256(u->body.p, u->body.len, msg.body_sha256);
	return (clu_auth_verify(&m->key, &msg, hdr_of(mc, CLU_AUTH_DATE), hdr_of(mc, CLU_AUTH_NONCE),
	    hdr_of(mc, CLU_AUTH_MAC), (int64_t)time(NULL), m->seen));
}

static enum MHD_Result
refuse(struct master *m, struct MHD_Connection *mc, const char *method, struct upload *u,
    enum clu_auth_result r)
{
	char text[400];

	atomic_fetch_add(&m->refused[r], 1);
	log_refused(m, mc, method, u->uri, r);
	snprintf(text, sizeof text, "%s: this master takes requests that change state only when "
	    "signed with the cluster secret (cluster-secret, CACHALOT_CLUSTER_SECRET)\n",
	    r == CLU_AUTH_MISSING ? "not signed" : r == CLU_AUTH_BAD ? "wrong signature" :
	    r == CLU_AUTH_STALE ? "date out of the window (clocks apart?)" :
	    r == CLU_AUTH_REPLAY ? "already seen (a replay)" : clu_auth_result_name[r]);
	return (reply_text(mc, r == CLU_AUTH_MISSING ? 401 : 403, text));
}

/* The ring, signed over the asker's nonce when it gave one. */
static enum MHD_Result
reply_ring(struct master *m, struct MHD_Connection *mc, struct upload *u, struct cm_buf *out)
{
	struct cm_slice nonce = hdr_of(mc, CLU_AUTH_NONCE);
	struct clu_auth_hdrs ah;
	struct clu_auth_msg msg = {
		.answer = 1, .method = CM_SLICE_LIT("200"), .target = cm_slice_str(u->uri),
		.content_type = CM_SLICE_LIT("text/plain"), .bind = nonce,
	};

	master_view_ring(m, out);
	if (!clu_auth_nonce_ok(nonce))
		return (reply(mc, 200, "text/plain", out));
	clu_auth_body_sha256(out->p, out->len, msg.body_sha256);
	if (clu_auth_sign(&m->key, &msg, (int64_t)time(NULL), NULL, &ah) != 0)
		return (reply(mc, 200, "text/plain", out));
	return (reply_h(mc, 200, "text/plain", out, &ah));
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
	if (u == NULL || u->uri == NULL)
		return (MHD_NO);	/* out of memory in on_uri */
	if (!u->begun) {
		u->begun = 1;
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
	if (post) {
		enum clu_auth_result ar = check_signed(m, mc, method, u);

		if (ar != CLU_AUTH_OK)
			return (refuse(m, mc, method, u, ar));
	}
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
		return (reply_ring(m, mc, u, &out));
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
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_URI_LOG_CALLBACK, on_uri, m,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
	    MHD_OPTION_END));
}
