/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_presign.c: `cachalot presign s3://BUCKET/KEY`, what `aws s3 presign`
 * does for AWS, for Cachalot's own endpoint and credentials. Path-style, so
 * that the URL works without DNS for virtual hosts. Main thread.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "cli/cli.h"
#include "s3sig/s3sig.h"

int
cli_presign(const struct cm_config *c, const char *target)
{
	struct s3sig_signer s;
	struct s3sig_hdr host;
	struct s3sig_req req;
	struct cm_buf path, q, ep;
	const char *bk = target + 5, *hostp;
	int rv = 1;

	cm_buf_init(&path, 16384);
	cm_buf_init(&q, 16384);
	cm_buf_init(&ep, 1024);
	if (c->access_key == NULL || c->secret_key == NULL) {
		fprintf(stderr, "cachalot presign: needs --access-key and --secret-key "
		    "(or CACHALOT_SECRET_KEY)\n");
		goto out;
	}
	if (*bk == '\0' || *bk == '/' || strchr(bk, '/') == NULL || strchr(bk, '/')[1] == '\0') {
		fprintf(stderr, "cachalot presign: invalid target '%s': expected s3://BUCKET/KEY\n",
		    target);
		goto out;
	}
	if (c->expires_in == 0 || c->expires_in > 604800) {
		fprintf(stderr, "cachalot presign: invalid value '%llu' for --expires-in: "
		    "1 to 604800 seconds\n", (unsigned long long)c->expires_in);
		goto out;
	}
	if (c->endpoint != NULL) {
		if (cm_buf_adds(&ep, c->endpoint) != 0)
			goto out;
		while (ep.len > 0 && ep.p[ep.len - 1] == '/')
			ep.p[--ep.len] = '\0';
	} else if (cm_buf_addf(&ep, "http://%s", c->listen) != 0) {
		goto out;
	}
	hostp = strstr(ep.p, "://") + 3;
	/* The key is encoded as S3 clients encode it: every byte but the
	 * unreserved ones and '/'. */
	if (cm_buf_addc(&path, '/') != 0 || s3sig_uri_encode_path(&path, bk) != 0)
		goto out;
	host.name = CM_SLICE_LIT("host");
	host.value = cm_slice(hostp, strcspn(hostp, "/"));
	memset(&req, 0, sizeof req);
	req.method = cm_slice_str(c->method);
	req.path = cm_buf_slice(&path);
	req.hdrs = &host;
	req.nhdrs = 1;
	s.access_key = c->access_key;
	s.secret_key = c->secret_key;
	s.region = c->regions[0];
	s.service = "s3";
	if (s3sig_presign_v4(&s, &req, time(NULL), (long)c->expires_in, &q) != 0) {
		fprintf(stderr, "cachalot presign: cannot sign (key or URL too long)\n");
		goto out;
	}
	printf("%.*s%s?%s\n", (int)(host.value.p + host.value.len - ep.p), ep.p, path.p, q.p);
	rv = 0;
out:
	cm_buf_free(&path);
	cm_buf_free(&q);
	cm_buf_free(&ep);
	return (rv);
}
