// SPDX-License-Identifier: MIT
/*
 * hostmem.c - page-locked host memory and the calls that take a bare
 * address.
 *
 * The GPU is on another machine, so "pinned" host memory cannot be mapped
 * into it: cuMemHostAlloc hands out ordinary page-aligned memory, and
 * cuMemHostRegister only records the range.  Both still matter to
 * applications as staging buffers for the Async copies (which work on any
 * host memory here) and through what cuPointerGetAttribute reports.
 * cuMemHostGetDevicePointer (mapped, zero-copy memory) gives a device view
 * filled once from the host buffer, not kept in step (below).
 *
 * The unified-addressing calls (cuMemcpy, cuPointerGetAttribute[s],
 * cuMemGetAddressRange) tell device from host addresses with ranges.c:
 * device memory is what this process cuMemAlloc'ed; anything else is host.
 * Boolean attributes are written as 4-byte integers, which is what the CUDA
 * runtime reads (a 1-byte write leaves it reading garbage).
 */
#include "lib/driver.h"
#include "lib/graph.h"
#include "lib/debug.h"

#include <stdlib.h>
#include <string.h>

#define HOST_ALIGN	4096

/* ---- page-locked host memory ------------------------------------------- */

static void drop_view(uint64_t base);

CUresult cuMemHostAlloc(void **pp, size_t bytesize, unsigned int flags)
{
	struct CUctx_st *c;
	void *p;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!pp || !bytesize || (flags & ~(CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP |
					   CU_MEMHOSTALLOC_WRITECOMBINED)))
		return CUDA_ERROR_INVALID_VALUE;
	if (posix_memalign(&p, HOST_ALIGN, bytesize))
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (vgpu_range_add(&vgpu_host_ranges, &(struct vgpu_range){
		.base = (uintptr_t)p, .size = bytesize, .ctx = c, .flags = flags })) {
		free(p);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*pp = p;
	return CUDA_SUCCESS;
}

CUresult cuMemAllocHost_v2(void **pp, size_t bytesize)
{
	return cuMemHostAlloc(pp, bytesize, 0);
}

CUresult cuMemFreeHost(void *p)
{
	struct vgpu_range r;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_range_find(&vgpu_host_ranges, (uintptr_t)p, &r) || r.base != (uintptr_t)p ||
	    r.registered)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_range_del(&vgpu_host_ranges, r.base, NULL);
	drop_view(r.base);
	free(p);
	return CUDA_SUCCESS;
}

CUresult cuMemHostRegister_v2(void *p, size_t bytesize, unsigned int flags)
{
	struct CUctx_st *c;
	uint64_t a = (uintptr_t)p;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!p || !bytesize || (flags & ~(CU_MEMHOSTREGISTER_PORTABLE |
					  CU_MEMHOSTREGISTER_DEVICEMAP |
					  CU_MEMHOSTREGISTER_IOMEMORY |
					  CU_MEMHOSTREGISTER_READ_ONLY)))
		return CUDA_ERROR_INVALID_VALUE;
	if (flags & CU_MEMHOSTREGISTER_IOMEMORY)
		return CUDA_ERROR_NOT_SUPPORTED;
	/* any overlap with a known range: first byte, last byte, or a range inside */
	pthread_mutex_lock(&vgpu_host_ranges.lock);
	for (size_t i = 0; i < vgpu_host_ranges.n; i++) {
		const struct vgpu_range *r = &vgpu_host_ranges.r[i];

		if (r->base < a + bytesize && a < r->base + r->size) {
			pthread_mutex_unlock(&vgpu_host_ranges.lock);
			return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
		}
	}
	pthread_mutex_unlock(&vgpu_host_ranges.lock);
	if (vgpu_range_add(&vgpu_host_ranges, &(struct vgpu_range){
		.base = a, .size = bytesize, .ctx = c, .flags = flags, .registered = true }))
		return CUDA_ERROR_OUT_OF_MEMORY;
	return CUDA_SUCCESS;
}

CUresult cuMemHostUnregister(void *p)
{
	struct vgpu_range r;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_range_find(&vgpu_host_ranges, (uintptr_t)p, &r) || r.base != (uintptr_t)p ||
	    !r.registered)
		return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
	vgpu_range_del(&vgpu_host_ranges, r.base, NULL);
	drop_view(r.base);
	return CUDA_SUCCESS;
}

CUresult cuMemHostGetFlags(unsigned int *flags, void *p)
{
	struct vgpu_range r;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!flags || !vgpu_range_find(&vgpu_host_ranges, (uintptr_t)p, &r))
		return CUDA_ERROR_INVALID_VALUE;
	*flags = r.flags;
	return CUDA_SUCCESS;
}

/*
 * Zero-copy access to host memory from a GPU on another machine cannot be
 * had.  What is given instead is a device view: device memory of the
 * range's size on the current context's device, filled from the host
 * buffer now, and freed with it.  Kernels may use the address (it is
 * real device memory, so they do not fault), but the two sides are not
 * kept in step afterwards: a kernel's writes stay in the view and later
 * host writes stay on the host.  cuDNN's cudnnCreate asks for one and
 * fails without it; CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY reads 0, so
 * code that asks first does not rely on it (docs/LIBCUDA.md).
 */
static pthread_mutex_t views_lock = PTHREAD_MUTEX_INITIALIZER;	/* making a view */

static CUresult make_view(const struct vgpu_range *h, uint64_t *view)
{
	struct vgpu_range v;
	CUdeviceptr d;
	CUresult rc;

	if (vgpu_range_find(&vgpu_host_views, h->base, &v)) {
		if (vgpu_range_find(&vgpu_dev_ranges, v.view, NULL)) {
			*view = v.view;
			return CUDA_SUCCESS;
		}
		/* its context was destroyed, and the view with it */
		vgpu_range_del(&vgpu_host_views, h->base, NULL);
	}
	rc = cuMemAlloc_v2(&d, h->size);
	if (rc)
		return rc;
	rc = cuMemcpyHtoD_v2(d, (const void *)(uintptr_t)h->base, h->size);
	if (!rc && vgpu_range_add(&vgpu_host_views, &(struct vgpu_range){
		.base = h->base, .size = h->size, .view = d }))
		rc = CUDA_ERROR_OUT_OF_MEMORY;
	if (rc) {
		cuMemFree_v2(d);
		return rc;
	}
	vgpu_dbg("host range %#llx (%llu bytes): device view at %#llx, filled once, not kept in "
		 "step", (unsigned long long)h->base, (unsigned long long)h->size,
		 (unsigned long long)d);
	*view = d;
	return CUDA_SUCCESS;
}

/* Free the device view of the host range at base, if it has one. */
static void drop_view(uint64_t base)
{
	struct vgpu_range v;

	if (vgpu_range_del(&vgpu_host_views, base, &v))
		cuMemFree_v2(v.view);
}

CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *dptr, void *p, unsigned int flags)
{
	struct vgpu_range r;
	struct CUctx_st *c;
	uint64_t view;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!dptr || flags || !vgpu_range_find(&vgpu_host_ranges, (uintptr_t)p, &r))
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&views_lock);
	rc = make_view(&r, &view);
	pthread_mutex_unlock(&views_lock);
	if (!rc)
		*dptr = view + ((uintptr_t)p - r.base);
	return rc;
}

/* ---- what an address is ------------------------------------------------ */

/* Bytes an attribute's value takes (cuda.h's documented types). */
static size_t attr_size(CUpointer_attribute a)
{
	switch (a) {
	case CU_POINTER_ATTRIBUTE_CONTEXT:
	case CU_POINTER_ATTRIBUTE_HOST_POINTER:
	case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE:
	case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR:
		return sizeof(void *);
	case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
	case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
	case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS:
		return sizeof(int);
	case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
	case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
		return sizeof(CUdeviceptr);
	case CU_POINTER_ATTRIBUTE_P2P_TOKENS:
		return sizeof(CUDA_POINTER_ATTRIBUTE_P2P_TOKENS);
	case CU_POINTER_ATTRIBUTE_BUFFER_ID:
	case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES:
	case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID:
		return sizeof(uint64_t);
	case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
	case CU_POINTER_ATTRIBUTE_MAPPING_SIZE:
		return sizeof(size_t);
	default:
		return sizeof(unsigned int);	/* the flags: SYNC_MEMOPS, IS_MANAGED, MAPPED... */
	}
}

static CUresult pointer_attr(void *data, CUpointer_attribute a, CUdeviceptr ptr)
{
	struct vgpu_range r;
	bool dev = vgpu_range_find(&vgpu_dev_ranges, ptr, &r);

	if (!dev && !vgpu_range_find(&vgpu_host_ranges, ptr, &r))
		return CUDA_ERROR_INVALID_VALUE;	/* not memory the driver knows */
	switch (a) {
	case CU_POINTER_ATTRIBUTE_CONTEXT:
		*(CUcontext *)data = r.ctx;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
		*(unsigned int *)data = dev ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
		if (!dev)
			return CUDA_ERROR_INVALID_VALUE;	/* not mapped into the GPU */
		*(CUdeviceptr *)data = ptr;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_HOST_POINTER:
		if (dev)
			return CUDA_ERROR_INVALID_VALUE;
		*(void **)data = (void *)(uintptr_t)ptr;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
	case CU_POINTER_ATTRIBUTE_MAPPED:
		*(unsigned int *)data = 1;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_BUFFER_ID:
	case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID:
		*(uint64_t *)data = r.id;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_IS_MANAGED:
	case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
	case CU_POINTER_ATTRIBUTE_IS_GPU_DIRECT_RDMA_CAPABLE:
	case CU_POINTER_ATTRIBUTE_IS_HW_DECOMPRESS_CAPABLE:
		*(unsigned int *)data = 0;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
		*(int *)data = r.ctx ? r.ctx->dev : 0;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
		*(CUdeviceptr *)data = r.base;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR:
		*(void **)data = (void *)(uintptr_t)r.base;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
	case CU_POINTER_ATTRIBUTE_MAPPING_SIZE:
		*(size_t *)data = r.size;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES:
		*(uint64_t *)data = 0;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS:
		*(int *)data = dev ? CU_POINTER_ATTRIBUTE_ACCESS_FLAG_READWRITE
				   : CU_POINTER_ATTRIBUTE_ACCESS_FLAG_NONE;
		return CUDA_SUCCESS;
	case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE:
		*(void **)data = NULL;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_NOT_SUPPORTED;	/* P2P tokens and newer ones */
	}
}

CUresult cuPointerGetAttribute(void *data, CUpointer_attribute attribute, CUdeviceptr ptr)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!data)
		return CUDA_ERROR_INVALID_VALUE;
	return pointer_attr(data, attribute, ptr);
}

/* Unlike the single form, an unknown address is not an error: its attributes read as zero. */
CUresult cuPointerGetAttributes(unsigned int n, CUpointer_attribute *attrs, void **data,
				CUdeviceptr ptr)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (n && (!attrs || !data))
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned int i = 0; i < n; i++) {
		if (!data[i])
			continue;
		if (pointer_attr(data[i], attrs[i], ptr))
			memset(data[i], 0, attr_size(attrs[i]));
	}
	return CUDA_SUCCESS;
}

CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr dptr)
{
	struct vgpu_range r;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_range_find(&vgpu_dev_ranges, dptr, &r))
		return CUDA_ERROR_NOT_FOUND;
	if (base)
		*base = r.base;
	if (size)
		*size = r.size;
	return CUDA_SUCCESS;
}

/* ---- copies between addresses of either kind -------------------------- */

CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	bool ddev = vgpu_range_find(&vgpu_dev_ranges, dst, NULL);
	bool sdev = vgpu_range_find(&vgpu_dev_ranges, src, NULL);
	CUresult rc;

	if (ddev && sdev)
		return cuMemcpyDtoDAsync_v2(dst, src, n, s);
	if (ddev)
		return cuMemcpyHtoDAsync_v2(dst, (const void *)(uintptr_t)src, n, s);
	if (sdev)
		return cuMemcpyDtoHAsync_v2((void *)(uintptr_t)dst, src, n, s);
	if (vgpu_capturing(s)) {
		CUDA_MEMCPY3D p;

		vgpu_copy3d_linear(&p, CU_MEMORYTYPE_HOST, dst, CU_MEMORYTYPE_HOST, src, n);
		return n ? vgpu_capture_add(s, CU_GRAPH_NODE_TYPE_MEMCPY, &p) : CUDA_SUCCESS;
	}
	/* host to host: ordered after the stream's earlier work, like the real thing */
	rc = cuStreamSynchronize(s);
	if (!rc && n)
		memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
	return rc;
}

CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return cuMemcpyAsync(dst, src, n, NULL);
}

/* The per-thread default stream forms (see variants.c). */
CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n);
CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return cuMemcpyAsync(dst, src, n, NULL);
}

CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s);
CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return cuMemcpyAsync(dst, src, n, s);
}
