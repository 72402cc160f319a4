// SPDX-License-Identifier: MIT
/*
 * ctx_query.c - the properties of a context that live in the client:
 * flags, API version, id, stream priority range, cache configuration and
 * limits.  Limits are kept per context and reported back as set; they are
 * not forwarded (the server's driver grows a kernel's stack on demand, and
 * printf and device malloc have no path back to this process yet).
 */
#include "lib/driver.h"

/* Defaults of the real driver on sm_90 (cuCtxGetLimit on a fresh context). */
static const size_t limit_default[CU_LIMIT_MAX] = {
	[CU_LIMIT_STACK_SIZE] = 1024,
	[CU_LIMIT_PRINTF_FIFO_SIZE] = 1 << 20,
	[CU_LIMIT_MALLOC_HEAP_SIZE] = 8 << 20,
	[CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH] = 2,
	[CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT] = 2048,
	[CU_LIMIT_MAX_L2_FETCH_GRANULARITY] = 64,
	[CU_LIMIT_PERSISTING_L2_CACHE_SIZE] = 0,
	[CU_LIMIT_SHMEM_SIZE] = 0,
	[CU_LIMIT_CIG_ENABLED] = 0,
	[CU_LIMIT_CIG_SHMEM_FALLBACK_ENABLED] = 0,
};

CUresult cuCtxGetLimit(size_t *value, CUlimit limit)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!value || (unsigned int)limit >= CU_LIMIT_MAX)
		return CUDA_ERROR_INVALID_VALUE;
	*value = c->limit_set & (1u << limit) ? c->limit[limit] : limit_default[limit];
	return CUDA_SUCCESS;
}

CUresult cuCtxSetLimit(CUlimit limit, size_t value)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if ((unsigned int)limit >= CU_LIMIT_MAX)
		return CUDA_ERROR_INVALID_VALUE;
	if (limit == CU_LIMIT_SHMEM_SIZE || limit == CU_LIMIT_CIG_ENABLED)
		return CUDA_ERROR_INVALID_VALUE;	/* query-only */
	if (limit == CU_LIMIT_MAX_L2_FETCH_GRANULARITY && value > 128)
		return CUDA_ERROR_INVALID_VALUE;
	c->limit[limit] = value;
	__atomic_or_fetch(&c->limit_set, 1u << limit, __ATOMIC_RELAXED);
	return CUDA_SUCCESS;
}

CUresult cuCtxGetFlags(unsigned int *flags)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!flags)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = c->flags;
	return CUDA_SUCCESS;
}

/* Scheduling flags only; they shape how this process waits, which is on the transport. */
CUresult cuCtxSetFlags(unsigned int flags)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (flags & ~(unsigned int)(CU_CTX_SCHED_MASK | CU_CTX_LMEM_RESIZE_TO_MAX |
				    CU_CTX_SYNC_MEMOPS))
		return CUDA_ERROR_INVALID_VALUE;
	c->flags = flags;
	return CUDA_SUCCESS;
}

/* vgpu_ctx_arg(), but a destroyed context named explicitly still answers. */
static CUresult ctx_or_current(CUcontext ctx, struct CUctx_st **c)
{
	CUresult rc = vgpu_ctx_arg(ctx, c);

	return ctx && rc == CUDA_ERROR_CONTEXT_IS_DESTROYED ? CUDA_SUCCESS : rc;
}

CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int *version)
{
	struct CUctx_st *c;
	CUresult rc = ctx_or_current(ctx, &c);

	if (rc)
		return rc;
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = 3020;	/* every context of the _v2 API, as the real driver reports */
	return CUDA_SUCCESS;
}

CUresult cuCtxGetId(CUcontext ctx, unsigned long long *id)
{
	struct CUctx_st *c;
	CUresult rc = ctx_or_current(ctx, &c);

	if (rc)
		return rc;
	if (!id)
		return CUDA_ERROR_INVALID_VALUE;
	*id = c->id;
	return CUDA_SUCCESS;
}

/* The device's range (the server passes priorities through to its driver). */
CUresult cuCtxGetStreamPriorityRange(int *least, int *greatest)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (least)
		*least = 0;
	if (greatest)
		*greatest = -5;
	return CUDA_SUCCESS;
}

/* The current context, for a query that writes to out (which must not be NULL). */
static CUresult current_for(const void *out, struct CUctx_st **c)
{
	CUresult rc = vgpu_ctx_current(c);

	return rc ? rc : out ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuCtxGetCacheConfig(CUfunc_cache *config)
{
	struct CUctx_st *c;
	CUresult rc = current_for(config, &c);

	if (!rc)
		*config = c->cache_config;
	return rc;
}

/* A hint the hardware may ignore; recorded, not forwarded. */
CUresult cuCtxSetCacheConfig(CUfunc_cache config)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if ((unsigned int)config > CU_FUNC_CACHE_PREFER_EQUAL)
		return CUDA_ERROR_INVALID_VALUE;
	c->cache_config = config;
	return CUDA_SUCCESS;
}

/*
 * Execution affinity: a context here may use all SMs of its device as the
 * application sees it; contexts with fewer are not offered (a partition's
 * SM share is the server's to set, vgpu-server --spatial).
 */
CUresult cuCtxGetExecAffinity(CUexecAffinityParam *p, CUexecAffinityType type)
{
	struct vgpu_device *d;
	struct CUctx_st *c;
	CUresult rc = current_for(p, &c);

	if (rc)
		return rc;
	if (type != CU_EXEC_AFFINITY_TYPE_SM_COUNT)
		return CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY;
	d = vgpu_device(c->dev, &rc);
	if (!d)
		return rc;
	p->type = type;
	p->param.smCount.val = (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT];
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetExecAffinitySupport(int *pi, CUexecAffinityType type, CUdevice dev)
{
	CUresult rc;

	if (!vgpu_device(dev, &rc))
		return rc;
	if (!pi || (unsigned int)type >= CU_EXEC_AFFINITY_TYPE_MAX)
		return CUDA_ERROR_INVALID_VALUE;
	*pi = 0;
	return CUDA_SUCCESS;
}

/*
 * Shared-memory bank size: fixed at four bytes on every GPU CUDA 13
 * supports, where NVIDIA's driver also takes the setting and ignores it.
 */
CUresult cuCtxGetSharedMemConfig(CUsharedconfig *config)
{
	struct CUctx_st *c;
	CUresult rc = current_for(config, &c);

	if (!rc)
		*config = CU_SHARED_MEM_CONFIG_FOUR_BYTE_BANK_SIZE;
	return rc;
}

CUresult cuCtxSetSharedMemConfig(CUsharedconfig config)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	return (unsigned int)config > CU_SHARED_MEM_CONFIG_EIGHT_BYTE_BANK_SIZE ?
	       CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
}
