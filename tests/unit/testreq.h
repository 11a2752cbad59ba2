/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testreq.h: test helper: a raw HTTP request text (as in the AWS SigV4
 * suite's request.txt) parsed into a struct s3sig_req that owns its bytes.
 */
#ifndef CACHALOT_TESTREQ_H
#define CACHALOT_TESTREQ_H

#include <check.h>

#include "s3sig/s3sig.h"

#define TESTREQ_MAX_HDRS 64

struct testreq {
	struct s3sig_req	req;
	struct s3sig_hdr	hdrs[TESTREQ_MAX_HDRS];
	char			*text;	/* owned copy the slices point into */
	struct cm_slice		body;
};

/* Returns 0, or -1 when the text is not a request. Folded header lines are
 * joined to the previous value. */
int testreq_parse(struct testreq *t, const char *text, size_t len);
void testreq_free(struct testreq *t);
/* Adds a header whose name and value must outlive t. */
void testreq_add(struct testreq *t, const char *name, const char *value);
/* Reads a whole file; *lenp its length. NULL on failure. Caller frees. */
char *testreq_slurp(const char *path, size_t *lenp);

/* Runs a suite built of the given test functions, in one TCase named
 * after the suite; returns the process exit code. nofork: run in-process
 * (for tests that share state). */
int testreq_run(const char *name, const TTest *const *tests, size_t n, int timeout, int nofork);

#endif
