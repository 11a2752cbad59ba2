/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_gateway.c: the gateway's pure parts: path-style and virtual-hosted
 * addressing, S3 operation classification, the Prometheus rendering; what
 * a write makes forgotten (gw_forget_of_write), how a store forgets it
 * (gw_cache_forget), the local block sources' invalidate slot, and
 * gw_blksrc_init's refusal of a table with a slot unset.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cm_prom.h"
#include "gateway/gw_delete.h"
#include "gateway/gw_priv.h"
#include "tests/unit/testreq.h"

static void
addr(const char *dom, const char *host, const char *path, const char *wb, const char *wk, int wv)
{
	struct cm_slice b, k;
	int v;

	ck_assert_int_eq(gw_s3_address(dom, cm_slice_str(host), cm_slice_str(path), &b, &k, &v), 0);
	ck_assert_msg(cm_slice_eq(b, wb) && cm_slice_eq(k, wk) && v == wv,
	    "%s %s: bucket '%.*s' key '%.*s' vhost %d", host, path, (int)b.len, b.p, (int)k.len, k.p, v);
}

START_TEST(addressing)
{
	addr(NULL, "127.0.0.1:9000", "/bucket/dir/key%20x", "bucket", "dir/key%20x", 0);
	addr(NULL, "127.0.0.1:9000", "/bucket", "bucket", "", 0);
	addr(NULL, "127.0.0.1:9000", "/bucket/", "bucket", "", 0);
	addr(NULL, "localhost", "/", "", "", 0);
	addr("s3.local", "bkt.s3.local:9000", "/a/b", "bkt", "a/b", 1);
	addr("s3.local", "my.dotted.bkt.s3.local", "/k", "my.dotted.bkt", "k", 1);
	/* Path-style always works, also with a domain set; IPs are path-style. */
	addr("s3.local", "s3.local:9000", "/bkt/k", "bkt", "k", 0);
	addr("s3.local", "127.0.0.1:9000", "/bkt/k", "bkt", "k", 0);
	addr("s3.local", "[::1]:9000", "/bkt/k", "bkt", "k", 0);
	addr("s3.local", "BKT.S3.LOCAL", "/k", "BKT", "k", 1);
	addr("s3.local", "evils3.local", "/bkt/k", "bkt", "k", 0);
	{
		struct cm_slice b, k;
		int v;

		ck_assert_int_eq(gw_s3_address(NULL, CM_SLICE_LIT("h"), CM_SLICE_LIT("noslash"), &b, &k,
		    &v), -1);
	}
}
END_TEST

static enum gw_op
op(const char *m, const char *q, int b, int k, int copy)
{
	return (gw_s3_classify(cm_slice_str(m), cm_slice_str(q), b, k, copy));
}

START_TEST(classify)
{
	ck_assert_int_eq(op("GET", "", 0, 0, 0), GW_OP_ListBuckets);
	ck_assert_int_eq(op("GET", "list-type=2&prefix=a", 1, 0, 0), GW_OP_ListObjectsV2);
	ck_assert_int_eq(op("GET", "", 1, 0, 0), GW_OP_ListObjects);
	ck_assert_int_eq(op("GET", "location", 1, 0, 0), GW_OP_GetBucketLocation);
	ck_assert_int_eq(op("POST", "delete", 1, 0, 0), GW_OP_DeleteObjects);
	ck_assert_int_eq(op("HEAD", "", 1, 0, 0), GW_OP_HeadBucket);
	ck_assert_int_eq(op("PUT", "", 1, 0, 0), GW_OP_CreateBucket);
	ck_assert_int_eq(op("GET", "x-id=GetObject", 1, 1, 0), GW_OP_GetObject);
	ck_assert_int_eq(op("PUT", "", 1, 1, 1), GW_OP_CopyObject);
	ck_assert_int_eq(op("PUT", "partNumber=1&uploadId=x", 1, 1, 0), GW_OP_UploadPart);
	ck_assert_int_eq(op("PUT", "partNumber=1&uploadId=x", 1, 1, 1), GW_OP_UploadPartCopy);
	ck_assert_int_eq(op("POST", "uploads", 1, 1, 0), GW_OP_CreateMultipartUpload);
	ck_assert_int_eq(op("POST", "uploadId=x", 1, 1, 0), GW_OP_CompleteMultipartUpload);
	ck_assert_int_eq(op("DELETE", "uploadId=x", 1, 1, 0), GW_OP_AbortMultipartUpload);
	ck_assert_int_eq(op("GET", "tagging", 1, 1, 0), GW_OP_GetObjectTagging);
	ck_assert_int_eq(op("DELETE", "", 1, 1, 0), GW_OP_DeleteObject);
}
END_TEST

START_TEST(metrics_render)
{
	static struct gw_metrics a, b;
	struct gw_metrics *sets[2] = { &a, &b };
	struct cm_buf out;

	struct cm_prom p;
	const char *q;

	gw_metrics_request(&a, GW_OP_GetObject, 200, "hit", 700);
	gw_metrics_request(&b, GW_OP_GetObject, 206, "hit", 3000);
	gw_metrics_request(&b, GW_OP_PutObject, 403, "refused", 20000000);
	gw_metrics_request(&b, GW_OP_PutObject, 200, "no-such-result", 1);
	gw_metrics_origin_latency(&a, 1500);
	gw_metrics_error(&b, "SignatureDoesNotMatch");
	gw_metrics_error(&b, "SomethingNew");
	GW_INC(&a, blk_hit_disk, 2);
	GW_INC(&b, blk_fill_origin, 3);
	cm_buf_init(&out, 1 << 20);
	cm_prom_init(&p, &out);
	gw_metrics_render(&p, sets, 2, GW_ROLE_SERVE, 1, 7);
	ck_assert_int_eq(cm_prom_finish(&p), 0);
	/* The duration histogram: cumulative buckets, by op and result. */
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_request_duration_seconds_bucket{op=\"GetObject\",result=\"hit\",le=\"0.001\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_request_duration_seconds_bucket{op=\"GetObject\",result=\"hit\",le=\"0.005\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_request_duration_seconds_bucket{op=\"PutObject\",result=\"refused\",le=\"10\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_request_duration_seconds_bucket{op=\"PutObject\",result=\"refused\",le=\"+Inf\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_request_duration_seconds_count{op=\"PutObject\",result=\"other\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_cache_hits_total{tier=\"disk\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_cache_misses_total 3\n"));
	ck_assert_ptr_null(strstr(out.p, "cachalot_gateway_staging"));
	/* Each family once. */
	q = strstr(out.p, "# TYPE cachalot_requests_total ");
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(strstr(q + 1, "# TYPE cachalot_requests_total "));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_requests_total{op=\"GetObject\",status=\"2xx\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_requests_total{op=\"PutObject\",status=\"4xx\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_origin_latency_seconds_bucket{le=\"0.001\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_origin_latency_seconds_bucket{le=\"0.002\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_errors_total{code=\"SignatureDoesNotMatch\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_errors_total{code=\"other\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_open_connections 7\n"));
	cm_buf_free(&out);
	/* A cluster gateway's staging store has names of its own. */
	cm_buf_init(&out, 1 << 20);
	cm_prom_init(&p, &out);
	gw_metrics_render(&p, sets, 2, GW_ROLE_GATEWAY, 1, 0);
	ck_assert_int_eq(cm_prom_finish(&p), 0);
	ck_assert_ptr_null(strstr(out.p, "cachalot_cache_"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_gateway_staging_hits_total 2\n"));
	ck_assert_ptr_nonnull(strstr(out.p, "cachalot_gateway_staging_fills_total{source=\"origin\"} 3\n"));
	cm_buf_free(&out);
}
END_TEST

START_TEST(prom_writer)
{
	struct cm_buf out;
	struct cm_prom p;

	cm_buf_init(&out, 1 << 16);
	cm_prom_init(&p, &out);
	cm_prom_family(&p, "x_info", "gauge", "A test.");
	cm_prom_u64(&p, 1, "v", "a\"b\\c\nd", "w", "", NULL);
	cm_prom_f64(&p, 0.5, NULL);
	ck_assert_int_eq(cm_prom_finish(&p), 0);
	ck_assert_str_eq(out.p, "# HELP x_info A test.\n# TYPE x_info gauge\n"
	    "x_info{v=\"a\\\"b\\\\c\\nd\",w=\"\"} 1\nx_info 0.5\n");
	cm_buf_free(&out);
	/* A buffer too small makes the writer fail, not cut silently. */
	cm_buf_init(&out, 16);
	cm_prom_init(&p, &out);
	cm_prom_family(&p, "x_total", "counter", "A test that does not fit.");
	cm_prom_u64(&p, 1, NULL);
	ck_assert_int_eq(cm_prom_finish(&p), -1);
	cm_buf_free(&out);
}
END_TEST

static int
buf_has(const struct cm_buf *b, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= b->len; i++)
		if (memcmp(b->p + i, s, n) == 0)
			return (1);
	return (0);
}

/* The HTTP core's own errors become S3 documents with its status (#11:
 * http/ writes no S3 itself; the gateway's error_doc does). */
START_TEST(core_error_docs)
{
	static const enum http_err all[] = { HTTP_E_BAD_REQUEST, HTTP_E_TIMEOUT,
	    HTTP_E_URI_TOO_LONG, HTTP_E_HEADERS_TOO_LARGE, HTTP_E_BUSY };
	static const char *const codes[] = { "BadRequest", "RequestTimeout", "RequestURITooLong",
	    "RequestHeaderSectionTooLarge", "SlowDown" };
	static const int status[] = { 400, 408, 414, 431, 503 };
	struct cm_buf b;
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(all); i++) {
		char want[64];

		ck_assert_int_eq(http_err_status(all[i]), status[i]);
		cm_buf_init(&b, 4096);
		ck_assert_str_eq(gw_err_http_doc(all[i], NULL, "REQ1", &b), "application/xml");
		snprintf(want, sizeof want, "<Code>%s</Code>", codes[i]);
		ck_assert(buf_has(&b, want));
		ck_assert(buf_has(&b, "<RequestId>REQ1</RequestId>"));
		cm_buf_free(&b);
	}
	/* The default writer: plain text, the parser's detail kept. */
	cm_buf_init(&b, 4096);
	ck_assert_str_eq(http_error_doc_plain(HTTP_E_BAD_REQUEST, "bad", "", &b), "text/plain");
	ck_assert(buf_has(&b, "Bad Request: bad"));
	cm_buf_free(&b);
}
END_TEST

/* ---- Invalidation: what a write names, how a store forgets it ---- */

static void
forget(struct gw_forget *f, struct cm_buf *keys, enum gw_op op, const char *key,
    const char *body)
{
	struct cm_buf b;

	cm_buf_init(&b, 1 << 20);
	if (body != NULL)
		ck_assert_int_eq(cm_buf_adds(&b, body), 0);
	gw_forget_of_write(f, keys, op, CM_SLICE_LIT("bkt"), cm_slice_str(key),
	    body != NULL ? &b : NULL, "REQ1");
	cm_buf_free(&b);	/* f never points into the body */
	ck_assert(cm_slice_eq(f->bucket, "bkt"));
	ck_assert_str_eq(f->req_id, "REQ1");
}

#define DEL_HEAD	"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"

START_TEST(forget_of_write)
{
	struct gw_forget f;
	struct cm_buf keys, big;
	size_t i;

	cm_buf_init(&keys, GW_FORGET_KEYS_MAX);
	/* A key's write: the key as sent (percent-encoded). */
	forget(&f, &keys, GW_OP_PutObject, "dir/x%20y", NULL);
	ck_assert_int_eq(f.what, GW_FORGET_KEY);
	ck_assert(cm_slice_eq(f.key, "dir/x%20y"));
	forget(&f, &keys, GW_OP_CompleteMultipartUpload, "k", NULL);
	ck_assert_int_eq(f.what, GW_FORGET_KEY);
	forget(&f, &keys, GW_OP_DeleteBucket, "", NULL);
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	/* DeleteObjects: exactly the keys its body names, literal there,
	 * encoded as the cache knows them. */
	forget(&f, &keys, GW_OP_DeleteObjects, "", DEL_HEAD "<Quiet>true</Quiet>"
	    "<Object><Key>a&amp;b</Key></Object><Object><Key>dir/x y</Key><VersionId>v</VersionId>"
	    "</Object><Object><Key><![CDATA[caf\xc3\xa9+%]]></Key></Object></Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_KEYS);
	ck_assert_uint_eq(f.nkeys, 3);
	ck_assert_str_eq(f.keys, "a%26b");
	ck_assert_str_eq(f.keys + 6, "dir/x%20y");
	ck_assert_str_eq(f.keys + 16, "caf%C3%A9%2B%25");
	/* None named: nothing to forget. */
	cm_buf_reset(&keys);
	forget(&f, &keys, GW_OP_DeleteObjects, "", DEL_HEAD "</Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_KEYS);
	ck_assert_uint_eq(f.nkeys, 0);
	/* Unreadable, too large to keep, hostile, too many keys, or keys
	 * that do not fit: the bucket (more, never less). */
	forget(&f, &keys, GW_OP_DeleteObjects, "", NULL);
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	forget(&f, &keys, GW_OP_DeleteObjects, "", "not xml");
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	forget(&f, &keys, GW_OP_DeleteObjects, "", "<?xml version=\"1.0\"?><!DOCTYPE d "
	    "[<!ENTITY e \"x\">]><Delete><Object><Key>&e;</Key></Object></Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	forget(&f, &keys, GW_OP_DeleteObjects, "", DEL_HEAD "<Object><Key>a</Key></Object>"
	    "<Object></Object></Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	cm_buf_init(&big, 1 << 20);
	ck_assert_int_eq(cm_buf_adds(&big, DEL_HEAD), 0);
	for (i = 0; i <= GW_DELETE_MAX_KEYS; i++)
		ck_assert_int_eq(cm_buf_addf(&big, "<Object><Key>k%zu</Key></Object>", i), 0);
	ck_assert_int_eq(cm_buf_adds(&big, "</Delete>"), 0);
	ck_assert_int_eq(cm_buf_addc(&big, '\0'), 0);
	cm_buf_reset(&keys);
	forget(&f, &keys, GW_OP_DeleteObjects, "", big.p);
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	cm_buf_free(&big);
	cm_buf_free(&keys);
	cm_buf_init(&keys, 8);
	forget(&f, &keys, GW_OP_DeleteObjects, "", DEL_HEAD "<Object><Key>a-long-key</Key>"
	    "</Object></Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
	cm_buf_free(&keys);
	/* A worker's invalidation has no body to read. */
	forget(&f, NULL, GW_OP_DeleteObjects, "", DEL_HEAD "<Object><Key>a</Key></Object></Delete>");
	ck_assert_int_eq(f.what, GW_FORGET_BUCKET);
}
END_TEST

#define BS	(64 * 1024)

static void
put(struct cache_store *s, const char *bucket, const char *key)
{
	struct cache_meta m;

	memset(&m, 0, sizeof m);
	snprintf(m.etag, sizeof m.etag, "\"e\"");
	m.size = 10;
	m.last_modified = -1;
	cache_version_hash(cm_slice_str(bucket), cm_slice_str(key), m.etag, m.size, m.vhash);
	cache_meta_put(s, cm_slice_str(bucket), cm_slice_str(key), &m, 1);
}

static int
has(struct cache_store *s, const char *bucket, const char *key)
{
	struct cache_meta m;

	return (cache_meta_get(s, cm_slice_str(bucket), cm_slice_str(key), &m) == 0);
}

static struct cache_store *
store_of(void)
{
	struct cache_store *s = cache_store_new(1u << 20, BS, cache_evict_by_name("s3fifo"));

	ck_assert_ptr_nonnull(s);
	put(s, "bkt", "a%26b");
	put(s, "bkt", "dir/x%20y");
	put(s, "bkt", "dir/z");
	put(s, "bkt", "keep");
	put(s, "other", "keep");
	return (s);
}

START_TEST(store_forgets)
{
	struct cache_store *s = store_of();
	struct gw_forget f;

	memset(&f, 0, sizeof f);
	f.bucket = CM_SLICE_LIT("bkt");
	f.req_id = "REQ1";
	/* A key as sent: its canonical form goes (a client may encode more
	 * than it must). */
	f.what = GW_FORGET_KEY;
	f.key = CM_SLICE_LIT("dir/x%20%79");
	gw_cache_forget(s, &f);
	ck_assert(!has(s, "bkt", "dir/x%20y"));
	ck_assert(has(s, "bkt", "dir/z") && has(s, "bkt", "a%26b") && has(s, "bkt", "keep"));
	f.what = GW_FORGET_KEYS;
	f.keys = "nothing\0a%26b";
	f.nkeys = 2;
	gw_cache_forget(s, &f);
	ck_assert(!has(s, "bkt", "a%26b"));
	ck_assert(has(s, "bkt", "dir/z") && has(s, "bkt", "keep"));
	f.what = GW_FORGET_PREFIX;
	f.key = CM_SLICE_LIT("dir/");
	gw_cache_forget(s, &f);
	ck_assert(!has(s, "bkt", "dir/z"));
	ck_assert(has(s, "bkt", "keep"));
	f.what = GW_FORGET_BUCKET;
	gw_cache_forget(s, &f);
	ck_assert(!has(s, "bkt", "keep"));
	ck_assert(has(s, "other", "keep"));
	gw_cache_forget(NULL, &f);	/* no store: nothing to do */
	cache_store_free(&s);
}
END_TEST

/* Counts the ends that say every cache forgot (a local store always can). */
static void
count_done(void *arg, int confirmed)
{
	if (confirmed)
		(*(int *)arg)++;
}

/* The local and worker block sources: the store forgets, done at once
 * (before the slot returns, which says so with NULL). */
START_TEST(local_invalidate)
{
	const struct gw_blksrc_ops *const tables[] = { &gw_blksrc_local, &gw_blksrc_worker };
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(tables); i++) {
		static struct gw_conf gc;
		static struct gw_ctx ctx;
		struct gw_forget f;
		struct gw_inval *v;
		int done = 0;

		memset(&gc, 0, sizeof gc);
		memset(&ctx, 0, sizeof ctx);
		gc.cache = store_of();
		ctx.magic = GW_CTX_MAGIC;
		ctx.conf = &gc;
		gw_blksrc_init(&gc.src, tables[i], NULL, NULL);
		memset(&f, 0, sizeof f);
		f.what = GW_FORGET_KEY;
		f.bucket = CM_SLICE_LIT("bkt");
		f.key = CM_SLICE_LIT("keep");
		f.req_id = "REQ1";
		v = gc.src.ops->invalidate(&gc.src, &ctx, &f, count_done, &done);
		ck_assert_ptr_null(v);
		ck_assert_int_eq(done, 1);
		ck_assert(!has(gc.cache, "bkt", "keep"));
		ck_assert(has(gc.cache, "bkt", "dir/z"));
		gc.src.ops->fini(&gc.src);
		cache_store_free(&gc.cache);
	}
}
END_TEST

/* 1 when gw_blksrc_init of ops aborts (in a child). */
static int
init_aborts(const struct gw_blksrc_ops *ops)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct gw_blksrc s;

		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		gw_blksrc_init(&s, ops, NULL, NULL);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

START_TEST(blksrc_slots_set)
{
	struct gw_blksrc_ops o;

	ck_assert(!init_aborts(&gw_blksrc_local));
	ck_assert(!init_aborts(&gw_blksrc_cluster));
	o = gw_blksrc_local;
	o.invalidate = NULL;
	ck_assert(init_aborts(&o));
	o = gw_blksrc_local;
	o.count = NULL;
	ck_assert(init_aborts(&o));
	o = gw_blksrc_cluster;
	o.run_max = 0;
	ck_assert(init_aborts(&o));
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		addressing,
		classify,
		metrics_render,
		prom_writer,
		core_error_docs,
		forget_of_write,
		store_forgets,
		local_invalidate,
		blksrc_slots_set,
	};

	return (testreq_run("gateway", tests, sizeof tests / sizeof tests[0], 0, 0));
}
