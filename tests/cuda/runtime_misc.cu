// runtime_misc.cu - runtime calls beyond the basics that programs use:
// device properties and PCI id, cudaMemGetInfo, limits, cudaMallocAsync /
// cudaFreeAsync, cudaLaunchHostFunc and cudaStreamAddCallback ordering,
// cudaFuncSetAttribute for more than 48 KiB of dynamic shared memory,
// cudaOccupancyMaxPotentialBlockSize and cudaLaunchKernelEx.
// Prints "runtime_misc: OK" or "runtime_misc: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define TEST_NAME "runtime_misc"
#include "check.h"

/* Reverse each block's slice through dynamic shared memory. */
__global__ void reverse_blocks(const int *in, int *out, int per_block)
{
	extern __shared__ int tile[];
	const int *src = in + (size_t)blockIdx.x * per_block;
	int *dst = out + (size_t)blockIdx.x * per_block;

	for (int i = threadIdx.x; i < per_block; i += blockDim.x)
		tile[i] = src[i];
	__syncthreads();
	for (int i = threadIdx.x; i < per_block; i += blockDim.x)
		dst[i] = tile[per_block - 1 - i];
}

__global__ void add_one(int *p, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] += 1;
}

struct order {
	int *host;	/* what the device wrote, copied back before the host work */
	int seen;
	int calls;
};

static void CUDART_CB host_fn(void *arg)
{
	struct order *o = (struct order *)arg;

	o->seen = o->host[0];
	o->calls++;
}

static void CUDART_CB stream_cb(cudaStream_t s, cudaError_t status, void *arg)
{
	struct order *o = (struct order *)arg;

	if (status == cudaSuccess)
		o->calls += 10;
}

int main(void)
{
	const int per_block = 16384, blocks = 64, n = per_block * blocks;	/* 64 KiB per block */
	size_t smem = per_block * sizeof(int), free_b = 0, total_b = 0, stack = 0;
	struct cudaDeviceProp prop;
	char bus[32];
	int *hin, *hout, *din, *dout, *dasync, min_grid = 0, block = 0;
	cudaStream_t s;
	struct order o = { NULL, -1, 0 };

	CHECK(cudaGetDeviceProperties(&prop, 0));
	if (prop.major < 7 || prop.multiProcessorCount < 1 || !prop.name[0])
		FAIL("device properties: %s cc %d.%d, %d SMs", prop.name, prop.major, prop.minor,
		     prop.multiProcessorCount);
	CHECK(cudaDeviceGetPCIBusId(bus, sizeof(bus), 0));
	if (!strchr(bus, ':'))
		FAIL("PCI bus id \"%s\"", bus);
	CHECK(cudaMemGetInfo(&free_b, &total_b));
	if (!total_b || free_b > total_b)
		FAIL("cudaMemGetInfo %zu of %zu", free_b, total_b);
	CHECK(cudaDeviceSetLimit(cudaLimitStackSize, 4096));
	CHECK(cudaDeviceGetLimit(&stack, cudaLimitStackSize));
	if (stack < 4096)
		FAIL("stack limit %zu", stack);

	hin = (int *)malloc(n * sizeof(int));
	CHECK(cudaMallocHost(&hout, n * sizeof(int)));
	for (int i = 0; i < n; i++)
		hin[i] = i;
	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&din, n * sizeof(int)));
	CHECK(cudaMallocAsync(&dout, n * sizeof(int), s));
	CHECK(cudaMemcpyAsync(din, hin, n * sizeof(int), cudaMemcpyHostToDevice, s));

	/* more than the default 48 KiB of dynamic shared memory needs opting in */
	CHECK(cudaFuncSetAttribute(reverse_blocks, cudaFuncAttributeMaxDynamicSharedMemorySize,
				   (int)smem));
	reverse_blocks<<<blocks, 256, smem, s>>>(din, dout, per_block);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpyAsync(hout, dout, n * sizeof(int), cudaMemcpyDeviceToHost, s));
	o.host = hout;
	CHECK(cudaLaunchHostFunc(s, host_fn, &o));
	CHECK(cudaStreamAddCallback(s, stream_cb, &o, 0));
	CHECK(cudaFreeAsync(dout, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++) {
		int b = i / per_block, k = i % per_block;

		if (hout[i] != b * per_block + per_block - 1 - k)
			FAIL("reverse_blocks: element %d = %d", i, hout[i]);
	}
	if (o.calls != 11 || o.seen != per_block - 1)
		FAIL("host work: calls %d, saw %d", o.calls, o.seen);

	/* occupancy-chosen block size, launched through cudaLaunchKernelEx */
	CHECK(cudaOccupancyMaxPotentialBlockSize(&min_grid, &block, add_one, 0, 0));
	if (block <= 0 || block > 1024 || min_grid <= 0)
		FAIL("max potential block size %d, grid %d", block, min_grid);
	CHECK(cudaMallocAsync(&dasync, n * sizeof(int), s));
	CHECK(cudaMemcpyAsync(dasync, hin, n * sizeof(int), cudaMemcpyHostToDevice, s));
	{
		cudaLaunchConfig_t cfg = {};
		int nn = n;

		cfg.gridDim = dim3((n + block - 1) / block);
		cfg.blockDim = dim3(block);
		cfg.stream = s;
		CHECK(cudaLaunchKernelEx(&cfg, add_one, dasync, nn));
	}
	CHECK(cudaMemcpyAsync(hout, dasync, n * sizeof(int), cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++)
		if (hout[i] != i + 1)
			FAIL("add_one: element %d = %d", i, hout[i]);
	CHECK(cudaFreeAsync(dasync, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaStreamDestroy(s));
	CHECK(cudaFree(din));
	CHECK(cudaFreeHost(hout));
	free(hin);
	printf("runtime_misc: OK (%s, cc %d.%d, %s, block %d)\n", prop.name, prop.major, prop.minor,
	       bus, block);
	return 0;
}
