/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway.h: the S3 gateway role, as the rest of Cachalot sees it.
 *
 * gw_run starts the data path (http/http_server) with one event loop per core, the
 * operations endpoints on admin-listen (libmicrohttpd), verifies every
 * client request with s3sig and passes it to the origin re-signed with the
 * origin's credentials. It returns when SIGINT or SIGTERM arrives.
 */
#ifndef CACHALOT_GATEWAY_H
#define CACHALOT_GATEWAY_H

#include "common/cm_config.h"

/* Runs a data-path role until a signal stops it; returns a process exit
 * code. ready, if not NULL, is called once everything listens (serve prints
 * the endpoint there). role:
 *   CM_ROLE_SERVE    GET and HEAD from an in-process block cache
 *   CM_ROLE_GATEWAY  pass-through; with a master, reads go to the workers
 *                    that own their blocks (the ring), then the origin
 *   CM_ROLE_WORKER   the block cache for gateways (heartbeats to the
 *                    master when one is set); writes only invalidate */
int gw_run(const struct cm_config *c, void (*ready)(const struct cm_config *, int port), int role);

#endif
