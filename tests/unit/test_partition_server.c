// SPDX-License-Identifier: MIT
/*
 * test_partition_server.c - partitions with processes: the shared table's
 * compare-and-swap accounting hammered by several processes while its
 * limit changes (and a dead process's record given back by the reaper);
 * against a spawned vgpu-server, a session closed abruptly and one
 * SIGKILLed give their bytes and their place back; --partitions files,
 * good and bad.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/partition.h"
#include "server/server.h"
#include "tests/unit/part_client.h"
#include "tests/unit/spawn_server.h"

/*
 * The table's accounting from several processes at once: each charges and
 * gives back in a loop against a small limit while the parent resizes; the
 * sum charged never passes the limit and everything comes back.
 */
static void test_concurrent_charges(void **state)
{
	struct vgpu_partitions parts, *t = &parts;
	const char *names[1] = { "g" };
	const uint64_t totals[1] = { 1024 };
	struct vgpu_part_info pi;
	struct vgpu_part_snapshot *snap = malloc(sizeof(*snap));
	pid_t kids[4];
	uint32_t id;
	int rec;

	assert_int_equal(vgpu_part_table_create(t, 16), 0);
	assert_int_equal(vgpu_part_set_gpus(t, 1, names, totals), 0);
	assert_int_equal(vgpu_part_create(t, "hot", 0, 10, 0, 10, 0, &id), 0);
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (!kids[k]) {
			int bad = 0;

			if (vgpu_part_attach(t, "hot", 0, (int)getpid(), &rec, &pi))
				_exit(2);
			for (int i = 0; i < 200000; i++) {
				uint64_t limit, used;

				if (vgpu_part_charge(t, rec, 3))
					continue;
				vgpu_part_usage(t, rec, &limit, &used);
				bad += used > 10;	/* the largest limit */
				vgpu_part_uncharge(t, rec, 3);
			}
			vgpu_part_detach(t, rec);
			_exit(bad ? 1 : 0);
		}
	}
	for (int i = 0; i < 2000; i++)
		vgpu_part_resize(t, "hot", i % 2 ? 10 : 6, 0, 0);
	for (int k = 0; k < 4; k++)
		assert_int_equal(wait_child(kids[k], 60), 0);
	vgpu_part_snapshot(t, snap);
	assert_int_equal(snap->npart, 1);
	assert_true(snap->part[0].mem_used == 0 && snap->part[0].sessions == 0);
	/* a record left by a process that died is given back by vgpu_part_reap */
	assert_int_equal(vgpu_part_attach(t, "hot", 0, 4242, &rec, &pi), 0);
	assert_int_equal(vgpu_part_charge(t, rec, 7), 0);
	assert_int_equal(vgpu_part_charge(t, rec, 7), CUDA_ERROR_OUT_OF_MEMORY);
	vgpu_part_reap(t, 4242);
	vgpu_part_snapshot(t, snap);
	assert_true(snap->part[0].mem_used == 0 && snap->part[0].sessions == 0);
	free(snap);
	vgpu_part_table_destroy(t);
}

/* Session processes of the spawned server (children of srv). */
static int children(pid_t srv, pid_t *out, int cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) && n < cap) {
		char path[300], buf[512], *rp;
		int ppid = 0;
		FILE *fp;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fp = fopen(path, "r");
		if (!fp)
			continue;
		if (fgets(buf, sizeof(buf), fp) && (rp = strrchr(buf, ')')) &&
		    sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == srv)
			out[n++] = atoi(e->d_name);
		fclose(fp);
	}
	closedir(d);
	return n;
}

static void wait_released(struct peer *adm, const char *name, uint32_t sessions)
{
	struct listed l;

	for (int i = 0; i < 500; i++) {
		assert_int_equal(list(adm, name, &l), 0);
		if (l.sessions == sessions)
			break;
		usleep(10000);
	}
	assert_true(l.found && l.sessions == sessions);
	assert_int_equal(l.used, 0);
}

/* vgpu-server: a session that ends abruptly, or is killed, gives its bytes back. */
static void test_server_process(void **state)
{
	struct spawned_server srv;
	struct peer *adm, *a;
	pid_t before[64], after[64], victim = 0;
	uint64_t limit;
	struct listed l;
	int nb, na;

	if (spawn_server(&srv, VGPU_BUILD_DIR "/bin/vgpu-server")) {
		print_message("no vgpu-server: skipped\n");
		skip();
	}
	adm = connect_tcp(srv.hostport, VGPU_GPU_ALL);	/* 127.0.0.1: may administer */
	assert_int_equal(create(adm, "k", 0, 0, 50, 50, 0), 0);

	/* connection closed with memory out */
	a = connect_tcp(srv.hostport, 0);
	assert_int_equal(attach(a, "k", &limit), 0);
	assert_int_equal(limit, 128 * MIB);
	assert_int_equal(ctx_create(a), 0);
	assert_int_equal(mem_alloc(a, 32 * MIB, NULL), 0);
	assert_int_equal(list(adm, "k", &l), 0);
	assert_true(l.used == 32 * MIB && l.sessions == 1);
	finish(a);
	wait_released(adm, "k", 0);

	/* session process SIGKILLed with memory out */
	nb = children(srv.pid, before, 64);
	a = connect_tcp(srv.hostport, 0);
	assert_int_equal(attach(a, "k", &limit), 0);
	assert_int_equal(ctx_create(a), 0);
	assert_int_equal(mem_alloc(a, 100 * MIB, NULL), 0);
	assert_int_equal(mem_alloc(a, 100 * MIB, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	na = children(srv.pid, after, 64);
	for (int i = 0; i < na && !victim; i++) {
		bool old = false;

		for (int j = 0; j < nb; j++)
			old |= after[i] == before[j];
		if (!old)
			victim = after[i];
	}
	assert_true(victim > 0);
	assert_int_equal(list(adm, "k", &l), 0);
	assert_true(l.used == 100 * MIB && l.sessions == 1);
	assert_int_equal(kill(victim, SIGKILL), 0);
	wait_released(adm, "k", 0);
	close(a->fd);
	free(a->body);
	free(a);

	/* the partition works on: a new session gets all of it */
	a = connect_tcp(srv.hostport, 0);
	assert_int_equal(attach(a, "k", &limit), 0);
	assert_int_equal(ctx_create(a), 0);
	assert_int_equal(mem_alloc(a, 128 * MIB, NULL), 0);
	finish(a);
	finish(adm);
	stop_spawned_server(&srv);
}

/*
 * vgpu-server --partitions FILE with FILE holding text: 0 and srv set when
 * it listens, else its exit status (it refused to start).
 */
static int spawn_with_file(const char *text, struct spawned_server *srv)
{
	char path[] = "/tmp/test_partition_XXXXXX";
	char *argv[] = { VGPU_BUILD_DIR "/bin/vgpu-server", "--backend", "sim", "--listen",
			 "127.0.0.1:0", "--sim-mem", "256M", "--log-level", "err", "--partitions",
			 path, NULL };
	char line[128];
	int fd = mkstemp(path), p[2], ret = -1;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	srv->pid = fork();
	assert_true(srv->pid >= 0);
	if (!srv->pid) {
		dup2(p[1], 1);
		quiet_stderr();
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (read_line(p[0], line, sizeof(line), 10) &&
	    sscanf(line, "listening on %63s", srv->hostport) == 1)
		ret = 0;
	else
		ret = wait_child(srv->pid, 10);
	close(p[0]);
	unlink(path);
	return ret;
}

static void test_config_file(void **state)
{
	static const char *const bad[] = {
		"[partition a]\ngpu = 0\nmemory = 60%\ncompute = 50\n"
		"[partition b]\ngpu = 0\nmemory = 50%\ncompute = 10\n",	/* over-commit */
		"[partition a]\ngpu = 0\nmemory = 6x\ncompute = 50\n",
		"[partition a]\ngpu = 0\nmemory = 101%\ncompute = 50\n",
		"[partition a b]\ngpu = 0\nmemory = 1M\ncompute = 5\n",
		"[partition a]\ngpu = 1\nmemory = 1M\ncompute = 5\n",		/* no GPU 1 */
		"[partition a]\ngpu = 0\nmemory = 1M\n",			/* no compute */
		"[partition a]\ngpu = 0\nmemory = 1M\ncompute = 5\ncolour = red\n",
		"[partition a]\ngpu = 0\nmemory = 1M\ncompute = 5\npriority = 8\n",
		"[partition a]\ngpu = 0\nmemory = 1M\ncompute = 5\n[partition a]\n",
		"[daemon]\nlog_level = info\n",
		"gpu = 0\n",
		"[partition a]\ngpu = 0\nmemory = 1M\ncompute = 5\ngpu = 0\n",
		"[partition a\n",
	};
	struct spawned_server srv;
	struct peer *adm;
	struct listed l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = spawn_with_file(bad[i], &srv);

		if (!ret)
			stop_spawned_server(&srv);
		assert_true(ret > 0);
	}
	assert_int_equal(spawn_with_file("# two tenants\n"
					 "[partition train]\ngpu = 0\nmemory = 50%\n"
					 "compute = 60\npriority = 3\n\n"
					 "[partition infer]\ngpu = 0\nmemory = 100M\n"
					 "compute = 40\n", &srv), 0);
	adm = connect_tcp(srv.hostport, VGPU_GPU_ALL);
	assert_int_equal(list(adm, "train", &l), 0);
	assert_true(l.found && l.limit == 128 * MIB && l.compute == 60 && l.prio == 3);
	assert_true(l.npart == 2 && l.total == 256 * MIB && l.compute_pct == 100);
	assert_int_equal(l.free_b, 256 * MIB - 128 * MIB - 100 * MIB);
	assert_int_equal(list(adm, "infer", &l), 0);
	assert_true(l.found && l.limit == 100 * MIB && l.compute == 40 && l.prio == 0);
	finish(adm);
	stop_spawned_server(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_charges),
		cmocka_unit_test(test_server_process),
		cmocka_unit_test(test_config_file),
	};

	vgpu_log_init("test_partition_server", VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
