// SPDX-License-Identifier: MIT
/*
 * test_lib_multi.c - one process, devices of several servers: VGPU_SERVER
 * lists two spawned vgpu-servers (sim) and the application sees their
 * devices as 0 and 1.  Calls on an address reach the server holding it
 * whichever context is current; copies between the servers' memory are
 * relayed; allocations that two servers place at the same address are
 * kept apart (servers started at the same address slice), and when they
 * cannot be, the allocation fails cleanly and holds nothing; what cannot
 * cross servers (pools, VMM mappings, kernels) is refused; a lost server
 * fails its device's calls while the other goes on; a malformed list
 * fails cuInit.
 *
 * cuInit's result is kept for the life of a process, so each case runs in
 * a forked child and reports through its exit status.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "tests/unit/spawn_server.h"

#ifndef VGPU_BUILD_DIR
#define VGPU_BUILD_DIR "build"
#endif
#define SERVER	VGPU_BUILD_DIR "/bin/vgpu-server"

/* a and c start at the same address slice (their addresses meet), b elsewhere */
static struct spawned_server a, b, c;

#define MiB(n)		((size_t)(n) << 20)
#define SIM_IMAGE	"//vgpu-sim test_lib_multi\n"

static CUcontext primary(CUdevice dev)
{
	CUcontext ctx;

	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev) == CUDA_SUCCESS);
	return ctx;
}

static void fill(uint32_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = seed + (uint32_t)i * 2654435761u;
}

static bool all(const uint32_t *p, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Addresses, copies and memsets across the two servers. */
static void child_copies(void)
{
	const size_t n = MiB(10) / 4;	/* more than one relay chunk */
	uint32_t *in = malloc(n * 4), *out = malloc(n * 4);
	CUdeviceptr a0, a1;
	CUcontext c0, c1;
	size_t total;
	char name[64];
	int count, ord, can;

	CHECK(in && out);
	CHECK(cuInit(0) == CUDA_SUCCESS);
	CHECK(cuDeviceGetCount(&count) == CUDA_SUCCESS && count == 2);
	for (int d = 0; d < 2; d++) {
		CHECK(cuDeviceGetName(name, sizeof(name), d) == CUDA_SUCCESS);
		CHECK(strstr(name, "sim") != NULL);
		CHECK(cuDeviceTotalMem(&total, d) == CUDA_SUCCESS && total == MiB(256));
	}
	CHECK(cuDeviceCanAccessPeer(&can, 0, 1) == CUDA_SUCCESS && can == 0);
	c0 = primary(0);
	c1 = primary(1);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a0, n * 4) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a1, n * 4) == CUDA_SUCCESS);
	CHECK(a1 >= a0 + n * 4 || a0 >= a1 + n * 4);
	CHECK(cuPointerGetAttribute(&ord, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, a1) ==
	      CUDA_SUCCESS && ord == 1);
	CHECK(cuPointerGetAttribute(&ord, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, a0) ==
	      CUDA_SUCCESS && ord == 0);

	/* device 0's memory from device 1's context: goes to server a */
	fill(in, n, 1);
	CHECK(cuMemcpyHtoD(a0, in, n * 4) == CUDA_SUCCESS);
	memset(out, 0, n * 4);
	CHECK(cuMemcpyDtoH(out, a0, n * 4) == CUDA_SUCCESS);
	CHECK(!memcmp(in, out, n * 4));
	/* server a to server b, relayed; the unified form too */
	CHECK(cuMemcpyDtoD(a1, a0, n * 4) == CUDA_SUCCESS);
	memset(out, 0, n * 4);
	CHECK(cuMemcpyDtoH(out, a1, n * 4) == CUDA_SUCCESS);
	CHECK(!memcmp(in, out, n * 4));
	CHECK(cuMemsetD32(a1, 0xabcd, n) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemcpy(a0 + 4, a1, n * 4 - 4) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(out, a0, n * 4) == CUDA_SUCCESS);
	CHECK(out[0] == in[0] && all(out + 1, n - 1, 0xabcd));
	/* cuMemcpyPeer names both contexts, in either direction */
	fill(in, n, 7);
	CHECK(cuMemcpyHtoD(a0, in, n * 4) == CUDA_SUCCESS);
	CHECK(cuMemcpyPeer(a1, c1, a0, c0, n * 4) == CUDA_SUCCESS);
	CHECK(cuMemcpyPeerAsync(a0, c0, a1, c1, 16, NULL) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(out, a1, n * 4) == CUDA_SUCCESS);
	CHECK(!memcmp(in, out, n * 4));
	CHECK(cuMemcpyPeer(a1, NULL, a0, c0, 16) == CUDA_ERROR_INVALID_CONTEXT);

	/* each frees what it allocated, whichever context is current */
	CHECK(cuMemFree(a1) == CUDA_SUCCESS);
	CHECK(cuMemFree(a1) != CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemFree(a0) == CUDA_SUCCESS);
	_exit(0);
}

/* Streams, events, kernels, pools and VMM: what stays on one server. */
static void child_objects(void)
{
	const int n = 1024;
	uint32_t out[1024];
	CUdeviceptr a0, a1, va;
	CUmemGenericAllocationHandle h0, h1;
	CUmemAllocationProp prop = { .type = CU_MEM_ALLOCATION_TYPE_PINNED,
				     .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE } };
	CUmemAccessDesc acc = { .location = { .type = CU_MEM_LOCATION_TYPE_DEVICE },
				.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUmemoryPool pool0;
	CUcontext c0, c1;
	CUstream s1;
	CUevent e0;
	CUmodule m;
	CUfunction f;
	size_t gran;
	uint32_t v = 7;
	int count = n;
	void *params[3];

	CHECK(cuInit(0) == CUDA_SUCCESS);
	c0 = primary(0);
	c1 = primary(1);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a0, n * 4) == CUDA_SUCCESS);
	CHECK(cuMemsetD32(a0, 5, n) == CUDA_SUCCESS);
	CHECK(cuEventCreate(&e0, CU_EVENT_DEFAULT) == CUDA_SUCCESS);
	CHECK(cuEventRecord(e0, NULL) == CUDA_SUCCESS);
	CHECK(cuDeviceGetDefaultMemPool(&pool0, 0) == CUDA_SUCCESS);

	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a1, n * 4) == CUDA_SUCCESS);
	CHECK(cuStreamCreate(&s1, CU_STREAM_NON_BLOCKING) == CUDA_SUCCESS);
	/* an event of the other server: the host waits for it */
	CHECK(cuStreamWaitEvent(s1, e0, 0) == CUDA_SUCCESS);
	/* a pool of the other server cannot serve this stream */
	CHECK(cuMemAllocFromPoolAsync(&va, 4096, pool0, s1) == CUDA_ERROR_NOT_SUPPORTED);

	/* a kernel on device 1 */
	CHECK(cuModuleLoadData(&m, SIM_IMAGE) == CUDA_SUCCESS);
	CHECK(cuModuleGetFunction(&f, m, "fill_u32") == CUDA_SUCCESS);
	params[0] = &a1;
	params[1] = &v;
	params[2] = &count;
	CHECK(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, s1, params, NULL) == CUDA_SUCCESS);
	CHECK(cuStreamSynchronize(s1) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(out, a1, sizeof(out)) == CUDA_SUCCESS && all(out, n, 7));

	/* VMM: a reservation of server b maps chunks of server b only */
	prop.location.id = 1;
	CHECK(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM) ==
	      CUDA_SUCCESS);
	CHECK(cuMemAddressReserve(&va, gran, 0, 0, 0) == CUDA_SUCCESS);
	CHECK(cuMemCreate(&h1, gran, &prop, 0) == CUDA_SUCCESS);
	prop.location.id = 0;
	CHECK(cuMemCreate(&h0, gran, &prop, 0) == CUDA_SUCCESS);
	CHECK(cuMemMap(va, gran, 0, h0, 0) == CUDA_ERROR_INVALID_VALUE);
	CHECK(cuMemMap(va, gran, 0, h1, 0) == CUDA_SUCCESS);
	acc.location.id = 0;
	CHECK(cuMemSetAccess(va, gran, &acc, 1) == CUDA_ERROR_NOT_SUPPORTED);
	acc.location.id = 1;
	CHECK(cuMemSetAccess(va, gran, &acc, 1) == CUDA_SUCCESS);
	CHECK(cuMemsetD32(va, 9, n) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(out, va, sizeof(out)) == CUDA_SUCCESS && all(out, n, 9));
	CHECK(cuMemGetAllocationPropertiesFromHandle(&prop, h1) == CUDA_SUCCESS &&
	      prop.location.id == 1);
	CHECK(cuMemGetAllocationPropertiesFromHandle(&prop, h0) == CUDA_SUCCESS &&
	      prop.location.id == 0);
	CHECK(cuMemUnmap(va, gran) == CUDA_SUCCESS);
	CHECK(cuMemRelease(h1) == CUDA_SUCCESS);
	CHECK(cuMemRelease(h0) == CUDA_SUCCESS);
	CHECK(cuMemAddressFree(va, gran) == CUDA_SUCCESS);

	/* a kernel of server b cannot reach server a's memory: it faults there only */
	params[0] = &a0;
	cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, s1, params, NULL);
	CHECK(cuStreamSynchronize(s1) != CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(out, a0, sizeof(out)) == CUDA_SUCCESS && all(out, n, 5));
	_exit(0);
}

/*
 * Servers a and c give the same addresses: the library keeps its
 * allocations apart, and gives up cleanly when it cannot.
 */
static void child_apart(void)
{
	CUdeviceptr x0, x1, more[24], y;
	uint32_t in = 11, out;
	size_t free_b, total, free_before;
	CUcontext c0, c1;

	CHECK(cuInit(0) == CUDA_SUCCESS);
	c0 = primary(0);
	c1 = primary(1);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&x0, MiB(1)) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&x1, MiB(1)) == CUDA_SUCCESS);
	CHECK(x1 >= x0 + MiB(1) || x0 >= x1 + MiB(1));
	/* what collided was given back: server c holds x1 only */
	CHECK(cuMemGetInfo(&free_before, &total) == CUDA_SUCCESS);
	CHECK(free_before == total - MiB(1));
	CHECK(cuMemcpyHtoD(x1, &in, 4) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(&out, x1, 4) == CUDA_SUCCESS && out == 11);

	/* server a fills the addresses server c would choose next */
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	for (int i = 0; i < 24; i++)
		CHECK(cuMemAlloc(&more[i], MiB(1)) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&y, MiB(1)) == CUDA_ERROR_OUT_OF_MEMORY);
	CHECK(cuMemGetInfo(&free_b, &total) == CUDA_SUCCESS && free_b == free_before);
	/* room again once they are freed */
	for (int i = 0; i < 24; i++)
		CHECK(cuMemFree(more[i]) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&y, MiB(1)) == CUDA_SUCCESS);
	CHECK(y >= x0 + MiB(1) || x0 >= y + MiB(1));
	CHECK(cuMemFree(y) == CUDA_SUCCESS);
	_exit(0);
}

/*
 * Server b dies: device 1's calls fail (they do not hang), device 0 goes
 * on.  Relays of several chunks fail on either side of the pipeline: the
 * reader (b the source) or the writer (b the target, the reader stops).
 */
static void child_lost(void)
{
	CUdeviceptr a0, a1, big0, big1, x;
	uint32_t in = 3, out = 0;
	CUcontext c0, c1;

	CHECK(cuInit(0) == CUDA_SUCCESS);
	c0 = primary(0);
	c1 = primary(1);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a1, 4096) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&big1, MiB(10)) == CUDA_SUCCESS);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&a0, 4096) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&big0, MiB(10)) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoD(big1, big0, MiB(10)) == CUDA_SUCCESS);
	kill(b.pid, SIGKILL);
	usleep(100000);
	CHECK(cuMemcpyHtoD(a1, &in, 4) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuMemcpyDtoD(a0, a1, 4) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuMemcpyDtoD(big0, big1, MiB(10)) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuMemcpyDtoD(big1, big0, MiB(10)) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuMemcpyPeer(big1, c1, big0, c0, MiB(10)) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuCtxSetCurrent(c1) == CUDA_SUCCESS);
	CHECK(cuMemAlloc(&x, 4096) == CUDA_ERROR_DEVICE_UNAVAILABLE);
	CHECK(cuCtxSetCurrent(c0) == CUDA_SUCCESS);
	CHECK(cuMemcpyHtoD(a0, &in, 4) == CUDA_SUCCESS);
	CHECK(cuMemcpyDtoH(&out, a0, 4) == CUDA_SUCCESS && out == 3);
	_exit(0);
}

/* cuInit must fail with want. */
static void child_init_fails(CUresult want)
{
	int n = -1;

	CHECK(cuInit(0) == want);
	CHECK(cuDeviceGetCount(&n) == want);
	_exit(0);
}

/* Run fn in a child with VGPU_SERVER=s1,s2 (and the given VGPU_PARTITION); its status. */
static int run(const struct spawned_server *s1, const struct spawned_server *s2,
	       const char *partition, void (*fn)(void))
{
	char list[160];
	pid_t pid;

	snprintf(list, sizeof(list), "%s,%s", s1->hostport, s2->hostport);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		setenv("VGPU_SERVER", list, 1);
		unsetenv("VGPU_DEVICE");
		unsetenv("VGPU_GPU");
		if (partition)
			setenv("VGPU_PARTITION", partition, 1);
		else
			unsetenv("VGPU_PARTITION");
		fn();
		_exit(2);
	}
	return wait_child(pid, 60);
}

static void bad_list(void) { child_init_fails(CUDA_ERROR_INVALID_VALUE); }

static void test_copies(void **state)
{
	assert_int_equal(run(&a, &b, NULL, child_copies), 0);
}

static void test_objects(void **state)
{
	assert_int_equal(run(&a, &b, NULL, child_objects), 0);
}

static void test_apart(void **state)
{
	assert_int_equal(run(&a, &c, NULL, child_apart), 0);
}

static void test_bad_list(void **state)
{
	assert_int_equal(run(&a, &b, "p,q,r", bad_list), 0);
}

/* last: it kills server b */
static void test_lost_server(void **state)
{
	assert_int_equal(run(&a, &b, NULL, child_lost), 0);
}

static int start(void **state)
{
	if (spawn_server_opts(&a, SERVER, "--sim-va-slot", "3") ||
	    spawn_server_opts(&b, SERVER, "--sim-va-slot", "500") ||
	    spawn_server_opts(&c, SERVER, "--sim-va-slot", "3"))
		return -1;
	return 0;
}

static int stop(void **state)
{
	stop_spawned_server(&a);
	stop_spawned_server(&b);
	stop_spawned_server(&c);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: a and c must give their first sessions the same slice */
		cmocka_unit_test(test_apart),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_bad_list),
		cmocka_unit_test(test_lost_server),
	};

	alarm(180);
	return cmocka_run_group_tests(tests, start, stop);
}
