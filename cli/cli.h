/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h: the subcommands of the one cachalot binary.
 */
#ifndef CACHALOT_CLI_H
#define CACHALOT_CLI_H

#include "common/cm_config.h"

/* Prints a presigned URL for Cachalot's own endpoint; returns an exit code. */
int cli_presign(const struct cm_config *c, const char *target);

/* Replays a trace through the eviction policies; returns an exit code. */
int cli_sim(const struct cm_config *c, const char *trace);

/* Runs an operator command against the master (argv[0] the command);
 * returns an exit code. */
int cli_ctl(const struct cm_config *c, int argc, char **argv);

#endif
