/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3sig_body.c: the body checker. Fed the raw request body in whatever
 * pieces the network delivers, it passes the payload on and checks it:
 *
 *   SHA256                 hash of the whole body equals x-amz-content-sha256
 *   STREAMING              aws-chunked; each chunk's signature chains from the
 *                          seed signature; framing removed
 *   STREAMING_TRAILER      the same, then trailing checksum and its signature
 *   STREAMING_UNSIGNED_... aws-chunked without signatures, trailing checksum
 *   UNSIGNED               nothing but the x-amz-checksum-* header, if any
 *
 * Data is handed on as it arrives, before the chunk that holds it is
 * verified: memory stays bounded whatever the chunk size, and the caller
 * must treat the request as failed (abort the origin upload) unless
 * s3sig_body_finish returns S3SIG_OK.
 *
 * aws-chunked states:
 *   SIZE_LINE  reading "hex[;chunk-signature=sig]\r\n"   -> DATA or, size 0, END
 *   DATA       passing size bytes on                      -> DATA_CRLF
 *   DATA_CRLF  expecting "\r\n"; chunk signature checked  -> SIZE_LINE
 *   END        0-size chunk seen; trailer lines or "\r\n" -> DONE
 *   DONE       anything more is an error
 * Threads: one body is used by one thread at a time.
 */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "s3sig_priv.h"

#define LINE_MAX_LEN	4096	/* a chunk-size line or one trailer line */
#define TRAILER_MAX	8192	/* all trailer lines together */

enum bstate { SIZE_LINE, DATA, DATA_CRLF, END, DONE, FAILED };

struct s3sig_body {
	unsigned		magic;
#define S3SIG_BODY_MAGIC	0x8e2b6d41
	struct s3sig_body_init	in;
	enum bstate		state;
	uint64_t		decoded;
	uint64_t		chunk_left;
	char			chunk_sig[65];	/* signature of the current chunk */
	char			prev_sig[65];
	EVP_MD_CTX		*payload_md;	/* whole-body hash (SHA256) */
	EVP_MD_CTX		*chunk_md;	/* current chunk (signed streaming) */
	struct s3sig_ck		ck;		/* header or trailer checksum */
	enum s3sig_ck_algo	ck_algo;
	char			line[LINE_MAX_LEN];
	size_t			linelen;
	struct cm_buf		trailer;	/* canonical "name:value\n" lines */
	struct cm_slice		trailer_sig;
	char			trailer_sigbuf[65];
	char			trailer_ck[64];	/* value as sent */
	int			have_trailer_ck;
	int			have_trailer_sig;
	int			skipped_blank;
};

static int
signed_streaming(const struct s3sig_body *b)
{
	return (b->in.payload == S3SIG_PAYLOAD_STREAMING ||
	    b->in.payload == S3SIG_PAYLOAD_STREAMING_TRAILER);
}

static int
chunked(const struct s3sig_body *b)
{
	return (b->in.payload >= S3SIG_PAYLOAD_STREAMING);
}

enum s3sig_err
s3sig_body_new(const struct s3sig_body_init *in, struct s3sig_body **out)
{
	struct s3sig_body *b;

	*out = NULL;
	b = calloc(1, sizeof *b);
	if (b == NULL)
		return (S3SIG_NOMEM);
	b->magic = S3SIG_BODY_MAGIC;
	b->in = *in;
	b->state = SIZE_LINE;
	memcpy(b->prev_sig, in->seed_sig, sizeof b->prev_sig);
	cm_buf_init(&b->trailer, TRAILER_MAX);
	if (in->payload == S3SIG_PAYLOAD_SHA256) {
		b->payload_md = EVP_MD_CTX_new();
		if (b->payload_md == NULL ||
		    EVP_DigestInit_ex(b->payload_md, EVP_sha256(), NULL) != 1)
			goto fail;
	}
	if (signed_streaming(b)) {
		b->chunk_md = EVP_MD_CTX_new();
		if (b->chunk_md == NULL ||
		    EVP_DigestInit_ex(b->chunk_md, EVP_sha256(), NULL) != 1)
			goto fail;
	}
	/* The trailer's algorithm wins: a header checksum with a trailer of
	 * another algorithm is refused by body_extras already. */
	b->ck_algo = in->trailer_ck != S3SIG_CK_NONE ? in->trailer_ck : in->header_ck;
	if (b->ck_algo != S3SIG_CK_NONE && s3sig_ck_init(&b->ck, b->ck_algo) != 0)
		goto fail;
	*out = b;
	return (S3SIG_OK);
fail:
	s3sig_body_free(&b);
	return (S3SIG_NOMEM);
}

void
s3sig_body_free(struct s3sig_body **bp)
{
	struct s3sig_body *b = *bp;

	*bp = NULL;
	if (b == NULL)
		return;
	CM_ASSERT(b->magic == S3SIG_BODY_MAGIC);
	EVP_MD_CTX_free(b->payload_md);
	EVP_MD_CTX_free(b->chunk_md);
	s3sig_ck_fini(&b->ck);
	cm_buf_free(&b->trailer);
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
}

uint64_t
s3sig_body_decoded(const struct s3sig_body *b)
{
	return (b->decoded);
}

/* Payload bytes: hashed, checksummed, counted and handed on. */
static enum s3sig_err
payload(struct s3sig_body *b, const char *p, size_t len, s3sig_sink_f *sink, void *arg)
{
	if (len == 0)
		return (S3SIG_OK);
	if (b->payload_md != NULL)
		AN(EVP_DigestUpdate(b->payload_md, p, len));
	if (b->chunk_md != NULL)
		AN(EVP_DigestUpdate(b->chunk_md, p, len));
	if (b->ck_algo != S3SIG_CK_NONE)
		s3sig_ck_update(&b->ck, p, len);
	b->decoded += len;
	if (b->in.decoded_length >= 0 && b->decoded > (uint64_t)b->in.decoded_length)
		return (S3SIG_INCOMPLETE_BODY);
	if (sink != NULL && sink(arg, p, len) != 0)
		return (S3SIG_SINK_STOPPED);
	return (S3SIG_OK);
}

/* AWS4-HMAC-SHA256-PAYLOAD string to sign for the chunk just read. */
static int
chunk_sig_ok(struct s3sig_body *b)
{
	unsigned char d[32], mac[32];
	char hex[65], sts[512];
	unsigned n = 32;
	int len;

	AN(EVP_DigestFinal_ex(b->chunk_md, d, &n));
	AN(EVP_DigestInit_ex(b->chunk_md, EVP_sha256(), NULL));
	cm_hex_lower(hex, d, 32);
	len = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s",
	    b->in.amz_date, b->in.scope, b->prev_sig, S3SIG_EMPTY_SHA256, hex);
	CM_ASSERT(len > 0 && (size_t)len < sizeof sts);
	s3sig_hmac256(b->in.signing_key, 32, sts, (size_t)len, mac);
	cm_hex_lower(hex, mac, 32);
	if (CRYPTO_memcmp(hex, b->chunk_sig, 64) != 0)
		return (0);
	memcpy(b->prev_sig, hex, sizeof b->prev_sig);
	return (1);
}

static int
trailer_sig_ok(struct s3sig_body *b)
{
	unsigned char mac[32];
	char hex[65], sts[512];
	int len;

	s3sig_sha256_hex(b->trailer.p != NULL ? b->trailer.p : "", b->trailer.len, hex);
	len = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s",
	    b->in.amz_date, b->in.scope, b->prev_sig, hex);
	CM_ASSERT(len > 0 && (size_t)len < sizeof sts);
	s3sig_hmac256(b->in.signing_key, 32, sts, (size_t)len, mac);
	cm_hex_lower(hex, mac, 32);
	return (b->trailer_sig.len == 64 && CRYPTO_memcmp(hex, b->trailer_sig.p, 64) == 0);
}

/* "hex[;chunk-signature=<64 hex>]" */
static enum s3sig_err
size_line(struct s3sig_body *b, struct cm_slice l)
{
	struct cm_slice ext, hex, k;
	uint64_t n = 0;
	size_t i;

	ext = cm_slice_cut(l, ';', &hex);
	if (hex.len == 0 || hex.len > 15)
		return (S3SIG_BAD_CHUNK);
	for (i = 0; i < hex.len; i++) {
		int d = cm_hexval(hex.p[i]);

		if (d < 0)
			return (S3SIG_BAD_CHUNK);
		n = n << 4 | (uint64_t)d;
	}
	if (signed_streaming(b)) {
		struct cm_slice sig = cm_slice_cut(ext, '=', &k);

		if (ext.p == NULL || !cm_slice_eq(k, "chunk-signature") || sig.len != 64)
			return (S3SIG_BAD_CHUNK);
		memcpy(b->chunk_sig, sig.p, 64);
		b->chunk_sig[64] = '\0';
	}
	b->chunk_left = n;
	b->state = n == 0 ? END : DATA;
	if (n == 0 && signed_streaming(b) && !chunk_sig_ok(b))
		return (S3SIG_CHUNK_SIG_MISMATCH);
	return (S3SIG_OK);
}

/* One trailer line "name:value", or the empty line that ends the body. */
static enum s3sig_err
trailer_line(struct s3sig_body *b, struct cm_slice l)
{
	struct cm_slice name, value;

	if (l.len == 0) {
		/* Some writers put an empty line between the last chunk and
		 * the trailers: skip one while no trailer has been seen. */
		if (b->in.payload != S3SIG_PAYLOAD_STREAMING && !b->have_trailer_ck &&
		    !b->have_trailer_sig && !b->skipped_blank) {
			b->skipped_blank = 1;
			return (S3SIG_OK);
		}
		b->state = DONE;
		return (S3SIG_OK);
	}
	if (b->in.payload == S3SIG_PAYLOAD_STREAMING)
		return (S3SIG_BAD_TRAILER);
	value = cm_slice_cut(l, ':', &name);
	if (value.p == NULL)
		return (S3SIG_BAD_TRAILER);
	name = cm_slice_trim(name);
	value = cm_slice_trim(value);
	if (cm_slice_eq_nocase(name, CM_SLICE_LIT("x-amz-trailer-signature"))) {
		if (b->have_trailer_sig || b->in.payload != S3SIG_PAYLOAD_STREAMING_TRAILER ||
		    value.len != 64)
			return (S3SIG_BAD_TRAILER);
		memcpy(b->trailer_sigbuf, value.p, 64);
		b->trailer_sigbuf[64] = '\0';
		b->trailer_sig = cm_slice(b->trailer_sigbuf, 64);
		b->have_trailer_sig = 1;
		return (S3SIG_OK);
	}
	if (s3sig_ck_by_header(name) != b->in.trailer_ck || b->have_trailer_ck ||
	    value.len >= sizeof b->trailer_ck || b->have_trailer_sig)
		return (S3SIG_BAD_TRAILER);
	memcpy(b->trailer_ck, value.p, value.len);
	b->trailer_ck[value.len] = '\0';
	b->have_trailer_ck = 1;
	/* Canonical form for the trailer signature: lower-case name. */
	{
		size_t i;

		for (i = 0; i < name.len; i++) {
			char c = name.p[i];

			if (cm_buf_addc(&b->trailer, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c)) != 0)
				return (S3SIG_BAD_TRAILER);
		}
	}
	if (cm_buf_addc(&b->trailer, ':') != 0 || cm_buf_add(&b->trailer, value.p, value.len) != 0 ||
	    cm_buf_addc(&b->trailer, '\n') != 0)
		return (S3SIG_BAD_TRAILER);
	return (S3SIG_OK);
}

/* Collects bytes up to CRLF into b->line; returns 1 when a line is done. */
static int
take_line(struct s3sig_body *b, const char **pp, size_t *lenp, enum s3sig_err *e)
{
	const char *p = *pp;
	size_t len = *lenp, i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			*pp = p + i + 1;
			*lenp = len - i - 1;
			if (b->linelen == 0 || b->line[b->linelen - 1] != '\r') {
				*e = S3SIG_BAD_CHUNK;
				return (0);
			}
			b->linelen--;
			return (1);
		}
		if (b->linelen == sizeof b->line) {
			*e = S3SIG_BAD_CHUNK;
			return (0);
		}
		b->line[b->linelen++] = p[i];
	}
	*pp = p + len;
	*lenp = 0;
	return (0);
}

static enum s3sig_err
feed_chunked(struct s3sig_body *b, const char *p, size_t len, s3sig_sink_f *sink, void *arg)
{
	enum s3sig_err e = S3SIG_OK;
	size_t n;

	while (len > 0 && e == S3SIG_OK) {
		switch (b->state) {
		case SIZE_LINE:
		case END:
			if (!take_line(b, &p, &len, &e))
				break;
			if (b->state == SIZE_LINE)
				e = size_line(b, cm_slice(b->line, b->linelen));
			else
				e = trailer_line(b, cm_slice(b->line, b->linelen));
			b->linelen = 0;
			break;
		case DATA:
			n = len < b->chunk_left ? len : (size_t)b->chunk_left;
			e = payload(b, p, n, sink, arg);
			p += n;
			len -= n;
			b->chunk_left -= n;
			if (b->chunk_left == 0)
				b->state = DATA_CRLF;
			break;
		case DATA_CRLF:
			if (!take_line(b, &p, &len, &e))
				break;
			if (b->linelen != 0)
				e = S3SIG_BAD_CHUNK;
			else if (signed_streaming(b) && !chunk_sig_ok(b))
				e = S3SIG_CHUNK_SIG_MISMATCH;
			b->linelen = 0;
			b->state = SIZE_LINE;
			break;
		case DONE:
			/* Some SDKs end with one more CRLF; tolerate exactly that. */
			if (b->linelen < 2 && *p == "\r\n"[b->linelen]) {
				b->linelen++;
				p++;
				len--;
				break;
			}
			e = S3SIG_BAD_CHUNK;
			break;
		case FAILED:
			e = S3SIG_BAD_CHUNK;
			break;
		}
	}
	return (e);
}

enum s3sig_err
s3sig_body_feed(struct s3sig_body *b, const char *p, size_t len, s3sig_sink_f *sink, void *arg)
{
	enum s3sig_err e;

	AN(b);
	CM_ASSERT(b->magic == S3SIG_BODY_MAGIC);
	if (b->state == FAILED)
		return (S3SIG_BAD_CHUNK);
	if (chunked(b))
		e = feed_chunked(b, p, len, sink, arg);
	else
		e = payload(b, p, len, sink, arg);
	if (e != S3SIG_OK)
		b->state = FAILED;
	return (e);
}

static enum s3sig_err
check_checksum(struct s3sig_body *b)
{
	unsigned char got[32], want[32];
	int n, wn;

	if (b->ck_algo == S3SIG_CK_NONE)
		return (S3SIG_OK);
	n = s3sig_ck_final(&b->ck, got);
	if (b->in.trailer_ck != S3SIG_CK_NONE) {
		if (!b->have_trailer_ck)
			return (S3SIG_BAD_TRAILER);
		wn = cm_base64_decode(want, sizeof want, cm_slice_str(b->trailer_ck));
	} else {
		wn = b->in.header_ck_len;
		memcpy(want, b->in.header_ck_val, sizeof want);
	}
	if (wn != n || CRYPTO_memcmp(got, want, (size_t)n) != 0)
		return (S3SIG_CHECKSUM_MISMATCH);
	return (S3SIG_OK);
}

enum s3sig_err
s3sig_body_finish(struct s3sig_body *b)
{
	unsigned char d[32];
	char hex[65];
	unsigned n = 32;
	enum s3sig_err e = S3SIG_OK;

	AN(b);
	CM_ASSERT(b->magic == S3SIG_BODY_MAGIC);
	if (b->state == FAILED)
		return (S3SIG_BAD_CHUNK);
	if (chunked(b)) {
		if (b->state != DONE)
			e = S3SIG_INCOMPLETE_BODY;
		else if (b->in.payload == S3SIG_PAYLOAD_STREAMING_TRAILER &&
		    (!b->have_trailer_sig || !trailer_sig_ok(b)))
			e = S3SIG_CHUNK_SIG_MISMATCH;
	} else if (b->payload_md != NULL) {
		AN(EVP_DigestFinal_ex(b->payload_md, d, &n));
		cm_hex_lower(hex, d, 32);
		if (CRYPTO_memcmp(hex, b->in.payload_sha, 64) != 0)
			e = S3SIG_CONTENT_SHA_MISMATCH;
	}
	if (e == S3SIG_OK && b->in.decoded_length >= 0 &&
	    b->decoded != (uint64_t)b->in.decoded_length)
		e = S3SIG_INCOMPLETE_BODY;
	if (e == S3SIG_OK)
		e = check_checksum(b);
	b->state = e == S3SIG_OK ? DONE : FAILED;
	return (e);
}
