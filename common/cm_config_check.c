/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cm_config_check.c: what is decided once every source of the
 * configuration is read (see cm_config.h): the defaults that derive from
 * other options (admin-listen from listen), what a data-path role needs
 * before it starts (an origin, credentials, an address gateways can reach
 * a worker at), and the check that its caches fit the machine (memory and
 * cgroup limits, the file system under data-dir).
 * Main thread only, at start-up; no shared state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include "common.h"
#include "cm_config.h"
#include "cm_net.h"
int
cm_admin_listen_default(const char *listen, char *out, size_t outlen)
{
	const char *colon = listen != NULL ? strrchr(listen, ':') : NULL;
	uint64_t port;
	int n;

	if (colon == NULL || cm_parse_u64(cm_slice_str(colon + 1), 65535, &port) != 0)
		return (-1);
	/* 10000 away, toward the middle of the range: 9000 -> 19000,
	 * 60000 -> 50000; every port 1-65535 maps to one. */
	if (port > 55535)
		port -= 10000;
	else if (port > 0)
		port += 10000;
	n = snprintf(out, outlen, "%.*s:%llu", (int)(colon - listen), listen,
	    (unsigned long long)port);
	return (n > 0 && (size_t)n < outlen ? 0 : -1);
}

int
cm_config_resolve(struct cm_config *c)
{
	char a[300];

	if (c->admin_listen == NULL && c->listen != NULL) {
		/* Not through cm_config_set: port 0 (ephemeral) is no value a
		 * user may give, but one a derived address may have. */
		if (cm_admin_listen_default(c->listen, a, sizeof a) != 0 ||
		    (c->admin_listen = strdup(a)) == NULL)
			return (-1);
	}
	return (0);
}

/* "64G" when exact in its unit, "15.5G (16642998272 bytes)" otherwise. */
static void
fmt_size(char *out, size_t outlen, uint64_t v)
{
	static const char units[] = "KMGT";
	int u;

	for (u = 3; u >= 0; u--) {
		uint64_t m = 1ull << (10 * (u + 1));

		if (v < m)
			continue;
		if (v % m == 0)
			snprintf(out, outlen, "%llu%c", (unsigned long long)(v / m), units[u]);
		else
			snprintf(out, outlen, "%.1f%c (%llu bytes)", (double)v / (double)m, units[u],
			    (unsigned long long)v);
		return;
	}
	snprintf(out, outlen, "%llu bytes", (unsigned long long)v);
}

/* A memory.max or memory.limit_in_bytes: 0 with *bytes set, 1 for "max"
 * or no such file. */
static int
read_mem_file(const char *path, uint64_t *bytes)
{
	FILE *f = fopen(path, "r");
	char buf[64];
	struct cm_slice s;
	int rv = 1;

	if (f == NULL)
		return (1);
	if (fgets(buf, sizeof buf, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		s = cm_slice_trim(cm_slice_str(buf));
		if (cm_parse_u64(s, UINT64_MAX, bytes) == 0)
			rv = 0;
	}
	(void)fclose(f);
	return (rv);
}

/*
 * Lowers *lim to the least limit in base + cg + "/" + file and in the same
 * file of each ancestor up to base: a parent's limit holds for its children.
 * cg ("/system.slice/x.service") is the path /proc/self/cgroup gives; inside
 * a container it may not exist under base, whose own file then counts.
 */
static void
walk_limits(const char *base, const char *cgpath, const char *file, uint64_t *lim,
    char *which, size_t whichlen)
{
	char cg[2048], path[4096], *slash;
	uint64_t v;
	int n;

	n = snprintf(cg, sizeof cg, "%s", cgpath);
	if (n < 0 || (size_t)n >= sizeof cg || strstr(cg, "/..") != NULL)
		cg[0] = '\0';
	for (;;) {
		slash = strrchr(cg, '/');
		if (slash != NULL && slash[1] == '\0') {
			*slash = '\0';		/* "/" or a trailing slash */
			continue;
		}
		n = snprintf(path, sizeof path, "%s%s/%s", base, cg, file);
		if (n > 0 && (size_t)n < sizeof path && read_mem_file(path, &v) == 0 && v < *lim) {
			*lim = v;
			snprintf(which, whichlen, "the cgroup limit in %s", path);
		}
		if (slash == NULL)
			break;
		*slash = '\0';
	}
}

int
cm_mem_limit(const char *cgroot, const char *self_cgroup, uint64_t *bytes,
    char *which, size_t whichlen)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGE_SIZE);
	char v2[2048] = "", v1[2048] = "", line[2048], base[2048];
	uint64_t lim = UINT64_MAX;
	FILE *f;

	if (pages > 0 && psize > 0 && (uint64_t)pages <= UINT64_MAX / (uint64_t)psize) {
		lim = (uint64_t)pages * (uint64_t)psize;
		snprintf(which, whichlen, "the physical memory");
	}
	/* "0::/PATH" is the cgroup v2 path; "N:CONTROLLERS:/PATH" with memory
	 * among the controllers the v1 one. */
	f = self_cgroup != NULL ? fopen(self_cgroup, "r") : NULL;
	if (f != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			char *ctl, *path, *tok, *save = NULL;

			line[strcspn(line, "\n")] = '\0';
			ctl = strchr(line, ':');
			path = ctl != NULL ? strchr(ctl + 1, ':') : NULL;
			if (path == NULL)
				continue;
			*ctl++ = '\0';
			*path++ = '\0';
			if (strcmp(line, "0") == 0 && *ctl == '\0')
				snprintf(v2, sizeof v2, "%s", path);
			for (tok = strtok_r(ctl, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, "memory") == 0)
					snprintf(v1, sizeof v1, "%s", path);
		}
		(void)fclose(f);
	}
	walk_limits(cgroot, v2, "memory.max", &lim, which, whichlen);
	if (snprintf(base, sizeof base, "%s/memory", cgroot) < (int)sizeof base)
		walk_limits(base, v1, "memory.limit_in_bytes", &lim, which, whichlen);
	if (lim == UINT64_MAX)
		return (-1);
	*bytes = lim;
	return (0);
}

int
cm_fs_size(const char *dir, uint64_t *bytes, char *at, size_t atlen)
{
	struct statvfs vfs;
	char p[4096], *slash;
	int n = snprintf(p, sizeof p, "%s", dir);

	if (n <= 0 || (size_t)n >= sizeof p)
		return (-1);
	/* The cache directory may not exist yet: measure where it will be. */
	while (statvfs(p, &vfs) != 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return (-1);
		while (n > 1 && p[n - 1] == '/')
			p[--n] = '\0';
		slash = strrchr(p, '/');
		if (slash == NULL) {
			if (strcmp(p, ".") == 0)
				return (-1);
			snprintf(p, sizeof p, ".");
		} else if (slash == p) {
			if (p[1] == '\0')
				return (-1);
			p[1] = '\0';
		} else {
			*slash = '\0';
		}
		n = (int)strlen(p);
	}
	if (vfs.f_frsize > 0 && vfs.f_blocks > UINT64_MAX / vfs.f_frsize)
		*bytes = UINT64_MAX;
	else
		*bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	snprintf(at, atlen, "%s", p);
	return (0);
}

int
cm_config_check_capacity(const struct cm_config *c, int role, char *err, size_t errlen)
{
	char v[64], l[64], which[4200];
	uint64_t lim;

	if (!(role & (CM_ROLE_SERVE | CM_ROLE_WORKER)) || c->mem_cache == 0)
		return (0);
	if (cm_mem_limit("/sys/fs/cgroup", "/proc/self/cgroup", &lim, which, sizeof which) == 0 &&
	    c->mem_cache > lim) {
		fmt_size(v, sizeof v, c->mem_cache);
		fmt_size(l, sizeof l, lim);
		snprintf(err, errlen, "--mem-cache: %s is more than %s, %s", v, which, l);
		return (-1);
	}
	/* The size, not the free space: the cache's own files take some. */
	if (c->disk_cache > 0 && c->data_dir != NULL &&
	    cm_fs_size(c->data_dir, &lim, which, sizeof which) == 0 && c->disk_cache > lim) {
		fmt_size(v, sizeof v, c->disk_cache);
		fmt_size(l, sizeof l, lim);
		snprintf(err, errlen, "--disk-cache: %s is more than the file system holding "
		    "--data-dir (measured at %s), %s", v, which, l);
		return (-1);
	}
	return (0);
}

int
cm_config_check_role(const struct cm_config *c, int role, char *err, size_t errlen)
{
	if (!(role & (CM_ROLE_SERVE | CM_ROLE_GATEWAY | CM_ROLE_WORKER)))
		return (0);
	if (c->origin == NULL) {
		snprintf(err, errlen, "no origin: set --origin URL (or origin = URL in the config)");
		return (-1);
	}
	if (c->origin_access_key == NULL) {
		snprintf(err, errlen, "no origin credentials: set --origin-access-key and "
		    "--origin-secret-key (or CACHALOT_ORIGIN_SECRET_KEY)");
		return (-1);
	}
	/* A worker of a cluster checks the cluster's signature, not clients'. */
	if (c->access_key == NULL && c->ncreds == 0 &&
	    !(role == CM_ROLE_WORKER && c->master != NULL && c->cluster_secret != NULL)) {
		snprintf(err, errlen, "no client credentials: set --access-key and --secret-key "
		    "(or CACHALOT_SECRET_KEY), or credential = AK:SK lines");
		return (-1);
	}
	/* A cache larger than the machine would fail at its first fill. */
	if (cm_config_check_capacity(c, role, err, errlen) != 0)
		return (-1);
	if (role == CM_ROLE_WORKER && c->master != NULL && c->advertise == NULL &&
	    cm_hostport_is_wildcard(c->listen)) {
		snprintf(err, errlen, "--advertise: required when --listen is a wildcard "
		    "address (%s): the address gateways reach this worker at, e.g. "
		    "--advertise 10.0.0.2:9201", c->listen);
		return (-1);
	}
	return (0);
}
