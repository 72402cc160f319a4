/* SPDX-License-Identifier: MIT */
/*
 * sim.h - internals shared by the sim backend's files: backend_sim.c
 * (device, memory, streams, events), sim_kernels.c (modules and the
 * built-in kernels), sim_func.c and sim_vmm.c (VMM and memory pools).
 */
#ifndef VGPU_SERVER_SIM_H
#define VGPU_SERVER_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <cuda.h>

#include "server/backend.h"

/*
 * A session's addresses: slice (server's first slice + session id) mod
 * SIM_VA_SLOTS; 1024 slices of 64 GiB from 16 TiB end at 80 TiB.
 */
#define SIM_VA_BASE	0x100000000000ull
#define SIM_VA_WINDOW	(1ull << 36)
#define SIM_VA_SLOTS	1024u
#define SIM_ALIGN	4096ull
#define SIM_GUARD	(64ull << 10)	/* unmapped gap between allocations */
#define SIM_IMAGE_TAG	"//vgpu-sim"
#define SIM_SPIN_MAX_MS	10000

#define SIM_VMM_GRAN	(2ull << 20)	/* cuMemGetAllocationGranularity on the sim */

struct sim_resv;
struct sim_pool;
struct sim_pool_rec;

struct sim {
	struct vgpu_alloc_table *at;
	bool spatial_ok;	/* cfg->sim_spatial: compute_limit pretends to succeed */
	uint64_t textures;	/* texture objects made: their values (sim_util.c) */
	uint64_t total, used;
	uint64_t va_lo, va_hi;	/* cuMemAlloc's half of the session's slice */
	uint64_t vmm_lo, vmm_hi;	/* the other half: VMM reservations (sim_vmm.c) */
	struct sim_resv *resv;		/* sorted by base */
	struct sim_pool *pools;		/* every pool, the default one included */
	struct sim_pool *dflt_pool;
	struct sim_pool_rec *prec;	/* live pool allocations */
	size_t nprec, cprec;
	CUresult sticky;	/* first fault; every later ctx call returns it */
	/* busy time since busy_since, in ns, for GPU_UTILIZATION (sim_util.c) */
	uint64_t busy_since, busy_kernel_ns, busy_mem_ns;
	/* kernel time not yet collected by the compute scheduler (sim_util.c) */
	uint64_t sched_kernel_ns;
};

struct sim_ctx {
	int ordinal;
};

struct sim_module {
	uint64_t counter;	/* dptr of sim_counter */
};

struct sim_kernel {
	const char *name;
	uint32_t nparams;
	struct vgpu_param params[4];
	uint32_t buf_size;
	/* Runs the kernel on params (buf_size bytes); returns a CUresult. */
	CUresult (*run)(struct sim *s, const uint8_t *params);
};

/* Allocate/free sim device memory (also used for module globals). */
CUresult sim_alloc(struct sim *s, uint64_t size, int kind, void *owner, uint64_t *dptr);
CUresult sim_free(struct sim *s, uint64_t dptr);

/* Host view of a device range for a kernel, or NULL after making the fault sticky. */
void *sim_kernel_ptr(struct sim *s, uint64_t dptr, uint64_t len);

const struct sim_kernel *sim_kernel_find(const char *name);

CUresult sim_module_load(void *be, void *ctx, const void *image, size_t n, void **mod);
CUresult sim_module_unload(void *be, void *ctx, void *mod);
CUresult sim_module_get_function(void *be, void *ctx, void *mod, const char *name,
				 void **func, struct vgpu_param_layout *layout);
CUresult sim_module_get_global(void *be, void *ctx, void *mod, const char *name,
			       uint64_t *dptr, uint64_t *size);
CUresult sim_launch(void *be, void *ctx, void *func, const uint32_t grid[3],
		    const uint32_t block[3], uint32_t shared_bytes, void *stream,
		    const void *params, size_t params_len);
CUresult sim_launch_ex(void *be, void *ctx, void *func, const uint32_t grid[3],
		       const uint32_t block[3], uint32_t shared_bytes, void *stream,
		       const void *params, size_t params_len, uint32_t flags,
		       const uint32_t cluster[3]);

/* sim_vmm.c: VMM and pools */
CUresult sim_vmm_granularity(void *be, int ordinal, unsigned int option, uint64_t *gran);
CUresult sim_vmm_create(void *be, int ordinal, uint64_t size, void **chunk);
CUresult sim_vmm_release(void *be, void *chunk);
CUresult sim_vmm_reserve(void *be, uint64_t size, uint64_t align, uint64_t hint, void **resv,
			 uint64_t *addr);
CUresult sim_vmm_free_va(void *be, void *resv);
CUresult sim_vmm_map(void *be, void *resv, uint64_t addr, uint64_t size, void *chunk,
		     uint64_t off, void **host);
CUresult sim_vmm_unmap(void *be, void *resv, uint64_t addr, uint64_t size);
CUresult sim_vmm_set_access(void *be, int ordinal, uint64_t addr, uint64_t size,
			    unsigned int flags);
CUresult sim_pool_default(void *be, int ordinal, void **pool);
CUresult sim_pool_create(void *be, int ordinal, void **pool);
CUresult sim_pool_destroy(void *be, void *pool);
CUresult sim_pool_alloc(void *be, void *ctx, void *pool, uint64_t size, void *stream,
			uint64_t *dptr);
CUresult sim_pool_free(void *be, void *ctx, uint64_t dptr, void *stream);
CUresult sim_pool_set_attr(void *be, void *pool, int attr, uint64_t value);
CUresult sim_pool_get_attr(void *be, void *pool, int attr, uint64_t *value);
CUresult sim_pool_trim(void *be, void *pool, uint64_t keep);
/* At close: what the session left (it normally cleans up first). */
void sim_vmm_close(struct sim *s);

/* sim_func.c */
CUresult sim_func_get_attribute(void *be, void *ctx, void *func, int attrib, int *value);
CUresult sim_func_set_attribute(void *be, void *ctx, void *func, int attrib, int value);
CUresult sim_occupancy_blocks(void *be, void *ctx, void *func, int block_size,
			      uint64_t dyn_smem, unsigned int flags, int *blocks);
CUresult sim_occupancy_dyn_smem(void *be, void *ctx, void *func, int blocks, int block_size,
				uint64_t *bytes);
CUresult sim_occupancy_clusters(void *be, void *ctx, void *func, unsigned int query,
				const unsigned int grid[3], const unsigned int block[3],
				unsigned int dyn_smem, const unsigned int cluster[3], int *value);

/* Busy-time accounting (sim_util.c): begin returns a timestamp for end. */
enum { SIM_BUSY_KERNEL, SIM_BUSY_MEMORY };
uint64_t sim_busy_begin(void);
void sim_busy_end(struct sim *s, int what, uint64_t begin);
CUresult sim_utilization(void *be, int dev, unsigned int *gpu, unsigned int *mem);
/* The compute scheduler's kernel times: a sim kernel's is the wall time of its run. */
void sim_kernel_timing(void *be, bool on);
CUresult sim_compute_limit(void *be, int ordinal, uint32_t share);
CUresult sim_tex_create(void *be, void *ctx, const struct vgpu_tex_req *t, void **obj,
			uint64_t *value);
CUresult sim_tex_destroy(void *be, void *ctx, void *obj);
uint64_t sim_kernel_time(void *be, uint32_t contenders);

#endif
