// mempool.cu - stream-ordered allocation.  The device's default pool
// (cudaDeviceGetDefaultMemPool) with the release threshold raised: two
// cudaMallocAsync buffers on a created stream, kernels using them, the
// pool's used/reserved memory attributes before and after cudaFreeAsync,
// then cudaMemPoolTrimTo.  A pool of our own (cudaMemPoolCreate):
// cudaMallocFromPoolAsync, a kernel, cudaFreeAsync, cudaMemPoolTrimTo and
// cudaMemPoolDestroy.  Prints "mempool: OK ..." or "mempool: FAIL <what>".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cuda_runtime.h>

#define TEST_NAME "mempool"
#include "check.h"

__global__ void fill(float *p, float base, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = base + (float)i;
}

__global__ void axpy(float *y, const float *x, float a, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		y[i] += a * x[i];
}

static int attr(cudaMemPool_t pool, enum cudaMemPoolAttr which, uint64_t *v)
{
	CHECK(cudaMemPoolGetAttribute(pool, which, v));
	return 0;
}

int main(void)
{
	const int n = 1 << 20, threads = 256, blocks = n / threads;
	const size_t bytes = n * sizeof(float);
	int dev;
	cudaStream_t s;
	cudaMemPool_t pool, mine;
	cudaMemPoolProps props = {};
	uint64_t threshold = UINT64_MAX, got = 0, used0, used1, used2, res1, res2;
	uint64_t untrimmed, trimmed;
	std::vector<float> h(n);
	float *x, *y, *z;

	CHECK(cudaGetDevice(&dev));
	CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
	CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
	CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
	CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &got));
	if (got != threshold)
		FAIL("release threshold reads back as %llu", (unsigned long long)got);
	if (attr(pool, cudaMemPoolAttrUsedMemCurrent, &used0))
		return 1;

	/* default pool: y = (i) + 0.5 * (1000 + i) */
	CHECK(cudaMallocAsync(&x, bytes, s));
	CHECK(cudaMallocAsync(&y, bytes, s));
	fill<<<blocks, threads, 0, s>>>(x, 1000.0f, n);
	fill<<<blocks, threads, 0, s>>>(y, 0.0f, n);
	axpy<<<blocks, threads, 0, s>>>(y, x, 0.5f, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpyAsync(h.data(), y, bytes, cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++)
		if (h[i] != (float)i + 0.5f * (1000.0f + (float)i))
			FAIL("default pool: y[%d] = %g", i, (double)h[i]);
	if (attr(pool, cudaMemPoolAttrUsedMemCurrent, &used1) ||
	    attr(pool, cudaMemPoolAttrReservedMemCurrent, &res1))
		return 1;
	if (used1 < used0 + 2 * bytes || res1 < used1)
		FAIL("with two buffers: used %llu (was %llu), reserved %llu",
		     (unsigned long long)used1, (unsigned long long)used0,
		     (unsigned long long)res1);
	CHECK(cudaFreeAsync(x, s));
	CHECK(cudaFreeAsync(y, s));
	CHECK(cudaStreamSynchronize(s));
	if (attr(pool, cudaMemPoolAttrUsedMemCurrent, &used2) ||
	    attr(pool, cudaMemPoolAttrReservedMemCurrent, &untrimmed))
		return 1;
	/* freed memory stays reserved under the raised threshold */
	if (used2 + 2 * bytes > used1 || untrimmed < 2 * bytes)
		FAIL("after cudaFreeAsync: used %llu (was %llu), reserved %llu",
		     (unsigned long long)used2, (unsigned long long)used1,
		     (unsigned long long)untrimmed);
	CHECK(cudaMemPoolTrimTo(pool, 0));
	if (attr(pool, cudaMemPoolAttrReservedMemCurrent, &trimmed))
		return 1;
	if (trimmed >= untrimmed)
		FAIL("cudaMemPoolTrimTo(0) left %llu of %llu bytes reserved",
		     (unsigned long long)trimmed, (unsigned long long)untrimmed);

	/* a pool of our own */
	props.allocType = cudaMemAllocationTypePinned;
	props.location.type = cudaMemLocationTypeDevice;
	props.location.id = dev;
	CHECK(cudaMemPoolCreate(&mine, &props));
	CHECK(cudaMemPoolSetAttribute(mine, cudaMemPoolAttrReleaseThreshold, &threshold));
	CHECK(cudaMallocFromPoolAsync((void **)&z, bytes, mine, s));
	fill<<<blocks, threads, 0, s>>>(z, -7.0f, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpyAsync(h.data(), z, bytes, cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++)
		if (h[i] != -7.0f + (float)i)
			FAIL("own pool: z[%d] = %g", i, (double)h[i]);
	if (attr(mine, cudaMemPoolAttrUsedMemCurrent, &used1) ||
	    attr(mine, cudaMemPoolAttrReservedMemCurrent, &res2))
		return 1;
	if (used1 < bytes || res2 < used1)
		FAIL("own pool: used %llu, reserved %llu", (unsigned long long)used1,
		     (unsigned long long)res2);
	CHECK(cudaFreeAsync(z, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemPoolTrimTo(mine, 0));
	if (attr(mine, cudaMemPoolAttrUsedMemCurrent, &used2) ||
	    attr(mine, cudaMemPoolAttrReservedMemCurrent, &res2))
		return 1;
	if (used2 != 0 || res2 != 0)
		FAIL("own pool after free and trim: used %llu, reserved %llu",
		     (unsigned long long)used2, (unsigned long long)res2);
	CHECK(cudaMemPoolDestroy(mine));
	CHECK(cudaStreamDestroy(s));
	printf("mempool: OK (default pool reserved %llu -> %llu after trim; own pool)\n",
	       (unsigned long long)untrimmed, (unsigned long long)trimmed);
	return 0;
}
