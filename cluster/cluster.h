/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster.h: what cluster/ offers the other directories, and the only
 * cluster/ header they include (ring.h, clu_proto.h and clu_auth.h are
 * its parts, included here; tests/deploy/layering.sh checks that no other
 * directory includes them, nor clu_priv.h, itself).
 *
 *   - the ring (ring.h): placement of blocks on workers, its text form;
 *   - the protocol (clu_proto.h): the messages between the master and the
 *     processes of the cluster, one writer and one parser each;
 *   - a gateway's view of the cluster (struct clu_view, clu_view.c): the
 *     ring polled from the master, owners of a block, suspects, statistics;
 *   - a worker's agent (struct clu_agent, clu_agent.c): heartbeats, purges,
 *     revalidation on (re)admission, statistics, evictions; what it needs
 *     of the local cache comes through struct clu_agent_ops;
 *   - the cluster's secret (clu_auth.h): signing and verifying requests
 *     and answers between the processes of a cluster;
 *   - the master (`cachalot master`, master_*.c): master_run.
 *
 * Threads: a view and an agent each run one thread of their own (the
 * "cluster thread"), which alone talks to the master (libcurl easy, so a
 * slow or absent master never blocks a loop). Their other functions are
 * called from any loop. The objects carry magic numbers, checked on entry.
 */
#ifndef CACHALOT_CLUSTER_H
#define CACHALOT_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/clu_auth.h"
#include "cluster/clu_proto.h"
#include "cluster/ring.h"
#include "common/common.h"
#include "s3sig/s3sig.h"

/* ---- A gateway's view of the cluster ---- */

/* Filled by the role's wiring; the strings are borrowed and must outlive
 * the view. */
struct clu_view_conf {
	const char	*master;	/* the master's URL */
	const char	*id;		/* names this gateway in its statistics */
	uint64_t	heartbeat_s;	/* seconds between polls (0: 1) */
	const char	*cluster_secret;	/* required (clu_auth.h) */
};

/* A worker to send a block request to. */
struct clu_target {
	char			id[RING_ID_MAX];
	char			host[RING_ADDR_MAX];	/* host:port of its block server */
};

/* NULL with err on failure (no master, an ID too long, out of memory). */
struct clu_view *clu_view_new(const struct clu_view_conf *vc, char *err, size_t errlen);
/* A first poll, then the thread (so that a gateway starts with the ring
 * when the master is there). 0, or -1 when the thread cannot start. */
int clu_view_start(struct clu_view *v);
/* Stops the thread; *vp = NULL. */
void clu_view_free(struct clu_view **vp);

/* The workers for placement hash h, best first (suspects last). Returns how
 * many (0: no ring yet); at most max, and at most 16. Any thread. */
size_t clu_view_targets(struct clu_view *v, uint64_t h, struct clu_target *out, size_t max);
/* Every worker of the ring, up to max (for invalidations). Any thread. */
size_t clu_view_all(struct clu_view *v, struct clu_target *out, size_t max);
/* A request to the worker at host failed: tried last for a few seconds. */
void clu_view_suspect(struct clu_view *v, const char *host);
/* The ring's epoch (0: no ring yet). Any thread. */
uint64_t clu_view_epoch(struct clu_view *v);
/* Asks the cluster thread to fetch the ring now rather than at the next
 * heartbeat (a worker said the ring has moved on). Any thread. */
void clu_view_poll_soon(struct clu_view *v);

/*
 * A fence: when a worker may have missed an invalidation (it did not
 * answer, but may be alive), the master is asked to order every worker to
 * forget bucket/prefix (prefix in the store's canonical form; empty: the
 * bucket), and the fence is applied once every worker that is up has
 * applied that order (a worker down, or out of the ring, revalidates
 * everything when it is back). The cluster thread orders and asks after
 * it; the caller polls the state (an atomic) and releases its reference
 * (the view holds the other). NULL out of memory or when bucket/prefix do
 * not fit. Any thread.
 */
struct clu_fence;
enum { CLU_FENCE_FAILED = -1, CLU_FENCE_PENDING = 0, CLU_FENCE_APPLIED = 1 };
struct clu_fence *clu_view_fence(struct clu_view *v, struct cm_slice bucket, struct cm_slice prefix);
int clu_fence_state(struct clu_fence *f);
void clu_fence_release(struct clu_fence **fp);
size_t clu_view_size(struct clu_view *v);
/* One answer's outcome for the master's statistics: blocks read cached
 * (hits), blocks fetched from the origin (misses), bytes served to the
 * client from them, bytes from the origin. A gateway passes what its
 * staging store served and what it fetched from the origin itself (the
 * workers count what they served it). No lock: the hit path. */
void clu_view_count(struct clu_view *v, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin);
/* 1: the last request to the master was answered; 0: it failed (why says
 * how); -1: none was made yet. */
int clu_view_master_reachable(struct clu_view *v, char *why, size_t len);

/* ---- A worker's agent ---- */

struct clu_agent_conf {
	const char	*master;	/* the master's URL */
	const char	*id;		/* this worker's ID in the ring */
	const char	*addr;		/* host:port its block server is reached at */
	uint64_t	weight;		/* 1 to 1000 */
	uint64_t	heartbeat_s;	/* seconds between heartbeats (0: 1) */
	const char	*cluster_secret;	/* required (clu_auth.h) */
};

/* What the local cache tells the agent. */
struct clu_stats {
	uint64_t	evictions;	/* blocks evicted so far, every tier */
};

/*
 * What the agent asks of the local cache; called on the cluster thread.
 * Any slot may be NULL: the agent puts a default in (no statistics, nothing
 * to purge or expire), so it never tests for NULL.
 */
struct clu_agent_ops {
	const char	*name;
	void		(*stats)(void *arg, struct clu_stats *st);
	/* Forget bucket's objects whose keys start with prefix, given in the
	 * store's canonical form (that of a literal key); prefix len 0: the
	 * whole bucket. */
	void		(*purge)(void *arg, struct cm_slice bucket, struct cm_slice prefix);
	/* The worker was (re)admitted to the ring, or the agent was just made
	 * (clu_agent_new: what the process loaded from disk): writes through
	 * the gateways may not have reached it; every object is to be checked
	 * with the origin before its next use. */
	void		(*expire_all)(void *arg);
};

/* ops and arg are borrowed and must outlive the agent. NULL with err. */
struct clu_agent *clu_agent_new(const struct clu_agent_conf *ac, const struct clu_agent_ops *ops,
    void *arg, char *err, size_t errlen);
/* A first heartbeat (so that the worker is in the ring when the master is
 * there), then the thread. 0, or -1. */
int clu_agent_start(struct clu_agent *a);
void clu_agent_free(struct clu_agent **ap);
/* As clu_view_count: what this worker served. No lock. */
void clu_agent_count(struct clu_agent *a, struct cm_slice bucket, uint64_t hits, uint64_t misses,
    uint64_t served, uint64_t from_origin);
int clu_agent_master_reachable(struct clu_agent *a, char *why, size_t len);
/* The ring's epoch as the master's last heartbeat answer gave it (0: none
 * yet). Any thread (an atomic). */
uint64_t clu_agent_epoch(struct clu_agent *a);

/* ---- The master ---- */

struct cm_config;

/* `cachalot master`: runs until SIGINT/SIGTERM. 0, or non-zero with a
 * message on stderr (see cluster/master_main.c). */
int master_run(const struct cm_config *c);

#endif
