/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_routes.c: the master's HTTP API (--listen), a route table over
 * http/http_admin.c (libmicrohttpd):
 *
 *   POST /v1/heartbeat   a worker (clu_proto.h); answered with the epoch,
 *                        its state and the purges it has not seen
 *   POST /v1/stats       a gateway's statistics (clu_proto.h)
 *   GET  /v1/ring        the ring: workers that are up (ring.h text form)
 *   GET  /v1/status, /v1/workers, /v1/stats[?bucket=B]   (?format=json)
 *   POST /v1/drain?worker=ID, /v1/undrain?worker=ID
 *   POST /v1/purge?bucket=B[&prefix=P]
 *   GET  /v1/purged?seq=N  "applied" once every worker up has applied purge N
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
 * Threads: the admin thread (http_admin.c: libmicrohttpd's one internal
 * polling thread) runs the gate and every handler (so refused_peer needs
 * no lock). Locks: none of its own; the
 * model's and views' functions take m->mtx themselves; the seen nonces
 * have their own (a leaf).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"
#include "http/http.h"

#define MAX_REFUSED_PEERS	256

static void
text(struct http_admin_resp *rs, unsigned status, const char *t)
{
	(void)http_admin_text(rs, status, t);
}

static int
want_json(const struct http_admin_req *rq)
{
	const char *fmt = http_admin_arg(rq, "format");

	return (fmt != NULL && strcmp(fmt, "json") == 0);
}

/* Logs a refusal once per peer address (then says when it stops). */
static void
log_refused(struct master *m, const struct http_admin_req *rq, enum clu_auth_result r)
{
	const char *peer = http_admin_peer(rq);
	size_t i;

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
	    "cluster's; said once per peer%s)", http_admin_method(rq), http_admin_target(rq), peer,
	    r == CLU_AUTH_MISSING ? "not signed" : r == CLU_AUTH_BAD ? "wrong signature" :
	    clu_auth_result_name[r],
	    m->nrefused_peer == MAX_REFUSED_PEERS ? ", and no more peers will be named" : "");
}

/* A request that changes state: CLU_AUTH_OK, or why it is refused. */
static enum clu_auth_result
check_signed(struct master *m, const struct http_admin_req *rq)
{
	struct cm_slice body = http_admin_body(rq);
	struct clu_auth_msg msg = {
		.method = cm_slice_str(http_admin_method(rq)),
		.target = cm_slice_str(http_admin_target(rq)),
		.host = http_admin_hdr(rq, "Host"), .content_type = http_admin_hdr(rq, "Content-Type"),
	};

	clu_auth_body_sha256(body.p, body.len, msg.body_sha256);
	return (clu_auth_verify(&m->key, &msg, http_admin_hdr(rq, CLU_AUTH_DATE),
	    http_admin_hdr(rq, CLU_AUTH_NONCE), http_admin_hdr(rq, CLU_AUTH_MAC),
	    (int64_t)time(NULL), m->seen));
}

/* The gate: every request but a GET or HEAD is signed, or refused here. */
static int
gate(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	struct master *m = arg;
	enum clu_auth_result r;
	char msg[400];

	CLU_CHECK(m, MASTER_MAGIC);
	if (strcmp(http_admin_method(rq), "GET") == 0 || strcmp(http_admin_method(rq), "HEAD") == 0)
		return (0);
	r = check_signed(m, rq);
	if (r == CLU_AUTH_OK)
		return (0);
	atomic_fetch_add(&m->refused[r], 1);
	log_refused(m, rq, r);
	snprintf(msg, sizeof msg, "%s: this master takes requests that change state only when "
	    "signed with the cluster secret (cluster-secret, CACHALOT_CLUSTER_SECRET)\n",
	    r == CLU_AUTH_MISSING ? "not signed" : r == CLU_AUTH_BAD ? "wrong signature" :
	    r == CLU_AUTH_STALE ? "date out of the window (clocks apart?)" :
	    r == CLU_AUTH_REPLAY ? "already seen (a replay)" : clu_auth_result_name[r]);
	text(rs, r == CLU_AUTH_MISSING ? 401 : 403, msg);
	return (1);
}

static void sign_answer(struct master *m, const struct http_admin_req *rq,
    struct http_admin_resp *rs);

/* ---- POSTs (signed: the gate checked) ---- */

static void
h_heartbeat(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	master_heartbeat(arg, http_admin_body(rq), &rs->body, &rs->status);
}

static void
h_gwstats(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	master_gateway_stats(arg, http_admin_body(rq), &rs->body, &rs->status);
}

static void
h_drain(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	rs->status = master_drain(arg, http_admin_arg(rq, "worker"), 1, &rs->body);
}

static void
h_undrain(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	rs->status = master_drain(arg, http_admin_arg(rq, "worker"), 0, &rs->body);
}

static void
h_purge(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	rs->status = master_purge_order(arg, http_admin_arg(rq, "bucket"),
	    http_admin_arg(rq, "prefix"), &rs->body);
	sign_answer(arg, rq, rs);
}

/* ---- GETs ---- */

static void
h_purged(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	rs->status = master_purge_applied(arg, http_admin_arg(rq, "seq"), &rs->body);
	sign_answer(arg, rq, rs);
}

static void
h_healthz(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	(void)rq;
	text(rs, 200, "ok\n");
}

/* Ready once listening: its state is loaded before. */
static void
h_readyz(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	(void)rq;
	rs->type = "application/json";
	(void)cm_buf_adds(&rs->body, "{\"ready\":true}\n");
}

/* A text answer (status 200) signed over the asker's nonce when it gave
 * one: what a gateway acts on (the ring, a fence's purge and its being
 * applied) must be the master's. */
static void
sign_answer(struct master *m, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	struct cm_slice nonce = http_admin_hdr(rq, CLU_AUTH_NONCE);
	struct clu_auth_hdrs ah;
	struct clu_auth_msg msg = {
		.answer = 1, .method = CM_SLICE_LIT("200"),
		.target = cm_slice_str(http_admin_target(rq)),
		.content_type = CM_SLICE_LIT("text/plain"), .bind = nonce,
	};

	rs->type = "text/plain";
	if (rs->status != 200 || !clu_auth_nonce_ok(nonce))
		return;
	clu_auth_body_sha256(rs->body.p, rs->body.len, msg.body_sha256);
	if (clu_auth_sign(&m->key, &msg, (int64_t)time(NULL), NULL, &ah) != 0)
		return;
	if (http_admin_header(rs, CLU_AUTH_DATE, ah.date) != 0 ||
	    http_admin_header(rs, CLU_AUTH_NONCE, ah.nonce) != 0 ||
	    http_admin_header(rs, CLU_AUTH_MAC, ah.mac) != 0)
		rs->nhdrs = 0;	/* all three or none: unsigned, the gateway refuses it */
}

static void
h_ring(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	master_view_ring(arg, &rs->body);
	sign_answer(arg, rq, rs);
}

static void
h_workers(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	int json = want_json(rq);

	master_view_workers(arg, &rs->body, json);
	rs->type = json ? "application/json" : "text/plain";
}

static void
h_stats(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	int json = want_json(rq);

	master_view_stats(arg, &rs->body, http_admin_arg(rq, "bucket"), json);
	rs->type = json ? "application/json" : "text/plain";
}

static void
h_status(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	int json = want_json(rq);

	master_view_status(arg, &rs->body, json);
	rs->type = json ? "application/json" : "text/plain";
}

static void
h_page(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)rq;
	master_view_html(arg, &rs->body);
	rs->type = "text/html";
}

static void
h_metrics(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	int json = want_json(rq);

	master_view_metrics(arg, &rs->body);
	rs->type = json ? "application/json" : "text/plain";	/* as it always was */
}

static const struct http_admin_route routes[] = {
	{ "POST", "/v1/heartbeat", 0, h_heartbeat },
	{ "POST", "/v1/stats", 0, h_gwstats },
	{ "POST", "/v1/drain", 0, h_drain },
	{ "POST", "/v1/undrain", 0, h_undrain },
	{ "POST", "/v1/purge", 0, h_purge },
	{ "GET", "/healthz", 0, h_healthz },
	{ "GET", "/readyz", 0, h_readyz },
	{ "GET", "/v1/ring", 0, h_ring },
	{ "GET", "/v1/purged", 0, h_purged },
	{ "GET", "/v1/workers", 0, h_workers },
	{ "GET", "/v1/stats", 0, h_stats },
	{ "GET", "/v1/status", 0, h_status },
	{ "GET", "/", 0, h_page },
	{ "GET", "/metrics", 0, h_metrics },
};

static const struct http_admin_ops master_admin_ops = {
	.name = "master",
	.routes = routes,
	.nroutes = CM_ARRAY_LEN(routes),
	.gate = gate,
	.body_max = CLU_MAX_BODY,
	.answer_max = 16u << 20,
	.timeout_s = 30,
	.max_conns = 1024,
};

struct http_admin *
master_routes_start(struct master *m, const char *hostport, char *err, size_t errlen)
{
	CLU_CHECK(m, MASTER_MAGIC);
	return (http_admin_start(hostport, &master_admin_ops, m, err, errlen));
}
