// SPDX-License-Identifier: MIT
/*
 * test_userd_config.c - vgpud.conf parsing (userd/config.c), and what
 * build/bin/vgpud does with a bad configuration or without the module.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/proto.h"
#include "userd/config.h"

#ifndef VGPUD_BIN
#define VGPUD_BIN "build/bin/vgpud"
#endif

static char dir[] = "/tmp/test_userd_config.XXXXXX";

/* Write @text to a file in the test directory; returns its path (static). */
static const char *conf(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int load(const char *text, struct vgpud_config *cfg, char *err, size_t errlen)
{
	return vgpud_config_load(conf("t.conf", text), cfg, err, errlen);
}

/* Loading must fail with "<path>:<line>: ..." mentioning @what. */
static void expect_error(const char *text, int line, const char *what)
{
	struct vgpud_config cfg;
	char err[320], prefix[300];

	assert_int_equal(load(text, &cfg, err, sizeof(err)), -1);
	snprintf(prefix, sizeof(prefix), "%s/t.conf:%d: ", dir, line);
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
		fail_msg("for:\n%s\ngot: \"%s\"\nwant: \"%s...%s\"", text, err, prefix, what);
}

static void test_good(void **state)
{
	struct vgpud_config cfg;
	char err[320];

	assert_int_equal(load("; vgpud configuration\n"
			      "# comments both ways\n"
			      "[daemon]\n"
			      "log_level = debug\n"
			      "\n"
			      "[vgpu0]\n"
			      "server = gpu-host.example:7171\n"
			      "gpu = 2\n"
			      "[vgpu3]\n"
			      "  server=10.0.2.2   ; the host\n"
			      "[vgpu63]\n"
			      "server = [fe80::1%eth0]:9000\n"
			      "gpu = all\n"
			      "[vgpu5]\n"
			      "server = [::1]\n",
			      &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, VGPU_LOG_DEBUG);
	assert_int_equal(cfg.ndevs, 4);
	assert_true(cfg.dev[0].present);
	assert_string_equal(cfg.dev[0].server, "gpu-host.example:7171");
	assert_string_equal(cfg.dev[0].host, "gpu-host.example");
	assert_string_equal(cfg.dev[0].port, "7171");
	assert_int_equal(cfg.dev[0].gpu, 2);
	assert_false(cfg.dev[1].present);
	assert_false(cfg.dev[2].present);
	assert_string_equal(cfg.dev[3].server, "10.0.2.2:7070");	/* default port */
	assert_int_equal(cfg.dev[3].gpu, 0);			/* default gpu */
	assert_string_equal(cfg.dev[63].server, "[fe80::1%eth0]:9000");
	assert_string_equal(cfg.dev[63].host, "fe80::1%eth0");
	assert_int_equal(cfg.dev[63].gpu, VGPU_GPU_ALL);
	assert_string_equal(cfg.dev[5].server, "[::1]:7070");
}

static void test_defaults(void **state)
{
	struct vgpud_config cfg;
	char err[320];

	assert_int_equal(load("", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, VGPU_LOG_INFO);
	assert_int_equal(cfg.ndevs, 0);
	assert_int_equal(load("[daemon]\nlog_level = error\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, VGPU_LOG_ERR);
	assert_int_equal(load("[daemon]\nlog_level = warn\n", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, VGPU_LOG_WARN);
}

static void test_unknown(void **state)
{
	expect_error("[daemon]\nlog_level = info\nloglevel = info\n", 3, "unknown key 'loglevel'");
	expect_error("[vgpu0]\nserver = a\nport = 1\n", 3, "unknown key 'port' in [vgpu0]");
	expect_error("[vgpu0]\nserver = a\n\n[gpu1]\nserver = b\n", 4, "unknown section [gpu1]");
	expect_error("[vgpu0]\nserver = a\n[extra]\n", 3, "unknown section [extra]");	/* empty */
	expect_error("[vgpu64]\nserver = a\n", 1, "unknown section [vgpu64]");
	expect_error("[vgpu01]\nserver = a\n", 1, "unknown section [vgpu01]");
	expect_error("[vgpu-1]\nserver = a\n", 1, "unknown section");
	expect_error("server = a\n[vgpu0]\nserver = a\n", 1, "outside any section");
}

static void test_bad_server(void **state)
{
	expect_error("[vgpu0]\nserver = host:0\n", 2, "port");
	expect_error("[vgpu0]\nserver = host:65536\n", 2, "port");
	expect_error("[vgpu0]\nserver = host:http\n", 2, "port");
	expect_error("[vgpu0]\nserver = host:\n", 2, "port");
	expect_error("[vgpu0]\nserver = host:-5\n", 2, "port");
	expect_error("[vgpu0]\nserver = host:007\n", 2, "port");
	expect_error("[vgpu0]\n\nserver = ::1\n", 3, "brackets");
	expect_error("[vgpu0]\nserver = [::1\n", 2, "']'");
	expect_error("[vgpu0]\nserver = [::1]7070\n", 2, "':port'");
	expect_error("[vgpu0]\nserver = []:7070\n", 2, "empty host");
	expect_error("[vgpu0]\nserver = :7070\n", 2, "empty host");
	expect_error("[vgpu0]\nserver =\n", 2, "empty host");
	expect_error("[vgpu0]\nserver = a host\n", 2, "bad character");
	expect_error("[vgpu0]\nserver = "
		     "a-very-long-host-name-that-goes-on.and-on.and-on-example.com:7070\n", 2, "63");
}

static void test_bad_values(void **state)
{
	expect_error("[daemon]\nlog_level = loud\n", 2, "log_level 'loud'");
	expect_error("[vgpu0]\nserver = a\ngpu = -1\n", 3, "gpu '-1'");
	expect_error("[vgpu0]\nserver = a\ngpu = one\n", 3, "gpu 'one'");
	expect_error("[vgpu0]\nserver = a\ngpu = 4294967295\n", 3, "gpu");
	expect_error("[vgpu0]\nserver = a\ngpu = 1 2\n", 3, "gpu");
	expect_error("[vgpu0]\nserver = a\nserver = b\n", 3, "repeated");
	expect_error("[daemon]\nlog_level = info\n[daemon]\n", 3, "repeated");
	expect_error("[vgpu1]\nserver = a\n[vgpu1]\ngpu = 1\n", 3, "repeated (first at line 1)");
	expect_error("[vgpu0]\ngpu = 1\n", 1, "no 'server");
	expect_error("[vgpu0]\nserver = a\nthis is not ini\n", 3, "syntax error");
	expect_error("[vgpu0\nserver = a\n", 1, "syntax error");
	/* the first error wins */
	expect_error("[vgpu0]\nserver = a:0\nbogus = 1\n", 2, "port");
}

/* partition = NAME: 1-31 bytes of [A-Za-z0-9_.-] */
static void test_partition(void **state)
{
	struct vgpud_config cfg;
	char err[320];

	assert_int_equal(load("[vgpu0]\nserver = a\npartition = train-A_1.x\n"
			      "[vgpu1]\nserver = b\n"
			      "[vgpu2]\nserver = c\npartition = 0123456789abcdefghijABCDEFGHIJ_  ; 31\n",
			      &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.dev[0].partition, "train-A_1.x");
	assert_string_equal(cfg.dev[1].partition, "");		/* none: the whole GPU */
	assert_string_equal(cfg.dev[2].partition, "0123456789abcdefghijABCDEFGHIJ_");
	/* a partition names its GPU: without 'gpu =' the server picks that one */
	assert_int_equal(cfg.dev[0].gpu, VGPU_GPU_OF_PARTITION);
	assert_int_equal(cfg.dev[1].gpu, 0);
	assert_int_equal(load("[vgpu0]\npartition = p\nserver = a\ngpu = 1\n", &cfg, err,
			      sizeof(err)), 0);
	assert_string_equal(cfg.dev[0].partition, "p");
	assert_int_equal(cfg.dev[0].gpu, 1);

	expect_error("[vgpu0]\nserver = a\npartition =\n", 3, "partition ''");
	expect_error("[vgpu0]\nserver = a\npartition = 0123456789abcdefghijABCDEFGHIJ_x\n", 3,
		     "1-31 characters");
	expect_error("[vgpu0]\nserver = a\npartition = two words\n", 3, "partition 'two words'");
	expect_error("[vgpu0]\nserver = a\npartition = a/b\n", 3, "partition 'a/b'");
	expect_error("[vgpu0]\nserver = a\npartition = caf\xc3\xa9\n", 3, "partition");
	expect_error("[vgpu0]\nserver = a\npartition = a\npartition = b\n", 4,
		     "key 'partition' repeated");
	expect_error("[daemon]\npartition = a\n", 2, "unknown key 'partition' in [daemon]");
}

static void test_missing_file(void **state)
{
	struct vgpud_config cfg;
	char err[320], path[300];

	snprintf(path, sizeof(path), "%s/nonexistent.conf", dir);
	assert_int_equal(vgpud_config_load(path, &cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

/* Run vgpud -f -c @path; returns its exit status, stderr in @out. */
static int run_vgpud(const char *path, char *out, size_t cap)
{
	int pfd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		execl(VGPUD_BIN, "vgpud", "-f", "-c", path, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (got + 1 < cap && (n = read(pfd[0], out + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_vgpud_exit_status(void **state)
{
	char out[2048], want[300];
	const char *p;
	struct stat st;

	p = conf("bad.conf", "[daemon]\nlog_level = info\n[vgpu0]\nserver = x:99999\n");
	assert_int_equal(run_vgpud(p, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "%s:4: server 'x:99999'", p);
	if (!strstr(out, want))
		fail_msg("stderr: %s", out);

	snprintf(want, sizeof(want), "%s/none.conf", dir);
	assert_int_equal(run_vgpud(want, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "none.conf"));

	/* a good configuration, but no module on this host */
	if (stat("/dev/vgpu-control", &st) == 0)
		return;
	p = conf("good.conf", "[vgpu0]\nserver = 127.0.0.1:7070\n");
	assert_int_equal(run_vgpud(p, out, sizeof(out)), 1);
	if (!strstr(out, "/dev/vgpu-control"))
		fail_msg("stderr: %s", out);
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_bad_server),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_partition),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_vgpud_exit_status),
	};

	vgpu_log_init("test_userd_config", VGPU_LOG_ERR, 0);
	alarm(120);	/* a hang fails the run instead of blocking make unit */
	return cmocka_run_group_tests(tests, setup, teardown);
}
