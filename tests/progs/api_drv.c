// SPDX-License-Identifier: MIT
/*
 * api_drv [IMAGE] - every driver call lib/ implements besides saxpy's and
 * reduce's, and its failure paths: device queries, driver version, context
 * stack and primary context, memory info, memsets, device-to-device and
 * async copies on a stream, events, a module global and a launch (both
 * parameter forms), cuGetProcAddress, an unimplemented entry point, error
 * names; then a bogus free, a launch of an invalid function and a copy from
 * an unallocated address must fail without hurting the context.
 * Prints "api checks=N failed=F OK"; exit 0 only when nothing failed.
 */
#include "tests/progs/prog.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* per-thread default stream form: cuda.h declares it only in that mode */
CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dst, const void *src, size_t n);

#define BUF_BYTES	(1u << 20)
#define WORDS		(BUF_BYTES / 4)

static int checks, failed;

#define EXPECT(cond, ...)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failed++;					\
			fprintf(stderr, "api_drv:%d: FAIL %s: ", __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
		}							\
	} while (0)

/* A call that must return want (checked, not fatal). */
#define EXPECT_RC(call, want)						\
	do {								\
		CUresult rc_ = (call);					\
		EXPECT(rc_ == (want), "%s returned %s", #call, prog_err(rc_)); \
	} while (0)

static bool all_u32(const uint32_t *p, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void devices(CUdevice *dev)
{
	int version = 0, count = 0, v = 0;
	char name[256] = "";
	CUuuid uuid, zero = { { 0 } };
	size_t total = 0;
	CUdevice bad;

	CK(cuDriverGetVersion(&version));
	EXPECT(version >= 12000, "driver version %d", version);
	CK(cuInit(0));
	CK(cuDeviceGetCount(&count));
	EXPECT(count >= 1, "%d devices", count);
	CK(cuDeviceGet(dev, 0));
	EXPECT_RC(cuDeviceGet(&bad, count), CUDA_ERROR_INVALID_DEVICE);
	CK(cuDeviceGetName(name, sizeof(name), *dev));
	EXPECT(name[0], "empty device name");
	CK(cuDeviceGetUuid(&uuid, *dev));
	EXPECT(memcmp(&uuid, &zero, sizeof(uuid)), "all-zero UUID");
	CK(cuDeviceTotalMem(&total, *dev));
	EXPECT(total > 0, "total memory %zu", total);
	CK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_WARP_SIZE, *dev));
	EXPECT(v == 32, "warp size %d", v);
	CK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, *dev));
	EXPECT(v >= 5, "compute capability major %d", v);
	CK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, *dev));
	EXPECT(v >= 256, "max threads per block %d", v);
	CK(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, *dev));
	EXPECT(v >= 1, "SM count %d", v);
	EXPECT_RC(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_MAX, *dev),
		  CUDA_ERROR_INVALID_VALUE);
	printf("device 0: %s, %zu MiB, driver API %d\n", name, total >> 20, version);
}

/* Primary context current, a created one pushed over it; returns the created one. */
static CUcontext contexts(CUdevice dev, CUcontext *primary)
{
	CUcontext p2, c, cur = NULL, popped = NULL;
	CUdevice d = -1;

	CK(cuDevicePrimaryCtxRetain(primary, dev));
	CK(cuDevicePrimaryCtxRetain(&p2, dev));
	EXPECT(p2 == *primary, "second retain gave another context");
	CK(cuCtxSetCurrent(*primary));
	CK(cuCtxGetCurrent(&cur));
	EXPECT(cur == *primary, "current is not the primary context");
	CK(cuCtxGetDevice(&d));
	EXPECT(d == dev, "context device %d", d);

	CK(cuCtxCreate(&c, NULL, 0, dev));
	CK(cuCtxGetCurrent(&cur));
	EXPECT(cur == c, "a new context is not current");
	CK(cuCtxPopCurrent(&popped));
	EXPECT(popped == c, "popped another context");
	CK(cuCtxGetCurrent(&cur));
	EXPECT(cur == *primary, "primary not current after pop");
	CK(cuCtxPushCurrent(c));
	CK(cuCtxGetCurrent(&cur));
	EXPECT(cur == c, "pushed context not current");
	CK(cuCtxSynchronize());
	return c;
}

static void memory(CUstream s, CUdeviceptr a, CUdeviceptr b)
{
	uint32_t *host = malloc(BUF_BYTES), *back = malloc(BUF_BYTES);
	uint8_t *bytes = (uint8_t *)back;
	size_t free_b = 0, total_b = 0;
	bool ok = true;

	CK(cuMemGetInfo(&free_b, &total_b));
	EXPECT(total_b > 0 && free_b <= total_b, "mem info free %zu total %zu", free_b, total_b);

	CK(cuMemsetD8(a, 0xab, BUF_BYTES));
	CK(cuMemcpyDtoH(back, a, BUF_BYTES));
	for (size_t i = 0; i < BUF_BYTES; i++)
		ok &= bytes[i] == 0xab;
	EXPECT(ok, "memset D8 pattern");
	CK(cuMemsetD32(a, 0x12345678, WORDS / 2));
	CK(cuMemcpyDtoH(back, a, BUF_BYTES));
	EXPECT(all_u32(back, WORDS / 2, 0x12345678) && all_u32(back + WORDS / 2, WORDS / 2, 0xabababab),
	       "memset D32 pattern");
	CK(cuMemcpyDtoD(b, a, BUF_BYTES));
	memset(back, 0, BUF_BYTES);
	CK(cuMemcpyDtoH(back, b, BUF_BYTES));
	EXPECT(all_u32(back, WORDS / 2, 0x12345678), "DtoD copy");

	for (uint32_t i = 0; i < WORDS; i++)
		host[i] = i * 2654435761u;
	CK(cuMemcpyHtoDAsync(a, host, BUF_BYTES, s));
	CK(cuMemcpyDtoDAsync(b, a, BUF_BYTES, s));
	CK(cuMemsetD32Async(a, 7, WORDS, s));
	CK(cuMemcpyDtoHAsync(back, b, BUF_BYTES, s));
	CK(cuStreamSynchronize(s));
	EXPECT(!memcmp(back, host, BUF_BYTES), "async copies on a stream");
	CK(cuMemcpyDtoH(back, a, 64));
	EXPECT(all_u32(back, 16, 7), "async memset");
	free(host);
	free(back);
}

static void module(CUmodule mod, CUstream s, CUdeviceptr a)
{
	uint32_t counter = 0x1234abcd, back = 0, *words = malloc(4096 * 4);
	CUdeviceptr g = 0;
	size_t gsize = 0;
	CUfunction fill, fill2, spin, none;
	CUevent e0, e1;
	unsigned int v = 0xdeadbeef;
	int n = 4096, ms = 20;
	void *params[] = { &a, &v, &n }, *spin_params[] = { &ms };
	struct { CUdeviceptr p; unsigned int v; int n; } packed = { a, 0xfeedf00d, 4096 };
	size_t packed_size = sizeof(packed);
	void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &packed,
			  CU_LAUNCH_PARAM_BUFFER_SIZE, &packed_size, CU_LAUNCH_PARAM_END };
	float elapsed = -1;

	CK(cuModuleGetGlobal(&g, &gsize, mod, "sim_counter"));
	EXPECT(g && gsize == 4, "sim_counter at %#llx size %zu", (unsigned long long)g, gsize);
	CK(cuMemcpyHtoD(g, &counter, 4));
	CK(cuMemcpyDtoH(&back, g, 4));
	EXPECT(back == counter, "sim_counter read back %#x", back);

	CK(cuModuleGetFunction(&fill, mod, "fill_u32"));
	CK(cuModuleGetFunction(&fill2, mod, "fill_u32"));
	EXPECT(fill == fill2, "same name, another function handle");
	EXPECT_RC(cuModuleGetFunction(&none, mod, "noSuchKernel"), CUDA_ERROR_NOT_FOUND);
	CK(cuLaunchKernel(fill, 16, 1, 1, 256, 1, 1, 0, s, params, NULL));
	CK(cuStreamSynchronize(s));
	CK(cuMemcpyDtoH(words, a, 4096 * 4));
	EXPECT(all_u32(words, 4096, 0xdeadbeef), "fill_u32 with kernelParams");
	CK(cuLaunchKernel(fill, 16, 1, 1, 256, 1, 1, 0, NULL, NULL, extra));
	CK(cuCtxSynchronize());
	CK(cuMemcpyDtoH(words, a, 4096 * 4));
	EXPECT(all_u32(words, 4096, 0xfeedf00d), "fill_u32 with a packed buffer");

	CK(cuModuleGetFunction(&spin, mod, "spin"));
	CK(cuEventCreate(&e0, CU_EVENT_DEFAULT));
	CK(cuEventCreate(&e1, CU_EVENT_DEFAULT));
	CK(cuEventRecord(e0, s));
	CK(cuLaunchKernel(spin, 1, 1, 1, 1, 1, 1, 0, s, spin_params, NULL));
	CK(cuEventRecord(e1, s));
	CK(cuEventSynchronize(e1));
	CK(cuEventElapsedTime(&elapsed, e0, e1));
	EXPECT(elapsed >= 10 && elapsed < 5000, "spin(20) took %.3f ms", elapsed);
	CK(cuEventDestroy(e0));
	CK(cuEventDestroy(e1));
	free(words);
}

static void entry_points(void)
{
	CUdriverProcAddressQueryResult st = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
	void *fn = NULL;
	const char *str = NULL;
	CUgraph graph;
	CUdeviceptr p = 0;

	CK(cuGetProcAddress("cuMemAlloc", &fn, 13000, 0, &st));
	EXPECT(st == CU_GET_PROC_ADDRESS_SUCCESS && fn == (void *)cuMemAlloc_v2,
	       "cuMemAlloc -> %p, status %d", fn, st);
	if (fn == (void *)cuMemAlloc_v2) {
		CK(((CUresult (*)(CUdeviceptr *, size_t))fn)(&p, 4096));
		CK(cuMemFree(p));
	}
	CK(cuGetProcAddress("cuMemcpyHtoD", &fn, 13000,
			    CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st));
	EXPECT(fn == (void *)cuMemcpyHtoD_v2_ptds, "per-thread cuMemcpyHtoD -> %p", fn);
	fn = (void *)1;
	EXPECT_RC(cuGetProcAddress("noSuchFunction", &fn, 13000, 0, &st), CUDA_SUCCESS);
	EXPECT(!fn && st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND,
	       "noSuchFunction -> %p, status %d", fn, st);

	/* graphs work everywhere; CUDA arrays are not served by vgpu yet
	 * (tests/gpu/run.sh sets VGPU_NATIVE=1 for its baseline run) */
	CK(cuGraphCreate(&graph, 0));
	CK(cuGraphDestroy(graph));
	if (!getenv("VGPU_NATIVE")) {
		CUDA_ARRAY_DESCRIPTOR ad = { .Width = 64, .Format = CU_AD_FORMAT_FLOAT,
					     .NumChannels = 1 };
		CUarray arr;

		EXPECT_RC(cuArrayCreate(&arr, &ad), CUDA_ERROR_NOT_SUPPORTED);
	}

	CK(cuGetErrorName(CUDA_ERROR_INVALID_VALUE, &str));
	EXPECT(str && !strcmp(str, "CUDA_ERROR_INVALID_VALUE"), "error name %s", str);
	CK(cuGetErrorString(CUDA_ERROR_OUT_OF_MEMORY, &str));
	EXPECT(str && *str, "no error string");
	EXPECT_RC(cuGetErrorName((CUresult)12345, &str), CUDA_ERROR_INVALID_VALUE);
}

static void failures(CUdeviceptr a)
{
	uint32_t buf[16];
	CUdeviceptr p = 0;
	int dummy = 0;
	void *params[] = { &dummy };

	EXPECT(cuMemFree(a + 0x100000000ull) != CUDA_SUCCESS, "freeing a bogus pointer worked");
	EXPECT(cuLaunchKernel((CUfunction)&dummy, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL) !=
	       CUDA_SUCCESS, "launching an invalid function worked");
	EXPECT(cuMemcpyDtoH(buf, 0x1000, sizeof(buf)) != CUDA_SUCCESS,
	       "a copy from an unallocated address worked");
	/* and the context is still usable */
	CK(cuMemAlloc(&p, 4096));
	CK(cuMemFree(p));
}

int main(int argc, char **argv)
{
	CUcontext primary, ctx;
	CUdevice dev;
	CUstream s;
	CUmodule mod;
	CUdeviceptr a, b;

	devices(&dev);
	ctx = contexts(dev, &primary);
	CK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
	CK(cuMemAlloc(&a, BUF_BYTES));
	CK(cuMemAlloc(&b, BUF_BYTES));
	memory(s, a, b);
	mod = prog_load(argc > 1 ? argv[1] : NULL);
	module(mod, s, a);
	entry_points();
	failures(a);

	CK(cuModuleUnload(mod));
	CK(cuStreamDestroy(s));
	CK(cuMemFree(a));
	CK(cuMemFree(b));
	CK(cuCtxDestroy(ctx));
	CK(cuDevicePrimaryCtxRelease(dev));
	CK(cuDevicePrimaryCtxRelease(dev));
	printf("api checks=%d failed=%d %s\n", checks, failed, failed ? "FAILED" : "OK");
	return failed ? 1 : 0;
}
