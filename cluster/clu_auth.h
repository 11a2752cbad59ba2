/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_auth.h: the cluster's secret: signing and verifying a request (or an
 * answer) between the processes of a cluster. Included through
 * cluster/cluster.h.
 *
 * Contract. A request carries three headers:
 *
 *   x-cachalot-date:  seconds since the epoch (decimal, UTC)
 *   x-cachalot-nonce: 32 lowercase hex digits, random, never reused
 *   x-cachalot-auth:  v1 <64 lowercase hex digits>
 *
 * the last being HMAC-SHA256, keyed by the cluster secret (its bytes as
 * given), over the lines
 *
 *   cachalot-v1-request (or cachalot-v1-answer)
 *   METHOD              (an answer: its status, e.g. 200)
 *   TARGET              path and query exactly as on the request line
 *   HOST                the Host header's value, "" when absent (answers: "")
 *   CONTENT-TYPE        the Content-Type header's value, "" when absent
 *   BODY-SHA256         lowercase hex of the body's SHA-256 (empty body too)
 *   BIND                answers: the request's nonce; requests: ""
 *   DATE
 *   NONCE
 *
 * joined by '\n' (none after NONCE). A verifier refuses a date more than
 * CLU_AUTH_WINDOW_S away from its own clock, and, given a struct
 * clu_auth_seen, a nonce it has already accepted (held until its date is
 * out of the window, so a request captured and sent again is refused while
 * it would otherwise be fresh). The MAC is compared with CRYPTO_memcmp.
 * An answer is bound to its request by BIND: a gateway signs its ring GET's
 * nonce, the master signs the ring over it, and an old answer cannot be
 * played back.
 *
 * Use toward a worker (gateway -> worker): clu_auth_body_sha256 of the body
 * (or of nothing), clu_auth_sign with the request's method, target, Host
 * and Content-Type, add the three lines of struct clu_auth_hdrs to the
 * request; the worker takes the three header values and calls
 * clu_auth_verify with the same fields as it received them and its
 * struct clu_auth_seen.
 *
 * Threads: every function but the seen set's is pure; a struct
 * clu_auth_seen has its own mutex (a leaf) and may be shared by threads.
 */
#ifndef CACHALOT_CLU_AUTH_H
#define CACHALOT_CLU_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define CLU_AUTH_DATE		"x-cachalot-date"
#define CLU_AUTH_NONCE		"x-cachalot-nonce"
#define CLU_AUTH_MAC		"x-cachalot-auth"
#define CLU_AUTH_WINDOW_S	60
#define CLU_AUTH_SECRET_MIN	16	/* characters */
#define CLU_AUTH_SECRET_MAX	256
#define CLU_AUTH_NONCE_LEN	32	/* hex digits */

/* The secret, copied. */
struct clu_auth_key {
	unsigned	magic;
	size_t		len;
	unsigned char	k[CLU_AUTH_SECRET_MAX];
};

/* What is signed; slices borrowed. */
struct clu_auth_msg {
	int		answer;		/* 0 a request, 1 an answer */
	struct cm_slice	method;		/* an answer: its status as text */
	struct cm_slice	target;
	struct cm_slice	host;
	struct cm_slice	content_type;
	unsigned char	body_sha256[32];
	struct cm_slice	bind;		/* an answer: the request's nonce */
};

/* The header values to send, and the lines "name: value" (no CRLF). */
struct clu_auth_hdrs {
	char	date[24];
	char	nonce[CLU_AUTH_NONCE_LEN + 1];
	char	mac[3 + 64 + 1];
	char	line[3][96];
};

/* The three header values parsed. */
struct clu_auth_fields {
	int64_t		date;
	char		nonce[CLU_AUTH_NONCE_LEN + 1];
	unsigned char	mac[32];
};

enum clu_auth_result {
	CLU_AUTH_OK,
	CLU_AUTH_MISSING,	/* no auth header at all */
	CLU_AUTH_MALFORMED,	/* a header is there but not of the grammar */
	CLU_AUTH_STALE,		/* the date is out of the window */
	CLU_AUTH_BAD,		/* the MAC is wrong (wrong secret, or altered) */
	CLU_AUTH_REPLAY,	/* its nonce was already seen */
	CLU_AUTH_BUSY,		/* too many nonces held to take one more */
	CLU_AUTH_NRESULTS
};
/* "ok", "missing", "malformed", "stale", "signature", "replay", "busy". */
extern const char *const clu_auth_result_name[CLU_AUTH_NRESULTS];

/* 0, or -1 with err (no secret, shorter than CLU_AUTH_SECRET_MIN or
 * longer than CLU_AUTH_SECRET_MAX). */
int clu_auth_key_init(struct clu_auth_key *k, const char *secret, char *err, size_t errlen);
void clu_auth_key_fini(struct clu_auth_key *k);	/* wipes it */

void clu_auth_body_sha256(const void *p, size_t len, unsigned char out[32]);

/* Signs m at time now (seconds) with a fresh random nonce (or, when nonce
 * is not NULL, that one: CLU_AUTH_NONCE_LEN hex digits; tests). 0, or -1
 * (no randomness, a field holding a line break). */
int clu_auth_sign(const struct clu_auth_key *k, const struct clu_auth_msg *m, int64_t now,
    const char *nonce, struct clu_auth_hdrs *h);

/* Parses the three header values (slices of len 0 or NULL p: absent).
 * CLU_AUTH_OK, MISSING or MALFORMED. Fuzzed. */
enum clu_auth_result clu_auth_parse(struct cm_slice date, struct cm_slice nonce,
    struct cm_slice mac, struct clu_auth_fields *f);

/* 1 when s is a nonce of the grammar (CLU_AUTH_NONCE_LEN lowercase hex). */
int clu_auth_nonce_ok(struct cm_slice s);

/* Recently accepted nonces, bounded. */
struct clu_auth_seen;
struct clu_auth_seen *clu_auth_seen_new(void);
void clu_auth_seen_free(struct clu_auth_seen **sp);

/* Verifies m against the header values at time now. seen NULL: no replay
 * check (an answer bound to our own nonce needs none). */
enum clu_auth_result clu_auth_verify(const struct clu_auth_key *k, const struct clu_auth_msg *m,
    struct cm_slice date, struct cm_slice nonce, struct cm_slice mac, int64_t now,
    struct clu_auth_seen *seen);

#endif
