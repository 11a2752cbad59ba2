/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_store.c: the master's state kept in LevelDB, so that a master
 * restarted comes back with the same workers, epoch, statistics and purge
 * orders.
 *
 * Keys: "epoch", "purge-seq", "w/ID" = "ADDR WEIGHT STATE WALL",
 * "s/BUCKET" = "HITS MISSES SERVED ORIGIN EVICTIONS", "p/SEQ" (20 digits,
 * so that they sort) = "BUCKET PREFIX".
 *
 * Threads: master_store_load runs before any thread; the persistence ops
 * are called by the model under its mutex (LevelDB is thread-safe; the
 * mutex keeps the records in the order of the changes). A failed write is
 * logged: the master keeps serving from memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

struct master_store {
	unsigned		magic;
	leveldb_t		*db;
	leveldb_options_t	*opt;
	leveldb_writeoptions_t	*wo;
	leveldb_readoptions_t	*ro;
};

static void
db_put(struct master_store *s, const char *key, const char *val)
{
	char *err = NULL;

	CLU_CHECK(s, MASTER_STORE_MAGIC);
	leveldb_put(s->db, s->wo, key, strlen(key), val, strlen(val), &err);
	if (err != NULL) {
		CM_LOGE("master: LevelDB write of %s failed: %s", key, err);
		leveldb_free(err);
	}
}

static void
db_del(struct master_store *s, const char *key)
{
	char *err = NULL;

	CLU_CHECK(s, MASTER_STORE_MAGIC);
	leveldb_delete(s->db, s->wo, key, strlen(key), &err);
	if (err != NULL) {
		CM_LOGE("master: LevelDB delete of %s failed: %s", key, err);
		leveldb_free(err);
	}
}

static void
save_worker(void *arg, const struct master_worker *w)
{
	char k[8 + RING_ID_MAX], v[RING_ADDR_MAX + 64];

	snprintf(k, sizeof k, "w/%s", w->id);
	snprintf(v, sizeof v, "%s %u %s %lld", w->addr, w->weight, master_wstate_name[w->state],
	    (long long)w->seen_wall);
	db_put(arg, k, v);
}

static void
save_epoch(void *arg, uint64_t epoch)
{
	char v[32];

	snprintf(v, sizeof v, "%llu", (unsigned long long)epoch);
	db_put(arg, "epoch", v);
}

static void
save_bucket(void *arg, const struct master_bucket *b)
{
	char k[8 + CM_S3_BUCKET_MAX + 1], v[128];

	snprintf(k, sizeof k, "s/%s", b->name);
	snprintf(v, sizeof v, "%llu %llu %llu %llu %llu", (unsigned long long)b->c.hits,
	    (unsigned long long)b->c.misses, (unsigned long long)b->c.served,
	    (unsigned long long)b->c.origin, (unsigned long long)b->c.evictions);
	db_put(arg, k, v);
}

static void
save_purge(void *arg, const struct master_purge *p, uint64_t purge_seq)
{
	char k[32], v[CM_S3_BUCKET_MAX + MASTER_PREFIX_MAX + 8];

	snprintf(k, sizeof k, "p/%020llu", (unsigned long long)p->seq);
	snprintf(v, sizeof v, "%s %s", p->bucket, p->prefix);
	db_put(arg, k, v);
	snprintf(v, sizeof v, "%llu", (unsigned long long)purge_seq);
	db_put(arg, "purge-seq", v);
}

static void
del_purge(void *arg, uint64_t seq)
{
	char k[32];

	snprintf(k, sizeof k, "p/%020llu", (unsigned long long)seq);
	db_del(arg, k);
}

const struct master_persist_ops master_store_ops = {
	.name = "leveldb",
	.worker = save_worker,
	.epoch = save_epoch,
	.bucket = save_bucket,
	.purge_add = save_purge,
	.purge_del = del_purge,
};

struct master_store *
master_store_open(const char *dir, char *err, size_t errlen)
{
	struct master_store *s = calloc(1, sizeof *s);
	char *lerr = NULL;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	s->opt = leveldb_options_create();
	s->wo = leveldb_writeoptions_create();
	s->ro = leveldb_readoptions_create();
	if (s->opt == NULL || s->wo == NULL || s->ro == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	leveldb_options_set_create_if_missing(s->opt, 1);
	s->db = leveldb_open(s->opt, dir, &lerr);
	if (s->db == NULL) {
		snprintf(err, errlen, "LevelDB at %s: %s", dir, lerr != NULL ? lerr : "?");
		leveldb_free(lerr);
		goto fail;
	}
	s->magic = MASTER_STORE_MAGIC;
	return (s);
fail:
	master_store_close(&s);
	return (NULL);
}

void
master_store_close(struct master_store **sp)
{
	struct master_store *s = *sp;

	*sp = NULL;
	if (s == NULL)
		return;
	s->magic = 0;
	if (s->db != NULL)
		leveldb_close(s->db);
	if (s->opt != NULL)
		leveldb_options_destroy(s->opt);
	if (s->wo != NULL)
		leveldb_writeoptions_destroy(s->wo);
	if (s->ro != NULL)
		leveldb_readoptions_destroy(s->ro);
	free(s);
}

/* "HITS MISSES SERVED ORIGIN EVICTIONS": 0, or -1 when malformed. */
static int
parse_counters(struct cm_slice s, struct master_counters *c)
{
	uint64_t *f[5] = { &c->hits, &c->misses, &c->served, &c->origin, &c->evictions };
	struct cm_slice t;
	size_t i;

	for (i = 0; i < 5; i++) {
		s = cm_slice_trim(cm_slice_cut(cm_slice_trim(s), ' ', &t));
		if (cm_parse_u64(t, UINT64_MAX, f[i]) != 0)
			return (-1);
	}
	return (s.len == 0 ? 0 : -1);
}

int
master_store_load(struct master_store *s, struct master *m)
{
	leveldb_iterator_t *it;

	CLU_CHECK(s, MASTER_STORE_MAGIC);
	CLU_CHECK(m, MASTER_MAGIC);
	it = leveldb_create_iterator(s->db, s->ro);
	if (it == NULL)
		return (-1);
	for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
		size_t kl, vl;
		const char *k = leveldb_iter_key(it, &kl), *v = leveldb_iter_value(it, &vl);
		struct cm_slice key = cm_slice(k, kl), val = cm_slice(v, vl), a, b, c, d;
		struct master_counters mc;
		uint64_t n, wt;

		/* A record that is refused is skipped: the rest still loads. */
		if (cm_slice_eq(key, "epoch") && cm_parse_u64(val, UINT64_MAX, &n) == 0) {
			m->epoch = n;
		} else if (cm_slice_eq(key, "purge-seq") && cm_parse_u64(val, UINT64_MAX, &n) == 0) {
			m->purge_seq = n;
		} else if (kl > 2 && memcmp(k, "w/", 2) == 0) {
			val = cm_slice_cut(val, ' ', &a);
			val = cm_slice_cut(val, ' ', &b);
			d = cm_slice_cut(val, ' ', &c);
			if (cm_parse_u64(b, 1000, &wt) != 0)
				continue;
			(void)master_load_worker(m, cm_slice(k + 2, kl - 2), a, wt, c,
			    cm_parse_u64(d, INT64_MAX, &n) == 0 ? (int64_t)n : 0);
		} else if (kl > 2 && memcmp(k, "s/", 2) == 0) {
			memset(&mc, 0, sizeof mc);
			(void)master_load_bucket(m, cm_slice(k + 2, kl - 2),
			    parse_counters(val, &mc) == 0 ? &mc : NULL);
		} else if (kl > 2 && memcmp(k, "p/", 2) == 0) {
			b = cm_slice_cut(val, ' ', &a);
			if (cm_parse_u64(cm_slice(k + 2, kl - 2), UINT64_MAX, &n) != 0)
				continue;
			(void)master_load_purge(m, n, a, b);
		}
	}
	leveldb_iter_destroy(it);
	return (0);
}
