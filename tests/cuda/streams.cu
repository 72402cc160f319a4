// streams.cu - streams, events and pinned memory: four streams each copy a
// slice in with cudaMemcpyAsync from cudaMallocHost memory, run a kernel
// and copy it back; an event orders a second kernel on another stream
// (cudaStreamWaitEvent); elapsed time between events; cudaHostRegister'ed
// memory; cudaPointerGetAttributes; cudaMemcpy with cudaMemcpyDefault.
// Prints "streams: OK" or "streams: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define TEST_NAME "streams"
#include "check.h"

#define NSTREAMS 4

__global__ void affine(float *p, float a, float b, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = a * p[i] + b;
}

int main(void)
{
	const int n = 1 << 20, slice = n / NSTREAMS;
	size_t bytes = n * sizeof(float);
	cudaStream_t s[NSTREAMS];
	cudaEvent_t start, stop, done0;
	struct cudaPointerAttributes pa;
	float *h, *hreg, *d, *d2, ms = -1.0f;

	CHECK(cudaMallocHost(&h, bytes));
	CHECK(cudaMalloc(&d, bytes));
	CHECK(cudaMalloc(&d2, bytes));
	CHECK(cudaPointerGetAttributes(&pa, d));
	if (pa.type != cudaMemoryTypeDevice)
		FAIL("cudaPointerGetAttributes(device) type %d", (int)pa.type);
	CHECK(cudaPointerGetAttributes(&pa, h));
	if (pa.type != cudaMemoryTypeHost)
		FAIL("cudaPointerGetAttributes(pinned) type %d", (int)pa.type);
	for (int i = 0; i < n; i++)
		h[i] = (float)(i % 4096);
	for (int k = 0; k < NSTREAMS; k++)
		CHECK(cudaStreamCreateWithFlags(&s[k], cudaStreamNonBlocking));
	CHECK(cudaEventCreate(&start));
	CHECK(cudaEventCreate(&stop));
	CHECK(cudaEventCreateWithFlags(&done0, cudaEventDisableTiming));

	CHECK(cudaEventRecord(start, s[0]));
	for (int k = 0; k < NSTREAMS; k++) {
		float *hp = h + k * slice, *dp = d + k * slice;

		CHECK(cudaMemcpyAsync(dp, hp, slice * sizeof(float), cudaMemcpyHostToDevice, s[k]));
		affine<<<slice / 256, 256, 0, s[k]>>>(dp, 2.0f, (float)k, slice);
		CHECK(cudaGetLastError());
		CHECK(cudaMemcpyAsync(hp, dp, slice * sizeof(float), cudaMemcpyDeviceToHost, s[k]));
	}
	CHECK(cudaEventRecord(done0, s[0]));
	/* stream 1 waits for stream 0's slice, then changes it on the device again */
	CHECK(cudaStreamWaitEvent(s[1], done0, 0));
	affine<<<slice / 256, 256, 0, s[1]>>>(d, 1.0f, 100.0f, slice);
	CHECK(cudaGetLastError());
	CHECK(cudaEventRecord(stop, s[1]));
	for (int k = 0; k < NSTREAMS; k++)
		CHECK(cudaStreamSynchronize(s[k]));
	CHECK(cudaEventSynchronize(stop));
	CHECK(cudaEventQuery(stop));
	CHECK(cudaStreamQuery(s[0]));
	CHECK(cudaEventElapsedTime(&ms, start, stop));
	if (ms < 0.0f)
		FAIL("elapsed time %f", ms);
	for (int i = 0; i < n; i++) {
		float want = 2.0f * (float)(i % 4096) + (float)(i / slice);

		if (h[i] != want)
			FAIL("slice copy: element %d: %g != %g", i, h[i], want);
	}

	/* registered memory, and a copy whose direction the runtime works out */
	hreg = (float *)malloc(bytes);
	CHECK(cudaHostRegister(hreg, bytes, cudaHostRegisterDefault));
	CHECK(cudaMemcpy(hreg, d, slice * sizeof(float), cudaMemcpyDefault));
	for (int i = 0; i < slice; i++) {
		float want = 2.0f * (float)(i % 4096) + 100.0f;

		if (hreg[i] != want)
			FAIL("wait-event kernel: element %d: %g != %g", i, hreg[i], want);
	}
	CHECK(cudaMemcpy(d2, d, bytes, cudaMemcpyDefault));
	CHECK(cudaMemcpyAsync(hreg, d2, bytes, cudaMemcpyDeviceToHost, s[2]));
	CHECK(cudaStreamSynchronize(s[2]));
	if (hreg[slice] != h[slice])
		FAIL("device-to-device copy");
	CHECK(cudaHostUnregister(hreg));
	free(hreg);

	for (int k = 0; k < NSTREAMS; k++)
		CHECK(cudaStreamDestroy(s[k]));
	CHECK(cudaEventDestroy(start));
	CHECK(cudaEventDestroy(stop));
	CHECK(cudaEventDestroy(done0));
	CHECK(cudaFree(d));
	CHECK(cudaFree(d2));
	CHECK(cudaFreeHost(h));
	printf("streams: OK (%d streams, %.3f ms)\n", NSTREAMS, ms);
	return 0;
}
