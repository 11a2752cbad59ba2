/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_config.h: Cachalot's configuration: one table of options drives the
 * config file parser, the command-line flags, the environment, --help and
 * the check that docs/CONFIG.md documents every option.
 *
 * Precedence, lowest first: built-in default, config file, environment
 * (secrets only), command-line flag. A bad value stops the program with a
 * message naming the flag (or file and line) and the value.
 * Main thread only, at start-up.
 */
#ifndef CACHALOT_CM_CONFIG_H
#define CACHALOT_CM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CM_MAX_CREDS	16
#define CM_MAX_REGIONS	16

/* Roles, as bits: which options a role uses (for --help). */
#define CM_ROLE_GATEWAY	0x01
#define CM_ROLE_WORKER	0x02
#define CM_ROLE_MASTER	0x04
#define CM_ROLE_SERVE	0x08
#define CM_ROLE_CTL	0x10
#define CM_ROLE_PRESIGN	0x20
#define CM_ROLE_SIM	0x40
#define CM_ROLE_ALL	0x7f

enum cm_log_level { CM_LOG_ERROR, CM_LOG_WARN, CM_LOG_INFO, CM_LOG_DEBUG };

struct cm_cred {
	char	*access_key;
	char	*secret_key;
};

/* Every string is owned by the config and freed by cm_config_free. */
struct cm_config {
	char		*listen;
	char		*admin_listen;
	char		*origin;
	char		*origin_type;		/* "s3" or "oss" */
	char		*origin_region;
	char		*origin_access_key;
	char		*origin_secret_key;
	char		*access_key;
	char		*secret_key;
	struct cm_cred	creds[CM_MAX_CREDS];	/* from "credential = AK:SK" */
	size_t		ncreds;
	char		*regions[CM_MAX_REGIONS];
	size_t		nregions;
	char		*data_dir;
	uint64_t	mem_cache;
	uint64_t	disk_cache;
	uint64_t	block_size;
	uint64_t	readahead;
	uint64_t	freshness;
	char		*master;
	char		*advertise;
	char		*worker_id;
	uint64_t	weight;
	uint64_t	heartbeat;
	uint64_t	down_after;
	int		json;
	char		*virtual_host_domain;
	int		log_level;
	const char	*access_log;
	int		sigv2;
	uint64_t	max_connections;
	uint64_t	header_timeout;
	uint64_t	idle_timeout;
	/* presign */
	uint64_t	expires_in;
	char		*endpoint;
	char		*method;
	/* sim */
	char		*policy;
	char		*cache_size;
};

/* Fills defaults. Returns 0, or -1 (out of memory). */
int cm_config_init(struct cm_config *c);
void cm_config_free(struct cm_config *c);

/* Applies one option by its long name. where: "--flag" or "file:line" for
 * messages. Writes a message to err and returns -1 on a bad value. */
int cm_config_set(struct cm_config *c, const char *name, const char *value,
    const char *where, FILE *err);
/* Reads a config file ("name = value" lines, '#' comments). */
int cm_config_load_file(struct cm_config *c, const char *path, FILE *err);
/* Parses text as a config file's contents (for the fuzz target and tests). */
int cm_config_load_text(struct cm_config *c, const char *text, size_t len,
    const char *name, FILE *err);
/* CACHALOT_SECRET_KEY, CACHALOT_ORIGIN_SECRET_KEY. */
int cm_config_load_env(struct cm_config *c, FILE *err);
/*
 * The whole start-up sequence for one role: defaults, --config, environment,
 * flags (argv[0] is the role). *help is set when --help was asked for. Also
 * checks what must go together (a secret with each access key).
 */
int cm_config_from_args(struct cm_config *c, int role, int argc, char **argv,
    int *help, FILE *err);
/* Prints every option that the role uses, with its default. */
void cm_config_usage(FILE *out, int role);
/* For the docs check: the i-th option's name, or NULL past the end. */
const char *cm_config_option_name(size_t i);

/* "256M", "10GiB", "4096" to bytes; -1 when malformed or too large. */
int cm_parse_size(const char *s, uint64_t *out);

#endif
