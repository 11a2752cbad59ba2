/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_err.h: the S3 errors the gateway writes itself (gw_err_tbl.h) and the
 * one writer of their XML bodies. Pure functions, any thread.
 */
#ifndef CACHALOT_GW_ERR_H
#define CACHALOT_GW_ERR_H

#include "common/common.h"
#include "http/http.h"

enum gw_err {
#define GW_ERR(name, status, code, msg)	GW_E_##name,
#include "gateway/gw_err_tbl.h"
#undef GW_ERR
	GW_E__MAX
};

int gw_err_status(enum gw_err e);
const char *gw_err_code(enum gw_err e);
const char *gw_err_message(enum gw_err e);

/* An element the error document carries after <Message>: <name>value</name>
 * (name is ours, a constant; value may be anything, it is escaped). */
struct gw_err_field {
	const char		*name;
	struct cm_slice		value;
};

/*
 * Appends an S3 error document to b:
 *   <?xml ...?><Error><Code/><Message/>[fields]<Resource/><RequestId/></Error>
 * Every value is escaped as XML text (markup characters as entities, bytes
 * that are not well-formed UTF-8 or not XML characters replaced), so that
 * the body is well-formed whatever the request held; an empty resource is
 * left out. 0, or -1 when b's maximum was reached (b then holds a part).
 */
int gw_err_xml(struct cm_buf *b, struct cm_slice code, struct cm_slice msg,
    const struct gw_err_field *fields, size_t nfields, struct cm_slice resource,
    struct cm_slice request_id);
/* http_server_ops.error_doc: the HTTP core's own errors as S3 documents
 * (400 BadRequest, 408 RequestTimeout, 414, 431, 503 SlowDown). */
http_error_doc_f gw_err_http_doc;
/* Appends s escaped as XML text (see gw_err_xml). 0, or -1 when b is full. */
int gw_xml_escape(struct cm_buf *b, struct cm_slice s);

#endif
