// SPDX-License-Identifier: MIT
// saxpy: the sim's kernel of the same name, for a real GPU (make kernels).
extern "C" __global__ void saxpy(float a, const float *x, float *y, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		y[i] = a * x[i] + y[i];
}
