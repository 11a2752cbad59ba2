/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_wgate.c: a worker's gate (gw_s3.c calls it first on every request a
 * worker gets): the cluster signature of cluster/clu_auth.h, which only
 * gateways make (gw_worker_sign), checked over the request as received
 * (method, raw target, Host, Content-Type, an empty body), with the
 * worker's one set of seen nonces; a refusal is counted by reason
 * (cachalot_worker_auth_refused_total) and logged once per peer.
 *
 * Threads: any loop. Locks: refused_mtx (a leaf) guards the peers already
 * logged; the seen set has its own (a leaf); neither is held while the
 * other is taken.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/cluster.h"
#include "common/cm_log.h"
#include "gateway/gw_priv.h"

/* Peers refused so far, each logged once; any loop. */
#define REFUSED_PEERS_MAX	64
static pthread_mutex_t refused_mtx = PTHREAD_MUTEX_INITIALIZER;
static char refused_peer[REFUSED_PEERS_MAX][48];
static size_t nrefused_peer;

static void
worker_refused_log(const struct http_req *r, const char *peer, enum clu_auth_result a)
{
	size_t i;
	int said = 0, last = 0;

	if (peer == NULL)
		peer = "?";
	pthread_mutex_lock(&refused_mtx);
	for (i = 0; i < nrefused_peer; i++)
		if (strcmp(refused_peer[i], peer) == 0)
			said = 1;
	if (!said && nrefused_peer < REFUSED_PEERS_MAX) {
		snprintf(refused_peer[nrefused_peer++], sizeof refused_peer[0], "%s", peer);
		last = nrefused_peer == REFUSED_PEERS_MAX;
	} else {
		said = 1;
	}
	pthread_mutex_unlock(&refused_mtx);
	if (!said)
		CM_LOGW("req=%s refused %.*s %.*s from %s: no valid cluster signature (%s); only "
		    "gateways with the cluster secret may ask a worker (said once per peer%s)", r->id,
		    (int)r->method.len, r->method.p, (int)r->path.len, r->path.p, peer,
		    clu_auth_result_name[a], last ? ", and no more peers will be named" : "");
}

/* CLU_AUTH_OK when r carries a valid, fresh cluster signature over what it
 * is (a gateway's requests have no body), and, for an invalidation, one
 * whose nonce was not seen before. */
static enum clu_auth_result
verify(const struct gw_conf *gc, const struct http_req *r)
{
	const struct s3sig_hdr *h;
	struct clu_auth_msg m;
	struct cm_slice date = { NULL, 0 }, nonce = { NULL, 0 }, mac = { NULL, 0 };
	struct cm_slice target = r->url;

	if ((h = http_req_hdr(r, CLU_AUTH_DATE)) != NULL)
		date = h->value;
	if ((h = http_req_hdr(r, CLU_AUTH_NONCE)) != NULL)
		nonce = h->value;
	if ((h = http_req_hdr(r, CLU_AUTH_MAC)) != NULL)
		mac = h->value;
	if (mac.len > 0 && (r->content_length > 0 || r->chunked))
		return (CLU_AUTH_MALFORMED);	/* a gateway sends none */
	memset(&m, 0, sizeof m);
	m.method = r->method;
	m.target = target;
	m.host = (h = http_req_hdr(r, "host")) != NULL ? h->value : cm_slice("", 0);
	m.content_type = (h = http_req_hdr(r, "content-type")) != NULL ? h->value :
	    cm_slice("", 0);
	clu_auth_body_sha256("", 0, m.body_sha256);
	/* Nonces are remembered for what changes a worker (invalidations)
	 * only: a block read or metadata HEAD replayed within the date's
	 * window changes nothing and returns what the wire already carried,
	 * while remembering every read's nonce would fill the seen set at the
	 * data path's rates (it holds 4 per bucket for the window) and turn
	 * hits into failovers. */
	return (clu_auth_verify(&gc->ckey, &m, date, nonce, mac, (int64_t)time(NULL),
	    cm_slice_eq(r->method, "GET") || cm_slice_eq(r->method, "HEAD") ? NULL : gc->seen));
}

enum clu_auth_result
gw_worker_gate(struct gw_ctx *ctx, struct http_conn *conn, const struct http_req *r)
{
	enum clu_auth_result a;

	CM_ASSERT(ctx->magic == GW_CTX_MAGIC);
	a = verify(ctx->conf, r);
	if (a != CLU_AUTH_OK) {
		GW_INC(&ctx->metrics, worker_auth_refused[a], 1);
		worker_refused_log(r, http_conn_peer(conn), a);
	}
	return (a);
}
