/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master_main.c: `cachalot master`: the wiring of the model
 * (master_model.c), its LevelDB store (master_store.c) and the HTTP API
 * (master_routes.c, over http/http_admin.c), and the sweeper that marks
 * silent workers down.
 *
 * A worker silent for down-after seconds is marked down and leaves the
 * ring (the epoch goes up); its next heartbeat brings it back (and the
 * epoch up again). Restarted, the master comes back with the same workers,
 * epoch and statistics, and gives every worker down-after seconds to be
 * heard from before it changes the ring.
 *
 * Threads: the main thread (start-up, then sigwait for SIGINT/SIGTERM),
 * the admin thread (http_admin.c: every request), the sweeper (every
 * 200 ms). Lock: the model's mutex, which the sweeper holds while it
 * sweeps and waits on m->cv (signalled to stop).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cluster/clu_priv.h"
#include "common/cm_config.h"
#include "common/cm_log.h"
#include "common/cm_net.h"
#include "http/http.h"

static void *
sweeper(void *arg)
{
	struct master *m = arg;
	struct timespec ts;

	pthread_mutex_lock(&m->mtx);
	while (!m->stop) {
		master_sweep_locked(m, cm_mono_ms());
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&m->cv, &m->mtx, &ts);
	}
	pthread_mutex_unlock(&m->mtx);
	return (NULL);
}

/* The master takes an IPv4 HOST:PORT (checked first: tests/cli/run.sh). */
static int
parse_listen(const char *hostport, struct sockaddr_in *sin)
{
	const char *colon = strrchr(hostport, ':');
	char host[64];

	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof host)
		return (-1);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return (inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1);
}

int
master_run(const struct cm_config *c)
{
	struct master m;
	struct master_store *store = NULL;
	struct http_admin *d = NULL;
	struct sockaddr_in sin;
	pthread_t sw;
	sigset_t stop;
	struct clu_auth_key key;
	char path[4200], err[4400];
	int rv = 1, sig = 0, have_sweeper = 0, have_model = 0;

	cm_log_set_level(c->log_level);
	if (parse_listen(c->listen, &sin) != 0) {
		fprintf(stderr, "cachalot master: --listen '%s': expected IPv4:PORT\n", c->listen);
		return (2);
	}
	/* Every request that changes state is signed with the cluster secret
	 * (master_routes.c): no secret, no master. */
	if (clu_auth_key_init(&key, c->cluster_secret, err, sizeof err) != 0) {
		fprintf(stderr, "cachalot master: %s\n", err);
		return (2);
	}
	if (cm_listen_check(c->listen, path, sizeof path) != 0) {
		fprintf(stderr, "cachalot master: %s (choose another with --listen HOST:PORT)\n", path);
		clu_auth_key_fini(&key);
		return (2);
	}
	snprintf(path, sizeof path, "%s/master", c->data_dir);
	if (cm_mkdir_p(path) != 0) {
		fprintf(stderr, "cachalot master: cannot create %s\n", path);
		goto out;
	}
	store = master_store_open(path, err, sizeof err);
	if (store == NULL) {
		fprintf(stderr, "cachalot master: %s\n", err);
		goto out;
	}
	if (master_model_init(&m, c->down_after * 1000, &master_store_ops, store) != 0) {
		fprintf(stderr, "cachalot master: out of memory\n");
		goto out;
	}
	have_model = 1;
	m.key = key;
	m.seen = clu_auth_seen_new();
	if (m.seen == NULL) {
		fprintf(stderr, "cachalot master: out of memory\n");
		goto out;
	}
	if (master_store_load(store, &m) != 0) {
		fprintf(stderr, "cachalot master: cannot read LevelDB at %s\n", path);
		goto out;
	}
	CM_LOGI("master: state from %s: epoch %llu, %zu workers, %zu buckets", path,
	    (unsigned long long)m.epoch, m.nw, m.nb);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = master_routes_start(&m, c->listen, err, sizeof err);
	if (d == NULL) {
		fprintf(stderr, "cachalot master: %s (choose another with --listen HOST:PORT)\n",
		    err);
		rv = 2;
		goto out;
	}
	if (pthread_create(&sw, NULL, sweeper, &m) != 0) {
		fprintf(stderr, "cachalot master: cannot start the sweeper thread\n");
		goto out;
	}
	have_sweeper = 1;
	CM_LOGI("master listening on %s, workers down after %llu s", c->listen,
	    (unsigned long long)c->down_after);
	(void)sigwait(&stop, &sig);
	CM_LOGI("master stopping (signal %d)", sig);
	rv = 0;
out:
	http_admin_stop(&d);
	if (have_sweeper) {
		pthread_mutex_lock(&m.mtx);
		m.stop = 1;
		pthread_cond_signal(&m.cv);
		pthread_mutex_unlock(&m.mtx);
		(void)pthread_join(sw, NULL);
	}
	if (have_model) {
		clu_auth_seen_free(&m.seen);
		free(m.refused_peer);
		clu_auth_key_fini(&m.key);
		master_model_fini(&m);
	}
	clu_auth_key_fini(&key);
	master_store_close(&store);
	return (rv);
}
