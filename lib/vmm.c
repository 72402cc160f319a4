// SPDX-License-Identifier: MIT
/*
 * vmm.c - virtual memory management: physical chunks (cuMemCreate),
 * address reservations, mappings and access.  Everything lives on the
 * server (ops_vmm.c), which checks every rule the driver has; a
 * CUmemGenericAllocationHandle is the server's chunk handle.  Mapped
 * ranges are registered in vgpu_dev_ranges (with no context: VMM memory
 * belongs to none) so that pointer attributes, unified copies and memsets
 * see device memory; copies reach the memory only once access is granted,
 * as on the GPU.  Only what the server can give is accepted: pinned memory
 * on a device, no shareable handles (CUDA_ERROR_NOT_SUPPORTED otherwise).
 *
 * With devices of several servers (multidev.c), a chunk lives on its
 * device's server, a reservation on the current context's (recorded in
 * vgpu_va_ranges, chunk handles in vgpu_vmm_handles); a reservation maps
 * chunks of its own server, and grants access to that server's devices.
 */
#include "lib/vmm.h"

#include <string.h>

/* An op whose request is a list of u64 and whose reply is empty. */
static CUresult call_u64s(struct vgpu_transport *tp, uint16_t op, int n, const uint64_t *v)
{
	struct vgpu_wbuf w;
	uint8_t req[32];
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	for (int i = 0; i < n; i++)
		vgpu_put_u64(&w, v[i]);
	return vgpu_rpc_void(tp, op, &w);
}

/* Remember which link a chunk handle came from. */
static CUresult note_handle(uint64_t h, struct vgpu_transport *tp)
{
	if (vgpu_range_add(&vgpu_vmm_handles,
			   &(struct vgpu_range){ .base = h, .size = 1, .tp = tp }))
		return CUDA_ERROR_OUT_OF_MEMORY;
	return CUDA_SUCCESS;
}

/* The link of the current context, else of device 0: where address space is reserved. */
static struct vgpu_transport *current_tp(void)
{
	struct CUctx_st *c;

	return vgpu_ctx_current(&c) ? vgpu_dev_tp(0) : vgpu_ctx_tp(c);
}

/* A chunk handle's link; an unknown handle goes to the current one, which refuses it. */
static struct vgpu_transport *handle_tp(uint64_t h)
{
	struct vgpu_range r;

	if (vgpu_initialized())
		return NULL;
	return vgpu_range_find(&vgpu_vmm_handles, h, &r) ? r.tp : current_tp();
}

/* The link of the reservation holding p (or of memory mapped there). */
static struct vgpu_transport *va_tp(uint64_t p)
{
	struct vgpu_range r;

	if (vgpu_initialized())
		return NULL;
	if (vgpu_range_find(&vgpu_va_ranges, p, &r) || vgpu_range_find(&vgpu_dev_ranges, p, &r))
		return r.tp;
	return current_tp();
}

/* The device an allocation property names, checked as the driver does. */
static CUresult check_prop(const CUmemAllocationProp *p)
{
	CUresult rc;

	if (!p || p->type == CU_MEM_ALLOCATION_TYPE_INVALID ||
	    p->location.type == CU_MEM_LOCATION_TYPE_INVALID)
		return CUDA_ERROR_INVALID_VALUE;
	/*
	 * A file-descriptor handle is asked for so that the memory may be
	 * shared later (PyTorch's expandable segments always ask): the chunk
	 * is made, and exporting it (cuMemExportToShareableHandle) is what is
	 * refused, as the server's memory cannot be shared with this host.
	 */
	if (p->type != CU_MEM_ALLOCATION_TYPE_PINNED ||
	    p->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
	    (p->requestedHandleTypes != CU_MEM_HANDLE_TYPE_NONE &&
	     p->requestedHandleTypes != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR) ||
	    p->allocFlags.usage)
		return CUDA_ERROR_NOT_SUPPORTED;
	/* compression and RDMA are hints: the allocation reports what it got (none) */
	if (!vgpu_device(p->location.id, &rc))
		return rc;
	return CUDA_SUCCESS;
}

CUresult cuMemGetAllocationGranularity(size_t *granularity, const CUmemAllocationProp *prop,
				       CUmemAllocationGranularity_flags option)
{
	struct vgpu_wbuf w;
	uint8_t req[8];
	uint64_t g;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!granularity)
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_prop(prop);
	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(prop->location.id));
	vgpu_put_u32(&w, (uint32_t)option);
	rc = vgpu_rpc_u64(vgpu_dev_tp(prop->location.id), VGPU_OP_VMM_GRANULARITY, &w, &g);
	if (!rc)
		*granularity = g;
	return rc;
}

CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size,
		     const CUmemAllocationProp *prop, unsigned long long flags)
{
	struct vgpu_wbuf w;
	uint8_t req[12];
	uint64_t h;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!handle || !size || flags)
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_prop(prop);
	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(prop->location.id));
	vgpu_put_u64(&w, size);
	rc = vgpu_rpc_u64(vgpu_dev_tp(prop->location.id), VGPU_OP_VMM_CREATE, &w, &h);
	if (rc)
		return rc;
	rc = note_handle(h, vgpu_dev_tp(prop->location.id));
	if (rc)
		call_u64s(vgpu_dev_tp(prop->location.id), VGPU_OP_VMM_RELEASE, 1,
			  (uint64_t[]){ h });
	else
		*handle = h;
	return rc;
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	CUresult rc = call_u64s(handle_tp(handle), VGPU_OP_VMM_RELEASE, 1,
				(uint64_t[]){ handle });

	if (!rc)
		vgpu_range_del(&vgpu_vmm_handles, handle, NULL);
	return rc;
}

static void reserve_undo(const struct vgpu_alloc_op *a, uint64_t p)
{
	call_u64s(a->tp, VGPU_OP_VMM_FREE_VA, 2, (uint64_t[]){ p, a->size });
}

CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment, CUdeviceptr addr,
			     unsigned long long flags)
{
	struct vgpu_wbuf w;
	uint8_t req[24];
	struct vgpu_alloc_op a;
	uint64_t p;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!ptr || !size || flags)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, size);
	vgpu_put_u64(&w, alignment);
	vgpu_put_u64(&w, addr);
	a = (struct vgpu_alloc_op){ .tp = current_tp(), .op = VGPU_OP_VMM_RESERVE, .req = &w,
				    .size = size, .undo = reserve_undo };
	rc = vgpu_alloc_apart(&a, &p);
	if (rc)
		return rc;
	if (vgpu_range_add(&vgpu_va_ranges, &(struct vgpu_range){
		.base = p, .size = size, .tp = a.tp })) {
		reserve_undo(&a, p);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*ptr = (CUdeviceptr)p;
	return CUDA_SUCCESS;
}

CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
	CUresult rc = call_u64s(va_tp(ptr), VGPU_OP_VMM_FREE_VA, 2, (uint64_t[]){ ptr, size });

	if (!rc)
		vgpu_range_del(&vgpu_va_ranges, ptr, NULL);
	return rc;
}

CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
		  CUmemGenericAllocationHandle handle, unsigned long long flags)
{
	struct vgpu_transport *tp;
	CUresult rc;

	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	/* a reservation maps chunks of its own server */
	tp = handle_tp(handle);
	if (tp && va_tp(ptr) != tp)
		return CUDA_ERROR_INVALID_VALUE;
	rc = call_u64s(tp, VGPU_OP_VMM_MAP, 4, (uint64_t[]){ ptr, size, offset, handle });
	if (rc)
		return rc;
	if (vgpu_range_add(&vgpu_dev_ranges, &(struct vgpu_range){
		.base = ptr, .size = size, .tp = tp })) {
		call_u64s(tp, VGPU_OP_VMM_UNMAP, 2, (uint64_t[]){ ptr, size });
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	struct vgpu_range r;
	CUresult rc = call_u64s(va_tp(ptr), VGPU_OP_VMM_UNMAP, 2, (uint64_t[]){ ptr, size });

	if (rc)
		return rc;
	/* the server unmapped whole mappings, each one a range here */
	for (uint64_t a = ptr; a - ptr < size && vgpu_range_find(&vgpu_dev_ranges, a, &r);
	     a = r.base + r.size)
		vgpu_range_del(&vgpu_dev_ranges, r.base, NULL);
	return CUDA_SUCCESS;
}

CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc *desc, size_t count)
{
	struct vgpu_transport *tp;
	struct vgpu_wbuf w;
	uint8_t req[24];
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!desc || !count)
		return CUDA_ERROR_INVALID_VALUE;
	tp = va_tp(ptr);
	for (size_t i = 0; i < count; i++) {
		if (desc[i].location.type == CU_MEM_LOCATION_TYPE_INVALID)
			return CUDA_ERROR_INVALID_VALUE;
		if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE)
			return CUDA_ERROR_NOT_SUPPORTED;	/* host access to device memory */
		if (!vgpu_device(desc[i].location.id, &rc))
			return rc;
		/* a device of another server cannot reach this memory */
		if (vgpu_dev_tp(desc[i].location.id) != tp)
			return CUDA_ERROR_NOT_SUPPORTED;
	}
	for (size_t i = 0; i < count; i++) {
		vgpu_wbuf_init_fixed(&w, req, sizeof(req));
		vgpu_put_u64(&w, ptr);
		vgpu_put_u64(&w, size);
		vgpu_put_u32(&w, vgpu_dev_remote(desc[i].location.id));
		vgpu_put_u32(&w, (uint32_t)desc[i].flags);
		rc = vgpu_rpc_void(tp, VGPU_OP_VMM_SET_ACCESS, &w);
		if (rc)
			return rc;
	}
	return CUDA_SUCCESS;
}

CUresult cuMemGetAccess(unsigned long long *flags, const CUmemLocation *location, CUdeviceptr ptr)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[12], buf[4];
	struct vgpu_transport *tp;
	uint32_t f;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!flags || !location || location->type != CU_MEM_LOCATION_TYPE_DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	if (!vgpu_device(location->id, &rc))
		return rc;
	tp = va_tp(ptr);
	if (vgpu_dev_tp(location->id) != tp) {
		*flags = CU_MEM_ACCESS_FLAGS_PROT_NONE;	/* another server's device */
		return CUDA_SUCCESS;
	}
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, ptr);
	vgpu_put_u32(&w, vgpu_dev_remote(location->id));
	rc = vgpu_rpc_buf(tp, VGPU_OP_VMM_GET_ACCESS, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	f = vgpu_get_u32(&r);
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	*flags = f;
	return CUDA_SUCCESS;
}

CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *prop,
						CUmemGenericAllocationHandle handle)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[8], buf[12];
	uint32_t dev;
	CUdevice local;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!prop)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, handle);
	rc = vgpu_rpc_buf(handle_tp(handle), VGPU_OP_VMM_HANDLE_INFO, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	dev = vgpu_get_u32(&r);
	vgpu_get_u64(&r);	/* size: the driver's properties do not carry it */
	local = vgpu_dev_local(handle_tp(handle), dev);
	if (!vgpu_rbuf_done(&r) || local < 0)
		return CUDA_ERROR_UNKNOWN;
	memset(prop, 0, sizeof(*prop));
	prop->type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop->requestedHandleTypes = CU_MEM_HANDLE_TYPE_NONE;
	prop->location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop->location.id = local;
	return CUDA_SUCCESS;
}

CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
	struct vgpu_wbuf w;
	uint8_t req[8];
	struct vgpu_transport *tp;
	uint64_t h;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!handle)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, (uintptr_t)addr);
	tp = va_tp((uintptr_t)addr);
	rc = vgpu_rpc_u64(tp, VGPU_OP_VMM_RETAIN, &w, &h);
	if (!rc)
		rc = note_handle(h, tp);
	if (!rc)
		*handle = h;
	return rc;
}
