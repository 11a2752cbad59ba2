/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common.h: the few things every Cachalot subsystem shares.
 *
 * Assertions that are never compiled out (a broken invariant is a bug, not
 * an outcome), string slices for bytes from the wire, and growable buffers
 * that carry a maximum size so that no input can grow them without bound.
 * Nothing here keeps global state; all of it is safe from any thread as long
 * as one object is used by one thread at a time.
 */
#ifndef CACHALOT_COMMON_H
#define CACHALOT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Always-on assertions, after Varnish's vas.h. */
void cm_assert_fail(const char *expr, const char *file, int line)
	__attribute__((noreturn));
#define AN(x)  do { if (!(x)) cm_assert_fail(#x " != 0", __FILE__, __LINE__); } while (0)
#define AZ(x)  do { if ((x) != 0) cm_assert_fail(#x " == 0", __FILE__, __LINE__); } while (0)
#define CM_ASSERT(x) do { if (!(x)) cm_assert_fail(#x, __FILE__, __LINE__); } while (0)

#define CM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes from the wire: not NUL-terminated, borrowed from whoever owns p. */
struct cm_slice {
	const char	*p;
	size_t		len;
};

#define CM_SLICE_LIT(s) ((struct cm_slice){ (s), sizeof(s) - 1 })

static inline struct cm_slice
cm_slice(const char *p, size_t len)
{
	struct cm_slice s = { p, len };
	return (s);
}

static inline struct cm_slice
cm_slice_str(const char *s)
{
	return (cm_slice(s, s != NULL ? strlen(s) : 0));
}

int cm_slice_eq(struct cm_slice a, const char *lit);
int cm_slice_eq_nocase(struct cm_slice a, struct cm_slice b);
struct cm_slice cm_slice_trim(struct cm_slice s);
/* Splits s at the first c: *head before it, s returns what follows (len 0,
 * p NULL when c is absent, so that callers can tell "a=" from "a"). */
struct cm_slice cm_slice_cut(struct cm_slice s, char c, struct cm_slice *head);

/*
 * Growable buffer with a maximum (after curl's dynbuf). Appending beyond max
 * fails with -1 and leaves the buffer unchanged; so does running out of
 * memory. The buffer owns p; cm_buf_free releases it. p is always
 * NUL-terminated when len > 0, for the convenience of logging.
 */
struct cm_buf {
	char	*p;
	size_t	len;
	size_t	cap;
	size_t	max;
};

void cm_buf_init(struct cm_buf *b, size_t max);
void cm_buf_free(struct cm_buf *b);
void cm_buf_reset(struct cm_buf *b);
int cm_buf_add_slow(struct cm_buf *b, const void *p, size_t len);

/* Appends len bytes; the common case (room already there) inline: the
 * canonicalisation of every request appends byte by byte. */
static inline int
cm_buf_add(struct cm_buf *b, const void *p, size_t len)
{
	if (len < b->cap - b->len && b->p != NULL) {
		if (len > 0)
			memcpy(b->p + b->len, p, len);
		b->len += len;
		b->p[b->len] = '\0';
		return (0);
	}
	return (cm_buf_add_slow(b, p, len));
}

static inline int
cm_buf_addc(struct cm_buf *b, char c)
{
	if (b->p != NULL && b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return (0);
	}
	return (cm_buf_add_slow(b, &c, 1));
}
int cm_buf_adds(struct cm_buf *b, const char *s);
int cm_buf_addf(struct cm_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline struct cm_slice
cm_buf_slice(const struct cm_buf *b)
{
	return (cm_slice(b->p, b->len));
}

/* FNV-1a over len bytes, continuing from seed (0 to start): for picking
 * hash slots, never for anything an attacker could exploit. */
uint64_t cm_fnv1a(const void *p, size_t len, uint64_t seed);
/* The monotonic clock, in microseconds and milliseconds. */
uint64_t cm_mono_us(void);
uint64_t cm_mono_ms(void);
/* mkdir -p path (mode 0755). 0, or -1 with errno set. */
int cm_mkdir_p(const char *path);

/* The value of one hex digit, or -1. */
int cm_hexval(char c);

/* Hex and base64 codecs. Return the output length, or -1 on bad input. */
void cm_hex_lower(char *out, const unsigned char *in, size_t len); /* out: 2*len+1 */
int cm_hex_decode(unsigned char *out, size_t outmax, struct cm_slice in);
int cm_base64_encode(char *out, size_t outmax, const unsigned char *in, size_t len);
int cm_base64_decode(unsigned char *out, size_t outmax, struct cm_slice in);

/* Strict decimal parse of a whole slice into [0, max]; -1 on anything else. */
int cm_parse_u64(struct cm_slice s, uint64_t max, uint64_t *out);

#endif
