// cublaslt_matmul.cu - one cublasLtMatmul: FP16 A and B, FP32 C/D, FP32
// compute (D = alpha op(A) B + beta C, op(A) = A^T, 128x96x64), the
// algorithm from cublasLtMatmulAlgoGetHeuristic with a workspace limit set
// in a preference, run on a created stream and checked against a CPU GEMM.
// The inputs are multiples of 1/8 so every product is exact.
// Prints "cublaslt_matmul: OK ..." or "cublaslt_matmul: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cublasLt.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#define TEST_NAME "cublaslt_matmul"
#include "check.h"

#define CHECK_LT(call)                                                                  \
	do {                                                                            \
		cublasStatus_t s_ = (call);                                             \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                        \
			FAIL("%s: %s (%d)", #call, cublasLtGetStatusName(s_), (int)s_); \
	} while (0)

int main(void)
{
	const int m = 128, n = 96, k = 64;
	const size_t ws_size = 4 << 20;
	cublasLtHandle_t lt;
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, lc;
	cublasLtMatmulPreference_t pref;
	cublasLtMatmulHeuristicResult_t heur = {};
	cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
	cudaStream_t s;
	int found = 0;
	float alpha = 2.0f, beta = 0.5f;
	std::vector<__half> a((size_t)k * m), b((size_t)k * n);
	std::vector<float> af(a.size()), bf(b.size()), c((size_t)m * n), d(c.size());
	__half *da, *db;
	float *dc, *dd;
	void *ws;

	srand(7);
	/* A is stored k x m (op(A) = A^T is m x k), B k x n, C and D m x n */
	for (size_t i = 0; i < a.size(); i++) {
		af[i] = (float)(rand() % 17 - 8) / 8.0f;
		a[i] = __float2half(af[i]);
	}
	for (size_t i = 0; i < b.size(); i++) {
		bf[i] = (float)(rand() % 17 - 8) / 8.0f;
		b[i] = __float2half(bf[i]);
	}
	for (auto &x : c)
		x = (float)(rand() % 9 - 4);

	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&da, a.size() * sizeof(__half)));
	CHECK(cudaMalloc(&db, b.size() * sizeof(__half)));
	CHECK(cudaMalloc(&dc, c.size() * sizeof(float)));
	CHECK(cudaMalloc(&dd, d.size() * sizeof(float)));
	CHECK(cudaMalloc(&ws, ws_size));
	CHECK(cudaMemcpy(da, a.data(), a.size() * sizeof(__half), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(db, b.data(), b.size() * sizeof(__half), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(dc, c.data(), c.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK(cudaMemset(dd, 0xff, d.size() * sizeof(float)));

	CHECK_LT(cublasLtCreate(&lt));
	CHECK_LT(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	CHECK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
	CHECK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
	CHECK_LT(cublasLtMatrixLayoutCreate(&la, CUDA_R_16F, k, m, k));
	CHECK_LT(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16F, k, n, k));
	CHECK_LT(cublasLtMatrixLayoutCreate(&lc, CUDA_R_32F, m, n, m));
	CHECK_LT(cublasLtMatmulPreferenceCreate(&pref));
	CHECK_LT(cublasLtMatmulPreferenceSetAttribute(
		pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_size, sizeof(ws_size)));
	CHECK_LT(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, lc, lc, pref, 1, &heur, &found));
	if (found < 1)
		FAIL("cublasLtMatmulAlgoGetHeuristic found no algorithm");
	if (heur.state != CUBLAS_STATUS_SUCCESS || heur.workspaceSize > ws_size)
		FAIL("heuristic result: state %d, workspace %zu", (int)heur.state,
		     heur.workspaceSize);
	CHECK_LT(cublasLtMatmul(lt, op, &alpha, da, la, db, lb, &beta, dc, lc, dd, lc, &heur.algo,
				ws, ws_size, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(d.data(), dd, d.size() * sizeof(float), cudaMemcpyDeviceToHost));

	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			double sum = 0.0, want;

			for (int l = 0; l < k; l++)
				sum += (double)af[l + i * k] * bf[l + j * k];
			want = alpha * sum + beta * c[i + j * m];
			if (fabs(d[i + j * m] - want) > 1e-5 * (fabs(want) + 1.0))
				FAIL("D[%d,%d] = %.9g, want %.9g", i, j, (double)d[i + j * m],
				     want);
		}

	CHECK_LT(cublasLtMatmulPreferenceDestroy(pref));
	CHECK_LT(cublasLtMatrixLayoutDestroy(la));
	CHECK_LT(cublasLtMatrixLayoutDestroy(lb));
	CHECK_LT(cublasLtMatrixLayoutDestroy(lc));
	CHECK_LT(cublasLtMatmulDescDestroy(op));
	CHECK_LT(cublasLtDestroy(lt));
	CHECK(cudaFree(da));
	CHECK(cudaFree(db));
	CHECK(cudaFree(dc));
	CHECK(cudaFree(dd));
	CHECK(cudaFree(ws));
	CHECK(cudaStreamDestroy(s));
	printf("cublaslt_matmul: OK (FP16 in, FP32 compute, %dx%dx%d, workspace %zu)\n", m, n, k,
	       heur.workspaceSize);
	return 0;
}
