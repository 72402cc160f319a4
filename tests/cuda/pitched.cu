// pitched.cu - pitched memory: cudaMallocPitch, cudaMemcpy2D in every
// direction, cudaMemset2D, a kernel over pitched rows, cudaMalloc3D with
// cudaMemcpy3D, and a sub-rectangle copy.
// Prints "pitched: OK" or "pitched: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define TEST_NAME "pitched"
#include "check.h"

__global__ void add_row_index(float *p, size_t pitch, int w, int h)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;

	if (x < w && y < h) {
		float *row = (float *)((char *)p + y * pitch);

		row[x] += (float)y;
	}
}

int main(void)
{
	const int w = 300, h = 200, d3 = 5;
	size_t pitch = 0, pitch2 = 0;
	float *a = (float *)malloc(w * h * sizeof(float)), *b = (float *)calloc(w * h, sizeof(float));
	float *dp, *dp2;
	unsigned char *bytes = (unsigned char *)malloc(w * h);
	cudaPitchedPtr p3;
	cudaExtent ext = make_cudaExtent(w * sizeof(float), h, d3);
	float *vol = (float *)malloc(ext.width * h * d3), *back = (float *)malloc(ext.width * h * d3);

	for (int i = 0; i < w * h; i++)
		a[i] = (float)(i % 1013);
	CHECK(cudaMallocPitch(&dp, &pitch, w * sizeof(float), h));
	CHECK(cudaMallocPitch(&dp2, &pitch2, w * sizeof(float), h));
	if (pitch < w * sizeof(float))
		FAIL("pitch %zu", pitch);
	CHECK(cudaMemcpy2D(dp, pitch, a, w * sizeof(float), w * sizeof(float), h,
			   cudaMemcpyHostToDevice));
	add_row_index<<<dim3((w + 127) / 128, h), 128>>>(dp, pitch, w, h);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy2D(dp2, pitch2, dp, pitch, w * sizeof(float), h, cudaMemcpyDeviceToDevice));
	CHECK(cudaMemcpy2D(b, w * sizeof(float), dp2, pitch2, w * sizeof(float), h,
			   cudaMemcpyDeviceToHost));
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (b[y * w + x] != a[y * w + x] + (float)y)
				FAIL("2D round trip at (%d, %d): %g", x, y, b[y * w + x]);

	/* a 10 x 20 sub-rectangle at (7, 3), through cudaMemcpyDefault */
	memset(b, 0, w * h * sizeof(float));
	CHECK(cudaMemcpy2D(b + 3 * w + 7, w * sizeof(float), (char *)dp + 3 * pitch + 7 * sizeof(float),
			   pitch, 10 * sizeof(float), 20, cudaMemcpyDefault));
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			bool in = x >= 7 && x < 17 && y >= 3 && y < 23;
			float want = in ? a[y * w + x] + (float)y : 0.0f;

			if (b[y * w + x] != want)
				FAIL("sub-rectangle at (%d, %d): %g != %g", x, y, b[y * w + x], want);
		}

	CHECK(cudaMemset2D(dp, pitch, 0xab, w * sizeof(float), h));
	CHECK(cudaMemcpy2D(bytes, w, dp, pitch, w, h, cudaMemcpyDeviceToHost));
	for (int i = 0; i < w * h; i++)
		if (bytes[i] != 0xab)
			FAIL("cudaMemset2D byte %d: %#x", i, bytes[i]);

	/* a volume: in, and back out through a second pitched layout */
	for (size_t i = 0; i < ext.width / sizeof(float) * h * d3; i++)
		vol[i] = (float)i * 0.5f;
	CHECK(cudaMalloc3D(&p3, ext));
	{
		cudaMemcpy3DParms in = {}, out = {};

		in.srcPtr = make_cudaPitchedPtr(vol, ext.width, w, h);
		in.dstPtr = p3;
		in.extent = ext;
		in.kind = cudaMemcpyHostToDevice;
		CHECK(cudaMemcpy3D(&in));
		out.srcPtr = p3;
		out.dstPtr = make_cudaPitchedPtr(back, ext.width, w, h);
		out.extent = ext;
		out.kind = cudaMemcpyDeviceToHost;
		CHECK(cudaMemcpy3D(&out));
	}
	if (memcmp(vol, back, ext.width * h * d3))
		FAIL("3D round trip");
	CHECK(cudaFree(p3.ptr));
	CHECK(cudaFree(dp));
	CHECK(cudaFree(dp2));
	printf("pitched: OK (%dx%d floats, pitch %zu; %dx%dx%d volume, pitch %zu)\n", w, h, pitch, w,
	       h, d3, p3.pitch);
	free(a);
	free(b);
	free(bytes);
	free(vol);
	free(back);
	return 0;
}
