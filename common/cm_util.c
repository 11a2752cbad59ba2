/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_util.c: slices, bounded buffers and codecs declared in common.h.
 * Any thread; no shared state.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "common.h"

void
cm_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "cachalot: assertion failed: %s at %s:%d\n", expr, file, line);
	abort();
}

int
cm_slice_eq(struct cm_slice a, const char *lit)
{
	size_t n = strlen(lit);

	return (a.len == n && (n == 0 || memcmp(a.p, lit, n) == 0));
}

int
cm_slice_eq_nocase(struct cm_slice a, struct cm_slice b)
{
	size_t i;

	if (a.len != b.len)
		return (0);
	for (i = 0; i < a.len; i++)
		if (tolower((unsigned char)a.p[i]) != tolower((unsigned char)b.p[i]))
			return (0);
	return (1);
}

struct cm_slice
cm_slice_trim(struct cm_slice s)
{
	while (s.len > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return (s);
}

struct cm_slice
cm_slice_cut(struct cm_slice s, char c, struct cm_slice *head)
{
	const char *q = s.len > 0 ? memchr(s.p, c, s.len) : NULL;

	if (q == NULL) {
		*head = s;
		return (cm_slice(NULL, 0));
	}
	*head = cm_slice(s.p, (size_t)(q - s.p));
	return (cm_slice(q + 1, s.len - (size_t)(q - s.p) - 1));
}

void
cm_buf_init(struct cm_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
cm_buf_free(struct cm_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void
cm_buf_reset(struct cm_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Makes room for len more bytes plus the NUL. */
static int
buf_grow(struct cm_buf *b, size_t len)
{
	size_t need, ncap;
	char *np;

	if (len > b->max || b->len > b->max - len)
		return (-1);
	need = b->len + len + 1;
	if (need <= b->cap)
		return (0);
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return (-1);
	b->p = np;
	b->cap = ncap;
	return (0);
}

int
cm_buf_add_slow(struct cm_buf *b, const void *p, size_t len)
{
	if (buf_grow(b, len) != 0)
		return (-1);
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return (0);
}

int
cm_buf_adds(struct cm_buf *b, const char *s)
{
	return (cm_buf_add(b, s, strlen(s)));
}

int
cm_buf_addf(struct cm_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n, rv = -1;
	char *big = NULL;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	if ((size_t)n < sizeof small) {
		rv = cm_buf_add(b, small, (size_t)n);
		goto out;
	}
	if ((size_t)n > b->max)
		goto out;
	big = malloc((size_t)n + 1);
	if (big == NULL)
		goto out;
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rv = cm_buf_add(b, big, (size_t)n);
out:
	free(big);
	return (rv);
}

void
cm_hex_lower(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

uint64_t
cm_fnv1a(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 14695981039346656037ull ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return (h);
}

int
cm_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

int
cm_hex_decode(unsigned char *out, size_t outmax, struct cm_slice in)
{
	size_t i;
	int hi, lo;

	if (in.len % 2 != 0 || in.len / 2 > outmax)
		return (-1);
	for (i = 0; i < in.len / 2; i++) {
		hi = cm_hexval(in.p[2 * i]);
		lo = cm_hexval(in.p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return (-1);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return ((int)(in.len / 2));
}

int
cm_base64_encode(char *out, size_t outmax, const unsigned char *in, size_t len)
{
	if (len > 3 * 1024 * 1024 || outmax < 4 * ((len + 2) / 3) + 1)
		return (-1);
	return (EVP_EncodeBlock((unsigned char *)out, in, (int)len));
}

/* Small values only (checksums, signatures): at most 192 decoded bytes. */
int
cm_base64_decode(unsigned char *out, size_t outmax, struct cm_slice in)
{
	unsigned char tmp[256];
	int n;
	size_t pad = 0;

	/* EVP_DecodeBlock wants whole quanta and counts padding as zeros. */
	if (in.len == 0 || in.len % 4 != 0 || in.len / 4 * 3 > sizeof tmp)
		return (-1);
	if (in.p[in.len - 1] == '=')
		pad++;
	if (in.p[in.len - 2] == '=')
		pad++;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in.p, (int)in.len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > outmax)
		return (-1);
	n -= (int)pad;
	memcpy(out, tmp, (size_t)n);
	return (n);
}

int
cm_parse_u64(struct cm_slice s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0 || s.len > 20)
		return (-1);
	for (i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9' || (uint64_t)(s.p[i] - '0') > max)
			return (-1);
		if (v > (max - (uint64_t)(s.p[i] - '0')) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return (0);
}

int
cm_mkdir_p(const char *path)
{
	char p[4096];
	char *slash;

	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (slash = strchr(p + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return (-1);
		*slash = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return (-1);
	return (0);
}

uint64_t
cm_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

uint64_t
cm_mono_ms(void)
{
	return (cm_mono_us() / 1000u);
}
