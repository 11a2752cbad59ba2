/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config.c: the configuration: defaults, file, environment and flags
 * in that order of precedence; bad values refused with a message naming the
 * option and the value, and repeated keys naming both lines; admin-listen
 * derived from listen; caches larger than the machine refused; what a
 * data-path role needs, checked in order; docs/CONFIG.md
 * and cachalot.conf.example in step with the option table.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/common.h"
#include "common/cm_config.h"
#include "tests/unit/testreq.h"

static char msg[4096];

/* Runs cm_config_from_args, capturing its messages in msg. */
static int
from_args(struct cm_config *c, int argc, char **argv)
{
	FILE *f = fmemopen(msg, sizeof msg - 1, "w");
	int help, rv;

	memset(msg, 0, sizeof msg);
	rv = cm_config_from_args(c, CM_ROLE_SERVE, argc, argv, &help, f);
	fclose(f);
	return (rv);
}

START_TEST(defaults)
{
	struct cm_config c;
	char *argv[] = { "serve" };

	unsetenv("CACHALOT_SECRET_KEY");
	ck_assert_int_eq(from_args(&c, 1, argv), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:9000");
	ck_assert_str_eq(c.origin_type, "s3");
	ck_assert_uint_eq(c.mem_cache, 256ull << 20);
	ck_assert_uint_eq(c.disk_cache, 1ull << 30);
	ck_assert_uint_eq(c.freshness, 60);
	ck_assert_uint_eq(c.nregions, 1);
	ck_assert_str_eq(c.regions[0], "us-east-1");
	ck_assert_int_eq(c.sigv2, 0);
	ck_assert_ptr_null(c.origin);
	cm_config_free(&c);
}
END_TEST

START_TEST(file_env_flags_precedence)
{
	struct cm_config c;
	char path[] = "/tmp/cachalot-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *argv[] = { "serve", "--config", path, "--listen=0.0.0.0:7000", "--mem-cache", "2G" };

	fprintf(f, "# comment\n  listen = 127.0.0.1:8000  \nmem-cache=64M\r\n"
	    "access-key = AK1\nsecret-key = fromfile\ncredential = AK2:SK2\n"
	    "region = us-east-1, eu-west-1\nsigv2 = on\n\n");
	fclose(f);
	setenv("CACHALOT_SECRET_KEY", "fromenv", 1);
	ck_assert_int_eq(from_args(&c, 6, argv), 0);
	ck_assert_str_eq(c.listen, "0.0.0.0:7000");
	ck_assert_uint_eq(c.mem_cache, 2ull << 30);
	ck_assert_str_eq(c.access_key, "AK1");
	ck_assert_str_eq(c.secret_key, "fromenv");
	ck_assert_uint_eq(c.ncreds, 1);
	ck_assert_str_eq(c.creds[0].access_key, "AK2");
	ck_assert_str_eq(c.creds[0].secret_key, "SK2");
	ck_assert_uint_eq(c.nregions, 2);
	ck_assert_str_eq(c.regions[1], "eu-west-1");
	ck_assert_int_eq(c.sigv2, 1);
	cm_config_free(&c);
	unsetenv("CACHALOT_SECRET_KEY");
	remove(path);
}
END_TEST

static void
refused(const char *flag, const char *value, const char *want_in_msg)
{
	struct cm_config c;
	char *argv[] = { "serve", (char *)flag, (char *)value };

	ck_assert_int_eq(from_args(&c, 3, argv), -1);
	ck_assert_msg(strstr(msg, want_in_msg) != NULL, "%s %s: message '%s' lacks '%s'",
	    flag, value, msg, want_in_msg);
	cm_config_free(&c);
}

START_TEST(bad_values_name_flag_and_value)
{
	refused("--listen", "nonsense", "invalid value 'nonsense' for listen");
	refused("--listen", "127.0.0.1:0", "'127.0.0.1:0'");
	refused("--listen", "127.0.0.1:65536", "for listen");
	refused("--admin-listen", ":9000", "for admin-listen");
	refused("--origin", "ftp://x", "invalid value 'ftp://x' for origin");
	refused("--origin-type", "gcs", "invalid value 'gcs' for origin-type");
	refused("--mem-cache", "12Q", "invalid value '12Q' for mem-cache");
	refused("--mem-cache", "-1", "for mem-cache");
	refused("--disk-cache", "99999999999999999999G", "for disk-cache");
	refused("--freshness", "1.5", "invalid value '1.5' for freshness");
	refused("--log-level", "loud", "for log-level");
	refused("--sigv2", "maybe", "for sigv2");
	refused("--nosuch", "x", "unknown option 'nosuch'");
	refused("--master", "", "empty");
	/* Secrets are never echoed. */
	refused("--credential", "nocolon", "(hidden)");
}
END_TEST

START_TEST(file_errors_name_line)
{
	struct cm_config c;
	FILE *f;

	ck_assert_int_eq(cm_config_init(&c), 0);
	f = fmemopen(msg, sizeof msg - 1, "w");
	ck_assert_int_eq(cm_config_load_text(&c, "listen = 1.2.3.4:5\nbogus line\n", 30, "x.conf", f), -1);
	fclose(f);
	ck_assert_msg(strstr(msg, "x.conf:2") != NULL, "%s", msg);
	cm_config_free(&c);
}
END_TEST

START_TEST(keys_go_together)
{
	struct cm_config c;
	char *argv[] = { "serve", "--access-key", "AK" };

	unsetenv("CACHALOT_SECRET_KEY");
	ck_assert_int_eq(from_args(&c, 3, argv), -1);
	ck_assert(strstr(msg, "--access-key and --secret-key go together") != NULL);
	cm_config_free(&c);
}
END_TEST

START_TEST(sizes)
{
	uint64_t v;

	ck_assert_int_eq(cm_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(cm_parse_size("1MiB", &v), 0);
	ck_assert_uint_eq(v, 1 << 20);
	ck_assert_int_eq(cm_parse_size("10G", &v), 0);
	ck_assert_uint_eq(v, 10ull << 30);
	ck_assert_int_eq(cm_parse_size("", &v), -1);
	ck_assert_int_eq(cm_parse_size("M", &v), -1);
	ck_assert_int_eq(cm_parse_size("1MX", &v), -1);
	ck_assert_int_eq(cm_parse_size("16777216T", &v), -1);
}
END_TEST

START_TEST(repeated_key_names_both_lines)
{
	static const char text[] = "listen = 127.0.0.1:9000\n# comment\nmem-cache = 1M\n\n"
	    "  mem-cache=2M\n";
	static const char creds[] = "credential = a:b\ncredential = c:d\n";
	struct cm_config c;
	FILE *f;

	ck_assert_int_eq(cm_config_init(&c), 0);
	f = fmemopen(msg, sizeof msg - 1, "w");
	memset(msg, 0, sizeof msg);
	ck_assert_int_eq(cm_config_load_text(&c, text, sizeof text - 1, "cachalot.conf", f), -1);
	fclose(f);
	ck_assert_msg(strstr(msg, "cachalot: cachalot.conf:5: 'mem-cache' repeats line 3") != NULL,
	    "%s", msg);
	cm_config_free(&c);
	/* credential is documented as repeatable: each line adds a pair. */
	ck_assert_int_eq(cm_config_init(&c), 0);
	ck_assert_int_eq(cm_config_load_text(&c, creds, sizeof creds - 1, "x.conf", stderr), 0);
	ck_assert_uint_eq(c.ncreds, 2);
	ck_assert_str_eq(c.creds[1].access_key, "c");
	cm_config_free(&c);
}
END_TEST

START_TEST(admin_listen_derives_from_listen)
{
	static const struct { const char *listen, *admin; } v[] = {
		{ "127.0.0.1:9000", "127.0.0.1:19000" },
		{ "0.0.0.0:9201", "0.0.0.0:19201" },
		{ "[::1]:9000", "[::1]:19000" },
		{ "host.example:1", "host.example:10001" },
		{ "h:55535", "h:65535" },
		{ "h:55536", "h:45536" },
		{ "h:65535", "h:55535" },
		{ "h:0", "h:0" },
	};
	char out[64], tiny[8];
	size_t i;

	for (i = 0; i < CM_ARRAY_LEN(v); i++) {
		ck_assert_int_eq(cm_admin_listen_default(v[i].listen, out, sizeof out), 0);
		ck_assert_str_eq(out, v[i].admin);
	}
	ck_assert_int_eq(cm_admin_listen_default("noport", out, sizeof out), -1);
	ck_assert_int_eq(cm_admin_listen_default("h:x", out, sizeof out), -1);
	ck_assert_int_eq(cm_admin_listen_default("h:65536", out, sizeof out), -1);
	ck_assert_int_eq(cm_admin_listen_default("127.0.0.1:9000", tiny, sizeof tiny), -1);
}
END_TEST

/* Resolved after every source: --listen alone moves both; a set
 * admin-listen, from the file or a flag, stays. */
START_TEST(admin_listen_follows_every_source)
{
	struct cm_config c;
	char path[] = "/tmp/cachalot-cfg-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *a0[] = { "serve" };
	char *a1[] = { "serve", "--listen", "0.0.0.0:9201" };
	char *a2[] = { "serve", "--config", path };
	char *a3[] = { "serve", "--config", path, "--listen=127.0.0.1:60000" };
	char *a4[] = { "serve", "--admin-listen", "127.0.0.1:8080", "--config", path };

	fprintf(f, "listen = 127.0.0.1:7000\n");
	fclose(f);
	ck_assert_int_eq(from_args(&c, 1, a0), 0);
	ck_assert_str_eq(c.admin_listen, "127.0.0.1:19000");
	cm_config_free(&c);
	ck_assert_int_eq(from_args(&c, 3, a1), 0);
	ck_assert_str_eq(c.admin_listen, "0.0.0.0:19201");
	cm_config_free(&c);
	ck_assert_int_eq(from_args(&c, 3, a2), 0);
	ck_assert_str_eq(c.admin_listen, "127.0.0.1:17000");
	cm_config_free(&c);
	ck_assert_int_eq(from_args(&c, 4, a3), 0);
	ck_assert_str_eq(c.admin_listen, "127.0.0.1:50000");
	cm_config_free(&c);
	ck_assert_int_eq(from_args(&c, 5, a4), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:7000");
	ck_assert_str_eq(c.admin_listen, "127.0.0.1:8080");
	cm_config_free(&c);
	f = fopen(path, "w");
	fprintf(f, "listen = 127.0.0.1:7000\nadmin-listen = 127.0.0.1:7001\n");
	fclose(f);
	ck_assert_int_eq(from_args(&c, 4, a3), 0);
	ck_assert_str_eq(c.listen, "127.0.0.1:60000");
	ck_assert_str_eq(c.admin_listen, "127.0.0.1:7001");
	cm_config_free(&c);
	remove(path);
}
END_TEST

static uint64_t
phys_mem(void)
{
	return ((uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGE_SIZE));
}

/* Writes text to dir/name, making dir first. */
static void
put(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A fake /sys/fs/cgroup: the least limit on the way up counts, v1 or v2. */
START_TEST(mem_limit_reads_cgroups)
{
	char root[] = "/tmp/cachalot-cg-XXXXXX", d[512], self[600], which[600];
	uint64_t lim, phys = phys_mem(), want;

	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(self, sizeof self, "%s/self", root);
	/* No cgroup files: the physical memory. */
	ck_assert_int_eq(cm_mem_limit(root, "/nonexistent", &lim, which, sizeof which), 0);
	ck_assert_uint_eq(lim, phys);
	ck_assert_str_eq(which, "the physical memory");
	/* v2: 0::/a/b, the limit is on a. */
	put(root, "memory.max", "max\n");
	snprintf(d, sizeof d, "%s/a", root);
	put(d, "memory.max", "1048576\n");
	snprintf(d, sizeof d, "%s/a/b", root);
	put(d, "memory.max", "max\n");
	put(root, "self", "0::/a/b\n");
	ck_assert_int_eq(cm_mem_limit(root, self, &lim, which, sizeof which), 0);
	ck_assert_uint_eq(lim, 1048576);
	snprintf(d, sizeof d, "the cgroup limit in %s/a/memory.max", root);
	ck_assert_str_eq(which, d);
	/* A container: its own path is not under the mount, the root file
	 * is its limit. */
	put(root, "self", "0::/docker/0123abc\n");
	put(root, "memory.max", "2097152\n");
	ck_assert_int_eq(cm_mem_limit(root, self, &lim, which, sizeof which), 0);
	ck_assert_uint_eq(lim, 2097152);
	/* v1: the memory controller's line, among others. */
	snprintf(d, sizeof d, "%s/memory", root);
	put(d, "memory.limit_in_bytes", "9223372036854771712\n");
	snprintf(d, sizeof d, "%s/memory/x", root);
	put(d, "memory.limit_in_bytes", "524288\n");
	put(root, "self", "9:name=systemd:/\n4:cpuacct,memory:/x\n1:cpu:/\n0::/\n");
	ck_assert_int_eq(cm_mem_limit(root, self, &lim, which, sizeof which), 0);
	ck_assert_uint_eq(lim, 524288);
	ck_assert_msg(strstr(which, "/memory/x/memory.limit_in_bytes") != NULL, "%s", which);
	/* Unlimited everywhere: the physical memory again. */
	put(root, "memory.max", "max\n");
	put(d, "memory.limit_in_bytes", "9223372036854771712\n");
	ck_assert_int_eq(cm_mem_limit(root, self, &lim, which, sizeof which), 0);
	want = phys < 9223372036854771712ull ? phys : 9223372036854771712ull;
	ck_assert_uint_eq(lim, want);
	snprintf(d, sizeof d, "rm -rf '%s'", root);
	ck_assert_int_eq(system(d), 0);
}
END_TEST

START_TEST(fs_size_measures_nearest_parent)
{
	char at[256];
	uint64_t n = 0;

	ck_assert_int_eq(cm_fs_size("/tmp/cachalot-no-such/dir/below/", &n, at, sizeof at), 0);
	ck_assert_str_eq(at, "/tmp");
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(cm_fs_size("cachalot-no-such-dir", &n, at, sizeof at), 0);
	ck_assert_str_eq(at, ".");
	ck_assert_int_eq(cm_fs_size("/", &n, at, sizeof at), 0);
	ck_assert_str_eq(at, "/");
}
END_TEST

/* Run against this machine: what it holds passes, what it cannot is
 * refused naming the flag, the value and the limit. */
START_TEST(capacity_refuses_caches_the_machine_cannot_hold)
{
	struct cm_config c;
	char err[512];

	ck_assert_int_eq(cm_config_init(&c), 0);
	free(c.data_dir);
	c.data_dir = strdup("/tmp/cachalot-no-such/data");
	ck_assert_ptr_nonnull(c.data_dir);
	c.mem_cache = 1 << 20;
	c.disk_cache = 1 << 20;
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_SERVE, err, sizeof err), 0);
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_WORKER, err, sizeof err), 0);
	c.mem_cache = 1000000ull << 40;
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_SERVE, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "--mem-cache: 1000000T is more than the ") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "memory") != NULL && strstr(err, "G") != NULL, "%s", err);
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_WORKER, err, sizeof err), -1);
	/* A gateway holds no cache; the master has none. */
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_GATEWAY, err, sizeof err), 0);
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_MASTER, err, sizeof err), 0);
	c.mem_cache = 1 << 20;
	c.disk_cache = 1000000ull << 40;
	ck_assert_int_eq(cm_config_check_capacity(&c, CM_ROLE_WORKER, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "--disk-cache: 1000000T is more than the file system holding "
	    "--data-dir (measured at /tmp), ") != NULL, "%s", err);
	cm_config_free(&c);
}
END_TEST

/* What a data-path role needs before it starts, in order: an origin, its
 * credentials, client credentials (not a cluster's worker), then the
 * caches' fit, then --advertise for a cluster's worker on a wildcard. */
START_TEST(role_needs_in_order)
{
	struct cm_config c;
	char err[512];

	ck_assert_int_eq(cm_config_init(&c), 0);
	c.mem_cache = 1000000ull << 40;		/* too big: said after the rest */
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_SERVE, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "no origin: ", 11) == 0, "%s", err);
	/* Not a data-path role: nothing is asked of it. */
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_MASTER, err, sizeof err), 0);
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_CTL, err, sizeof err), 0);
	c.origin = strdup("http://127.0.0.1:1");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_GATEWAY, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "no origin credentials: ", 23) == 0, "%s", err);
	c.origin_access_key = strdup("OAK");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_WORKER, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "no client credentials: ", 23) == 0, "%s", err);
	/* A gateway holds no cache: its size is not checked. */
	c.access_key = strdup("AK");
	c.secret_key = strdup("SK");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_GATEWAY, err, sizeof err), 0);
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_SERVE, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "--mem-cache: ", 13) == 0, "%s", err);
	c.mem_cache = 1 << 20;
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_SERVE, err, sizeof err), 0);
	/* A cluster's worker checks the cluster's signature, not clients'; it
	 * needs an address gateways reach when it listens on a wildcard. */
	free(c.access_key);
	free(c.secret_key);
	c.access_key = c.secret_key = NULL;
	c.master = strdup("http://127.0.0.1:2");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_WORKER, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "no client credentials: ", 23) == 0, "%s", err);
	c.cluster_secret = strdup("0123456789abcdef0123");
	free(c.listen);
	c.listen = strdup("0.0.0.0:9201");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_WORKER, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "--advertise: required when --listen is a wildcard address "
	    "(0.0.0.0:9201)", 70) == 0, "%s", err);
	c.advertise = strdup("10.0.0.2:9201");
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_WORKER, err, sizeof err), 0);
	ck_assert_int_eq(cm_config_check_role(&c, CM_ROLE_SERVE, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "no client credentials: ", 23) == 0, "%s", err);
	cm_config_free(&c);
}
END_TEST

/* The example's option lines: "#name = value", commented out. */
struct ex_line {
	char	name[64];
	char	value[256];
	size_t	lineno;
};

/* Splits the example into its option lines; fails the test on a line that
 * is neither an option line, a "# " comment nor blank. */
static size_t
example_lines(const char *text, struct ex_line *out, size_t max)
{
	const char *p = text, *nl, *eq;
	size_t n = 0, lineno = 0, ll;

	for (; *p != '\0'; p = nl != NULL ? nl + 1 : p + ll) {
		nl = strchr(p, '\n');
		ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (ll == 0 || (ll == 1 && p[0] == '#') || strncmp(p, "# ", 2) == 0 ||
		    strncmp(p, "## ", 3) == 0)
			continue;
		ck_assert_msg(p[0] == '#' && p[1] >= 'a' && p[1] <= 'z',
		    "cachalot.conf.example:%zu: neither '# comment' nor '#name = default': %.*s",
		    lineno, (int)ll, p);
		eq = strstr(p, " = ");
		ck_assert_msg(eq != NULL && eq < p + ll && n < max,
		    "cachalot.conf.example:%zu: expected '#name = default'", lineno);
		snprintf(out[n].name, sizeof out[n].name, "%.*s", (int)(eq - p - 1), p + 1);
		snprintf(out[n].value, sizeof out[n].value, "%.*s", (int)(p + ll - eq - 3), eq + 3);
		out[n].lineno = lineno;
		n++;
	}
	return (n);
}

static int
is_option(const char *name)
{
	const char *o;
	size_t i;

	for (i = 0; (o = cm_config_option_name(i)) != NULL; i++)
		if (strcmp(o, name) == 0)
			return (1);
	return (0);
}

/* Tests that fail when the docs drift: the example holds every option once,
 * commented out at its default, and nothing else. */
START_TEST(example_lists_every_option_at_its_default)
{
	struct ex_line lines[128];
	size_t len, n, i, j, found;
	char *ex = testreq_slurp(SRCDIR "/cachalot.conf.example", &len);
	const char *name, *def;

	ck_assert_ptr_nonnull(ex);
	n = example_lines(ex, lines, CM_ARRAY_LEN(lines));
	for (j = 0; j < n; j++)
		ck_assert_msg(is_option(lines[j].name),
		    "cachalot.conf.example:%zu: '%s' is no option", lines[j].lineno, lines[j].name);
	for (i = 0; (name = cm_config_option_name(i)) != NULL; i++) {
		def = cm_config_option_default(i);
		for (found = 0, j = 0; j < n; j++) {
			if (strcmp(lines[j].name, name) != 0)
				continue;
			found++;
			if (def != NULL)
				ck_assert_msg(strcmp(lines[j].value, def) == 0,
				    "cachalot.conf.example:%zu: %s = %s, but its default is %s",
				    lines[j].lineno, name, lines[j].value, def);
		}
		ck_assert_msg(found == 1, "cachalot.conf.example lists %s %zu times", name, found);
	}
	free(ex);
}
END_TEST

/* Every option has its row in docs/CONFIG.md's table, with the table's
 * default; every row is an option. */
START_TEST(docs_table_lists_every_option)
{
	size_t len, i;
	char *doc = testreq_slurp(SRCDIR "/docs/CONFIG.md", &len);
	char *sec, *end, *row, want[300], name[64];
	const char *o, *def;
	int n;

	ck_assert_ptr_nonnull(doc);
	sec = strstr(doc, "\n## Options\n");
	ck_assert_ptr_nonnull(sec);
	end = strstr(sec + 1, "\n## ");
	if (end != NULL)
		*end = '\0';
	for (row = strstr(sec, "\n| `"); row != NULL; row = strstr(row + 1, "\n| `")) {
		n = 0;
		ck_assert_int_eq(sscanf(row, "\n| `%63[a-z0-9-]`%n", name, &n) >= 1 && n > 0, 1);
		ck_assert_msg(is_option(name), "docs/CONFIG.md: '%s' is no option", name);
	}
	for (i = 0; (o = cm_config_option_name(i)) != NULL; i++) {
		def = cm_config_option_default(i);
		snprintf(want, sizeof want, "\n| `%s` | ", o);
		row = strstr(sec, want);
		ck_assert_msg(row != NULL, "docs/CONFIG.md's table lacks %s", o);
		ck_assert_msg(strstr(row + 1, want) == NULL, "docs/CONFIG.md lists %s twice", o);
		if (def != NULL) {
			snprintf(want, sizeof want, "\n| `%s` | `%s` |", o, def);
			ck_assert_msg(strncmp(row, want, strlen(want)) == 0,
			    "docs/CONFIG.md: %s's default is not `%s`", o, def);
		}
	}
	free(doc);
}
END_TEST

/* Uncommented, the example is a valid configuration. */
START_TEST(example_parses_uncommented)
{
	struct cm_config c;
	size_t len, i, o = 0;
	char *ex = testreq_slurp(SRCDIR "/cachalot.conf.example", &len);
	char *text = malloc(len + 1);
	FILE *f;
	int rv;

	ck_assert_ptr_nonnull(ex);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < len; i++) {
		if (ex[i] == '#' && (i == 0 || ex[i - 1] == '\n') && i + 1 < len &&
		    ex[i + 1] >= 'a' && ex[i + 1] <= 'z')
			continue;
		text[o++] = ex[i];
	}
	ck_assert_int_eq(cm_config_init(&c), 0);
	f = fmemopen(msg, sizeof msg - 1, "w");
	memset(msg, 0, sizeof msg);
	rv = cm_config_load_text(&c, text, o, "cachalot.conf.example (uncommented)", f);
	fclose(f);
	ck_assert_msg(rv == 0, "%s", msg);
	ck_assert_str_eq(c.listen, "127.0.0.1:9000");
	ck_assert_str_eq(c.access_log, "stderr");
	ck_assert_ptr_nonnull(c.origin);
	cm_config_free(&c);
	free(text);
	free(ex);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
		defaults,
		file_env_flags_precedence,
		bad_values_name_flag_and_value,
		file_errors_name_line,
		keys_go_together,
		sizes,
		repeated_key_names_both_lines,
		admin_listen_derives_from_listen,
		admin_listen_follows_every_source,
		mem_limit_reads_cgroups,
		fs_size_measures_nearest_parent,
		capacity_refuses_caches_the_machine_cannot_hold,
		role_needs_in_order,
		example_lists_every_option_at_its_default,
		docs_table_lists_every_option,
		example_parses_uncommented,
	};

	return (testreq_run("config", tests, sizeof tests / sizeof tests[0], 0, 1));
}
