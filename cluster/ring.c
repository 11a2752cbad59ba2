/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.c: weighted rendezvous hashing (see ring.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ring.h"

/* A 64-bit finaliser (splitmix64): scores must look independent for
 * every (block, worker) pair. */
static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

uint64_t
ring_hash(struct cm_slice bucket, struct cm_slice key, uint64_t idx)
{
	uint64_t h = cm_fnv1a(bucket.p, bucket.len, 0xcbf29ce484222325ull);

	h = cm_fnv1a("/", 1, h);
	h = cm_fnv1a(key.p, key.len, h);
	return (mix64(h ^ mix64(idx)));
}

struct ring *
ring_new(uint64_t epoch, const struct ring_worker *w, size_t n)
{
	struct ring *r;
	size_t i;

	if (n > RING_MAX_WORKERS)
		return (NULL);
	r = calloc(1, sizeof *r + n * sizeof *w);
	if (r == NULL)
		return (NULL);
	r->epoch = epoch;
	r->n = n;
	r->uniform = 1;
	for (i = 0; i < n; i++) {
		r->w[i] = w[i];
		r->w[i].id[RING_ID_MAX - 1] = '\0';
		r->w[i].addr[RING_ADDR_MAX - 1] = '\0';
		r->w[i].seed = mix64(cm_fnv1a(r->w[i].id, strlen(r->w[i].id), 0x84222325cbf29ce4ull));
		if (r->w[i].weight != r->w[0].weight)
			r->uniform = 0;
	}
	return (r);
}

void
ring_free(struct ring **rp)
{
	free(*rp);
	*rp = NULL;
}

/* The score of worker w for hash h: with equal weights the raw draw (same
 * order, no logarithm); else w / -ln(u), u uniform in (0, 1). */
static double
score(const struct ring *r, size_t i, uint64_t h)
{
	uint64_t v = mix64(h ^ r->w[i].seed);
	double u;

	if (r->uniform)
		return ((double)v);
	u = ((double)(v >> 11) + 0.5) / 9007199254740992.0;	/* (0, 1) */
	return ((double)r->w[i].weight / -log(u));
}

size_t
ring_owners(const struct ring *r, uint64_t h, size_t *out, size_t max)
{
	double best[16];
	size_t n = 0, i, j;

	if (max > CM_ARRAY_LEN(best))
		max = CM_ARRAY_LEN(best);
	for (i = 0; i < r->n; i++) {
		double s = score(r, i, h);

		if (n == max && s <= best[n - 1])
			continue;
		j = n < max ? n++ : n - 1;	/* the last place, or a new one */
		while (j > 0 && best[j - 1] < s) {
			best[j] = best[j - 1];
			out[j] = out[j - 1];
			j--;
		}
		best[j] = s;
		out[j] = i;
	}
	return (n);
}

struct ring *
ring_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct ring_worker *w = NULL;
	struct ring *r = NULL;
	struct cm_slice rest = cm_slice(text, len), line;
	uint64_t epoch = 0, v;
	size_t n = 0, cap = 0, lineno = 0;
	int have_epoch = 0;

	while (rest.len > 0) {
		struct cm_slice f[5], t;
		size_t nf = 0;

		rest = cm_slice_cut(rest, '\n', &line);
		lineno++;
		line = cm_slice_trim(line);
		if (line.len == 0)
			continue;
		while (line.len > 0 && nf < CM_ARRAY_LEN(f)) {
			line = cm_slice_trim(cm_slice_cut(line, ' ', &t));
			f[nf++] = t;
		}
		if (line.len > 0)
			goto bad;
		if (nf == 2 && cm_slice_eq(f[0], "epoch")) {
			if (cm_parse_u64(f[1], UINT64_MAX, &epoch) != 0)
				goto bad;
			have_epoch = 1;
		} else if (nf == 4 && cm_slice_eq(f[0], "worker")) {
			if (f[1].len == 0 || f[1].len >= RING_ID_MAX || f[2].len == 0 ||
			    f[2].len >= RING_ADDR_MAX || cm_parse_u64(f[3], 1000, &v) != 0 || v == 0)
				goto bad;
			if (n == RING_MAX_WORKERS)
				goto bad;
			if (n == cap) {
				struct ring_worker *nw;

				cap = cap != 0 ? cap * 2 : 16;
				nw = realloc(w, cap * sizeof *w);
				if (nw == NULL) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
				w = nw;
			}
			memset(&w[n], 0, sizeof w[n]);
			memcpy(w[n].id, f[1].p, f[1].len);
			memcpy(w[n].addr, f[2].p, f[2].len);
			w[n].weight = (uint32_t)v;
			n++;
		} else {
			goto bad;
		}
	}
	if (!have_epoch) {
		snprintf(err, errlen, "no epoch line");
		goto out;
	}
	r = ring_new(epoch, w, n);
	if (r == NULL)
		snprintf(err, errlen, "out of memory");
	goto out;
bad:
	snprintf(err, errlen, "line %zu: expected 'epoch N' or 'worker ID HOST:PORT WEIGHT'", lineno);
out:
	free(w);
	return (r);
}

int
ring_format_epoch(struct cm_buf *out, uint64_t epoch)
{
	return (cm_buf_addf(out, "epoch %llu\n", (unsigned long long)epoch));
}

int
ring_format_worker(struct cm_buf *out, const char *id, const char *addr, uint32_t weight)
{
	return (cm_buf_addf(out, "worker %s %s %u\n", id, addr, weight));
}

int
ring_format(const struct ring *r, struct cm_buf *out)
{
	size_t i;
	int rv = ring_format_epoch(out, r->epoch);

	for (i = 0; i < r->n; i++)
		rv |= ring_format_worker(out, r->w[i].id, r->w[i].addr, r->w[i].weight);
	return (rv != 0 ? -1 : 0);
}
