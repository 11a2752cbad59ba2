/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client.c: libcurl multi on a libevent loop (see http.h).
 *
 * curl tells us which sockets to watch (sock_cb) and when to wake it
 * (timer_cb); we tell curl what happened (curl_multi_socket_action) and
 * collect finished transfers (check_done). Back-pressure both ways uses
 * curl's pause: the write callback pauses when the client cannot take more,
 * the read callback when the client has not sent more yet.
 * Threads: one loop; no locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "common/cm_log.h"
#include "http/http.h"

#define MAX_RESP_HDRS		128
#define MAX_RESP_HDR_BYTES	(64 * 1024)

struct http_client {
	unsigned		magic;
#define GW_ORIGIN_MAGIC		0x0a1b2c3d
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
};

struct http_creq {
	unsigned		magic;
#define GW_OREQ_MAGIC		0x6d0e5a17
	struct http_client	*o;
	CURL			*easy;
	struct curl_slist	*hdrs;
	const struct http_creq_ops *ops;
	void			*arg;
	char			*hbuf;		/* response headers, raw */
	size_t			hlen;
	int			status;
	int			head_done;
	int			failed_cb;	/* a callback asked to abort */
	uint64_t		start_us;
	uint64_t		ttfb_us;
	char			errbuf[CURL_ERROR_SIZE];
};

/* One per socket curl watches. */
struct sockev {
	struct event	*ev;
	int		what;
};

/* Takes the transfer out of the multi handle and frees it. */
static void
oreq_free(struct http_creq *r)
{
	CM_ASSERT(r->magic == GW_OREQ_MAGIC);
	curl_multi_remove_handle(r->o->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->hbuf);
	r->magic = 0;
	free(r);
}

static void
finish(struct http_creq *r, const char *err)
{
	const struct http_creq_ops *ops = r->ops;
	void *arg = r->arg;

	oreq_free(r);
	ops->on_done(arg, err);
}

static void
check_done(struct http_client *o)
{
	CURLMsg *m;
	int left;
	struct http_creq *r;
	char err[CURL_ERROR_SIZE + 64];

	while ((m = curl_multi_info_read(o->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		AN(r);
		CM_ASSERT(r->magic == GW_OREQ_MAGIC);
		if (m->data.result == CURLE_OK && r->head_done) {
			finish(r, NULL);
			continue;
		}
		snprintf(err, sizeof err, "%s%s%s", curl_easy_strerror(m->data.result),
		    r->errbuf[0] ? ": " : "", r->errbuf);
		if (m->data.result == CURLE_OK)
			snprintf(err, sizeof err, "no response from the origin");
		finish(r, err);
	}
}

static void
on_sock_event(evutil_socket_t fd, short kind, void *arg)
{
	struct http_client *o = arg;
	int running = 0, flags = 0;

	if (kind & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(o->multi, fd, flags, &running);
	check_done(o);
}

static void
on_timer(evutil_socket_t fd, short kind, void *arg)
{
	struct http_client *o = arg;
	int running = 0;

	(void)fd;
	(void)kind;
	curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(o);
}

static int
timer_cb(CURLM *multi, long ms, void *arg)
{
	struct http_client *o = arg;
	struct timeval tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(o->timer);
		return (0);
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(o->timer, &tv);
	return (0);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct http_client *o = arg;
	struct sockev *se = sockp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (se != NULL) {
			event_free(se->ev);
			free(se);
			curl_multi_assign(o->multi, s, NULL);
		}
		return (0);
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (se == NULL) {
		se = calloc(1, sizeof *se);
		if (se == NULL)
			return (-1);
		curl_multi_assign(o->multi, s, se);
	} else {
		event_free(se->ev);
	}
	se->what = what;
	se->ev = event_new(o->base, s, kind, on_sock_event, o);
	if (se->ev == NULL)
		return (-1);
	event_add(se->ev, NULL);
	return (0);
}

struct http_client *
http_client_new(struct event_base *base)
{
	struct http_client *o = calloc(1, sizeof *o);

	if (o == NULL)
		return (NULL);
	o->magic = GW_ORIGIN_MAGIC;
	o->base = base;
	o->multi = curl_multi_init();
	o->timer = evtimer_new(base, on_timer, o);
	if (o->multi == NULL || o->timer == NULL) {
		http_client_free(&o);
		return (NULL);
	}
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_MAXCONNECTS, 256L);
	return (o);
}

void
http_client_free(struct http_client **op)
{
	struct http_client *o = *op;

	*op = NULL;
	if (o == NULL)
		return;
	if (o->multi != NULL)
		curl_multi_cleanup(o->multi);
	if (o->timer != NULL)
		event_free(o->timer);
	o->magic = 0;
	free(o);
}

/* Splits the collected header block into slices and hands it on. */
static int
deliver_head(struct http_creq *r)
{
	struct s3sig_hdr h[MAX_RESP_HDRS];
	size_t n = 0, i = 0, e;
	char *p = r->hbuf;

	while (i < r->hlen && n < MAX_RESP_HDRS) {
		char *colon;

		for (e = i; e < r->hlen && p[e] != '\n'; e++)
			;
		colon = memchr(p + i, ':', e - i);
		if (colon != NULL) {
			struct cm_slice v = cm_slice(colon + 1, (size_t)(p + e - colon - 1));

			while (v.len > 0 && (v.p[v.len - 1] == '\r' || v.p[v.len - 1] == ' '))
				v.len--;
			h[n].name = cm_slice(p + i, (size_t)(colon - p - i));
			h[n].value = cm_slice_trim(v);
			n++;
		}
		i = e + 1;
	}
	r->head_done = 1;
	r->ttfb_us = cm_mono_us() - r->start_us;
	return (r->ops->on_head(r->arg, r->status, h, n));
}

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_creq *r = arg;
	size_t len = size * nitems;
	char *np;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		/* A status line: a new (maybe interim) response. */
		const char *sp = memchr(buf, ' ', len);

		r->status = sp != NULL ? atoi(sp + 1) : 0;
		r->hlen = 0;
		return (len);
	}
	if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
		if (r->status >= 200 && !r->head_done && deliver_head(r) != 0) {
			r->failed_cb = 1;
			return (0);
		}
		return (len);
	}
	if (r->hlen + len > MAX_RESP_HDR_BYTES)
		return (0);
	np = realloc(r->hbuf, r->hlen + len);
	if (np == NULL)
		return (0);
	r->hbuf = np;
	memcpy(r->hbuf + r->hlen, buf, len);
	r->hlen += len;
	return (len);
}

static size_t
write_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct http_creq *r = arg;
	size_t len = size * nmemb;
	int rc;

	if (!r->head_done)
		return (0);
	rc = r->ops->on_data(r->arg, buf, len);
	if (rc == HTTP_CLIENT_PAUSE)
		return (CURL_WRITEFUNC_PAUSE);
	if (rc != 0) {
		r->failed_cb = 1;
		return (0);
	}
	return (len);
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_creq *r = arg;
	ssize_t n = r->ops->on_read(r->arg, buf, size * nitems);

	if (n == HTTP_CLIENT_PAUSE)
		return (CURL_READFUNC_PAUSE);
	if (n < 0) {
		r->failed_cb = 1;
		return (CURL_READFUNC_ABORT);
	}
	return ((size_t)n);
}

struct http_creq *
http_creq_start(struct http_client *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len,
    const struct http_creq_ops *ops, void *arg)
{
	return (http_creq_start_ex(o, method, url, hdrs, nhdrs, body_len, 0, ops, arg));
}

struct http_creq *
http_creq_start_ex(struct http_client *o, const char *method, const char *url,
    const struct s3sig_hdr *hdrs, size_t nhdrs, int64_t body_len, int flags,
    const struct http_creq_ops *ops, void *arg)
{
	struct http_creq *r;
	struct curl_slist *l;
	char line[16384];
	size_t i;

	CM_ASSERT(o->magic == GW_ORIGIN_MAGIC);
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return (NULL);
	r->magic = GW_OREQ_MAGIC;
	r->o = o;
	r->ops = ops;
	r->arg = arg;
	r->start_us = cm_mono_us();
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		goto fail;
	/* Headers curl would add on its own are switched off. */
	r->hdrs = curl_slist_append(NULL, "Accept:");
	if (r->hdrs == NULL || (l = curl_slist_append(r->hdrs, "Expect:")) == NULL)
		goto fail;
	for (i = 0; i < nhdrs; i++) {
		int n = snprintf(line, sizeof line, "%.*s: %.*s", (int)hdrs[i].name.len,
		    hdrs[i].name.p, (int)hdrs[i].value.len, hdrs[i].value.p);

		if (n < 0 || (size_t)n >= sizeof line)
			goto fail;
		/* curl drops "Name:" with an empty value; "Name;" sends it empty. */
		if (hdrs[i].value.len == 0) {
			/* ...and only when nothing follows the ';' (curl takes
			 * "Name; " for something else and drops it). */
			line[hdrs[i].name.len] = ';';
			line[hdrs[i].name.len + 1] = '\0';
		}
		if ((l = curl_slist_append(r->hdrs, line)) == NULL)
			goto fail;
	}
	if (curl_easy_setopt(r->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) != CURLE_OK)
		goto fail;
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	if (flags & HTTP_CREQ_INTERNAL) {
		/* A worker: on our network, so a slow connect or a stalled
		 * transfer means it is gone; the caller asks another. */
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME, 3L);
	} else {
		curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	}
	curl_easy_setopt(r->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Bytes pass through as the origin sent them: no decoding. */
	curl_easy_setopt(r->easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(r->easy, CURLOPT_HTTP_TRANSFER_DECODING, 1L);
	curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
	if (body_len >= 0) {
		curl_easy_setopt(r->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(r->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(r->easy, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
		curl_easy_setopt(r->easy, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0 || body_len >= 0)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	if (curl_multi_add_handle(o->multi, r->easy) != CURLM_OK)
		goto fail;
	return (r);
fail:
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r);
	return (NULL);
}

void
http_creq_resume_read(struct http_creq *r)
{
	CM_ASSERT(r->magic == GW_OREQ_MAGIC);
	curl_easy_pause(r->easy, CURLPAUSE_CONT);
}

void
http_creq_resume_write(struct http_creq *r)
{
	CM_ASSERT(r->magic == GW_OREQ_MAGIC);
	curl_easy_pause(r->easy, CURLPAUSE_CONT);
}

void
http_creq_cancel(struct http_creq **rp)
{
	struct http_creq *r = *rp;

	*rp = NULL;
	if (r != NULL)
		oreq_free(r);
}

uint64_t
http_creq_ttfb_us(const struct http_creq *r)
{
	return (r->ttfb_us);
}

int
http_creq_err_refused(const char *err)
{
	const char *refused = curl_easy_strerror(CURLE_COULDNT_CONNECT);

	return (err != NULL && strncmp(err, refused, strlen(refused)) == 0);
}
