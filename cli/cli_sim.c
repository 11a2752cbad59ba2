/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_sim.c: `cachalot sim [--policy P,...] [--cache-size SIZE,...] TRACE`:
 * request and byte miss ratios of each policy at each size, from one pass
 * over the trace through the eviction code the worker uses. Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cli/cli.h"
#include "common/common.h"

#define MAX_ITEMS 32

/* Splits a comma list into at most MAX_ITEMS NUL-terminated items of buf. */
static int
split(char *buf, char **items)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_ITEMS)
			return (-1);
		items[n++] = tok;
	}
	return (n);
}

int
cli_sim(const struct cm_config *c, const char *trace)
{
	const struct cache_evict_ops *pol[MAX_ITEMS];
	uint64_t sizes[MAX_ITEMS];
	struct cache_sim_result *res = NULL;
	char pbuf[512], sbuf[512], err[256], *items[MAX_ITEMS];
	int np, ns, i, j, rv = 1;

	snprintf(pbuf, sizeof pbuf, "%s", c->policy);
	snprintf(sbuf, sizeof sbuf, "%s", c->cache_size);
	np = split(pbuf, items);
	if (np <= 0) {
		fprintf(stderr, "cachalot sim: invalid value '%s' for --policy\n", c->policy);
		return (2);
	}
	for (i = 0; i < np; i++) {
		pol[i] = cache_evict_by_name(items[i]);
		if (pol[i] == NULL) {
			fprintf(stderr, "cachalot sim: invalid value '%s' for --policy: "
			    "expected s3fifo or lru\n", items[i]);
			return (2);
		}
	}
	ns = split(sbuf, items);
	if (ns <= 0) {
		fprintf(stderr, "cachalot sim: invalid value '%s' for --cache-size\n", c->cache_size);
		return (2);
	}
	for (i = 0; i < ns; i++)
		if (cm_parse_size(items[i], &sizes[i]) != 0 || sizes[i] == 0) {
			fprintf(stderr, "cachalot sim: invalid value '%s' for --cache-size: "
			    "expected a size such as 512M\n", items[i]);
			return (2);
		}
	res = calloc((size_t)(np * ns), sizeof *res);
	if (res == NULL)
		return (1);
	if (cache_sim_run(pol, (size_t)np, sizes, (size_t)ns, trace, res, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot sim: %s\n", err);
		goto out;
	}
	printf("%-8s %14s %12s %12s %12s\n", "policy", "cache_bytes", "requests", "miss_ratio",
	    "byte_miss");
	for (i = 0; i < np; i++)
		for (j = 0; j < ns; j++) {
			const struct cache_sim_result *r = &res[i * ns + j];

			printf("%-8s %14llu %12llu %12.4f %12.4f\n", pol[i]->name,
			    (unsigned long long)sizes[j], (unsigned long long)r->requests,
			    r->requests ? (double)r->misses / (double)r->requests : 0.0,
			    r->bytes ? (double)r->miss_bytes / (double)r->bytes : 0.0);
		}
	rv = 0;
out:
	free(res);
	return (rv);
}
