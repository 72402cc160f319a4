/* SPDX-License-Identifier: MIT */
/*
 * vmm.h - what lib/vmm.c (virtual memory management), lib/mempool.c
 * (memory pools) and memory.c's stream-ordered allocation share.  Both
 * families live on the server (docs/LIBCUDA.md): the library keeps only
 * the pool handles, and registers mapped VMM ranges and pool allocations
 * in vgpu_dev_ranges so bare-address calls see them as device memory.
 */
#ifndef VGPU_LIB_VMM_H
#define VGPU_LIB_VMM_H

#include "lib/driver.h"

/* an object type of its own, outside driver.h's enum (which others extend) */
#define VGPU_OBJ_POOL	0x706f6f6cu	/* "pool" */

/* A CUmemoryPool: the server's pool handle and its device.  Never freed:
 * a destroyed pool is unregistered and kept, so a stale handle is refused. */
struct CUmemPoolHandle_st {
	struct vgpu_obj o;	/* no owner: pools outlive contexts */
	uint64_t h;
	CUdevice dev;
	struct CUmemPoolHandle_st *next;	/* in mempool.c's list of every pool seen */
};

/*
 * Stream-ordered allocation from pool (NULL: the current context's
 * device's current pool), registered as device memory.
 */
CUresult vgpu_pool_alloc(CUdeviceptr *dptr, size_t bytesize, struct CUmemPoolHandle_st *pool,
			 CUstream s);
/* cuMemFreeAsync: a pool's allocation in stream order, cuMemAlloc'ed memory after the stream. */
CUresult vgpu_mem_free_async(CUdeviceptr dptr, CUstream s);

#endif
