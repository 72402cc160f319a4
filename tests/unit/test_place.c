// SPDX-License-Identifier: MIT
/*
 * test_place.c - choosing the server and GPU of a new partition
 * (ctl/place.c, a pure function of the servers' PARTITION_LIST answers),
 * without any network: pools are built by hand.  Then build/bin/vgpuctl -p over a pool of two spawned
 * sim servers (256 MiB each) and one that is down: list, binpack filling
 * one server first, spread alternating, percentages, --server/--gpu,
 * finding the server of a partition, nothing fitting, no server answering.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/place.h"
#include "tests/unit/spawn_server.h"

#define MiB	(1ull << 20)
#define GiB	(1ull << 30)

/* ---- a pool built by hand ------------------------------------------------ */

#define MAXS	4
#define MAXG	4

static struct vgpu_partition_list_gpu gpus[MAXS][MAXG];
static struct vgpu_partition_list_entry parts[MAXS][VGPU_PARTITIONS_MAX];
static struct vgpu_partition_list lists[MAXS];
static struct place_server pool[MAXS];

static void pool_reset(unsigned int n)
{
	memset(gpus, 0, sizeof(gpus));
	memset(parts, 0, sizeof(parts));
	for (unsigned int s = 0; s < MAXS; s++) {
		lists[s] = (struct vgpu_partition_list){ .gpus = gpus[s], .parts = parts[s] };
		pool[s] = (struct place_server){ .reachable = s < n, .list = &lists[s] };
	}
}

/* GPU @index on server @s: @total bytes, @free of them ungranted, @cgrant% compute granted. */
static void gpu(unsigned int s, uint32_t index, uint64_t total, uint64_t free_mem,
		uint32_t cgrant)
{
	struct vgpu_partition_list_gpu *g = &gpus[s][lists[s].ngpu++];

	g->index = index;
	g->total_mem = total;
	g->free_mem = free_mem;
	g->compute_pct_granted = cgrant;
	g->mem_pct_granted = total ? (uint32_t)((total - free_mem) * 100 / total) : 0;
}

static void part(unsigned int s, const char *name, uint32_t g)
{
	struct vgpu_partition_list_entry *p = &parts[s][lists[s].npart++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->gpu = g;
	p->id = lists[s].npart;
}

static struct place_req req(uint64_t bytes, uint32_t pct, uint32_t compute,
			    enum place_policy policy)
{
	return (struct place_req){ .name = "new", .mem_bytes = bytes, .mem_pct = pct,
				   .compute = compute, .policy = policy, .server = -1,
				   .gpu = -1 };
}

static void expect(unsigned int n, struct place_req q, unsigned int server, uint32_t g)
{
	struct place_result r;
	int ret = place(pool, n, &q, &r);

	if (ret)
		fail_msg("place: %d, want server %u gpu %u", ret, server, g);
	if (r.server != server || r.gpu != g)
		fail_msg("placed on server %u gpu %u, want server %u gpu %u", r.server, r.gpu,
			 server, g);
}

static int try(unsigned int n, struct place_req q)
{
	struct place_result r;

	return place(pool, n, &q, &r);
}

/* ---- placement ------------------------------------------------------------ */

/* binpack: the fullest GPU that still fits; spread: the emptiest. */
static void test_policies(void **state)
{
	pool_reset(2);
	gpu(0, 0, 16 * GiB, 8 * GiB, 50);	/* half used */
	gpu(0, 1, 16 * GiB, 16 * GiB, 0);	/* empty */
	gpu(1, 0, 16 * GiB, 4 * GiB, 75);	/* a quarter left */
	expect(2, req(2 * GiB, 0, 10, PLACE_BINPACK), 1, 0);
	expect(2, req(2 * GiB, 0, 10, PLACE_SPREAD), 0, 1);
	/* the fullest does not fit: the next fullest */
	expect(2, req(6 * GiB, 0, 10, PLACE_BINPACK), 0, 0);
	expect(2, req(2 * GiB, 0, 30, PLACE_BINPACK), 0, 0);
	/* exactly what is left fits */
	expect(2, req(4 * GiB, 0, 25, PLACE_BINPACK), 1, 0);
	expect(2, req(16 * GiB, 0, 100, PLACE_BINPACK), 0, 1);
}

/* Memory and compute both count: a GPU short of either is passed over. */
static void test_both_resources(void **state)
{
	pool_reset(1);
	gpu(0, 0, 16 * GiB, 15 * GiB, 95);	/* memory, no compute */
	gpu(0, 1, 16 * GiB, 1 * GiB, 0);	/* compute, no memory */
	gpu(0, 2, 16 * GiB, 8 * GiB, 50);
	expect(1, req(2 * GiB, 0, 10, PLACE_BINPACK), 0, 2);
	expect(1, req(2 * GiB, 0, 10, PLACE_SPREAD), 0, 2);
	/*
	 * Free memory and compute weigh the same: GPU 0 has 15/16 + 0.05 = 0.99
	 * free, GPU 1 1/16 + 1 = 1.06, GPU 2 0.5 + 0.5 = 1.  A request small
	 * enough for all three: spread takes GPU 1, binpack GPU 0.
	 */
	expect(1, req(1 * GiB, 0, 5, PLACE_SPREAD), 0, 1);
	expect(1, req(1 * GiB, 0, 5, PLACE_BINPACK), 0, 0);
	assert_int_equal(try(1, req(9 * GiB, 0, 10, PLACE_BINPACK)), -ENOSPC);
	assert_int_equal(try(1, req(2 * GiB, 0, 60, PLACE_BINPACK)), -ENOSPC);
}

/* Ties: the server listed first, then the lowest GPU index, for both policies. */
static void test_ties(void **state)
{
	pool_reset(3);
	for (unsigned int s = 0; s < 3; s++) {
		gpu(s, 3, 8 * GiB, 8 * GiB, 0);
		gpu(s, 1, 8 * GiB, 8 * GiB, 0);
	}
	expect(3, req(1 * GiB, 0, 10, PLACE_BINPACK), 0, 3);	/* listed order, not index */
	expect(3, req(1 * GiB, 0, 10, PLACE_SPREAD), 0, 3);
	gpus[0][0].free_mem = 7 * GiB;				/* server 0 gpu 3 in use */
	expect(3, req(1 * GiB, 0, 10, PLACE_BINPACK), 0, 3);
	expect(3, req(1 * GiB, 0, 10, PLACE_SPREAD), 0, 1);
	gpus[0][1].free_mem = 7 * GiB;
	expect(3, req(1 * GiB, 0, 10, PLACE_SPREAD), 1, 3);
	/* GPUs of different sizes with the same free fraction tie too */
	pool_reset(2);
	gpu(0, 0, 8 * GiB, 4 * GiB, 50);
	gpu(1, 0, 80 * GiB, 40 * GiB, 50);
	expect(2, req(1 * GiB, 0, 10, PLACE_BINPACK), 0, 0);
	expect(2, req(1 * GiB, 0, 10, PLACE_SPREAD), 0, 0);
	expect(2, req(5 * GiB, 0, 10, PLACE_SPREAD), 1, 0);	/* only the big one fits */
}

/* A percentage counts of each GPU's own total, rounded down like the server. */
static void test_percent(void **state)
{
	struct place_req q = req(0, 50, 10, PLACE_BINPACK);
	struct place_result r;

	pool_reset(2);
	gpu(0, 0, 80 * GiB, 30 * GiB, 0);	/* 50% = 40 GiB: no */
	gpu(1, 0, 16 * GiB, 10 * GiB, 0);	/* 50% = 8 GiB: yes */
	assert_int_equal(place(pool, 2, &q, &r), 0);
	assert_int_equal(r.server, 1);
	assert_true(r.mem_bytes == 8 * GiB);
	/* bytes: the big one has room, the small one not */
	expect(2, req(20 * GiB, 0, 10, PLACE_BINPACK), 0, 0);

	/* rounding: 33% of 100 bytes is 33 */
	pool_reset(1);
	gpu(0, 0, 100, 33, 0);
	q = req(0, 33, 1, PLACE_BINPACK);
	assert_int_equal(place(pool, 1, &q, &r), 0);
	assert_true(r.mem_bytes == 33);
	q.mem_pct = 34;
	assert_int_equal(place(pool, 1, &q, &r), -ENOSPC);
	/* a percentage too small to give a byte never fits */
	pool_reset(1);
	gpu(0, 0, 50, 50, 0);
	assert_int_equal(try(1, req(0, 1, 1, PLACE_BINPACK)), -ENOSPC);
	/* 100% of a big GPU: no overflow */
	pool_reset(1);
	gpu(0, 0, 1ull << 62, 1ull << 62, 0);
	q = req(0, 100, 100, PLACE_SPREAD);
	assert_int_equal(place(pool, 1, &q, &r), 0);
	assert_true(r.mem_bytes == 1ull << 62);
}

/* Unreachable servers are passed over; none reachable is -ENODEV. */
static void test_unreachable(void **state)
{
	struct place_result r;
	struct place_req q = req(1 * GiB, 0, 10, PLACE_BINPACK);

	pool_reset(3);
	gpu(0, 0, 16 * GiB, 2 * GiB, 0);	/* the best binpack, but down */
	gpu(1, 0, 16 * GiB, 8 * GiB, 0);
	gpu(2, 0, 16 * GiB, 16 * GiB, 0);
	part(0, "new", 0);			/* a name on a down server is not seen */
	pool[0].reachable = false;
	expect(3, q, 1, 0);
	pool[1].reachable = false;
	expect(3, q, 2, 0);
	pool[2].reachable = false;
	assert_int_equal(place(pool, 3, &q, &r), -ENODEV);
	assert_int_equal(place(pool, 0, &q, &r), -ENODEV);
	/* reachable, but no GPU listed yet (a cuda server before its first session) */
	pool_reset(1);
	assert_int_equal(try(1, q), -ENODEV);
}

/* Nothing fits: -ENOSPC, also when full of partitions or with a zero-sized GPU. */
static void test_nothing_fits(void **state)
{
	pool_reset(2);
	gpu(0, 0, 16 * GiB, 1 * GiB, 0);
	gpu(1, 0, 16 * GiB, 16 * GiB, 100);
	assert_int_equal(try(2, req(2 * GiB, 0, 1, PLACE_BINPACK)), -ENOSPC);
	assert_int_equal(try(2, req(2 * GiB, 0, 1, PLACE_SPREAD)), -ENOSPC);
	/* a server with its 64 partitions has no slot */
	pool_reset(1);
	gpu(0, 0, 16 * GiB, 16 * GiB, 0);
	for (int i = 0; i < VGPU_PARTITIONS_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		part(0, name, 1);
	}
	assert_int_equal(try(1, req(1 * MiB, 0, 1, PLACE_BINPACK)), -ENOSPC);
	/* nonsense from a server: no total, or more free than total */
	pool_reset(1);
	gpu(0, 0, 0, 0, 0);
	gpus[0][0].mem_pct_granted = 0;
	assert_int_equal(try(1, req(1, 0, 1, PLACE_BINPACK)), -ENOSPC);
	gpus[0][0].total_mem = 10;
	gpus[0][0].free_mem = 20;
	assert_int_equal(try(1, req(1, 0, 1, PLACE_BINPACK)), -ENOSPC);
	/* over-granted compute (never from a sane server) counts as none free */
	pool_reset(1);
	gpu(0, 0, 16 * GiB, 16 * GiB, 0);
	gpus[0][0].compute_pct_granted = 120;
	assert_int_equal(try(1, req(1, 0, 1, PLACE_BINPACK)), -ENOSPC);
}

/* --server and --gpu narrow the choice; the policy applies within. */
static void test_filters(void **state)
{
	struct place_req q = req(1 * GiB, 0, 10, PLACE_BINPACK);

	pool_reset(2);
	gpu(0, 0, 16 * GiB, 2 * GiB, 0);
	gpu(0, 1, 16 * GiB, 12 * GiB, 0);
	gpu(1, 0, 16 * GiB, 8 * GiB, 0);
	gpu(1, 1, 16 * GiB, 16 * GiB, 0);
	expect(2, q, 0, 0);
	q.server = 1;
	expect(2, q, 1, 0);
	q.policy = PLACE_SPREAD;
	expect(2, q, 1, 1);
	q.server = -1;
	q.gpu = 0;
	expect(2, q, 1, 0);
	q.policy = PLACE_BINPACK;
	expect(2, q, 0, 0);
	q.gpu = 7;
	assert_int_equal(try(2, q), -ENODEV);
	q.gpu = 0;
	q.server = 0;
	q.mem_bytes = 4 * GiB;
	assert_int_equal(try(2, q), -ENOSPC);
}

/* A name in use on any reachable server is refused, saying where. */
static void test_name_in_use(void **state)
{
	struct place_req q = req(1 * GiB, 0, 10, PLACE_BINPACK);
	struct place_result r;

	pool_reset(2);
	gpu(0, 0, 16 * GiB, 16 * GiB, 0);
	gpu(1, 0, 16 * GiB, 16 * GiB, 0);
	part(1, "other", 0);
	part(1, "new", 0);
	assert_int_equal(place(pool, 2, &q, &r), -EEXIST);
	assert_int_equal(r.server, 1);
	q.server = 0;		/* even when placing elsewhere: names are the pool's */
	assert_int_equal(place(pool, 2, &q, &r), -EEXIST);
	q.name = "fresh";
	expect(2, q, 0, 0);
}

/* A run of placements: binpack fills one GPU first, spread alternates. */
static void test_sequence(void **state)
{
	static const unsigned int want_spread[] = { 0, 1, 0, 1, 0, 1, 0, 1 };

	for (int policy = PLACE_BINPACK; policy <= PLACE_SPREAD; policy++) {
		pool_reset(2);
		gpu(0, 0, 256 * MiB, 256 * MiB, 0);
		gpu(1, 0, 256 * MiB, 256 * MiB, 0);
		for (int i = 0; i < 8; i++) {
			struct place_req q = req(64 * MiB, 0, 10, (enum place_policy)policy);
			struct place_result r;
			struct vgpu_partition_list_gpu *g;

			assert_int_equal(place(pool, 2, &q, &r), 0);
			assert_int_equal(r.server, policy == PLACE_BINPACK ? (unsigned int)i / 4 :
						   want_spread[i]);
			g = &gpus[r.server][0];
			g->free_mem -= r.mem_bytes;
			g->compute_pct_granted += q.compute;
		}
		assert_int_equal(try(2, req(64 * MiB, 0, 10, (enum place_policy)policy)),
				 -ENOSPC);
	}
}

static void test_policy_names(void **state)
{
	enum place_policy p;

	assert_int_equal(place_parse_policy("binpack", &p), 0);
	assert_int_equal(p, PLACE_BINPACK);
	assert_int_equal(place_parse_policy("spread", &p), 0);
	assert_int_equal(p, PLACE_SPREAD);
	assert_int_equal(place_parse_policy("Spread", &p), -EINVAL);
	assert_int_equal(place_parse_policy("", &p), -EINVAL);
	assert_string_equal(place_policy_name(PLACE_BINPACK), "binpack");
	assert_string_equal(place_policy_name(PLACE_SPREAD), "spread");
}

/* ---- vgpuctl -p over a pool of two spawned servers (and one down) -------- */

#ifndef VGPU_BUILD_DIR
#define VGPU_BUILD_DIR "build"
#endif
#define VGPUCTL		VGPU_BUILD_DIR "/bin/vgpuctl"
#define VGPU_SERVER_BIN	VGPU_BUILD_DIR "/bin/vgpu-server"

/* Run vgpuctl -p PATH <words>; its exit status, stdout+stderr in out. */
static int run_ctl(char *out, size_t cap, const char *path, const char *line)
{
	return run_words(out, cap, VGPUCTL, "-p", path, line);
}

static struct spawned_server pool_srv[2];
static char pool_path[64], down_path[64], silent_path[64];
static int silent_fd = -1;	/* listens, never accepts: connects succeed, nothing answers */

static void write_file(char *path, size_t cap, const char *text)
{
	int fd;

	snprintf(path, cap, "/tmp/test_vgpuctl.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int start_pool(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char text[512];

	for (int i = 0; i < 2; i++)
		if (spawn_server(&pool_srv[i], VGPU_SERVER_BIN))
			return -1;
	/* the down server between the two: skipping it must not change the order */
	snprintf(text, sizeof(text), "[server a]\naddress = %s\n[server down]\n"
		 "address = 127.0.0.1:1\n[server b]\naddress = %s\n", pool_srv[0].hostport,
		 pool_srv[1].hostport);
	write_file(pool_path, sizeof(pool_path), text);
	write_file(down_path, sizeof(down_path), "[server down]\naddress = 127.0.0.1:1\n");
	silent_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (silent_fd < 0 || bind(silent_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(silent_fd, 8) || getsockname(silent_fd, (struct sockaddr *)&sa, &len))
		return -1;
	snprintf(text, sizeof(text), "[server silent]\naddress = 127.0.0.1:%u\n[server a]\n"
		 "address = %s\n", ntohs(sa.sin_port), pool_srv[0].hostport);
	write_file(silent_path, sizeof(silent_path), text);
	return 0;
}

static int stop_pool(void **state)
{
	for (int i = 0; i < 2; i++)
		stop_spawned_server(&pool_srv[i]);
	unlink(pool_path);
	unlink(down_path);
	unlink(silent_path);
	if (silent_fd >= 0)
		close(silent_fd);
	return 0;
}

#define POOL_RUN(path, line, want, status)					\
	do {									\
		int st_ = run_ctl(out, sizeof(out), path, line);		\
		if (st_ != (status) || !strstr(out, want))			\
			fail_msg("vgpuctl -p %s: status %d, output:\n%s(want \"%s\")", \
				 line, st_, out, want);				\
	} while (0)
#define POOL_OK(line, want)	POOL_RUN(pool_path, line, want, 0)
#define POOL_FAILS(line, want)	POOL_RUN(pool_path, line, want, 1)

/* binpack fills server a (256 MiB in 64 MiB partitions) before b. */
static void test_pool_binpack(void **state)
{
	char out[16384], line[128];

	POOL_OK("list", "== server down (127.0.0.1:1): unreachable");
	POOL_OK("list", "2 of 3 servers answered");
	assert_non_null(strstr(out, "== server a ("));
	assert_non_null(strstr(out, "== server b ("));
	for (int i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "create bp%d --mem 64M --compute 10", i);
		POOL_OK(line, i <= 4 ? "on server a (" : "on server b (");
		assert_non_null(strstr(out, "(binpack;"));
	}
	POOL_FAILS("create bp1 --mem 1M --compute 1",
		   "server a already has a partition of that name");
	POOL_OK("list", "| bp5                             |   0 |");
	/* resize, delete: vgpuctl finds the server that has the partition */
	POOL_OK("resize bp5 --mem 32M", "resized partition bp5");
	for (int i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "delete bp%d", i);
		POOL_OK(line, "deleted partition");
	}
	POOL_FAILS("delete bp1", "no server has a partition bp1 (2 of 3 servers answered)");
}

/* spread alternates between the two equal servers; ties go to the first listed. */
static void test_pool_spread(void **state)
{
	static const char *const names[] = { "sp1", "sp2", "sp3", "sp4", "half", "half2", "sp2b" };
	char out[16384], line[128];

	for (int i = 1; i <= 4; i++) {
		snprintf(line, sizeof(line), "create sp%d --mem 64M --compute 10 --policy spread", i);
		POOL_OK(line, i % 2 ? "on server a (" : "on server b (");
		assert_non_null(strstr(out, "(spread;"));
	}
	POOL_FAILS("create big --mem 200M --compute 1", "no GPU has memory 200 MiB");
	POOL_FAILS("create big --mem 1M --compute 81", "compute 81% free");

	/* --server (and --gpu): placed there, or created there as told */
	POOL_OK("create onb --mem 1M --compute 1 --server b", "on server b (");
	POOL_OK("create onb2 --mem 1M --compute 1 --server b --gpu 0",
		"created partition onb2 (id");
	POOL_FAILS("create x --mem 1M --compute 1 --server a --gpu 3", "CUDA_ERROR_INVALID_DEVICE");
	POOL_FAILS("create x --mem 1M --compute 1 --gpu 3", "no server that answered has that GPU");
	POOL_FAILS("create x --mem 1M --compute 1 --server nosuch", "the pool has no server nosuch");
	POOL_FAILS("delete onb2 --server a", "CUDA_ERROR_NOT_FOUND");
	POOL_OK("delete onb2 --server b", "deleted partition onb2");
	POOL_OK("delete onb", "deleted partition onb");

	/* a percentage of the GPU: 50% of 256 MiB is 128 MiB, just what each has left */
	POOL_OK("create half --mem 50% --compute 10 --policy spread", "on server a (");
	assert_non_null(strstr(out, "memory 50% (128 MiB)"));
	POOL_OK("create half2 --mem 50% --compute 10", "on server b (");
	POOL_FAILS("create big --mem 1% --compute 10",
		   "no GPU has memory 1% and compute 10% free (2 of 3 servers answered)");
	POOL_OK("split sp2 sp2b --mem-new 32M", "new partition sp2b");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(line, sizeof(line), "delete %s", names[i]);
		POOL_OK(line, "deleted partition");
	}
}

/* No server answers: list says so (status 1), create finds nowhere; a silent one times out. */
static void test_pool_down(void **state)
{
	char out[8192];

	POOL_RUN(down_path, "list", "== server down (127.0.0.1:1): unreachable", 1);
	assert_non_null(strstr(out, "0 of 1 servers answered"));
	POOL_RUN(down_path, "create x --mem 1M --compute 1", "(none answered)", 1);
	POOL_RUN("/nonexistent/pool.conf", "list", "/nonexistent/pool.conf: No such file", 2);

	/* one that accepts and never answers is unreachable after $VGPUCTL_TIMEOUT */
	setenv("VGPUCTL_TIMEOUT", "1", 1);
	POOL_RUN(silent_path, "list", "1 of 2 servers answered", 0);
	assert_non_null(strstr(out, "== server silent (127.0.0.1:"));
	assert_non_null(strstr(out, "): unreachable"));
	POOL_RUN(silent_path, "create x --mem 1M --compute 1 --policy spread", "on server a (", 0);
	POOL_RUN(silent_path, "delete x", "deleted partition x", 0);
	unsetenv("VGPUCTL_TIMEOUT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_both_resources),
		cmocka_unit_test(test_ties),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_nothing_fits),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_name_in_use),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_policy_names),
	};

	const struct CMUnitTest pool[] = {
		cmocka_unit_test(test_pool_binpack),
		cmocka_unit_test(test_pool_spread),
		cmocka_unit_test(test_pool_down),
	};
	int fails;

	alarm(120);
	fails = cmocka_run_group_tests_name("place", tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("vgpuctl_pool", pool, start_pool, stop_pool);
	return fails ? 1 : 0;
}
