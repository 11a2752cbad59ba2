/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_roles.c: the wiring of the data-path roles, `cachalot serve`,
 * `gateway` and `worker`: what each is made of, built here and handed to
 * the S3 front end (gw_run, gateway/gateway.h) in a struct gw_wiring.
 *
 *   serve     the block cache (memory, and disk unless --disk-cache 0) as
 *             a local block source (gw_blksrc_local)
 *   gateway   no cache (pass-through); with --master, a staging store in
 *             memory and the cluster's view as the block source
 *             (gw_blksrc_cluster: the owners on the ring, then the origin)
 *   worker    the block cache for gateways (gw_blksrc_worker); with
 *             --master, an agent (heartbeats, purges) over the store
 *             through clu_agent_ops, and the cluster secret's seen nonces
 *
 * The checks come first, in an order the tests rely on (the configuration,
 * then both ports, then the cache's files, then the cluster): a role that
 * cannot serve opens no cache and touches no cluster.
 *
 * Threads: the main thread runs all of it; the agent's ops run on the
 * agent's cluster thread (the store's functions take its lock).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cache/cache.h"
#include "cli/cli.h"
#include "cluster/cluster.h"
#include "common/cm_config.h"
#include "common/cm_log.h"
#include "common/cm_net.h"
#include "gateway/gateway.h"

/* What a role is made of; freed by parts_free in the reverse order. */
struct parts {
	struct cache_store	*store;
	struct cache_disk	*disk;
	struct cache_writer	*writer;
	struct cache_io		*io;
	struct clu_view		*view;
	struct clu_agent	*agent;
	struct clu_auth_key	key;
	int			key_set;
	struct clu_auth_seen	*seen;
};

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

/* ---- The parts ---- */

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

/* The disk tier under p->store: its files, the writer and I/O threads,
 * the tier's table. 0, or an exit code with a message said. */
static int
make_disk(const struct cm_config *c, struct parts *p)
{
	struct cache_tier *tier;
	char dir[4096], err[512];

	snprintf(dir, sizeof dir, "%s/cache", c->data_dir);
	p->disk = cache_disk_open(dir, c->disk_cache, err, sizeof err);
	if (p->disk == NULL) {
		/* Asked for a disk tier: running without one would hide the
		 * fault behind a lower hit ratio. */
		fprintf(stderr, "cachalot: --data-dir: the disk tier cannot use %s: %s "
		    "(or set --disk-cache 0 to run without a disk tier)\n", dir, err);
		return (2);
	}
	cache_store_attach_disk(p->store, p->disk, c->freshness * 1000);
	/* Blocks waiting for the disk: a quarter of the memory tier, 64 MiB
	 * at least (held beyond the tier). */
	p->writer = cache_writer_new(p->store, p->disk, c->mem_cache / 4 > (64u << 20) ?
	    c->mem_cache / 4 : (64u << 20));
	if (p->writer == NULL) {
		fprintf(stderr, "cachalot: cannot start the disk writer\n");
		return (1);
	}
	/* Disk reads and metadata files: off the loops, and out of the
	 * store's lock. */
	p->io = cache_io_new(p->store, p->disk);
	if (p->io == NULL) {
		fprintf(stderr, "cachalot: cannot start the disk I/O thread\n");
		return (1);
	}
	cache_store_attach_io(p->store, p->io);
	/* Promotion and demotion go through it. */
	tier = cache_tier_disk_new(p->disk, p->io, p->writer);
	if (tier == NULL) {
		fprintf(stderr, "cachalot: cannot allocate the disk tier\n");
		return (1);
	}
	cache_store_attach_tier(p->store, tier);	/* the store's now */
	return (0);
}

/* The store of a role: a cluster gateway's staging store, or the block
 * cache of serve and a worker (and its disk tier). 0, or an exit code. */
static int
make_store(const struct cm_config *c, int role, struct parts *p)
{
	if (role == CM_ROLE_GATEWAY && c->master != NULL) {
		/* Blocks pass through a small staging store (one fetch per
		 * block however many clients ask at once). */
		p->store = cache_store_new(4 * c->readahead * c->block_size, c->block_size,
		    &cache_evict_s3fifo_ops);
		if (p->store == NULL) {
			fprintf(stderr, "cachalot: cannot allocate the staging store\n");
			return (1);
		}
		return (0);
	}
	if (role == CM_ROLE_GATEWAY || c->mem_cache == 0)
		return (0);
	if (c->block_size < 64 * 1024 || c->block_size > 64 * 1024 * 1024) {
		fprintf(stderr, "cachalot: --block-size: invalid value '%llu': 64K to 64M\n",
		    (unsigned long long)c->block_size);
		return (2);
	}
	/* The config checked the policy's name. */
	AN(cache_evict_by_name(c->eviction));
	p->store = cache_store_new(c->mem_cache, c->block_size, cache_evict_by_name(c->eviction));
	if (p->store == NULL) {
		fprintf(stderr, "cachalot: cannot allocate the cache\n");
		return (1);
	}
	return (c->disk_cache > 0 ? make_disk(c, p) : 0);
}

/* A cluster gateway's view, or a worker's agent, and the cluster secret
 * that signs (a gateway) or checks (a worker) every request between them.
 * 0, or an exit code. */
static int
make_cluster(const struct cm_config *c, int role, struct parts *p)
{
	const char *addr = c->advertise != NULL ? c->advertise : c->listen;
	char err[512];

	if (c->master == NULL || role == CM_ROLE_SERVE)
		return (0);
	/* Made here, started (joined) by gw_run once every listener is up. */
	if (role == CM_ROLE_WORKER) {
		struct clu_agent_conf ac = { .master = c->master, .addr = addr,
		    .id = c->worker_id != NULL ? c->worker_id : addr, .weight = c->weight,
		    .heartbeat_s = c->heartbeat, .cluster_secret = c->cluster_secret };

		p->agent = clu_agent_new(&ac, &agent_ops, p->store, err, sizeof err);
	} else {
		struct clu_view_conf vc = { .master = c->master,
		    .id = c->worker_id != NULL ? c->worker_id : addr, .heartbeat_s = c->heartbeat,
		    .cluster_secret = c->cluster_secret };

		p->view = clu_view_new(&vc, err, sizeof err);
	}
	if (p->view == NULL && p->agent == NULL) {
		fprintf(stderr, "cachalot: cluster: %s\n", err);
		return (1);
	}
	/* The agent and the view checked the secret already. */
	if (clu_auth_key_init(&p->key, c->cluster_secret, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: cluster: %s\n", err);
		return (1);
	}
	p->key_set = 1;
	if (role == CM_ROLE_WORKER && (p->seen = clu_auth_seen_new()) == NULL) {
		fprintf(stderr, "cachalot: cannot allocate the cluster's seen nonces\n");
		return (1);
	}
	return (0);
}

static void
parts_free(struct parts *p)
{
	clu_view_free(&p->view);
	clu_agent_free(&p->agent);
	clu_auth_seen_free(&p->seen);
	if (p->key_set)
		clu_auth_key_fini(&p->key);
	if (p->io != NULL) {
		/* Not handed to gw_run (it closes what it was given). */
		cache_store_attach_io(p->store, NULL);
		cache_io_close(&p->io);
	}
	cache_writer_close(&p->writer);		/* writes what is queued */
	cache_store_free(&p->store);
	cache_disk_close(&p->disk);
}

/* The caches, for the start-up line. */
static void
describe(const struct cm_config *c, const struct parts *p, char *out, size_t len)
{
	char mem[32], disk[32], blk[32];

	if (p->view != NULL)
		snprintf(out, len, "blocks cached on the workers (staging %s), block size %s",
		    fmt_size(mem, sizeof mem, 4 * c->readahead * c->block_size),
		    fmt_size(blk, sizeof blk, c->block_size));
	else if (p->store == NULL)
		snprintf(out, len, "no cache (pass-through)");
	else
		snprintf(out, len, "memory %s, disk %s, block size %s",
		    fmt_size(mem, sizeof mem, c->mem_cache),
		    p->disk != NULL ? fmt_size(disk, sizeof disk, c->disk_cache) : "off",
		    fmt_size(blk, sizeof blk, c->block_size));
}

int
cli_role_run(const struct cm_config *c, int role, void (*ready)(const struct cm_config *, int))
{
	struct parts p;
	struct gw_wiring w;
	char err[512];
	int rv, curl = 0;

	CM_ASSERT(role == CM_ROLE_SERVE || role == CM_ROLE_GATEWAY || role == CM_ROLE_WORKER);
	memset(&p, 0, sizeof p);
	cm_log_set_level(c->log_level);
	if (cm_config_check_role(c, role, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot: %s\n", err);
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
	if ((rv = make_store(c, role, &p)) != 0)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "cachalot: libcurl failed to initialise\n");
		rv = 1;
		goto out;
	}
	curl = 1;
	if ((rv = make_cluster(c, role, &p)) != 0)
		goto out;
	memset(&w, 0, sizeof w);
	w.role_name = role == CM_ROLE_WORKER ? "worker" : role == CM_ROLE_SERVE ? "serve" :
	    "gateway";
	w.role = role;
	w.worker = role == CM_ROLE_WORKER;
	/* The owners then the origin, for a cluster gateway (a worker takes
	 * invalidations; it never forwards writes); else the local store. */
	w.src = p.view != NULL ? &gw_blksrc_cluster : role == CM_ROLE_WORKER ? &gw_blksrc_worker :
	    &gw_blksrc_local;
	w.store = p.store;
	w.writer = p.writer;
	w.io = p.io;
	p.io = NULL;		/* gw_run's now */
	w.view = p.view;
	w.agent = p.agent;
	w.ckey = p.key_set ? &p.key : NULL;
	w.seen = p.seen;
	describe(c, &p, w.what, sizeof w.what);
	rv = gw_run(c, &w, ready);
	AZ(w.io);
out:
	parts_free(&p);
	if (curl)
		curl_global_cleanup();
	return (rv);
}
