/* SPDX-License-Identifier: Apache-2.0 */
/*
 * master.h: `cachalot master`. Keeps the workers (id, address, weight,
 * state, last heartbeat), the ring epoch, per-bucket statistics and purge
 * orders in LevelDB under data-dir, and serves them over HTTP
 * (libmicrohttpd) on --listen:
 *
 *   POST /v1/heartbeat   a worker: who it is, statistics since its last
 *                        heartbeat; answered with the epoch, its state and
 *                        the purges it has not seen (text, see master.c)
 *   GET  /v1/ring        the ring: workers that are up (ring.h text form)
 *   GET  /v1/status, /v1/workers, /v1/stats[?bucket=B]   (?format=json)
 *   POST /v1/drain?worker=ID, /v1/undrain?worker=ID
 *   POST /v1/purge?bucket=B[&prefix=P]
 *   GET  /  status page; /healthz; /metrics
 *
 * A worker silent for down-after seconds is marked down and leaves the
 * ring (the epoch goes up); its next heartbeat brings it back (and the
 * epoch up again). Restarted, the master comes back with the same workers,
 * epoch and statistics, and gives every worker down-after seconds to be
 * heard from before it changes the ring.
 */
#ifndef CACHALOT_MASTER_H
#define CACHALOT_MASTER_H

#include "common/cm_config.h"

/* Runs until SIGINT/SIGTERM. 0, or non-zero with a message on stderr. */
int master_run(const struct cm_config *c);

#endif
