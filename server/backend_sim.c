// SPDX-License-Identifier: MIT
/*
 * backend_sim.c - a device made of host memory, for tests and for
 * machines without a GPU.  One device, "vgpu sim device", of
 * cfg->sim_mem_bytes; device addresses are fake (a per-session slice of
 * address space from SIM_VA_BASE, allocations separated by unmapped
 * guard gaps) and map to calloc'ed host buffers through the session's
 * alloc table.  Work runs synchronously at the call, so streams are tokens
 * and events are timestamps.  Modules and kernels: sim_kernels.c; VMM and
 * memory pools: sim_vmm.c.
 */
#include "server/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim_event {
	unsigned int flags;
	bool recorded;
	struct timespec ts;
};

static const uint8_t sim_uuid[16] = {
	0x76, 0x67, 0x70, 0x75, 0x2d, 0x73, 0x69, 0x6d,	/* "vgpu-sim" */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
};

CUresult sim_alloc(struct sim *s, uint64_t size, int kind, void *owner, uint64_t *dptr)
{
	uint64_t addr;
	void *host;

	if (!size)
		return CUDA_ERROR_INVALID_VALUE;
	if (size > s->total - s->used)
		return CUDA_ERROR_OUT_OF_MEMORY;
	addr = vgpu_at_find_gap(s->at, s->va_lo, s->va_hi, size, SIM_ALIGN, SIM_GUARD);
	if (!addr)
		return CUDA_ERROR_OUT_OF_MEMORY;
	host = calloc(1, size);	/* large ones come from mmap: zero pages until touched */
	if (!host)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (vgpu_at_insert(s->at, addr, size, kind, owner, host)) {
		free(host);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	s->used += size;
	*dptr = addr;
	return CUDA_SUCCESS;
}

CUresult sim_free(struct sim *s, uint64_t dptr)
{
	struct vgpu_alloc *a = vgpu_at_exact(s->at, dptr);

	if (!a)
		return CUDA_ERROR_INVALID_VALUE;
	free(a->host);
	s->used -= a->size;
	vgpu_at_remove(s->at, dptr);
	return CUDA_SUCCESS;
}

void *sim_kernel_ptr(struct sim *s, uint64_t dptr, uint64_t len)
{
	void *p = vgpu_at_host(s->at, dptr, len);

	if (!p && !s->sticky)
		s->sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
	return p;
}

static CUresult sim_open(const struct vgpu_server_config *cfg, uint32_t session_id,
			 struct vgpu_alloc_table *at, void **be)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return CUDA_ERROR_OUT_OF_MEMORY;
	s->at = at;
	s->spatial_ok = cfg && cfg->sim_spatial;
	s->total = cfg && cfg->sim_mem_bytes ? cfg->sim_mem_bytes : VGPU_SIM_DEFAULT_MEM;
	/*
	 * Sessions get disjoint address slices so that an address leaked from
	 * one session is never valid in another, even when sessions share a
	 * process (threads in tests); servers start at a random slice, so that
	 * one application's sessions on two servers rarely get the same
	 * addresses (the library copes when they do: lib/multidev.c).
	 */
	s->va_lo = SIM_VA_BASE + (uint64_t)(((cfg ? cfg->sim_va_slot : 0) + session_id) %
					    SIM_VA_SLOTS) * SIM_VA_WINDOW;
	s->va_hi = s->va_lo + SIM_VA_WINDOW / 2;
	s->vmm_lo = s->va_hi;
	s->vmm_hi = s->va_lo + SIM_VA_WINDOW;
	s->busy_since = sim_busy_begin();
	*be = s;
	return CUDA_SUCCESS;
}

static void sim_close(void *be)
{
	struct sim *s = be;

	sim_vmm_close(s);	/* VMM entries' host views are mappings, not buffers */
	/* free every host buffer still in the table (allocations and globals) */
	while (s->at->n)
		sim_free(s, s->at->v[s->at->n - 1].base);
	free(s);
}

static CUresult sim_device_count(void *be, int *count)
{
	*count = 1;
	return CUDA_SUCCESS;
}

static CUresult sim_device_info(void *be, int ordinal, struct vgpu_device_info *out)
{
	struct sim *s = be;
	int32_t *a = out->attr;

	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "vgpu sim device");
	memcpy(out->uuid, sim_uuid, sizeof(out->uuid));
	out->total_mem = s->total;
	out->driver_version = CUDA_VERSION;
	/* plausible values of an H100-class part; the sim enforces only block size */
	a[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK] = 1024;
	a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X] = 1024;
	a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y] = 1024;
	a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z] = 64;
	a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X] = 2147483647;
	a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y] = 65535;
	a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z] = 65535;
	a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK] = 49152;
	a[CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY] = 65536;
	a[CU_DEVICE_ATTRIBUTE_WARP_SIZE] = 32;
	a[CU_DEVICE_ATTRIBUTE_MAX_PITCH] = 2147483647;
	a[CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK] = 65536;
	a[CU_DEVICE_ATTRIBUTE_CLOCK_RATE] = 1755000;
	a[CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT] = 512;
	a[CU_DEVICE_ATTRIBUTE_GPU_OVERLAP] = 1;
	a[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT] = 132;
	a[CU_DEVICE_ATTRIBUTE_COMPUTE_MODE] = CU_COMPUTEMODE_DEFAULT;
	a[CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS] = 1;
	a[CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE] = 2619000;
	a[CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH] = 5120;
	a[CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE] = 50 << 20;
	a[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR] = 2048;
	a[CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT] = 2;
	a[CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING] = 1;
	a[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR] = 9;
	a[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR] = 0;
	a[CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED] = 1;
	a[CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED] = 1;
	a[CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED] = 1;
	a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR] = 233472;
	a[CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR] = 65536;
	a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN] = 232448;
	a[CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR] = 32;
	a[CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK] = 1024;
	a[CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO] = 2;
	/* as an H100 says; the library reports them absent (lib/init.c) */
	a[CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY] = 1;
	a[CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED] = 1;
	return CUDA_SUCCESS;
}

static CUresult sim_ctx_create(void *be, int ordinal, unsigned int flags, void **ctx)
{
	struct sim *s = be;
	struct sim_ctx *c;

	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (s->sticky)
		return s->sticky;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*ctx = c;
	return CUDA_SUCCESS;
}

static CUresult sim_ctx_destroy(void *be, void *ctx)
{
	free(ctx);	/* the session has already released the ctx's objects */
	return CUDA_SUCCESS;
}

static CUresult sim_sticky(void *be, void *ctx)
{
	return ((struct sim *)be)->sticky;
}

static CUresult sim_mem_alloc(void *be, void *ctx, uint64_t size, uint64_t *dptr)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	return sim_alloc(s, size, VGPU_ALLOC_MEM, ctx, dptr);
}

static CUresult sim_mem_free(void *be, void *ctx, uint64_t dptr)
{
	struct sim *s = be;
	struct vgpu_alloc *a = vgpu_at_exact(s->at, dptr);

	if (a && a->kind == VGPU_ALLOC_POOL)
		return sim_pool_free(be, ctx, dptr, NULL);
	if (!a || a->kind != VGPU_ALLOC_MEM)
		return CUDA_ERROR_INVALID_VALUE;
	return sim_free(s, dptr);	/* works after a fault so sessions can clean up */
}

static CUresult sim_mem_get_info(void *be, void *ctx, uint64_t *free_b, uint64_t *total)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	*free_b = s->total - s->used;
	*total = s->total;
	return CUDA_SUCCESS;
}

static CUresult sim_memcpy_htod(void *be, void *ctx, uint64_t dst, const void *src, size_t n,
				void *stream)
{
	struct sim *s = be;
	uint64_t t;
	void *d;

	if (s->sticky)
		return s->sticky;
	if (!n)
		return CUDA_SUCCESS;
	d = vgpu_at_host(s->at, dst, n);
	if (!d)
		return CUDA_ERROR_INVALID_VALUE;
	t = sim_busy_begin();
	memcpy(d, src, n);
	sim_busy_end(s, SIM_BUSY_MEMORY, t);
	return CUDA_SUCCESS;
}

static CUresult sim_memcpy_dtoh(void *be, void *ctx, void *dst, uint64_t src, size_t n,
				void *stream)
{
	struct sim *s = be;
	const void *p;
	uint64_t t;

	if (s->sticky)
		return s->sticky;
	if (!n)
		return CUDA_SUCCESS;
	p = vgpu_at_host(s->at, src, n);
	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	t = sim_busy_begin();
	memcpy(dst, p, n);
	sim_busy_end(s, SIM_BUSY_MEMORY, t);
	return CUDA_SUCCESS;
}

static CUresult sim_memcpy_dtod(void *be, void *ctx, uint64_t dst, uint64_t src, size_t n,
				void *stream)
{
	struct sim *s = be;
	void *d;
	const void *p;
	uint64_t t;

	if (s->sticky)
		return s->sticky;
	if (!n)
		return CUDA_SUCCESS;
	d = vgpu_at_host(s->at, dst, n);
	p = vgpu_at_host(s->at, src, n);
	if (!d || !p)
		return CUDA_ERROR_INVALID_VALUE;
	t = sim_busy_begin();
	memmove(d, p, n);
	sim_busy_end(s, SIM_BUSY_MEMORY, t);
	return CUDA_SUCCESS;
}

static CUresult sim_memset(void *be, void *ctx, uint64_t dst, uint32_t value,
			   unsigned int elem_size, uint64_t count, void *stream)
{
	struct sim *s = be;
	uint64_t t;
	uint8_t *d;

	if (s->sticky)
		return s->sticky;
	if ((elem_size != 1 && elem_size != 2 && elem_size != 4) || count > UINT64_MAX / 4)
		return CUDA_ERROR_INVALID_VALUE;
	if (!count)
		return CUDA_SUCCESS;
	d = vgpu_at_host(s->at, dst, count * elem_size);
	if (!d)
		return CUDA_ERROR_INVALID_VALUE;
	t = sim_busy_begin();
	if (elem_size == 1) {
		memset(d, (int)(value & 0xff), count);
	} else if (elem_size == 2) {
		uint16_t v = (uint16_t)value;

		for (uint64_t i = 0; i < count; i++)
			memcpy(d + i * 2, &v, 2);
	} else {
		for (uint64_t i = 0; i < count; i++)
			memcpy(d + i * 4, &value, 4);
	}
	sim_busy_end(s, SIM_BUSY_MEMORY, t);
	return CUDA_SUCCESS;
}

static CUresult sim_stream_create(void *be, void *ctx, unsigned int flags, int priority,
				  void **stream)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	*stream = malloc(1);	/* a token: work is synchronous */
	return *stream ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult sim_stream_sync(void *be, void *ctx, void *stream)
{
	return ((struct sim *)be)->sticky;
}

/* Work runs at the call: there is never anything to wait for. */
static CUresult sim_stream_wait_event(void *be, void *ctx, void *stream, void *event,
				      unsigned int flags)
{
	return ((struct sim *)be)->sticky;
}

static CUresult sim_stream_destroy(void *be, void *ctx, void *stream)
{
	free(stream);
	return CUDA_SUCCESS;
}

static CUresult sim_event_create(void *be, void *ctx, unsigned int flags, void **event)
{
	struct sim *s = be;
	struct sim_event *e;

	if (s->sticky)
		return s->sticky;
	e = calloc(1, sizeof(*e));
	if (!e)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e->flags = flags;
	*event = e;
	return CUDA_SUCCESS;
}

static CUresult sim_event_record(void *be, void *ctx, void *event, void *stream)
{
	struct sim *s = be;
	struct sim_event *e = event;

	if (s->sticky)
		return s->sticky;
	clock_gettime(CLOCK_MONOTONIC, &e->ts);
	e->recorded = true;
	return CUDA_SUCCESS;
}

static CUresult sim_event_elapsed(void *be, void *ctx, void *start, void *end, float *ms)
{
	struct sim *s = be;
	struct sim_event *a = start, *b = end;

	if (s->sticky)
		return s->sticky;
	/* what the driver answers for never-recorded or timing-disabled events */
	if (!a->recorded || !b->recorded || (a->flags | b->flags) & CU_EVENT_DISABLE_TIMING)
		return CUDA_ERROR_INVALID_HANDLE;
	*ms = (float)((double)(b->ts.tv_sec - a->ts.tv_sec) * 1e3 +
		      (double)(b->ts.tv_nsec - a->ts.tv_nsec) / 1e6);
	return CUDA_SUCCESS;
}

static CUresult sim_event_sync(void *be, void *ctx, void *event)
{
	return ((struct sim *)be)->sticky;
}

static CUresult sim_event_destroy(void *be, void *ctx, void *event)
{
	free(event);
	return CUDA_SUCCESS;
}

const struct vgpu_backend_ops vgpu_backend_sim = {
	.name = "sim",
	.kind = VGPU_BACKEND_SIM,
	.open = sim_open,
	.close = sim_close,
	.device_count = sim_device_count,
	.device_info = sim_device_info,
	.ctx_create = sim_ctx_create,
	.ctx_destroy = sim_ctx_destroy,
	.ctx_sync = sim_sticky,
	.mem_alloc = sim_mem_alloc,
	.mem_free = sim_mem_free,
	.mem_get_info = sim_mem_get_info,
	.memcpy_htod = sim_memcpy_htod,
	.memcpy_dtoh = sim_memcpy_dtoh,
	.memcpy_dtod = sim_memcpy_dtod,
	.memset = sim_memset,
	.module_load = sim_module_load,
	.module_unload = sim_module_unload,
	.module_get_function = sim_module_get_function,
	.module_get_global = sim_module_get_global,
	.launch = sim_launch,
	.launch_ex = sim_launch_ex,
	.stream_create = sim_stream_create,
	.stream_sync = sim_stream_sync,
	.stream_destroy = sim_stream_destroy,
	.event_create = sim_event_create,
	.event_record = sim_event_record,
	.event_sync = sim_event_sync,
	.event_elapsed = sim_event_elapsed,
	.event_destroy = sim_event_destroy,
	.stream_wait_event = sim_stream_wait_event,
	.stream_query = sim_stream_sync,
	.event_query = sim_event_sync,
	.func_get_attribute = sim_func_get_attribute,
	.func_set_attribute = sim_func_set_attribute,
	.occupancy_blocks = sim_occupancy_blocks,
	.occupancy_dyn_smem = sim_occupancy_dyn_smem,
	.occupancy_clusters = sim_occupancy_clusters,
	.utilization = sim_utilization,
	.compute_limit = sim_compute_limit,
	.tex_create = sim_tex_create,
	.tex_destroy = sim_tex_destroy,
	.kernel_timing = sim_kernel_timing,
	.kernel_time = sim_kernel_time,
	.vmm_granularity = sim_vmm_granularity,
	.vmm_create = sim_vmm_create,
	.vmm_release = sim_vmm_release,
	.vmm_reserve = sim_vmm_reserve,
	.vmm_free_va = sim_vmm_free_va,
	.vmm_map = sim_vmm_map,
	.vmm_unmap = sim_vmm_unmap,
	.vmm_set_access = sim_vmm_set_access,
	.pool_default = sim_pool_default,
	.pool_create = sim_pool_create,
	.pool_destroy = sim_pool_destroy,
	.pool_alloc = sim_pool_alloc,
	.pool_free = sim_pool_free,
	.pool_set_attr = sim_pool_set_attr,
	.pool_get_attr = sim_pool_get_attr,
	.pool_trim = sim_pool_trim,
};
