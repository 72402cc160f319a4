/* SPDX-License-Identifier: MIT */
/*
 * spawn_server.h - a `vgpu-server --backend sim` child process for the
 * tests that run programs against it, and the child-process helpers they
 * share (spawn_server.c).
 */
#ifndef VGPU_TESTS_SPAWN_SERVER_H
#define VGPU_TESTS_SPAWN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * In a forked child that runs library calls (cuInit's result lasts the
 * process): exit 1 naming the condition when it does not hold.  The
 * includer brings stdio.h and unistd.h.
 */
#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1);						\
		}								\
	} while (0)

struct spawned_server {
	pid_t pid;
	char hostport[64];	/* what it listens on, "127.0.0.1:<port>" */
};

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);
/* Read one line from fd within timeout_s; false on EOF or timeout. */
bool read_line(int fd, char *buf, size_t cap, double timeout_s);
/* Its exit status, or -1 (killed after timeout_s, or died of a signal). */
int wait_child(pid_t pid, double timeout_s);
/*
 * Run argv[0] with argv, its stdout and stderr in out (at most cap - 1
 * bytes, NUL-terminated); its exit status as wait_child gives it (20 s).
 */
int run_capture(char *const argv[], char *out, size_t cap);
/*
 * Run tool OPT ARG followed by the space-separated words of line (at most
 * 28), through run_capture; VGPU_TEST_VERBOSE prints the command and output.
 */
int run_words(char *out, size_t cap, const char *tool, const char *opt, const char *arg,
	      const char *line);
/* Send stderr to /dev/null unless VGPU_TEST_VERBOSE is set (in a child). */
void quiet_stderr(void);

/* Start the server at path (256M of sim memory) and read its port; 0 or -1. */
int spawn_server(struct spawned_server *srv, const char *path);
/* The same with one more option (opt NULL: none; arg NULL: a flag). */
int spawn_server_opts(struct spawned_server *srv, const char *path, const char *opt,
		      const char *arg);
/* SIGTERM it (if running) and reap it. */
void stop_spawned_server(struct spawned_server *srv);

#endif
