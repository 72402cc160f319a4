// texture.cu - texture objects over device memory: tex1Dfetch through a
// linear object, and bilinear filtering with clamping through a pitched
// 2D one (unnormalised coordinates), each checked against the CPU.
// Prints "texture: OK" or "texture: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define TEST_NAME "texture"
#include "check.h"

__global__ void fetch(cudaTextureObject_t t, float *out, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		out[i] = tex1Dfetch<float>(t, i);
}

/* sample at (x + 0.75, y + 0.5): 3/4 of texel x and 1/4 of x + 1 in row y */
__global__ void sample(cudaTextureObject_t t, float *out, int w, int h)
{
	int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;

	if (x < w && y < h)
		out[y * w + x] = tex2D<float>(t, x + 0.75f, y + 0.5f);
}

int main(void)
{
	const int n = 4096, w = 200, h = 64;
	float *in = (float *)malloc(n * sizeof(float)), *back = (float *)malloc(n * sizeof(float));
	float *img = (float *)malloc(w * h * sizeof(float)), *got = (float *)malloc(w * h * sizeof(float));
	float *d_in, *d_out, *d_img, *d_got, worst = 0;
	size_t pitch;
	cudaResourceDesc r;
	cudaTextureDesc td;
	cudaTextureObject_t t1 = 0, t2 = 0;

	for (int i = 0; i < n; i++)
		in[i] = (float)(i * 7 % 1001) - 500.0f;
	for (int i = 0; i < w * h; i++)
		img[i] = (float)((i * 13) % 97);
	CHECK(cudaMalloc(&d_in, n * sizeof(float)));
	CHECK(cudaMalloc(&d_out, n * sizeof(float)));
	CHECK(cudaMemcpy(d_in, in, n * sizeof(float), cudaMemcpyHostToDevice));

	memset(&r, 0, sizeof(r));
	r.resType = cudaResourceTypeLinear;
	r.res.linear.devPtr = d_in;
	r.res.linear.desc = cudaCreateChannelDesc<float>();
	r.res.linear.sizeInBytes = n * sizeof(float);
	memset(&td, 0, sizeof(td));
	td.readMode = cudaReadModeElementType;
	CHECK(cudaCreateTextureObject(&t1, &r, &td, NULL));
	fetch<<<n / 256, 256>>>(t1, d_out, n);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(back, d_out, n * sizeof(float), cudaMemcpyDeviceToHost));
	for (int i = 0; i < n; i++)
		if (back[i] != in[i])
			FAIL("tex1Dfetch[%d] = %g, want %g", i, back[i], in[i]);
	CHECK(cudaDestroyTextureObject(t1));

	CHECK(cudaMallocPitch(&d_img, &pitch, w * sizeof(float), h));
	CHECK(cudaMalloc(&d_got, w * h * sizeof(float)));
	CHECK(cudaMemcpy2D(d_img, pitch, img, w * sizeof(float), w * sizeof(float), h,
			   cudaMemcpyHostToDevice));
	memset(&r, 0, sizeof(r));
	r.resType = cudaResourceTypePitch2D;
	r.res.pitch2D.devPtr = d_img;
	r.res.pitch2D.desc = cudaCreateChannelDesc<float>();
	r.res.pitch2D.width = w;
	r.res.pitch2D.height = h;
	r.res.pitch2D.pitchInBytes = pitch;
	memset(&td, 0, sizeof(td));
	td.addressMode[0] = td.addressMode[1] = cudaAddressModeClamp;
	td.filterMode = cudaFilterModeLinear;
	td.readMode = cudaReadModeElementType;
	CHECK(cudaCreateTextureObject(&t2, &r, &td, NULL));
	sample<<<dim3((w + 127) / 128, h), 128>>>(t2, d_got, w, h);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(got, d_got, w * h * sizeof(float), cudaMemcpyDeviceToHost));
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			float a = img[y * w + x], b = img[y * w + (x + 1 < w ? x + 1 : x)];
			float want = 0.75f * a + 0.25f * b, err = fabsf(got[y * w + x] - want);

			/* the hardware's weights have 8 fractional bits */
			if (err > 0.01f * (fabsf(a) + fabsf(b)) + 1e-3f)
				FAIL("tex2D(%d.75, %d.5) = %g, want %g", x, y, got[y * w + x], want);
			worst = err > worst ? err : worst;
		}
	CHECK(cudaDestroyTextureObject(t2));
	CHECK(cudaFree(d_in));
	CHECK(cudaFree(d_out));
	CHECK(cudaFree(d_img));
	CHECK(cudaFree(d_got));
	printf("texture: OK (tex1Dfetch of %d floats exact; bilinear tex2D on %dx%d pitched, "
	       "max error %.2g)\n", n, w, h, worst);
	return 0;
}
