// SPDX-License-Identifier: MIT
/*
 * test_lib_post.c - posted requests (lib/transport.h): launches that pass
 * the device's limits are sent without waiting over the direct transport,
 * against an in-process sim server (lib_server.c), with lib/'s objects
 * linked in so that a malformed request can be posted on purpose:
 *   - many launches in a row (past VGPU_TRANSPORT_MAX_POSTED, where one
 *     goes as a call) run in order: a copy after them sees the last;
 *   - a posted request the server refuses is reported once, by the next
 *     call that synchronises, queries or copies and succeeded (not by one
 *     that allocates or frees, nor lost behind one that failed), and the
 *     session goes on;
 *   - an event recorded on another context's stream is refused at once;
 *   - launches outside the device's limits are still refused at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/proto.h"
#include "lib/driver.h"
#include "tests/unit/lib_server.h"

#define N	1024

static CUmodule mod;
static CUfunction fill;
static CUdeviceptr buf;

static int setup(void **state)
{
	if (lib_server_start(state))
		return -1;
	make_ctx();
	if (cuModuleLoadData(&mod, SIM_IMAGE) || cuModuleGetFunction(&fill, mod, "fill_u32") ||
	    cuMemAlloc(&buf, N * sizeof(uint32_t)))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	cuMemFree(buf);
	cuModuleUnload(mod);
	drop_ctx();
	return 0;
}

static void assert_filled(uint32_t v)
{
	static uint32_t host[N];

	assert_int_equal(cuMemcpyDtoH(host, buf, sizeof(host)), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_int_equal(host[i], v);
}

static void test_in_order(void **state)
{
	uint32_t v, n = N;
	void *params[] = { &buf, &v, &n };

	for (v = 1; v <= 3 * VGPU_TRANSPORT_MAX_POSTED + 7; v++)
		assert_int_equal(cuLaunchKernel(fill, N / 128, 1, 1, 128, 1, 1, 0, NULL, params,
						NULL), CUDA_SUCCESS);
	assert_filled(3 * VGPU_TRANSPORT_MAX_POSTED + 7);
	assert_int_equal(vgpu_dev_tp(0)->posted, 0);	/* the copy was a call: all done */
}

/* Post a LAUNCH in a context the server never made: it fails there. */
static void post_bad_launch(void)
{
	uint8_t body[VGPU_TRANSPORT_HDR_ROOM];
	struct vgpu_wbuf w;
	struct iovec iov;

	vgpu_wbuf_init_fixed(&w, body, sizeof(body));
	vgpu_put_u64(&w, 0xdead0000ull);
	vgpu_put_u64(&w, 0xbeef0000ull);
	for (int i = 0; i < 7; i++)
		vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_u32(&w, 0);
	iov = (struct iovec){ .iov_base = body, .iov_len = w.len };
	assert_int_equal(vgpu_rpc_post(vgpu_dev_tp(0), VGPU_OP_LAUNCH, &iov, 1), CUDA_SUCCESS);
}

static void test_failure_reported_later(void **state)
{
	CUdeviceptr p = 0;

	post_bad_launch();
	assert_int_equal(vgpu_dev_tp(0)->posted, 1);
	/* the next synchronising call reports it, once; the session goes on */
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	assert_filled(3 * VGPU_TRANSPORT_MAX_POSTED + 7);

	/* not by a call that makes or frees something: that one's own result counts */
	post_bad_launch();
	assert_int_equal(cuMemAlloc(&p, 4096), CUDA_SUCCESS);
	assert_true(p != 0);
	assert_int_equal(cuMemFree(p), CUDA_SUCCESS);
	assert_int_equal(cuStreamQuery(NULL), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamQuery(NULL), CUDA_SUCCESS);

	/* a call that fails by itself reports its own error; the posted one waits */
	post_bad_launch();
	assert_int_equal(cuMemcpyDtoH(&p, 0x10, 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
}

/* An event of one context recorded on a stream of another: refused at once. */
static void test_event_other_context(void **state)
{
	CUcontext other, mine;
	CUstream s;
	CUevent ev;

	assert_int_equal(cuCtxGetCurrent(&mine), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&ev, 0), CUDA_SUCCESS);
	assert_int_equal(cuCtxCreate(&other, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(ev, s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamWaitEvent(s, ev, 2), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuCtxDestroy(other), CUDA_SUCCESS);
	assert_int_equal(cuCtxSetCurrent(mine), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(ev, NULL), CUDA_SUCCESS);
	assert_int_equal(cuEventSynchronize(ev), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(ev), CUDA_SUCCESS);
}

static void test_limits_still_checked(void **state)
{
	uint32_t v = 5, n = N;
	void *params[] = { &buf, &v, &n };

	/* outside the device's limits: not posted, the server's answer at once */
	assert_int_equal(cuLaunchKernel(fill, 1, 1, 1, 2048, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchKernel(fill, 0, 1, 1, 128, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchKernel(fill, 1, 1, 1, 128, 1, 1, 64 * 1024, NULL, params, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(vgpu_dev_tp(0)->posted, 0);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_failure_reported_later),
		cmocka_unit_test(test_limits_still_checked),
		cmocka_unit_test(test_event_other_context),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
