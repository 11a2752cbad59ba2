/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_net.h: listening addresses, one parser for every role (HOST:PORT,
 * [V6]:PORT, *:PORT) and the check that no other socket holds a port
 * before a role starts serving on it.
 * Any thread; no shared state.
 */
#ifndef CACHALOT_CM_NET_H
#define CACHALOT_CM_NET_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Resolves a numeric or named HOST:PORT into *ss and *sl for a passive socket.
 * "*" or an empty host is the wildcard. port_override >= 0 replaces the port.
 * 0, or -1 when hostport is malformed or does not resolve.
 */
int cm_hostport_resolve(const char *hostport, int port_override, struct sockaddr_storage *ss,
    socklen_t *sl);

/*
 * 0 when hostport names a port that no other socket listens on, or when
 * its port is 0 (the kernel picks a free one). Otherwise -1 with
 * "cannot listen on HOSTPORT: REASON" (errno's text) in err.
 *
 * Why: our loops each bind their own listener with SO_REUSEPORT, and the
 * kernel lets any other process of the same user join such a group and
 * take a share of the connections. A bind without SO_REUSEPORT (with
 * SO_REUSEADDR, so that TIME_WAIT remnants do not count) fails while any
 * listener, ours or another's, holds the port.
 */
int cm_listen_check(const char *hostport, char *err, size_t errlen);

/* 1 when hostport's host is a wildcard (0.0.0.0, ::, * or empty). */
int cm_hostport_is_wildcard(const char *hostport);

#endif
