// SPDX-License-Identifier: MIT
// reduce_sum: out[0] += sum(in[0..n)); the caller zeroes out[0] first.
// Grid-stride partial sums, a block reduction in shared memory, then one
// atomicAdd per block.
extern "C" __global__ void reduce_sum(const float *in, float *out, int n)
{
	__shared__ float part[1024];
	float s = 0.0f;

	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
		s += in[i];
	part[threadIdx.x] = s;
	__syncthreads();
	for (unsigned int k = blockDim.x / 2; k > 0; k >>= 1) {
		if (threadIdx.x < k)
			part[threadIdx.x] += part[threadIdx.x + k];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		atomicAdd(out, part[0]);
}
