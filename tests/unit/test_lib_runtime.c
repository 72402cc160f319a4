// SPDX-License-Identifier: MIT
/*
 * test_lib_runtime.c - the driver calls the CUDA runtime makes for
 * ordinary programs beyond the spine, against an in-process sim server
 * (lib_server.c): pinned host memory, pointer attributes, unified cuMemcpy,
 * pitched allocations, 2D/3D copies and 2D memsets, stream waits and
 * queries, host functions and callbacks, stream-ordered allocation,
 * context limits and properties, derived device queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "tests/unit/lib_server.h"

/* cuDeviceComputeCapability and cuDeviceGetProperties are deprecated, and still exported */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static void test_host_memory(void **state)
{
	enum { N = 1 << 16 };
	CUcontext c = make_ctx(), pc = NULL;
	CUdeviceptr d, d2, base, dp;
	size_t size;
	unsigned int type = 0, flags = 0, managed = 7;
	CUpointer_attribute attrs[] = { CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					CU_POINTER_ATTRIBUTE_IS_MANAGED,
					CU_POINTER_ATTRIBUTE_CONTEXT };
	void *data[] = { &type, &managed, &pc };
	uint32_t *h, *hr = malloc(N * 4), *plain = malloc(N * 4);

	assert_int_equal(cuMemHostAlloc((void **)&h, N * 4, CU_MEMHOSTALLOC_PORTABLE),
			 CUDA_SUCCESS);
	assert_int_equal((uintptr_t)h % 4096, 0);
	assert_int_equal(cuMemHostGetFlags(&flags, h + 10), CUDA_SUCCESS);
	assert_int_equal(flags, CU_MEMHOSTALLOC_PORTABLE);
	/* a device view, filled from the host buffer once; the same view asked again */
	{
		CUdeviceptr dp2;
		size_t fr0, fr1, tot;
		uint32_t back[4];

		h[16] = 0x5eed;
		assert_int_equal(cuMemGetInfo(&fr0, &tot), CUDA_SUCCESS);
		assert_int_equal(cuMemHostGetDevicePointer(&dp, h + 16, 0), CUDA_SUCCESS);
		assert_int_equal(cuMemHostGetDevicePointer(&dp2, h, 0), CUDA_SUCCESS);
		assert_true(dp == dp2 + 64);
		assert_int_equal(cuMemcpyDtoH(back, dp, sizeof(back)), CUDA_SUCCESS);
		assert_int_equal(back[0], 0x5eed);
		assert_int_equal(cuMemGetInfo(&fr1, &tot), CUDA_SUCCESS);
		assert_true(fr1 <= fr0 - N * 4);
		assert_int_equal(cuMemHostGetDevicePointer(&dp, h, 1), CUDA_ERROR_INVALID_VALUE);
		assert_int_equal(cuMemHostGetDevicePointer(&dp, plain, 0),
				 CUDA_ERROR_INVALID_VALUE);
	}
	assert_int_equal(cuMemHostRegister(hr, N * 4, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemHostRegister(hr + 8, 64, 0), CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
	assert_int_equal(cuMemAlloc(&d, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&d2, N * 4), CUDA_SUCCESS);

	/* what each address is */
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d + 100),
			 CUDA_SUCCESS);
	assert_int_equal(type, CU_MEMORYTYPE_DEVICE);
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					       (uintptr_t)h), CUDA_SUCCESS);
	assert_int_equal(type, CU_MEMORYTYPE_HOST);
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
					       (uintptr_t)plain), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuPointerGetAttributes(3, attrs, data, d), CUDA_SUCCESS);
	assert_int_equal(type, CU_MEMORYTYPE_DEVICE);
	assert_int_equal(managed, 0);
	assert_ptr_equal(pc, c);
	assert_int_equal(cuPointerGetAttributes(3, attrs, data, (uintptr_t)plain), CUDA_SUCCESS);
	assert_int_equal(type, 0);
	assert_null(pc);
	assert_int_equal(cuMemGetAddressRange(&base, &size, d + 1000), CUDA_SUCCESS);
	assert_true(base == d && size == N * 4);
	assert_int_equal(cuMemGetAddressRange(&base, &size, (uintptr_t)plain), CUDA_ERROR_NOT_FOUND);

	/* unified copies in every direction */
	for (int i = 0; i < N; i++)
		h[i] = (uint32_t)i * 3u;
	assert_int_equal(cuMemcpy(d, (uintptr_t)h, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyAsync(d2, d, N * 4, NULL), CUDA_SUCCESS);
	assert_int_equal(cuMemcpy((uintptr_t)hr, d2, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemcpy((uintptr_t)plain, (uintptr_t)hr, N * 4), CUDA_SUCCESS);
	assert_memory_equal(plain, h, N * 4);

	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, d),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemFree(d2), CUDA_SUCCESS);
	assert_int_equal(cuMemHostUnregister(hr), CUDA_SUCCESS);
	assert_int_equal(cuMemHostUnregister(hr), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
	assert_int_equal(cuMemFreeHost(plain), CUDA_ERROR_INVALID_VALUE);
	/* the device view goes with its host buffer */
	{
		size_t fr0, fr1, tot;

		assert_int_equal(cuMemGetInfo(&fr0, &tot), CUDA_SUCCESS);
		assert_int_equal(cuMemFreeHost(h), CUDA_SUCCESS);
		assert_int_equal(cuMemGetInfo(&fr1, &tot), CUDA_SUCCESS);
		assert_true(fr1 >= fr0 + N * 4);
	}
	assert_int_equal(cuMemAllocHost((void **)&h, 100), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeHost(h), CUDA_SUCCESS);
	free(hr);
	free(plain);
	drop_ctx();
}

static void test_streams_and_context(void **state)
{
	CUcontext c = make_ctx(), sc;
	CUstream s1, s2;
	CUevent e;
	size_t lim = 0;
	unsigned int v = 0;
	int prio = 1, least = 1, greatest = 1;
	unsigned long long id1 = 0, id2 = 0;
	CUfunc_cache cc;

	assert_int_equal(cuStreamCreateWithPriority(&s1, CU_STREAM_NON_BLOCKING, -1), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s2, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);
	assert_int_equal(cuEventRecordWithFlags(e, s1, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s2, e, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(NULL, e, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s2, (CUevent)s1, 0), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamQuery(s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamQuery(NULL), CUDA_SUCCESS);
	assert_int_equal(cuEventQuery(e), CUDA_SUCCESS);
	assert_int_equal(cuStreamGetFlags(s1, &v), CUDA_SUCCESS);
	assert_int_equal(v, CU_STREAM_NON_BLOCKING);
	assert_int_equal(cuStreamGetPriority(s1, &prio), CUDA_SUCCESS);
	assert_int_equal(prio, -1);
	assert_int_equal(cuStreamGetCtx(s2, &sc), CUDA_SUCCESS);
	assert_ptr_equal(sc, c);
	assert_int_equal(cuStreamGetId(s1, &id1), CUDA_SUCCESS);
	assert_int_equal(cuStreamGetId(s2, &id2), CUDA_SUCCESS);
	assert_true(id1 && id2 && id1 != id2);
	assert_int_equal(cuStreamGetId(NULL, &id1), CUDA_SUCCESS);
	assert_true(id1 == 0);
	assert_int_equal(cuCtxRecordEvent(c, e), CUDA_SUCCESS);
	assert_int_equal(cuCtxWaitEvent(c, e), CUDA_SUCCESS);
	assert_int_equal(cuCtxRecordEvent((CUcontext)e, e), CUDA_ERROR_INVALID_CONTEXT);
	assert_int_equal(cuEventDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s2), CUDA_SUCCESS);

	assert_int_equal(cuCtxGetLimit(&lim, CU_LIMIT_STACK_SIZE), CUDA_SUCCESS);
	assert_int_equal(lim, 1024);
	assert_int_equal(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 4096), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetLimit(&lim, CU_LIMIT_STACK_SIZE), CUDA_SUCCESS);
	assert_int_equal(lim, 4096);
	assert_int_equal(cuCtxSetLimit(CU_LIMIT_CIG_ENABLED, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuCtxGetLimit(&lim, (CUlimit)99), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuCtxGetApiVersion(c, &v), CUDA_SUCCESS);
	assert_int_equal(v, 3020);
	assert_int_equal(cuCtxGetFlags(&v), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetStreamPriorityRange(&least, &greatest), CUDA_SUCCESS);
	assert_true(least == 0 && greatest < 0);
	assert_int_equal(cuCtxGetId(c, &id1), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetId(NULL, &id2), CUDA_SUCCESS);
	assert_true(id1 && id1 == id2);
	assert_int_equal(cuCtxSetCacheConfig(CU_FUNC_CACHE_PREFER_L1), CUDA_SUCCESS);
	assert_int_equal(cuCtxGetCacheConfig(&cc), CUDA_SUCCESS);
	assert_int_equal(cc, CU_FUNC_CACHE_PREFER_L1);
	drop_ctx();
}

static int host_calls;
static CUresult cb_status = CUDA_ERROR_UNKNOWN;

static void host_fn(void *arg)
{
	host_calls += *(int *)arg;
}

static void stream_cb(CUstream s, CUresult status, void *arg)
{
	cb_status = status;
	host_calls += *(int *)arg;
}

/*
 * Stream attributes are recorded per stream (the default stream's in its
 * context) and answered back; a priority cannot change; bad values are
 * refused and change nothing.  With them, the context queries of the same
 * kind: execution affinity, the shared-memory bank size.
 */
static void test_stream_attributes(void **state)
{
	CUstreamAttrValue v, back;
	CUexecAffinityParam aff;
	CUsharedconfig bank;
	CUcontext c = make_ctx(), sc = NULL;
	CUgreenCtx g = (CUgreenCtx)1;
	CUstream s, t;
	int sms = 0, support = 1;

	assert_int_equal(cuStreamCreateWithPriority(&s, CU_STREAM_NON_BLOCKING, -2), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&t, 0), CUDA_SUCCESS);
	/* defaults */
	assert_int_equal(cuStreamGetAttribute(s, CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY, &back),
			 CUDA_SUCCESS);
	assert_int_equal(back.syncPolicy, CU_SYNC_POLICY_AUTO);
	assert_int_equal(cuStreamGetAttribute(s, CU_STREAM_ATTRIBUTE_PRIORITY, &back),
			 CUDA_SUCCESS);
	assert_int_equal(back.priority, -2);
	assert_int_equal(cuStreamGetAttribute(s, CU_STREAM_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP, &back),
			 CUDA_SUCCESS);
	assert_true(back.memSyncDomainMap.default_ == 0 && back.memSyncDomainMap.remote == 1);
	/* an access policy window, recorded and copied to another stream */
	memset(&v, 0, sizeof(v));
	v.accessPolicyWindow.base_ptr = (void *)0x1000;
	v.accessPolicyWindow.num_bytes = 1 << 20;
	v.accessPolicyWindow.hitRatio = 0.6f;
	v.accessPolicyWindow.hitProp = CU_ACCESS_PROPERTY_PERSISTING;
	v.accessPolicyWindow.missProp = CU_ACCESS_PROPERTY_STREAMING;
	assert_int_equal(cuStreamSetAttribute(s, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, &v),
			 CUDA_SUCCESS);
	assert_int_equal(cuStreamCopyAttributes(t, s), CUDA_SUCCESS);
	assert_int_equal(cuStreamGetAttribute(t, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, &back),
			 CUDA_SUCCESS);
	assert_memory_equal(&back.accessPolicyWindow, &v.accessPolicyWindow,
			    sizeof(v.accessPolicyWindow));
	assert_int_equal(cuCtxResetPersistingL2Cache(), CUDA_SUCCESS);
	/* the default stream's are its context's */
	v.syncPolicy = CU_SYNC_POLICY_BLOCKING_SYNC;
	assert_int_equal(cuStreamSetAttribute(NULL, CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY, &v),
			 CUDA_SUCCESS);
	assert_int_equal(cuStreamGetAttribute(NULL, CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY,
					      &back), CUDA_SUCCESS);
	assert_int_equal(back.syncPolicy, CU_SYNC_POLICY_BLOCKING_SYNC);
	assert_int_equal(cuStreamGetAttribute(t, CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY, &back),
			 CUDA_SUCCESS);
	assert_int_equal(back.syncPolicy, CU_SYNC_POLICY_AUTO);
	/* refused, and nothing changed */
	v.accessPolicyWindow.hitRatio = 1.5f;
	assert_int_equal(cuStreamSetAttribute(s, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, &v),
			 CUDA_ERROR_INVALID_VALUE);
	v.syncPolicy = (CUsynchronizationPolicy)9;
	assert_int_equal(cuStreamSetAttribute(s, CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY, &v),
			 CUDA_ERROR_INVALID_VALUE);
	v.priority = 0;
	assert_int_equal(cuStreamSetAttribute(s, CU_STREAM_ATTRIBUTE_PRIORITY, &v),
			 CUDA_ERROR_NOT_SUPPORTED);
	v.priority = -2;
	assert_int_equal(cuStreamSetAttribute(s, CU_STREAM_ATTRIBUTE_PRIORITY, &v), CUDA_SUCCESS);
	assert_int_equal(cuStreamSetAttribute(s, (CUstreamAttrID)99, &v), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuStreamGetAttribute(s, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuStreamGetAttribute(s, CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW, &back),
			 CUDA_SUCCESS);
	assert_true(back.accessPolicyWindow.hitRatio == 0.6f);
	assert_int_equal(cuStreamGetAttribute((CUstream)&v, CU_STREAM_ATTRIBUTE_PRIORITY, &back),
			 CUDA_ERROR_INVALID_HANDLE);
	/* the stream's context; no green contexts here */
	assert_int_equal(cuStreamGetCtx_v2(s, &sc, &g), CUDA_SUCCESS);
	assert_true(sc == c && g == NULL);
	assert_int_equal(cuStreamDestroy(t), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);

	/* context queries: all SMs of the device; no contexts with fewer offered */
	assert_int_equal(cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0),
			 CUDA_SUCCESS);
	assert_int_equal(cuCtxGetExecAffinity(&aff, CU_EXEC_AFFINITY_TYPE_SM_COUNT), CUDA_SUCCESS);
	assert_int_equal(aff.param.smCount.val, sms);
	assert_int_equal(cuCtxGetExecAffinity(&aff, CU_EXEC_AFFINITY_TYPE_MAX),
			 CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY);
	assert_int_equal(cuDeviceGetExecAffinitySupport(&support, CU_EXEC_AFFINITY_TYPE_SM_COUNT,
							0), CUDA_SUCCESS);
	assert_int_equal(support, 0);
	assert_int_equal(cuDeviceGetExecAffinitySupport(&support, CU_EXEC_AFFINITY_TYPE_SM_COUNT,
							7), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuCtxGetSharedMemConfig(&bank), CUDA_SUCCESS);
	assert_int_equal(bank, CU_SHARED_MEM_CONFIG_FOUR_BYTE_BANK_SIZE);
	assert_int_equal(cuCtxSetSharedMemConfig(CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE),
			 CUDA_SUCCESS);
	assert_int_equal(cuCtxSetSharedMemConfig((CUsharedconfig)5), CUDA_ERROR_INVALID_VALUE);
	drop_ctx();
}

static void test_device_queries_and_host_work(void **state)
{
	char bus[32];
	CUdevice dev = -1;
	CUdevprop prop;
	CUstream s;
	CUdeviceptr d;
	int major = 0, minor = 0, can = 1, one = 1, ten = 10;

	assert_int_equal(cuDeviceGetPCIBusId(bus, sizeof(bus), 0), CUDA_SUCCESS);
	assert_int_equal(strlen(bus), 16);	/* dddddddd:bb:dd.0 */
	assert_int_equal(cuDeviceGetByPCIBusId(&dev, bus), CUDA_SUCCESS);
	assert_int_equal(dev, 0);
	assert_int_equal(cuDeviceGetByPCIBusId(&dev, "ffff:ff:1f.0"), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuDeviceComputeCapability(&major, &minor, 0), CUDA_SUCCESS);
	assert_true(major == 9 && minor == 0);
	assert_int_equal(cuDeviceGetProperties(&prop, 0), CUDA_SUCCESS);
	assert_int_equal(prop.maxThreadsPerBlock, 1024);
	assert_int_equal(prop.SIMDWidth, 32);
	assert_int_equal(cuDeviceCanAccessPeer(&can, 0, 0), CUDA_SUCCESS);
	assert_int_equal(can, 0);

	make_ctx();
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemAllocAsync(&d, 4096, s), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32Async(d, 7, 1024, s), CUDA_SUCCESS);
	assert_int_equal(cuLaunchHostFunc(s, host_fn, &one), CUDA_SUCCESS);
	assert_int_equal(cuStreamAddCallback(s, stream_cb, &ten, 0), CUDA_SUCCESS);
	assert_int_equal(host_calls, 11);	/* ran in stream order, before returning */
	assert_int_equal(cb_status, CUDA_SUCCESS);
	assert_int_equal(cuStreamAddCallback(s, stream_cb, &ten, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLaunchHostFunc(s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAllocAsync(&d, 64, (CUstream)&one), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	drop_ctx();
}

static void test_pitched(void **state)
{
	enum { W = 100, H = 30, D = 3 };
	uint32_t a[H][W], b[H][W], vol[D][H][W], back[D][H][W];
	uint8_t bytes[H][W];
	CUdeviceptr dp, dp2, dv;
	size_t pitch = 0, pitch2 = 0;
	CUDA_MEMCPY2D c = { 0 };
	CUDA_MEMCPY3D c3 = { 0 };

	make_ctx();
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			a[y][x] = (uint32_t)(y * 1000 + x);
	assert_int_equal(cuMemAllocPitch(&dp, &pitch, W * 4, H, 4), CUDA_SUCCESS);
	assert_int_equal(pitch, 512);
	assert_int_equal(cuMemAllocPitch(&dp2, &pitch2, W * 4, H, 3), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAllocPitch(&dp2, &pitch2, W * 4, H, 16), CUDA_SUCCESS);

	/* host -> pitched device -> other pitched device -> host */
	c.srcMemoryType = CU_MEMORYTYPE_HOST;
	c.srcHost = a;
	c.srcPitch = W * 4;
	c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
	c.dstDevice = dp;
	c.dstPitch = pitch;
	c.WidthInBytes = W * 4;
	c.Height = H;
	assert_int_equal(cuMemcpy2D(&c), CUDA_SUCCESS);
	c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	c.srcDevice = dp;
	c.srcPitch = pitch;
	c.dstDevice = dp2;
	c.dstPitch = pitch2;
	assert_int_equal(cuMemcpy2DAsync(&c, NULL), CUDA_SUCCESS);
	memset(&c, 0, sizeof(c));
	c.srcMemoryType = CU_MEMORYTYPE_UNIFIED;
	c.srcDevice = dp2;
	c.srcPitch = pitch2;
	c.dstMemoryType = CU_MEMORYTYPE_UNIFIED;
	c.dstDevice = (uintptr_t)b;
	c.dstPitch = W * 4;
	c.WidthInBytes = W * 4;
	c.Height = H;
	assert_int_equal(cuMemcpy2D(&c), CUDA_SUCCESS);
	assert_memory_equal(a, b, sizeof(a));

	/* a 5 x 7 sub-rectangle at (3, 2) */
	memset(b, 0, sizeof(b));
	c.srcXInBytes = c.dstXInBytes = 3 * 4;
	c.srcY = c.dstY = 2;
	c.WidthInBytes = 5 * 4;
	c.Height = 7;
	assert_int_equal(cuMemcpy2D(&c), CUDA_SUCCESS);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			assert_int_equal(b[y][x], x >= 3 && x < 8 && y >= 2 && y < 9 ? a[y][x] : 0);
	c.WidthInBytes = pitch2 + 4;	/* wider than a row */
	assert_int_equal(cuMemcpy2D(&c), CUDA_ERROR_INVALID_VALUE);
	c.srcMemoryType = CU_MEMORYTYPE_ARRAY;
	assert_int_equal(cuMemcpy2D(&c), CUDA_ERROR_NOT_SUPPORTED);

	/* memsets leave the padding alone */
	assert_int_equal(cuMemsetD2D8(dp, pitch, 0x5a, W, H), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD2D32(dp2, pitch2, 0x01020304, W, H), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD2D16Async(dp2, pitch2, 0x0707, 2, H, NULL), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(bytes[0], dp, W), CUDA_SUCCESS);
	for (int x = 0; x < W; x++)
		assert_int_equal(bytes[0][x], 0x5a);
	assert_int_equal(cuMemcpyDtoH(b[0], dp2 + pitch2, W * 4), CUDA_SUCCESS);
	assert_int_equal(b[0][0], 0x07070707);
	assert_int_equal(b[0][1], 0x01020304);
	assert_int_equal(b[0][W - 1], 0x01020304);
	assert_int_equal(cuMemsetD2D32(dp2, 6, 0, W, H), CUDA_ERROR_INVALID_VALUE);

	/* a volume, in and out */
	for (int z = 0; z < D; z++)
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				vol[z][y][x] = (uint32_t)(z * 100000 + y * 1000 + x);
	assert_int_equal(cuMemAlloc(&dv, (size_t)512 * H * D), CUDA_SUCCESS);
	c3.srcMemoryType = CU_MEMORYTYPE_HOST;
	c3.srcHost = vol;
	c3.srcPitch = W * 4;
	c3.srcHeight = H;
	c3.dstMemoryType = CU_MEMORYTYPE_DEVICE;
	c3.dstDevice = dv;
	c3.dstPitch = 512;
	c3.dstHeight = H;
	c3.WidthInBytes = W * 4;
	c3.Height = H;
	c3.Depth = D;
	assert_int_equal(cuMemcpy3D(&c3), CUDA_SUCCESS);
	memset(&c3, 0, sizeof(c3));
	c3.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	c3.srcDevice = dv;
	c3.srcPitch = 512;
	c3.srcHeight = H;
	c3.dstMemoryType = CU_MEMORYTYPE_HOST;
	c3.dstHost = back;
	c3.dstPitch = W * 4;
	c3.dstHeight = H;
	c3.WidthInBytes = W * 4;
	c3.Height = H;
	c3.Depth = D;
	assert_int_equal(cuMemcpy3DAsync(&c3, NULL), CUDA_SUCCESS);
	assert_memory_equal(vol, back, sizeof(vol));
	assert_int_equal(cuMemFree(dv), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(dp), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(dp2), CUDA_SUCCESS);
	drop_ctx();
}

CUresult vgpuDeviceGetUtilization(CUdevice dev, unsigned int *gpu_pct, unsigned int *mem_pct);

/* GPU_UTILIZATION on the sim: the share of time since the last question its kernels ran. */
static void test_utilization(void **state)
{
	CUmodule m;
	CUfunction spin;
	unsigned int gpu = 999, mem = 999, ms = 200;
	void *params[] = { &ms };

	make_ctx();
	assert_int_equal(vgpuDeviceGetUtilization(0, &gpu, &mem), CUDA_SUCCESS);
	assert_true(gpu <= 100 && mem <= 100);
	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&spin, m, "spin"), CUDA_SUCCESS);
	assert_int_equal(vgpuDeviceGetUtilization(0, &gpu, &mem), CUDA_SUCCESS);	/* restart */
	assert_int_equal(cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(vgpuDeviceGetUtilization(0, &gpu, &mem), CUDA_SUCCESS);
	print_message("utilization after a 200 ms spin: gpu %u%% memory %u%%\n", gpu, mem);
	assert_true(gpu >= 50);		/* 200 ms of spinning in a little more wall time */
	usleep(200 * 1000);
	assert_int_equal(vgpuDeviceGetUtilization(0, &gpu, &mem), CUDA_SUCCESS);
	assert_true(gpu <= 10);		/* idle since */
	assert_int_equal(vgpuDeviceGetUtilization(7, &gpu, &mem), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(vgpuDeviceGetUtilization(0, NULL, &mem), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	drop_ctx();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_memory),
		cmocka_unit_test(test_pitched),
		cmocka_unit_test(test_streams_and_context),
		cmocka_unit_test(test_stream_attributes),
		cmocka_unit_test(test_device_queries_and_host_work),
		cmocka_unit_test(test_utilization),
	};

	return cmocka_run_group_tests(tests, lib_server_start, NULL);
}
