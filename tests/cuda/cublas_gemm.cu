// cublas_gemm.cu - cuBLAS on a created stream: cublasSgemm (256x192x128,
// op(A) = A^T) and cublasDgemm (op(B) = B^T), both with beta != 0, checked
// against a CPU GEMM in double with a relative tolerance; cublasSaxpy and
// cublasSdot (host pointer mode).  Prints "cublas_gemm: OK ..." or
// "cublas_gemm: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#define TEST_NAME "cublas_gemm"
#include "check.h"

#define CHECK_BLAS(call)                                                              \
	do {                                                                          \
		cublasStatus_t s_ = (call);                                           \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                      \
			FAIL("%s: %s (%d)", #call, cublasGetStatusName(s_), (int)s_); \
	} while (0)

static double frand(void)
{
	return (double)rand() / RAND_MAX * 2.0 - 1.0;
}

/* Column-major C = alpha op(A) op(B) + beta C in double, and the scale
 * sum |alpha op(A)||op(B)| + |beta C| each element's error is judged by. */
template <typename T>
static void cpu_gemm(bool ta, bool tb, int m, int n, int k, double alpha,
		     const std::vector<T> &a, int lda, const std::vector<T> &b, int ldb,
		     double beta, const std::vector<T> &c, int ldc, std::vector<double> &ref,
		     std::vector<double> &scale)
{
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			double s = 0.0, as = 0.0;

			for (int l = 0; l < k; l++) {
				double x = ta ? a[l + i * lda] : a[i + l * lda];
				double y = tb ? b[j + l * ldb] : b[l + j * ldb];

				s += x * y;
				as += fabs(x * y);
			}
			ref[i + j * ldc] = alpha * s + beta * c[i + j * ldc];
			scale[i + j * ldc] = fabs(alpha) * as + fabs(beta * c[i + j * ldc]);
		}
}

/* One GEMM of type T on the device through gemm(), compared with cpu_gemm. */
template <typename T, typename F>
static int run_gemm(const char *what, F gemm, bool ta, bool tb, int m, int n, int k, double tol)
{
	int lda = ta ? k : m, ldb = tb ? n : k, ldc = m;
	size_t na = (size_t)lda * (ta ? m : k), nb = (size_t)ldb * (tb ? k : n), nc = (size_t)m * n;
	std::vector<T> a(na), b(nb), c(nc), out(nc);
	std::vector<double> ref(nc), scale(nc);
	T alpha = (T)1.5, beta = (T)-0.5, *da, *db, *dc;

	for (auto &x : a)
		x = (T)frand();
	for (auto &x : b)
		x = (T)frand();
	for (auto &x : c)
		x = (T)frand();
	CHECK(cudaMalloc(&da, na * sizeof(T)));
	CHECK(cudaMalloc(&db, nb * sizeof(T)));
	CHECK(cudaMalloc(&dc, nc * sizeof(T)));
	CHECK(cudaMemcpy(da, a.data(), na * sizeof(T), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(db, b.data(), nb * sizeof(T), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(dc, c.data(), nc * sizeof(T), cudaMemcpyHostToDevice));
	CHECK_BLAS(gemm(ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k,
			&alpha, da, lda, db, ldb, &beta, dc, ldc));
	CHECK(cudaMemcpy(out.data(), dc, nc * sizeof(T), cudaMemcpyDeviceToHost));
	cpu_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, ref, scale);
	for (size_t i = 0; i < nc; i++)
		if (!(fabs(out[i] - ref[i]) <= tol * (scale[i] + 1.0)))
			FAIL("%s: C[%zu] = %.9g, want %.9g", what, i, (double)out[i], ref[i]);
	CHECK(cudaFree(da));
	CHECK(cudaFree(db));
	CHECK(cudaFree(dc));
	return 0;
}

int main(void)
{
	const int m = 256, n = 192, k = 128, nv = 10000;
	cublasHandle_t h;
	cudaStream_t s;
	cudaStream_t got = NULL;
	int version = 0;
	std::vector<float> x(nv), y(nv), yo(nv);
	float *dx, *dy, alpha = 0.25f, dot = 0.0f;
	double want_dot = 0.0, dot_scale = 0.0;

	srand(42);
	/* a blocking stream: the legacy-stream cudaMemcpy calls order with it */
	CHECK(cudaStreamCreate(&s));
	CHECK_BLAS(cublasCreate(&h));
	CHECK_BLAS(cublasGetVersion(h, &version));
	CHECK_BLAS(cublasSetStream(h, s));
	CHECK_BLAS(cublasGetStream(h, &got));
	if (got != s)
		FAIL("cublasGetStream returned another stream");

	auto sgemm = [&](cublasOperation_t ta, cublasOperation_t tb, int m_, int n_, int k_,
			 const float *al, const float *a, int lda, const float *b, int ldb,
			 const float *be, float *c, int ldc) {
		return cublasSgemm(h, ta, tb, m_, n_, k_, al, a, lda, b, ldb, be, c, ldc);
	};
	auto dgemm = [&](cublasOperation_t ta, cublasOperation_t tb, int m_, int n_, int k_,
			 const double *al, const double *a, int lda, const double *b, int ldb,
			 const double *be, double *c, int ldc) {
		return cublasDgemm(h, ta, tb, m_, n_, k_, al, a, lda, b, ldb, be, c, ldc);
	};
	if (run_gemm<float>("Sgemm(T,N)", sgemm, true, false, m, n, k, 1e-4))
		return 1;
	if (run_gemm<double>("Dgemm(N,T)", dgemm, false, true, m, n, k, 1e-12))
		return 1;

	for (int i = 0; i < nv; i++) {
		x[i] = (float)frand();
		y[i] = (float)frand();
	}
	CHECK(cudaMalloc(&dx, nv * sizeof(float)));
	CHECK(cudaMalloc(&dy, nv * sizeof(float)));
	CHECK_BLAS(cublasSetVector(nv, sizeof(float), x.data(), 1, dx, 1));
	CHECK_BLAS(cublasSetVector(nv, sizeof(float), y.data(), 1, dy, 1));
	CHECK_BLAS(cublasSaxpy(h, nv, &alpha, dx, 1, dy, 1));
	CHECK_BLAS(cublasGetVector(nv, sizeof(float), dy, 1, yo.data(), 1));
	CHECK(cudaStreamSynchronize(s));
	for (int i = 0; i < nv; i++) {
		double want = (double)alpha * x[i] + y[i];

		if (fabs(yo[i] - want) > 1e-6 * (fabs(want) + 1.0))
			FAIL("Saxpy: y[%d] = %.9g, want %.9g", i, (double)yo[i], want);
		want_dot += (double)x[i] * yo[i];
		dot_scale += fabs((double)x[i] * yo[i]);
	}
	CHECK_BLAS(cublasSetPointerMode(h, CUBLAS_POINTER_MODE_HOST));
	CHECK_BLAS(cublasSdot(h, nv, dx, 1, dy, 1, &dot));
	if (fabs(dot - want_dot) > 1e-5 * dot_scale)
		FAIL("Sdot = %.9g, want %.9g", (double)dot, want_dot);
	CHECK(cudaFree(dx));
	CHECK(cudaFree(dy));
	CHECK_BLAS(cublasDestroy(h));
	CHECK(cudaStreamDestroy(s));
	printf("cublas_gemm: OK (cuBLAS %d; Sgemm/Dgemm %dx%dx%d, Saxpy/Sdot %d)\n", version, m, n,
	       k, nv);
	return 0;
}
