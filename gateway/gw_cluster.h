/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_cluster.h: a gateway's or a worker's side of the cluster.
 *
 * Gateway: a thread polls the master's ring (GET /v1/ring) every
 * `heartbeat` seconds and swaps in a new ring when the epoch changes; with
 * the master away the last ring stays. Reads ask gw_cluster_targets for the
 * workers owning a block, best first; a worker whose request failed is
 * "suspect" for a few seconds and tried last. What its staging store served
 * (and what it fetched from the origin itself) is posted to the master's
 * /v1/stats after each poll.
 *
 * Worker: a thread heartbeats to the master (POST /v1/heartbeat) with the
 * per-bucket statistics counted since the last heartbeat (and the blocks
 * its cache evicted), and applies the purges the master answers with.
 *
 * Threads: the cluster thread, and any loop through the functions below
 * (one mutex; gw_cluster_count takes none: it is on the hit path).
 */
#ifndef CACHALOT_GW_CLUSTER_H
#define CACHALOT_GW_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/ring.h"
#include "gateway/gw_priv.h"

struct cache_store;

/* worker: this process is a worker (else a gateway). store: the worker's
 * cache (purges are applied to it), or NULL. NULL with err on failure. */
struct gw_cluster *gw_cluster_new(const struct gw_conf *gc, int worker, struct cache_store *store,
    char *err, size_t errlen);
/* Starts the thread (after a first poll or heartbeat, so that a gateway
 * starts with the ring when the master is there). */
int gw_cluster_start(struct gw_cluster *cl);
void gw_cluster_free(struct gw_cluster **clp);

/* Gateway: the workers for placement hash h, best first (suspects last),
 * as targets signed with the cluster's key. Returns how many (0: no ring). */
size_t gw_cluster_targets(struct gw_cluster *cl, uint64_t h, struct gw_target *out, size_t max);
/* Every worker of the ring (for invalidations). */
size_t gw_cluster_all(struct gw_cluster *cl, struct gw_target *out, size_t max);
/* A request to the worker at host failed: tried last for a while. */
void gw_cluster_suspect(struct gw_cluster *cl, const char *host);
uint64_t gw_cluster_epoch(struct gw_cluster *cl);
size_t gw_cluster_size(struct gw_cluster *cl);

/* One answer's outcome for the master's statistics: blocks read cached
 * (hits), blocks fetched from the origin (misses), bytes served to the
 * client from them and bytes from the origin. A gateway passes what its
 * staging store served and what it fetched from the origin itself (the
 * workers count what they served it). */
void gw_cluster_count(struct gw_cluster *cl, struct cm_slice bucket, uint64_t hits,
    uint64_t misses, uint64_t served, uint64_t from_origin);
/* 1: the last request to the master was answered; 0: it failed (why says
 * how); -1: none was made yet. */
int gw_cluster_master_reachable(struct gw_cluster *cl, char *why, size_t len);

#endif
