/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_prom.h: the one Prometheus text-format writer (exposition format
 * 0.0.4) behind every /metrics of Cachalot: the gateway roles' admin
 * endpoint and the master's.
 *
 * A family is opened once (HELP and TYPE), then its samples follow; a
 * family opened twice is a bug (asserted), so that every family is printed
 * as one group, as the format requires. Label values are escaped here.
 *
 *	struct cm_prom p;
 *	cm_prom_init(&p, &buf);
 *	cm_prom_family(&p, "cachalot_cache_hits_total", "counter", "Block reads ...");
 *	cm_prom_u64(&p, hits_mem, "tier", "memory", NULL);
 *	if (cm_prom_finish(&p) != 0) ... (the buffer's maximum was reached)
 *
 * Threads: any; a writer is used by one thread at a time.
 */
#ifndef CACHALOT_CM_PROM_H
#define CACHALOT_CM_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define CM_PROM_MAX_FAMILIES	128

struct cm_prom {
	struct cm_buf	*out;			/* borrowed */
	const char	*fam;			/* the family open now */
	const char	*type;
	const char	*seen[CM_PROM_MAX_FAMILIES];
	size_t		nseen;
	int		err;
};

void cm_prom_init(struct cm_prom *p, struct cm_buf *out);
/* Opens a family: name, type ("counter", "gauge", "histogram"), help (one
 * line). name, type and help must outlive the writer (literals). */
void cm_prom_family(struct cm_prom *p, const char *name, const char *type, const char *help);
/* One sample of the open counter or gauge. The variadic arguments are
 * label name, label value pairs, ended by NULL. */
void cm_prom_u64(struct cm_prom *p, uint64_t v, ...) __attribute__((sentinel));
void cm_prom_f64(struct cm_prom *p, double v, ...) __attribute__((sentinel));
/* The samples of one series of the open histogram: n upper bounds le[]
 * (ascending), n + 1 bucket counts (not cumulative; +Inf last), the sum;
 * then label pairs ended by NULL. */
void cm_prom_histogram(struct cm_prom *p, const double *le, const uint64_t *counts, size_t n,
    double sum, ...) __attribute__((sentinel));
/* 0, or -1 when a write failed (the buffer is then incomplete). */
int cm_prom_finish(struct cm_prom *p);

#endif
