// coop_cluster.cu - launches that need more than cuLaunchKernel:
//   - a cooperative grid (cudaLaunchCooperativeKernel): every block adds its
//     part of a sum, the whole grid synchronises (cooperative_groups
//     grid.sync()), then block 0 adds the partial sums; sized with
//     cudaOccupancyMaxActiveBlocksPerMultiprocessor so all blocks are resident;
//   - thread-block clusters (cudaLaunchKernelEx with a cluster dimension of
//     2): each block writes its rank into its shared memory, the cluster
//     synchronises, and each block reads its partner's through distributed
//     shared memory (cluster.map_shared_rank); needs sm_90.
// Results are checked on the CPU.  Prints "coop_cluster: OK ..." or "... FAIL ...".
#define TEST_NAME "coop_cluster"
#include "check.h"

#include <cooperative_groups.h>
#include <vector>

namespace cg = cooperative_groups;

__global__ void grid_sum(const int *in, int n, int *partial, int *out)
{
	cg::grid_group grid = cg::this_grid();
	__shared__ int acc;
	int s = 0;

	if (threadIdx.x == 0)
		acc = 0;
	__syncthreads();
	for (int i = grid.thread_rank(); i < n; i += grid.size())
		s += in[i];
	atomicAdd(&acc, s);
	__syncthreads();
	if (threadIdx.x == 0)
		partial[blockIdx.x] = acc;
	grid.sync();	/* every block's partial sum is written */
	if (blockIdx.x == 0 && threadIdx.x == 0) {
		int t = 0;

		for (unsigned int b = 0; b < gridDim.x; b++)
			t += partial[b];
		*out = t;
	}
}

__global__ void cluster_swap(int *out)
{
	cg::cluster_group cluster = cg::this_cluster();
	__shared__ int mine;
	unsigned int rank = cluster.block_rank();

	if (threadIdx.x == 0)
		mine = 1000 * (int)blockIdx.x + (int)rank;
	cluster.sync();
	if (threadIdx.x == 0) {
		int *theirs = cluster.map_shared_rank(&mine, rank ^ 1);

		out[blockIdx.x] = *theirs;
	}
	cluster.sync();	/* the partner's shared memory lives until both have read */
}

int main()
{
	const int n = 1 << 20;
	int dev = 0, coop = 0, per_sm = 0, sms = 0, *din, *dpart, *dout, got = 0;
	std::vector<int> in(n);
	long long want = 0;

	for (int i = 0; i < n; i++) {
		in[i] = (i * 7) % 13 - 6;
		want += in[i];
	}
	CHECK(cudaGetDevice(&dev));
	CHECK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev));
	if (!coop)
		FAIL("the device does not support cooperative launches");
	CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
	CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, grid_sum, 256, 0));
	int blocks = per_sm * sms;
	CHECK(cudaMalloc(&din, n * sizeof(int)));
	CHECK(cudaMalloc(&dpart, blocks * sizeof(int)));
	CHECK(cudaMalloc(&dout, sizeof(int)));
	CHECK(cudaMemcpy(din, in.data(), n * sizeof(int), cudaMemcpyHostToDevice));
	int nn = n;
	void *args[] = { &din, &nn, &dpart, &dout };
	CHECK(cudaLaunchCooperativeKernel((void *)grid_sum, blocks, 256, args, 0, 0));
	CHECK(cudaMemcpy(&got, dout, sizeof(int), cudaMemcpyDeviceToHost));
	if (got != want)
		FAIL("grid sum %d, want %lld", got, want);
	/* one block more than can be resident: the driver must refuse it */
	cudaError_t e = cudaLaunchCooperativeKernel((void *)grid_sum, blocks + 1, 256, args, 0, 0);
	if (e != cudaErrorCooperativeLaunchTooLarge)
		FAIL("a too large cooperative grid gave %s", cudaGetErrorString(e));

	const int cblocks = 64;
	int *dc;
	std::vector<int> c(cblocks);
	cudaLaunchConfig_t cfg = {};
	cudaLaunchAttribute attr;

	CHECK(cudaMalloc(&dc, cblocks * sizeof(int)));
	attr.id = cudaLaunchAttributeClusterDimension;
	attr.val.clusterDim.x = 2;
	attr.val.clusterDim.y = 1;
	attr.val.clusterDim.z = 1;
	cfg.gridDim = dim3(cblocks);
	cfg.blockDim = dim3(32);
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	CHECK(cudaLaunchKernelEx(&cfg, cluster_swap, dc));
	CHECK(cudaMemcpy(c.data(), dc, cblocks * sizeof(int), cudaMemcpyDeviceToHost));
	for (int b = 0; b < cblocks; b++) {
		int partner = b ^ 1;

		if (c[b] != 1000 * partner + (partner & 1))
			FAIL("cluster block %d read %d, want %d", b, c[b], 1000 * partner + (partner & 1));
	}
	CHECK(cudaFree(din));
	CHECK(cudaFree(dpart));
	CHECK(cudaFree(dout));
	CHECK(cudaFree(dc));
	printf("coop_cluster: OK (cooperative grid of %d blocks summed %d; %d blocks in clusters "
	       "of 2 swapped through distributed shared memory)\n", blocks, got, cblocks);
	return 0;
}
