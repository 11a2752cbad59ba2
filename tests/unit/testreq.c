/* SPDX-License-Identifier: Apache-2.0 */
/* testreq.c: see testreq.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/unit/testreq.h"

char *
testreq_slurp(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return (NULL);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		p = malloc((size_t)n + 1);
		if (p != NULL && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else if (p != NULL) {
			p[n] = '\0';
			*lenp = (size_t)n;
		}
	}
	fclose(f);
	return (p);
}

void
testreq_add(struct testreq *t, const char *name, const char *value)
{
	if (t->req.nhdrs >= TESTREQ_MAX_HDRS)
		abort();
	t->hdrs[t->req.nhdrs].name = cm_slice_str(name);
	t->hdrs[t->req.nhdrs].value = cm_slice_str(value);
	t->req.nhdrs++;
}

int
testreq_parse(struct testreq *t, const char *text, size_t len)
{
	char *p, *end, *line, *nl, *sp, *q, *colon, *w;
	size_t n = 0;

	memset(t, 0, sizeof *t);
	t->text = malloc(len + 1);
	if (t->text == NULL)
		return (-1);
	/* Drop CRs in the head so that either line ending works; the body
	 * (after the first empty line) is kept byte for byte. */
	{
		size_t i;
		int nl_seen = 0, in_body = 0;

		for (i = 0; i < len; i++) {
			if (in_body) {
				t->text[n++] = text[i];
				continue;
			}
			if (text[i] == '\r')
				continue;
			t->text[n++] = text[i];
			if (text[i] == '\n') {
				if (nl_seen)
					in_body = 1;
				nl_seen = 1;
			} else {
				nl_seen = 0;
			}
		}
	}
	t->text[n] = '\0';
	p = t->text;
	end = p + n;
	t->req.hdrs = t->hdrs;

	nl = memchr(p, '\n', (size_t)(end - p));
	line = p;
	if (nl != NULL)
		*nl = '\0';
	sp = strchr(line, ' ');
	q = strstr(line, " HTTP/");
	if (sp == NULL || q == NULL || q <= sp)
		return (-1);
	t->req.method = cm_slice(line, (size_t)(sp - line));
	{
		char *target = sp + 1, *qm;

		*q = '\0';
		qm = strchr(target, '?');
		if (qm != NULL) {
			t->req.path = cm_slice(target, (size_t)(qm - target));
			t->req.query = cm_slice(qm + 1, strlen(qm + 1));
		} else {
			t->req.path = cm_slice(target, strlen(target));
		}
	}
	p = nl != NULL ? nl + 1 : end;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line = p;
		if (nl != NULL)
			*nl = '\0';
		p = nl != NULL ? nl + 1 : end;
		if (*line == '\0') {
			t->body = cm_slice(p, (size_t)(end - p));
			break;
		}
		if ((*line == ' ' || *line == '\t') && t->req.nhdrs > 0) {
			/* Folded: append to the previous value, in place (the
			 * previous value ends right before this line's NUL). */
			struct s3sig_hdr *h = &t->hdrs[t->req.nhdrs - 1];

			w = (char *)h->value.p + h->value.len;
			*w++ = ' ';
			memmove(w, line, strlen(line) + 1);
			h->value.len = (size_t)(w - h->value.p) + strlen(w);
			continue;
		}
		colon = strchr(line, ':');
		if (colon == NULL || t->req.nhdrs >= TESTREQ_MAX_HDRS)
			return (-1);
		t->hdrs[t->req.nhdrs].name = cm_slice(line, (size_t)(colon - line));
		t->hdrs[t->req.nhdrs].value = cm_slice(colon + 1, strlen(colon + 1));
		t->req.nhdrs++;
	}
	return (0);
}

void
testreq_free(struct testreq *t)
{
	free(t->text);
	t->text = NULL;
}

int
testreq_run(const char *name, const TTest *const *tests, size_t n, int timeout, int nofork)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);
	SRunner *sr;
	size_t i;
	int failed;

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	for (i = 0; i < n; i++)
		_tcase_add_test(tc, tests[i], 0, 0, 0, 1);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
