// cusolver_dn.cu - cuSOLVER dense on a created stream: an LU solve in single
// precision (cusolverDnSgetrf + cusolverDnSgetrs, partial pivoting) and a
// Cholesky solve in double (cusolverDnDpotrf + cusolverDnDpotrs, lower) of
// well-conditioned 64x64 systems with 3 right-hand sides; devInfo must be 0
// and the relative residual ||Ax - b|| / (||A|| ||x|| + ||b||) small.
// Prints "cusolver_dn: OK ..." or "cusolver_dn: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cusolverDn.h>
#include <cuda_runtime.h>

#define TEST_NAME "cusolver_dn"
#include "check.h"

#define CHECK_SOLVER(call)                                             \
	do {                                                           \
		cusolverStatus_t r_ = (call);                          \
		if (r_ != CUSOLVER_STATUS_SUCCESS)                     \
			FAIL("%s: cusolverStatus %d", #call, (int)r_); \
	} while (0)

static double frand(void)
{
	return (double)rand() / RAND_MAX * 2.0 - 1.0;
}

/* max over right-hand sides of ||A x - b||_inf / (||A||_inf ||x||_inf + ||b||_inf),
 * column-major, in double */
template <typename T>
static double residual(int n, int nrhs, const std::vector<T> &a, const std::vector<T> &x,
		       const std::vector<T> &b)
{
	double anorm = 0.0, worst = 0.0;

	for (int i = 0; i < n; i++) {
		double row = 0.0;

		for (int j = 0; j < n; j++)
			row += fabs((double)a[i + j * n]);
		anorm = fmax(anorm, row);
	}
	for (int r = 0; r < nrhs; r++) {
		double rn = 0.0, xn = 0.0, bn = 0.0;

		for (int i = 0; i < n; i++) {
			double s = -(double)b[i + r * n];

			for (int j = 0; j < n; j++)
				s += (double)a[i + j * n] * x[j + r * n];
			rn = fmax(rn, fabs(s));
			xn = fmax(xn, fabs((double)x[i + r * n]));
			bn = fmax(bn, fabs((double)b[i + r * n]));
		}
		worst = fmax(worst, rn / (anorm * xn + bn));
	}
	return worst;
}

int main(void)
{
	const int n = 64, nrhs = 3;
	cusolverDnHandle_t h;
	cudaStream_t s;
	std::vector<float> a((size_t)n * n), b((size_t)n * nrhs), x(b.size());
	std::vector<double> m((size_t)n * n), g((size_t)n * n), bd((size_t)n * nrhs), xd(bd.size());
	float *da, *db, *work;
	double *dm, *dbd, *workd;
	int *ipiv, *info, hinfo = -1, lwork = 0;
	double res_lu, res_chol;

	srand(11);
	/* LU: random with a heavy diagonal; Cholesky: G G^T + n I */
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			a[i + j * n] = (float)frand() + (i == j ? 2.0f * n : 0.0f);
			g[i + j * n] = frand();
		}
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			double v = i == j ? n : 0.0;

			for (int l = 0; l < n; l++)
				v += g[i + l * n] * g[j + l * n];
			m[i + j * n] = v;
		}
	for (size_t i = 0; i < b.size(); i++) {
		b[i] = (float)frand();
		bd[i] = frand();
	}

	CHECK(cudaStreamCreate(&s));
	CHECK_SOLVER(cusolverDnCreate(&h));
	CHECK_SOLVER(cusolverDnSetStream(h, s));
	CHECK(cudaMalloc(&info, sizeof(int)));

	/* LU, single */
	CHECK(cudaMalloc(&da, a.size() * sizeof(float)));
	CHECK(cudaMalloc(&db, b.size() * sizeof(float)));
	CHECK(cudaMalloc(&ipiv, n * sizeof(int)));
	CHECK(cudaMemcpy(da, a.data(), a.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(db, b.data(), b.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK_SOLVER(cusolverDnSgetrf_bufferSize(h, n, n, da, n, &lwork));
	CHECK(cudaMalloc(&work, (size_t)(lwork > 0 ? lwork : 1) * sizeof(float)));
	CHECK_SOLVER(cusolverDnSgetrf(h, n, n, da, n, work, ipiv, info));
	CHECK(cudaMemcpyAsync(&hinfo, info, sizeof(int), cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	if (hinfo != 0)
		FAIL("Sgetrf devInfo = %d", hinfo);
	CHECK_SOLVER(cusolverDnSgetrs(h, CUBLAS_OP_N, n, nrhs, da, n, ipiv, db, n, info));
	CHECK(cudaMemcpyAsync(&hinfo, info, sizeof(int), cudaMemcpyDeviceToHost, s));
	CHECK(cudaMemcpyAsync(x.data(), db, x.size() * sizeof(float), cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	if (hinfo != 0)
		FAIL("Sgetrs devInfo = %d", hinfo);
	res_lu = residual(n, nrhs, a, x, b);
	if (!(res_lu < 1e-5))
		FAIL("LU solve: relative residual %g", res_lu);

	/* Cholesky, double */
	CHECK(cudaMalloc(&dm, m.size() * sizeof(double)));
	CHECK(cudaMalloc(&dbd, bd.size() * sizeof(double)));
	CHECK(cudaMemcpy(dm, m.data(), m.size() * sizeof(double), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(dbd, bd.data(), bd.size() * sizeof(double), cudaMemcpyHostToDevice));
	CHECK_SOLVER(cusolverDnDpotrf_bufferSize(h, CUBLAS_FILL_MODE_LOWER, n, dm, n, &lwork));
	CHECK(cudaMalloc(&workd, (size_t)(lwork > 0 ? lwork : 1) * sizeof(double)));
	CHECK_SOLVER(cusolverDnDpotrf(h, CUBLAS_FILL_MODE_LOWER, n, dm, n, workd, lwork, info));
	CHECK(cudaMemcpyAsync(&hinfo, info, sizeof(int), cudaMemcpyDeviceToHost, s));
	CHECK(cudaStreamSynchronize(s));
	if (hinfo != 0)
		FAIL("Dpotrf devInfo = %d", hinfo);
	CHECK_SOLVER(cusolverDnDpotrs(h, CUBLAS_FILL_MODE_LOWER, n, nrhs, dm, n, dbd, n, info));
	CHECK(cudaMemcpyAsync(&hinfo, info, sizeof(int), cudaMemcpyDeviceToHost, s));
	CHECK(cudaMemcpyAsync(xd.data(), dbd, xd.size() * sizeof(double), cudaMemcpyDeviceToHost,
			      s));
	CHECK(cudaStreamSynchronize(s));
	if (hinfo != 0)
		FAIL("Dpotrs devInfo = %d", hinfo);
	res_chol = residual(n, nrhs, m, xd, bd);
	if (!(res_chol < 1e-13))
		FAIL("Cholesky solve: relative residual %g", res_chol);

	CHECK_SOLVER(cusolverDnDestroy(h));
	CHECK(cudaFree(da));
	CHECK(cudaFree(db));
	CHECK(cudaFree(ipiv));
	CHECK(cudaFree(work));
	CHECK(cudaFree(dm));
	CHECK(cudaFree(dbd));
	CHECK(cudaFree(workd));
	CHECK(cudaFree(info));
	CHECK(cudaStreamDestroy(s));
	printf("cusolver_dn: OK (n=%d, %d rhs; LU residual %.2g, Cholesky residual %.2g)\n", n,
	       nrhs, res_lu, res_chol);
	return 0;
}
