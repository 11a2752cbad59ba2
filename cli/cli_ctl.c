/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_ctl.c: `cachalot ctl COMMAND`, the operator's commands against the
 * master's API (see cluster/master_routes.c):
 *   status | workers | ring | stats [BUCKET]      read, text or --json
 *   drain WORKER | undrain WORKER                 take out, let back in
 *   purge BUCKET[/PREFIX]                         workers forget it
 * Requests that change state (drain, undrain, purge) are signed with the
 * cluster secret (--cluster-secret or CACHALOT_CLUSTER_SECRET; see
 * cluster/clu_auth.h); reads are sent signed too when it is given.
 * Exit codes: 0 done, 1 the master refused or is unreachable, 2 usage.
 * Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "common/common.h"

static size_t
to_stdout(char *p, size_t size, size_t n, void *arg)
{
	(void)arg;
	return (fwrite(p, size, n, stdout) * size);
}

/* Appends a query value, percent-encoded. */
static int
add_param(struct cm_buf *url, CURL *e, const char *name, const char *value, size_t len)
{
	char *enc = curl_easy_escape(e, value, (int)len);
	int rv;

	if (enc == NULL)
		return (-1);
	rv = cm_buf_addf(url, "%c%s=%s", strchr(url->p, '?') != NULL ? '&' : '?', name, enc);
	curl_free(enc);
	return (rv);
}

int
cli_ctl(const struct cm_config *c, int argc, char **argv)
{
	const char *cmd = argc > 0 ? argv[0] : NULL, *arg = argc > 1 ? argv[1] : NULL;
	struct cm_buf url;
	struct curl_slist *hl = NULL, *t;
	struct clu_auth_key key;
	struct clu_auth_hdrs ah;
	char errs[400], hostline[320];
	CURL *e = NULL;
	CURLcode rc;
	long code = 0;
	int post = 0, rv = 2;
	size_t n;

	cm_buf_init(&url, 8192);
	if (cmd == NULL) {
		fprintf(stderr, "cachalot ctl: give a command: status, workers, ring, stats [BUCKET], "
		    "drain WORKER, undrain WORKER, purge BUCKET[/PREFIX]\n");
		return (2);
	}
	if (c->master == NULL) {
		fprintf(stderr, "cachalot ctl: no master: set --master URL\n");
		return (2);
	}
	memset(&key, 0, sizeof key);
	if (c->cluster_secret != NULL &&
	    clu_auth_key_init(&key, c->cluster_secret, errs, sizeof errs) != 0) {
		fprintf(stderr, "cachalot ctl: %s\n", errs);
		return (2);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (e = curl_easy_init()) == NULL) {
		fprintf(stderr, "cachalot ctl: libcurl failed to initialise\n");
		return (1);
	}
	n = strlen(c->master);
	while (n > 0 && c->master[n - 1] == '/')
		n--;
	if (cm_buf_add(&url, c->master, n) != 0)
		goto out;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "workers") == 0 || strcmp(cmd, "ring") == 0 ||
	    strcmp(cmd, "stats") == 0) {
		if (argc > (strcmp(cmd, "stats") == 0 ? 2 : 1))
			goto usage;
		if (cm_buf_addf(&url, "/v1/%s", cmd) != 0 ||
		    (arg != NULL && add_param(&url, e, "bucket", arg, strlen(arg)) != 0) ||
		    (c->json && strcmp(cmd, "ring") != 0 && add_param(&url, e, "format", "json", 4) != 0))
			goto out;
	} else if (strcmp(cmd, "drain") == 0 || strcmp(cmd, "undrain") == 0) {
		if (argc != 2)
			goto usage;
		post = 1;
		if (cm_buf_addf(&url, "/v1/%s", cmd) != 0 ||
		    add_param(&url, e, "worker", arg, strlen(arg)) != 0)
			goto out;
	} else if (strcmp(cmd, "purge") == 0) {
		const char *slash;

		if (argc != 2)
			goto usage;
		post = 1;
		slash = strchr(arg, '/');
		if (cm_buf_adds(&url, "/v1/purge") != 0 ||
		    add_param(&url, e, "bucket", arg, slash != NULL ? (size_t)(slash - arg) : strlen(arg)) != 0 ||
		    (slash != NULL && slash[1] != '\0' &&
		    add_param(&url, e, "prefix", slash + 1, strlen(slash + 1)) != 0))
			goto out;
	} else {
		goto usage;
	}
	if (post && c->cluster_secret == NULL) {
		fprintf(stderr, "cachalot ctl: %s needs the cluster secret: set --cluster-secret or "
		    "CACHALOT_CLUSTER_SECRET (the master's)\n", cmd);
		rv = 2;
		goto out;
	}
	if (c->cluster_secret != NULL) {
		/* Signed over the Host we send and the target after it. */
		const char *auth = strstr(url.p, "://"), *slash;
		struct clu_auth_msg m = { .method = cm_slice_str(post ? "POST" : "GET") };
		size_t hn;

		auth = auth != NULL ? auth + 3 : url.p;
		slash = strchr(auth, '/');
		hn = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
		if (slash == NULL || hn >= sizeof hostline - 7)
			goto out;
		m.host = cm_slice(auth, hn);
		m.target = cm_slice_str(slash);
		clu_auth_body_sha256("", 0, m.body_sha256);
		if (clu_auth_sign(&key, &m, (int64_t)time(NULL), NULL, &ah) != 0) {
			fprintf(stderr, "cachalot ctl: cannot sign the request\n");
			goto out;
		}
		snprintf(hostline, sizeof hostline, "Host: %.*s", (int)hn, auth);
		if ((hl = curl_slist_append(NULL, hostline)) == NULL)
			goto out;
		/* No Content-Type: the body is empty and none is signed. */
		if ((t = curl_slist_append(hl, "Content-Type:")) == NULL)
			goto out;
		hl = t;
		for (n = 0; n < 3; n++) {
			if ((t = curl_slist_append(hl, ah.line[n])) == NULL)
				goto out;
			hl = t;
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	}
	if (curl_easy_setopt(e, CURLOPT_URL, url.p) != CURLE_OK)
		goto out;
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_stdout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	if (post) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	}
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		fprintf(stderr, "cachalot ctl: master %s: %s\n", c->master, curl_easy_strerror(rc));
		rv = 1;
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	rv = code == 200 ? 0 : 1;
	if (code == 401 || code == 403)
		fprintf(stderr, "cachalot ctl: the master refused the request (%ld): is "
		    "cluster-secret the cluster's?\n", code);
	goto out;
usage:
	fprintf(stderr, "cachalot ctl: usage: status | workers | ring | stats [BUCKET] | drain WORKER | "
	    "undrain WORKER | purge BUCKET[/PREFIX]\n");
	rv = 2;
out:
	curl_slist_free_all(hl);
	clu_auth_key_fini(&key);
	cm_buf_free(&url);
	if (e != NULL)
		curl_easy_cleanup(e);
	curl_global_cleanup();
	return (rv);
}
