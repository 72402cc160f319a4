// device_reset.cu - work, cudaDeviceReset, and the same work again: the
// reset destroys the primary context and everything in it, and the runtime
// must start over on first use, with the library and kernel handles it
// kept from before (as many samples end or restart with cudaDeviceReset).
// Prints "device_reset: OK" or "device_reset: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define TEST_NAME "device_reset"
#include "check.h"

__constant__ int offset;

__global__ void add_offset(int *p, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] += offset;
}

static int round_trip(int round, int *h, int n)
{
	int *d, off = 10 * (round + 1);

	for (int i = 0; i < n; i++)
		h[i] = i;
	CHECK(cudaMemcpyToSymbol(offset, &off, sizeof(off)));
	CHECK(cudaMalloc(&d, n * sizeof(int)));
	CHECK(cudaMemcpy(d, h, n * sizeof(int), cudaMemcpyHostToDevice));
	add_offset<<<(n + 255) / 256, 256>>>(d, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(h, d, n * sizeof(int), cudaMemcpyDeviceToHost));
	CHECK(cudaFree(d));
	for (int i = 0; i < n; i++)
		if (h[i] != i + off)
			FAIL("round %d: element %d = %d", round, i, h[i]);
	return 0;
}

int main(void)
{
	const int n = 1 << 18;
	int *h = (int *)malloc(n * sizeof(int));

	for (int round = 0; round < 3; round++) {
		if (round_trip(round, h, n))
			return 1;
		CHECK(cudaDeviceReset());
	}
	free(h);
	printf("device_reset: OK (3 rounds, each ended by cudaDeviceReset)\n");
	return 0;
}
