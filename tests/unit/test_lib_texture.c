// SPDX-License-Identifier: MIT
/*
 * test_lib_texture.c - texture objects over device memory (lib/texture.c,
 * server/ops_tex.c) against an in-process sim server: linear and pitched
 * 2D objects made on the server and answered back (the Get calls),
 * destroyed once, every field the server checks (memory the session does
 * not hold, formats, channel counts, sizes, address and filter modes,
 * flags), what vgpu does not have (CUDA arrays, views), and an object
 * outliving its context.  The sim samples nothing: the GPU run of
 * tests/cuda/texture.cu reads through them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/lib_server.h"

static CUDA_RESOURCE_DESC linear(CUdeviceptr d, size_t bytes)
{
	CUDA_RESOURCE_DESC r;

	memset(&r, 0, sizeof(r));
	r.resType = CU_RESOURCE_TYPE_LINEAR;
	r.res.linear.devPtr = d;
	r.res.linear.format = CU_AD_FORMAT_FLOAT;
	r.res.linear.numChannels = 1;
	r.res.linear.sizeInBytes = bytes;
	return r;
}

static CUDA_TEXTURE_DESC sampling(void)
{
	CUDA_TEXTURE_DESC t;

	memset(&t, 0, sizeof(t));
	t.addressMode[0] = CU_TR_ADDRESS_MODE_CLAMP;
	t.filterMode = CU_TR_FILTER_MODE_POINT;
	t.flags = CU_TRSF_READ_AS_INTEGER;
	t.borderColor[2] = 0.5f;
	return t;
}

static void test_linear_and_pitched(void **state)
{
	CUDA_RESOURCE_DESC r = { 0 }, back;
	CUDA_TEXTURE_DESC t = sampling(), tback;
	CUDA_RESOURCE_VIEW_DESC view;
	CUtexObject a = 0, b = 0;
	CUdeviceptr d, p;
	size_t pitch;

	make_ctx();
	assert_int_equal(cuMemAlloc(&d, 4096), CUDA_SUCCESS);
	r = linear(d, 4096);
	assert_int_equal(cuTexObjectCreate(&a, &r, &t, NULL), CUDA_SUCCESS);
	assert_true(a != 0);
	assert_int_equal(cuTexObjectGetResourceDesc(&back, a), CUDA_SUCCESS);
	assert_memory_equal(&back, &r, sizeof(r));
	assert_int_equal(cuTexObjectGetTextureDesc(&tback, a), CUDA_SUCCESS);
	assert_memory_equal(&tback, &t, sizeof(t));
	memset(&view, 0xff, sizeof(view));
	assert_int_equal(cuTexObjectGetResourceViewDesc(&view, a), CUDA_SUCCESS);
	assert_int_equal(view.format, 0);

	/* pitched 2D: 64 x 16 float2 rows */
	assert_int_equal(cuMemAllocPitch(&p, &pitch, 64 * 8, 16, 8), CUDA_SUCCESS);
	memset(&r, 0, sizeof(r));
	r.resType = CU_RESOURCE_TYPE_PITCH2D;
	r.res.pitch2D.devPtr = p;
	r.res.pitch2D.format = CU_AD_FORMAT_FLOAT;
	r.res.pitch2D.numChannels = 2;
	r.res.pitch2D.width = 64;
	r.res.pitch2D.height = 16;
	r.res.pitch2D.pitchInBytes = pitch;
	t.filterMode = CU_TR_FILTER_MODE_LINEAR;
	t.flags = CU_TRSF_NORMALIZED_COORDINATES;
	assert_int_equal(cuTexObjectCreate(&b, &r, &t, NULL), CUDA_SUCCESS);
	assert_true(b != 0 && b != a);
	/* a row more than was allocated: memory the session does not hold */
	r.res.pitch2D.height = 17;
	assert_int_equal(cuTexObjectCreate(&b, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r.res.pitch2D.height = 16;
	r.res.pitch2D.pitchInBytes = 64 * 8 - 1;	/* shorter than a row */
	assert_int_equal(cuTexObjectCreate(&b, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuTexObjectDestroy(a), CUDA_SUCCESS);
	assert_int_equal(cuTexObjectDestroy(a), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuTexObjectGetResourceDesc(&back, a), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuTexObjectDestroy(b), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(p), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
	drop_ctx();
}

/* Every field the server checks, and what vgpu does not have. */
static void test_refused(void **state)
{
	CUDA_TEXTURE_DESC t = sampling();
	CUDA_RESOURCE_VIEW_DESC view;
	CUDA_RESOURCE_DESC r;
	CUtexObject o = 0;
	CUdeviceptr d;

	make_ctx();
	assert_int_equal(cuMemAlloc(&d, 4096), CUDA_SUCCESS);
	r = linear(d, 4096);
	assert_int_equal(cuTexObjectCreate(NULL, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuTexObjectCreate(&o, NULL, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuTexObjectCreate(&o, &r, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
	memset(&view, 0, sizeof(view));
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, &view), CUDA_ERROR_INVALID_VALUE);
	r.resType = CU_RESOURCE_TYPE_ARRAY;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_NOT_SUPPORTED);
	r = linear(d, 4096);
	r.flags = 1;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(d, 8192);		/* past the allocation */
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(d + 4096, 4);	/* just behind it */
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(0x1000, 4);		/* nobody's */
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(d, 4094);		/* not whole elements */
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(d, 4096);
	r.res.linear.numChannels = 3;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r.res.linear.numChannels = 1;
	r.res.linear.format = (CUarray_format)0x99;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	r = linear(d, 4096);
	t.addressMode[1] = (CUaddress_mode)7;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	t = sampling();
	t.filterMode = (CUfilter_mode)2;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	t = sampling();
	t.flags = 0x100;
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(o, 0);		/* nothing was handed out */
	assert_int_equal(cuTexObjectDestroy(12345), CUDA_ERROR_INVALID_VALUE);
	/* refusals hurt nothing */
	t = sampling();
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_SUCCESS);
	assert_int_equal(cuTexObjectDestroy(o), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
	drop_ctx();
}

/* A context destroyed first takes its objects on the server along; the handle still goes. */
static void test_outlives_context(void **state)
{
	CUDA_TEXTURE_DESC t = sampling();
	CUDA_RESOURCE_DESC r;
	CUtexObject o;
	CUdeviceptr d;
	CUcontext c;

	assert_int_equal(cuCtxCreate(&c, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&d, 256), CUDA_SUCCESS);
	r = linear(d, 256);
	assert_int_equal(cuTexObjectCreate(&o, &r, &t, NULL), CUDA_SUCCESS);
	assert_int_equal(cuCtxDestroy(c), CUDA_SUCCESS);
	assert_int_equal(cuTexObjectDestroy(o), CUDA_SUCCESS);
	assert_int_equal(cuTexObjectDestroy(o), CUDA_ERROR_INVALID_VALUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear_and_pitched),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_outlives_context),
	};

	return cmocka_run_group_tests(tests, lib_server_start, NULL);
}
