// SPDX-License-Identifier: MIT
/*
 * test_session_server.c - vgpu-server itself, spawned with the sim backend:
 * a process per session, SERVER_STATS and vgpu-stat across sessions, a
 * SIGKILLed session shows freed, SIGTERM exits 0.  VGPU_SERVER_BIN and
 * VGPU_STAT_BIN override the binaries (default build/bin/..., from the repo
 * root).  The client: session_client.c.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/server.h"
#include "tests/unit/session_client.h"

/* ---- vgpu-server itself ------------------------------------------------ */

static const char *server_bin(void)
{
	const char *b = getenv("VGPU_SERVER_BIN");

	return b ? b : "build/bin/vgpu-server";
}

static pid_t spawn_server(char *hostport, size_t cap)
{
	int pfd[2];
	pid_t pid;
	FILE *f;
	char line[256];
	unsigned int port;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(server_bin(), "vgpu-server", "--backend", "sim", "--listen", "127.0.0.1:0",
		      "--sim-mem", "64M", "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "listening on 127.0.0.1:%u", &port), 1);
	assert_true(port > 0 && port < 65536);
	snprintf(hostport, cap, "127.0.0.1:%u", port);
	fclose(f);
	return pid;
}

static struct peer *connect_to(const char *hp)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->fd = vgpu_tcp_connect(hp, 2000);
	assert_true(p->fd >= 0);
	p->next = 1;
	{
		struct vgpu_hello_req q = { .min_version = 1, .max_version = 1,
					    .gpu = VGPU_GPU_ALL };
		struct vgpu_hello_resp resp;
		const char *why;

		assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), 0);
		assert_int_equal(resp.backend, VGPU_BACKEND_SIM);
		p->id = resp.session;
	}
	return p;
}

static void run_stat(const char *hp, char *out, size_t cap)
{
	char cmd[512];
	const char *bin = getenv("VGPU_STAT_BIN");
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s %s", bin ? bin : "build/bin/vgpu-stat", hp);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)cap, f));
	assert_int_equal(pclose(f), 0);
}

static void test_server_process(void **state)
{
	char hp[64], out[256];
	struct peer *a, *b, *c;
	uint64_t ctx, bytes, allocs;
	uint32_t sessions;
	pid_t srv, victim = 0;
	int st;
	FILE *f;
	char path[64];

	if (access(server_bin(), X_OK)) {
		print_message("no %s: skipped\n", server_bin());
		skip();
	}
	srv = spawn_server(hp, sizeof(hp));
	a = connect_to(hp);
	ctx = ctx_create(a);
	mem_alloc(a, ctx, 1000);
	mem_alloc(a, ctx, 24);
	b = connect_to(hp);
	stats(b, &sessions, &bytes, &allocs);
	assert_int_equal(sessions, 2);
	assert_true(bytes == 1024 && allocs == 2);
	run_stat(hp, out, sizeof(out));
	assert_string_equal(out, "sessions=2 bytes_allocated=1024 allocations=2\n");

	/* B leaves; then A's process is SIGKILLed: its totals must vanish */
	close(b->fd);
	free(b);
	usleep(100000);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)srv, (int)srv);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &victim) != 1)
			victim = 0;
		fclose(f);
	}
	if (victim > 0) {
		assert_int_equal(kill(victim, SIGKILL), 0);
		c = connect_to(hp);
		for (int i = 0; i < 200; i++) {
			stats(c, &sessions, &bytes, &allocs);
			if (sessions == 1)
				break;
			usleep(10000);
		}
		assert_int_equal(sessions, 1);
		assert_true(bytes == 0 && allocs == 0);
		close(c->fd);
		free(c);
	}
	close(a->fd);
	free(a);

	assert_int_equal(kill(srv, SIGTERM), 0);
	assert_int_equal(waitpid(srv, &st, 0), srv);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_process),
	};

	signal(SIGPIPE, SIG_IGN);
	/* the server's own expected warnings go to its stderr; drop our info chatter */
	vgpu_log_init("test_session_server", VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
