/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_main.c: gw_run, the S3 front end from a configuration and a role's
 * wiring (gateway.h; built by cli/cli_roles.c) to running loops: the
 * client credentials and the origin, one gw_ctx per loop, the data-path
 * server, the access log, the operations endpoints; the cluster's thread
 * once every listener is up. No role is tested here: what differs between
 * serve, a gateway and a worker is in the wiring.
 * Main thread: starts the loops and the admin thread, waits for SIGINT or
 * SIGTERM, stops them in order (SIGHUP reopens the access log).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <event2/event.h>

#include "common/cm_log.h"
#include "gateway/gateway.h"
#include "gateway/gw_priv.h"

/* The client credentials and the origin (cm_config_check_role said they
 * are there). */
static void
conf_from(struct gw_conf *gc, const struct cm_config *c)
{
	const char *u, *h, *slash;
	size_t i, n = 0;

	gc->cfg = c;
	AN(c->origin);
	AN(c->origin_access_key);
	if (c->access_key != NULL) {
		gc->creds[n].access_key = c->access_key;
		gc->creds[n++].secret_key = c->secret_key;
	}
	for (i = 0; i < c->ncreds; i++) {
		gc->creds[n].access_key = c->creds[i].access_key;
		gc->creds[n++].secret_key = c->creds[i].secret_key;
	}
	gc->sig.creds = gc->creds;
	gc->sig.ncreds = n;
	gc->sig.regions = (const char *const *)c->regions;
	gc->sig.nregions = c->nregions;
	gc->sig.service = "s3";
	gc->sig.allow_sigv2 = c->sigv2;
	gc->sig.max_skew = 900;
	snprintf(gc->region, sizeof gc->region, "%s", c->regions[0]);
	gc->origin.signer.access_key = c->origin_access_key;
	gc->origin.signer.secret_key = c->origin_secret_key;
	gc->origin.signer.region = c->origin_region;
	gc->origin.signer.service = "s3";
	gc->origin.ops = origin_ops_by_name(c->origin_type);	/* the config checked it */
	AN(gc->origin.ops);
	u = c->origin;
	h = strstr(u, "://");
	snprintf(gc->origin.scheme, sizeof gc->origin.scheme, "%.*s", (int)(h - u), u);
	h += 3;
	slash = strchr(h, '/');
	snprintf(gc->origin.host, sizeof gc->origin.host, "%.*s",
	    (int)(slash != NULL ? (size_t)(slash - h) : strlen(h)), h);
	if (slash != NULL) {
		snprintf(gc->origin.prefix, sizeof gc->origin.prefix, "%s", slash);
		n = strlen(gc->origin.prefix);
		while (n > 0 && gc->origin.prefix[n - 1] == '/')
			gc->origin.prefix[--n] = '\0';
	}
}

int
gw_run(const struct cm_config *c, struct gw_wiring *w,
    void (*ready)(const struct cm_config *, int port))
{
	struct gw_conf gc;
	struct http_limits lim;
	struct http_server *srv = NULL;
	struct gw_admin *admin = NULL;
	struct gw_ctx **ctxs = NULL;
	void **tctx = NULL;
	char err[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = ncpu > 0 && ncpu <= 64 ? (int)ncpu : 1, i, rv = 1, sig = 0;
	sigset_t stop;

	AN(w);
	AN(w->src);
	memset(&gc, 0, sizeof gc);
	gc.io = w->io;		/* ours now: closed below, before the queues */
	w->io = NULL;
	/* Tests only: one loop, so that a loop blocked by anything is seen
	 * (tests/scenario/slowdisk.py). */
	if (getenv("CACHALOT_TEST_LOOPS") != NULL && atoi(getenv("CACHALOT_TEST_LOOPS")) > 0 &&
	    atoi(getenv("CACHALOT_TEST_LOOPS")) <= 64)
		nthreads = atoi(getenv("CACHALOT_TEST_LOOPS"));
	conf_from(&gc, c);
	/* The wiring's parts, as every file of gateway/ finds them. */
	gc.role = w->role;		/* for /metrics and /readyz */
	gc.worker = w->worker;
	gc.cluster = w->view;
	gc.agent = w->agent;
	gc.cache = w->store;
	gc.writer = w->writer;
	gc.seen = w->seen;
	if (w->ckey != NULL) {
		/* Signs (a gateway) or checks (a worker) every request between
		 * them. */
		gc.ckey = *w->ckey;
		gc.ckey_set = 1;
	}
	/* The block source of the cached read, and a write's invalidation. */
	gw_blksrc_init(&gc.src, w->src, w->view, w->agent);
	signal(SIGPIPE, SIG_IGN);
	/* Every thread started from here on inherits the mask; the main
	 * thread takes SIGINT/SIGTERM with sigwait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);	/* reopens the access log */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	ctxs = calloc((size_t)nthreads, sizeof *ctxs);
	tctx = calloc((size_t)nthreads, sizeof *tctx);
	if (ctxs == NULL || tctx == NULL)
		goto out;
	for (i = 0; i < nthreads; i++) {
		ctxs[i] = calloc(1, sizeof *ctxs[i]);
		if (ctxs[i] == NULL)
			goto out;
		ctxs[i]->magic = GW_CTX_MAGIC;
		ctxs[i]->conf = &gc;
		ctxs[i]->verifier = s3sig_verifier_new(&gc.sig);
		if (ctxs[i]->verifier == NULL)
			goto out;
		tctx[i] = ctxs[i];
	}
	http_limits_default(&lim);
	lim.max_conns = c->max_connections > 0 && c->max_connections < UINT32_MAX ?
	    (unsigned)c->max_connections : lim.max_conns;
	if (c->header_timeout > 0 && c->header_timeout < 86400)
		lim.header_timeout_ms = (int)c->header_timeout * 1000;
	if (c->idle_timeout > 0 && c->idle_timeout < 86400)
		lim.idle_timeout_ms = (int)c->idle_timeout * 1000;
	srv = http_server_new(c->listen, nthreads, &lim, &gw_s3_ops, tctx, err, sizeof err);
	if (srv == NULL) {
		fprintf(stderr, "cachalot: %s (choose another with --listen HOST:PORT)\n", err);
		rv = 2;
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		ctxs[i]->base = http_server_base(srv, i);
		ctxs[i]->origin = http_client_new(ctxs[i]->base);
		if (ctxs[i]->origin == NULL)
			goto out;
		if (gc.io != NULL) {
			ctxs[i]->ioq = cache_io_q_new(ctxs[i]->base, gw_cache_disk_done);
			if (ctxs[i]->ioq == NULL)
				goto out;
		}
	}
	/* The access log's writer thread starts with the stop signals blocked. */
	if (gw_log_open(c->access_log, &gc.alog, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: --access-log: %s\n", err);
		rv = 2;
		goto out;
	}
	for (i = 0; i < nthreads && gc.alog != NULL; i++)
		if ((ctxs[i]->alog = gw_log_loop_new(gc.alog, ctxs[i]->base)) == NULL)
			goto out;
	admin = gw_admin_start(c->admin_listen, ctxs, (size_t)nthreads, srv, err, sizeof err);
	if (admin == NULL) {
		fprintf(stderr, "cachalot: admin endpoint: %s (choose another with "
		    "--admin-listen HOST:PORT)\n", err);
		rv = 2;
		goto out;
	}
	/* Every listener is up: only now does this process join the cluster
	 * (a worker's first heartbeat), or fetch its first ring (a gateway). */
	if ((w->view != NULL && clu_view_start(w->view) != 0) ||
	    (w->agent != NULL && clu_agent_start(w->agent) != 0)) {
		fprintf(stderr, "cachalot: cluster: cannot start its thread\n");
		goto out;
	}
	CM_LOGI("%s listening on %s (port %d), admin on %s, origin %s, %d loops, %s%s%s",
	    w->role_name, c->listen, http_server_port(srv), c->admin_listen, c->origin,
	    nthreads, w->what, w->view != NULL || w->agent != NULL ? ", master " : "",
	    w->view != NULL || w->agent != NULL ? c->master : "");
	if (ready != NULL)
		ready(c, http_server_port(srv));
	if (http_server_start(srv) != 0) {
		fprintf(stderr, "cachalot: cannot start event loop threads\n");
		http_server_stop(srv);
		http_server_join(srv);
		goto out;
	}
	while (sigwait(&stop, &sig) != 0 || sig == SIGHUP)
		if (sig == SIGHUP)
			gw_log_reopen(gc.alog);
	CM_LOGI("%s stopping (signal %d)", w->role_name, sig);
	http_server_stop(srv);
	http_server_join(srv);
	rv = 0;
out:
	gw_admin_stop(&admin);
	/* The disk reads queued are done and posted; the reads that aborted
	 * requests leave behind are released when the queues are freed. */
	if (gc.cache != NULL)
		cache_store_attach_io(gc.cache, NULL);
	cache_io_close(&gc.io);
	if (srv != NULL)
		http_server_close_all(srv);	/* before the origins they use */
	if (ctxs != NULL)
		for (i = 0; i < nthreads; i++)
			if (ctxs[i] != NULL) {
				cache_io_q_free(&ctxs[i]->ioq);
				http_client_free(&ctxs[i]->origin);
				ctxs[i]->alog = NULL;
			}
	gw_log_close(&gc.alog);		/* writes every line; before the bases go */
	if (ctxs != NULL)
		for (i = 0; i < nthreads; i++)
			if (ctxs[i] != NULL) {
				s3sig_verifier_free(&ctxs[i]->verifier);
				ctxs[i]->magic = 0;
				free(ctxs[i]);
			}
	http_server_free(&srv);
	if (gc.src.magic == GW_BLKSRC_MAGIC)
		gc.src.ops->fini(&gc.src);
	if (gc.ckey_set)
		clu_auth_key_fini(&gc.ckey);	/* our copy */
	free(ctxs);
	free(tctx);
	return (rv);
}
