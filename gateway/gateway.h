/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway.h: the S3 gateway role, as the rest of Cachalot sees it.
 *
 * gw_run starts the data path (gw_http) with one event loop per core, the
 * operations endpoints on admin-listen (libmicrohttpd), verifies every
 * client request with s3sig and passes it to the origin re-signed with the
 * origin's credentials. It returns when SIGINT or SIGTERM arrives.
 */
#ifndef CACHALOT_GATEWAY_H
#define CACHALOT_GATEWAY_H

#include "common/cm_config.h"

/* Runs the gateway until a signal stops it; returns a process exit code.
 * ready, if not NULL, is called once everything listens (serve prints the
 * endpoint there). with_cache: GET and HEAD are answered from an in-process
 * block cache of mem-cache bytes (the serve role). */
int gw_run(const struct cm_config *c, void (*ready)(const struct cm_config *, int port),
    int with_cache);

#endif
