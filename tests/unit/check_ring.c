/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_ring.c: placement (weighted rendezvous hashing) and the ring's text
 * form: owners in a stable order, a leaving worker moves only its own
 * blocks (each to the worker that was next for it), a joining one takes
 * only what it now owns, weights are followed, and hostile ring text is
 * refused with the line named.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "tests/unit/testreq.h"

static struct ring *
ring_of(size_t n, size_t skip, uint32_t heavy)
{
	struct ring_worker w[64];
	size_t i, k = 0;

	memset(w, 0, sizeof w);
	for (i = 0; i < n; i++) {
		if (i == skip)
			continue;
		snprintf(w[k].id, sizeof w[k].id, "w%zu", i);
		snprintf(w[k].addr, sizeof w[k].addr, "127.0.0.1:%zu", 9200 + i);
		w[k].weight = i == 0 ? heavy : 1;
		k++;
	}
	return (ring_new(7, w, k));
}

static const char *
owner(const struct ring *r, uint64_t h, size_t rank)
{
	size_t o[4];

	ck_assert(ring_owners(r, h, o, 4) == (r->n < 4 ? r->n : 4));
	return (r->w[o[rank]].id);
}

START_TEST(leave_and_join_move_only_their_share)
{
	struct ring *full = ring_of(10, SIZE_MAX, 1), *less = ring_of(10, 3, 1);
	struct ring *more = ring_of(11, SIZE_MAX, 1);
	size_t i, moved = 0, joined = 0;
	char key[32];

	ck_assert(full != NULL && less != NULL && more != NULL);
	for (i = 0; i < 20000; i++) {
		uint64_t h;

		snprintf(key, sizeof key, "k%zu", i / 8);
		h = ring_hash(cm_slice("b", 1), cm_slice_str(key), i % 8);
		if (strcmp(owner(full, h, 0), "w3") == 0) {
			/* Its blocks go to the worker that was next for them. */
			ck_assert_str_eq(owner(less, h, 0), owner(full, h, 1));
			moved++;
		} else {
			ck_assert_str_eq(owner(less, h, 0), owner(full, h, 0));
		}
		if (strcmp(owner(more, h, 0), owner(full, h, 0)) != 0) {
			ck_assert_str_eq(owner(more, h, 0), "w10");
			joined++;
		}
	}
	/* About a tenth and an eleventh of 20000. */
	ck_assert_msg(moved > 1600 && moved < 2400, "moved %zu", moved);
	ck_assert_msg(joined > 1450 && joined < 2200, "joined %zu", joined);
	ring_free(&full);
	ring_free(&less);
	ring_free(&more);
}
END_TEST

START_TEST(weights_are_followed)
{
	struct ring *r = ring_of(4, SIZE_MAX, 3);	/* w0 weighs 3 of 6 */
	size_t i, w0 = 0;
	char key[32];

	for (i = 0; i < 30000; i++) {
		snprintf(key, sizeof key, "obj%zu", i);
		if (strcmp(owner(r, ring_hash(cm_slice("b", 1), cm_slice_str(key), 0), 0), "w0") == 0)
			w0++;
	}
	ck_assert_msg(w0 > 14000 && w0 < 16000, "weight 3 of 6 owns %zu of 30000", w0);
	ring_free(&r);
}
END_TEST

START_TEST(text_round_trip)
{
	struct ring *r = ring_of(3, SIZE_MAX, 2), *back;
	struct cm_buf b;
	char err[128];

	cm_buf_init(&b, 4096);
	ck_assert(ring_format(r, &b) == 0);
	ck_assert_str_eq(b.p, "epoch 7\nworker w0 127.0.0.1:9200 2\nworker w1 127.0.0.1:9201 1\n"
	    "worker w2 127.0.0.1:9202 1\n");
	back = ring_parse(b.p, b.len, err, sizeof err);
	ck_assert(back != NULL && back->epoch == 7 && back->n == 3 && back->w[0].weight == 2);
	ck_assert_str_eq(back->w[2].addr, "127.0.0.1:9202");
	ck_assert(back->w[1].seed == r->w[1].seed);
	ring_free(&back);
	/* An empty ring is a ring: the gateway goes to the origin. */
	back = ring_parse("epoch 3\n", 8, err, sizeof err);
	ck_assert(back != NULL && back->n == 0);
	ring_free(&back);
	cm_buf_free(&b);
	ring_free(&r);
}
END_TEST

START_TEST(hostile_text)
{
	static const char *const bad[] = {
		"", "worker a 1.2.3.4:5 1\n", "epoch x\n", "epoch 1\nworker a 1.2.3.4:5 0\n",
		"epoch 1\nworker a 1.2.3.4:5 1001\n", "epoch 1\nworker a\n",
		"epoch 1\nworker a b 1 extra\n", "epoch 1\nnonsense\n",
		"epoch 1\nworker aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa h:1 1\n",
		"epoch 18446744073709551616\n",
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ring *r = ring_parse(bad[i], strlen(bad[i]), err, sizeof err);

		ck_assert_msg(r == NULL, "accepted: %s", bad[i]);
		ck_assert(err[0] != '\0');
	}
	ck_assert(ring_parse("epoch 1\nbogus\n", 14, err, sizeof err) == NULL);
	ck_assert_msg(strstr(err, "line 2") != NULL, "%s", err);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = { leave_and_join_move_only_their_share, weights_are_followed,
	    text_round_trip, hostile_text };

	return (testreq_run("ring", tests, sizeof tests / sizeof tests[0], 0, 0));
}
