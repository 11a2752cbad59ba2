/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_net.c: listening addresses (see cm_net.h).
 * Any thread; no shared state.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include "common/cm_net.h"

/* Splits HOST:PORT or [HOST]:PORT; host without brackets. 0 or -1. */
static int
split(const char *hp, char *host, size_t hostmax, const char **port)
{
	const char *colon;
	size_t n;

	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');

		if (rb == NULL || (n = (size_t)(rb - hp - 1)) >= hostmax)
			return (-1);
		memcpy(host, hp + 1, n);
		colon = rb + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL || (n = (size_t)(colon - hp)) >= hostmax)
			return (-1);
		memcpy(host, hp, n);
	}
	host[n] = '\0';
	if (*colon != ':' || colon[1] == '\0')
		return (-1);
	*port = colon + 1;
	return (0);
}

int
cm_hostport_resolve(const char *hp, int port_override, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	char host[256], port[16];
	const char *p;
	struct addrinfo hints, *res = NULL;
	int rv = -1;

	if (split(hp, host, sizeof host, &p) != 0)
		return (-1);
	if (port_override >= 0)
		snprintf(port, sizeof port, "%d", port_override);
	else if (snprintf(port, sizeof port, "%s", p) >= (int)sizeof port)
		return (-1);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(strcmp(host, "*") == 0 || host[0] == '\0' ? NULL : host, port, &hints,
	    &res) != 0 || res == NULL)
		goto out;
	if (res->ai_addrlen > sizeof *ss)
		goto out;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	rv = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return (rv);
}

int
cm_listen_check(const char *hostport, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = -1, one = 1, rv = -1;

	if (cm_hostport_resolve(hostport, -1, &ss, &sl) != 0) {
		snprintf(err, errlen, "cannot listen on %s: expected HOST:PORT with a known host",
		    hostport);
		return (-1);
	}
	if ((ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port == 0) ||
	    (ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port == 0))
		return (0);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	return (rv);
}

int
cm_hostport_is_wildcard(const char *hostport)
{
	char host[256];
	const char *p;

	if (split(hostport, host, sizeof host, &p) != 0)
		return (0);
	return (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0);
}
