// SPDX-License-Identifier: MIT
/*
 * test_lib.c - lib/'s libcuda.so.1 against an in-process server.
 *
 * A listener thread on 127.0.0.1:<ephemeral> serves every connection with
 * vgpu_session_serve (sim backend) in a thread of its own; VGPU_SERVER
 * points the library at it (the direct TCP transport).  The library keeps
 * one connection for the process, so the cases run in order and the last
 * one cuts that connection to check a lost server gives errors, not hangs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "server/server.h"

#define SIM_IMAGE	"//vgpu-sim test_lib\n"
#define SIM_MEM		(512ull << 20)

static struct {
	int lfd;
	int port;
	pthread_mutex_t lock;
	int first_fd;		/* the library's session (the first connection) */
	uint32_t sessions;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER, .first_fd = -1 };

static CUcontext main_ctx;

/* ---- the in-process server --------------------------------------------- */

static void *session_thread(void *arg)
{
	struct vgpu_server_config cfg = { .backend = VGPU_BACKEND_SIM, .sim_mem_bytes = SIM_MEM };
	int fd = (int)(intptr_t)arg;
	uint32_t id;

	pthread_mutex_lock(&srv.lock);
	id = ++srv.sessions;
	pthread_mutex_unlock(&srv.lock);
	vgpu_session_serve(fd, &cfg, id);
	close(fd);
	return NULL;
}

static void *listener_thread(void *arg)
{
	for (;;) {
		int fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t th;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		pthread_mutex_lock(&srv.lock);
		if (srv.first_fd < 0)
			srv.first_fd = fd;
		pthread_mutex_unlock(&srv.lock);
		if (pthread_create(&th, NULL, session_thread, (void *)(intptr_t)fd) == 0)
			pthread_detach(th);
		else
			close(fd);
	}
}

static int start_server(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	pthread_t th;
	char hp[64];

	vgpu_log_init("test_lib", VGPU_LOG_ERR, 0);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv.lfd, 16) || getsockname(srv.lfd, (struct sockaddr *)&a, &al))
		return -1;
	srv.port = ntohs(a.sin_port);
	if (pthread_create(&th, NULL, listener_thread, NULL))
		return -1;
	pthread_detach(th);
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", srv.port);
	setenv("VGPU_SERVER", hp, 1);
	unsetenv("VGPU_DEVICE");
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- cases -------------------------------------------------------------- */

static void test_before_init(void **state)
{
	CUdeviceptr p;
	CUcontext c;
	int n, v = 0;

	assert_int_equal(cuDeviceGetCount(&n), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(cuMemAlloc(&p, 16), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(cuCtxGetCurrent(&c), CUDA_ERROR_NOT_INITIALIZED);
	assert_int_equal(cuDriverGetVersion(&v), CUDA_SUCCESS);
	assert_int_equal(v, CUDA_VERSION);
	assert_int_equal(cuInit(1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(cuInit(0), CUDA_SUCCESS);	/* kept */
}

static void test_devices(void **state)
{
	char name[64];
	CUuuid uuid;
	size_t total = 0;
	CUdevice dev;
	int n = 0, v = 0;

	assert_int_equal(cuDeviceGetCount(&n), CUDA_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(cuDeviceGet(&dev, 0), CUDA_SUCCESS);
	assert_int_equal(dev, 0);
	assert_int_equal(cuDeviceGet(&dev, 1), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuDeviceGet(&dev, -1), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuDeviceGetName(name, sizeof(name), 0), CUDA_SUCCESS);
	assert_string_equal(name, "vgpu sim device");
	assert_int_equal(cuDeviceGetName(name, 5, 0), CUDA_SUCCESS);	/* truncated */
	assert_string_equal(name, "vgpu");
	assert_int_equal(cuDeviceGetName(name, sizeof(name), 3), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuDeviceTotalMem(&total, 0), CUDA_SUCCESS);
	assert_int_equal(total, SIM_MEM);
	assert_int_equal(cuDeviceGetUuid(&uuid, 0), CUDA_SUCCESS);
	assert_memory_equal(uuid.bytes, "vgpu-sim", 8);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0), CUDA_SUCCESS);
	assert_int_equal(v, 32);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0),
			 CUDA_SUCCESS);
	assert_int_equal(v, 9);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0),
			 CUDA_SUCCESS);
	assert_int_equal(v, 132);
	/* what the server's GPU has but an application cannot use through vgpu */
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY, 0),
			 CUDA_SUCCESS);
	assert_int_equal(v, 0);
	assert_int_equal(cuDeviceGetAttribute(&v,
			 CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED, 0),
			 CUDA_SUCCESS);
	assert_int_equal(v, 0);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX, 0),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuDeviceGetAttribute(&v, (CUdevice_attribute)0, 0),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuDeviceGetAttribute(NULL, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0),
			 CUDA_ERROR_INVALID_VALUE);
}

static void *other_thread(void *arg)
{
	CUcontext c = (CUcontext)1;
	CUdevice d = -1;

	/* the current context is per thread */
	assert_int_equal(cuCtxGetCurrent(&c), CUDA_SUCCESS);
	assert_null(c);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuCtxSetCurrent(main_ctx), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetDevice(&d), CUDA_SUCCESS);
	assert_int_equal(d, 0);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	return NULL;
}

static void test_contexts(void **state)
{
	CUcontext p, p2, c, cur, popped;
	unsigned int flags = 1;
	int active = 0;
	pthread_t th;

	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_null(cur);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);

	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 0);
	assert_int_equal(cuDevicePrimaryCtxRetain(&p, 0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRetain(&p2, 0), CUDA_SUCCESS);
	assert_ptr_equal(p, p2);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 1);
	assert_int_equal(cuCtxDestroy(p), CUDA_ERROR_INVALID_CONTEXT);	/* primary */
	assert_int_equal(cuCtxSetCurrent(p), CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);

	assert_int_equal(cuCtxCreate(&c, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_ptr_equal(cur, c);
	assert_int_equal(cuCtxPopCurrent(&popped), CUDA_SUCCESS);
	assert_ptr_equal(popped, c);
	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_ptr_equal(cur, p);
	assert_int_equal(cuCtxPushCurrent(c), CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize_v2(p), CUDA_SUCCESS);
	assert_int_equal(cuCtxDestroy(c), CUDA_SUCCESS);
	/* destroyed: popped off this thread's stack and refused everywhere */
	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_ptr_equal(cur, p);
	assert_int_equal(cuCtxDestroy(c), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuCtxPushCurrent(c), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuCtxSetCurrent((CUcontext)&flags), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuCtxCreate(&c, NULL, 0, 7), CUDA_ERROR_INVALID_DEVICE);

	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 0);
	/* the released primary context is gone, though still on the stack */
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuCtxSetCurrent(NULL), CUDA_SUCCESS);
	assert_int_equal(cuCtxPopCurrent(&popped), CUDA_ERROR_INVALID_CONTEXT);

	/* the context the remaining cases use */
	assert_int_equal(cuCtxCreate(&main_ctx, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(pthread_create(&th, NULL, other_thread, NULL), 0);
	pthread_join(th, NULL);
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void test_memory(void **state)
{
	/* more than two 16 MiB chunks, odd-sized, at an odd offset */
	const size_t big = (40u << 20) + 123, off = 4097;
	uint8_t *src = malloc(big), *dst = malloc(big);
	size_t free0, free1, total;
	CUdeviceptr a, b, c;
	uint32_t w[8];
	uint16_t h[8];

	assert_non_null(src);
	assert_non_null(dst);
	fill_pattern(src, big, 7);
	assert_int_equal(cuMemGetInfo(&free0, &total), CUDA_SUCCESS);
	assert_int_equal(total, SIM_MEM);
	assert_int_equal(cuMemAlloc(&a, big + off), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&b, big + off), CUDA_SUCCESS);
	assert_int_equal(cuMemGetInfo(&free1, &total), CUDA_SUCCESS);
	assert_true(free1 <= free0 - 2 * (big + off));

	assert_int_equal(cuMemcpyHtoD(a + off, src, big), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(dst, a + off, big), CUDA_SUCCESS);
	assert_memory_equal(src, dst, big);
	assert_int_equal(cuMemcpyDtoD(b, a + off, big), CUDA_SUCCESS);
	memset(dst, 0, big);
	assert_int_equal(cuMemcpyDtoH(dst, b, big), CUDA_SUCCESS);
	assert_memory_equal(src, dst, big);

	assert_int_equal(cuMemsetD8(b, 0x5a, 3), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD16(b + 4, 0xbeef, 2), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32(b + 8, 0xcafef00d, 2), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(w, b, 16), CUDA_SUCCESS);
	memcpy(h, w, 16);
	assert_int_equal(w[0] & 0xffffff, 0x5a5a5a);
	assert_int_equal(h[2], 0xbeef);
	assert_int_equal(h[3], 0xbeef);
	assert_int_equal(w[2], 0xcafef00d);
	assert_int_equal(w[3], 0xcafef00d);

	/* zero-length copies are no-ops; bad arguments are refused locally */
	assert_int_equal(cuMemcpyHtoD(a, src, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(a, NULL, 16), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAlloc(&c, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAlloc(NULL, 16), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAlloc(&c, SIM_MEM * 2), CUDA_ERROR_OUT_OF_MEMORY);

	assert_int_equal(cuMemFree(a), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(b), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(a), CUDA_ERROR_INVALID_VALUE);	/* twice */
	assert_int_equal(cuMemGetInfo(&free1, &total), CUDA_SUCCESS);
	assert_int_equal(free1, free0);
	free(src);
	free(dst);
}

static void test_streams_events(void **state)
{
	uint32_t in[1024], out[1024];
	CUdeviceptr a, b;
	CUstream s;
	CUevent e0, e1, e2;
	CUmodule m;
	CUfunction spin;
	int ms = 30;
	void *params[] = { &ms };
	float elapsed = -1;

	for (int i = 0; i < 1024; i++)
		in[i] = i * 3u;
	assert_int_equal(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&a, sizeof(in)), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&b, sizeof(in)), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoDAsync(a, in, sizeof(in), s), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoDAsync(b, a, sizeof(in), s), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD8Async(a, 0, sizeof(in), s), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoHAsync(out, b, sizeof(out), s), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s), CUDA_SUCCESS);
	assert_memory_equal(in, out, sizeof(in));
	/* the special default-stream handles */
	assert_int_equal(cuMemcpyDtoHAsync(out, a, 16, CU_STREAM_LEGACY), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoHAsync(out, a, 16, CU_STREAM_PER_THREAD), CUDA_SUCCESS);
	assert_int_equal(out[0], 0);
	assert_int_equal(cuStreamSynchronize(NULL), CUDA_SUCCESS);

	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&spin, m, "spin"), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&e0, CU_EVENT_DEFAULT), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&e1, CU_EVENT_DEFAULT), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&e2, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(e0, s), CUDA_SUCCESS);
	assert_int_equal(cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, s, params, NULL), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(e1, s), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(e2, NULL), CUDA_SUCCESS);
	assert_int_equal(cuEventSynchronize(e1), CUDA_SUCCESS);
	assert_int_equal(cuEventElapsedTime(&elapsed, e0, e1), CUDA_SUCCESS);
	assert_true(elapsed >= 25 && elapsed < 2000);
	assert_int_not_equal(cuEventElapsedTime(&elapsed, e0, e2), CUDA_SUCCESS);
	assert_int_equal(cuEventElapsedTime(NULL, e0, e1), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuEventDestroy(e0), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(e0), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventRecord(e0, s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventDestroy(e1), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(e2), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuMemcpyHtoDAsync(a, in, 16, s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(a), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(b), CUDA_SUCCESS);
}

static void test_saxpy(void **state)
{
	enum { N = 100000 };
	float *x = malloc(N * 4), *y = malloc(N * 4), *r = malloc(N * 4), a = 3.0f;
	CUdeviceptr dx, dy;
	CUmodule m;
	CUfunction f, f2;
	int n = N;
	void *params[] = { &a, &dx, &dy, &n };
	struct { float a; uint32_t pad; CUdeviceptr x, y; int n; } packed;
	size_t packed_size = sizeof(packed);
	void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &packed,
			  CU_LAUNCH_PARAM_BUFFER_SIZE, &packed_size, CU_LAUNCH_PARAM_END };

	for (int i = 0; i < N; i++) {
		x[i] = (float)(i % 100);
		y[i] = (float)(i % 7);
	}
	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&f, m, "saxpy"), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&f2, m, "saxpy"), CUDA_SUCCESS);
	assert_ptr_equal(f, f2);
	assert_int_equal(cuMemAlloc(&dx, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&dy, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(dx, x, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(dy, y, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuLaunchKernel(f, (N + 255) / 256, 1, 1, 256, 1, 1, 0, NULL, params, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(r, dy, N * 4), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_true(r[i] == a * x[i] + y[i]);

	/* the same through one packed buffer: y = 3x + (3x + y) */
	memset(&packed, 0, sizeof(packed));
	packed.a = a;
	packed.x = dx;
	packed.y = dy;
	packed.n = N;
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 256, 1, 1, 0, NULL, NULL, extra), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(r, dy, N * 4), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_true(r[i] == 2 * a * x[i] + y[i]);

	/* parameter mistakes are caught before anything is sent */
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, params, extra),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	packed_size = 8;
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, extra),
			 CUDA_ERROR_INVALID_VALUE);
	params[2] = NULL;
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	params[2] = &dy;
	/* and what only the server can check */
	assert_int_equal(cuLaunchKernel(f, 0, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuModuleGetFunction(&f2, m, "nope"), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(cuModuleGetFunction(NULL, m, "saxpy"), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	/* the module's functions went with it */
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuModuleUnload(m), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuMemFree(dx), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(dy), CUDA_SUCCESS);
	free(x);
	free(y);
	free(r);
}

static void test_modules(void **state)
{
	static const char bad_text[] = ".version 7.0\n.target sm_52\n";
	uint32_t v = 0xabcd1234, back = 0;
	CUjit_option opts[] = { CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES };
	char log[16] = "garbage";
	void *vals[] = { log, (void *)(uintptr_t)sizeof(log) };
	CUdeviceptr g = 0;
	size_t gsize = 0;
	CUmodule m;
	enum { BIG = 20 << 20 };
	char *big;

	assert_int_equal(cuModuleLoadData(&m, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuModuleLoadData(&m, ""), CUDA_ERROR_INVALID_IMAGE);
	assert_int_equal(cuModuleLoadData(&m, bad_text), CUDA_ERROR_INVALID_IMAGE);	/* sim */
	assert_int_equal(cuModuleLoad(&m, "/nonexistent/x.cubin"), CUDA_ERROR_FILE_NOT_FOUND);

	assert_int_equal(cuModuleLoadDataEx(&m, SIM_IMAGE, 2, opts, vals), CUDA_SUCCESS);
	assert_string_equal(log, "");
	assert_null(vals[1]);
	assert_int_equal(cuModuleGetGlobal(&g, &gsize, m, "sim_counter"), CUDA_SUCCESS);
	assert_int_equal(gsize, 4);
	assert_int_equal(cuMemcpyHtoD(g, &v, 4), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(&back, g, 4), CUDA_SUCCESS);
	assert_int_equal(back, v);
	assert_int_equal(cuModuleGetGlobal(&g, NULL, m, "sim_counter"), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetGlobal(&g, &gsize, m, "other"), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	/* the global went with the module */
	assert_int_equal(cuMemcpyDtoH(&back, g, 4), CUDA_ERROR_INVALID_VALUE);

	/* larger than one request may carry (16 MiB over TCP): staged in pieces */
	big = malloc(BIG);
	assert_non_null(big);
	memset(big, 'x', BIG - 1);
	big[BIG - 1] = '\0';
	memcpy(big, SIM_IMAGE, strlen(SIM_IMAGE));
	assert_int_equal(cuModuleLoadData(&m, big), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetGlobal(&g, &gsize, m, "sim_counter"), CUDA_SUCCESS);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	big[2] = 'X';	/* staged whole, then refused by the server: not a sim image */
	assert_int_equal(cuModuleLoadData(&m, big), CUDA_ERROR_INVALID_IMAGE);
	big[2] = 'v';
	assert_int_equal(cuModuleLoadData(&m, big), CUDA_SUCCESS);	/* nothing left over */
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	free(big);
}

static void test_bad_handles_and_pointers(void **state)
{
	uint64_t junk[8] = { 0 };
	void *bogus = junk;
	CUdeviceptr p;
	uint32_t buf[4];
	CUfunction f;
	CUdeviceptr g;
	size_t gs;
	float ms;

	assert_int_equal(cuStreamSynchronize((CUstream)bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamDestroy((CUstream)bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventSynchronize((CUevent)bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventRecord((CUevent)bogus, NULL), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventElapsedTime(&ms, (CUevent)bogus, (CUevent)bogus),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuModuleGetFunction(&f, (CUmodule)bogus, "saxpy"),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuModuleGetGlobal(&g, &gs, (CUmodule)bogus, "x"),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuModuleUnload((CUmodule)bogus), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuLaunchKernel((CUfunction)bogus, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			 CUDA_ERROR_INVALID_HANDLE);
	/* a handle of another type is refused too */
	assert_int_equal(cuStreamSynchronize((CUstream)main_ctx), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuCtxPushCurrent((CUcontext)bogus), CUDA_ERROR_INVALID_CONTEXT);

	/* device pointers the session does not own */
	assert_int_equal(cuMemFree(0xdead0000), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemFree(0), CUDA_SUCCESS);	/* cudaFree(0): nothing to do */
	assert_int_equal(cuMemcpyDtoH(buf, 0x1000, sizeof(buf)), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemcpyHtoD(0x1000, buf, sizeof(buf)), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemsetD32(0x1000, 0, 4), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAlloc(&p, 64), CUDA_SUCCESS);
	/* a copy running past the end of an allocation */
	assert_int_equal(cuMemcpyDtoH(buf, p + 60, 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemcpyDtoD(p, p + 32, 64), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemFree(p + 16), CUDA_ERROR_INVALID_VALUE);
	/* none of that hurt the session */
	assert_int_equal(cuMemcpyDtoH(buf, p, 8), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(p), CUDA_SUCCESS);
}

static void test_context_destroy_frees_children(void **state)
{
	CUcontext c, cur;
	CUmodule m;
	CUfunction f;
	CUstream s;
	CUevent e;
	CUdeviceptr p;
	uint32_t v;

	assert_int_equal(cuCtxCreate(&c, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&f, m, "fill_u32"), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&e, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&p, 64), CUDA_SUCCESS);
	assert_int_equal(cuCtxDestroy(c), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_ptr_equal(cur, main_ctx);
	assert_int_equal(cuModuleUnload(m), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, NULL, NULL, NULL),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamDestroy(s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuEventDestroy(e), CUDA_ERROR_INVALID_HANDLE);
	/* its memory is freed on the server */
	assert_int_equal(cuMemcpyDtoH(&v, p, 4), CUDA_ERROR_INVALID_VALUE);
}

/* Last: the server goes away under the library; calls fail quickly, for good. */
static void test_server_killed(void **state)
{
	CUdeviceptr p;
	double t0;
	int fd;

	assert_int_equal(cuMemAlloc(&p, 4096), CUDA_SUCCESS);
	pthread_mutex_lock(&srv.lock);
	fd = srv.first_fd;
	pthread_mutex_unlock(&srv.lock);
	assert_true(fd >= 0);
	assert_int_equal(shutdown(fd, SHUT_RDWR), 0);

	t0 = now_s();
	assert_int_equal(cuMemsetD8(p, 1, 4096), CUDA_ERROR_DEVICE_UNAVAILABLE);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_DEVICE_UNAVAILABLE);
	assert_int_equal(cuMemFree(p), CUDA_ERROR_DEVICE_UNAVAILABLE);
	assert_true(now_s() - t0 < 2.0);
	/* local state is still answered */
	assert_int_equal(cuDeviceGetCount(&fd), CUDA_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_contexts),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_streams_events),
		cmocka_unit_test(test_saxpy),
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_bad_handles_and_pointers),
		cmocka_unit_test(test_context_destroy_frees_children),
		cmocka_unit_test(test_server_killed),
	};

	return cmocka_run_group_tests(tests, start_server, NULL);
}
