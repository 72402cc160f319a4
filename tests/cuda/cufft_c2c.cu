// cufft_c2c.cu - cuFFT on a created stream: a batched 1D complex-to-complex
// forward transform (1024 points, batch 4) checked against a CPU DFT, the
// inverse transform and the round trip (x == IFFT(FFT(x)) / N); a 2D
// real-to-complex transform of 64x64 checked at a few bins against the CPU
// DFT.  Prints "cufft_c2c: OK ..." or "cufft_c2c: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cufft.h>
#include <cuda_runtime.h>

#define TEST_NAME "cufft_c2c"
#include "check.h"

#define CHECK_FFT(call)                                             \
	do {                                                        \
		cufftResult r_ = (call);                            \
		if (r_ != CUFFT_SUCCESS)                            \
			FAIL("%s: cufftResult %d", #call, (int)r_); \
	} while (0)

static float frand(void)
{
	return (float)rand() / RAND_MAX * 2.0f - 1.0f;
}

int main(void)
{
	const int n = 1024, batch = 4, nx = 64, ny = 64, nyc = ny / 2 + 1;
	const size_t total = (size_t)n * batch;
	const double pi = 3.14159265358979323846;
	std::vector<cufftComplex> x(total), fx(total), rt(total), out2d((size_t)nx * nyc);
	std::vector<float> r2d((size_t)nx * ny);
	std::vector<double> cs(n), sn(n);
	cufftComplex *dx, *dy, *dc2d;
	cufftHandle plan, plan2d;
	cudaStream_t s;
	double maxmag = 0.0, maxerr = 0.0;
	int version = 0;

	srand(3);
	for (auto &v : x) {
		v.x = frand();
		v.y = frand();
	}
	for (auto &v : r2d)
		v = frand();
	for (int i = 0; i < n; i++) {
		cs[i] = cos(2.0 * pi * i / n);
		sn[i] = sin(2.0 * pi * i / n);
	}

	CHECK_FFT(cufftGetVersion(&version));
	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&dx, total * sizeof(cufftComplex)));
	CHECK(cudaMalloc(&dy, total * sizeof(cufftComplex)));
	CHECK(cudaMemcpy(dx, x.data(), total * sizeof(cufftComplex), cudaMemcpyHostToDevice));
	CHECK_FFT(cufftPlan1d(&plan, n, CUFFT_C2C, batch));
	CHECK_FFT(cufftSetStream(plan, s));
	CHECK_FFT(cufftExecC2C(plan, dx, dy, CUFFT_FORWARD));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(fx.data(), dy, total * sizeof(cufftComplex), cudaMemcpyDeviceToHost));

	/* X[k] = sum_j x[j] e^{-2 pi i jk/N}, in double with a twiddle table */
	std::vector<double> wre(total), wim(total);
	for (int b = 0; b < batch; b++)
		for (int k = 0; k < n; k++) {
			double re = 0.0, im = 0.0;

			for (int j = 0; j < n; j++) {
				const cufftComplex &v = x[(size_t)b * n + j];
				int t = (int)(((long)j * k) % n);

				re += v.x * cs[t] + v.y * sn[t];
				im += v.y * cs[t] - v.x * sn[t];
			}
			wre[(size_t)b * n + k] = re;
			wim[(size_t)b * n + k] = im;
			maxmag = fmax(maxmag, hypot(re, im));
		}
	for (size_t i = 0; i < total; i++) {
		double e = hypot(fx[i].x - wre[i], fx[i].y - wim[i]);

		maxerr = fmax(maxerr, e);
		if (e > 1e-5 * maxmag)
			FAIL("forward: bin %zu = (%g, %g), want (%g, %g)", i, (double)fx[i].x,
			     (double)fx[i].y, wre[i], wim[i]);
	}

	/* inverse, in place, then the round trip */
	CHECK_FFT(cufftExecC2C(plan, dy, dy, CUFFT_INVERSE));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(rt.data(), dy, total * sizeof(cufftComplex), cudaMemcpyDeviceToHost));
	for (size_t i = 0; i < total; i++)
		if (fabs(rt[i].x / n - x[i].x) > 1e-5 || fabs(rt[i].y / n - x[i].y) > 1e-5)
			FAIL("round trip: element %zu = (%g, %g), want (%g, %g)", i,
			     (double)rt[i].x / n, (double)rt[i].y / n, (double)x[i].x,
			     (double)x[i].y);
	CHECK_FFT(cufftDestroy(plan));

	/* 2D R2C: out[k1][k2] for k2 <= ny/2, row-major nx x (ny/2 + 1) */
	float *dr;
	CHECK(cudaMalloc(&dr, r2d.size() * sizeof(float)));
	CHECK(cudaMalloc(&dc2d, out2d.size() * sizeof(cufftComplex)));
	CHECK(cudaMemcpy(dr, r2d.data(), r2d.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK_FFT(cufftPlan2d(&plan2d, nx, ny, CUFFT_R2C));
	CHECK_FFT(cufftSetStream(plan2d, s));
	CHECK_FFT(cufftExecR2C(plan2d, dr, dc2d));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(out2d.data(), dc2d, out2d.size() * sizeof(cufftComplex),
			 cudaMemcpyDeviceToHost));
	const int bins[][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 5, 7 }, { 63, 32 }, { 31, 20 },
				{ 32, 32 }, { 17, 3 } };
	for (const auto &bin : bins) {
		double re = 0.0, im = 0.0, mag = 0.0;

		for (int a = 0; a < nx; a++)
			for (int c = 0; c < ny; c++) {
				double ph = 2.0 * pi * ((double)(bin[0] * a % nx) / nx +
							(double)(bin[1] * c % ny) / ny);
				double v = r2d[(size_t)a * ny + c];

				re += v * cos(ph);
				im -= v * sin(ph);
				mag += fabs(v);
			}
		const cufftComplex &g = out2d[(size_t)bin[0] * nyc + bin[1]];
		if (hypot(g.x - re, g.y - im) > 1e-5 * mag)
			FAIL("2D R2C: bin (%d,%d) = (%g, %g), want (%g, %g)", bin[0], bin[1],
			     (double)g.x, (double)g.y, re, im);
	}
	CHECK_FFT(cufftDestroy(plan2d));
	CHECK(cudaFree(dx));
	CHECK(cudaFree(dy));
	CHECK(cudaFree(dr));
	CHECK(cudaFree(dc2d));
	CHECK(cudaStreamDestroy(s));
	printf("cufft_c2c: OK (cuFFT %d; C2C %d x %d, max error %.2g of %.3g; R2C %dx%d)\n",
	       version, n, batch, maxerr, maxmag, nx, ny);
	return 0;
}
