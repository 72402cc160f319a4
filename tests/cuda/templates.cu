// templates.cu - several kernels in one program: a function template
// instantiated for three types, a shared-memory reduction with dynamic
// shared memory, __constant__ and __device__ globals reached through
// cudaMemcpyToSymbol / cudaMemcpyFromSymbol, cudaMemset, function
// attributes and an occupancy query.  Prints "templates: OK" or
// "templates: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define TEST_NAME "templates"
#include "check.h"

__constant__ float coef[4];
__device__ unsigned int hits;

template <typename T>
__global__ void scale(T *p, T factor, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = p[i] * factor;
}

__global__ void poly(const float *x, float *y, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n) {
		float v = x[i];

		y[i] = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]));
		atomicAdd(&hits, 1u);
	}
}

__global__ void block_sum(const int *in, long long *out, int n)
{
	extern __shared__ long long part[];
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	part[threadIdx.x] = i < n ? in[i] : 0;
	__syncthreads();
	for (int s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s)
			part[threadIdx.x] += part[threadIdx.x + s];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		atomicAdd((unsigned long long *)out, (unsigned long long)part[0]);
}

template <typename T>
static int run_scale(const char *what, T factor)
{
	const int n = 100000;
	T *h = (T *)malloc(n * sizeof(T)), *d;

	for (int i = 0; i < n; i++)
		h[i] = (T)(i % 1000);
	CHECK(cudaMalloc(&d, n * sizeof(T)));
	CHECK(cudaMemcpy(d, h, n * sizeof(T), cudaMemcpyHostToDevice));
	scale<T><<<(n + 127) / 128, 128>>>(d, factor, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(h, d, n * sizeof(T), cudaMemcpyDeviceToHost));
	CHECK(cudaFree(d));
	for (int i = 0; i < n; i++)
		if (h[i] != (T)(i % 1000) * factor)
			FAIL("scale<%s>: element %d", what, i);
	free(h);
	return 0;
}

int main(void)
{
	const int n = 1 << 16;
	float hc[4] = { 1.0f, 0.5f, 0.25f, 0.125f }, *hx, *hy, *dx, *dy;
	int *hi, *di;
	long long *dsum, sum = 0, want = 0;
	unsigned int nhits = 0, zero = 0;
	struct cudaFuncAttributes fa;
	int blocks = 0;

	if (run_scale<float>("float", 1.5f) || run_scale<double>("double", -2.0) ||
	    run_scale<int>("int", 3))
		return 1;

	hx = (float *)malloc(n * sizeof(float));
	hy = (float *)malloc(n * sizeof(float));
	hi = (int *)malloc(n * sizeof(int));
	for (int i = 0; i < n; i++) {
		hx[i] = (float)(i % 17) * 0.25f;
		hi[i] = i % 101 - 50;
		want += hi[i];
	}
	CHECK(cudaMemcpyToSymbol(coef, hc, sizeof(hc)));
	CHECK(cudaMemcpyToSymbol(hits, &zero, sizeof(zero)));
	CHECK(cudaMalloc(&dx, n * sizeof(float)));
	CHECK(cudaMalloc(&dy, n * sizeof(float)));
	CHECK(cudaMemset(dy, 0, n * sizeof(float)));
	CHECK(cudaMemcpy(dx, hx, n * sizeof(float), cudaMemcpyHostToDevice));
	poly<<<n / 256, 256>>>(dx, dy, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(hy, dy, n * sizeof(float), cudaMemcpyDeviceToHost));
	CHECK(cudaMemcpyFromSymbol(&nhits, hits, sizeof(nhits)));
	for (int i = 0; i < n; i++) {
		float v = hx[i], w = hc[0] + v * (hc[1] + v * (hc[2] + v * hc[3]));

		if (hy[i] != w)
			FAIL("poly: element %d: %g != %g", i, hy[i], w);
	}
	if (nhits != (unsigned int)n)
		FAIL("poly: %u hits, want %d", nhits, n);

	CHECK(cudaMalloc(&di, n * sizeof(int)));
	CHECK(cudaMalloc(&dsum, sizeof(*dsum)));
	CHECK(cudaMemset(dsum, 0, sizeof(*dsum)));
	CHECK(cudaMemcpy(di, hi, n * sizeof(int), cudaMemcpyHostToDevice));
	CHECK(cudaFuncGetAttributes(&fa, block_sum));
	if (fa.maxThreadsPerBlock < 256)
		FAIL("block_sum: maxThreadsPerBlock %d", fa.maxThreadsPerBlock);
	CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, block_sum, 256,
							    256 * sizeof(long long)));
	if (blocks < 1)
		FAIL("block_sum: occupancy %d blocks per SM", blocks);
	block_sum<<<n / 256, 256, 256 * sizeof(long long)>>>(di, dsum, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	CHECK(cudaMemcpy(&sum, dsum, sizeof(sum), cudaMemcpyDeviceToHost));
	if (sum != want)
		FAIL("block_sum: %lld != %lld", sum, want);
	CHECK(cudaFree(dx));
	CHECK(cudaFree(dy));
	CHECK(cudaFree(di));
	CHECK(cudaFree(dsum));
	printf("templates: OK (3 instantiations, poly, block_sum; %d regs, %d blocks/SM)\n",
	       fa.numRegs, blocks);
	return 0;
}
