/* SPDX-License-Identifier: MIT */
/*
 * backend.h - what executes a session's work: the real CUDA driver or the
 * sim.  One backend instance per session (vgpu_backend_ops.open); every
 * entry returns a CUresult.  Objects (contexts, modules, functions,
 * streams, events) are opaque void * owned by the backend; the session
 * maps them to client handles.  Device memory ranges go into the session's
 * alloc table, which the backend receives at open: backends insert what they
 * allocate and remove what they free, so range checks are common code.
 *
 * Ordinals here are the backend's own device numbers; the session maps the
 * client's ordinals (HELLO's gpu) onto them.  A NULL stream is the default
 * stream.
 */
#ifndef VGPU_SERVER_BACKEND_H
#define VGPU_SERVER_BACKEND_H

#include <cuda.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/texture.h"
#include "server/alloc_table.h"
#include "server/server.h"

#define VGPU_DEV_NAME_MAX	256
#define VGPU_DEV_NATTR		CU_DEVICE_ATTRIBUTE_MAX	/* attr[0] is unused (0) */

struct vgpu_device_info {
	char name[VGPU_DEV_NAME_MAX];
	uint8_t uuid[16];
	uint64_t total_mem;
	uint32_t driver_version;
	int32_t attr[VGPU_DEV_NATTR];
};

struct vgpu_param {
	uint32_t offset, size;
};

/* A kernel's parameter layout; p is malloc'ed by the backend, freed by the caller. */
struct vgpu_param_layout {
	uint32_t n;
	struct vgpu_param *p;
	uint32_t buf_size;	/* last offset + size: LAUNCH's params length */
};

struct vgpu_backend_ops {
	const char *name;
	int kind;	/* VGPU_BACKEND_* */

	CUresult (*open)(const struct vgpu_server_config *cfg, uint32_t session_id,
			 struct vgpu_alloc_table *at, void **be);
	/* Frees everything still alive; the table's entries are the backend's to drop. */
	void (*close)(void *be);

	CUresult (*device_count)(void *be, int *count);
	CUresult (*device_info)(void *be, int ordinal, struct vgpu_device_info *out);

	CUresult (*ctx_create)(void *be, int ordinal, unsigned int flags, void **ctx);
	CUresult (*ctx_destroy)(void *be, void *ctx);
	CUresult (*ctx_sync)(void *be, void *ctx);

	/* mem_alloc inserts a VGPU_ALLOC_MEM entry owned by ctx; mem_free removes it. */
	CUresult (*mem_alloc)(void *be, void *ctx, uint64_t size, uint64_t *dptr);
	CUresult (*mem_free)(void *be, void *ctx, uint64_t dptr);
	CUresult (*mem_get_info)(void *be, void *ctx, uint64_t *free_b, uint64_t *total);

	CUresult (*memcpy_htod)(void *be, void *ctx, uint64_t dst, const void *src, size_t n,
				void *stream);
	CUresult (*memcpy_dtoh)(void *be, void *ctx, void *dst, uint64_t src, size_t n,
				void *stream);
	CUresult (*memcpy_dtod)(void *be, void *ctx, uint64_t dst, uint64_t src, size_t n,
				void *stream);
	CUresult (*memset)(void *be, void *ctx, uint64_t dst, uint32_t value,
			   unsigned int elem_size, uint64_t count, void *stream);

	CUresult (*module_load)(void *be, void *ctx, const void *image, size_t n, void **mod);
	/* Also drops the module's globals from the alloc table. */
	CUresult (*module_unload)(void *be, void *ctx, void *mod);
	CUresult (*module_get_function)(void *be, void *ctx, void *mod, const char *name,
					void **func, struct vgpu_param_layout *layout);
	/* The global's range is in the alloc table (VGPU_ALLOC_GLOBAL) on success. */
	CUresult (*module_get_global)(void *be, void *ctx, void *mod, const char *name,
				      uint64_t *dptr, uint64_t *size);
	CUresult (*launch)(void *be, void *ctx, void *func, const uint32_t grid[3],
			   const uint32_t block[3], uint32_t shared_bytes, void *stream,
			   const void *params, size_t params_len);
	/*
	 * Optional: a launch with VGPU_LAUNCH_F_* flags (cooperative, clusters
	 * of cluster[3] blocks; the grid is whole clusters).  Without it such
	 * launches are CUDA_ERROR_NOT_SUPPORTED.
	 */
	CUresult (*launch_ex)(void *be, void *ctx, void *func, const uint32_t grid[3],
			      const uint32_t block[3], uint32_t shared_bytes, void *stream,
			      const void *params, size_t params_len, uint32_t flags,
			      const uint32_t cluster[3]);
	/*
	 * Compute scheduling (server/sched.c).  kernel_timing(be, true): from
	 * now on measure the GPU time of every launch (a session does so when
	 * it attaches to a partition).  kernel_time: the GPU time, in ns, of
	 * the measured launches that completed since the last call; it never
	 * waits for one that has not (a kernel in flight for long is charged
	 * as its time passes).  contenders: sessions of other partitions of
	 * the GPU that want it now, whose time what the backend measures may
	 * include.  kernel_pending (optional): measured launches not completed
	 * yet, as of the last kernel_time.
	 */
	void (*kernel_timing)(void *be, bool on);
	uint64_t (*kernel_time)(void *be, uint32_t contenders);
	uint32_t (*kernel_pending)(void *be);
	/*
	 * Optional, before the session's first context: give the contexts it
	 * makes on device ordinal share percent of the GPU's SMs (spatial
	 * sharing).  CUDA_ERROR_NOT_SUPPORTED where the GPU cannot (no MPS):
	 * the session is then time-sliced by the scheduler.
	 */
	CUresult (*compute_limit)(void *be, int ordinal, uint32_t share);
	/*
	 * Optional: texture objects over device memory (ops_tex.c has checked
	 * every field and the range).  value: what kernels take.
	 */
	CUresult (*tex_create)(void *be, void *ctx, const struct vgpu_tex_req *t, void **obj,
			       uint64_t *value);
	CUresult (*tex_destroy)(void *be, void *ctx, void *obj);

	CUresult (*stream_create)(void *be, void *ctx, unsigned int flags, int priority,
				  void **stream);
	CUresult (*stream_sync)(void *be, void *ctx, void *stream);
	CUresult (*stream_destroy)(void *be, void *ctx, void *stream);

	CUresult (*event_create)(void *be, void *ctx, unsigned int flags, void **event);
	CUresult (*event_record)(void *be, void *ctx, void *event, void *stream);
	CUresult (*event_sync)(void *be, void *ctx, void *event);
	CUresult (*event_elapsed)(void *be, void *ctx, void *start, void *end, float *ms);
	CUresult (*event_destroy)(void *be, void *ctx, void *event);

	/* later work on stream waits for the event's work (cuStreamWaitEvent) */
	CUresult (*stream_wait_event)(void *be, void *ctx, void *stream, void *event,
				      unsigned int flags);
	/* CUDA_SUCCESS when all its work is done, CUDA_ERROR_NOT_READY while not */
	CUresult (*stream_query)(void *be, void *ctx, void *stream);
	CUresult (*event_query)(void *be, void *ctx, void *event);

	/* attrib: a CUfunction_attribute, range-checked by the caller */
	CUresult (*func_get_attribute)(void *be, void *ctx, void *func, int attrib, int *value);
	CUresult (*func_set_attribute)(void *be, void *ctx, void *func, int attrib, int value);
	/* cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags */
	CUresult (*occupancy_blocks)(void *be, void *ctx, void *func, int block_size,
				     uint64_t dyn_smem, unsigned int flags, int *blocks);
	/* cuOccupancyAvailableDynamicSMemPerBlock */
	CUresult (*occupancy_dyn_smem)(void *be, void *ctx, void *func, int blocks,
				       int block_size, uint64_t *bytes);
	/*
	 * query 0: cuOccupancyMaxActiveClusters, 1: cuOccupancyMaxPotentialClusterSize,
	 * for a launch of grid x block threads with dyn_smem bytes; cluster all 0:
	 * none given (the function's own, if any), else its dimensions.  Checked.
	 */
	/*
	 * GPU_UTILIZATION: percent of the last sampling period in which the
	 * device (backend ordinal, checked) ran kernels and accessed memory
	 */
	CUresult (*utilization)(void *be, int dev, unsigned int *gpu, unsigned int *mem);
	CUresult (*occupancy_clusters)(void *be, void *ctx, void *func, unsigned int query,
				       const unsigned int grid[3], const unsigned int block[3],
				       unsigned int dyn_smem, const unsigned int cluster[3],
				       int *value);

	/*
	 * Virtual memory management (ops_vmm.c keeps the bookkeeping and checks
	 * every argument first: sizes and offsets aligned to the granularity,
	 * ranges inside one reservation, no double mapping).  None of these
	 * needs a context.  option: a CUmemAllocationGranularity_flags.
	 */
	CUresult (*vmm_granularity)(void *be, int ordinal, unsigned int option, uint64_t *gran);
	/* a physical chunk of pinned device memory */
	CUresult (*vmm_create)(void *be, int ordinal, uint64_t size, void **chunk);
	CUresult (*vmm_release)(void *be, void *chunk);
	/* hint: the address asked for (0: any), honoured when free */
	CUresult (*vmm_reserve)(void *be, uint64_t size, uint64_t align, uint64_t hint,
				void **resv, uint64_t *addr);
	CUresult (*vmm_free_va)(void *be, void *resv);
	/* map [addr, addr+size) of resv to the chunk's bytes from off; *host: sim's view */
	CUresult (*vmm_map)(void *be, void *resv, uint64_t addr, uint64_t size, void *chunk,
			    uint64_t off, void **host);
	CUresult (*vmm_unmap)(void *be, void *resv, uint64_t addr, uint64_t size);
	/* flags: a CUmemAccess_flags for the device ordinal */
	CUresult (*vmm_set_access)(void *be, int ordinal, uint64_t addr, uint64_t size,
				   unsigned int flags);

	/*
	 * Memory pools (ops_pool.c).  pool_alloc inserts a VGPU_ALLOC_POOL entry
	 * owned by ctx, pool_free removes it (mem_free also frees such an entry,
	 * after the device is done with it).  attr: a CUmemPool_attribute,
	 * range-checked by the caller; every value travels as a u64.
	 */
	CUresult (*pool_default)(void *be, int ordinal, void **pool);
	CUresult (*pool_create)(void *be, int ordinal, void **pool);
	CUresult (*pool_destroy)(void *be, void *pool);
	CUresult (*pool_alloc)(void *be, void *ctx, void *pool, uint64_t size, void *stream,
			       uint64_t *dptr);
	CUresult (*pool_free)(void *be, void *ctx, uint64_t dptr, void *stream);
	CUresult (*pool_set_attr)(void *be, void *pool, int attr, uint64_t value);
	CUresult (*pool_get_attr)(void *be, void *pool, int attr, uint64_t *value);
	CUresult (*pool_trim)(void *be, void *pool, uint64_t keep);
};

extern const struct vgpu_backend_ops vgpu_backend_sim;
extern const struct vgpu_backend_ops vgpu_backend_cuda;

/* Backend for a VGPU_BACKEND_* value, or NULL. */
const struct vgpu_backend_ops *vgpu_backend_get(int kind);

#endif
