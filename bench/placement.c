/* SPDX-License-Identifier: Apache-2.0 */
/*
 * placement.c: how well the ring spreads blocks and how many move when a
 * worker joins or leaves, for 10, 100 and 1000 workers of equal weight
 * (and one mixed-weight case). Blocks: 1 MiB blocks of objects named as a
 * data set would be. Prints figures, asserts nothing.
 *   balance    the busiest worker's blocks / the mean (1.00 is perfect)
 *   join       blocks whose owner changes when worker N+1 joins, against
 *              the ideal: its share, 1/(N+1) with equal weights
 *   leave      blocks whose owner changes when one worker leaves, against
 *              its share, 1/N with equal weights
 * Usage: placement [BLOCKS]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"

static struct ring *
make(size_t n, size_t skip, int weighted)
{
	struct ring_worker *w = calloc(n, sizeof *w);
	struct ring *r;
	size_t i, k = 0;

	if (w == NULL)
		return (NULL);
	for (i = 0; i < n + (skip < n ? 1 : 0); i++) {
		if (i == skip)
			continue;
		if (k == n)
			break;
		snprintf(w[k].id, sizeof w[k].id, "worker-%zu", i);
		snprintf(w[k].addr, sizeof w[k].addr, "10.0.%zu.%zu:9201", i / 250, i % 250);
		w[k].weight = weighted ? (uint32_t)(1 + i % 3) : 1;
		k++;
	}
	r = ring_new(1, w, k);
	free(w);
	return (r);
}

/* Owner of every block, by worker id number (parsed back from the id). */
static void
owners(const struct ring *r, const uint64_t *h, size_t nb, unsigned *own)
{
	size_t i, o;

	for (i = 0; i < nb; i++) {
		(void)ring_owners(r, h[i], &o, 1);
		own[i] = (unsigned)strtoul(r->w[o].id + 7, NULL, 10);
	}
}

static void
one(size_t n, const uint64_t *h, size_t nb, int weighted)
{
	struct ring *r = make(n, SIZE_MAX, weighted), *j = make(n + 1, SIZE_MAX, weighted);
	struct ring *l = make(n - 1, n / 2, weighted);
	unsigned *a = malloc(nb * sizeof *a), *b = malloc(nb * sizeof *b);
	double *count = calloc(n + 1, sizeof *count), max = 0, wsum = 0, wjoin, wleave;
	size_t i, moved = 0, left = 0;

	if (r == NULL || j == NULL || l == NULL || a == NULL || b == NULL || count == NULL)
		exit(1);
	owners(r, h, nb, a);
	for (i = 0; i < nb; i++)
		count[a[i]]++;
	for (i = 0; i < n; i++)
		wsum += r->w[i].weight;
	/* Balance against each worker's fair share by weight. */
	for (i = 0; i < n; i++) {
		unsigned id = (unsigned)strtoul(r->w[i].id + 7, NULL, 10);
		double fair = (double)nb * r->w[i].weight / wsum;

		if (count[id] / fair > max)
			max = count[id] / fair;
	}
	/* The ideal moves: the newcomer's share of the new total, the
	 * leaver's share of the old one. */
	wjoin = j->w[n].weight / (wsum + j->w[n].weight);
	wleave = (weighted ? (double)(1 + (n / 2) % 3) : 1.0) / wsum;
	owners(j, h, nb, b);
	for (i = 0; i < nb; i++)
		moved += a[i] != b[i];
	owners(l, h, nb, b);
	for (i = 0; i < nb; i++)
		left += a[i] != b[i];
	printf("%6zu %8s %10zu %8.3f | %8.4f %8.4f %6.2f | %8.4f %8.4f %6.2f\n", n,
	    weighted ? "1,2,3" : "equal", nb / n, max,
	    (double)moved / (double)nb, wjoin, (double)moved / (double)nb / wjoin,
	    (double)left / (double)nb, wleave, (double)left / (double)nb / wleave);
	ring_free(&r);
	ring_free(&j);
	ring_free(&l);
	free(a);
	free(b);
	free(count);
}

int
main(int argc, char **argv)
{
	size_t nb = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i;
	uint64_t *h = malloc(nb * sizeof *h);
	char key[64];

	if (h == NULL || nb == 0)
		return (1);
	for (i = 0; i < nb; i++) {
		int kl = snprintf(key, sizeof key, "models/shard-%05zu.safetensors", i / 64);

		h[i] = ring_hash(cm_slice("datasets", 8), cm_slice(key, (size_t)kl), i % 64);
	}
	printf("Placement: weighted rendezvous hashing, %zu blocks (64 blocks per object).\n", nb);
	printf("balance = busiest worker / its fair share; moved = fraction of blocks changing owner\n");
	printf("%6s %8s %10s %8s | %8s %8s %6s | %8s %8s %6s\n", "workers", "weights", "blocks/w",
	    "balance", "join", "ideal", "ratio", "leave", "ideal", "ratio");
	one(10, h, nb, 0);
	one(100, h, nb, 0);
	one(1000, h, nb, 0);
	one(100, h, nb, 1);
	free(h);
	return (0);
}
