/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache_range.h: S3's answers to Range and conditional headers, computed
 * from what is known of an object (ETag, size, Last-Modified), so that a
 * cached object is answered exactly as AWS S3 answers, whatever the origin
 * itself would have said. Pure functions, any thread.
 */
#ifndef CACHALOT_CACHE_RANGE_H
#define CACHALOT_CACHE_RANGE_H

#include <stdint.h>
#include <time.h>

#include "common/common.h"

struct cache_obj_info {
	struct cm_slice	etag;		/* as the origin sent it, quoted */
	uint64_t	size;
	time_t		last_modified;	/* -1 when unknown */
};

struct cache_conds {
	struct cm_slice	if_match;		/* len 0: absent */
	struct cm_slice	if_none_match;
	struct cm_slice	if_modified_since;
	struct cm_slice	if_unmodified_since;
};

/*
 * 200 (serve), 304 (Not Modified) or 412 (Precondition Failed), with S3's
 * precedence: If-Match decides and then If-Unmodified-Since is ignored;
 * If-None-Match decides and then If-Modified-Since is ignored. ETags are
 * compared strongly, quotes and a W/ prefix aside; "*" matches any object.
 * A date that does not parse is ignored, as HTTP says.
 */
int cache_cond_eval(const struct cache_obj_info *o, const struct cache_conds *c);

struct cache_range {
	uint64_t	first;
	uint64_t	last;		/* inclusive */
};

/*
 * What a Range header asks of an object of size bytes: 200 (no range, or
 * one S3 ignores: malformed, several ranges, first > last: the whole
 * object), 206 with *r set, or 416 (unsatisfiable; answer with
 * Content-Range: bytes *\/size). A suffix range of an empty object is 200
 * with an empty body, as AWS answers it.
 */
int cache_range_eval(struct cm_slice range, uint64_t size, struct cache_range *r);

/* The blocks (of bs bytes) that hold bytes first..last: *b0..*b1. */
void cache_blocks_for(uint64_t first, uint64_t last, uint64_t bs, uint64_t *b0, uint64_t *b1);

#endif
