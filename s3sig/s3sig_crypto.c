/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_crypto.c: SHA-256, HMAC-SHA256, SigV4-style key derivation and the
 * per-verifier signing-key cache. OpenSSL underneath.
 * Any thread; a keycache belongs to one verifier and so to one thread.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3sig_priv.h"

void
s3sig_sha256(const void *p, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	AN(EVP_Digest(p, len, out, &n, EVP_sha256(), NULL));
}

void
s3sig_sha256_hex(const void *p, size_t len, char out[65])
{
	unsigned char d[32];

	s3sig_sha256(p, len, d);
	cm_hex_lower(out, d, 32);
}

void
s3sig_hmac256(const void *key, size_t keylen, const void *p, size_t len,
    unsigned char out[32])
{
	unsigned int n = 32;

	CM_ASSERT(keylen <= 1024);
	AN(HMAC(EVP_sha256(), key, (int)keylen, p, len, out, &n));
}

void
s3sig_derive_key(const char *prefix, const char *secret, struct cm_slice date,
    struct cm_slice region, struct cm_slice service, const char *term,
    unsigned char out[32])
{
	char k0[512];
	unsigned char k[32];
	size_t pl = strlen(prefix), sl = strlen(secret);

	CM_ASSERT(pl + sl <= sizeof k0);
	memcpy(k0, prefix, pl);
	memcpy(k0 + pl, secret, sl);
	s3sig_hmac256(k0, pl + sl, date.p, date.len, k);
	s3sig_hmac256(k, 32, region.p, region.len, k);
	s3sig_hmac256(k, 32, service.p, service.len, k);
	s3sig_hmac256(k, 32, term, strlen(term), out);
	OPENSSL_cleanse(k0, sizeof k0);
	OPENSSL_cleanse(k, sizeof k);
}

static int
id_add(char *id, size_t *n, size_t max, struct cm_slice s)
{
	if (s.len + 1 > max - *n)
		return (-1);
	memcpy(id + *n, s.p, s.len);
	*n += s.len;
	id[(*n)++] = '\0';
	return (0);
}

void
s3sig_keycache_get(struct s3sig_keycache *kc, const struct s3sig_cred *cred,
    struct cm_slice date, struct cm_slice region, struct cm_slice service,
    unsigned char out[32])
{
	char id[sizeof kc->ent[0].id];
	size_t n = 0;
	struct s3sig_keycache_ent *e;

	if (id_add(id, &n, sizeof id, cm_slice_str(cred->access_key)) != 0 ||
	    id_add(id, &n, sizeof id, date) != 0 ||
	    id_add(id, &n, sizeof id, region) != 0 ||
	    id_add(id, &n, sizeof id, service) != 0) {
		/* Too long to cache: derive every time. */
		kc->derivations++;
		s3sig_derive_key("AWS4", cred->secret_key, date, region, service,
		    "aws4_request", out);
		return;
	}
	/* Only picks a slot: the full id is compared. */
	e = &kc->ent[cm_fnv1a(id, n, 0) % S3SIG_KEYCACHE_SLOTS];
	if (e->idlen == n && memcmp(e->id, id, n) == 0) {
		memcpy(out, e->key, 32);
		return;
	}
	kc->derivations++;
	s3sig_derive_key("AWS4", cred->secret_key, date, region, service,
	    "aws4_request", e->key);
	memcpy(e->id, id, n);
	e->idlen = n;
	memcpy(out, e->key, 32);
}
