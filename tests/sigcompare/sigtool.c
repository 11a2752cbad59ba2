/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigtool.c: s3sig behind a line protocol, for tests/sigcompare/compare.py
 * to hold against botocore. One request per input line, tab-separated, every
 * variable field hex-encoded so that any byte can travel:
 *
 *   OP NOW AK SK REGION METHOD PATH QUERY BODY PAYLOAD_HASH EXPIRES [NAME VALUE]...
 *
 * OP is SIGN (prints the Authorization value s3sig_sign_v4 makes over every
 * header given), PRESIGN (prints the query s3sig_presign_v4 makes) or VERIFY
 * (verifies with s3sig_verify at NOW, feeds BODY through the body checker,
 * prints OK or the error name). NOW and EXPIRES are decimal; AK, SK, REGION,
 * PAYLOAD_HASH plain text. Test code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3sig/s3sig_priv.h"

#define MAX_FIELDS 128

static int
unhex(char *s, size_t *len)
{
	size_t n = strlen(s), i;
	int r = cm_hex_decode((unsigned char *)s, n / 2, cm_slice(s, n));

	if (r < 0)
		return (-1);
	*len = (size_t)r;
	for (i = *len; i < n; i++)
		s[i] = '\0';
	return (0);
}

static void
one(char *line)
{
	char *f[MAX_FIELDS], *save = NULL, *tok;
	size_t nf = 0, lens[MAX_FIELDS], i;
	struct s3sig_hdr hdrs[(MAX_FIELDS - 11) / 2];
	struct s3sig_req req;
	struct cm_buf out;
	time_t now;

	for (tok = strtok_r(line, "\t\n", &save); tok != NULL && nf < MAX_FIELDS;
	    tok = strtok_r(NULL, "\t\n", &save))
		f[nf++] = tok;
	if (nf < 11 || (nf - 11) % 2 != 0) {
		printf("BADLINE\n");
		return;
	}
	/* "-" stands for an empty hex field. */
	for (i = 5; i < nf; i++) {
		if (i == 9 || i == 10)
			continue;
		if (strcmp(f[i], "-") == 0) {
			f[i][0] = '\0';
			lens[i] = 0;
		} else if (unhex(f[i], &lens[i]) != 0) {
			printf("BADHEX\n");
			return;
		}
	}
	now = (time_t)atoll(f[1]);
	memset(&req, 0, sizeof req);
	req.method = cm_slice(f[5], lens[5]);
	req.path = cm_slice(f[6], lens[6]);
	req.query = cm_slice(f[7], lens[7]);
	for (i = 11; i + 1 < nf; i += 2) {
		hdrs[req.nhdrs].name = cm_slice(f[i], lens[i]);
		hdrs[req.nhdrs].value = cm_slice(f[i + 1], lens[i + 1]);
		req.nhdrs++;
	}
	req.hdrs = hdrs;
	cm_buf_init(&out, 1 << 16);
	if (strcmp(f[0], "SIGN") == 0 || strcmp(f[0], "PRESIGN") == 0) {
		struct s3sig_signer s = { f[2], f[3], f[4], "s3" };
		int rv = f[0][0] == 'S' ? s3sig_sign_v4(&s, &req, now, f[9], &out) :
		    s3sig_presign_v4(&s, &req, now, atol(f[10]), &out);

		printf("%s\n", rv == 0 ? out.p : "SIGNFAIL");
	} else if (strcmp(f[0], "VERIFY") == 0) {
		struct s3sig_cred cred = { f[2], f[3] };
		const char *regions[] = { f[4] };
		struct s3sig_conf conf = { &cred, 1, regions, 1, "s3", 1, 900 };
		struct s3sig_verifier *v = s3sig_verifier_new(&conf);
		struct s3sig_auth auth;
		struct s3sig_body *b = NULL;
		enum s3sig_err e = s3sig_verify(v, &req, now, &auth, &b);

		if (e == S3SIG_OK)
			e = s3sig_body_feed(b, f[8], lens[8], NULL, NULL);
		if (e == S3SIG_OK)
			e = s3sig_body_finish(b);
		printf("%s\n", s3sig_err_name(e));
		s3sig_body_free(&b);
		s3sig_verifier_free(&v);
	} else {
		printf("BADOP\n");
	}
	cm_buf_free(&out);
	fflush(stdout);
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) > 0)
		one(line);
	free(line);
	return (0);
}
