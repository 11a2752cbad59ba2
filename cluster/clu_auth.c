/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_auth.c: the cluster's secret (see clu_auth.h for the contract): the
 * HMAC-SHA256 of a request or an answer, the parser of its three headers,
 * and the bounded set of nonces a verifier has accepted.
 *
 * Threads: any; the functions are pure but for the seen set, whose mutex
 * guards its table (a leaf lock: nothing else is taken under it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "cluster/clu_priv.h"

#define CLU_AUTH_KEY_MAGIC	0xc1a0a0a7u
#define CLU_AUTH_SEEN_MAGIC	0xc1a05ee7u

/* The seen set: SEEN_BUCKETS buckets of SEEN_WAYS nonces, each held until
 * its date has left the window (then a replay would be stale anyway).
 * 262144 entries: a thousand requests a second held for two minutes. */
#define SEEN_BUCKETS	65536u
#define SEEN_WAYS	4u

struct seen_entry {
	unsigned char	nonce[CLU_AUTH_NONCE_LEN / 2];
	int64_t		until;		/* 0: free */
};

struct clu_auth_seen {
	unsigned		magic;
	pthread_mutex_t		mtx;
	struct seen_entry	*e;	/* SEEN_BUCKETS * SEEN_WAYS */
};

const char *const clu_auth_result_name[CLU_AUTH_NRESULTS] = {
	"ok", "missing", "malformed", "stale", "signature", "replay", "busy",
};

int
clu_auth_key_init(struct clu_auth_key *k, const char *secret, char *err, size_t errlen)
{
	size_t n;

	memset(k, 0, sizeof *k);
	if (secret == NULL || secret[0] == '\0') {
		snprintf(err, errlen, "cluster-secret is required: set it with --cluster-secret or "
		    "CACHALOT_CLUSTER_SECRET; every master, worker and gateway of a cluster must share it");
		return (-1);
	}
	n = strlen(secret);
	if (n < CLU_AUTH_SECRET_MIN || n > CLU_AUTH_SECRET_MAX) {
		snprintf(err, errlen, "cluster-secret must be %d to %d characters (for instance "
		    "`openssl rand -hex 32`)", CLU_AUTH_SECRET_MIN, CLU_AUTH_SECRET_MAX);
		return (-1);
	}
	memcpy(k->k, secret, n);
	k->len = n;
	k->magic = CLU_AUTH_KEY_MAGIC;
	return (0);
}

void
clu_auth_key_fini(struct clu_auth_key *k)
{
	OPENSSL_cleanse(k, sizeof *k);
}

void
clu_auth_body_sha256(const void *p, size_t len, unsigned char out[32])
{
	(void)SHA256(len > 0 ? p : (const void *)"", len, out);
}

static int
has_break(struct cm_slice s)
{
	return (s.len > 0 && (memchr(s.p, '\n', s.len) != NULL || memchr(s.p, '\r', s.len) != NULL));
}

/* The MAC of m with date and nonce; -1 when a field would forge a line
 * (or the whole is longer than 64 KiB). */
static int
mac_of(const struct clu_auth_key *k, const struct clu_auth_msg *m, int64_t date,
    const char *nonce, unsigned char out[32])
{
	char hex[65], num[24];
	unsigned int olen = 32;
	struct cm_buf b;
	int rv = -1;
	size_t i;

	CM_ASSERT(k->magic == CLU_AUTH_KEY_MAGIC);
	cm_hex_lower(hex, m->body_sha256, 32);
	snprintf(num, sizeof num, "%lld", (long long)date);
	{
		const struct cm_slice part[] = {
			cm_slice_str(m->answer ? "cachalot-v1-answer" : "cachalot-v1-request"),
			m->method, m->target, m->host, m->content_type, cm_slice_str(hex), m->bind,
			cm_slice_str(num), cm_slice_str(nonce),
		};

		cm_buf_init(&b, 64u << 10);
		for (i = 0; i < CM_ARRAY_LEN(part); i++) {
			if (has_break(part[i]) || (i > 0 && cm_buf_add(&b, "\n", 1) != 0) ||
			    (part[i].len > 0 && cm_buf_add(&b, part[i].p, part[i].len) != 0))
				goto out;
		}
	}
	if (HMAC(EVP_sha256(), k->k, (int)k->len, (const unsigned char *)(b.p != NULL ? b.p : ""),
	    b.len, out, &olen) == NULL || olen != 32)
		goto out;
	rv = 0;
out:
	cm_buf_free(&b);
	return (rv);
}

int
clu_auth_sign(const struct clu_auth_key *k, const struct clu_auth_msg *m, int64_t now,
    const char *nonce, struct clu_auth_hdrs *h)
{
	unsigned char raw[CLU_AUTH_NONCE_LEN / 2], mac[32];
	char hex[65], given[CLU_AUTH_NONCE_LEN + 1];

	AN(k);
	CM_ASSERT(k->magic == CLU_AUTH_KEY_MAGIC);
	if (nonce != NULL) {
		/* Copied first: it may be h's own. */
		if (!clu_auth_nonce_ok(cm_slice_str(nonce)))
			return (-1);
		memcpy(given, nonce, sizeof given);
	}
	memset(h, 0, sizeof *h);
	if (nonce != NULL) {
		memcpy(h->nonce, given, sizeof given);
	} else {
		if (RAND_bytes(raw, (int)sizeof raw) != 1)
			return (-1);
		cm_hex_lower(h->nonce, raw, sizeof raw);
	}
	snprintf(h->date, sizeof h->date, "%lld", (long long)now);
	if (mac_of(k, m, now, h->nonce, mac) != 0)
		return (-1);
	cm_hex_lower(hex, mac, sizeof mac);
	snprintf(h->mac, sizeof h->mac, "v1 %s", hex);
	snprintf(h->line[0], sizeof h->line[0], "%s: %s", CLU_AUTH_DATE, h->date);
	snprintf(h->line[1], sizeof h->line[1], "%s: %s", CLU_AUTH_NONCE, h->nonce);
	snprintf(h->line[2], sizeof h->line[2], "%s: %s", CLU_AUTH_MAC, h->mac);
	OPENSSL_cleanse(mac, sizeof mac);
	return (0);
}

static int
lower_hex(struct cm_slice s, size_t len)
{
	size_t i;

	if (s.len != len)
		return (0);
	for (i = 0; i < len; i++)
		if (!((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] >= 'a' && s.p[i] <= 'f')))
			return (0);
	return (1);
}

int
clu_auth_nonce_ok(struct cm_slice s)
{
	return (s.p != NULL && lower_hex(s, CLU_AUTH_NONCE_LEN));
}

enum clu_auth_result
clu_auth_parse(struct cm_slice date, struct cm_slice nonce, struct cm_slice mac,
    struct clu_auth_fields *f)
{
	uint64_t d;

	memset(f, 0, sizeof *f);
	if (date.p == NULL)
		date.len = 0;
	if (nonce.p == NULL)
		nonce.len = 0;
	if (mac.p == NULL)
		mac.len = 0;
	if (mac.len == 0 && date.len == 0 && nonce.len == 0)
		return (CLU_AUTH_MISSING);
	date = cm_slice_trim(date);
	nonce = cm_slice_trim(nonce);
	mac = cm_slice_trim(mac);
	/* Seconds since 1970, up to year ~2286: ten digits at most. */
	if (date.len == 0 || date.len > 10 || cm_parse_u64(date, 9999999999ull, &d) != 0)
		return (CLU_AUTH_MALFORMED);
	if (!lower_hex(nonce, CLU_AUTH_NONCE_LEN))
		return (CLU_AUTH_MALFORMED);
	if (mac.len != 3 + 64 || memcmp(mac.p, "v1 ", 3) != 0 ||
	    !lower_hex(cm_slice(mac.p + 3, 64), 64) ||
	    cm_hex_decode(f->mac, sizeof f->mac, cm_slice(mac.p + 3, 64)) != 32)
		return (CLU_AUTH_MALFORMED);
	f->date = (int64_t)d;
	memcpy(f->nonce, nonce.p, CLU_AUTH_NONCE_LEN);
	f->nonce[CLU_AUTH_NONCE_LEN] = '\0';
	return (CLU_AUTH_OK);
}

struct clu_auth_seen *
clu_auth_seen_new(void)
{
	struct clu_auth_seen *s = calloc(1, sizeof *s);

	if (s == NULL)
		return (NULL);
	s->e = calloc((size_t)SEEN_BUCKETS * SEEN_WAYS, sizeof *s->e);
	if (s->e == NULL || pthread_mutex_init(&s->mtx, NULL) != 0) {
		free(s->e);
		free(s);
		return (NULL);
	}
	s->magic = CLU_AUTH_SEEN_MAGIC;
	return (s);
}

void
clu_auth_seen_free(struct clu_auth_seen **sp)
{
	struct clu_auth_seen *s = *sp;

	if (s == NULL)
		return;
	CM_ASSERT(s->magic == CLU_AUTH_SEEN_MAGIC);
	pthread_mutex_destroy(&s->mtx);
	free(s->e);
	s->magic = 0;
	free(s);
	*sp = NULL;
}

/* Takes the nonce (binary) until `until`; REPLAY when held, BUSY when its
 * bucket is full of live ones. The nonce is random: its first bytes pick
 * the bucket (an attacker who chooses nonces must still sign them). */
static enum clu_auth_result
seen_take(struct clu_auth_seen *s, const unsigned char *n, int64_t now, int64_t until)
{
	struct seen_entry *b;
	enum clu_auth_result r = CLU_AUTH_BUSY;
	size_t i, freeslot = SEEN_WAYS;

	CM_ASSERT(s->magic == CLU_AUTH_SEEN_MAGIC);
	pthread_mutex_lock(&s->mtx);
	b = &s->e[(size_t)(((uint32_t)n[0] << 8 | n[1]) % SEEN_BUCKETS) * SEEN_WAYS];
	for (i = 0; i < SEEN_WAYS; i++) {
		if (b[i].until >= now && memcmp(b[i].nonce, n, sizeof b[i].nonce) == 0) {
			r = CLU_AUTH_REPLAY;
			goto out;
		}
		if (b[i].until < now && freeslot == SEEN_WAYS)
			freeslot = i;
	}
	if (freeslot < SEEN_WAYS) {
		memcpy(b[freeslot].nonce, n, sizeof b[freeslot].nonce);
		b[freeslot].until = until;
		r = CLU_AUTH_OK;
	}
out:
	pthread_mutex_unlock(&s->mtx);
	return (r);
}

enum clu_auth_result
clu_auth_verify(const struct clu_auth_key *k, const struct clu_auth_msg *m,
    struct cm_slice date, struct cm_slice nonce, struct cm_slice mac, int64_t now,
    struct clu_auth_seen *seen)
{
	struct clu_auth_fields f;
	enum clu_auth_result r;
	unsigned char want[32], raw[CLU_AUTH_NONCE_LEN / 2];

	AN(k);
	CM_ASSERT(k->magic == CLU_AUTH_KEY_MAGIC);
	r = clu_auth_parse(date, nonce, mac, &f);
	if (r != CLU_AUTH_OK)
		return (r);
	if (f.date < now - CLU_AUTH_WINDOW_S || f.date > now + CLU_AUTH_WINDOW_S)
		return (CLU_AUTH_STALE);
	if (mac_of(k, m, f.date, f.nonce, want) != 0)
		return (CLU_AUTH_MALFORMED);
	if (CRYPTO_memcmp(want, f.mac, sizeof want) != 0)
		return (CLU_AUTH_BAD);
	if (seen == NULL)
		return (CLU_AUTH_OK);
	if (cm_hex_decode(raw, sizeof raw, cm_slice(f.nonce, CLU_AUTH_NONCE_LEN)) != (int)sizeof raw)
		return (CLU_AUTH_MALFORMED);
	/* Held until the date leaves the window, a second of slack. */
	return (seen_take(seen, raw, now, f.date + CLU_AUTH_WINDOW_S + 1));
}
