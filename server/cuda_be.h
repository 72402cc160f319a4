/* SPDX-License-Identifier: MIT */
/*
 * cuda_be.h - internals shared by the cuda backend's files: backend_cuda.c
 * (device, contexts, memory, modules, streams, events) and cuda_vmm.c
 * (virtual memory management and memory pools), backend_cuda_timing.c
 * (kernel times for the compute scheduler): the driver entry points
 * reached through dlopen, and the backend's objects.
 */
#ifndef VGPU_SERVER_CUDA_BE_H
#define VGPU_SERVER_CUDA_BE_H

#include "server/backend.h"

/* X(field, prototype taken from cuda.h, symbol, fallback symbol or NULL, required) */
#define CUDA_SYMS(X)								\
	X(Init, cuInit, "cuInit", NULL, 1)					\
	X(DriverGetVersion, cuDriverGetVersion, "cuDriverGetVersion", NULL, 1)	\
	X(DeviceGetCount, cuDeviceGetCount, "cuDeviceGetCount", NULL, 1)	\
	X(DeviceGet, cuDeviceGet, "cuDeviceGet", NULL, 1)			\
	X(DeviceGetName, cuDeviceGetName, "cuDeviceGetName", NULL, 1)		\
	X(DeviceGetUuid, cuDeviceGetUuid, "cuDeviceGetUuid_v2", "cuDeviceGetUuid", 0) \
	X(DeviceTotalMem, cuDeviceTotalMem, "cuDeviceTotalMem_v2", NULL, 1)	\
	X(DeviceGetAttribute, cuDeviceGetAttribute, "cuDeviceGetAttribute", NULL, 1) \
	X(PrimaryCtxRetain, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL, 1) \
	X(PrimaryCtxRelease, cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", \
	  "cuDevicePrimaryCtxRelease", 1)					\
	X(CtxSetCurrent, cuCtxSetCurrent, "cuCtxSetCurrent", NULL, 1)		\
	X(CtxCreateParams, cuCtxCreate, "cuCtxCreate_v4", NULL, 0)		\
	X(CtxDestroy, cuCtxDestroy, "cuCtxDestroy_v2", NULL, 0)		\
	X(CtxPopCurrent, cuCtxPopCurrent, "cuCtxPopCurrent_v2", NULL, 0)	\
	X(DeviceGetExecAffinitySupport, cuDeviceGetExecAffinitySupport,	\
	  "cuDeviceGetExecAffinitySupport", NULL, 0)				\
	X(CtxSynchronize, cuCtxSynchronize, "cuCtxSynchronize", NULL, 1)	\
	X(MemAlloc, cuMemAlloc, "cuMemAlloc_v2", NULL, 1)			\
	X(MemFree, cuMemFree, "cuMemFree_v2", NULL, 1)				\
	X(MemGetInfo, cuMemGetInfo, "cuMemGetInfo_v2", NULL, 1)			\
	X(MemcpyHtoD, cuMemcpyHtoD, "cuMemcpyHtoD_v2", NULL, 1)			\
	X(MemcpyDtoH, cuMemcpyDtoH, "cuMemcpyDtoH_v2", NULL, 1)			\
	X(MemcpyDtoD, cuMemcpyDtoD, "cuMemcpyDtoD_v2", NULL, 1)			\
	X(MemcpyHtoDAsync, cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", NULL, 1)	\
	X(MemcpyDtoHAsync, cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", NULL, 1)	\
	X(MemcpyDtoDAsync, cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", NULL, 1)	\
	X(MemsetD8Async, cuMemsetD8Async, "cuMemsetD8Async", NULL, 1)		\
	X(MemsetD16Async, cuMemsetD16Async, "cuMemsetD16Async", NULL, 1)	\
	X(MemsetD32Async, cuMemsetD32Async, "cuMemsetD32Async", NULL, 1)	\
	X(ModuleLoadData, cuModuleLoadData, "cuModuleLoadData", NULL, 1)	\
	X(ModuleUnload, cuModuleUnload, "cuModuleUnload", NULL, 1)		\
	X(ModuleGetFunction, cuModuleGetFunction, "cuModuleGetFunction", NULL, 1) \
	X(ModuleGetGlobal, cuModuleGetGlobal, "cuModuleGetGlobal_v2", NULL, 1)	\
	X(FuncGetParamInfo, cuFuncGetParamInfo, "cuFuncGetParamInfo", NULL, 0)	\
	X(LaunchKernel, cuLaunchKernel, "cuLaunchKernel", NULL, 1)		\
	X(LaunchKernelEx, cuLaunchKernelEx, "cuLaunchKernelEx", NULL, 0)	\
	X(StreamCreate, cuStreamCreateWithPriority, "cuStreamCreateWithPriority", NULL, 1) \
	X(StreamSynchronize, cuStreamSynchronize, "cuStreamSynchronize", NULL, 1) \
	X(StreamDestroy, cuStreamDestroy, "cuStreamDestroy_v2", NULL, 1)	\
	X(EventCreate, cuEventCreate, "cuEventCreate", NULL, 1)			\
	X(EventRecord, cuEventRecord, "cuEventRecord", NULL, 1)			\
	X(EventSynchronize, cuEventSynchronize, "cuEventSynchronize", NULL, 1)	\
	X(EventElapsedTime, cuEventElapsedTime, "cuEventElapsedTime_v2",	\
	  "cuEventElapsedTime", 1)						\
	X(EventDestroy, cuEventDestroy, "cuEventDestroy_v2", NULL, 1)		\
	X(StreamWaitEvent, cuStreamWaitEvent, "cuStreamWaitEvent", NULL, 1)	\
	X(StreamQuery, cuStreamQuery, "cuStreamQuery", NULL, 1)		\
	X(EventQuery, cuEventQuery, "cuEventQuery", NULL, 1)			\
	X(FuncGetAttribute, cuFuncGetAttribute, "cuFuncGetAttribute", NULL, 1)	\
	X(FuncSetAttribute, cuFuncSetAttribute, "cuFuncSetAttribute", NULL, 1)	\
	X(OccupancyBlocks, cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags,	\
	  "cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags", NULL, 1)	\
	X(OccupancyDynSmem, cuOccupancyAvailableDynamicSMemPerBlock,		\
	  "cuOccupancyAvailableDynamicSMemPerBlock", NULL, 0)			\
	X(OccupancyClusters, cuOccupancyMaxActiveClusters,			\
	  "cuOccupancyMaxActiveClusters", NULL, 0)				\
	X(OccupancyClusterSize, cuOccupancyMaxPotentialClusterSize,		\
	  "cuOccupancyMaxPotentialClusterSize", NULL, 0)			\
	CUDA_VMM_SYMS(X)

/* VMM and pools (cuda_vmm.c): optional, so an old driver still serves the rest */
#define CUDA_VMM_SYMS(X)							\
	X(MemGetGranularity, cuMemGetAllocationGranularity,			\
	  "cuMemGetAllocationGranularity", NULL, 0)				\
	X(MemCreate, cuMemCreate, "cuMemCreate", NULL, 0)			\
	X(MemRelease, cuMemRelease, "cuMemRelease", NULL, 0)			\
	X(MemAddressReserve, cuMemAddressReserve, "cuMemAddressReserve", NULL, 0) \
	X(MemAddressFree, cuMemAddressFree, "cuMemAddressFree", NULL, 0)	\
	X(MemMap, cuMemMap, "cuMemMap", NULL, 0)				\
	X(MemUnmap, cuMemUnmap, "cuMemUnmap", NULL, 0)				\
	X(MemSetAccess, cuMemSetAccess, "cuMemSetAccess", NULL, 0)		\
	X(DeviceGetDefaultMemPool, cuDeviceGetDefaultMemPool,			\
	  "cuDeviceGetDefaultMemPool", NULL, 0)					\
	X(MemPoolCreate, cuMemPoolCreate, "cuMemPoolCreate", NULL, 0)		\
	X(MemPoolDestroy, cuMemPoolDestroy, "cuMemPoolDestroy", NULL, 0)	\
	X(MemAllocFromPoolAsync, cuMemAllocFromPoolAsync,			\
	  "cuMemAllocFromPoolAsync", NULL, 0)					\
	X(MemFreeAsync, cuMemFreeAsync, "cuMemFreeAsync", NULL, 0)		\
	X(MemPoolSetAttribute, cuMemPoolSetAttribute, "cuMemPoolSetAttribute", NULL, 0) \
	X(MemPoolGetAttribute, cuMemPoolGetAttribute, "cuMemPoolGetAttribute", NULL, 0) \
	X(MemPoolTrimTo, cuMemPoolTrimTo, "cuMemPoolTrimTo", NULL, 0)	\
	X(TexObjectCreate, cuTexObjectCreate, "cuTexObjectCreate", NULL, 0)	\
	X(TexObjectDestroy, cuTexObjectDestroy, "cuTexObjectDestroy", NULL, 0)

struct cuda_api {
#define CUDA_FIELD(field, proto, sym, alt, req) __typeof__(&proto) field;
	CUDA_SYMS(CUDA_FIELD)
#undef CUDA_FIELD
};

struct cuda_timing;

struct cuda_be {
	void *lib;
	struct cuda_api f;
	struct vgpu_alloc_table *at;
	CUcontext current;
	/* compute scheduling (backend_cuda_timing.c) */
	bool timing;			/* time launches */
	struct cuda_timing *timings;	/* one per context that launched while timing */
	uint64_t timed_ns;		/* completed, not yet collected */
	uint32_t contenders;		/* as the scheduler last said (kernel_time) */
	uint32_t sm_share;		/* percent of the SMs for its contexts; 0: all */
	CUcontext sm_ctx;		/* the one context with that share, or NULL, */
	unsigned int sm_refs;		/* shared by this many of the session's contexts */
	/* each launch shape's uncontended time (backend_cuda_timing.c) */
	struct cuda_solo {
		uint64_t key;		/* function and grid; 0: free */
		uint64_t ns;
	} solo[64];
};

struct cuda_ctx {
	CUcontext c;
	CUdevice dev;
	bool own;			/* the session's SM-limited context (sm_ctx), not primary */
	struct cuda_timing *timing;	/* its launches' event pairs, or NULL */
};

struct cuda_module {
	CUmodule m;
};

/* Function attributes and occupancy (cuda_func.c). */
/* cuda_ctx.c */
CUresult cuda_compute_limit(void *be, int ordinal, uint32_t share);
CUresult cuda_ctx_create(void *be, int ordinal, unsigned int flags, void **ctx);
CUresult cuda_ctx_destroy(void *be, void *ctx);
CUresult cuda_ctx_sync(void *be, void *ctx);
/* cuda_launch.c */
CUresult cuda_launch(void *be, void *ctx, void *func, const uint32_t grid[3],
		     const uint32_t block[3], uint32_t shared_bytes, void *stream,
		     const void *params, size_t params_len);
CUresult cuda_launch_ex(void *be, void *ctx, void *func, const uint32_t grid[3],
			const uint32_t block[3], uint32_t shared_bytes, void *stream,
			const void *params, size_t params_len, uint32_t flags,
			const uint32_t cluster[3]);
CUresult cuda_func_get_attribute(void *be, void *ctx, void *func, int attrib, int *value);
CUresult cuda_func_set_attribute(void *be, void *ctx, void *func, int attrib, int value);
CUresult cuda_occupancy_blocks(void *be, void *ctx, void *func, int block_size,
			       uint64_t dyn_smem, unsigned int flags, int *blocks);
CUresult cuda_occupancy_dyn_smem(void *be, void *ctx, void *func, int blocks,
				 int block_size, uint64_t *bytes);
CUresult cuda_occupancy_clusters(void *be, void *ctx, void *func, unsigned int query,
				 const unsigned int grid[3], const unsigned int block[3],
				 unsigned int dyn_smem, const unsigned int cluster[3], int *value);

/* GPU_UTILIZATION through the host's NVML (cuda_util.c). */
CUresult cuda_utilization(void *be, int dev, unsigned int *gpu, unsigned int *mem);

/*
 * Kernel times (backend_cuda_timing.c).  Around a launch, in ctx (current):
 * timing_start records a start event on stream for a launch of shape key
 * (cuda_launch_key) and returns its pair's
 * number (-1: not timed); timing_stop records the end event when the
 * launch went out, else gives the pair back.  timing_drop, before the
 * context is released: collect what completed and destroy the events.
 */
int cuda_timing_start(struct cuda_be *b, struct cuda_ctx *c, CUstream stream, uint64_t key);
void cuda_timing_stop(struct cuda_be *b, struct cuda_ctx *c, CUstream stream, int pair,
		      bool launched);
void cuda_timing_drop(struct cuda_be *b, struct cuda_ctx *c);
/* At close: drop what contexts still alive left (normally nothing). */
void cuda_timing_fini(struct cuda_be *b);
void cuda_kernel_timing(void *be, bool on);
uint64_t cuda_kernel_time(void *be, uint32_t contenders);
uint32_t cuda_kernel_pending(void *be);
/* A launch's shape for the uncontended-time table: function, grid, block, shared bytes. */
uint64_t cuda_launch_key(const void *func, const uint32_t grid[3], const uint32_t block[3],
			 uint32_t shared_bytes);

/* Make ctx current on this thread before a call that works in a context. */
CUresult cuda_use(struct cuda_be *b, void *ctx);

#define USE(b, ctx)					\
	do {						\
		CUresult use_rc_ = cuda_use(b, ctx);	\
		if (use_rc_)				\
			return use_rc_;			\
	} while (0)

CUresult cuda_vmm_granularity(void *be, int ordinal, unsigned int option, uint64_t *gran);
CUresult cuda_vmm_create(void *be, int ordinal, uint64_t size, void **chunk);
CUresult cuda_vmm_release(void *be, void *chunk);
CUresult cuda_vmm_reserve(void *be, uint64_t size, uint64_t align, uint64_t hint, void **resv,
			  uint64_t *addr);
CUresult cuda_vmm_free_va(void *be, void *resv);
CUresult cuda_vmm_map(void *be, void *resv, uint64_t addr, uint64_t size, void *chunk,
		      uint64_t off, void **host);
CUresult cuda_vmm_unmap(void *be, void *resv, uint64_t addr, uint64_t size);
CUresult cuda_vmm_set_access(void *be, int ordinal, uint64_t addr, uint64_t size,
			     unsigned int flags);
CUresult cuda_pool_default(void *be, int ordinal, void **pool);
CUresult cuda_pool_create(void *be, int ordinal, void **pool);
CUresult cuda_pool_destroy(void *be, void *pool);
CUresult cuda_pool_alloc(void *be, void *ctx, void *pool, uint64_t size, void *stream,
			 uint64_t *dptr);
CUresult cuda_pool_free(void *be, void *ctx, uint64_t dptr, void *stream);
CUresult cuda_pool_set_attr(void *be, void *pool, int attr, uint64_t value);
CUresult cuda_pool_get_attr(void *be, void *pool, int attr, uint64_t *value);
CUresult cuda_pool_trim(void *be, void *pool, uint64_t keep);
/* cuda_tex.c */
CUresult cuda_tex_create(void *be, void *ctx, const struct vgpu_tex_req *t, void **obj,
			 uint64_t *value);
CUresult cuda_tex_destroy(void *be, void *ctx, void *obj);

#endif
