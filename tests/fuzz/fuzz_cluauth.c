/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the cluster secret's headers as the master (or a worker)
 * reads them from anyone (cluster/clu_auth.c). The input is up to four
 * lines: x-cachalot-date, x-cachalot-nonce, x-cachalot-auth values, then
 * the request's target; each is parsed and verified (with a seen set), and
 * what the input names is signed and must verify once, then be a replay,
 * and be refused once altered. */
#include <stdint.h>
#include <string.h>

#include "cluster/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct clu_auth_seen *seen;
static uint64_t calls;	/* a clock: a second per 64 inputs, so seen nonces expire */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cm_slice in = cm_slice((const char *)data, size), part[4], rest = in;
	struct clu_auth_key k;
	struct clu_auth_fields f;
	struct clu_auth_hdrs h;
	struct clu_auth_msg m = { .method = CM_SLICE_LIT("POST"), .host = CM_SLICE_LIT("m:1") };
	enum clu_auth_result r;
	char err[256];
	int64_t now = 1700000000 + (int64_t)(calls++ / 64);
	size_t i;

	if (seen == NULL && (seen = clu_auth_seen_new()) == NULL)
		__builtin_trap();
	if (clu_auth_key_init(&k, "fuzz-cluster-secret-0123456789", err, sizeof err) != 0)
		__builtin_trap();
	for (i = 0; i < 4; i++) {
		part[i] = cm_slice(NULL, 0);
		if (rest.len > 0 || i == 0)
			rest = cm_slice_cut(rest, '\n', &part[i]);
	}
	m.target = part[3];
	clu_auth_body_sha256(in.p, in.len, m.body_sha256);
	r = clu_auth_parse(part[0], part[1], part[2], &f);
	if (r != CLU_AUTH_OK && r != CLU_AUTH_MISSING && r != CLU_AUTH_MALFORMED)
		__builtin_trap();
	r = clu_auth_verify(&k, &m, part[0], part[1], part[2], now, seen);
	if (r >= CLU_AUTH_NRESULTS)
		__builtin_trap();
	/* What we sign ourselves verifies once, then is a replay. */
	if (clu_auth_sign(&k, &m, now, NULL, &h) == 0) {
		/* BUSY: the random nonce's bucket of the seen set, shared by
		 * every run, is full (a capacity answer, not a verdict): then
		 * nothing was taken and there is no replay to check. */
		r = clu_auth_verify(&k, &m, cm_slice_str(h.date), cm_slice_str(h.nonce),
		    cm_slice_str(h.mac), now, seen);
		if (r != CLU_AUTH_OK && r != CLU_AUTH_BUSY)
			__builtin_trap();
		if (r == CLU_AUTH_OK && clu_auth_verify(&k, &m, cm_slice_str(h.date),
		    cm_slice_str(h.nonce), cm_slice_str(h.mac), now, seen) != CLU_AUTH_REPLAY)
			__builtin_trap();
		m.method = CM_SLICE_LIT("GET");
		if (clu_auth_verify(&k, &m, cm_slice_str(h.date), cm_slice_str(h.nonce),
		    cm_slice_str(h.mac), now, NULL) != CLU_AUTH_BAD)
			__builtin_trap();
	} else if (memchr(in.p, '\n', in.len) == NULL && memchr(in.p, '\r', in.len) == NULL &&
	    m.target.len < 1000) {
		__builtin_trap();	/* only a line break may stop a signature */
	}
	clu_auth_key_fini(&k);
	return (0);
}
