/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_config.h: Cachalot's configuration: one table of options drives the
 * config file parser, the command-line flags, the environment, --help and
 * the check that docs/CONFIG.md documents every option.
 *
 * Precedence, lowest first: built-in default, config file, environment
 * (secrets only), command-line flag; then the defaults that derive from
 * other options (admin-listen from listen) are resolved. A bad value stops
 * the program with a message naming the flag (or file and line) and the
 * value; so does a key repeated in a file (except credential).
 * cm_config.c parses; cm_config_check.c resolves and checks.
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
	char		*eviction;		/* "s3fifo" or "lru": the memory tier's */
	uint64_t	readahead;
	uint64_t	freshness;
	char		*master;
	char		*cluster_secret;
	char		*advertise;
	char		*worker_id;
	uint64_t	weight;
	uint64_t	heartbeat;
	uint64_t	down_after;
	int		json;
	char		*virtual_host_domain;
	int		log_level;
	char		*access_log;		/* "off", "stderr" or a file path */
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
/*
 * Fills in the defaults that derive from other options, once every source
 * is read (cm_config_from_args calls it): admin-listen from listen. Returns
 * 0, or -1 (out of memory, or a listen without a port).
 */
int cm_config_resolve(struct cm_config *c);
/*
 * admin-listen's default for a listen address: the same host, port + 10000
 * (port - 10000 above 55535, so that it stays a port; port 0 stays 0, an
 * ephemeral port). Writes it to out; returns 0, or -1 when listen has no
 * numeric port or out is too small.
 */
int cm_admin_listen_default(const char *listen, char *out, size_t outlen);
/*
 * Refuses caches the machine cannot hold, for the roles that hold one (serve,
 * worker; 0 for the others): mem-cache above the memory this process may use
 * (physical memory, or a cgroup memory limit of its cgroup or an ancestor),
 * disk-cache above the size of the file system under data-dir (or its nearest
 * existing parent; the size, not the free space, as the cache's own files
 * take some). Returns 0, or -1 with a message naming the flag, the value and
 * the limit in err. A limit that cannot be measured is not enforced.
 */
int cm_config_check_capacity(const struct cm_config *c, int role, char *err, size_t errlen);
/*
 * The parts of cm_config_check_capacity, for tests. cm_mem_limit: the least of
 * physical memory and the cgroup limits that hold for this process: v2
 * memory.max under cgroot and v1 memory.limit_in_bytes under cgroot/memory,
 * of the cgroups self_cgroup ("/proc/self/cgroup") names and each ancestor;
 * which says which one set it ("the physical memory", "the cgroup limit in
 * PATH"). cm_fs_size: the size of the file system holding dir, or its nearest
 * existing parent (at: the path measured). Both return 0, or -1 when nothing
 * could be measured.
 */
int cm_mem_limit(const char *cgroot, const char *self_cgroup, uint64_t *bytes,
    char *which, size_t whichlen);
int cm_fs_size(const char *dir, uint64_t *bytes, char *at, size_t atlen);
/*
 * What a data-path role (serve, gateway, worker; 0 for the others) needs
 * before it touches anything, in this order: an origin and its
 * credentials, client credentials (not a cluster's worker: it checks the
 * cluster's signature), caches that fit (cm_config_check_capacity), and
 * for a cluster's worker listening on a wildcard address, --advertise.
 * Returns 0, or -1 with the message in err (cm_config_check.c).
 */
int cm_config_check_role(const struct cm_config *c, int role, char *err, size_t errlen);
/* Prints every option that the role uses, with its default. */
void cm_config_usage(FILE *out, int role);
/* For the docs check: the i-th option's name, or NULL past the end; its
 * default as written in the table (NULL: none or derived). */
const char *cm_config_option_name(size_t i);
const char *cm_config_option_default(size_t i);

/* "256M", "10GiB", "4096" to bytes; -1 when malformed or too large. */
int cm_parse_size(const char *s, uint64_t *out);

#endif
