// SPDX-License-Identifier: MIT
/*
 * cuda_func.c - the cuda backend's function attributes and occupancy
 * queries (FUNC_GET/SET_ATTRIBUTE, OCCUPANCY_BLOCKS, OCCUPANCY_DYN_SMEM,
 * OCCUPANCY_CLUSTERS): the server's driver answers, in the function's
 * context.
 */
#include "server/cuda_be.h"

CUresult cuda_func_get_attribute(void *be, void *ctx, void *func, int attrib, int *value)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.FuncGetAttribute(value, (CUfunction_attribute)attrib, func);
}

CUresult cuda_func_set_attribute(void *be, void *ctx, void *func, int attrib, int value)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.FuncSetAttribute(func, (CUfunction_attribute)attrib, value);
}

CUresult cuda_occupancy_blocks(void *be, void *ctx, void *func, int block_size,
			       uint64_t dyn_smem, unsigned int flags, int *blocks)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.OccupancyBlocks(blocks, func, block_size, dyn_smem, flags);
}

CUresult cuda_occupancy_dyn_smem(void *be, void *ctx, void *func, int blocks,
				 int block_size, uint64_t *bytes)
{
	struct cuda_be *b = be;
	size_t n = 0;
	CUresult rc;

	USE(b, ctx);
	if (!b->f.OccupancyDynSmem)
		return CUDA_ERROR_NOT_SUPPORTED;	/* driver older than 11.0 */
	rc = b->f.OccupancyDynSmem(&n, func, blocks, block_size);
	*bytes = n;
	return rc;
}

CUresult cuda_occupancy_clusters(void *be, void *ctx, void *func, unsigned int query,
				 const unsigned int grid[3], const unsigned int block[3],
				 unsigned int dyn_smem, const unsigned int cluster[3],
				 int *value)
{
	struct cuda_be *b = be;
	CUlaunchAttribute attr = { .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION };
	CUlaunchConfig cfg = {
		.gridDimX = grid[0], .gridDimY = grid[1], .gridDimZ = grid[2],
		.blockDimX = block[0], .blockDimY = block[1], .blockDimZ = block[2],
		.sharedMemBytes = dyn_smem, .attrs = &attr, .numAttrs = cluster[0] ? 1 : 0,
	};

	USE(b, ctx);
	attr.value.clusterDim.x = cluster[0];
	attr.value.clusterDim.y = cluster[1];
	attr.value.clusterDim.z = cluster[2];
	if (!b->f.OccupancyClusters || !b->f.OccupancyClusterSize)
		return CUDA_ERROR_NOT_SUPPORTED;	/* driver older than 11.8 */
	return query ? b->f.OccupancyClusterSize(value, func, &cfg) :
		       b->f.OccupancyClusters(value, func, &cfg);
}
