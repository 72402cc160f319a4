// SPDX-License-Identifier: MIT
/*
 * test_lib_partition.c - VGPU_PARTITION with the direct TCP transport,
 * against a spawned vgpu-server (sim, 256 MiB) whose partitions the test
 * creates through the wire (common/partition_wire.c): the library attaches
 * right after HELLO, cuInit fails with the server's CUresult when the
 * attach is refused, and an attached process sees and is held to its
 * partition's limit.
 *
 * cuInit's result is kept for the life of a process, so each case runs in
 * a forked child and reports through its exit status.
 */
#include <errno.h>
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

#include "common/partition.h"
#include "tests/unit/spawn_server.h"

#ifndef VGPU_BUILD_DIR
#define VGPU_BUILD_DIR "build"
#endif

static struct spawned_server srv;

/* ---- administration through the wire ------------------------------------ */

/* One op on a fresh session: the CUresult, the body in *rb (caller frees). */
static uint32_t admin(uint16_t op, const struct vgpu_wbuf *req, void **body, uint32_t *len)
{
	struct vgpu_hello_req hq = { .min_version = 1, .max_version = VGPU_PROTO_VERSION,
				     .gpu = VGPU_GPU_ALL, .client = "test_lib_partition" };
	struct vgpu_hello_resp hr;
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = 1, .len = (uint32_t)req->len };
	void *b = NULL;
	int fd = vgpu_tcp_connect(srv.hostport, 5000);

	assert_true(fd >= 0);
	assert_int_equal(vgpu_client_hello(fd, &hq, &hr, NULL), 0);
	assert_int_equal(vgpu_frame_send(fd, &h, req->buf), 0);
	assert_int_equal(vgpu_frame_recv(fd, 1 << 20, &h, &b, NULL), 0);
	close(fd);
	assert_true(h.flags & VGPU_FRAME_F_RESP);
	assert_int_equal(h.op, op);
	if (body) {
		*body = b;
		*len = h.len;
	} else {
		free(b);
	}
	return h.status;
}

static void create(const char *name, uint64_t bytes)
{
	struct vgpu_partition_create_req c = { .gpu = 0, .mem_bytes = bytes,
					       .compute_share = 10, .priority = 1 };
	struct vgpu_wbuf w;

	snprintf(c.name, sizeof(c.name), "%s", name);
	vgpu_wbuf_init(&w);
	vgpu_partition_create_req_put(&w, &c);
	assert_int_equal(admin(VGPU_OP_PARTITION_CREATE, &w, NULL, NULL), 0);
	vgpu_wbuf_free(&w);
}

static void delete(const char *name)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, name);
	assert_int_equal(admin(VGPU_OP_PARTITION_DELETE, &w, NULL, NULL), 0);
	vgpu_wbuf_free(&w);
}

/* The LIST entry of name (asserts it exists). */
static struct vgpu_partition_list_entry listed(const char *name)
{
	struct vgpu_partition_list_entry e = { 0 };
	struct vgpu_partition_list l;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint32_t len;
	void *body;
	bool found = false;

	vgpu_wbuf_init(&w);
	assert_int_equal(admin(VGPU_OP_PARTITION_LIST, &w, &body, &len), 0);
	vgpu_rbuf_init(&r, body, len);
	assert_int_equal(vgpu_partition_list_get(&r, &l), 0);
	for (uint32_t i = 0; i < l.npart; i++) {
		if (!strcmp(l.parts[i].name, name)) {
			e = l.parts[i];
			found = true;
		}
	}
	assert_true(found);
	vgpu_partition_list_free(&l);
	free(body);
	return e;
}

/* ---- cases, each in a child --------------------------------------------- */

#define MiB(n)	((size_t)(n) << 20)

/* Attached to "p64": totals, allocations up to the limit and not past it. */
static void child_limits(void)
{
	CUdeviceptr a, b, c;
	size_t free_b, total;
	CUcontext ctx;
	CUdevice dev;

	CHECK(cuInit(0) == CUDA_SUCCESS);
	CHECK(cuDeviceGet(&dev, 0) == CUDA_SUCCESS);
	CHECK(cuDeviceTotalMem(&total, dev) == CUDA_SUCCESS);
	CHECK(total == MiB(64));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(ctx) == CUDA_SUCCESS);
	CHECK(cuMemGetInfo(&free_b, &total) == CUDA_SUCCESS);
	CHECK(total == MiB(64));
	CHECK(free_b <= MiB(64) && free_b > MiB(60));
	CHECK(cuMemAlloc(&a, MiB(40)) == CUDA_SUCCESS);
	CHECK(cuMemGetInfo(&free_b, &total) == CUDA_SUCCESS);
	CHECK(free_b <= MiB(24));
	CHECK(cuMemAlloc(&b, MiB(32)) == CUDA_ERROR_OUT_OF_MEMORY);
	CHECK(cuMemAlloc(&b, MiB(20)) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&c, MiB(8)) == CUDA_ERROR_OUT_OF_MEMORY);
	/* freeing gives the room back */
	CHECK(cuMemFree(a) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&c, MiB(32)) == CUDA_SUCCESS);
	CHECK(cuMemFree(b) == CUDA_SUCCESS);
	CHECK(cuMemFree(c) == CUDA_SUCCESS);
	CHECK(cuDevicePrimaryCtxRelease(dev) == CUDA_SUCCESS);
	_exit(0);
}

/* cuInit must fail with want (and keep failing with it). */
static void child_init_fails(CUresult want)
{
	int n = -1;

	CHECK(cuInit(0) == want);
	CHECK(cuInit(0) == want);
	CHECK(cuDeviceGetCount(&n) == want);
	_exit(0);
}

/* Attached to "hold": allocate 16 MiB, tell the parent, wait to be killed. */
static void child_hold(int fd)
{
	CUdeviceptr a;
	CUcontext ctx;

	CHECK(cuInit(0) == CUDA_SUCCESS);
	CHECK(cuDevicePrimaryCtxRetain(&ctx, 0) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(ctx) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a, MiB(16)) == CUDA_SUCCESS);
	CHECK(write(fd, "x", 1) == 1);
	pause();
	_exit(0);
}

/* Run fn(arg) in a child with VGPU_PARTITION (and VGPU_GPU) set; its exit status. */
static int run(const char *partition, const char *gpu, void (*fn)(int), int arg)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		setenv("VGPU_SERVER", srv.hostport, 1);
		unsetenv("VGPU_DEVICE");
		if (partition)
			setenv("VGPU_PARTITION", partition, 1);
		else
			unsetenv("VGPU_PARTITION");
		if (gpu)
			setenv("VGPU_GPU", gpu, 1);
		else
			unsetenv("VGPU_GPU");
		fn(arg);
		_exit(2);
	}
	return wait_child(pid, 30);
}

static void limits(int arg) { child_limits(); }
static void init_fails(int want) { child_init_fails((CUresult)want); }

static void test_attach_limits(void **state)
{
	create("p64", MiB(64));
	assert_int_equal(run("p64", NULL, limits, 0), 0);
	/* the child's session ended: nothing held, nobody attached */
	assert_int_equal(listed("p64").sessions, 0);
	assert_true(listed("p64").mem_used == 0);
	delete("p64");
}

static void test_attach_refused(void **state)
{
	create("only", MiB(8));
	assert_int_equal(run("nosuch", NULL, init_fails, CUDA_ERROR_NOT_FOUND), 0);
	/* a session of every GPU cannot attach */
	assert_int_equal(run("only", "all", init_fails, CUDA_ERROR_INVALID_DEVICE), 0);
	/* a name that is not one: refused before anything is sent */
	assert_int_equal(run("no way", NULL, init_fails, CUDA_ERROR_INVALID_VALUE), 0);
	assert_int_equal(run("0123456789abcdefghijABCDEFGHIJ_x", NULL, init_fails,
			     CUDA_ERROR_INVALID_VALUE), 0);
	/* an empty VGPU_PARTITION is no partition: the whole GPU */
	assert_int_equal(run("", NULL, init_fails, CUDA_SUCCESS), 0);
	delete("only");
}

/* Two processes of one partition share its limit. */
static void test_shared_limit(void **state)
{
	int p[2];
	char c;
	pid_t holder;

	create("hold", MiB(24));
	assert_int_equal(pipe(p), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (!holder) {
		close(p[0]);
		setenv("VGPU_SERVER", srv.hostport, 1);
		setenv("VGPU_PARTITION", "hold", 1);
		unsetenv("VGPU_GPU");
		child_hold(p[1]);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(listed("hold").sessions, 1);
	assert_true(listed("hold").mem_used == MiB(16));
	{
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (!pid) {
			CUdeviceptr d;
			CUcontext ctx;

			setenv("VGPU_SERVER", srv.hostport, 1);
			setenv("VGPU_PARTITION", "hold", 1);
			CHECK(cuInit(0) == CUDA_SUCCESS);
			CHECK(cuDevicePrimaryCtxRetain(&ctx, 0) == CUDA_SUCCESS);
			CHECK(cuCtxSetCurrent(ctx) == CUDA_SUCCESS);
			CHECK(cuMemAlloc(&d, MiB(16)) == CUDA_ERROR_OUT_OF_MEMORY);
			CHECK(cuMemAlloc(&d, MiB(8)) == CUDA_SUCCESS);
			_exit(0);
		}
		assert_int_equal(wait_child(pid, 30), 0);
	}
	kill(holder, SIGKILL);
	wait_child(holder, 10);
	/* the killed session's bytes go back (the server reaps it) */
	for (int i = 0; i < 200 && listed("hold").sessions; i++)
		usleep(10000);
	assert_int_equal(listed("hold").sessions, 0);
	assert_true(listed("hold").mem_used == 0);
	delete("hold");
}

static int start(void **state)
{
	return spawn_server(&srv, VGPU_BUILD_DIR "/bin/vgpu-server");
}

static int stop(void **state)
{
	stop_spawned_server(&srv);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_limits),
		cmocka_unit_test(test_attach_refused),
		cmocka_unit_test(test_shared_limit),
	};

	alarm(120);
	return cmocka_run_group_tests(tests, start, stop);
}
