/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_clu_auth.c: the cluster secret (cluster/clu_auth.c): the MAC of
 * fixed vectors (computed independently, with Python's hmac), a signed
 * request verifies and every altered part of it (method, target, Host,
 * Content-Type, body, date, nonce, MAC, secret) is refused; a date out of
 * the window is stale; a request seen once is a replay the second time;
 * answers are bound to the request's nonce; the header parser refuses
 * hostile values and never reads past them; secrets too short are refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/clu_priv.h"
#include "tests/unit/testreq.h"

#define SECRET	"0123456789abcdef0123456789abcdef"
#define NOW	1700000000
#define NONCE	"00112233445566778899aabbccddeeff"
#define BODY	"worker w1 h:1 1\n"

static void
key(struct clu_auth_key *k, const char *secret)
{
	char err[256];

	ck_assert_int_eq(clu_auth_key_init(k, secret, err, sizeof err), 0);
}

static struct clu_auth_msg
beat_msg(const char *body)
{
	struct clu_auth_msg m = {
		.method = CM_SLICE_LIT("POST"), .target = CM_SLICE_LIT("/v1/heartbeat"),
		.host = CM_SLICE_LIT("127.0.0.1:9100"), .content_type = CM_SLICE_LIT("text/plain"),
	};

	clu_auth_body_sha256(body, strlen(body), m.body_sha256);
	return (m);
}

static enum clu_auth_result
verify(const struct clu_auth_key *k, const struct clu_auth_msg *m, const struct clu_auth_hdrs *h,
    int64_t now, struct clu_auth_seen *seen)
{
	return (clu_auth_verify(k, m, cm_slice_str(h->date), cm_slice_str(h->nonce),
	    cm_slice_str(h->mac), now, seen));
}

START_TEST(vectors)
{
	struct clu_auth_key k;
	struct clu_auth_msg m = beat_msg(BODY), a = {
		.answer = 1, .method = CM_SLICE_LIT("200"), .target = CM_SLICE_LIT("/v1/ring"),
		.content_type = CM_SLICE_LIT("text/plain"),
		.bind = CM_SLICE_LIT("ffeeddccbbaa99887766554433221100"),
	};
	struct clu_auth_hdrs h;

	key(&k, SECRET);
	ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, NONCE, &h), 0);
	ck_assert_str_eq(h.date, "1700000000");
	ck_assert_str_eq(h.nonce, NONCE);
	ck_assert_str_eq(h.mac, "v1 63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f23");
	ck_assert_str_eq(h.line[0], "x-cachalot-date: 1700000000");
	ck_assert_str_eq(h.line[1], "x-cachalot-nonce: " NONCE);
	ck_assert_str_eq(h.line[2], "x-cachalot-auth: v1 "
	    "63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f23");
	clu_auth_body_sha256("epoch 3\n", 8, a.body_sha256);
	ck_assert_int_eq(clu_auth_sign(&k, &a, NOW + 1, "00112233445566778899aabbccddee00", &h), 0);
	ck_assert_str_eq(h.mac, "v1 4aaf87635ed5c3910e7d2e80734995c4cdf8b968aec399dc906c69bba53d0c61");
	ck_assert_int_eq(verify(&k, &a, &h, NOW, NULL), CLU_AUTH_OK);
	/* The same fields as a request are another message. */
	a.answer = 0;
	ck_assert_int_eq(verify(&k, &a, &h, NOW, NULL), CLU_AUTH_BAD);
	clu_auth_key_fini(&k);
}
END_TEST

START_TEST(altered_parts_refused)
{
	struct clu_auth_key k, other;
	struct clu_auth_msg m = beat_msg(BODY), x;
	struct clu_auth_hdrs h, hx;

	key(&k, SECRET);
	key(&other, SECRET "x");
	ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, NULL, &h), 0);
	ck_assert_int_eq(verify(&k, &m, &h, NOW, NULL), CLU_AUTH_OK);
	ck_assert_int_eq(verify(&other, &m, &h, NOW, NULL), CLU_AUTH_BAD);
	x = m;
	x.method = CM_SLICE_LIT("PUT");
	ck_assert_int_eq(verify(&k, &x, &h, NOW, NULL), CLU_AUTH_BAD);
	x = m;
	x.target = CM_SLICE_LIT("/v1/heartbeat?x=1");
	ck_assert_int_eq(verify(&k, &x, &h, NOW, NULL), CLU_AUTH_BAD);
	x = m;
	x.host = CM_SLICE_LIT("127.0.0.1:9101");
	ck_assert_int_eq(verify(&k, &x, &h, NOW, NULL), CLU_AUTH_BAD);
	x = m;
	x.content_type = cm_slice(NULL, 0);
	ck_assert_int_eq(verify(&k, &x, &h, NOW, NULL), CLU_AUTH_BAD);
	x = beat_msg("worker w1 h:2 1\n");
	ck_assert_int_eq(verify(&k, &x, &h, NOW, NULL), CLU_AUTH_BAD);
	/* Another date or nonce in the headers: the MAC no longer fits. */
	hx = h;
	snprintf(hx.date, sizeof hx.date, "%d", NOW + 1);
	ck_assert_int_eq(verify(&k, &m, &hx, NOW, NULL), CLU_AUTH_BAD);
	hx = h;
	hx.nonce[0] = hx.nonce[0] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(verify(&k, &m, &hx, NOW, NULL), CLU_AUTH_BAD);
	hx = h;
	hx.mac[10] = hx.mac[10] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(verify(&k, &m, &hx, NOW, NULL), CLU_AUTH_BAD);
	/* Out of the window, either way; at its edge still fresh. */
	ck_assert_int_eq(verify(&k, &m, &h, NOW + CLU_AUTH_WINDOW_S + 1, NULL), CLU_AUTH_STALE);
	ck_assert_int_eq(verify(&k, &m, &h, NOW - CLU_AUTH_WINDOW_S - 1, NULL), CLU_AUTH_STALE);
	ck_assert_int_eq(verify(&k, &m, &h, NOW + CLU_AUTH_WINDOW_S, NULL), CLU_AUTH_OK);
	/* Nothing: missing; a field that would forge a line cannot be signed. */
	ck_assert_int_eq(clu_auth_verify(&k, &m, cm_slice(NULL, 0), cm_slice(NULL, 0),
	    cm_slice(NULL, 0), NOW, NULL), CLU_AUTH_MISSING);
	x = m;
	x.target = CM_SLICE_LIT("/v1/heartbeat\nPOST");
	ck_assert_int_eq(clu_auth_sign(&k, &x, NOW, NULL, &hx), -1);
	clu_auth_key_fini(&k);
	clu_auth_key_fini(&other);
}
END_TEST

START_TEST(replay_refused)
{
	struct clu_auth_key k;
	struct clu_auth_msg m = beat_msg(BODY);
	struct clu_auth_hdrs h, h2;
	struct clu_auth_seen *seen = clu_auth_seen_new();
	int i;

	ck_assert(seen != NULL);
	key(&k, SECRET);
	ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, NULL, &h), 0);
	ck_assert_int_eq(verify(&k, &m, &h, NOW, seen), CLU_AUTH_OK);
	ck_assert_int_eq(verify(&k, &m, &h, NOW, seen), CLU_AUTH_REPLAY);
	ck_assert_int_eq(verify(&k, &m, &h, NOW + 30, seen), CLU_AUTH_REPLAY);
	/* Once out of the window it is stale, not accepted again. */
	ck_assert_int_eq(verify(&k, &m, &h, NOW + CLU_AUTH_WINDOW_S + 2, seen), CLU_AUTH_STALE);
	/* A refused (wrong) request does not take its nonce. */
	ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, NULL, &h2), 0);
	h2.mac[5] = h2.mac[5] == '0' ? '1' : '0';
	ck_assert_int_eq(verify(&k, &m, &h2, NOW, seen), CLU_AUTH_BAD);
	ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, h2.nonce, &h2), 0);
	ck_assert_int_eq(verify(&k, &m, &h2, NOW, seen), CLU_AUTH_OK);
	/* Many distinct requests all pass; each once. */
	for (i = 0; i < 5000; i++) {
		ck_assert_int_eq(clu_auth_sign(&k, &m, NOW, NULL, &h), 0);
		ck_assert_int_eq(verify(&k, &m, &h, NOW, seen), CLU_AUTH_OK);
		ck_assert_int_eq(verify(&k, &m, &h, NOW, seen), CLU_AUTH_REPLAY);
	}
	clu_auth_seen_free(&seen);
	ck_assert(seen == NULL);
	clu_auth_key_fini(&k);
}
END_TEST

START_TEST(parser_hostile)
{
	static const char *const bad_date[] = { "", "x", "-1", "1e9", "17000000000", " ", "1 2" };
	static const char *const bad_nonce[] = { "", "0011", NONCE "0", "00112233445566778899AABBCCDDEEFF",
	    "0011223344556677889-aabbccddeeff" };
	static const char *const bad_mac[] = { "", "v1", "v1 ", "v2 "
	    "63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f23",
	    "v1 63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f2",
	    "v1 63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f23a",
	    "v1 63A08EEED9C3B69B7B20702CF22295BC78AFBFD5B61B615461E8857A00A68F23",
	    "v1  63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f2" };
	const char *mac = "v1 63a08eeed9c3b69b7b20702cf22295bc78afbfd5b61b615461e8857a00a68f23";
	struct clu_auth_fields f;
	char *d, *n, *a;
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(bad_date); i++) {
		d = strdup(bad_date[i]);
		ck_assert_int_eq(clu_auth_parse(cm_slice(d, strlen(d)), cm_slice_str(NONCE),
		    cm_slice_str(mac), &f), CLU_AUTH_MALFORMED);
		free(d);
	}
	for (i = 0; i < CM_ARRAY_LEN(bad_nonce); i++) {
		n = strdup(bad_nonce[i]);
		ck_assert_int_eq(clu_auth_parse(cm_slice_str("1700000000"), cm_slice(n, strlen(n)),
		    cm_slice_str(mac), &f), CLU_AUTH_MALFORMED);
		free(n);
	}
	for (i = 0; i < CM_ARRAY_LEN(bad_mac); i++) {
		a = strdup(bad_mac[i]);
		ck_assert_msg(clu_auth_parse(cm_slice_str("1700000000"), cm_slice_str(NONCE),
		    cm_slice(a, strlen(a)), &f) == CLU_AUTH_MALFORMED, "%s", bad_mac[i]);
		free(a);
	}
	/* Only a date: malformed, not missing (something was sent). */
	ck_assert_int_eq(clu_auth_parse(cm_slice_str("1"), cm_slice(NULL, 0), cm_slice(NULL, 0), &f),
	    CLU_AUTH_MALFORMED);
	/* Exact-length heap copies: ASan sees a read past them. */
	d = malloc(10);
	n = malloc(32);
	a = malloc(67);
	memcpy(d, "1700000000", 10);
	memcpy(n, NONCE, 32);
	memcpy(a, mac, 67);
	ck_assert_int_eq(clu_auth_parse(cm_slice(d, 10), cm_slice(n, 32), cm_slice(a, 67), &f),
	    CLU_AUTH_OK);
	ck_assert(f.date == NOW);
	ck_assert_str_eq(f.nonce, NONCE);
	ck_assert(f.mac[0] == 0x63 && f.mac[31] == 0x23);
	free(d);
	free(n);
	free(a);
	ck_assert(clu_auth_nonce_ok(cm_slice_str(NONCE)));
	ck_assert(!clu_auth_nonce_ok(cm_slice_str("zz")));
	ck_assert(!clu_auth_nonce_ok(cm_slice(NULL, 0)));
}
END_TEST

START_TEST(secrets_checked)
{
	struct clu_auth_key k;
	char err[256], big[CLU_AUTH_SECRET_MAX + 2];

	ck_assert_int_eq(clu_auth_key_init(&k, NULL, err, sizeof err), -1);
	ck_assert(strstr(err, "cluster-secret is required") != NULL);
	ck_assert(strstr(err, "CACHALOT_CLUSTER_SECRET") != NULL);
	ck_assert_int_eq(clu_auth_key_init(&k, "", err, sizeof err), -1);
	ck_assert_int_eq(clu_auth_key_init(&k, "short", err, sizeof err), -1);
	ck_assert(strstr(err, "16 to 256") != NULL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(clu_auth_key_init(&k, big, err, sizeof err), -1);
	big[CLU_AUTH_SECRET_MAX] = '\0';
	ck_assert_int_eq(clu_auth_key_init(&k, big, err, sizeof err), 0);
	clu_auth_key_fini(&k);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = { vectors, altered_parts_refused, replay_refused, parser_hostile,
	    secrets_checked };

	return (testreq_run("clu_auth", tests, sizeof tests / sizeof tests[0], 0, 0));
}
