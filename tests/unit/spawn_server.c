// SPDX-License-Identifier: MIT
/*
 * spawn_server.c - `vgpu-server --backend sim --listen 127.0.0.1:0` as a
 * child process: started with its stdout on a pipe, its "listening on
 * HOST:PORT" line read back, stopped with SIGTERM; and the helpers for
 * reading a child's output and waiting for it with a timeout.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/spawn_server.h"

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

bool read_line(int fd, char *buf, size_t cap, double timeout_s)
{
	double end = now_s() + timeout_s;
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now_s()) * 1000);

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return false;
		if (read(fd, buf + n, 1) != 1)
			return false;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return true;
}

int wait_child(pid_t pid, double timeout_s)
{
	double end = now_s() + timeout_s;
	int st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_s() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(10000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void quiet_stderr(void)
{
	if (!getenv("VGPU_TEST_VERBOSE")) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);
	}
}

int spawn_server(struct spawned_server *srv, const char *path)
{
	return spawn_server_opts(srv, path, NULL, NULL);
}

int spawn_server_opts(struct spawned_server *srv, const char *path, const char *opt,
		      const char *arg)
{
	char *argv[] = { (char *)path, "--backend", "sim", "--listen", "127.0.0.1:0",
			 "--sim-mem", "256M", "--log-level", "err",
			 (char *)opt, (char *)arg, NULL };
	char line[128];
	int p[2];
	bool ok;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	srv->pid = fork();
	if (srv->pid < 0)
		return -1;
	if (!srv->pid) {
		dup2(p[1], 1);
		quiet_stderr();
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	ok = read_line(p[0], line, sizeof(line), 10) &&
	     sscanf(line, "listening on %63s", srv->hostport) == 1;
	close(p[0]);
	return ok ? 0 : -1;
}

void stop_spawned_server(struct spawned_server *srv)
{
	if (srv->pid > 0) {
		kill(srv->pid, SIGTERM);
		wait_child(srv->pid, 10);
		srv->pid = 0;
	}
}

int run_capture(char *const argv[], char *out, size_t cap)
{
	size_t n = 0;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t k = read(p[0], out + n, cap - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
		if (n == cap - 1)
			break;
	}
	out[n] = '\0';
	close(p[0]);
	return wait_child(pid, 20);
}

int run_words(char *out, size_t cap, const char *tool, const char *opt, const char *arg,
	      const char *line)
{
	char *argv[32] = { (char *)tool, (char *)opt, (char *)arg };
	char buf[512];
	int argc = 3, st;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	st = run_capture(argv, out, cap);
	if (getenv("VGPU_TEST_VERBOSE"))
		fprintf(stderr, "$ %s %s %s %s -> %d\n%s", tool, opt, arg, line, st, out);
	return st;
}
