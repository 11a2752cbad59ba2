/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_config.c: the option table and its parsers: config file, environment,
 * flags, --help (see cm_config.h). What is decided once every source is
 * read (derived defaults, a role's needs, the caches' fit) is
 * cm_config_check.c's.
 * Main thread only, at start-up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "cm_config.h"

enum opt_type {
	T_STR,		/* any non-empty string */
	T_SECRET,	/* a string never echoed back */
	T_HOSTPORT,
	T_URL,		/* http:// or https:// */
	T_SIZE,
	T_SECONDS,
	T_COUNT,
	T_ORIGIN_TYPE,
	T_LEVEL,
	T_BOOL,
	T_REGIONS,	/* comma-separated list */
	T_CRED,		/* AK:SK, repeatable */
	T_METHOD,
	T_EVICTION,	/* s3fifo or lru */
};

struct opt {
	const char	*name;
	enum opt_type	type;
	size_t		off;
	const char	*def;	/* NULL: unset, or derived (def_note) */
	const char	*def_note; /* with def NULL: the default, derived from other
				    * options once every source is read; for --help */
	int		roles;
	const char	*help;
};

#define OFF(f) offsetof(struct cm_config, f)
#define R_DATA (CM_ROLE_GATEWAY | CM_ROLE_WORKER | CM_ROLE_SERVE)

static const struct opt opts[] = {
	{ "listen", T_HOSTPORT, OFF(listen), "127.0.0.1:9000", NULL, CM_ROLE_ALL & ~CM_ROLE_CTL,
	  "address of the S3 endpoint (gateway, serve), block server (worker) or API (master)" },
	{ "admin-listen", T_HOSTPORT, OFF(admin_listen), NULL,
	  "listen's host, port + 10000 (- 10000 above 55535)", R_DATA,
	  "address of /healthz and /metrics; unset, it follows --listen (the master serves them on listen)" },
	{ "origin", T_URL, OFF(origin), NULL, NULL, R_DATA,
	  "the real S3 or OSS endpoint (serve starts a local demo origin when unset)" },
	{ "origin-type", T_ORIGIN_TYPE, OFF(origin_type), "s3", NULL, R_DATA,
	  "how to sign toward the origin: s3 (SigV4) or oss (Alibaba OSS V4)" },
	{ "origin-region", T_STR, OFF(origin_region), "us-east-1", NULL, R_DATA,
	  "region to sign origin requests for" },
	{ "origin-access-key", T_STR, OFF(origin_access_key), NULL, NULL, R_DATA,
	  "access key for the origin" },
	{ "origin-secret-key", T_SECRET, OFF(origin_secret_key), NULL, NULL, R_DATA,
	  "secret key for the origin (or CACHALOT_ORIGIN_SECRET_KEY)" },
	{ "access-key", T_STR, OFF(access_key), NULL, NULL, R_DATA | CM_ROLE_PRESIGN,
	  "access key that clients sign with (a worker of a cluster needs none)" },
	{ "secret-key", T_SECRET, OFF(secret_key), NULL, NULL, R_DATA | CM_ROLE_PRESIGN,
	  "secret key that clients sign with (or CACHALOT_SECRET_KEY)" },
	{ "credential", T_CRED, 0, NULL, NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "one more client key pair, ACCESS:SECRET; repeatable" },
	{ "region", T_REGIONS, 0, "us-east-1", NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE | CM_ROLE_PRESIGN,
	  "regions clients may sign for, comma-separated; the first is announced" },
	{ "data-dir", T_STR, OFF(data_dir), "./cachalot-data", NULL, CM_ROLE_WORKER | CM_ROLE_SERVE | CM_ROLE_MASTER,
	  "directory of the disk tier (worker) or LevelDB (master)" },
	{ "mem-cache", T_SIZE, OFF(mem_cache), "256M", NULL, CM_ROLE_WORKER | CM_ROLE_SERVE,
	  "size of the memory tier (K, M, G, T suffixes, powers of 1024)" },
	{ "disk-cache", T_SIZE, OFF(disk_cache), "1G", NULL, CM_ROLE_WORKER | CM_ROLE_SERVE,
	  "size of the disk tier" },
	{ "block-size", T_SIZE, OFF(block_size), "1M", NULL, R_DATA,
	  "size of the blocks objects are cached in (64K to 64M)" },
	{ "eviction", T_EVICTION, OFF(eviction), "s3fifo", NULL, CM_ROLE_WORKER | CM_ROLE_SERVE,
	  "how the memory tier picks what to evict: s3fifo or lru" },
	{ "readahead", T_COUNT, OFF(readahead), "16", NULL, R_DATA,
	  "blocks of a read filled from the origin at once (a cold read's parallelism)" },
	{ "freshness", T_SECONDS, OFF(freshness), "60", NULL, R_DATA,
	  "seconds a cached object is served before it is revalidated" },
	{ "master", T_URL, OFF(master), NULL, NULL, CM_ROLE_GATEWAY | CM_ROLE_WORKER | CM_ROLE_CTL,
	  "URL of the master" },
	{ "cluster-secret", T_SECRET, OFF(cluster_secret), NULL, NULL,
	  CM_ROLE_MASTER | CM_ROLE_WORKER | CM_ROLE_GATEWAY | CM_ROLE_CTL,
	  "secret every master, worker, gateway and ctl of a cluster shares (or "
	  "CACHALOT_CLUSTER_SECRET); 16 to 256 characters, required in a cluster" },
	{ "advertise", T_HOSTPORT, OFF(advertise), NULL, "listen", CM_ROLE_WORKER,
	  "address gateways reach this worker's block server at" },
	{ "worker-id", T_STR, OFF(worker_id), NULL, "advertise", CM_ROLE_WORKER,
	  "this worker's name in the ring; letters, digits, . _ - :" },
	{ "weight", T_COUNT, OFF(weight), "1", NULL, CM_ROLE_WORKER,
	  "this worker's share of blocks relative to the others (1 to 1000)" },
	{ "heartbeat", T_SECONDS, OFF(heartbeat), "1", NULL, CM_ROLE_WORKER | CM_ROLE_GATEWAY,
	  "seconds between a worker's heartbeats, and between a gateway's ring polls" },
	{ "down-after", T_SECONDS, OFF(down_after), "3", NULL, CM_ROLE_MASTER,
	  "seconds without a heartbeat after which a worker leaves the ring" },
	{ "json", T_BOOL, OFF(json), "off", NULL, CM_ROLE_CTL,
	  "ctl: print JSON instead of text" },
	{ "virtual-host-domain", T_STR, OFF(virtual_host_domain), NULL, NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "domain for virtual-hosted-style buckets (BUCKET.DOMAIN); path-style always works" },
	{ "max-connections", T_COUNT, OFF(max_connections), "4096", NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "client connections held at once; more are answered 503 SlowDown" },
	{ "header-timeout", T_SECONDS, OFF(header_timeout), "10", NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "seconds a client may take to send request headers (then 408)" },
	{ "idle-timeout", T_SECONDS, OFF(idle_timeout), "60", NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "seconds an idle keep-alive connection is kept" },
	{ "log-level", T_LEVEL, OFF(log_level), "info", NULL, CM_ROLE_ALL,
	  "error, warn, info or debug" },
	{ "access-log", T_STR, OFF(access_log), "stderr", NULL, R_DATA,
	  "where access-log lines go: off, stderr (with the other log lines) or a FILE appended to" },
	{ "sigv2", T_BOOL, OFF(sigv2), "off", NULL, CM_ROLE_GATEWAY | CM_ROLE_SERVE,
	  "accept legacy SigV2 signatures and presigned URLs (on/off)" },
	{ "expires-in", T_SECONDS, OFF(expires_in), "3600", NULL, CM_ROLE_PRESIGN,
	  "presign: seconds the URL stays valid, at most 604800" },
	{ "endpoint", T_URL, OFF(endpoint), NULL, "http://LISTEN", CM_ROLE_PRESIGN,
	  "presign: Cachalot's URL as clients reach it" },
	{ "method", T_METHOD, OFF(method), "GET", NULL, CM_ROLE_PRESIGN,
	  "presign: HTTP method the URL is for" },
	{ "policy", T_STR, OFF(policy), "s3fifo,lru", NULL, CM_ROLE_SIM,
	  "sim: eviction policies to replay, comma-separated (s3fifo, lru)" },
	{ "cache-size", T_STR, OFF(cache_size), "64M", NULL, CM_ROLE_SIM,
	  "sim: cache sizes to replay, comma-separated (K, M, G, T suffixes)" },
};

const char *
cm_config_option_name(size_t i)
{
	return (i < CM_ARRAY_LEN(opts) ? opts[i].name : NULL);
}

const char *
cm_config_option_default(size_t i)
{
	return (i < CM_ARRAY_LEN(opts) ? opts[i].def : NULL);
}

/* The keys that docs/CONFIG.md says may repeat in a file: each line adds one. */
static int
repeatable(const struct opt *o)
{
	return (o->type == T_CRED);
}

static const struct opt *
find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			return (&opts[i]);
	return (NULL);
}

int
cm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (s[0] < '0' || s[0] > '9')
		return (-1);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return (-1);
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	default: return (-1);
	}
	if (mult > 1 && (strcmp(end, "i") == 0 || strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (mult == 1 && strcmp(end, "B") == 0)
		end++;
	if (*end != '\0' || v > UINT64_MAX / mult)
		return (-1);
	*out = v * mult;
	return (0);
}

static int
valid_hostport(const char *s)
{
	const char *colon;
	uint64_t port;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb == s + 1 || rb[1] != ':')
			return (0);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return (0);
	}
	if (cm_parse_u64(cm_slice_str(colon + 1), 65535, &port) != 0 || port == 0)
		return (0);
	return (1);
}

static int
valid_url(const char *s)
{
	const char *h;

	if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else
		return (0);
	if (*h == '\0' || *h == '/' || *h == ':' || strpbrk(s, " \t\r\n") != NULL)
		return (0);
	return (1);
}

static int
set_str(char **field, const char *value)
{
	char *d = strdup(value);

	if (d == NULL)
		return (-1);
	free(*field);
	*field = d;
	return (0);
}

static int
bad(FILE *err, const char *where, const struct opt *o, const char *value, const char *why)
{
	if (err != NULL)
		fprintf(err, "cachalot: %s: invalid value '%s' for %s: %s\n", where,
		    o->type == T_SECRET || o->type == T_CRED ? "(hidden)" : value, o->name, why);
	return (-1);
}

static int
set_regions(struct cm_config *c, const char *value)
{
	char *copy = strdup(value), *tok, *save = NULL;
	size_t i;
	int rv = -1;

	if (copy == NULL)
		return (-1);
	for (i = 0; i < c->nregions; i++)
		free(c->regions[i]);
	c->nregions = 0;
	for (tok = strtok_r(copy, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		if (c->nregions == CM_MAX_REGIONS || strlen(tok) > 63)
			goto out;
		c->regions[c->nregions] = strdup(tok);
		if (c->regions[c->nregions] == NULL)
			goto out;
		c->nregions++;
	}
	rv = c->nregions > 0 ? 0 : -1;
out:
	free(copy);
	return (rv);
}

int
cm_config_set(struct cm_config *c, const char *name, const char *value,
    const char *where, FILE *err)
{
	const struct opt *o = find_opt(name);
	void *field;
	uint64_t n;
	const char *colon;

	if (o == NULL) {
		if (err != NULL)
			fprintf(err, "cachalot: %s: unknown option '%s' (see cachalot --help)\n",
			    where, name);
		return (-1);
	}
	field = (char *)c + o->off;
	if (value[0] == '\0')
		return (bad(err, where, o, value, "empty"));
	switch (o->type) {
	case T_STR:
	case T_SECRET:
		if (strpbrk(value, "\r\n") != NULL)
			return (bad(err, where, o, value, "contains a line break"));
		return (set_str(field, value));
	case T_HOSTPORT:
		if (!valid_hostport(value))
			return (bad(err, where, o, value, "expected HOST:PORT with a port 1-65535"));
		return (set_str(field, value));
	case T_URL:
		if (!valid_url(value))
			return (bad(err, where, o, value, "expected http://HOST[:PORT] or https://..."));
		return (set_str(field, value));
	case T_SIZE:
		if (cm_parse_size(value, &n) != 0)
			return (bad(err, where, o, value, "expected a size such as 512M or 10G"));
		*(uint64_t *)field = n;
		return (0);
	case T_SECONDS:
		if (cm_parse_u64(cm_slice_str(value), 100ull * 365 * 86400, &n) != 0)
			return (bad(err, where, o, value, "expected a whole number of seconds"));
		*(uint64_t *)field = n;
		return (0);
	case T_COUNT:
		if (cm_parse_u64(cm_slice_str(value), 1000000, &n) != 0 || n == 0)
			return (bad(err, where, o, value, "expected a whole number from 1 to 1000000"));
		*(uint64_t *)field = n;
		return (0);
	case T_ORIGIN_TYPE:
		if (strcmp(value, "s3") != 0 && strcmp(value, "oss") != 0)
			return (bad(err, where, o, value, "expected s3 or oss"));
		return (set_str(field, value));
	case T_EVICTION:
		if (strcmp(value, "s3fifo") != 0 && strcmp(value, "lru") != 0)
			return (bad(err, where, o, value, "expected s3fifo or lru"));
		return (set_str(field, value));
	case T_LEVEL: {
		static const char *const lv[] = { "error", "warn", "info", "debug" };
		size_t i;

		for (i = 0; i < CM_ARRAY_LEN(lv); i++)
			if (strcmp(value, lv[i]) == 0) {
				*(int *)field = (int)i;
				return (0);
			}
		return (bad(err, where, o, value, "expected error, warn, info or debug"));
	}
	case T_BOOL:
		if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			*(int *)field = 1;
		else if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0 ||
		    strcmp(value, "no") == 0)
			*(int *)field = 0;
		else
			return (bad(err, where, o, value, "expected on or off"));
		return (0);
	case T_REGIONS:
		if (set_regions(c, value) != 0)
			return (bad(err, where, o, value, "expected up to 16 region names"));
		return (0);
	case T_CRED:
		colon = strchr(value, ':');
		if (colon == NULL || colon == value || colon[1] == '\0' ||
		    strpbrk(value, " \t\r\n") != NULL)
			return (bad(err, where, o, value, "expected ACCESS:SECRET"));
		if (c->ncreds == CM_MAX_CREDS)
			return (bad(err, where, o, value, "too many key pairs"));
		c->creds[c->ncreds].access_key = strndup(value, (size_t)(colon - value));
		c->creds[c->ncreds].secret_key = strdup(colon + 1);
		c->ncreds++;
		if (c->creds[c->ncreds - 1].access_key == NULL ||
		    c->creds[c->ncreds - 1].secret_key == NULL)
			return (-1);
		return (0);
	case T_METHOD:
		if (strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(value))
			return (bad(err, where, o, value, "expected an upper-case HTTP method"));
		return (set_str(field, value));
	}
	return (-1);
}

int
cm_config_init(struct cm_config *c)
{
	size_t i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < CM_ARRAY_LEN(opts); i++)
		if (opts[i].def != NULL &&
		    cm_config_set(c, opts[i].name, opts[i].def, "default", stderr) != 0)
			return (-1);
	return (0);
}

void
cm_config_free(struct cm_config *c)
{
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(opts); i++) {
		char **f = (char **)((char *)c + opts[i].off);

		switch (opts[i].type) {
		case T_STR: case T_SECRET: case T_HOSTPORT: case T_URL:
		case T_ORIGIN_TYPE: case T_METHOD: case T_EVICTION:
			free(*f);
			*f = NULL;
			break;
		default:
			break;
		}
	}
	for (i = 0; i < c->ncreds; i++) {
		free(c->creds[i].access_key);
		free(c->creds[i].secret_key);
	}
	for (i = 0; i < c->nregions; i++)
		free(c->regions[i]);
	memset(c, 0, sizeof *c);
}

int
cm_config_load_text(struct cm_config *c, const char *text, size_t len,
    const char *name, FILE *err)
{
	char line[4096], where[512], *k, *v, *e;
	size_t pos = 0, ll, lineno = 0;
	size_t seen[CM_ARRAY_LEN(opts)];	/* line of each key's first use, 0: none */
	const struct opt *o;

	memset(seen, 0, sizeof seen);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		ll = nl != NULL ? (size_t)(nl - text - pos) : len - pos;
		lineno++;
		snprintf(where, sizeof where, "%s:%zu", name, lineno);
		if (ll >= sizeof line) {
			if (err != NULL)
				fprintf(err, "cachalot: %s: line too long\n", where);
			return (-1);
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + 1;
		if (memchr(line, '\0', ll) != NULL) {
			if (err != NULL)
				fprintf(err, "cachalot: %s: NUL byte\n", where);
			return (-1);
		}
		k = line + strspn(line, " \t\r");
		if (*k == '#' || *k == '\0')
			continue;
		v = strchr(k, '=');
		if (v == NULL) {
			if (err != NULL)
				fprintf(err, "cachalot: %s: expected 'name = value'\n", where);
			return (-1);
		}
		for (e = v; e > k && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		v++;
		v += strspn(v, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		*e = '\0';
		/* A second line for a key would silently win over the first:
		 * refused, naming both, unless the key adds one per line. */
		o = find_opt(k);
		if (o != NULL && !repeatable(o)) {
			size_t *first = &seen[o - opts];

			if (*first != 0) {
				if (err != NULL)
					fprintf(err, "cachalot: %s: '%s' repeats line %zu\n", where,
					    o->name, *first);
				return (-1);
			}
			*first = lineno;
		}
		if (cm_config_set(c, k, v, where, err) != 0)
			return (-1);
	}
	return (0);
}

int
cm_config_load_file(struct cm_config *c, const char *path, FILE *err)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long n;
	int rv = -1;

	if (f == NULL) {
		if (err != NULL)
			fprintf(err, "cachalot: --config: cannot open '%s': %s\n", path, strerror(errno));
		return (-1);
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1 << 20) ||
	    fseek(f, 0, SEEK_SET) != 0) {
		if (err != NULL)
			fprintf(err, "cachalot: --config: '%s' unreadable or over 1 MiB\n", path);
		goto out;
	}
	text = malloc((size_t)n + 1);
	if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n)
		goto out;
	rv = cm_config_load_text(c, text, (size_t)n, path, err);
out:
	free(text);
	(void)fclose(f);
	return (rv);
}

int
cm_config_load_env(struct cm_config *c, FILE *err)
{
	const char *v;

	v = getenv("CACHALOT_SECRET_KEY");
	if (v != NULL && cm_config_set(c, "secret-key", v, "CACHALOT_SECRET_KEY", err) != 0)
		return (-1);
	v = getenv("CACHALOT_CLUSTER_SECRET");
	if (v != NULL && cm_config_set(c, "cluster-secret", v, "CACHALOT_CLUSTER_SECRET", err) != 0)
		return (-1);
	v = getenv("CACHALOT_ORIGIN_SECRET_KEY");
	if (v != NULL &&
	    cm_config_set(c, "origin-secret-key", v, "CACHALOT_ORIGIN_SECRET_KEY", err) != 0)
		return (-1);
	return (0);
}

/* Splits "--name=value" or "--name value"; returns argv index consumed. */
static int
flag_at(int argc, char **argv, int i, char *name, size_t namemax, const char **value)
{
	const char *a = argv[i] + 2, *eq = strchr(a, '=');
	size_t n = eq != NULL ? (size_t)(eq - a) : strlen(a);

	if (n >= namemax)
		return (-1);
	memcpy(name, a, n);
	name[n] = '\0';
	if (eq != NULL) {
		*value = eq + 1;
		return (i);
	}
	if (i + 1 >= argc)
		return (-1);
	*value = argv[i + 1];
	return (i + 1);
}

int
cm_config_from_args(struct cm_config *c, int role, int argc, char **argv,
    int *help, FILE *err)
{
	char name[64], where[80];
	const char *value;
	int i, j;

	*help = 0;
	if (cm_config_init(c) != 0)
		return (-1);
	/* First --config, so that flags override the file wherever they are. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			*help = 1;
			return (0);
		}
		if (strncmp(argv[i], "--config", 8) != 0 ||
		    (argv[i][8] != '\0' && argv[i][8] != '='))
			continue;
		j = flag_at(argc, argv, i, name, sizeof name, &value);
		if (j < 0) {
			if (err != NULL)
				fprintf(err, "cachalot: --config needs a FILE\n");
			return (-1);
		}
		if (cm_config_load_file(c, value, err) != 0)
			return (-1);
		i = j;
	}
	if (cm_config_load_env(c, err) != 0)
		return (-1);
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			if (err != NULL)
				fprintf(err, "cachalot: unexpected argument '%s'\n", argv[i]);
			return (-1);
		}
		j = flag_at(argc, argv, i, name, sizeof name, &value);
		if (j < 0) {
			if (err != NULL)
				fprintf(err, "cachalot: %s needs a value\n", argv[i]);
			return (-1);
		}
		snprintf(where, sizeof where, "--%s", name);
		if (strcmp(name, "config") != 0 && cm_config_set(c, name, value, where, err) != 0)
			return (-1);
		i = j;
	}
	if ((c->access_key == NULL) != (c->secret_key == NULL)) {
		if (err != NULL)
			fprintf(err, "cachalot: --access-key and --secret-key go together\n");
		return (-1);
	}
	if ((c->origin_access_key == NULL) != (c->origin_secret_key == NULL)) {
		if (err != NULL)
			fprintf(err, "cachalot: --origin-access-key and --origin-secret-key go together\n");
		return (-1);
	}
	if (cm_config_resolve(c) != 0) {
		if (err != NULL)
			fprintf(err, "cachalot: cannot derive the defaults of admin-listen from "
			    "listen '%s'\n", c->listen != NULL ? c->listen : "");
		return (-1);
	}
	(void)role;
	return (0);
}


void
cm_config_usage(FILE *out, int role)
{
	size_t i;
	char flag[64];

	fprintf(out, "Options (each also a config-file key, 'name = value'):\n");
	fprintf(out, "  --config FILE                read options from FILE first\n");
	for (i = 0; i < CM_ARRAY_LEN(opts); i++) {
		if (!(opts[i].roles & role))
			continue;
		snprintf(flag, sizeof flag, "--%s %s", opts[i].name,
		    opts[i].type == T_HOSTPORT ? "HOST:PORT" : opts[i].type == T_URL ? "URL" :
		    opts[i].type == T_SIZE ? "SIZE" : opts[i].type == T_SECONDS ? "SECONDS" :
		    opts[i].type == T_COUNT ? "N" :
		    opts[i].type == T_CRED ? "AK:SK" : "VALUE");
		fprintf(out, "  %-28s %s", flag, opts[i].help);
		if (opts[i].type == T_SECRET)
			fprintf(out, " (no default)\n");
		else
			fprintf(out, " (default: %s)\n", opts[i].def != NULL ? opts[i].def :
			    opts[i].def_note != NULL ? opts[i].def_note : "none");
	}
	fprintf(out, "  --help                       this text\n");
}
