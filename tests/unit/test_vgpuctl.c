// SPDX-License-Identifier: MIT
/*
 * test_vgpuctl.c - vgpuctl: its command line (ctl/args.c), table
 * (ctl/print.c) and pool file (ctl/pool.c) called directly, then build/bin/vgpuctl against a spawned
 * vgpu-server (sim, 256 MiB): create, list, resize, split and delete, the
 * server's refusals by name with a non-zero exit status, and a partition a
 * session holds memory of (attached through the wire).  vgpuctl over a
 * pool of servers is test_place's.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/ctl.h"
#include "ctl/pool.h"
#include "tests/unit/spawn_server.h"

#ifndef VGPU_BUILD_DIR
#define VGPU_BUILD_DIR "build"
#endif
#define VGPUCTL		VGPU_BUILD_DIR "/bin/vgpuctl"
#define VGPU_SERVER_BIN	VGPU_BUILD_DIR "/bin/vgpu-server"

/* ---- the command line --------------------------------------------------- */

static void test_parse_mem(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
		uint32_t pct;
	} good[] = {
		{ "10%", 0, 10 }, { "1%", 0, 1 }, { "100%", 0, 100 },
		{ "4G", 4ull << 30, 0 }, { "512M", 512ull << 20, 0 }, { "512m", 512ull << 20, 0 },
		{ "64K", 64 << 10, 0 }, { "2T", 2ull << 40, 0 }, { "4GiB", 4ull << 30, 0 },
		{ "4gb", 4ull << 30, 0 }, { "4096", 4096, 0 }, { "1", 1, 0 },
		{ "16777215T", 16777215ull << 40, 0 },
	};
	static const char *bad[] = {
		"", "0", "0%", "101%", "1000%", "-1G", "+1G", "abc", "4X", "4GG", "4 G", " 4G",
		"4G ", "10%%", "%", "G", "1.5G", "010%", "01G", "16777216T", "18446744073709551616",
		"4Gib2", "4iB",
	};
	struct ctl_mem m;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&m, 0xff, sizeof(m));
		if (ctl_parse_mem(good[i].s, &m))
			fail_msg("'%s' refused", good[i].s);
		assert_true(m.bytes == good[i].bytes);
		assert_int_equal(m.pct, good[i].pct);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctl_parse_mem(bad[i], &m) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
}

static void test_parse_uint(void **state)
{
	uint32_t v;

	assert_int_equal(ctl_parse_uint("25", 1, 100, &v), 0);
	assert_int_equal(v, 25);
	assert_int_equal(ctl_parse_uint("0", 0, 7, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ctl_parse_uint("100", 1, 100, &v), 0);
	assert_int_equal(ctl_parse_uint("0", 1, 100, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("101", 1, 100, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("25%", 1, 100, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("-1", 0, 7, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("07", 0, 7, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("", 0, 7, &v), -EINVAL);
	assert_int_equal(ctl_parse_uint("99999999999999999999", 0, 7, &v), -EINVAL);
}

/* Parse a command line given as one string of words (VGPU_POOL: @env_pool). */
static int parse_env(const char *line, const char *env, const char *env_pool, struct ctl_cmd *c,
		     char *err, size_t len)
{
	static char buf[512];
	char *argv[32] = { "vgpuctl" };
	int argc = 1;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return ctl_parse_args(argc, argv, env, env_pool, c, err, len);
}

static int parse(const char *line, const char *env, struct ctl_cmd *c, char *err, size_t len)
{
	return parse_env(line, env, NULL, c, err, len);
}

static void expect_bad(const char *line, const char *what)
{
	struct ctl_cmd c;
	char err[160];

	if (parse(line, NULL, &c, err, sizeof(err)) != -EINVAL)
		fail_msg("'%s' accepted", line);
	if (!strstr(err, what))
		fail_msg("'%s': got \"%s\", want \"%s\"", line, err, what);
}

static void test_args(void **state)
{
	struct ctl_cmd c;
	char err[160];

	assert_int_equal(parse("list", NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_LIST);
	assert_string_equal(c.server, CTL_DEFAULT_SERVER);
	assert_int_equal(parse("list", "", &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, CTL_DEFAULT_SERVER);
	assert_int_equal(parse("list", "gpu-host:7171", &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "gpu-host:7171");
	assert_int_equal(parse("-s h:1 list", "gpu-host:7171", &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "h:1");
	assert_int_equal(parse("--server h:2 list", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "h:2");
	assert_int_equal(parse("-h", NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_HELP);

	assert_int_equal(parse("create train --gpu 1 --mem 10% --compute 25 --priority 3", NULL,
			       &c, err, sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_CREATE);
	assert_string_equal(c.name, "train");
	assert_int_equal(c.gpu, 1);
	assert_int_equal(c.mem.pct, 10);
	assert_true(c.mem.bytes == 0);
	assert_int_equal(c.compute, 25);
	assert_int_equal(c.priority, 3);
	assert_true(c.has_priority);
	assert_int_equal(parse("create i.2 --mem=4G --compute=5 --gpu=0", NULL, &c, err,
			       sizeof(err)), 0);
	assert_true(c.mem.bytes == 4ull << 30);
	assert_int_equal(c.priority, 0);
	assert_false(c.has_priority);

	assert_int_equal(parse("resize train --mem 512M", NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_RESIZE);
	assert_true(c.has_mem && !c.has_compute);
	assert_int_equal(parse("resize train --compute 50", NULL, &c, err, sizeof(err)), 0);
	assert_true(!c.has_mem && c.has_compute && c.compute == 50);

	assert_int_equal(parse("split a b --mem-new 20% --compute-new 20", NULL, &c, err,
			       sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_SPLIT);
	assert_string_equal(c.newname, "b");
	assert_int_equal(c.mem.pct, 20);
	assert_int_equal(c.compute, 20);
	assert_int_equal(parse("split a b --mem-new 1G", NULL, &c, err, sizeof(err)), 0);
	assert_false(c.has_compute);

	assert_int_equal(parse("delete train", NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.verb, CTL_DELETE);

	expect_bad("", "missing command");
	expect_bad("-s", "needs HOST:PORT");
	expect_bad("-x list", "unknown option '-x'");
	expect_bad("frobnicate", "unknown command");
	expect_bad("list extra", "unexpected argument 'extra'");
	expect_bad("create", "missing NAME");
	expect_bad("create bad/name --gpu 0 --mem 1% --compute 1", "NAME 'bad/name'");
	expect_bad("create 0123456789abcdefghijABCDEFGHIJ_x --gpu 0 --mem 1% --compute 1", "NAME");
	expect_bad("create a --gpu 0 --mem 10%", "needs --gpu, --mem and --compute");
	expect_bad("create a --gpu 0 --compute 10", "needs --gpu, --mem and --compute");
	expect_bad("create a --mem 1% --compute 10", "needs --gpu, --mem and --compute");
	expect_bad("create a --gpu 0 --mem 0% --compute 1", "--mem '0%'");
	expect_bad("create a --gpu 0 --mem 101% --compute 1", "--mem '101%'");
	expect_bad("create a --gpu 0 --mem 4X --compute 1", "--mem '4X'");
	expect_bad("create a --gpu 0 --mem 1% --compute 0", "--compute '0'");
	expect_bad("create a --gpu 0 --mem 1% --compute 101", "--compute '101'");
	expect_bad("create a --gpu x --mem 1% --compute 1", "--gpu 'x'");
	expect_bad("create a --gpu 0 --mem 1% --compute 1 --priority 8", "--priority '8'");
	expect_bad("create a --gpu 0 --mem 1% --compute 1 --gpu 1", "--gpu given twice");
	expect_bad("create a --gpu 0 --mem 1% --compute", "--compute needs a value");
	expect_bad("create a --gpu 0 --mem 1% --compute 1 --mem-new 2%", "unexpected argument");
	expect_bad("resize a", "needs --mem or --compute");
	expect_bad("resize a --priority 1", "unexpected argument '--priority'");
	expect_bad("resize a --mem -5%", "--mem '-5%'");
	expect_bad("split a", "missing NEWNAME");
	expect_bad("split a a --mem-new 1%", "must differ");
	expect_bad("split a b", "needs --mem-new");
	expect_bad("split a b --mem 1%", "unexpected argument '--mem'");
	expect_bad("split a b --mem-new 1% --compute-new 0", "--compute-new '0'");
	expect_bad("delete", "missing NAME");
	expect_bad("delete a b", "unexpected argument 'b'");
}

/* -p / VGPU_POOL, and the options a pool allows. */
static void test_args_pool(void **state)
{
	struct ctl_cmd c;
	char err[160];

	assert_int_equal(parse("-p /etc/p.conf list", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "/etc/p.conf");
	assert_int_equal(parse("--pool p.conf list", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "p.conf");
	assert_int_equal(parse_env("list", NULL, "env.conf", &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "env.conf");
	assert_int_equal(parse_env("list", "h:1", "", &c, err, sizeof(err)), 0);
	assert_null(c.pool);
	/* an explicit -s is one server, whatever VGPU_POOL says */
	assert_int_equal(parse_env("-s h:1 list", NULL, "env.conf", &c, err, sizeof(err)), 0);
	assert_null(c.pool);
	assert_string_equal(c.server, "h:1");
	assert_int_equal(parse_env("-p a.conf list", NULL, "env.conf", &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool, "a.conf");

	/* create: --gpu optional with a pool; --policy (binpack by default), --server */
	assert_int_equal(parse("-p p create x --mem 64M --compute 10", NULL, &c, err,
			       sizeof(err)), 0);
	assert_false(c.has_gpu || c.has_policy || c.has_pool_server);
	assert_int_equal(c.policy, PLACE_BINPACK);
	assert_int_equal(parse("-p p create x --mem 5% --compute 10 --policy spread --server b.1"
			       " --gpu 2", NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.policy, PLACE_SPREAD);
	assert_true(c.has_policy && c.has_pool_server && c.has_gpu);
	assert_string_equal(c.pool_server, "b.1");
	assert_int_equal(c.gpu, 2);
	assert_int_equal(parse("-p p resize x --mem 1G --server a", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool_server, "a");
	assert_int_equal(parse("-p p split x y --mem-new 1G --server a", NULL, &c, err,
			       sizeof(err)), 0);
	assert_int_equal(parse("-p p delete x --server=a", NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.pool_server, "a");

	expect_bad("-p", "-p needs a pool file");
	expect_bad("-p p -s h:1 list", "-s and -p exclude each other");
	expect_bad("-p p create x --mem 1%", "create needs --mem and --compute");
	expect_bad("-p p create x --compute 1", "create needs --mem and --compute");
	expect_bad("-p p create x --mem 1% --compute 1 --policy first", "--policy 'first'");
	expect_bad("-p p create x --mem 1% --compute 1 --server a:1", "--server 'a:1'");
	expect_bad("-p p create x --mem 1% --compute 1 --policy spread --policy spread",
		   "--policy given twice");
	expect_bad("-p p list --server a", "unexpected argument '--server'");
	expect_bad("-p p resize x --mem 1% --policy spread", "unexpected argument '--policy'");
	/* no pool: the pool's options are refused, --gpu required as before */
	expect_bad("create x --gpu 0 --mem 1% --compute 1 --policy spread",
		   "--policy needs a pool");
	expect_bad("create x --gpu 0 --mem 1% --compute 1 --server a", "--server needs a pool");
	expect_bad("create x --mem 1% --compute 1", "needs --gpu, --mem and --compute");
}

static void test_cu_names(void **state)
{
	char buf[32];

	assert_string_equal(ctl_cu_name(0, buf, sizeof(buf)), "CUDA_SUCCESS");
	assert_string_equal(ctl_cu_name(500, buf, sizeof(buf)), "CUDA_ERROR_NOT_FOUND");
	assert_string_equal(ctl_cu_name(401, buf, sizeof(buf)), "CUDA_ERROR_ILLEGAL_STATE");
	assert_string_equal(ctl_cu_name(800, buf, sizeof(buf)), "CUDA_ERROR_NOT_PERMITTED");
	assert_string_equal(ctl_cu_name(2, buf, sizeof(buf)), "CUDA_ERROR_OUT_OF_MEMORY");
	assert_string_equal(ctl_cu_name(12345, buf, sizeof(buf)), "CUresult 12345");
}

static void test_print_list(void **state)
{
	struct vgpu_partition_list_gpu g = { .index = 0, .name = "vgpu-sim", .total_mem = 1ull << 30,
					     .free_mem = 768 << 20, .mem_pct_granted = 75,
					     .compute_pct_granted = 60 };
	struct vgpu_partition_list_entry p = { .id = 3, .name = "train", .gpu = 0,
					       .mem_limit = 512 << 20, .mem_used = 128 << 20,
					       .compute_share = 40, .priority = 5, .sessions = 2 };
	struct vgpu_partition_list l = { .ngpu = 1, .gpus = &g, .npart = 1, .parts = &p };
	char buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	assert_non_null(f);
	ctl_print_list(f, &l);
	l.npart = 0;
	ctl_print_list(f, &l);
	fclose(f);
	assert_non_null(strstr(buf, "| GPU | Name"));
	assert_non_null(strstr(buf, "|   0 | vgpu-sim                       |       1024 |        768 |"
				    "     75% |     60% |"));
	assert_non_null(strstr(buf, "|   3 | train                           |   0 |       512 ( 50%) |"
				    "       128 ( 25%) |   40% |    5 |        2 |"));
	assert_non_null(strstr(buf, "No partitions."));
}

/* ---- the pool file ------------------------------------------------------- */

static int load_text(const char *text, struct pool *p, char *err, size_t len)
{
	char path[] = "/tmp/test_place.XXXXXX";
	int fd = mkstemp(path), ret;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ret = pool_load(path, p, err, len);
	if (ret && strncmp(err, path, strlen(path)))
		fail_msg("error does not name the file: %s", err);
	unlink(path);
	return ret;
}

static void expect_pool_bad(const char *text, const char *what)
{
	static struct pool p;
	char err[320];

	if (!load_text(text, &p, err, sizeof(err)))
		fail_msg("accepted:\n%s", text);
	if (!strstr(err, what))
		fail_msg("got \"%s\", want \"%s\"", err, what);
}

static void test_pool_file(void **state)
{
	static struct pool p;
	char err[320];

	assert_int_equal(load_text("; the GPU servers\n"
				   "[server a]\naddress = 10.0.0.1:7070\n\n"
				   "[server gpu-b.2]\n  address=[fe80::1]:7071 ; v6\n"
				   "[server   c]\naddress = gpu-c.example:1\n", &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.srv[0].name, "a");
	assert_string_equal(p.srv[0].address, "10.0.0.1:7070");
	assert_int_equal(p.srv[0].line, 2);
	assert_string_equal(p.srv[1].name, "gpu-b.2");
	assert_string_equal(p.srv[1].address, "[fe80::1]:7071");
	assert_string_equal(p.srv[2].name, "c");
	assert_ptr_equal(pool_find(&p, "gpu-b.2"), &p.srv[1]);
	assert_null(pool_find(&p, "gpu-b"));

	expect_pool_bad("", "no [server NAME] section");
	expect_pool_bad("; nothing\n", "no [server NAME] section");
	expect_pool_bad("address = a:1\n", ":1: key 'address' outside any");
	expect_pool_bad("[server a]\n", ":1: [server a] has no 'address");
	expect_pool_bad("[server a]\naddress = h:1\n[server b]\n[server c]\naddress = h:2\n",
			":3: [server b] has no 'address");
	expect_pool_bad("[servers a]\naddress = h:1\n", ":1: unknown section [servers a]");
	expect_pool_bad("[server]\naddress = h:1\n", ":1: unknown section [server]");
	expect_pool_bad("[gpu a]\n", "unknown section [gpu a]");
	expect_pool_bad("[server a/b]\naddress = h:1\n", ":1: server name 'a/b'");
	expect_pool_bad("[server a]\naddress = h:1\n[server a]\naddress = h:2\n",
			":3: server a repeated (first at line 1)");
	expect_pool_bad("[server a]\naddress = h:1\naddress = h:2\n", ":3: key 'address' repeated");
	expect_pool_bad("[server a]\nport = 1\naddress = h:1\n", ":2: unknown key 'port'");
	expect_pool_bad("[server a]\naddress = h\n", ":2: address 'h'");
	expect_pool_bad("[server a]\naddress = h:0\n", "address 'h:0'");
	expect_pool_bad("[server a]\naddress = h:65536\n", "address 'h:65536'");
	expect_pool_bad("[server a]\naddress = :7070\n", "address ':7070'");
	expect_pool_bad("[server a]\naddress = h:7x\n", "address 'h:7x'");
	expect_pool_bad("[server a]\naddress = h:99999999999999999999\n", "address");
	expect_pool_bad("[server a]\naddress = h:1\nnot a key\n", ":3: syntax error");
	assert_int_equal(pool_load("/nonexistent/pool.conf", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/pool.conf: No such file"));
}

/* ---- build/bin/vgpuctl against a spawned server ------------------------- */

static struct spawned_server srv;

static int start_server(void **state)
{
	return spawn_server(&srv, VGPU_SERVER_BIN);
}

static int stop_server(void **state)
{
	stop_spawned_server(&srv);
	return 0;
}

/* Run vgpuctl OPT ARG <words>; its exit status, stdout+stderr in out. */
static int run_ctl(char *out, size_t cap, const char *opt, const char *arg, const char *line)
{
	return run_words(out, cap, VGPUCTL, opt, arg, line);
}

/* vgpuctl -s <the spawned server> <words> */
static int ctl(char *out, size_t cap, const char *line)
{
	return run_ctl(out, cap, "-s", srv.hostport, line);
}

#define CTL_OK(line, want)							\
	do {									\
		int st_ = ctl(out, sizeof(out), line);				\
		if (st_ != 0 || !strstr(out, want))				\
			fail_msg("vgpuctl %s: status %d, output:\n%s(want \"%s\")", \
				 line, st_, out, want);				\
	} while (0)
#define CTL_FAILS(line, want)							\
	do {									\
		int st_ = ctl(out, sizeof(out), line);				\
		if (st_ != 1 || !strstr(out, want))				\
			fail_msg("vgpuctl %s: status %d, output:\n%s(want \"%s\")", \
				 line, st_, out, want);				\
	} while (0)

static void test_ctl_cycle(void **state)
{
	char out[8192];

	CTL_OK("list", "No partitions.");
	CTL_OK("list", "|        256 |        256 |");	/* the sim GPU's 256 MiB (free) */
	CTL_OK("create train --gpu 0 --mem 50% --compute 50 --priority 4",
	       "created partition train (id");
	CTL_OK("create infer --gpu 0 --mem 64M --compute 20", "created partition infer");
	CTL_OK("list", "| train                           |   0 |       128 ( 50%) |"
		       "         0 (  0%) |   50% |    4 |        0 |");
	CTL_OK("list", "| infer                           |   0 |        64 ( 25%) |");
	CTL_OK("list", "     75% |     70% |");

	/* the server's refusals, by name, exit status 1 */
	CTL_FAILS("create train --gpu 0 --mem 1% --compute 1", "CUDA_ERROR_INVALID_VALUE");
	CTL_FAILS("create big --gpu 0 --mem 30% --compute 1", "CUDA_ERROR_OUT_OF_MEMORY");
	CTL_FAILS("create busy --gpu 0 --mem 1% --compute 31", "CUDA_ERROR_OUT_OF_MEMORY");
	CTL_FAILS("create far --gpu 7 --mem 1% --compute 1", "CUDA_ERROR_INVALID_DEVICE");
	CTL_FAILS("resize nosuch --mem 1%", "CUDA_ERROR_NOT_FOUND");
	CTL_FAILS("delete nosuch", "CUDA_ERROR_NOT_FOUND");
	CTL_FAILS("resize train --mem 76%", "CUDA_ERROR_OUT_OF_MEMORY");

	CTL_OK("resize train --mem 40% --compute 60", "resized partition train: memory 40%");
	CTL_OK("list", "| train                           |   0 |       102 ( 40%) |");

	/* split: 40% -> 30% + 10%, compute 60 -> 50 + 10 */
	CTL_OK("split train tail --mem-new 10% --compute-new 10", "new partition tail");
	CTL_OK("list", "| tail                            |   0 |        25 ( 10%) |");
	CTL_OK("list", "   50% |    4 |");	/* train keeps its priority, 50% compute */
	/* without --compute-new: in proportion to the memory (half of 50%) */
	CTL_OK("split train half --mem-new 38M", "has 38 MiB and 25% compute");
	/* nothing to give: refused before any step */
	CTL_FAILS("split tail t2 --mem-new 50%", "cannot give");
	CTL_FAILS("split nosuch t2 --mem-new 1%", "no partition nosuch");
	/* step 2 fails (the name is taken): train gets its size back */
	CTL_FAILS("split train tail --mem-new 1M --compute-new 1",
		  "step 2 of 2 (create tail) failed: CUDA_ERROR_INVALID_VALUE");
	assert_non_null(strstr(out, "train has its old size back"));
	CTL_OK("list", "| train                           |   0 |");

	CTL_OK("delete half", "deleted partition half");
	CTL_OK("delete tail", "deleted partition tail");
	CTL_OK("delete train", "deleted partition train");
	CTL_OK("delete infer", "deleted partition infer");
	CTL_OK("list", "No partitions.");
	CTL_OK("list", "      0% |      0% |");
}

/* One request on a raw session; the reply's status, its body (up to cap) in out. */
static uint32_t raw_call(int fd, uint16_t op, struct vgpu_wbuf *w, void *out, size_t cap)
{
	static uint64_t id = 1;
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = id++, .len = (uint32_t)w->len };
	void *body = NULL;

	assert_int_equal(vgpu_frame_send(fd, &h, w->buf), 0);
	assert_int_equal(vgpu_frame_recv(fd, 1 << 20, &h, &body, NULL), 0);
	if (!h.status)
		memcpy(out, body, h.len < cap ? h.len : cap);
	free(body);
	vgpu_wbuf_reset(w);
	return h.status;
}

/* A partition in use: what may not change while a session holds its memory. */
static void test_ctl_in_use(void **state)
{
	struct vgpu_hello_req hq = { .min_version = 1, .max_version = VGPU_PROTO_VERSION,
				     .gpu = 0, .client = "test_vgpuctl" };
	struct vgpu_hello_resp hr;
	struct vgpu_wbuf w;
	uint8_t body[64];
	uint64_t ctx = 0;
	char out[8192];
	int fd;

	CTL_OK("create busy --gpu 0 --mem 64M --compute 10", "created partition busy");
	fd = vgpu_tcp_connect(srv.hostport, 5000);
	assert_true(fd >= 0);
	assert_int_equal(vgpu_client_hello(fd, &hq, &hr, NULL), 0);
	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, "busy");
	assert_int_equal(raw_call(fd, VGPU_OP_PARTITION_ATTACH, &w, body, sizeof(body)), 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	assert_int_equal(raw_call(fd, VGPU_OP_CTX_CREATE, &w, body, sizeof(body)), 0);
	for (int i = 0; i < 8; i++)
		ctx |= (uint64_t)body[i] << (8 * i);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, 48 << 20);
	assert_int_equal(raw_call(fd, VGPU_OP_MEM_ALLOC, &w, body, sizeof(body)), 0);

	CTL_OK("list", "| busy                            |   0 |        64 ( 25%) |"
		       "        48 ( 75%) |   10% |    0 |        1 |");
	CTL_FAILS("split busy b2 --mem-new 32M",
		  "split: step 1 of 2 (shrink busy) failed; nothing changed: CUDA_ERROR_ILLEGAL_STATE");
	CTL_FAILS("resize busy --mem 32M", "CUDA_ERROR_ILLEGAL_STATE");
	CTL_FAILS("delete busy", "CUDA_ERROR_ILLEGAL_STATE: sessions are attached to it");
	CTL_OK("list", "        48 ( 75%) |");

	vgpu_wbuf_free(&w);
	close(fd);	/* the session ends: its memory and its place go back */
	for (int i = 0; i < 500; i++) {
		if (ctl(out, sizeof(out), "delete busy") == 0)
			break;
		usleep(10000);
	}
	assert_non_null(strstr(out, "deleted partition busy"));
}

static void test_ctl_errors(void **state)
{
	char out[4096];
	int st;

	/* a bad command line: status 2, no connection */
	st = ctl(out, sizeof(out), "create a --gpu 0 --mem 0% --compute 1");
	assert_int_equal(st, 2);
	assert_non_null(strstr(out, "--mem '0%'"));
	assert_non_null(strstr(out, "usage:"));
	/* nobody listening: status 1 */
	{
		char *argv[] = { VGPUCTL, "-s", "127.0.0.1:1", "list", NULL };
		pid_t pid = fork();

		if (!pid) {
			quiet_stderr();
			execv(argv[0], argv);
			_exit(127);
		}
		assert_int_equal(wait_child(pid, 20), 1);
	}
}

int main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_parse_mem),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_pool),
		cmocka_unit_test(test_pool_file),
		cmocka_unit_test(test_cu_names),
		cmocka_unit_test(test_print_list),
	};
	const struct CMUnitTest e2e[] = {
		cmocka_unit_test(test_ctl_cycle),
		cmocka_unit_test(test_ctl_in_use),
		cmocka_unit_test(test_ctl_errors),
	};
	int fails;

	alarm(120);
	fails = cmocka_run_group_tests_name("vgpuctl", unit, NULL, NULL);
	fails += cmocka_run_group_tests_name("vgpuctl_server", e2e, start_server, stop_server);
	return fails ? 1 : 0;
}
