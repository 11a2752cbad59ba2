/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.h: which worker owns which block. Weighted rendezvous hashing
 * (highest random weight): every worker scores every block, the highest
 * score owns it, the next ones are the fallbacks in order. Balance follows
 * the weights with no virtual nodes to tune; a worker joining takes about
 * w/(W+w) of the blocks from the others, and a worker leaving moves only
 * its own (each to the worker that was next for it).
 *
 * A ring is immutable once made; the gateway swaps in a new one when the
 * master's epoch changes. Text form (the master's GET /v1/ring):
 *   epoch N
 *   worker ID HOST:PORT WEIGHT
 * one line each; only workers that are up are listed.
 */
#ifndef CACHALOT_RING_H
#define CACHALOT_RING_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define RING_ID_MAX	64
#define RING_ADDR_MAX	256
#define RING_MAX_WORKERS 4096

struct ring_worker {
	char		id[RING_ID_MAX];
	char		addr[RING_ADDR_MAX];	/* host:port of its block server */
	uint32_t	weight;			/* 1 to 1000 */
	uint64_t	seed;			/* hash of id: its scores */
};

struct ring {
	uint64_t		epoch;
	size_t			n;
	int			uniform;	/* all weights equal */
	struct ring_worker	w[];
};

/* A ring of n workers (copied; seeds computed). NULL when out of memory
 * or n is too large. */
struct ring *ring_new(uint64_t epoch, const struct ring_worker *w, size_t n);
void ring_free(struct ring **rp);
/* The placement hash of block idx of bucket/key (idx RING_META for the
 * object's metadata). */
#define RING_META	UINT64_MAX
uint64_t ring_hash(struct cm_slice bucket, struct cm_slice key, uint64_t idx);
/* Up to max workers (indexes into r->w) in preference order for hash h;
 * returns how many. */
size_t ring_owners(const struct ring *r, uint64_t h, size_t *out, size_t max);
/* Parses the text form; NULL with err set when malformed. */
struct ring *ring_parse(const char *text, size_t len, char *err, size_t errlen);
/* The text form into out. 0, or -1 when out of memory. */
int ring_format(const struct ring *r, struct cm_buf *out);
/* The same piecewise (the master writes its ring from its own records):
 * the epoch line, then one line per worker that is up. */
int ring_format_epoch(struct cm_buf *out, uint64_t epoch);
int ring_format_worker(struct cm_buf *out, const char *id, const char *addr, uint32_t weight);

#endif
