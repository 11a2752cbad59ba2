/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_forward.h: building the origin request (URL, headers, signature) for
 * S3 and OSS origins. See gw_forward.c.
 */
#ifndef CACHALOT_GW_FORWARD_H
#define CACHALOT_GW_FORWARD_H

#include <time.h>

#include "gateway/gw_priv.h"

#define GW_FWD_MAX_HDRS (HTTP_MAX_HDRS + 8)

/* One request's origin form. Owns its URL; names and values it makes live
 * in store, the rest borrow from the client's request. */
struct gw_fwd {
	struct cm_buf		url;
	struct s3sig_hdr	hdrs[GW_FWD_MAX_HDRS];
	size_t			n;
	char			store[16384];
	size_t			used;
};

void gw_fwd_init(struct gw_fwd *f);
void gw_fwd_fini(struct gw_fwd *f);
/* Toward t (NULL: the origin). rawkey: the key as the client sent it
 * (percent-encoded); content_md5: a base64 value to add, or NULL. 0, or -1
 * when something is too large. */
int gw_fwd_build(struct gw_fwd *f, const struct gw_conf *gc, const struct gw_target *t,
    const struct http_req *r,
    struct cm_slice bucket, struct cm_slice rawkey, int dechunk, const char *content_md5,
    time_t now);
/* The name a response header goes back to the client under (OSS's
 * x-oss-meta-* and x-oss-request-id as their S3 names); buf holds it. */
struct cm_slice gw_fwd_resp_name(const struct gw_conf *gc, struct cm_slice name, char *buf,
    size_t buflen);

#endif
