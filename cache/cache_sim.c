/* SPDX-License-Identifier: Apache-2.0 */
/* cache_sim.c: see cache.h. Main thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "cache/cache.h"

struct cache_trace {
	FILE		*f;
	int		csv;
	uint64_t	line;
	char		buf[4096];
};

static uint64_t
le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return (v);
}

void
cache_trace_parse_og(const unsigned char rec[24], struct cache_sim_req *r)
{
	r->id = le(rec + 4, 8);
	r->size = le(rec + 12, 4);
	if (r->size == 0)
		r->size = 1;
}

int
cache_trace_parse_csv(const char *line, size_t len, struct cache_sim_req *r)
{
	struct cm_slice rest = cm_slice(line, len), t, id, sz;

	while (rest.len > 0 && (rest.p[rest.len - 1] == '\n' || rest.p[rest.len - 1] == '\r'))
		rest.len--;
	rest = cm_slice_cut(rest, ',', &t);
	if (rest.p == NULL)
		return (-1);
	rest = cm_slice_cut(rest, ',', &id);
	if (rest.p == NULL)
		return (-1);
	(void)cm_slice_cut(rest, ',', &sz);
	id = cm_slice_trim(id);
	sz = cm_slice_trim(sz);
	if (id.len == 0 || cm_parse_u64(sz, UINT32_MAX * 1024ull, &r->size) != 0)
		return (-1);
	if (cm_parse_u64(id, UINT64_MAX, &r->id) != 0)
		r->id = cm_fnv1a(id.p, id.len, 0);	/* ids that are not numbers */
	if (r->size == 0)
		r->size = 1;
	return (0);
}

struct cache_trace *
cache_trace_open(const char *path, char *err, size_t errlen)
{
	struct cache_trace *t;
	unsigned char head[24];
	size_t n, i;
	int text = 1;

	t = calloc(1, sizeof *t);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	t->f = fopen(path, "rb");
	if (t->f == NULL) {
		snprintf(err, errlen, "cannot open trace '%s': %s", path, strerror(errno));
		free(t);
		return (NULL);
	}
	/* CSV when the start is printable text with a comma. */
	n = fread(head, 1, sizeof head, t->f);
	for (i = 0; i < n; i++)
		if (head[i] != '\n' && head[i] != '\r' && head[i] != '\t' &&
		    (head[i] < 0x20 || head[i] > 0x7e))
			text = 0;
	t->csv = text && n > 0 && memchr(head, ',', n) != NULL;
	rewind(t->f);
	return (t);
}

int
cache_trace_next(struct cache_trace *t, struct cache_sim_req *r, char *err, size_t errlen)
{
	unsigned char rec[24];
	size_t n;

	if (!t->csv) {
		n = fread(rec, 1, sizeof rec, t->f);
		if (n == 0)
			return (0);
		if (n != sizeof rec) {
			snprintf(err, errlen, "trace: truncated record after %llu requests",
			    (unsigned long long)t->line);
			return (-1);
		}
		t->line++;
		cache_trace_parse_og(rec, r);
		return (1);
	}
	while (fgets(t->buf, sizeof t->buf, t->f) != NULL) {
		t->line++;
		if (strchr(t->buf, '\n') == NULL && !feof(t->f)) {
			snprintf(err, errlen, "trace: line %llu too long", (unsigned long long)t->line);
			return (-1);
		}
		if (t->buf[0] == '\n' || t->buf[0] == '#')
			continue;
		if (cache_trace_parse_csv(t->buf, strlen(t->buf), r) == 0)
			return (1);
		if (t->line == 1)
			continue;	/* a header */
		snprintf(err, errlen, "trace: line %llu: expected time,obj_id,obj_size",
		    (unsigned long long)t->line);
		return (-1);
	}
	return (0);
}

void
cache_trace_close(struct cache_trace **tp)
{
	struct cache_trace *t = *tp;

	*tp = NULL;
	if (t == NULL)
		return;
	fclose(t->f);
	free(t);
}

int
cache_sim_run(const struct cache_evict_ops *const *pol, size_t npol, const uint64_t *sizes,
    size_t nsizes, const char *trace, struct cache_sim_result *res, char *err, size_t errlen)
{
	struct cache_evict **inst = NULL;
	struct cache_trace *t = NULL;
	struct cache_sim_req r;
	size_t i, n = npol * nsizes;
	int rv = -1, got;

	memset(res, 0, n * sizeof *res);
	inst = calloc(n, sizeof *inst);
	if (inst == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		inst[i] = pol[i / nsizes]->create(sizes[i % nsizes], NULL, NULL);
		if (inst[i] == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	t = cache_trace_open(trace, err, errlen);
	if (t == NULL)
		goto out;
	while ((got = cache_trace_next(t, &r, err, errlen)) == 1) {
		for (i = 0; i < n; i++) {
			res[i].requests++;
			res[i].bytes += r.size;
			if (!pol[i / nsizes]->access(inst[i], r.id, r.size)) {
				res[i].misses++;
				res[i].miss_bytes += r.size;
			}
		}
	}
	if (got < 0)
		goto out;
	rv = 0;
out:
	for (i = 0; inst != NULL && i < n; i++)
		if (inst[i] != NULL)
			pol[i / nsizes]->fini(&inst[i]);
	free(inst);
	cache_trace_close(&t);
	return (rv);
}
