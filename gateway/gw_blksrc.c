/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gw_blksrc.c: what every block source shares (struct gw_blksrc_ops, in
 * gw_priv.h): its set-up, the default slots, and the one failover loop
 * (struct gw_try) that the metadata's HEAD (gw_meta.c) and a block's fill
 * (gw_fill.c) both run: the owners the source names, then the origin.
 *
 * Threads: gw_blksrc_init and fini on the main thread before the loops
 * start and after they stop; the rest on a read's loop. No lock: the
 * gw_blksrc is read-only once the loops run; a gw_try is its read's.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "common/cm_log.h"
#include "gateway/gw_priv.h"

void
gw_blksrc_init(struct gw_blksrc *s, const struct gw_blksrc_ops *ops, struct clu_view *view,
    struct clu_agent *agent)
{
	/* Every slot is set: callers never test for NULL. */
	AN(ops);
	AN(ops->name);
	AN(ops->meta);
	AN(ops->open);
	AN(ops->owners);
	AN(ops->failed);
	AN(ops->count);
	AN(ops->invalidate);
	AN(ops->writable);
	AN(ops->fini);
	CM_ASSERT(ops->run_max >= 1 && ops->run_max <= RUN_MAX);
	memset(s, 0, sizeof *s);
	s->magic = GW_BLKSRC_MAGIC;
	s->ops = ops;
	s->view = view;
	s->agent = agent;
}

/* ---- Default slots ---- */

size_t
gw_blksrc_def_owners(const struct gw_blksrc *s, const struct cread *x, uint64_t idx,
    struct origin_target *out, size_t max)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	(void)x;
	(void)idx;
	(void)out;
	(void)max;
	return (0);		/* the origin only */
}

void
gw_blksrc_def_failed(const struct gw_blksrc *s, const char *host, const char *err)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	(void)host;
	(void)err;
}

/* A worker's counts go to the master with its heartbeats; serve keeps
 * only its own metrics. */
void
gw_blksrc_def_count(const struct gw_blksrc *s, const struct gw_req *q)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC && q->magic == GW_REQ_MAGIC);
	if (s->agent != NULL)
		clu_agent_count(s->agent, q->bucket, q->blk_hits, q->blk_misses,
		    gw_req_served(q), q->origin_bytes);
}

void
gw_blksrc_def_fini(struct gw_blksrc *s)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	s->magic = 0;
}

/* ---- The failover loop ---- */

#define OWNERS_MAX	3	/* the key's owner and the next two on the ring */

void
gw_try_init(struct cread *x, struct gw_try *t, uint64_t idx)
{
	const struct gw_blksrc *s = &x->q.ctx->conf->src;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	memset(t, 0, sizeof *t);
	t->t = calloc(OWNERS_MAX, sizeof *t->t);
	if (t->t != NULL)
		t->n = s->ops->owners(s, x, idx, t->t, OWNERS_MAX);	/* none: the origin */
}

int
gw_try_next(struct gw_try *t, const struct origin_target **tp)
{
	*tp = NULL;
	if (t->tried < t->n)
		*tp = &t->t[t->tried];
	else if (t->tried > t->n)
		return (-1);
	t->tried++;
	t->retry = 0;
	return (0);
}

int
gw_try_owner(const struct gw_try *t)
{
	return (t->tried > 0 && t->tried <= t->n);
}

int
gw_try_head(struct gw_try *t, int status)
{
	if (status >= 500 && gw_try_owner(t)) {
		t->retry = 1;		/* that owner is in trouble: the next one */
		return (1);
	}
	return (0);
}

int
gw_try_failover(struct cread *x, struct gw_try *t, const char *err, const char *what)
{
	const struct gw_blksrc *s = &x->q.ctx->conf->src;
	const char *host;

	CM_ASSERT(x->magic == CREAD_MAGIC);
	if ((err == NULL && !t->retry) || !gw_try_owner(t))
		return (0);
	host = t->t[t->tried - 1].host;
	CM_LOGI("req=%s worker %s failed%s (%s): asking the next", x->q.req->id, host, what,
	    err != NULL ? err : "server error");
	s->ops->failed(s, host, err);
	GW_INC(&x->q.ctx->metrics, worker_failovers, 1);
	t->retry = 0;
	return (1);
}

void
gw_try_fini(struct gw_try *t)
{
	free(t->t);
	memset(t, 0, sizeof *t);
}

int
gw_blksrc_def_writable(const struct gw_blksrc *s, char *why, size_t len)
{
	CM_ASSERT(s->magic == GW_BLKSRC_MAGIC);
	(void)why;
	(void)len;
	return (1);
}
