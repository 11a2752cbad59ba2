/* SPDX-License-Identifier: Apache-2.0 */
/* cm_prom.c: see cm_prom.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cm_prom.h"

void
cm_prom_init(struct cm_prom *p, struct cm_buf *out)
{
	memset(p, 0, sizeof *p);
	p->out = out;
}

void
cm_prom_family(struct cm_prom *p, const char *name, const char *type, const char *help)
{
	size_t i;

	/* One group per family: opening one again is a bug of the caller. */
	for (i = 0; i < p->nseen; i++)
		CM_ASSERT(strcmp(p->seen[i], name) != 0);
	CM_ASSERT(p->nseen < CM_ARRAY_LEN(p->seen));
	p->seen[p->nseen++] = name;
	p->fam = name;
	p->type = type;
	if (cm_buf_addf(p->out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) != 0)
		p->err = 1;
}

/* Appends {k="v",...} from the pairs in ap, plus le when not NULL. */
static void
labels(struct cm_prom *p, va_list ap, const char *le)
{
	const char *k, *v, *s;
	int first = 1, rv = 0;

	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		CM_ASSERT(v != NULL);
		rv |= cm_buf_addf(p->out, "%s%s=\"", first ? "{" : ",", k);
		first = 0;
		for (s = v; *s != '\0'; s++) {
			if (*s == '\\' || *s == '"')
				rv |= cm_buf_addf(p->out, "\\%c", *s);
			else if (*s == '\n')
				rv |= cm_buf_adds(p->out, "\\n");
			else
				rv |= cm_buf_add(p->out, s, 1);
		}
		rv |= cm_buf_adds(p->out, "\"");
	}
	if (le != NULL) {
		rv |= cm_buf_addf(p->out, "%sle=\"%s\"", first ? "{" : ",", le);
		first = 0;
	}
	if (!first)
		rv |= cm_buf_adds(p->out, "}");
	if (rv != 0)
		p->err = 1;
}

void
cm_prom_u64(struct cm_prom *p, uint64_t v, ...)
{
	va_list ap;

	CM_ASSERT(p->fam != NULL && strcmp(p->type, "histogram") != 0);
	if (cm_buf_adds(p->out, p->fam) != 0)
		p->err = 1;
	va_start(ap, v);
	labels(p, ap, NULL);
	va_end(ap);
	if (cm_buf_addf(p->out, " %llu\n", (unsigned long long)v) != 0)
		p->err = 1;
}

void
cm_prom_f64(struct cm_prom *p, double v, ...)
{
	va_list ap;

	CM_ASSERT(p->fam != NULL && strcmp(p->type, "histogram") != 0);
	if (cm_buf_adds(p->out, p->fam) != 0)
		p->err = 1;
	va_start(ap, v);
	labels(p, ap, NULL);
	va_end(ap);
	if (cm_buf_addf(p->out, " %.17g\n", v) != 0)
		p->err = 1;
}

void
cm_prom_histogram(struct cm_prom *p, const double *le, const uint64_t *counts, size_t n,
    double sum, ...)
{
	uint64_t cum = 0;
	va_list ap;
	char b[32];
	size_t i;

	CM_ASSERT(p->fam != NULL && strcmp(p->type, "histogram") == 0);
	for (i = 0; i <= n; i++) {
		cum += counts[i];
		if (i < n)
			snprintf(b, sizeof b, "%g", le[i]);
		else
			snprintf(b, sizeof b, "+Inf");
		if (cm_buf_addf(p->out, "%s_bucket", p->fam) != 0)
			p->err = 1;
		va_start(ap, sum);
		labels(p, ap, b);
		va_end(ap);
		if (cm_buf_addf(p->out, " %llu\n", (unsigned long long)cum) != 0)
			p->err = 1;
	}
	if (cm_buf_addf(p->out, "%s_sum", p->fam) != 0)
		p->err = 1;
	va_start(ap, sum);
	labels(p, ap, NULL);
	va_end(ap);
	if (cm_buf_addf(p->out, " %.6f\n%s_count", sum, p->fam) != 0)
		p->err = 1;
	va_start(ap, sum);
	labels(p, ap, NULL);
	va_end(ap);
	if (cm_buf_addf(p->out, " %llu\n", (unsigned long long)cum) != 0)
		p->err = 1;
}

int
cm_prom_finish(struct cm_prom *p)
{
	return (p->err || p->out->p == NULL ? -1 : 0);
}
