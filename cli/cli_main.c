/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_main.c: `cachalot ROLE [flags]`. Parses the configuration for the
 * role (so that a bad flag is reported the same way by every role) and
 * starts it. Roles that are not built yet say so and exit non-zero.
 * Main thread.
 */
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/cm_config.h"
#include "cli/cli.h"
#include "cluster/cluster.h"

#define EXIT_USAGE	2
#define EXIT_NOT_BUILT	3

static const struct role {
	const char	*name;
	int		bit;
	const char	*what;
	const char	*not_built;	/* NULL when it works */
} roles[] = {
	{ "serve", CM_ROLE_SERVE, "the gateway with an in-process block cache (single machine)",
	  NULL },
	{ "gateway", CM_ROLE_GATEWAY, "the S3 front end: verifies clients, routes reads, passes writes",
	  NULL },
	{ "worker", CM_ROLE_WORKER, "a cache node: memory and disk tiers, one origin fetch per block",
	  NULL },
	{ "master", CM_ROLE_MASTER, "keeps the ring and statistics in LevelDB", NULL },
	{ "ctl", CM_ROLE_CTL, "operator commands against the master: status, workers, ring, stats "
	  "[BUCKET], drain WORKER, undrain WORKER, purge BUCKET[/PREFIX]", NULL },
	{ "presign", CM_ROLE_PRESIGN, "print a presigned URL for s3://BUCKET/KEY on this endpoint",
	  NULL },
	{ "sim", CM_ROLE_SIM, "replay a cache trace (libCacheSim oracleGeneral or CSV) through the "
	  "eviction policies", NULL },
};

/* serve tells a newcomer what to type next. */
static void
cli_serve_ready(const struct cm_config *c, int port)
{
	const char *host = c->listen;
	const char *colon = strrchr(host, ':');
	int hl = colon != NULL ? (int)(colon - host) : (int)strlen(host);

	if (hl == 7 && strncmp(host, "0.0.0.0", 7) == 0) {
		host = "127.0.0.1";
		hl = 9;
	}
	printf("Cachalot is serving S3 on http://%.*s:%d (origin %s)\n", hl, host, port, c->origin);
	/* The secret is never echoed, so the example takes the key pair from
	 * the client's environment or profile: it works as printed. */
	if (c->access_key != NULL)
		printf("Credentials: access key %s, region %s. With that key pair in the AWS "
		    "environment or profile:\n"
		    "  aws --endpoint-url http://%.*s:%d s3 ls\n",
		    c->access_key, c->regions[0], hl, host, port);
	printf("Health and metrics: http://%s/healthz and /metrics\n", c->admin_listen);
	fflush(stdout);
}

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: cachalot ROLE [--config FILE] [flags]\n"
	    "Cachalot: an S3-compatible caching gateway.\n\nRoles:\n");
	for (i = 0; i < CM_ARRAY_LEN(roles); i++)
		fprintf(out, "  %-8s %s%s\n", roles[i].name, roles[i].what,
		    roles[i].not_built != NULL ? " [not built yet]" : "");
	fprintf(out, "\n'cachalot ROLE --help' lists the flags a role uses.\n\n");
	cm_config_usage(out, CM_ROLE_ALL);
}

int
main(int argc, char **argv)
{
	const struct role *r = NULL;
	struct cm_config c;
	const char *target = NULL;
	char *words[8];
	size_t nwords = 0;
	int help = 0, rv = EXIT_USAGE, i;
	size_t k;

	if (argc < 2) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return (0);
	}
	for (k = 0; k < CM_ARRAY_LEN(roles); k++)
		if (strcmp(argv[1], roles[k].name) == 0)
			r = &roles[k];
	if (r == NULL) {
		fprintf(stderr, "cachalot: unknown role '%s'\n", argv[1]);
		usage(stderr);
		return (EXIT_USAGE);
	}
	/* presign takes one positional argument, s3://BUCKET/KEY; sim a trace
	 * file (the last argument that is not a flag's value). */
	if (r->bit == CM_ROLE_SIM && argc > 2 && strncmp(argv[argc - 1], "--", 2) != 0 &&
	    (argc < 4 || strncmp(argv[argc - 2], "--", 2) != 0 || strchr(argv[argc - 2], '=') != NULL)) {
		target = argv[argc - 1];
		argc--;
	}
	if (r->bit == CM_ROLE_PRESIGN) {
		for (i = 2; i < argc; i++)
			if (strncmp(argv[i], "s3://", 5) == 0) {
				target = argv[i];
				memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv);
				argc--;
				break;
			}
	}
	/* ctl: the words that are not flags (or their values) are the
	 * command; a bare --json means --json=on. */
	if (r->bit == CM_ROLE_CTL) {
		int w = 2;

		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0) {
				argv[w++] = (char *)"--json=on";
			} else if (strncmp(argv[i], "--", 2) == 0) {
				argv[w++] = argv[i];
				if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--help") != 0 &&
				    i + 1 < argc)
					argv[w++] = argv[++i];
			} else if (nwords < CM_ARRAY_LEN(words)) {
				words[nwords++] = argv[i];
			}
		}
		argc = w;
	}
	if (cm_config_from_args(&c, r->bit, argc - 1, argv + 1, &help, stderr) != 0)
		goto out;
	if (help) {
		printf("usage: cachalot %s [--config FILE] [flags]%s\n%s.\n\n", r->name,
		    r->bit == CM_ROLE_PRESIGN ? " s3://BUCKET/KEY" : r->bit == CM_ROLE_SIM ? " TRACE" : "",
		    r->what);
		cm_config_usage(stdout, r->bit);
		rv = 0;
		goto out;
	}
	if (r->not_built != NULL) {
		fprintf(stderr, "cachalot %s: not built yet (%s); the configuration is valid\n",
		    r->name, r->not_built);
		rv = EXIT_NOT_BUILT;
		goto out;
	}
	if (r->bit == CM_ROLE_SERVE || r->bit == CM_ROLE_GATEWAY || r->bit == CM_ROLE_WORKER) {
		rv = cli_role_run(&c, r->bit, r->bit == CM_ROLE_SERVE ? cli_serve_ready : NULL);
		goto out;
	}
	if (r->bit == CM_ROLE_MASTER) {
		rv = master_run(&c);
		goto out;
	}
	if (r->bit == CM_ROLE_CTL) {
		rv = cli_ctl(&c, (int)nwords, words);
		goto out;
	}
	if (r->bit == CM_ROLE_SIM) {
		if (target == NULL) {
			fprintf(stderr, "cachalot sim: give a trace file (oracleGeneral or CSV)\n");
			goto out;
		}
		rv = cli_sim(&c, target);
		goto out;
	}
	if (target == NULL) {
		fprintf(stderr, "cachalot presign: give the object as s3://BUCKET/KEY\n");
		goto out;
	}
	rv = cli_presign(&c, target);
out:
	cm_config_free(&c);
	return (rv);
}
