/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_main.c: gw_run, the gateway role: configuration to running loops.
 * Main thread: starts the loops and the admin daemon, waits for SIGINT or
 * SIGTERM, stops them in order (SIGHUP reopens the access log).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/cm_log.h"
#include "common/cm_net.h"
#include "gateway/gateway.h"
#include "gateway/gw_priv.h"
#include "cache/cache.h"
#include "cluster/cluster.h"

static const char *
role_name(int role)
{
	return (role == CM_ROLE_WORKER ? "worker" : role == CM_ROLE_SERVE ? "serve" : "gateway");
}

/* "256 MiB"-style, for the start-up line. */
static const char *
fmt_size(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (v >= 1024 && v % 1024 == 0 && u + 1 < CM_ARRAY_LEN(unit)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[u]);
	return (buf);
}

/* ---- The cluster: a worker's agent asks these of its cache ---- */

static void
agent_stats(void *arg, struct clu_stats *st)
{
	struct cache_store *store = arg;
	struct cache_stats cs;
	struct cache_disk_stats ds;

	memset(st, 0, sizeof *st);
	if (store == NULL)
		return;
	cache_stats(store, &cs);
	st->evictions = cs.evictions;
	if (cache_store_disk(store) != NULL) {
		cache_disk_stats(cache_store_disk(store), &ds);
		st->evictions += ds.evictions;
	}
}

static void
agent_purge(void *arg, struct cm_slice bucket, struct cm_slice prefix)
{
	struct cache_store *store = arg;

	if (store == NULL)
		return;
	if (prefix.len == 0)
		cache_meta_invalidate_bucket(store, bucket);
	else
		cache_meta_invalidate_prefix(store, bucket, prefix);
}

static void
agent_expire_all(void *arg)
{
	if (arg != NULL)
		cache_meta_expire_all(arg);
}

static const struct clu_agent_ops agent_ops = {
	.name = "cache_store",
	.stats = agent_stats,
	.purge = agent_purge,
	.expire_all = agent_expire_all,
};

static int
conf_from(struct gw_conf *gc, const struct cm_config *c, int role, char *err, size_t errlen)
{
	const char *u, *h, *slash;
	size_t i, n = 0;

	memset(gc, 0, sizeof *gc);
	gc->cfg = c;
	if (c->origin == NULL) {
		snprintf(err, errlen, "no origin: set --origin URL (or origin = URL in the config)");
		return (-1);
	}
	if (c->origin_access_key == NULL) {
		snprintf(err, errlen, "no origin credentials: set --origin-access-key and "
		    "--origin-secret-key (or CACHALOT_ORIGIN_SECRET_KEY)");
		return (-1);
	}
	/* A worker of a cluster checks the cluster's signature, not clients'. */
	if (c->access_key == NULL && c->ncreds == 0 &&
	    !(role == CM_ROLE_WORKER && c->master != NULL && c->cluster_secret != NULL)) {
		snprintf(err, errlen, "no client credentials: set --access-key and --secret-key "
		    "(or CACHALOT_SECRET_KEY), or credential = AK:SK lines");
		return (-1);
	}
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
	return (0);
}

int
gw_run(const struct cm_config *c, void (*ready)(const struct cm_config *, int port), int role)
{
	struct gw_conf gc;
	struct http_limits lim;
	struct http_server *srv = NULL;
	struct gw_admin *admin = NULL;
	struct cache_disk *disk = NULL;
	struct cache_tier *tier;
	struct gw_ctx **ctxs = NULL;
	void **tctx = NULL;
	char err[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = ncpu > 0 && ncpu <= 64 ? (int)ncpu : 1, i, rv = 1, sig = 0;
	sigset_t stop;

	cm_log_set_level(c->log_level);
	/* Tests only: one loop, so that a loop blocked by anything is seen
	 * (tests/scenario/slowdisk.py). */
	if (getenv("CACHALOT_TEST_LOOPS") != NULL && atoi(getenv("CACHALOT_TEST_LOOPS")) > 0 &&
	    atoi(getenv("CACHALOT_TEST_LOOPS")) <= 64)
		nthreads = atoi(getenv("CACHALOT_TEST_LOOPS"));
	if (conf_from(&gc, c, role, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: %s\n", err);
		return (2);
	}
	/* A cache larger than the machine would fail at its first fill. */
	if (cm_config_check_capacity(c, role, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: %s\n", err);
		return (2);
	}
	gc.worker = role == CM_ROLE_WORKER;
	gc.role = role;		/* for /metrics and /readyz */
	if (gc.worker && c->master != NULL && c->advertise == NULL &&
	    cm_hostport_is_wildcard(c->listen)) {
		fprintf(stderr, "cachalot: --advertise: required when --listen is a wildcard "
		    "address (%s): the address gateways reach this worker at, e.g. "
		    "--advertise 10.0.0.2:9201\n", c->listen);
		return (2);
	}
	/* Both ports before anything else: a role that cannot serve must not
	 * open the cache nor touch the cluster. */
	if (cm_listen_check(c->listen, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: %s (choose another with --listen HOST:PORT)\n", err);
		return (2);
	}
	if (cm_listen_check(c->admin_listen, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: admin endpoint: %s (choose another with "
		    "--admin-listen HOST:PORT)\n", err);
		return (2);
	}
	if (role == CM_ROLE_GATEWAY && c->master != NULL) {
		/* A cluster gateway: blocks pass through a small staging store
		 * (one fetch per block however many clients ask at once). */
		gc.cache = cache_store_new(4 * c->readahead * c->block_size, c->block_size,
		    &cache_evict_s3fifo_ops);
		if (gc.cache == NULL) {
			fprintf(stderr, "cachalot: cannot allocate the staging store\n");
			return (1);
		}
	}
	if (role != CM_ROLE_GATEWAY && c->mem_cache > 0) {
		if (c->block_size < 64 * 1024 || c->block_size > 64 * 1024 * 1024) {
			fprintf(stderr, "cachalot: --block-size: invalid value '%llu': 64K to 64M\n",
			    (unsigned long long)c->block_size);
			return (2);
		}
		/* The config checked the policy's name. */
		AN(cache_evict_by_name(c->eviction));
		gc.cache = cache_store_new(c->mem_cache, c->block_size, cache_evict_by_name(c->eviction));
		if (gc.cache == NULL) {
			fprintf(stderr, "cachalot: cannot allocate the cache\n");
			return (1);
		}
		if (c->disk_cache > 0) {
			char dir[4096];

			snprintf(dir, sizeof dir, "%s/cache", c->data_dir);
			disk = cache_disk_open(dir, c->disk_cache, err, sizeof err);
			if (disk == NULL) {
				/* Asked for a disk tier: running without one would
				 * hide the fault behind a lower hit ratio. */
				fprintf(stderr, "cachalot: --data-dir: the disk tier cannot use %s: %s "
				    "(or set --disk-cache 0 to run without a disk tier)\n", dir, err);
				rv = 2;
				goto out;
			}
			cache_store_attach_disk(gc.cache, disk, c->freshness * 1000);
			/* Blocks waiting for the disk: a quarter of the memory
			 * tier, 64 MiB at least (held beyond the tier). */
			if (disk != NULL) {
				gc.writer = cache_writer_new(gc.cache, disk, c->mem_cache / 4 > (64u << 20) ?
				    c->mem_cache / 4 : (64u << 20));
				if (gc.writer == NULL) {
					fprintf(stderr, "cachalot: cannot start the disk writer\n");
					goto out;
				}
				/* Disk reads and metadata files: off the loops,
				 * and out of the store's lock. */
				gc.io = cache_io_new(gc.cache, disk);
				if (gc.io == NULL) {
					fprintf(stderr, "cachalot: cannot start the disk I/O thread\n");
					goto out;
				}
				cache_store_attach_io(gc.cache, gc.io);
				/* Promotion and demotion go through it. */
				tier = cache_tier_disk_new(disk, gc.io, gc.writer);
				if (tier == NULL) {
					fprintf(stderr, "cachalot: cannot allocate the disk tier\n");
					goto out;
				}
				cache_store_attach_tier(gc.cache, tier);	/* the store's now */
			}
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "cachalot: libcurl failed to initialise\n");
		return (1);
	}
	if (c->master != NULL && role != CM_ROLE_SERVE) {
		/* Made here, started (joined) only once every listener is up. */
		const char *addr = c->advertise != NULL ? c->advertise : c->listen;

		if (gc.worker) {
			struct clu_agent_conf ac = { .master = c->master, .addr = addr,
			    .id = c->worker_id != NULL ? c->worker_id : addr, .weight = c->weight,
			    .heartbeat_s = c->heartbeat, .cluster_secret = c->cluster_secret };

			gc.agent = clu_agent_new(&ac, &agent_ops, gc.cache, err, sizeof err);
		} else {
			struct clu_view_conf vc = { .master = c->master,
			    .id = c->worker_id != NULL ? c->worker_id : addr, .heartbeat_s = c->heartbeat,
			    .cluster_secret = c->cluster_secret };

			gc.cluster = clu_view_new(&vc, err, sizeof err);
		}
		if (gc.cluster == NULL && gc.agent == NULL) {
			fprintf(stderr, "cachalot: cluster: %s\n", err);
			goto out;
		}
		/* Signs (a gateway) or checks (a worker) every request between
		 * them; the agent and the view checked the secret already. */
		if (clu_auth_key_init(&gc.ckey, c->cluster_secret, err, sizeof err) != 0) {
			fprintf(stderr, "cachalot: cluster: %s\n", err);
			goto out;
		}
		gc.ckey_set = 1;
		if (gc.worker && (gc.seen = clu_auth_seen_new()) == NULL) {
			fprintf(stderr, "cachalot: cannot allocate the cluster's seen nonces\n");
			goto out;
		}
	}
	/* The block source of the cached read, and a write's invalidation:
	 * the owners then the origin, for a cluster gateway (a worker takes
	 * invalidations; it never forwards writes); else the local store. */
	gw_blksrc_init(&gc.src, gc.cluster != NULL ? &gw_blksrc_cluster : gc.worker ?
	    &gw_blksrc_worker : &gw_blksrc_local, gc.cluster, gc.agent);
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
	if ((gc.cluster != NULL && clu_view_start(gc.cluster) != 0) ||
	    (gc.agent != NULL && clu_agent_start(gc.agent) != 0)) {
		fprintf(stderr, "cachalot: cluster: cannot start its thread\n");
		goto out;
	}
	{
		char mem[32], disksz[32], blk[32], tiers[160];

		if (role == CM_ROLE_GATEWAY && gc.cluster != NULL)
			snprintf(tiers, sizeof tiers, "blocks cached on the workers (staging %s), "
			    "block size %s", fmt_size(mem, sizeof mem, 4 * c->readahead * c->block_size),
			    fmt_size(blk, sizeof blk, c->block_size));
		else if (gc.cache == NULL)
			snprintf(tiers, sizeof tiers, "no cache (pass-through)");
		else
			snprintf(tiers, sizeof tiers, "memory %s, disk %s, block size %s",
			    fmt_size(mem, sizeof mem, c->mem_cache),
			    disk != NULL ? fmt_size(disksz, sizeof disksz, c->disk_cache) : "off",
			    fmt_size(blk, sizeof blk, c->block_size));
		CM_LOGI("%s listening on %s (port %d), admin on %s, origin %s, %d loops, %s%s%s",
		    role_name(role), c->listen, http_server_port(srv), c->admin_listen, c->origin,
		    nthreads, tiers, gc.cluster != NULL || gc.agent != NULL ? ", master " : "",
		    gc.cluster != NULL || gc.agent != NULL ? c->master : "");
	}
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
	CM_LOGI("%s stopping (signal %d)", role_name(role), sig);
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
	clu_view_free(&gc.cluster);
	clu_agent_free(&gc.agent);
	clu_auth_seen_free(&gc.seen);
	if (gc.ckey_set)
		clu_auth_key_fini(&gc.ckey);
	cache_writer_close(&gc.writer);		/* writes what is queued */
	cache_store_free(&gc.cache);
	cache_disk_close(&disk);
	free(ctxs);
	free(tctx);
	curl_global_cleanup();
	return (rv);
}
