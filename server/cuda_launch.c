// SPDX-License-Identifier: MIT
/*
 * cuda_launch.c - the cuda backend's kernel launches (LAUNCH): the
 * parameter buffer copied to aligned memory, the driver's cuLaunchKernel or,
 * with cooperative or cluster flags, cuLaunchKernelEx, bracketed by the
 * scheduler's timing events (backend_cuda_timing.c).
 */
#include "server/cuda_be.h"

#include <stdlib.h>
#include <string.h>

/*
 * A launch, plain (flags 0: cuLaunchKernel) or with VGPU_LAUNCH_F_* flags
 * (cuLaunchKernelEx with the cooperative and cluster attributes).
 */
static CUresult launch(struct cuda_be *b, void *ctx, void *func, const uint32_t grid[3],
		       const uint32_t block[3], uint32_t shared_bytes, void *stream,
		       const void *params, size_t params_len, uint32_t flags,
		       const uint32_t cluster[3])
{
	CUlaunchAttribute attrs[2];
	CUlaunchConfig cfg = {
		.gridDimX = grid[0], .gridDimY = grid[1], .gridDimZ = grid[2],
		.blockDimX = block[0], .blockDimY = block[1], .blockDimZ = block[2],
		.sharedMemBytes = shared_bytes, .hStream = stream, .attrs = attrs,
	};
	size_t size = params_len;
	void *buf = NULL;
	CUresult rc;
	int pair;

	USE(b, ctx);
	if (flags && !b->f.LaunchKernelEx)
		return CUDA_ERROR_NOT_SUPPORTED;	/* driver older than 11.8 */
	if (flags & VGPU_LAUNCH_F_COOPERATIVE)
		attrs[cfg.numAttrs++] = (CUlaunchAttribute){
			.id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE, .value.cooperative = 1 };
	if (flags & VGPU_LAUNCH_F_CLUSTER)
		attrs[cfg.numAttrs++] = (CUlaunchAttribute){
			.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION,
			.value.clusterDim = { cluster[0], cluster[1], cluster[2] } };
	if (params_len) {
		/* the frame body has no alignment guarantee; the copy is malloc-aligned */
		buf = malloc(params_len);
		if (!buf)
			return CUDA_ERROR_OUT_OF_MEMORY;
		memcpy(buf, params, params_len);
	}
	void *extra[] = {
		CU_LAUNCH_PARAM_BUFFER_POINTER, buf,
		CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
		CU_LAUNCH_PARAM_END,
	};
	/* bracketed by events when the session's partition is scheduled */
	pair = cuda_timing_start(b, ctx, stream, cuda_launch_key(func, grid, block, shared_bytes));
	if (flags)
		rc = b->f.LaunchKernelEx(&cfg, func, NULL, buf ? extra : NULL);
	else
		rc = b->f.LaunchKernel(func, grid[0], grid[1], grid[2], block[0], block[1],
				       block[2], shared_bytes, stream, NULL, buf ? extra : NULL);
	cuda_timing_stop(b, ctx, stream, pair, rc == CUDA_SUCCESS);
	free(buf);
	return rc;
}

CUresult cuda_launch(void *be, void *ctx, void *func, const uint32_t grid[3],
			    const uint32_t block[3], uint32_t shared_bytes, void *stream,
			    const void *params, size_t params_len)
{
	return launch(be, ctx, func, grid, block, shared_bytes, stream, params, params_len, 0,
		      NULL);
}

CUresult cuda_launch_ex(void *be, void *ctx, void *func, const uint32_t grid[3],
			       const uint32_t block[3], uint32_t shared_bytes, void *stream,
			       const void *params, size_t params_len, uint32_t flags,
			       const uint32_t cluster[3])
{
	return launch(be, ctx, func, grid, block, shared_bytes, stream, params, params_len,
		      flags, cluster);
}
