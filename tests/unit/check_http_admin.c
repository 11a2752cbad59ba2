/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_http_admin.c: the operations endpoints' server (http/http_admin.c)
 * over a real socket: a route table is dispatched by method and path (GET
 * routes take HEAD, a method no route takes is 405, a path no route of the
 * method takes 404, a prefix route), the gate runs before any route and
 * may answer instead, it sees the request line's target as sent, a POST's
 * body reaches its handler and one past body_max drops the connection,
 * extra answer headers are sent, a taken port is refused saying why.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http/http.h"
#include "tests/unit/testreq.h"

/* What the handlers saw last (the admin thread writes, the test reads
 * after the answer came: the answer orders them). */
static char seen_target[256];
static char seen_body[256];
static char seen_arg[64];
static int gate_calls;

static void
h_hello(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	const char *a = http_admin_arg(rq, "x");

	(void)arg;
	snprintf(seen_arg, sizeof seen_arg, "%s", a != NULL ? a : "(none)");
	rs->type = "application/json";
	(void)cm_buf_adds(&rs->body, "{\"hello\":1}\n");
	(void)http_admin_header(rs, "x-extra", "yes");
}

static void
h_echo(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	struct cm_slice b = http_admin_body(rq);

	(void)arg;
	snprintf(seen_body, sizeof seen_body, "%.*s", (int)b.len, b.p != NULL ? b.p : "");
	snprintf(seen_target, sizeof seen_target, "%s", http_admin_target(rq));
	rs->status = 201;
	(void)cm_buf_add(&rs->body, b.p, b.len);
}

static void
h_files(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	(void)cm_buf_addf(&rs->body, "file %s\n", http_admin_path(rq));
}

/* Refuses any request carrying "x-refuse". */
static int
gate(void *arg, const struct http_admin_req *rq, struct http_admin_resp *rs)
{
	(void)arg;
	gate_calls++;
	if (http_admin_hdr(rq, "x-refuse").len == 0)
		return (0);
	(void)http_admin_text(rs, 401, "refused\n");
	return (1);
}

static const struct http_admin_route routes[] = {
	{ "GET", "/hello", 0, h_hello },
	{ "POST", "/echo", 0, h_echo },
	{ "GET", "/files/", HTTP_ADMIN_PREFIX, h_files },
};

static const struct http_admin_ops ops = {
	.name = "test",
	.routes = routes,
	.nroutes = 3,
	.gate = gate,
	.body_max = 64,
	.answer_max = 4096,
	.timeout_s = 5,
	.max_conns = 8,
};

/* Sends req (Connection: close) to 127.0.0.1:port and reads the whole
 * answer into out. Bytes read, or -1 when the connection failed or was
 * dropped before any answer. */
static ssize_t
ask(int port, const char *req, char *out, size_t max)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	size_t got = 0;
	ssize_t n;
	int fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq((int)write(fd, req, strlen(req)), (int)strlen(req));
	while (got + 1 < max && (n = read(fd, out + got, max - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	(void)close(fd);
	return (got > 0 ? (ssize_t)got : -1);
}

static int
status_of(const char *ans)
{
	int st = 0;

	return (sscanf(ans, "HTTP/1.%*d %d", &st) == 1 ? st : -1);
}

static const char *
body_of(const char *ans)
{
	const char *p = strstr(ans, "\r\n\r\n");

	return (p != NULL ? p + 4 : "");
}

static struct http_admin *
start(void)
{
	struct http_admin *a;
	char err[256];

	a = http_admin_start("127.0.0.1:0", &ops, NULL, err, sizeof err);
	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_int_gt(http_admin_port(a), 0);
	return (a);
}

START_TEST(routes_by_method_and_path)
{
	struct http_admin *a = start();
	int port = http_admin_port(a);
	char ans[8192];

	ck_assert_int_gt(ask(port, "GET /hello?x=a%20b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	    ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 200);
	ck_assert_str_eq(body_of(ans), "{\"hello\":1}\n");
	ck_assert_ptr_nonnull(strstr(ans, "Content-Type: application/json"));
	ck_assert_ptr_nonnull(strstr(ans, "x-extra: yes"));
	ck_assert_str_eq(seen_arg, "a b");
	/* HEAD: a GET route, no body. */
	ck_assert_int_gt(ask(port, "HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	    ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 200);
	ck_assert_str_eq(body_of(ans), "");
	/* A method no route takes: 405, before the gate. */
	gate_calls = 0;
	ck_assert_int_gt(ask(port, "PUT /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 405);
	ck_assert_str_eq(body_of(ans), "method not allowed\n");
	ck_assert_int_eq(gate_calls, 0);
	/* A method some route takes, a path none of its routes does: 404. */
	ck_assert_int_gt(ask(port, "POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 404);
	ck_assert_str_eq(body_of(ans), "not found\n");
	ck_assert_int_gt(ask(port, "GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	    ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 404);
	/* A prefix route. */
	ck_assert_int_gt(ask(port, "GET /files/a/b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	    ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 200);
	ck_assert_str_eq(body_of(ans), "file /files/a/b\n");
	ck_assert_int_gt(ask(port, "GET /files HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
	    ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 404);
	http_admin_stop(&a);
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(gate_first)
{
	struct http_admin *a = start();
	int port = http_admin_port(a);
	char ans[8192];

	gate_calls = 0;
	ck_assert_int_gt(ask(port, "GET /hello HTTP/1.1\r\nHost: t\r\nx-refuse: 1\r\n"
	    "Connection: close\r\n\r\n", ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 401);
	ck_assert_str_eq(body_of(ans), "refused\n");
	ck_assert_int_eq(gate_calls, 1);
	/* Before the route lookup: a path no route takes is the gate's too. */
	ck_assert_int_gt(ask(port, "GET /nowhere HTTP/1.1\r\nHost: t\r\nx-refuse: 1\r\n"
	    "Connection: close\r\n\r\n", ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 401);
	http_admin_stop(&a);
}
END_TEST

START_TEST(bodies_bounded)
{
	struct http_admin *a = start();
	int port = http_admin_port(a);
	char ans[8192], req[1024], big[100];

	seen_body[0] = seen_target[0] = '\0';
	ck_assert_int_gt(ask(port, "POST /echo?b=%2Fx&a=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
	    "Connection: close\r\n\r\nhello", ans, sizeof ans), 0);
	ck_assert_int_eq(status_of(ans), 201);
	ck_assert_str_eq(body_of(ans), "hello");
	ck_assert_str_eq(seen_body, "hello");
	ck_assert_str_eq(seen_target, "/echo?b=%2Fx&a=1");	/* as sent */
	/* Past body_max (64): dropped, the handler never runs. */
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	seen_body[0] = '\0';
	snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", strlen(big), big);
	ck_assert_int_eq((int)ask(port, req, ans, sizeof ans), -1);
	ck_assert_str_eq(seen_body, "");
	http_admin_stop(&a);
}
END_TEST

START_TEST(taken_port_refused)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof sin;
	struct http_admin *a;
	char hp[64], err[256], want[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(hp, sizeof hp, "127.0.0.1:%d", ntohs(sin.sin_port));
	a = http_admin_start(hp, &ops, NULL, err, sizeof err);
	ck_assert_ptr_null(a);
	snprintf(want, sizeof want, "cannot listen on %s: %s", hp, strerror(EADDRINUSE));
	ck_assert_str_eq(err, want);
	a = http_admin_start("nowhere.invalid:1", &ops, NULL, err, sizeof err);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, "cannot listen on nowhere.invalid:1: "));
	(void)close(fd);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("http_admin");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, routes_by_method_and_path);
	tcase_add_test(tc, gate_first);
	tcase_add_test(tc, bodies_bounded);
	tcase_add_test(tc, taken_port_refused);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (nf == 0 ? 0 : 1);
}
