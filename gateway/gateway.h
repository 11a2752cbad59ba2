/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway.h: the S3 front end, as the rest of Cachalot sees it.
 *
 * gw_run starts the data path (http/http_server) with one event loop per
 * core and the operations endpoints on admin-listen (http/http_admin),
 * verifies every client request with s3sig, answers cached reads from the
 * block source it is given and passes everything else to the origin,
 * re-signed with the origin's credentials. What it runs over (the cache
 * store and its tiers, the cluster's view or a worker's agent, the block
 * source) is built by the role's wiring (cli/cli_roles.c) and handed over
 * in a struct gw_wiring. It returns when SIGINT or SIGTERM arrives.
 *
 * Threads: gw_run runs on the main thread (start-up, sigwait, shutdown);
 * the loops, the admin thread and the access log's writer are its own.
 */
#ifndef CACHALOT_GATEWAY_H
#define CACHALOT_GATEWAY_H

#include "common/cm_config.h"

struct cache_store;
struct cache_writer;
struct cache_io;
struct clu_view;
struct clu_agent;
struct clu_auth_key;
struct clu_auth_seen;

/*
 * A block source: where the cached read gets its metadata and blocks, and
 * how a write's invalidation reaches every cache (gateway/gw_priv.h; opaque
 * here). One const table each:
 *   gw_blksrc_local    serve: the store and its tiers
 *   gw_blksrc_worker   a worker: the same, taking a gateway's word for the
 *                      version it asks blocks of
 *   gw_blksrc_cluster  a cluster gateway: the owners on the ring (the
 *                      wiring's view), the next owner, then the origin
 */
struct gw_blksrc_ops;
extern const struct gw_blksrc_ops gw_blksrc_local, gw_blksrc_worker, gw_blksrc_cluster;

/*
 * What a role's wiring hands the gateway. Everything is borrowed (the
 * wiring frees it after gw_run returns) but io, which gw_run takes: it
 * closes the disk I/O thread once its loops have stopped and before their
 * completion queues go (w->io is NULL when gw_run returns).
 */
struct gw_wiring {
	const char			*role_name;	/* "serve", "gateway", "worker" */
	int				role;		/* CM_ROLE_SERVE, _GATEWAY, _WORKER:
							 * what /metrics and /readyz report */
	int				worker;		/* takes gateways' requests only
							 * (a worker's gate) */
	const struct gw_blksrc_ops	*src;		/* one of the three above */
	struct cache_store		*store;		/* NULL: no cache (pass-through) */
	struct cache_writer		*writer;	/* its disk tier's, or NULL */
	struct cache_io			*io;		/* its disk tier's, or NULL: taken */
	struct clu_view			*view;		/* a cluster gateway's, or NULL */
	struct clu_agent		*agent;		/* a cluster worker's, or NULL */
	const struct clu_auth_key	*ckey;		/* the cluster secret (copied), or NULL */
	struct clu_auth_seen		*seen;		/* a cluster worker's nonces, or NULL */
	char				what[200];	/* the caches, for the start-up line */
};

/*
 * Runs the front end over w until a signal stops it; returns a process
 * exit code (2: a port or a file the configuration names cannot be used).
 * c passed cm_config_check_role for w's role. The view or agent, if any,
 * is started (its first exchange with the master) once every listener is
 * up. ready, if not NULL, is called once everything listens (serve prints
 * the endpoint there), before the loops run.
 */
int gw_run(const struct cm_config *c, struct gw_wiring *w,
    void (*ready)(const struct cm_config *, int port));

#endif
