/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_link.c: one process's line to the master (see clu_priv.h), shared by
 * a gateway's view and a worker's agent. libcurl's easy interface on the
 * cluster thread, with short timeouts, so that a slow or absent master
 * never blocks a loop. Every request is signed with the cluster secret
 * (clu_auth.h); an answer asked signed is refused unless the master
 * proves, over this request's nonce, that it knows the secret.
 *
 * Threads: clu_link_ask on the cluster thread only (it owns the easy
 * handle); clu_link_reachable from any thread. Lock: mtx guards why; a
 * leaf lock.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

int
clu_link_init(struct clu_link *l, const char *url, const char *secret, char *err,
    size_t errlen)
{
	const char *auth, *slash;
	size_t n;

	memset(l, 0, sizeof *l);
	if (url == NULL) {
		snprintf(err, errlen, "no master: set --master URL");
		return (-1);
	}
	if (clu_auth_key_init(&l->key, secret, err, errlen) != 0)
		return (-1);
	atomic_init(&l->ok, -1);
	snprintf(l->url, sizeof l->url, "%s", url);
	n = strlen(l->url);
	while (n > 0 && l->url[n - 1] == '/')
		l->url[--n] = '\0';
	/* The Host header we send (and sign), and the path before ours. */
	auth = strstr(l->url, "://");
	auth = auth != NULL ? auth + 3 : l->url;
	slash = strchr(auth, '/');
	n = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	if (n == 0 || n >= sizeof l->host || (slash != NULL && strlen(slash) >= sizeof l->base)) {
		snprintf(err, errlen, "master URL %s: no host, or too long", url);
		return (-1);
	}
	memcpy(l->host, auth, n);
	l->host[n] = '\0';
	snprintf(l->base, sizeof l->base, "%s", slash != NULL ? slash : "");
	l->easy = curl_easy_init();
	if (l->easy == NULL || pthread_mutex_init(&l->mtx, NULL) != 0) {
		if (l->easy != NULL)
			curl_easy_cleanup(l->easy);
		l->easy = NULL;
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

void
clu_link_fini(struct clu_link *l)
{
	if (l->easy == NULL)
		return;
	curl_easy_cleanup(l->easy);
	l->easy = NULL;
	pthread_mutex_destroy(&l->mtx);
	clu_auth_key_fini(&l->key);
}

/* The answer's auth headers and Content-Type, as they came. */
struct answer_hdrs {
	char	date[32], nonce[48], mac[96], type[96];
};

static void
keep_hdr(char *dst, size_t max, const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n >= max)
		n = max - 1;	/* then malformed: refused */
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct answer_hdrs *ah = arg;
	size_t len = size * n;
	const char *colon = memchr(p, ':', len);
	struct {
		const char	*name;
		char		*dst;
		size_t		max;
	} want[] = {
		{ CLU_AUTH_DATE, ah->date, sizeof ah->date },
		{ CLU_AUTH_NONCE, ah->nonce, sizeof ah->nonce },
		{ CLU_AUTH_MAC, ah->mac, sizeof ah->mac },
		{ "content-type", ah->type, sizeof ah->type },
	};
	size_t i, nl;

	if (colon == NULL)
		return (len);
	nl = (size_t)(colon - p);
	for (i = 0; i < CM_ARRAY_LEN(want); i++)
		if (strlen(want[i].name) == nl && strncasecmp(p, want[i].name, nl) == 0)
			keep_hdr(want[i].dst, want[i].max, colon + 1, len - nl - 1);
	return (len);
}

/* The master's signature over the answer, bound to our nonce. */
static enum clu_auth_result
answer_ok(struct clu_link *l, const char *target, const char *nonce, const struct answer_hdrs *ah,
    const struct cm_buf *out)
{
	struct clu_auth_msg m = {
		.answer = 1, .method = CM_SLICE_LIT("200"), .target = cm_slice_str(target),
		.content_type = cm_slice_str(ah->type), .bind = cm_slice_str(nonce),
	};

	clu_auth_body_sha256(out->p, out->len, m.body_sha256);
	return (clu_auth_verify(&l->key, &m, cm_slice_str(ah->date), cm_slice_str(ah->nonce),
	    cm_slice_str(ah->mac), (int64_t)time(NULL), NULL));
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct cm_buf *b = arg;

	return (cm_buf_add(b, p, size * n) == 0 ? size * n : 0);
}

int
clu_link_ask(struct clu_link *l, const char *path, const char *body, int signed_answer,
    struct cm_buf *out)
{
	CURL *easy = l->easy;
	char url[1200], target[1200], hostline[320];
	struct curl_slist *hl = NULL, *t;
	struct clu_auth_hdrs ah;
	struct answer_hdrs got;
	enum clu_auth_result ar;
	long code = 0;
	CURLcode rc;
	int rv = -1;
	size_t i;
	struct clu_auth_msg m = {
		.method = cm_slice_str(body != NULL ? "POST" : "GET"),
		.host = cm_slice_str(l->host),
		.content_type = cm_slice_str(body != NULL ? "text/plain" : ""),
	};

	snprintf(url, sizeof url, "%s%s", l->url, path);
	snprintf(target, sizeof target, "%s%s", l->base, path);
	m.target = cm_slice_str(target);
	clu_auth_body_sha256(body, body != NULL ? strlen(body) : 0, m.body_sha256);
	memset(&got, 0, sizeof got);
	cm_buf_reset(out);
	curl_easy_reset(easy);
	if (clu_auth_sign(&l->key, &m, (int64_t)time(NULL), NULL, &ah) != 0) {
		CM_LOGW("cluster: cannot sign a request to the master %s", l->url);
		return (-1);
	}
	snprintf(hostline, sizeof hostline, "Host: %s", l->host);
	if ((hl = curl_slist_append(NULL, hostline)) == NULL)
		return (-1);
	if (body != NULL) {
		if ((t = curl_slist_append(hl, "Content-Type: text/plain")) == NULL)
			goto out;
		hl = t;
	}
	for (i = 0; i < 3; i++) {
		if ((t = curl_slist_append(hl, ah.line[i])) == NULL)
			goto out;
		hl = t;
	}
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK)
		goto out;
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, &got);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, out);
	if (body != NULL) {
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	rc = curl_easy_perform(easy);
	if (rc != CURLE_OK) {
		/* Said once when the master goes away, once when it is back. */
		pthread_mutex_lock(&l->mtx);
		snprintf(l->why, sizeof l->why, "%s", curl_easy_strerror(rc));
		pthread_mutex_unlock(&l->mtx);
		if (atomic_exchange(&l->ok, 0) != 0)
			CM_LOGW("cluster: master %s unreachable: %s", l->url, curl_easy_strerror(rc));
		CM_LOGD("cluster: master %s: %s", url, curl_easy_strerror(rc));
		goto out;
	}
	if (atomic_exchange(&l->ok, 1) == 0)
		CM_LOGW("cluster: master %s reachable again", l->url);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (code == 401 || code == 403) {
		/* Said once until a request is taken again. */
		if (atomic_exchange(&l->refused, 1) == 0)
			CM_LOGE("cluster: the master %s refused our request (%ld): %.*s", l->url, code,
			    (int)(out->len > 200 ? 200 : out->len), out->p != NULL ? out->p : "");
		goto out;
	}
	if (code != 200)
		goto out;
	if (signed_answer && (ar = answer_ok(l, target, ah.nonce, &got, out)) != CLU_AUTH_OK) {
		if (atomic_exchange(&l->refused, 2) != 2)
			CM_LOGE("cluster: refused an answer from %s%s: its signature is %s (not the "
			    "cluster's master, or altered on the way)", l->url, path,
			    ar == CLU_AUTH_BAD ? "wrong" : clu_auth_result_name[ar]);
		cm_buf_reset(out);
		goto out;
	}
	if (atomic_exchange(&l->refused, 0) != 0)
		CM_LOGW("cluster: the master %s takes our requests again", l->url);
	rv = 0;
out:
	curl_slist_free_all(hl);
	return (rv);
}

int
clu_link_reachable(struct clu_link *l, char *why, size_t len)
{
	int ok = atomic_load(&l->ok), refused = atomic_load(&l->refused);

	if (ok == 1 && refused != 0) {
		snprintf(why, len, "%s", refused == 1 ?
		    "the master refuses our requests (is cluster-secret the master's?)" :
		    "the master's answers are not signed with our cluster-secret");
		return (0);
	}
	if (ok == 0) {
		pthread_mutex_lock(&l->mtx);
		snprintf(why, len, "%s", l->why);
		pthread_mutex_unlock(&l->mtx);
	}
	return (ok);
}
