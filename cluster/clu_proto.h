/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_proto.h: the cluster's messages, one writer and one parser each, used
 * by both ends (the master, and the agents: cluster/clu_agent.c on a worker,
 * cluster/clu_view.c on a gateway). Text, one item per line, fields split
 * by one space:
 *
 * Heartbeat, a worker to the master (POST /v1/heartbeat):
 *   worker ID HOST:PORT WEIGHT
 *   purge-seen N
 *   stats BUCKET HITS MISSES BYTES_SERVED BYTES_FROM_ORIGIN EVICTIONS  (deltas)
 *   evictions N        (blocks the worker evicted since its last heartbeat)
 * HITS are blocks read cached, MISSES blocks fetched from the origin.
 *
 * Its answer:
 *   epoch N
 *   state up|drained|down
 *   joined             (this heartbeat brought the worker into the ring)
 *   purge SEQ BUCKET [PREFIX]   (a purge order, see below)
 *
 * Gateway statistics, a gateway to the master (POST /v1/stats):
 *   gateway ID
 *   stats ...          (as in a heartbeat; they count in buckets, no worker)
 *
 * The ring a gateway polls (GET /v1/ring): ring_format/ring_parse (ring.h).
 *
 * Parsers take borrowed slices and return slices into them (nothing is
 * copied or allocated); they never read past len and never assert on
 * their input. Lines a parser does not know are skipped (a newer peer may
 * say more); a malformed line of a known kind is skipped as well, except
 * the first line of a heartbeat or of gateway statistics, which must be
 * right. Writers append to a bounded cm_buf and return -1 when it is full.
 * All of it is pure: any thread, no lock.
 */
#ifndef CACHALOT_CLU_PROTO_H
#define CACHALOT_CLU_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* One bucket's statistics (deltas since the last message). */
struct clu_stat {
	struct cm_slice	bucket;
	uint64_t	hits, misses, served, origin, evictions;
};

/* A heartbeat, less its stats lines (read with clu_stats_next). */
struct clu_hb {
	struct cm_slice	id;		/* [A-Za-z0-9._:-], 1 to RING_ID_MAX - 1 */
	struct cm_slice	addr;		/* host:port, [A-Za-z0-9.-_:[]%], < RING_ADDR_MAX */
	uint64_t	weight;		/* 1 to 1000 */
	uint64_t	purge_seen;	/* 0 when absent or malformed */
	uint64_t	evictions;	/* the sum of the evictions lines */
	struct cm_slice	rest;		/* the lines after the first */
};

/* The master's answer to a heartbeat, less its purge lines. */
struct clu_hb_answer {
	uint64_t	epoch;		/* 0 when absent */
	struct cm_slice	state;		/* "up", "drained", "down"; len 0 absent */
	int		joined;
	struct cm_slice	rest;		/* every line: for clu_purge_next */
};

/* A purge order: forget bucket's objects under prefix (len 0: all). */
struct clu_purge {
	uint64_t	seq;
	struct cm_slice	bucket;
	struct cm_slice	prefix;
};

/* 1 when s is a worker ID: 1 to 63 of [A-Za-z0-9._:-]. */
int clu_proto_id_valid(struct cm_slice s);

/* Heartbeat. Write: hb's id, addr, weight, purge_seen and evictions (rest
 * unused), then the n stats. Parse: 0 and *hb, or -1 when the first line is
 * not a valid "worker ID HOST:PORT WEIGHT". */
int clu_hb_write(struct cm_buf *out, const struct clu_hb *hb, const struct clu_stat *st,
    size_t n);
int clu_hb_parse(struct cm_slice body, struct clu_hb *hb);

/* The next well-formed stats line of *cursor (a message's rest); 1 and *st,
 * or 0 at the end. Advances *cursor. */
int clu_stats_next(struct cm_slice *cursor, struct clu_stat *st);

/* The answer. Write: epoch, state and joined (purges follow, written with
 * clu_purge_write). Parse: always succeeds (what is missing stays 0). */
int clu_hb_answer_write(struct cm_buf *out, uint64_t epoch, const char *state, int joined);
void clu_hb_answer_parse(struct cm_slice body, struct clu_hb_answer *a);

/* Purge lines. Write: -1 also when the bucket is empty or either field
 * holds a space or a line break. Next: the next well-formed purge line
 * (seq a number, bucket not empty); 1 and *p, or 0 at the end. */
int clu_purge_write(struct cm_buf *out, const struct clu_purge *p);
int clu_purge_next(struct cm_slice *cursor, struct clu_purge *p);

/* Gateway statistics. Write: "gateway ID" and the n stats. Parse: 0 with the
 * gateway's ID and the lines after it in *rest, or -1 when the first line
 * is not "gateway ID". */
int clu_gwstats_write(struct cm_buf *out, const char *id, const struct clu_stat *st, size_t n);
int clu_gwstats_parse(struct cm_slice body, struct cm_slice *id, struct cm_slice *rest);

#endif
