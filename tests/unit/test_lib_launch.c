// SPDX-License-Identifier: MIT
/*
 * test_lib_launch.c - launches beyond cuLaunchKernel, against an in-process
 * sim server (lib_server.c): cooperative grids (cuLaunchCooperativeKernel,
 * its _ptsz form, CU_LAUNCH_ATTRIBUTE_COOPERATIVE) and thread-block
 * clusters (CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) go to the server in
 * LAUNCH's flags and are checked there as the driver checks them (the sim's
 * resource model: 132 SMs, 32 blocks and 2048 threads per SM, clusters of
 * up to 8); attributes that are hints are accepted; others refused; and
 * none of them may be captured into a graph yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cuda.h>

#include "tests/unit/lib_server.h"

CUresult cuLaunchCooperativeKernel_ptsz(CUfunction f, unsigned int gx, unsigned int gy,
					unsigned int gz, unsigned int bx, unsigned int by,
					unsigned int bz, unsigned int shared, CUstream s,
					void **params);

#define N	4096

struct fixture {
	CUmodule m;
	CUfunction fill;
	CUdeviceptr p;
};

static int setup(void **state)
{
	static struct fixture f;

	if (lib_server_start(state))
		return -1;
	make_ctx();
	if (cuModuleLoadData(&f.m, SIM_IMAGE) || cuModuleGetFunction(&f.fill, f.m, "fill_u32") ||
	    cuMemAlloc(&f.p, N * sizeof(uint32_t)))
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cuMemFree(f->p);
	cuModuleUnload(f->m);
	drop_ctx();
	return 0;
}

/* fill_u32(p, v, n) ran over all N words: every one is v */
static void assert_filled(struct fixture *f, uint32_t v)
{
	static uint32_t host[N];

	assert_int_equal(cuMemcpyDtoH(host, f->p, sizeof(host)), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_int_equal(host[i], v);
}

static void test_cooperative(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 7, n = N;
	void *params[] = { &f->p, &v, &n };

	/* 32 blocks of 128 threads: resident at once on any GPU */
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 32, 1, 1, 128, 1, 1, 0, NULL, params),
			 CUDA_SUCCESS);
	assert_filled(f, 7);
	v = 8;
	assert_int_equal(cuLaunchCooperativeKernel_ptsz(f->fill, 32, 1, 1, 128, 1, 1, 0, NULL,
							params), CUDA_SUCCESS);
	assert_filled(f, 8);
	/*
	 * more blocks than can be resident (the sim: 16 of 128 threads per SM,
	 * 132 SMs): refused by the server, and nothing ran
	 */
	v = 9;
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 16 * 132 + 1, 1, 1, 128, 1, 1, 0, NULL,
						   params),
			 CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
	assert_filled(f, 8);
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 16 * 132, 1, 1, 128, 1, 1, 0, NULL,
						   params), CUDA_SUCCESS);
	assert_filled(f, 9);
	/* no threads, or more than 1024 (also when the product wraps in 32 bits): refused */
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 32, 1, 1, 0, 1, 1, 0, NULL, params),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 32, 1, 1, 65536, 65536, 1, 0, NULL,
						   params), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 32, 1, 1, 1025, 1, 1, 0, NULL, params),
			 CUDA_ERROR_INVALID_VALUE);
	assert_filled(f, 9);
	/* bad arguments fail in the client as for any launch */
	assert_int_equal(cuLaunchCooperativeKernel(NULL, 1, 1, 1, 1, 1, 1, 0, NULL, params),
			 CUDA_ERROR_INVALID_HANDLE);
}

static void test_launch_ex(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 1, n = N;
	void *params[] = { &f->p, &v, &n };
	CUlaunchAttribute attrs[3] = {
		{ .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION },
		{ .id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE },
		{ .id = CU_LAUNCH_ATTRIBUTE_PRIORITY },
	};
	CUlaunchConfig cfg = { .gridDimX = 32, .gridDimY = 1, .gridDimZ = 1, .blockDimX = 128,
			       .blockDimY = 1, .blockDimZ = 1, .attrs = attrs, .numAttrs = 1 };

	/* clusters of 2 and of 8 blocks (the portable maximum) */
	attrs[0].value.clusterDim.x = 2;
	attrs[0].value.clusterDim.y = 1;
	attrs[0].value.clusterDim.z = 1;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_SUCCESS);
	assert_filled(f, 1);
	attrs[0].value.clusterDim.x = 8;
	v = 2;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_SUCCESS);
	assert_filled(f, 2);
	/* too big a cluster, a grid of part clusters, a zero dimension: refused, nothing ran */
	v = 3;
	attrs[0].value.clusterDim.x = 16;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL),
			 CUDA_ERROR_INVALID_CLUSTER_SIZE);
	attrs[0].value.clusterDim.x = 3;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_ERROR_INVALID_VALUE);
	attrs[0].value.clusterDim.x = 2;
	attrs[0].value.clusterDim.z = 0;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_filled(f, 2);
	/* a cluster together with a cooperative grid and a hint */
	attrs[0].value.clusterDim.z = 1;
	attrs[1].value.cooperative = 1;
	attrs[2].value.priority = 1;
	cfg.numAttrs = 3;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_SUCCESS);
	assert_filled(f, 3);
	/* the cooperative attribute is checked too */
	cfg.numAttrs = 2;
	cfg.gridDimX = 16 * 132 + 2;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL),
			 CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE);
	/* an attribute that changes how launches relate (a programmatic event): refused */
	cfg.gridDimX = 32;
	attrs[1].id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT;
	assert_int_equal(cuLaunchKernelEx(&cfg, f->fill, params, NULL), CUDA_ERROR_NOT_SUPPORTED);
	assert_filled(f, 3);
}

static void test_not_captured(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 5, n = N;
	void *params[] = { &f->p, &v, &n };
	CUstream s;
	CUgraph g = NULL;

	assert_int_equal(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
	assert_int_equal(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_RELAXED), CUDA_SUCCESS);
	assert_int_equal(cuLaunchCooperativeKernel(f->fill, 32, 1, 1, 128, 1, 1, 0, s, params),
			 CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	/* the capture is invalidated: no graph with the kernel silently missing */
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	assert_null(g);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	/* nothing ran: what test_launch_ex left */
	assert_filled(f, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cooperative),
		cmocka_unit_test(test_launch_ex),
		cmocka_unit_test(test_not_captured),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
