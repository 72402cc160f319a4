// SPDX-License-Identifier: MIT
/*
 * launch.c - cuLaunchKernel.  The kernel's parameters arrive either as
 * kernelParams (an array of pointers, one per parameter, sizes unknown to
 * the caller's side) or as one packed buffer in `extra`
 * (CU_LAUNCH_PARAM_BUFFER_POINTER/SIZE).  Either way they are packed into
 * the buffer LAUNCH carries, laid out as MODULE_GET_FUNCTION said: each
 * parameter at its offset, last offset + size bytes in all.
 */
#include "lib/driver.h"
#include "lib/graph.h"

#include <stdlib.h>
#include <string.h>

/* Pack from kernelParams, or from the extra array; NULL-free checks included. */
CUresult vgpu_pack_params(const struct CUfunc_st *f, void **kernel_params, void **extra,
			  uint8_t *buf)
{
	const void *ext_buf = NULL;
	size_t ext_size = 0;
	bool have_size = false;

	if (kernel_params && extra)
		return CUDA_ERROR_INVALID_VALUE;
	if (kernel_params) {
		for (uint32_t i = 0; i < f->nparams; i++) {
			if (!kernel_params[i])
				return CUDA_ERROR_INVALID_VALUE;
			memcpy(buf + f->params[i].offset, kernel_params[i], f->params[i].size);
		}
		return CUDA_SUCCESS;
	}
	if (!extra)
		return f->nparams ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
	for (int i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
		if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
			ext_buf = extra[i + 1];
		} else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE) {
			if (!extra[i + 1])
				return CUDA_ERROR_INVALID_VALUE;
			ext_size = *(size_t *)extra[i + 1];
			have_size = true;
		} else {
			return CUDA_ERROR_INVALID_VALUE;
		}
	}
	if (!f->buf_size)
		return CUDA_SUCCESS;
	if (!ext_buf || !have_size || ext_size < f->buf_size)
		return CUDA_ERROR_INVALID_VALUE;
	memcpy(buf, ext_buf, f->buf_size);
	return CUDA_SUCCESS;
}

/*
 * May this launch be posted, not waited for (docs/LIBCUDA.md,
 * "Asynchronous launches")?  Only a plain one whose shape the device's
 * limits allow, so what the server could refuse is left to the rare
 * failures of a kernel's own resources (VGPU_ASYNC=0: none is posted, rpc.c).
 */
static bool may_post(const struct CUfunc_st *f, CUstream stream, uint64_t sh,
		     const unsigned int grid[3], const unsigned int block[3],
		     unsigned int shared_bytes, uint32_t flags)
{
	const struct vgpu_device *d;
	uint64_t threads = (uint64_t)block[0] * block[1] * block[2];
	CUresult rc;

	/* a stream (handle sh) of another context than the kernel's: let the server say so now */
	if (flags || (sh && stream->ctx != f->mod->ctx))
		return false;
	d = vgpu_device(f->mod->ctx->dev, &rc);
	if (!d || !d->have_info)
		return false;
	for (int i = 0; i < 3; i++) {
		if (!grid[i] || grid[i] > (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X + i] ||
		    !block[i] || block[i] > (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X + i])
			return false;
	}
	return threads <= (uint64_t)d->attr[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK] &&
	       shared_bytes <= (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK];
}

/*
 * Every launch: flags are VGPU_LAUNCH_F_* (cooperative, clusters of
 * cluster[3] blocks), sent in LAUNCH's flags word, the cluster's dimensions
 * after the parameters.
 */
static CUresult launch(CUfunction func, unsigned int gx, unsigned int gy, unsigned int gz,
		       unsigned int bx, unsigned int by, unsigned int bz,
		       unsigned int shared_bytes, CUstream stream, void **kernel_params,
		       void **extra, uint32_t flags, const unsigned int cluster[3])
{
	const unsigned int grid[3] = { gx, gy, gz }, block[3] = { bx, by, bz };
	uint8_t req[VGPU_TRANSPORT_HDR_ROOM], small[256], cl[12];
	struct vgpu_wbuf w;
	struct iovec iov[3];
	uint8_t *params;
	uint64_t sh;
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	rc = vgpu_stream_handle(stream, &sh);
	if (rc)
		return rc;
	if (vgpu_capturing(stream)) {
		struct vgpu_knode k;

		/* a graph's kernel nodes carry no launch attributes yet: the capture fails */
		if (flags)
			return vgpu_capture_refuse(stream);

		rc = vgpu_knode_init(&k, func, grid, block, shared_bytes, kernel_params, extra);
		return rc ? rc : vgpu_capture_add(stream, CU_GRAPH_NODE_TYPE_KERNEL, &k);
	}
	params = f->buf_size <= sizeof(small) ? small : calloc(1, f->buf_size);
	if (!params)
		return CUDA_ERROR_OUT_OF_MEMORY;
	memset(params, 0, f->buf_size);
	rc = vgpu_pack_params(f, kernel_params, extra, params);
	if (rc)
		goto out;

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, f->mod->ctx->h);
	vgpu_put_u64(&w, f->h);
	vgpu_put_u32(&w, gx);
	vgpu_put_u32(&w, gy);
	vgpu_put_u32(&w, gz);
	vgpu_put_u32(&w, bx);
	vgpu_put_u32(&w, by);
	vgpu_put_u32(&w, bz);
	vgpu_put_u32(&w, shared_bytes);
	vgpu_put_u32(&w, flags);
	vgpu_put_u64(&w, sh);
	vgpu_put_u32(&w, f->buf_size);	/* "bytes params": length, then the buffer */
	iov[0] = (struct iovec){ .iov_base = req, .iov_len = w.len };
	iov[1] = (struct iovec){ .iov_base = params, .iov_len = f->buf_size };
	iov[2] = (struct iovec){ .iov_base = cl, .iov_len = 0 };
	if (flags & VGPU_LAUNCH_F_CLUSTER) {
		struct vgpu_wbuf cw;

		vgpu_wbuf_init_fixed(&cw, cl, sizeof(cl));
		for (int i = 0; i < 3; i++)
			vgpu_put_u32(&cw, cluster[i]);
		iov[2].iov_len = cw.len;
	}
	if (may_post(f, stream, sh, grid, block, shared_bytes, flags))
		rc = vgpu_rpc_post(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_LAUNCH, iov, 2);
	else
		rc = vgpu_rpc(vgpu_ctx_tp(f->mod->ctx), VGPU_OP_LAUNCH, iov,
			      iov[2].iov_len ? 3 : 2, NULL, 0, NULL);
out:
	if (params != small)
		free(params);
	return rc;
}

CUresult cuLaunchKernel(CUfunction func, unsigned int gx, unsigned int gy, unsigned int gz,
			unsigned int bx, unsigned int by, unsigned int bz,
			unsigned int shared_bytes, CUstream stream,
			void **kernel_params, void **extra)
{
	return launch(func, gx, gy, gz, bx, by, bz, shared_bytes, stream, kernel_params, extra,
		      0, NULL);
}

CUresult cuLaunchCooperativeKernel(CUfunction func, unsigned int gx, unsigned int gy,
				   unsigned int gz, unsigned int bx, unsigned int by,
				   unsigned int bz, unsigned int shared_bytes, CUstream stream,
				   void **kernel_params)
{
	return launch(func, gx, gy, gz, bx, by, bz, shared_bytes, stream, kernel_params, NULL,
		      VGPU_LAUNCH_F_COOPERATIVE, NULL);
}

/*
 * Launch attributes: cooperative grids and thread-block clusters go to the
 * server (LAUNCH's flags); those that change nothing observable when every
 * launch of a stream runs in order are accepted and dropped: hints
 * (access policy, carveout, scheduling and cluster preferences, priority,
 * memory sync domains) and permission to overlap the previous kernel
 * (programmatic serialization: not overlapping is always correct).  Others
 * (programmatic events, launch completion events, device-updatable nodes)
 * refuse the launch with CUDA_ERROR_NOT_SUPPORTED.
 */
static CUresult launch_attr(const CUlaunchAttribute *a, uint32_t *flags, unsigned int cluster[3])
{
	switch (a->id) {
	case CU_LAUNCH_ATTRIBUTE_IGNORE:
	case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
	case CU_LAUNCH_ATTRIBUTE_PRIORITY:
	case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
	case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN:
	case CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
	case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
	case CU_LAUNCH_ATTRIBUTE_PREFERRED_CLUSTER_DIMENSION:
	case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION:
		return CUDA_SUCCESS;
	case CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
		if (a->value.cooperative)
			*flags |= VGPU_LAUNCH_F_COOPERATIVE;
		else
			*flags &= ~VGPU_LAUNCH_F_COOPERATIVE;
		return CUDA_SUCCESS;
	case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
		if (!a->value.clusterDim.x || !a->value.clusterDim.y || !a->value.clusterDim.z)
			return CUDA_ERROR_INVALID_VALUE;
		cluster[0] = a->value.clusterDim.x;
		cluster[1] = a->value.clusterDim.y;
		cluster[2] = a->value.clusterDim.z;
		*flags |= VGPU_LAUNCH_F_CLUSTER;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_NOT_SUPPORTED;
	}
}

CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction f, void **kernel_params,
			  void **extra)
{
	unsigned int cluster[3] = { 1, 1, 1 };
	uint32_t flags = 0;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!config || (config->numAttrs && !config->attrs))
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned int i = 0; i < config->numAttrs; i++) {
		rc = launch_attr(&config->attrs[i], &flags, cluster);
		if (rc)
			return rc;
	}
	/* a cluster of one block is no cluster: a plain launch, as before */
	if ((uint64_t)cluster[0] * cluster[1] * cluster[2] == 1)
		flags &= ~VGPU_LAUNCH_F_CLUSTER;
	return launch(f, config->gridDimX, config->gridDimY, config->gridDimZ,
		      config->blockDimX, config->blockDimY, config->blockDimZ,
		      config->sharedMemBytes, config->hStream, kernel_params, extra, flags,
		      cluster);
}

CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **kernel_params,
			       void **extra);
CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *config, CUfunction f, void **kernel_params,
			       void **extra)
{
	return cuLaunchKernelEx(config, f, kernel_params, extra);
}
