// cudnn_conv.cu - cuDNN 9's legacy API on a created stream: a forward
// convolution, NCHW float, N=2 C=3 16x16, K=4 3x3 filters, pad 1, stride 1,
// FMA math (no TF32); the algorithm from cudnnGetConvolutionForwardAlgorithm_v7
// with its workspace; checked against a CPU convolution; then a ReLU with
// cudnnActivationForward, checked element by element.
// Prints "cudnn_conv: OK ..." or "cudnn_conv: FAIL <what>".
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cudnn.h>
#include <cuda_runtime.h>

#define TEST_NAME "cudnn_conv"
#include "check.h"

#define CHECK_DNN(call)                                                               \
	do {                                                                          \
		cudnnStatus_t r_ = (call);                                            \
		if (r_ != CUDNN_STATUS_SUCCESS)                                       \
			FAIL("%s: %s (%d)", #call, cudnnGetErrorString(r_), (int)r_); \
	} while (0)

static float frand(void)
{
	return (float)rand() / RAND_MAX * 2.0f - 1.0f;
}

static const int N = 2, C = 3, H = 16, W = 16, K = 4, R = 3, S = 3, PAD = 1;

/* One output element of the cross-correlation, in double, and the sum of
 * the absolute values of its products (the scale of its rounding error). */
static double cpu_conv(const std::vector<float> &x, const std::vector<float> &w, int n, int k,
		       int i, int j, double *mag)
{
	double sum = 0.0;

	*mag = 0.0;
	for (int c = 0; c < C; c++)
		for (int r = 0; r < R; r++)
			for (int q = 0; q < S; q++) {
				int yi = i + r - PAD, xj = j + q - PAD;
				double p;

				if (yi < 0 || yi >= H || xj < 0 || xj >= W)
					continue;
				p = (double)x[((n * C + c) * H + yi) * W + xj] *
				    w[((k * C + c) * R + r) * S + q];
				sum += p;
				*mag += fabs(p);
			}
	return sum;
}

int main(void)
{
	int on, oc, oh, ow, nalgo = 0;
	cudnnHandle_t h;
	cudnnTensorDescriptor_t xd, yd;
	cudnnFilterDescriptor_t wd;
	cudnnConvolutionDescriptor_t cd;
	cudnnActivationDescriptor_t ad;
	cudnnConvolutionFwdAlgoPerf_t perf[8];
	cudnnConvolutionFwdAlgo_t algo;
	cudaStream_t s;
	size_t ws_size = 0;
	void *ws = NULL;
	float alpha = 1.0f, beta = 0.0f, *dx, *dw, *dy, *dz;
	std::vector<float> x((size_t)N * C * H * W), w((size_t)K * C * R * S);
	std::vector<float> y((size_t)N * K * H * W), z(y.size());

	srand(5);
	for (auto &v : x)
		v = frand();
	for (auto &v : w)
		v = frand();

	CHECK(cudaStreamCreate(&s));
	CHECK_DNN(cudnnCreate(&h));
	CHECK_DNN(cudnnSetStream(h, s));
	CHECK_DNN(cudnnCreateTensorDescriptor(&xd));
	CHECK_DNN(cudnnCreateTensorDescriptor(&yd));
	CHECK_DNN(cudnnCreateFilterDescriptor(&wd));
	CHECK_DNN(cudnnCreateConvolutionDescriptor(&cd));
	CHECK_DNN(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, C, H, W));
	CHECK_DNN(cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, K, C, R, S));
	CHECK_DNN(cudnnSetConvolution2dDescriptor(cd, PAD, PAD, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
						  CUDNN_DATA_FLOAT));
	CHECK_DNN(cudnnSetConvolutionMathType(cd, CUDNN_FMA_MATH));
	CHECK_DNN(cudnnGetConvolution2dForwardOutputDim(cd, xd, wd, &on, &oc, &oh, &ow));
	if (on != N || oc != K || oh != H || ow != W)
		FAIL("output dimensions %dx%dx%dx%d", on, oc, oh, ow);
	CHECK_DNN(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, N, K, H, W));

	CHECK_DNN(cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 8, &nalgo, perf));
	int pick = -1;
	for (int i = 0; i < nalgo && pick < 0; i++)
		if (perf[i].status == CUDNN_STATUS_SUCCESS)
			pick = i;
	if (pick < 0)
		FAIL("cudnnGetConvolutionForwardAlgorithm_v7: none of %d algorithms usable", nalgo);
	algo = perf[pick].algo;
	CHECK_DNN(cudnnGetConvolutionForwardWorkspaceSize(h, xd, wd, cd, yd, algo, &ws_size));
	if (ws_size)
		CHECK(cudaMalloc(&ws, ws_size));

	CHECK(cudaMalloc(&dx, x.size() * sizeof(float)));
	CHECK(cudaMalloc(&dw, w.size() * sizeof(float)));
	CHECK(cudaMalloc(&dy, y.size() * sizeof(float)));
	CHECK(cudaMalloc(&dz, z.size() * sizeof(float)));
	CHECK(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK(cudaMemcpy(dw, w.data(), w.size() * sizeof(float), cudaMemcpyHostToDevice));
	CHECK_DNN(cudnnConvolutionForward(h, &alpha, xd, dx, wd, dw, cd, algo, ws, ws_size, &beta,
					  yd, dy));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost));

	for (int n = 0; n < N; n++)
		for (int k = 0; k < K; k++)
			for (int i = 0; i < H; i++)
				for (int j = 0; j < W; j++) {
					double mag, want = cpu_conv(x, w, n, k, i, j, &mag);
					float got = y[((n * K + k) * H + i) * W + j];

					if (!(fabs(got - want) <= 1e-5 * (mag + 1.0)))
						FAIL("y[%d,%d,%d,%d] = %.9g, want %.9g (algo %d)",
						     n, k, i, j, (double)got, want, (int)algo);
				}

	/* ReLU into a second buffer */
	CHECK_DNN(cudnnCreateActivationDescriptor(&ad));
	CHECK_DNN(cudnnSetActivationDescriptor(ad, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN,
					       0.0));
	CHECK_DNN(cudnnActivationForward(h, ad, &alpha, yd, dy, &beta, yd, dz));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(z.data(), dz, z.size() * sizeof(float), cudaMemcpyDeviceToHost));
	for (size_t i = 0; i < z.size(); i++)
		if (z[i] != (y[i] > 0.0f ? y[i] : 0.0f))
			FAIL("relu[%zu] = %.9g from %.9g", i, (double)z[i], (double)y[i]);

	CHECK_DNN(cudnnDestroyActivationDescriptor(ad));
	CHECK_DNN(cudnnDestroyConvolutionDescriptor(cd));
	CHECK_DNN(cudnnDestroyFilterDescriptor(wd));
	CHECK_DNN(cudnnDestroyTensorDescriptor(xd));
	CHECK_DNN(cudnnDestroyTensorDescriptor(yd));
	CHECK_DNN(cudnnDestroy(h));
	CHECK(cudaFree(dx));
	CHECK(cudaFree(dw));
	CHECK(cudaFree(dy));
	CHECK(cudaFree(dz));
	if (ws)
		CHECK(cudaFree(ws));
	CHECK(cudaStreamDestroy(s));
	printf("cudnn_conv: OK (cuDNN %zu; algo %d, workspace %zu)\n", cudnnGetVersion(), (int)algo,
	       ws_size);
	return 0;
}
