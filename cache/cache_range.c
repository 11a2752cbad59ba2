/* SPDX-License-Identifier: Apache-2.0 */
/* cache_range.c: see cache.h. Pure functions. */
#include <string.h>

#include "cache/cache.h"
#include "s3sig/s3sig.h"

/* The opaque part of an entity tag: W/ and quotes aside. */
static struct cm_slice
opaque(struct cm_slice t)
{
	t = cm_slice_trim(t);
	if (t.len >= 2 && t.p[0] == 'W' && t.p[1] == '/') {
		t.p += 2;
		t.len -= 2;
	}
	if (t.len >= 2 && t.p[0] == '"' && t.p[t.len - 1] == '"') {
		t.p++;
		t.len -= 2;
	}
	return (t);
}

/* Does the list "a", "b" (or *) name the object's tag? */
static int
etag_in(struct cm_slice list, struct cm_slice etag)
{
	struct cm_slice rest = list, t, mine = opaque(etag);

	while (rest.p != NULL && rest.len > 0) {
		rest = cm_slice_cut(rest, ',', &t);
		t = cm_slice_trim(t);
		if (cm_slice_eq(t, "*"))
			return (1);
		t = opaque(t);
		if (t.len == mine.len && t.len > 0 && memcmp(t.p, mine.p, t.len) == 0)
			return (1);
	}
	return (0);
}

int
cache_cond_eval(const struct cache_obj_info *o, const struct cache_conds *c)
{
	time_t t;

	if (c->if_match.len > 0) {
		if (!etag_in(c->if_match, o->etag))
			return (412);
	} else if (c->if_unmodified_since.len > 0 && o->last_modified >= 0 &&
	    s3sig_parse_http_date(c->if_unmodified_since, &t) == 0 &&
	    o->last_modified > t) {
		return (412);
	}
	if (c->if_none_match.len > 0) {
		if (etag_in(c->if_none_match, o->etag))
			return (304);
	} else if (c->if_modified_since.len > 0 && o->last_modified >= 0 &&
	    s3sig_parse_http_date(c->if_modified_since, &t) == 0 &&
	    o->last_modified <= t) {
		return (304);
	}
	return (200);
}

int
cache_range_eval(struct cm_slice range, uint64_t size, struct cache_range *r)
{
	struct cm_slice spec, a, b;
	uint64_t first, last, n;

	range = cm_slice_trim(range);
	if (range.len < 6 || !cm_slice_eq_nocase(cm_slice(range.p, 6), CM_SLICE_LIT("bytes=")))
		return (200);
	spec = cm_slice_trim(cm_slice(range.p + 6, range.len - 6));
	if (memchr(spec.p, ',', spec.len) != NULL)
		return (200);	/* S3 serves no multi-range: the whole object */
	b = cm_slice_cut(spec, '-', &a);
	if (b.p == NULL)
		return (200);
	a = cm_slice_trim(a);
	b = cm_slice_trim(b);
	if (a.len == 0) {
		/* Suffix: the last n bytes. */
		if (cm_parse_u64(b, UINT64_MAX, &n) != 0)
			return (200);
		if (size == 0)
			return (200);
		if (n == 0)
			return (416);
		r->first = n >= size ? 0 : size - n;
		r->last = size - 1;
		return (206);
	}
	if (cm_parse_u64(a, UINT64_MAX, &first) != 0)
		return (200);
	if (b.len == 0) {
		last = UINT64_MAX;
	} else if (cm_parse_u64(b, UINT64_MAX, &last) != 0 || last < first) {
		return (200);
	}
	if (first >= size)
		return (416);
	r->first = first;
	r->last = last >= size ? size - 1 : last;
	return (206);
}

void
cache_blocks_for(uint64_t first, uint64_t last, uint64_t bs, uint64_t *b0, uint64_t *b1)
{
	CM_ASSERT(bs > 0 && first <= last);
	*b0 = first / bs;
	*b1 = last / bs;
}
