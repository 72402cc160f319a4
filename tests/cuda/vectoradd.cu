// vectoradd.cu - the runtime-API hello world: cudaMalloc, cudaMemcpy, a
// <<<>>> launch, cudaDeviceSynchronize, cudaFree; the result is checked on
// the CPU.  Prints one line: "vectoradd: OK ..." or "vectoradd: FAIL ...".
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

__global__ void vector_add(const float *a, const float *b, float *c, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		c[i] = a[i] + b[i];
}

#define CHECK(call)                                                                  \
	do {                                                                         \
		cudaError_t e_ = (call);                                             \
		if (e_ != cudaSuccess) {                                             \
			printf("vectoradd: FAIL %s: %s (%d)\n", #call,               \
			       cudaGetErrorString(e_), (int)e_);                     \
			return 1;                                                    \
		}                                                                    \
	} while (0)

int main(void)
{
	const int n = 1 << 20;
	size_t bytes = n * sizeof(float);
	float *a = (float *)malloc(bytes), *b = (float *)malloc(bytes), *c = (float *)malloc(bytes);
	float *da, *db, *dc;
	int bad = 0;

	for (int i = 0; i < n; i++) {
		a[i] = (float)i;
		b[i] = 2.0f * (float)(n - i);
	}
	CHECK(cudaMalloc(&da, bytes));
	CHECK(cudaMalloc(&db, bytes));
	CHECK(cudaMalloc(&dc, bytes));
	CHECK(cudaMemcpy(da, a, bytes, cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(db, b, bytes, cudaMemcpyHostToDevice));
	vector_add<<<(n + 255) / 256, 256>>>(da, db, dc, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	CHECK(cudaMemcpy(c, dc, bytes, cudaMemcpyDeviceToHost));
	CHECK(cudaFree(da));
	CHECK(cudaFree(db));
	CHECK(cudaFree(dc));
	for (int i = 0; i < n; i++)
		if (c[i] != a[i] + b[i])
			bad++;
	if (bad) {
		printf("vectoradd: FAIL %d of %d elements wrong\n", bad, n);
		return 1;
	}
	printf("vectoradd: OK %d elements\n", n);
	free(a);
	free(b);
	free(c);
	return 0;
}
