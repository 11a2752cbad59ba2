/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check_config.c: the configuration: defaults, file, environment and flags
 * in that order of precedence; bad values refused with a message naming the
 * option and the value; docs/CONFIG.md and cachalot.conf.example in step
 * with the option table.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Tests that fail when the docs drift: every option is documented. */
START_TEST(docs_cover_every_option)
{
	size_t i, len;
	char *doc = testreq_slurp(SRCDIR "/docs/CONFIG.md", &len);
	char *ex = testreq_slurp(SRCDIR "/cachalot.conf.example", &len);
	const char *name;
	char pat[80];

	ck_assert_ptr_nonnull(doc);
	ck_assert_ptr_nonnull(ex);
	for (i = 0; (name = cm_config_option_name(i)) != NULL; i++) {
		snprintf(pat, sizeof pat, "`%s`", name);
		ck_assert_msg(strstr(doc, pat) != NULL, "docs/CONFIG.md does not document %s", name);
		snprintf(pat, sizeof pat, "%s =", name);
		ck_assert_msg(strstr(ex, pat) != NULL, "cachalot.conf.example lacks %s", name);
	}
	free(doc);
	free(ex);
}
END_TEST

START_TEST(example_file_parses)
{
	struct cm_config c;
	FILE *f = fmemopen(msg, sizeof msg - 1, "w");

	ck_assert_int_eq(cm_config_init(&c), 0);
	ck_assert_msg(cm_config_load_file(&c, SRCDIR "/cachalot.conf.example", f) == 0, "%s", msg);
	fclose(f);
	cm_config_free(&c);
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
		docs_cover_every_option,
		example_file_parses,
	};

	return (testreq_run("config", tests, sizeof tests / sizeof tests[0], 0, 1));
}
