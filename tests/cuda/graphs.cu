// graphs.cu - CUDA graphs.  (a) Stream capture on a created stream: a
// cudaMemsetAsync, two kernels, a device-to-device cudaMemcpyAsync and a
// cudaLaunchHostFunc become a 5-node graph (cudaStreamIsCapturing and
// cudaStreamGetCaptureInfo report the capture), instantiated and launched
// 10 times: a device counter and the host function both count 10 and the
// buffers hold one launch's result.  (b) A graph built node by node: a memset
// node, two dependent kernel nodes and a 1D device-to-host memcpy node;
// launched, then one kernel's argument changed with
// cudaGraphExecKernelNodeSetParams and launched again.
// Prints "graphs: OK ..." or "graphs: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define TEST_NAME "graphs"
#include "check.h"

#define LAUNCHES 10

__global__ void add_index(int *p, int a, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] += a + i;
}

__global__ void bump(int *p, int n, int *count)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] += 1;
	if (i == 0)
		atomicAdd(count, 1);
}

__global__ void scale(int *p, int f, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] *= f;
}

static void CUDART_CB on_host(void *arg)
{
	++*(int *)arg;
}

int main(void)
{
	const int n = 1 << 16, threads = 256, blocks = n / threads;
	size_t bytes = n * sizeof(int), num = 0;
	cudaStream_t s;
	cudaGraph_t g, g2;
	cudaGraphExec_t ge, ge2;
	cudaGraphNode_t mset, k1, k2, cpy;
	enum cudaStreamCaptureStatus st;
	unsigned long long capture_id = 0;
	int *buf, *copy, *count, *h, host_calls = 0, hcount = 0, zero = 0, a = 5, f = 3, a2 = 7;

	CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
	CHECK(cudaMalloc(&buf, bytes));
	CHECK(cudaMalloc(&copy, bytes));
	CHECK(cudaMalloc(&count, sizeof(int)));
	CHECK(cudaMallocHost(&h, bytes));
	CHECK(cudaMemcpy(count, &zero, sizeof(int), cudaMemcpyHostToDevice));
	CHECK(cudaDeviceSynchronize()); /* s does not wait for the legacy stream */

	/* (a) stream capture */
	CHECK(cudaStreamIsCapturing(s, &st));
	if (st != cudaStreamCaptureStatusNone)
		FAIL("cudaStreamIsCapturing before capture: %d", (int)st);
	CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
	CHECK(cudaStreamIsCapturing(s, &st));
	if (st != cudaStreamCaptureStatusActive)
		FAIL("cudaStreamIsCapturing during capture: %d", (int)st);
	CHECK(cudaStreamGetCaptureInfo(s, &st, &capture_id));
	if (st != cudaStreamCaptureStatusActive)
		FAIL("cudaStreamGetCaptureInfo during capture: %d", (int)st);
	CHECK(cudaMemsetAsync(buf, 0, bytes, s));
	add_index<<<blocks, threads, 0, s>>>(buf, 0, n);
	CHECK(cudaGetLastError());
	bump<<<blocks, threads, 0, s>>>(buf, n, count);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpyAsync(copy, buf, bytes, cudaMemcpyDeviceToDevice, s));
	CHECK(cudaLaunchHostFunc(s, on_host, &host_calls));
	CHECK(cudaStreamEndCapture(s, &g));
	CHECK(cudaStreamIsCapturing(s, &st));
	if (st != cudaStreamCaptureStatusNone)
		FAIL("cudaStreamIsCapturing after capture: %d", (int)st);
	if (host_calls != 0)
		FAIL("the host function ran during capture");
	CHECK(cudaGraphGetNodes(g, NULL, &num));
	if (num != 5)
		FAIL("captured graph has %zu nodes, want 5", num);
	CHECK(cudaGraphInstantiate(&ge, g, 0));
	for (int i = 0; i < LAUNCHES; i++)
		CHECK(cudaGraphLaunch(ge, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(&hcount, count, sizeof(int), cudaMemcpyDeviceToHost));
	CHECK(cudaMemcpy(h, copy, bytes, cudaMemcpyDeviceToHost));
	if (hcount != LAUNCHES || host_calls != LAUNCHES)
		FAIL("after %d launches: device counter %d, host function calls %d", LAUNCHES,
		     hcount, host_calls);
	for (int i = 0; i < n; i++)
		if (h[i] != i + 1)
			FAIL("captured graph: copy[%d] = %d, want %d", i, h[i], i + 1);

	/* (b) built by hand: memset -> add_index -> scale -> memcpy to host */
	struct cudaMemsetParams mp = {};
	struct cudaKernelNodeParams kp = {};
	void *args1[] = { &buf, &a, (void *)&n }, *args2[] = { &buf, &f, (void *)&n };

	CHECK(cudaGraphCreate(&g2, 0));
	mp.dst = buf;
	mp.value = 1;
	mp.elementSize = sizeof(int);
	mp.width = n;
	mp.height = 1;
	CHECK(cudaGraphAddMemsetNode(&mset, g2, NULL, 0, &mp));
	kp.func = (void *)add_index;
	kp.gridDim = dim3(blocks);
	kp.blockDim = dim3(threads);
	kp.kernelParams = args1;
	CHECK(cudaGraphAddKernelNode(&k1, g2, &mset, 1, &kp));
	kp.func = (void *)scale;
	kp.kernelParams = args2;
	CHECK(cudaGraphAddKernelNode(&k2, g2, &k1, 1, &kp));
	CHECK(cudaGraphAddMemcpyNode1D(&cpy, g2, &k2, 1, h, buf, bytes, cudaMemcpyDeviceToHost));
	CHECK(cudaGraphGetNodes(g2, NULL, &num));
	if (num != 4)
		FAIL("built graph has %zu nodes, want 4", num);
	CHECK(cudaGraphInstantiate(&ge2, g2, 0));
	CHECK(cudaGraphLaunch(ge2, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++)
		if (h[i] != (1 + a + i) * f)
			FAIL("built graph: h[%d] = %d, want %d", i, h[i], (1 + a + i) * f);

	/* change add_index's constant in the executable graph and run it again */
	void *args3[] = { &buf, &a2, (void *)&n };
	kp.func = (void *)add_index;
	kp.kernelParams = args3;
	CHECK(cudaGraphExecKernelNodeSetParams(ge2, k1, &kp));
	CHECK(cudaGraphLaunch(ge2, s));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < n; i++)
		if (h[i] != (1 + a2 + i) * f)
			FAIL("after SetParams: h[%d] = %d, want %d", i, h[i], (1 + a2 + i) * f);

	CHECK(cudaGraphExecDestroy(ge));
	CHECK(cudaGraphExecDestroy(ge2));
	CHECK(cudaGraphDestroy(g));
	CHECK(cudaGraphDestroy(g2));
	CHECK(cudaStreamDestroy(s));
	CHECK(cudaFree(buf));
	CHECK(cudaFree(copy));
	CHECK(cudaFree(count));
	CHECK(cudaFreeHost(h));
	printf("graphs: OK (captured 5 nodes x %d launches, built 4 nodes, exec params updated)\n",
	       LAUNCHES);
	return 0;
}
