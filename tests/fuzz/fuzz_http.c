/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: the data path's request parsing (http/http_server): each input is
 * written to a real connection of an in-process server whose handler
 * answers every request, then the write side is shut; the server must
 * answer or close, never crash or hang. Sanitizers watch the server.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cm_log.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct http_server *srv;
static int port;

static void
answer(struct http_conn *c)
{
	static const struct s3sig_hdr h = { { "Content-Type", 12 }, { "text/plain", 10 } };

	http_conn_respond(c, 200, &h, 1, 2);
	(void)http_conn_write(c, "ok", 2);
	http_conn_end(c);
}

static const struct http_req_ops rops;

static int
h_request(struct http_conn *c, struct http_req *r)
{
	http_conn_set_req(c, &rops, NULL);
	if (r->content_length <= 0 && !r->chunked)
		answer(c);
	else if (r->nhdrs % 3 == 0)
		answer(c);	/* answer before the body: the core closes after */
	return (HTTP_OK);
}

static int
h_body(struct http_conn *c, const char *p, size_t len)
{
	(void)c;
	(void)p;
	(void)len;
	return (HTTP_OK);
}

static void
h_body_end(struct http_conn *c)
{
	answer(c);
}

static void h_drain(struct http_conn *c) { (void)c; }
static void h_abort(struct http_conn *c) { (void)c; }

static const struct http_req_ops rops = {
	.name = "fuzz",
	.body = h_body,
	.body_end = h_body_end,
	.drain = h_drain,
	.abort = h_abort,
};
static const struct http_server_ops ops = {
	.on_request = h_request,
	.error_doc = http_error_doc_plain,
};

static void *
run(void *arg)
{
	(void)arg;
	(void)http_server_start(srv);
	http_server_join(srv);
	return (NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct http_limits lim;
	char err[256];
	pthread_t t;

	(void)argc;
	(void)argv;
	cm_log_set_level(CM_LOG_ERROR);
	http_limits_default(&lim);
	lim.max_header_bytes = 4096;
	lim.max_url = 1024;
	lim.max_headers = 20;
	lim.header_timeout_ms = 2000;
	srv = http_server_new("127.0.0.1:0", 1, &lim, &ops, NULL, err, sizeof err);
	if (srv == NULL) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	port = http_server_port(srv);
	if (pthread_create(&t, NULL, run, NULL) != 0)
		abort();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	char buf[65536];
	int fd;
	ssize_t n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return (0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return (0);
	}
	(void)!send(fd, data, size, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	/* The server must answer or close within its timeouts. */
	while (poll(&pfd, 1, 5000) == 1) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
	}
	close(fd);
	return (0);
}
