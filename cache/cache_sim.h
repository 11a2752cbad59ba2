/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_sim.h: `cachalot sim`: replays a trace through the real eviction
 * policies (the same objects the worker links) and counts misses.
 *
 * Traces: libCacheSim's oracleGeneral binary format (24 bytes a request,
 * little-endian: uint32 time, uint64 object id, uint32 size, int64 next
 * access), or CSV lines "time,obj_id,obj_size" (a header line is skipped;
 * an id that is not a number is hashed). Main thread.
 */
#ifndef CACHALOT_CACHE_SIM_H
#define CACHALOT_CACHE_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cache/cache_evict.h"

struct cache_sim_req {
	uint64_t	id;
	uint64_t	size;
};

struct cache_trace;

/* Opens a trace; the format is told by its content. NULL with err set. */
struct cache_trace *cache_trace_open(const char *path, char *err, size_t errlen);
/* 1: *r is the next request; 0: end of trace; -1: malformed (err says
 * where). */
int cache_trace_next(struct cache_trace *t, struct cache_sim_req *r, char *err, size_t errlen);
void cache_trace_close(struct cache_trace **tp);

/* The record parsers, for tests and the fuzz target. 0 or -1. */
int cache_trace_parse_csv(const char *line, size_t len, struct cache_sim_req *r);
void cache_trace_parse_og(const unsigned char rec[24], struct cache_sim_req *r);

struct cache_sim_result {
	uint64_t	requests;
	uint64_t	misses;
	uint64_t	bytes;
	uint64_t	miss_bytes;
};

/* Replays trace once through npol x nsizes policy instances (res holds
 * npol * nsizes results, policy-major). 0, or -1 with err set. */
int cache_sim_run(const struct cache_evict_ops *const *pol, size_t npol, const uint64_t *sizes,
    size_t nsizes, const char *trace, struct cache_sim_result *res, char *err, size_t errlen);

#endif
