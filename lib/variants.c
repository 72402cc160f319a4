// SPDX-License-Identifier: MIT
/*
 * variants.c - the other exported names of the implemented entry points:
 *
 *  - the per-thread-default-stream forms (_ptds, _ptsz) that cuda.h selects
 *    under CUDA_API_PER_THREAD_DEFAULT_STREAM and cuGetProcAddress hands
 *    out for CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM.  All work is
 *    ordered per session on the server, so they are the legacy forms;
 *  - the original (pre-_v2) ABI that cuda.h now #defines away.  Those with
 *    32-bit sizes or device pointers convert, and refuse a device address
 *    that does not fit in 32 bits rather than truncate it.
 *
 * cuda.h declares none of these under their real names, so each is
 * declared here (after #undef of cuda.h's renaming macro).
 */
#include "lib/driver.h"

#include <limits.h>

typedef unsigned int CUdeviceptr_v1;

/* Declare (cuda.h does not, under this name) and define an entry point. */
#define ENTRY(name, params) CUresult name params; CUresult name params

/* ---- per-thread default stream forms ----------------------------------- */

ENTRY(cuMemcpyHtoD_v2_ptds, (CUdeviceptr dst, const void *src, size_t n))
{
	return cuMemcpyHtoD_v2(dst, src, n);
}

ENTRY(cuMemcpyDtoH_v2_ptds, (void *dst, CUdeviceptr src, size_t n))
{
	return cuMemcpyDtoH_v2(dst, src, n);
}

ENTRY(cuMemcpyDtoD_v2_ptds, (CUdeviceptr dst, CUdeviceptr src, size_t n))
{
	return cuMemcpyDtoD_v2(dst, src, n);
}

ENTRY(cuMemcpyHtoDAsync_v2_ptsz, (CUdeviceptr dst, const void *src, size_t n, CUstream s))
{
	return cuMemcpyHtoDAsync_v2(dst, src, n, s);
}

ENTRY(cuMemcpyDtoHAsync_v2_ptsz, (void *dst, CUdeviceptr src, size_t n, CUstream s))
{
	return cuMemcpyDtoHAsync_v2(dst, src, n, s);
}

ENTRY(cuMemcpyDtoDAsync_v2_ptsz, (CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s))
{
	return cuMemcpyDtoDAsync_v2(dst, src, n, s);
}

ENTRY(cuMemsetD8_v2_ptds, (CUdeviceptr dst, unsigned char v, size_t n))
{
	return cuMemsetD8_v2(dst, v, n);
}

ENTRY(cuMemsetD16_v2_ptds, (CUdeviceptr dst, unsigned short v, size_t n))
{
	return cuMemsetD16_v2(dst, v, n);
}

ENTRY(cuMemsetD32_v2_ptds, (CUdeviceptr dst, unsigned int v, size_t n))
{
	return cuMemsetD32_v2(dst, v, n);
}

ENTRY(cuMemsetD8Async_ptsz, (CUdeviceptr dst, unsigned char v, size_t n, CUstream s))
{
	return cuMemsetD8Async(dst, v, n, s);
}

ENTRY(cuMemsetD16Async_ptsz, (CUdeviceptr dst, unsigned short v, size_t n, CUstream s))
{
	return cuMemsetD16Async(dst, v, n, s);
}

ENTRY(cuMemsetD32Async_ptsz, (CUdeviceptr dst, unsigned int v, size_t n, CUstream s))
{
	return cuMemsetD32Async(dst, v, n, s);
}

ENTRY(cuLaunchKernel_ptsz, (CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
			       unsigned int bx, unsigned int by, unsigned int bz,
			       unsigned int shared, CUstream s, void **params, void **extra))
{
	return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, extra);
}

ENTRY(cuLaunchCooperativeKernel_ptsz, (CUfunction f, unsigned int gx, unsigned int gy,
					  unsigned int gz, unsigned int bx, unsigned int by,
					  unsigned int bz, unsigned int shared, CUstream s,
					  void **params))
{
	return cuLaunchCooperativeKernel(f, gx, gy, gz, bx, by, bz, shared, s, params);
}

ENTRY(cuStreamSynchronize_ptsz, (CUstream s))
{
	return cuStreamSynchronize(s);
}

ENTRY(cuEventRecord_ptsz, (CUevent ev, CUstream s))
{
	return cuEventRecord(ev, s);
}

/* ---- the original ABI -------------------------------------------------- */

#undef cuDeviceTotalMem
#undef cuDeviceGetUuid
#undef cuCtxCreate
#undef cuCtxDestroy
#undef cuCtxPushCurrent
#undef cuCtxPopCurrent
#undef cuDevicePrimaryCtxRelease
#undef cuDevicePrimaryCtxReset
#undef cuDevicePrimaryCtxSetFlags
#undef cuMemGetInfo
#undef cuMemAlloc
#undef cuMemFree
#undef cuMemcpyHtoD
#undef cuMemcpyDtoH
#undef cuMemcpyDtoD
#undef cuMemcpyHtoDAsync
#undef cuMemcpyDtoHAsync
#undef cuMemcpyDtoDAsync
#undef cuMemsetD8
#undef cuMemsetD16
#undef cuMemsetD32
#undef cuModuleGetGlobal
#undef cuStreamDestroy
#undef cuEventDestroy
#undef cuEventElapsedTime

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);

static unsigned int clamp32(size_t v)
{
	return v > UINT_MAX ? UINT_MAX : (unsigned int)v;
}

ENTRY(cuDeviceTotalMem, (unsigned int *bytes, CUdevice dev))
{
	size_t b;
	CUresult rc = bytes ? cuDeviceTotalMem_v2(&b, dev) : CUDA_ERROR_INVALID_VALUE;

	if (!rc)
		*bytes = clamp32(b);
	return rc;
}

ENTRY(cuDeviceGetUuid, (CUuuid *uuid, CUdevice dev))
{
	return cuDeviceGetUuid_v2(uuid, dev);
}

ENTRY(cuCtxCreate, (CUcontext *pctx, unsigned int flags, CUdevice dev))
{
	return cuCtxCreate_v2(pctx, flags, dev);
}

ENTRY(cuCtxDestroy, (CUcontext ctx))
{
	return cuCtxDestroy_v2(ctx);
}

ENTRY(cuCtxPushCurrent, (CUcontext ctx))
{
	return cuCtxPushCurrent_v2(ctx);
}

ENTRY(cuCtxPopCurrent, (CUcontext *pctx))
{
	return cuCtxPopCurrent_v2(pctx);
}

ENTRY(cuDevicePrimaryCtxRelease, (CUdevice dev))
{
	return cuDevicePrimaryCtxRelease_v2(dev);
}

ENTRY(cuDevicePrimaryCtxReset, (CUdevice dev))
{
	return cuDevicePrimaryCtxReset_v2(dev);
}

ENTRY(cuDevicePrimaryCtxSetFlags, (CUdevice dev, unsigned int flags))
{
	return cuDevicePrimaryCtxSetFlags_v2(dev, flags);
}

ENTRY(cuMemGetInfo, (unsigned int *free_bytes, unsigned int *total_bytes))
{
	size_t f, t;
	CUresult rc = free_bytes && total_bytes ? cuMemGetInfo_v2(&f, &t)
						: CUDA_ERROR_INVALID_VALUE;

	if (!rc) {
		*free_bytes = clamp32(f);
		*total_bytes = clamp32(t);
	}
	return rc;
}

ENTRY(cuMemAlloc, (CUdeviceptr_v1 *dptr, unsigned int bytesize))
{
	CUdeviceptr p;
	CUresult rc = dptr ? cuMemAlloc_v2(&p, bytesize) : CUDA_ERROR_INVALID_VALUE;

	if (rc)
		return rc;
	if (p > UINT_MAX) {
		cuMemFree_v2(p);
		return CUDA_ERROR_NOT_SUPPORTED;
	}
	*dptr = (CUdeviceptr_v1)p;
	return CUDA_SUCCESS;
}

ENTRY(cuMemFree, (CUdeviceptr_v1 dptr))
{
	return cuMemFree_v2(dptr);
}

ENTRY(cuMemcpyHtoD, (CUdeviceptr_v1 dst, const void *src, unsigned int n))
{
	return cuMemcpyHtoD_v2(dst, src, n);
}

ENTRY(cuMemcpyDtoH, (void *dst, CUdeviceptr_v1 src, unsigned int n))
{
	return cuMemcpyDtoH_v2(dst, src, n);
}

ENTRY(cuMemcpyDtoD, (CUdeviceptr_v1 dst, CUdeviceptr_v1 src, unsigned int n))
{
	return cuMemcpyDtoD_v2(dst, src, n);
}

ENTRY(cuMemcpyHtoDAsync, (CUdeviceptr_v1 dst, const void *src, unsigned int n, CUstream s))
{
	return cuMemcpyHtoDAsync_v2(dst, src, n, s);
}

ENTRY(cuMemcpyDtoHAsync, (void *dst, CUdeviceptr_v1 src, unsigned int n, CUstream s))
{
	return cuMemcpyDtoHAsync_v2(dst, src, n, s);
}

ENTRY(cuMemcpyDtoDAsync, (CUdeviceptr_v1 dst, CUdeviceptr_v1 src, unsigned int n,
			     CUstream s))
{
	return cuMemcpyDtoDAsync_v2(dst, src, n, s);
}

ENTRY(cuMemsetD8, (CUdeviceptr_v1 dst, unsigned char v, unsigned int n))
{
	return cuMemsetD8_v2(dst, v, n);
}

ENTRY(cuMemsetD16, (CUdeviceptr_v1 dst, unsigned short v, unsigned int n))
{
	return cuMemsetD16_v2(dst, v, n);
}

ENTRY(cuMemsetD32, (CUdeviceptr_v1 dst, unsigned int v, unsigned int n))
{
	return cuMemsetD32_v2(dst, v, n);
}

ENTRY(cuModuleGetGlobal, (CUdeviceptr_v1 *dptr, unsigned int *bytes, CUmodule m,
			     const char *name))
{
	CUdeviceptr p;
	size_t b;
	CUresult rc = cuModuleGetGlobal_v2(&p, &b, m, name);

	if (rc)
		return rc;
	if (p > UINT_MAX)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (dptr)
		*dptr = (CUdeviceptr_v1)p;
	if (bytes)
		*bytes = clamp32(b);
	return CUDA_SUCCESS;
}

ENTRY(cuStreamDestroy, (CUstream s))
{
	return cuStreamDestroy_v2(s);
}

ENTRY(cuEventDestroy, (CUevent ev))
{
	return cuEventDestroy_v2(ev);
}

ENTRY(cuEventElapsedTime, (float *ms, CUevent start, CUevent end))
{
	return cuEventElapsedTime_v2(ms, start, end);
}
