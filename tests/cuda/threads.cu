// threads.cu - the runtime from several host threads at once: each thread
// makes its own stream, buffers and events, runs a kernel many times and
// checks its own result.  Built twice: with nvcc's defaults and with
// --default-stream per-thread (threads_ptds), which makes the runtime use
// the driver's _ptds/_ptsz entry points.
// Prints "threads: OK" or "threads: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
#include <cuda_runtime.h>

#define NTHREADS 4
#define ROUNDS 20

__global__ void bump(int *p, int n, int by)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] += by;
}

static void worker(int id, int *result)
{
	const int n = 1 << 16;
	std::vector<int> h(n);
	cudaStream_t s;
	cudaEvent_t e;
	int *d;

	*result = -1;
	if (cudaSetDevice(0) || cudaStreamCreate(&s) || cudaEventCreate(&e) ||
	    cudaMalloc(&d, n * sizeof(int)))
		return;
	for (int i = 0; i < n; i++)
		h[i] = i * id;
	if (cudaMemcpyAsync(d, h.data(), n * sizeof(int), cudaMemcpyHostToDevice, s))
		return;
	for (int r = 0; r < ROUNDS; r++)
		bump<<<n / 256, 256, 0, s>>>(d, n, id + 1);
	if (cudaGetLastError() || cudaEventRecord(e, s) || cudaEventSynchronize(e))
		return;
	/* the default stream (legacy or per-thread, depending on the build) */
	if (cudaMemcpy(h.data(), d, n * sizeof(int), cudaMemcpyDeviceToHost))
		return;
	*result = 0;
	for (int i = 0; i < n; i++)
		if (h[i] != i * id + ROUNDS * (id + 1))
			(*result)++;
	cudaFree(d);
	cudaEventDestroy(e);
	cudaStreamDestroy(s);
}

int main(void)
{
	std::vector<std::thread> th;
	int result[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		th.emplace_back(worker, i, &result[i]);
	for (auto &t : th)
		t.join();
	for (int i = 0; i < NTHREADS; i++) {
		if (result[i]) {
			printf("threads: FAIL thread %d: %s\n", i,
			       result[i] < 0 ? "a call failed" : "wrong elements");
			return 1;
		}
	}
	if (cudaDeviceSynchronize() != cudaSuccess) {
		printf("threads: FAIL cudaDeviceSynchronize\n");
		return 1;
	}
	printf("threads: OK (%d threads x %d launches)\n", NTHREADS, ROUNDS);
	return 0;
}
