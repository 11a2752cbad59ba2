/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h: the subcommands of the one cachalot binary, and the wiring of
 * its roles (cli_roles.c).
 */
#ifndef CACHALOT_CLI_H
#define CACHALOT_CLI_H

#include "common/cm_config.h"

/* Runs a data-path role (CM_ROLE_SERVE, _GATEWAY or _WORKER) until a
 * signal stops it: checks, builds its parts and hands them to gw_run
 * (cli_roles.c); ready as gw_run's. Returns an exit code. */
int cli_role_run(const struct cm_config *c, int role, void (*ready)(const struct cm_config *, int));

/* Prints a presigned URL for Cachalot's own endpoint; returns an exit code. */
int cli_presign(const struct cm_config *c, const char *target);

/* Replays a trace through the eviction policies; returns an exit code. */
int cli_sim(const struct cm_config *c, const char *trace);

/* Runs an operator command against the master (argv[0] the command);
 * returns an exit code. */
int cli_ctl(const struct cm_config *c, int argc, char **argv);

#endif
