// SPDX-License-Identifier: MIT
/*
 * backend_cuda.c - the real driver, reached through dlopen("libcuda.so.1")
 * so that vgpu-server builds and links on machines without one, and so
 * that only a session child (never the listening parent) initialises CUDA.
 *
 * Contexts (cuda_ctx.c): CTX_CREATE retains the device's primary context
 * and CTX_DESTROY releases it.  The primary context is what the runtime API
 * uses, the driver shares it per device within the process (and a process
 * is one session), and its last release frees everything made in it,
 * which is exactly what a session end needs.  CTX_CREATE's flags are
 * therefore ignored.  (Under --spatial, a session of a partition uses one
 * SM-limited context of its own instead.)  Launches: cuda_launch.c.
 *
 * Every device range a client names was checked against the session's
 * alloc table before we get here (ops_mem.c); this file fills that table
 * with what the driver hands out.
 */
#include "server/cuda_be.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void *sym(void *lib, const char *name, const char *alt)
{
	void *p = dlsym(lib, name);

	return p || !alt ? p : dlsym(lib, alt);
}

static int resolve(struct cuda_be *b)
{
	void *p;

#define CUDA_RESOLVE(field, proto, name, alt, req)				\
	p = sym(b->lib, name, alt);						\
	if (!p && req) {							\
		log_err("libcuda.so.1 lacks %s", name);				\
		return -1;							\
	}									\
	b->f.field = (__typeof__(b->f.field))p;
	CUDA_SYMS(CUDA_RESOLVE)
#undef CUDA_RESOLVE
	return 0;
}

static CUresult cuda_open(const struct vgpu_server_config *cfg, uint32_t session_id,
			  struct vgpu_alloc_table *at, void **be)
{
	struct cuda_be *b = calloc(1, sizeof(*b));
	CUresult rc;

	if (!b)
		return CUDA_ERROR_OUT_OF_MEMORY;
	b->at = at;
	b->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!b->lib) {
		log_err("session %u: dlopen libcuda.so.1: %s", session_id, dlerror());
		free(b);
		return CUDA_ERROR_NO_DEVICE;
	}
	if (resolve(b)) {
		free(b);	/* the library stays loaded: unloading a driver is unsafe */
		return CUDA_ERROR_NOT_SUPPORTED;
	}
	rc = b->f.Init(0);
	if (rc) {
		log_err("session %u: cuInit: CUresult %d", session_id, (int)rc);
		free(b);
		return rc;
	}
	*be = b;
	return CUDA_SUCCESS;
}

static void cuda_close(void *be)
{
	struct cuda_be *b = be;

	/* contexts are gone by now (session cleanup), and with them their memory */
	cuda_timing_fini(b);
	vgpu_at_fini(b->at);
	free(b);
}

/* Make ctx current on this thread before a call that works in a context. */
CUresult cuda_use(struct cuda_be *b, void *ctx)
{
	struct cuda_ctx *c = ctx;
	CUresult rc;

	if (!c)
		return CUDA_ERROR_INVALID_CONTEXT;
	if (b->current == c->c)
		return CUDA_SUCCESS;
	rc = b->f.CtxSetCurrent(c->c);
	if (rc == CUDA_SUCCESS)
		b->current = c->c;
	return rc;
}

static CUresult cuda_device_count(void *be, int *count)
{
	return ((struct cuda_be *)be)->f.DeviceGetCount(count);
}

static CUresult cuda_device_info(void *be, int ordinal, struct vgpu_device_info *out)
{
	struct cuda_be *b = be;
	CUdevice dev;
	CUuuid uuid;
	size_t total = 0;
	int ver = 0;
	CUresult rc;

	memset(out, 0, sizeof(*out));
	rc = b->f.DeviceGet(&dev, ordinal);
	if (rc)
		return rc;
	rc = b->f.DeviceGetName(out->name, sizeof(out->name), dev);
	if (rc)
		return rc;
	if (b->f.DeviceGetUuid && b->f.DeviceGetUuid(&uuid, dev) == CUDA_SUCCESS)
		memcpy(out->uuid, uuid.bytes, sizeof(out->uuid));
	b->f.DeviceTotalMem(&total, dev);
	b->f.DriverGetVersion(&ver);
	out->total_mem = total;
	out->driver_version = (uint32_t)ver;
	for (int i = 1; i < VGPU_DEV_NATTR; i++) {
		int v = 0;

		if (b->f.DeviceGetAttribute(&v, (CUdevice_attribute)i, dev) != CUDA_SUCCESS)
			v = 0;
		out->attr[i] = v;
	}
	return CUDA_SUCCESS;
}

static CUresult cuda_mem_alloc(void *be, void *ctx, uint64_t size, uint64_t *dptr)
{
	struct cuda_be *b = be;
	CUdeviceptr p;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.MemAlloc(&p, size);
	if (rc)
		return rc;
	if (vgpu_at_insert(b->at, p, size, VGPU_ALLOC_MEM, ctx, NULL)) {
		b->f.MemFree(p);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*dptr = p;
	return CUDA_SUCCESS;
}

static CUresult cuda_mem_free(void *be, void *ctx, uint64_t dptr)
{
	struct cuda_be *b = be;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.MemFree(dptr);
	if (rc == CUDA_SUCCESS)
		vgpu_at_remove(b->at, dptr);
	return rc;
}

static CUresult cuda_mem_get_info(void *be, void *ctx, uint64_t *free_b, uint64_t *total)
{
	struct cuda_be *b = be;
	size_t f = 0, t = 0;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.MemGetInfo(&f, &t);
	*free_b = f;
	*total = t;
	return rc;
}

/*
 * Copies on the default stream use the synchronous calls (the client's
 * cuMemcpy* semantics); on a stream the async ones.  The host buffer is the
 * frame body, freed after the reply: safe, because async copies from and to
 * pageable memory return only once the host side has been consumed/filled.
 */
static CUresult cuda_memcpy_htod(void *be, void *ctx, uint64_t dst, const void *src, size_t n,
				 void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return stream ? b->f.MemcpyHtoDAsync(dst, src, n, stream) : b->f.MemcpyHtoD(dst, src, n);
}

static CUresult cuda_memcpy_dtoh(void *be, void *ctx, void *dst, uint64_t src, size_t n,
				 void *stream)
{
	struct cuda_be *b = be;
	CUresult rc;

	USE(b, ctx);
	if (!stream)
		return b->f.MemcpyDtoH(dst, src, n);
	rc = b->f.MemcpyDtoHAsync(dst, src, n, stream);
	/* the reply carries the data now, so it must have landed */
	return rc ? rc : b->f.StreamSynchronize(stream);
}

static CUresult cuda_memcpy_dtod(void *be, void *ctx, uint64_t dst, uint64_t src, size_t n,
				 void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return stream ? b->f.MemcpyDtoDAsync(dst, src, n, stream) : b->f.MemcpyDtoD(dst, src, n);
}

static CUresult cuda_memset(void *be, void *ctx, uint64_t dst, uint32_t value,
			    unsigned int elem_size, uint64_t count, void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	switch (elem_size) {
	case 1:
		return b->f.MemsetD8Async(dst, (unsigned char)value, count, stream);
	case 2:
		return b->f.MemsetD16Async(dst, (unsigned short)value, count, stream);
	case 4:
		return b->f.MemsetD32Async(dst, value, count, stream);
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

static CUresult cuda_module_load(void *be, void *ctx, const void *image, size_t n, void **mod)
{
	struct cuda_be *b = be;
	struct cuda_module *m;
	char *copy;
	CUresult rc;

	USE(b, ctx);
	/* a PTX image must be NUL-terminated; fatbin/cubin do not mind the extra byte */
	copy = malloc(n + 1);
	m = calloc(1, sizeof(*m));
	if (!copy || !m) {
		free(copy);
		free(m);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	memcpy(copy, image, n);
	copy[n] = '\0';
	rc = b->f.ModuleLoadData(&m->m, copy);
	free(copy);
	if (rc) {
		free(m);
		return rc;
	}
	*mod = m;
	return CUDA_SUCCESS;
}

static CUresult cuda_module_unload(void *be, void *ctx, void *mod)
{
	struct cuda_be *b = be;
	struct cuda_module *m = mod;
	CUresult rc;

	for (size_t i = 0; i < b->at->n;) {
		if (b->at->v[i].kind == VGPU_ALLOC_GLOBAL && b->at->v[i].owner == m)
			vgpu_at_remove(b->at, b->at->v[i].base);
		else
			i++;
	}
	if (ctx)
		cuda_use(b, ctx);
	rc = b->f.ModuleUnload(m->m);
	free(m);
	return rc;
}

static CUresult cuda_module_get_function(void *be, void *ctx, void *mod, const char *name,
					 void **func, struct vgpu_param_layout *layout)
{
	struct cuda_be *b = be;
	struct cuda_module *m = mod;
	CUfunction f;
	uint32_t cap = 0;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.ModuleGetFunction(&f, m->m, name);
	if (rc)
		return rc;
	if (!b->f.FuncGetParamInfo)
		return CUDA_ERROR_NOT_SUPPORTED;	/* driver older than 12.4 */
	memset(layout, 0, sizeof(*layout));
	/* no count call: iterate until the driver says the index is out of range */
	for (size_t i = 0;; i++) {
		size_t off, size;

		rc = b->f.FuncGetParamInfo(f, i, &off, &size);
		if (rc == CUDA_ERROR_INVALID_VALUE)
			break;
		if (rc)
			return rc;
		if (layout->n == cap) {
			struct vgpu_param *np;

			cap = cap ? cap * 2 : 16;
			np = realloc(layout->p, cap * sizeof(*np));
			if (!np)
				return CUDA_ERROR_OUT_OF_MEMORY;
			layout->p = np;
		}
		layout->p[layout->n++] = (struct vgpu_param){ (uint32_t)off, (uint32_t)size };
		if (off + size > layout->buf_size)
			layout->buf_size = (uint32_t)(off + size);
	}
	*func = f;
	return CUDA_SUCCESS;
}

static CUresult cuda_module_get_global(void *be, void *ctx, void *mod, const char *name,
				       uint64_t *dptr, uint64_t *size)
{
	struct cuda_be *b = be;
	struct cuda_module *m = mod;
	CUdeviceptr p;
	size_t sz;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.ModuleGetGlobal(&p, &sz, m->m, name);
	if (rc)
		return rc;
	/* make the global a legal copy target; asking twice finds it already there */
	if (sz && !vgpu_at_exact(b->at, p) && vgpu_at_insert(b->at, p, sz, VGPU_ALLOC_GLOBAL, m, NULL))
		return CUDA_ERROR_OUT_OF_MEMORY;
	*dptr = p;
	*size = sz;
	return CUDA_SUCCESS;
}

static CUresult cuda_stream_create(void *be, void *ctx, unsigned int flags, int priority,
				   void **stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.StreamCreate((CUstream *)stream, flags, priority);
}

static CUresult cuda_stream_sync(void *be, void *ctx, void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.StreamSynchronize(stream);
}

static CUresult cuda_stream_destroy(void *be, void *ctx, void *stream)
{
	struct cuda_be *b = be;

	if (ctx)
		cuda_use(b, ctx);
	return b->f.StreamDestroy(stream);
}

static CUresult cuda_event_create(void *be, void *ctx, unsigned int flags, void **event)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.EventCreate((CUevent *)event, flags);
}

static CUresult cuda_event_record(void *be, void *ctx, void *event, void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.EventRecord(event, stream);
}

static CUresult cuda_event_sync(void *be, void *ctx, void *event)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.EventSynchronize(event);
}

static CUresult cuda_event_elapsed(void *be, void *ctx, void *start, void *end, float *ms)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.EventElapsedTime(ms, start, end);
}

static CUresult cuda_event_destroy(void *be, void *ctx, void *event)
{
	struct cuda_be *b = be;

	if (ctx)
		cuda_use(b, ctx);
	return b->f.EventDestroy(event);
}

static CUresult cuda_stream_wait_event(void *be, void *ctx, void *stream, void *event,
				       unsigned int flags)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.StreamWaitEvent(stream, event, flags);
}

static CUresult cuda_stream_query(void *be, void *ctx, void *stream)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.StreamQuery(stream);
}

static CUresult cuda_event_query(void *be, void *ctx, void *event)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.EventQuery(event);
}

const struct vgpu_backend_ops vgpu_backend_cuda = {
	.name = "cuda",
	.kind = VGPU_BACKEND_CUDA,
	.open = cuda_open,
	.close = cuda_close,
	.device_count = cuda_device_count,
	.device_info = cuda_device_info,
	.ctx_create = cuda_ctx_create,
	.ctx_destroy = cuda_ctx_destroy,
	.ctx_sync = cuda_ctx_sync,
	.mem_alloc = cuda_mem_alloc,
	.mem_free = cuda_mem_free,
	.mem_get_info = cuda_mem_get_info,
	.memcpy_htod = cuda_memcpy_htod,
	.memcpy_dtoh = cuda_memcpy_dtoh,
	.memcpy_dtod = cuda_memcpy_dtod,
	.memset = cuda_memset,
	.module_load = cuda_module_load,
	.module_unload = cuda_module_unload,
	.module_get_function = cuda_module_get_function,
	.module_get_global = cuda_module_get_global,
	.launch = cuda_launch,
	.launch_ex = cuda_launch_ex,
	.stream_create = cuda_stream_create,
	.stream_sync = cuda_stream_sync,
	.stream_destroy = cuda_stream_destroy,
	.event_create = cuda_event_create,
	.event_record = cuda_event_record,
	.event_sync = cuda_event_sync,
	.event_elapsed = cuda_event_elapsed,
	.event_destroy = cuda_event_destroy,
	.stream_wait_event = cuda_stream_wait_event,
	.stream_query = cuda_stream_query,
	.event_query = cuda_event_query,
	.func_get_attribute = cuda_func_get_attribute,
	.func_set_attribute = cuda_func_set_attribute,
	.occupancy_blocks = cuda_occupancy_blocks,
	.occupancy_dyn_smem = cuda_occupancy_dyn_smem,
	.occupancy_clusters = cuda_occupancy_clusters,
	.utilization = cuda_utilization,
	.kernel_timing = cuda_kernel_timing,
	.kernel_time = cuda_kernel_time,
	.kernel_pending = cuda_kernel_pending,
	.compute_limit = cuda_compute_limit,
	.tex_create = cuda_tex_create,
	.tex_destroy = cuda_tex_destroy,
	.vmm_granularity = cuda_vmm_granularity,
	.vmm_create = cuda_vmm_create,
	.vmm_release = cuda_vmm_release,
	.vmm_reserve = cuda_vmm_reserve,
	.vmm_free_va = cuda_vmm_free_va,
	.vmm_map = cuda_vmm_map,
	.vmm_unmap = cuda_vmm_unmap,
	.vmm_set_access = cuda_vmm_set_access,
	.pool_default = cuda_pool_default,
	.pool_create = cuda_pool_create,
	.pool_destroy = cuda_pool_destroy,
	.pool_alloc = cuda_pool_alloc,
	.pool_free = cuda_pool_free,
	.pool_set_attr = cuda_pool_set_attr,
	.pool_get_attr = cuda_pool_get_attr,
	.pool_trim = cuda_pool_trim,
};
