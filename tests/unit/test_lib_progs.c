// SPDX-License-Identifier: MIT
/*
 * test_lib_progs.c - the driver-API programs (tests/progs) as processes,
 * through lib/'s libcuda.so.1 and its direct transport, against a spawned
 * `vgpu-server --backend sim`:
 *   - saxpy_drv, reduce_drv, api_drv exit 0 and print their OK line;
 *   - spin_alloc holds memory on the server, and a SIGKILLed spin_alloc's
 *     memory is freed (vgpu-stat);
 *   - when the server dies under spin_alloc, it errors out promptly;
 *   - no server, or no device node: cuInit fails, nothing hangs.
 * Binaries from VGPU_BUILD_DIR (the build directory, absolute).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/spawn_server.h"

#define BIN(name)	VGPU_BUILD_DIR "/bin/" name
#define PROG(name)	VGPU_BUILD_DIR "/tests/progs/" name
#define RUN_TIMEOUT_S	60

static struct spawned_server server;

struct child {
	pid_t pid;
	int out;	/* read end of its stdout */
};

/*
 * Start argv with stdout on a pipe; env: the library path, VGPU_SERVER (if
 * hostport), VGPU_DEVICE (if device).  Its stderr is dropped unless
 * VGPU_TEST_VERBOSE is set: the failures provoked here are expected.
 */
static struct child spawn(char *const argv[], const char *hostport, const char *device)
{
	struct child c;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	c.pid = fork();
	assert_true(c.pid >= 0);
	if (!c.pid) {
		dup2(p[1], 1);
		quiet_stderr();
		setenv("LD_LIBRARY_PATH", VGPU_BUILD_DIR "/lib", 1);
		if (hostport)
			setenv("VGPU_SERVER", hostport, 1);
		else
			unsetenv("VGPU_SERVER");
		if (device)
			setenv("VGPU_DEVICE", device, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	c.out = p[0];
	return c;
}

/* Run a program to its end; its exit status, its output's last line in last. */
static int run(char *const argv[], const char *hostport, const char *device,
	       char *last, size_t cap)
{
	struct child c = spawn(argv, hostport, device);
	char line[512];

	last[0] = '\0';
	while (read_line(c.out, line, sizeof(line), RUN_TIMEOUT_S))
		snprintf(last, cap, "%s", line);
	close(c.out);
	return wait_child(c.pid, 5);
}

static int start_server(void **state)
{
	return spawn_server(&server, BIN("vgpu-server"));
}

static int stop_server(void **state)
{
	stop_spawned_server(&server);
	return 0;
}

/* bytes_allocated of the server's totals, via vgpu-stat; -1 on failure. */
static long long stat_bytes(void)
{
	char *argv[] = { BIN("vgpu-stat"), server.hostport, NULL };
	char line[256];
	const char *b;

	if (run(argv, NULL, NULL, line, sizeof(line)) != 0)
		return -1;
	b = strstr(line, "bytes_allocated=");
	return b ? atoll(b + strlen("bytes_allocated=")) : -1;
}

static void expect_ok(const char *prog)
{
	char *argv[] = { (char *)prog, NULL };
	char last[512];
	int rc = run(argv, server.hostport, NULL, last, sizeof(last));

	print_message("    %s: %s\n", strrchr(prog, '/') + 1, last);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(last, " OK"));
}

static void test_saxpy_drv(void **state)
{
	expect_ok(PROG("saxpy_drv"));
}

static void test_reduce_drv(void **state)
{
	expect_ok(PROG("reduce_drv"));
}

static void test_api_drv(void **state)
{
	expect_ok(PROG("api_drv"));
}

static void test_spin_alloc_killed_frees(void **state)
{
	char *argv[] = { PROG("spin_alloc"), "16", NULL };
	struct child c = spawn(argv, server.hostport, NULL);
	char line[128];
	double t0;
	long long b = -1;

	assert_true(read_line(c.out, line, sizeof(line), 10));
	assert_string_equal(line, "ALLOCATED 16777216");
	assert_true(stat_bytes() >= 16 << 20);
	kill(c.pid, SIGKILL);
	wait_child(c.pid, 5);
	close(c.out);
	for (t0 = now_s(); now_s() - t0 < 10; usleep(50000))
		if ((b = stat_bytes()) == 0)
			break;
	assert_int_equal(b, 0);
}

static void test_no_server(void **state)
{
	char *argv[] = { PROG("saxpy_drv"), NULL };
	char last[512];
	double t0 = now_s();

	/* nobody listens on port 1 */
	assert_int_equal(run(argv, "127.0.0.1:1", NULL, last, sizeof(last)), 1);
	assert_string_equal(last, "FAILED CUDA_ERROR_DEVICE_UNAVAILABLE");
	/* no device node */
	assert_int_equal(run(argv, NULL, "/nonexistent/vgpu0", last, sizeof(last)), 1);
	assert_string_equal(last, "FAILED CUDA_ERROR_NO_DEVICE");
	assert_true(now_s() - t0 < 10);
}

/* Last: the server dies under a running application. */
static void test_server_dies_under_app(void **state)
{
	char *argv[] = { PROG("spin_alloc"), "1", NULL };
	struct child c = spawn(argv, server.hostport, NULL);
	char line[128];
	double t0;
	int rc;

	assert_true(read_line(c.out, line, sizeof(line), 10));
	assert_string_equal(line, "ALLOCATED 1048576");
	usleep(300000);		/* mid-spin */
	t0 = now_s();
	kill(server.pid, SIGKILL);	/* no goodbye; its sessions die with it */
	waitpid(server.pid, NULL, 0);
	server.pid = 0;
	assert_true(read_line(c.out, line, sizeof(line), 10));
	assert_string_equal(line, "FAILED CUDA_ERROR_DEVICE_UNAVAILABLE");
	rc = wait_child(c.pid, 10);
	close(c.out);
	assert_int_equal(rc, 1);
	assert_true(now_s() - t0 < 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saxpy_drv),
		cmocka_unit_test(test_reduce_drv),
		cmocka_unit_test(test_api_drv),
		cmocka_unit_test(test_spin_alloc_killed_frees),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_server_dies_under_app),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
