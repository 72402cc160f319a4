// SPDX-License-Identifier: MIT
/*
 * sim_func.c - the sim's answers about its built-in kernels: function
 * attributes and occupancy, computed from a fixed resource model that
 * matches the sim device's attributes (compute capability 9.0, 1024
 * threads per block, 2048 threads and 32 blocks per SM, 228 KiB of shared
 * memory per SM, 48 KiB per block, 32 registers per thread, no static
 * shared, constant or local memory).
 */
#include "server/sim.h"

#define SIM_THREADS_PER_SM	2048
#define SIM_BLOCKS_PER_SM	32
#define SIM_SMEM_PER_SM		(228 * 1024)
#define SIM_SMEM_PER_BLOCK	(48 * 1024)
#define SIM_CLUSTER_MAX		8	/* the portable cluster size */
#define SIM_SM_COUNT		132	/* backend_sim.c's MULTIPROCESSOR_COUNT */
#define SIM_REGS_PER_THREAD	32

CUresult sim_func_get_attribute(void *be, void *ctx, void *func, int attrib, int *value)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	switch (attrib) {
	case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
		*value = 1024;
		break;
	case CU_FUNC_ATTRIBUTE_NUM_REGS:
		*value = SIM_REGS_PER_THREAD;
		break;
	case CU_FUNC_ATTRIBUTE_PTX_VERSION:
	case CU_FUNC_ATTRIBUTE_BINARY_VERSION:
		*value = 90;
		break;
	case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
		*value = SIM_SMEM_PER_BLOCK;
		break;
	case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
		*value = -1;	/* no preference */
		break;
	default:
		*value = 0;	/* sizes, cluster requirements, cache mode: none */
		break;
	}
	return CUDA_SUCCESS;
}

/* Only the two settable attributes; the sim's kernels use neither. */
CUresult sim_func_set_attribute(void *be, void *ctx, void *func, int attrib, int value)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	switch (attrib) {
	case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
		return value >= 0 && value <= SIM_SMEM_PER_BLOCK ? CUDA_SUCCESS
								 : CUDA_ERROR_INVALID_VALUE;
	case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
		return value >= -1 && value <= 100 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
	default:
		return CUDA_ERROR_INVALID_VALUE;	/* read-only */
	}
}

CUresult sim_occupancy_blocks(void *be, void *ctx, void *func, int block_size,
			      uint64_t dyn_smem, unsigned int flags, int *blocks)
{
	struct sim *s = be;
	int warps, n;

	if (s->sticky)
		return s->sticky;
	if (block_size <= 0 || block_size > 1024 || dyn_smem > SIM_SMEM_PER_BLOCK) {
		*blocks = 0;
		return CUDA_SUCCESS;
	}
	warps = (block_size + 31) / 32;
	n = SIM_THREADS_PER_SM / (warps * 32);
	if (n > SIM_BLOCKS_PER_SM)
		n = SIM_BLOCKS_PER_SM;
	if (dyn_smem && (uint64_t)n * dyn_smem > SIM_SMEM_PER_SM)
		n = (int)(SIM_SMEM_PER_SM / dyn_smem);
	*blocks = n;
	return CUDA_SUCCESS;
}

CUresult sim_occupancy_dyn_smem(void *be, void *ctx, void *func, int blocks, int block_size,
				uint64_t *bytes)
{
	struct sim *s = be;
	uint64_t per;

	if (s->sticky)
		return s->sticky;
	if (block_size > 1024 || blocks > SIM_BLOCKS_PER_SM ||
	    (uint64_t)blocks * (uint64_t)((block_size + 31) / 32 * 32) > SIM_THREADS_PER_SM) {
		*bytes = 0;
		return CUDA_SUCCESS;
	}
	per = SIM_SMEM_PER_SM / (uint64_t)blocks;
	*bytes = per < SIM_SMEM_PER_BLOCK ? per : SIM_SMEM_PER_BLOCK;
	return CUDA_SUCCESS;
}

/*
 * Clusters on the sim's model: the portable maximum of 8 blocks, and as
 * many clusters as the SMs' blocks hold (no GPC boundaries to respect).
 */
CUresult sim_occupancy_clusters(void *be, void *ctx, void *func, unsigned int query,
				const unsigned int grid[3], const unsigned int block[3],
				unsigned int dyn_smem, const unsigned int cluster[3], int *value)
{
	unsigned int size = cluster[0] ? cluster[0] * cluster[1] * cluster[2] : 1;
	int per_sm = 0;
	CUresult rc;

	if (query) {
		*value = SIM_CLUSTER_MAX;
		return CUDA_SUCCESS;
	}
	if (size > SIM_CLUSTER_MAX) {
		*value = 0;
		return CUDA_SUCCESS;
	}
	rc = sim_occupancy_blocks(be, ctx, func, (int)(block[0] * block[1] * block[2]), dyn_smem,
				  0, &per_sm);
	if (!rc)
		*value = per_sm * SIM_SM_COUNT / (int)size;
	return rc;
}

/*
 * Cooperative and cluster launches on the sim's model: checked as the
 * driver checks them (a cooperative grid must be resident at once; a
 * cluster at most the portable 8 blocks), then run like any launch: the
 * sim's kernels synchronise neither a grid nor a cluster, so running the
 * blocks one after another is what they compute.
 */
CUresult sim_launch_ex(void *be, void *ctx, void *func, const uint32_t grid[3],
		       const uint32_t block[3], uint32_t shared_bytes, void *stream,
		       const void *params, size_t params_len, uint32_t flags,
		       const uint32_t cluster[3])
{
	uint64_t blocks = (uint64_t)grid[0] * grid[1] * grid[2];
	int per_sm = 0;
	CUresult rc;

	if (flags & VGPU_LAUNCH_F_CLUSTER &&
	    (uint64_t)cluster[0] * cluster[1] * cluster[2] > SIM_CLUSTER_MAX)
		return CUDA_ERROR_INVALID_CLUSTER_SIZE;
	if (flags & VGPU_LAUNCH_F_COOPERATIVE) {
		rc = sim_occupancy_blocks(be, ctx, func, (int)(block[0] * block[1] * block[2]),
					  shared_bytes, 0, &per_sm);
		if (rc)
			return rc;
		if (blocks > (uint64_t)per_sm * SIM_SM_COUNT)
			return CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE;
	}
	return sim_launch(be, ctx, func, grid, block, shared_bytes, stream, params, params_len);
}
