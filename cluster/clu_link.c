/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clu_link.c: one process's line to the master (see clu_priv.h), shared by
 * a gateway's view and a worker's agent. libcurl's easy interface on the
 * cluster thread, with short timeouts, so that a slow or absent master
 * never blocks a loop.
 *
 * Threads: clu_link_ask on the cluster thread only (it owns the easy
 * handle); clu_link_reachable from any thread. Lock: mtx guards why; a
 * leaf lock.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cluster/clu_priv.h"
#include "common/cm_log.h"

int
clu_link_init(struct clu_link *l, const char *url, char *err, size_t errlen)
{
	size_t n;

	memset(l, 0, sizeof *l);
	if (url == NULL) {
		snprintf(err, errlen, "no master: set --master URL");
		return (-1);
	}
	atomic_init(&l->ok, -1);
	snprintf(l->url, sizeof l->url, "%s", url);
	n = strlen(l->url);
	while (n > 0 && l->url[n - 1] == '/')
		l->url[--n] = '\0';
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
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct cm_buf *b = arg;

	return (cm_buf_add(b, p, size * n) == 0 ? size * n : 0);
}

int
clu_link_ask(struct clu_link *l, const char *path, const char *body, struct cm_buf *out)
{
	CURL *easy = l->easy;
	char url[1200];
	long code = 0;
	CURLcode rc;

	snprintf(url, sizeof url, "%s%s", l->url, path);
	cm_buf_reset(out);
	curl_easy_reset(easy);
	if (curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK)
		return (-1);
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
		return (-1);
	}
	if (atomic_exchange(&l->ok, 1) == 0)
		CM_LOGW("cluster: master %s reachable again", l->url);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	return (code == 200 ? 0 : -1);
}

int
clu_link_reachable(struct clu_link *l, char *why, size_t len)
{
	int ok = atomic_load(&l->ok);

	if (ok == 0) {
		pthread_mutex_lock(&l->mtx);
		snprintf(why, len, "%s", l->why);
		pthread_mutex_unlock(&l->mtx);
	}
	return (ok);
}
