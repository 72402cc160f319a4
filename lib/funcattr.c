// SPDX-License-Identifier: MIT
/*
 * funcattr.c - what a kernel function uses and may use: its attributes
 * (FUNC_GET/SET_ATTRIBUTE) and the occupancy queries (OCCUPANCY_BLOCKS,
 * OCCUPANCY_DYN_SMEM), answered by the server's driver, which has the
 * compiled code.  CUkernel handles are function handles (library.c), so
 * the cuKernel* forms share the code; their device argument must be a
 * device this process sees.  cuOccupancyMaxPotentialBlockSize is computed
 * here from OCCUPANCY_BLOCKS, the way the real driver's is documented.
 */
#include "lib/driver.h"

/* Starts the request of a FUNC_* / OCCUPANCY_* op in @req: context, then function. */
static void func_req(struct vgpu_wbuf *w, uint8_t *req, size_t cap, const struct CUfunc_st *f)
{
	vgpu_wbuf_init_fixed(w, req, cap);
	vgpu_put_u64(w, f->mod->ctx->h);
	vgpu_put_u64(w, f->h);
}

CUresult cuFuncGetAttribute(int *pi, CUfunction_attribute attrib, CUfunction func)
{
	struct vgpu_wbuf w;
	uint8_t req[20];
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!pi)
		return CUDA_ERROR_INVALID_VALUE;
	func_req(&w, req, sizeof(req), f);
	vgpu_put_i32(&w, (int32_t)attrib);
	return vgpu_rpc_i32(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_FUNC_GET_ATTRIBUTE, &w, pi);
}

CUresult cuFuncSetAttribute(CUfunction func, CUfunction_attribute attrib, int value)
{
	struct vgpu_wbuf w;
	uint8_t req[24];
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	func_req(&w, req, sizeof(req), f);
	vgpu_put_i32(&w, (int32_t)attrib);
	vgpu_put_i32(&w, value);
	return vgpu_rpc_void(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_FUNC_SET_ATTRIBUTE, &w);
}

static CUresult kernel_dev(CUdevice dev)
{
	CUresult rc;

	return vgpu_device(dev, &rc) ? CUDA_SUCCESS : rc;
}

CUresult cuKernelGetAttribute(int *pi, CUfunction_attribute attrib, CUkernel k, CUdevice dev)
{
	CUresult rc = kernel_dev(dev);

	return rc ? rc : cuFuncGetAttribute(pi, attrib, (CUfunction)k);
}

CUresult cuKernelSetAttribute(CUfunction_attribute attrib, int value, CUkernel k, CUdevice dev)
{
	CUresult rc = kernel_dev(dev);

	return rc ? rc : cuFuncSetAttribute((CUfunction)k, attrib, value);
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *blocks, CUfunction func,
							      int block_size, size_t dyn_smem,
							      unsigned int flags)
{
	struct vgpu_wbuf w;
	uint8_t req[32];
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!blocks || block_size <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	func_req(&w, req, sizeof(req), f);
	vgpu_put_i32(&w, block_size);
	vgpu_put_u64(&w, dyn_smem);
	vgpu_put_u32(&w, flags);
	return vgpu_rpc_i32(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_OCCUPANCY_BLOCKS, &w, blocks);
}

CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, CUfunction f, int block_size,
						     size_t dyn_smem)
{
	return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(blocks, f, block_size,
								    dyn_smem, 0);
}

CUresult cuOccupancyAvailableDynamicSMemPerBlock(size_t *bytes, CUfunction func, int blocks,
						 int block_size)
{
	struct vgpu_wbuf w;
	uint8_t req[24];
	uint64_t v;
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!bytes || blocks <= 0 || block_size <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	func_req(&w, req, sizeof(req), f);
	vgpu_put_i32(&w, blocks);
	vgpu_put_i32(&w, block_size);
	rc = vgpu_rpc_u64(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_OCCUPANCY_DYN_SMEM, &w, &v);
	if (!rc)
		*bytes = v;
	return rc;
}

/*
 * The block size (a multiple of the warp size, up to the function's and
 * the caller's limits) that keeps the most threads resident per SM, and the
 * grid that fills the device with it.  Ties go to the larger block.
 */
CUresult cuOccupancyMaxPotentialBlockSizeWithFlags(int *min_grid, int *block_size,
						   CUfunction func, CUoccupancyB2DSize smem_fn,
						   size_t dyn_smem, int limit, unsigned int flags)
{
	int max_threads, warp, sms, best = 0, best_blocks = 0;
	struct vgpu_device *d;
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!min_grid || !block_size)
		return CUDA_ERROR_INVALID_VALUE;
	d = vgpu_device(f->mod->ctx->dev, &rc);
	if (!d)
		return rc;
	rc = cuFuncGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f);
	if (rc)
		return rc;
	warp = d->attr[CU_DEVICE_ATTRIBUTE_WARP_SIZE] > 0 ? d->attr[CU_DEVICE_ATTRIBUTE_WARP_SIZE]
							  : 32;
	sms = d->attr[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT];
	if (limit > 0 && limit < max_threads)
		max_threads = limit;
	for (int bs = warp; bs <= max_threads; bs += warp) {
		size_t smem = smem_fn ? smem_fn(bs) : dyn_smem;
		int blocks;

		rc = cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&blocks, f, bs, smem,
									  flags);
		if (rc)
			return rc;
		if (blocks * bs >= best_blocks * best) {
			best = bs;
			best_blocks = blocks;
		}
	}
	*block_size = best;
	*min_grid = best_blocks * (sms > 0 ? sms : 1);
	return CUDA_SUCCESS;
}

CUresult cuOccupancyMaxPotentialBlockSize(int *min_grid, int *block_size, CUfunction f,
					  CUoccupancyB2DSize smem_fn, size_t dyn_smem, int limit)
{
	return cuOccupancyMaxPotentialBlockSizeWithFlags(min_grid, block_size, f, smem_fn,
							 dyn_smem, limit, 0);
}

/*
 * Cluster occupancy, answered by the server's driver (OCCUPANCY_CLUSTERS):
 * query 0 is cuOccupancyMaxActiveClusters, 1 cuOccupancyMaxPotentialClusterSize.
 * Of the launch attributes only the cluster dimension matters here.
 */
static CUresult cluster_query(int *out, CUfunction func, const CUlaunchConfig *cfg,
			      uint32_t query)
{
	struct vgpu_wbuf w;
	uint8_t req[80];
	unsigned int cluster[3] = { 0, 0, 0 };
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!out || !cfg || (cfg->numAttrs && !cfg->attrs))
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned int i = 0; i < cfg->numAttrs; i++) {
		if (cfg->attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) {
			cluster[0] = cfg->attrs[i].value.clusterDim.x;
			cluster[1] = cfg->attrs[i].value.clusterDim.y;
			cluster[2] = cfg->attrs[i].value.clusterDim.z;
		}
	}
	func_req(&w, req, sizeof(req), f);
	vgpu_put_u32(&w, query);
	vgpu_put_u32(&w, cfg->gridDimX);
	vgpu_put_u32(&w, cfg->gridDimY);
	vgpu_put_u32(&w, cfg->gridDimZ);
	vgpu_put_u32(&w, cfg->blockDimX);
	vgpu_put_u32(&w, cfg->blockDimY);
	vgpu_put_u32(&w, cfg->blockDimZ);
	vgpu_put_u32(&w, cfg->sharedMemBytes);
	for (int i = 0; i < 3; i++)
		vgpu_put_u32(&w, cluster[i]);
	vgpu_put_u32(&w, 0);	/* reserved */
	return vgpu_rpc_i32(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_OCCUPANCY_CLUSTERS, &w, out);
}

CUresult cuOccupancyMaxActiveClusters(int *clusters, CUfunction func, const CUlaunchConfig *cfg)
{
	return cluster_query(clusters, func, cfg, 0);
}

CUresult cuOccupancyMaxPotentialClusterSize(int *size, CUfunction func,
					    const CUlaunchConfig *cfg)
{
	return cluster_query(size, func, cfg, 1);
}
