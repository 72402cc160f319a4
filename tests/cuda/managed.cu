// managed.cu - cudaMallocManaged, which vgpu documents as unsupported: if
// the allocation works, the host writes, a kernel updates and the host
// reads the result ("managed: OK supported"); if it fails with
// cudaErrorNotSupported, the failure must be clean: the error is not sticky
// and ordinary device memory and kernels still work ("managed: OK
// not-supported (cudaErrorNotSupported)").  Any other failure is a FAIL.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define TEST_NAME "managed"
#include "check.h"

__global__ void triple_plus(int *p, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = 3 * p[i] + 1;
}

int main(void)
{
	const int n = 1 << 16;
	int *m = NULL, *d;
	cudaError_t e;

	CHECK(cudaFree(0));
	e = cudaMallocManaged(&m, n * sizeof(int), cudaMemAttachGlobal);
	if (e == cudaSuccess) {
		for (int i = 0; i < n; i++)
			m[i] = i;
		triple_plus<<<n / 256, 256>>>(m, n);
		CHECK(cudaGetLastError());
		CHECK(cudaDeviceSynchronize());
		for (int i = 0; i < n; i++)
			if (m[i] != 3 * i + 1)
				FAIL("managed[%d] = %d, want %d", i, m[i], 3 * i + 1);
		CHECK(cudaFree(m));
		printf("managed: OK supported\n");
		return 0;
	}
	if (e != cudaErrorNotSupported)
		FAIL("cudaMallocManaged: %s (%d)", cudaGetErrorString(e), (int)e);

	/* the failure was clean: not sticky, and the device still works */
	e = cudaGetLastError();
	if (e != cudaErrorNotSupported && e != cudaSuccess)
		FAIL("cudaGetLastError after the failed allocation: %s (%d)",
		     cudaGetErrorString(e), (int)e);
	CHECK(cudaGetLastError());
	CHECK(cudaMalloc(&d, n * sizeof(int)));
	CHECK(cudaMemset(d, 0, n * sizeof(int)));
	triple_plus<<<n / 256, 256>>>(d, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	int *h = (int *)malloc(n * sizeof(int));
	CHECK(cudaMemcpy(h, d, n * sizeof(int), cudaMemcpyDeviceToHost));
	for (int i = 0; i < n; i++)
		if (h[i] != 1)
			FAIL("after the failed allocation: d[%d] = %d, want 1", i, h[i]);
	free(h);
	CHECK(cudaFree(d));
	printf("managed: OK not-supported (cudaErrorNotSupported)\n");
	return 0;
}
