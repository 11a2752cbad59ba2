/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_err.c: the gateway's S3 errors (the table in gw_err_tbl.h) and the
 * one writer of S3 error documents. Everything the gateway answers as an
 * <Error> of its own goes through gw_err_xml: the cached path (gw_cache.c),
 * the pass-through (gw_s3.c) and the HTTP core (http_server.c). What it echoes
 * from a request (the resource, a Range, a region) is escaped here, once.
 *
 * Pure functions: any thread.
 */
#include <string.h>

#include "gateway/gw_err.h"

static const struct {
	int		status;
	const char	*code;
	const char	*msg;
} tbl[] = {
#define GW_ERR(name, status, code, msg)	{ status, code, msg },
#include "gateway/gw_err_tbl.h"
#undef GW_ERR
};

int
gw_err_status(enum gw_err e)
{
	CM_ASSERT((size_t)e < CM_ARRAY_LEN(tbl));
	return (tbl[e].status);
}

const char *
gw_err_code(enum gw_err e)
{
	CM_ASSERT((size_t)e < CM_ARRAY_LEN(tbl));
	return (tbl[e].code);
}

const char *
gw_err_message(enum gw_err e)
{
	CM_ASSERT((size_t)e < CM_ARRAY_LEN(tbl));
	return (tbl[e].msg);
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes) whose
 * code point is an XML 1.0 Char, or 0. Overlong forms, surrogates, code
 * points past U+10FFFF and U+FFFE/U+FFFF are not.
 */
static size_t
xml_char(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] < 0x80)
		return (p[0] >= 0x20 || p[0] == '\t' || p[0] == '\n' || p[0] == '\r' ? 1 : 0);
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return (0);
	}
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return (0);		/* overlong, or past Unicode */
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return (0);
	return (len);
}

int
gw_xml_escape(struct cm_buf *b, struct cm_slice s)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t i = 0, n;
	int rc = 0;

	while (i < s.len && rc == 0) {
		switch (p[i]) {
		case '&': rc = cm_buf_adds(b, "&amp;"); n = 1; break;
		case '<': rc = cm_buf_adds(b, "&lt;"); n = 1; break;
		case '>': rc = cm_buf_adds(b, "&gt;"); n = 1; break;
		case '"': rc = cm_buf_adds(b, "&quot;"); n = 1; break;
		case '\'': rc = cm_buf_adds(b, "&apos;"); n = 1; break;
		/* Kept as character references: a parser would fold them. */
		case '\r': rc = cm_buf_adds(b, "&#13;"); n = 1; break;
		case '\n': rc = cm_buf_adds(b, "&#10;"); n = 1; break;
		default:
			n = xml_char(p + i, s.len - i);
			if (n > 0) {
				rc = cm_buf_add(b, p + i, n);
			} else {
				rc = cm_buf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
				n = 1;
			}
		}
		i += n;
	}
	return (rc);
}

static int
element(struct cm_buf *b, const char *name, struct cm_slice v)
{
	if (cm_buf_addf(b, "<%s>", name) != 0 || gw_xml_escape(b, v) != 0 ||
	    cm_buf_addf(b, "</%s>", name) != 0)
		return (-1);
	return (0);
}

int
gw_err_xml(struct cm_buf *b, struct cm_slice code, struct cm_slice msg,
    const struct gw_err_field *fields, size_t nfields, struct cm_slice resource,
    struct cm_slice request_id)
{
	size_t i;
	int rv = -1;

	if (cm_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>") != 0 ||
	    element(b, "Code", code) != 0 || element(b, "Message", msg) != 0)
		goto out;
	for (i = 0; i < nfields; i++)
		if (element(b, fields[i].name, fields[i].value) != 0)
			goto out;
	if (resource.len > 0 && element(b, "Resource", resource) != 0)
		goto out;
	if (element(b, "RequestId", request_id) != 0 || cm_buf_adds(b, "</Error>") != 0)
		goto out;
	rv = 0;
out:
	return (rv);
}

/* The errors the HTTP core answers itself, written as the gateway's S3
 * documents (http_server_ops.error_doc). */
const char *
gw_err_http_doc(enum http_err he, const char *msg, const char *req_id, struct cm_buf *body)
{
	enum gw_err e;

	switch (he) {
	case HTTP_E_BAD_REQUEST:	e = GW_E_BAD_REQUEST; break;
	case HTTP_E_TIMEOUT:		e = GW_E_TIMEOUT; break;
	case HTTP_E_URI_TOO_LONG:	e = GW_E_URI_TOO_LONG; break;
	case HTTP_E_HEADERS_TOO_LARGE:	e = GW_E_HEADERS_TOO_LARGE; break;
	case HTTP_E_BUSY:		e = GW_E_SLOW_DOWN; break;
	default:			e = GW_E_INTERNAL; break;
	}
	/* The statuses agree (400, 408, 414, 431, 503): check_gateway checks
	 * it, so that this file needs nothing of http/ but its enum. */
	if (msg == NULL)
		msg = gw_err_message(e);
	if (gw_err_xml(body, cm_slice_str(gw_err_code(e)), cm_slice_str(msg), NULL, 0,
	    cm_slice("", 0), cm_slice_str(req_id)) != 0)
		cm_buf_reset(body);
	return ("application/xml");
}
