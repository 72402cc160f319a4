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
 */
#include "lib/vmm.h"

#include <string.h>

/* The device an allocation property names, checked as the driver does. */
static CUresult check_prop(const CUmemAllocationProp *p)
{
	CUresult rc;

	if (!p || p->type == CU_MEM_ALLOCATION_TYPE_INVALID ||
	    p->location.type == CU_MEM_LOCATION_TYPE_INVALID)
		return CUDA_ERROR_INVALID_VALUE;
	if (p->type != CU_MEM_ALLOCATION_TYPE_PINNED ||
	    p->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
	    p->requestedHandleTypes != CU_MEM_HANDLE_TYPE_NONE || p->allocFlags.usage)
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
	vgpu_put_u32(&w, (uint32_t)prop->location.id);
	vgpu_put_u32(&w, (uint32_t)option);
	rc = vgpu_rpc_u64(VGPU_OP_VMM_GRANULARITY, &w, &g);
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
	vgpu_put_u32(&w, (uint32_t)prop->location.id);
	vgpu_put_u64(&w, size);
	rc = vgpu_rpc_u64(VGPU_OP_VMM_CREATE, &w, &h);
	if (!rc)
		*handle = h;
	return rc;
}

/* An op whose request is a list of u64 and whose reply is empty. */
static CUresult call_u64s(uint16_t op, int n, const uint64_t *v)
{
	struct vgpu_wbuf w;
	uint8_t req[32];
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	for (int i = 0; i < n; i++)
		vgpu_put_u64(&w, v[i]);
	return vgpu_rpc_void(op, &w);
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle)
{
	return call_u64s(VGPU_OP_VMM_RELEASE, 1, (uint64_t[]){ handle });
}

CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t alignment, CUdeviceptr addr,
			     unsigned long long flags)
{
	struct vgpu_wbuf w;
	uint8_t req[24];
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
	rc = vgpu_rpc_u64(VGPU_OP_VMM_RESERVE, &w, &p);
	if (!rc)
		*ptr = (CUdeviceptr)p;
	return rc;
}

CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size)
{
	return call_u64s(VGPU_OP_VMM_FREE_VA, 2, (uint64_t[]){ ptr, size });
}

CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset,
		  CUmemGenericAllocationHandle handle, unsigned long long flags)
{
	CUresult rc;

	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	rc = call_u64s(VGPU_OP_VMM_MAP, 4, (uint64_t[]){ ptr, size, offset, handle });
	if (rc)
		return rc;
	if (vgpu_range_add(&vgpu_dev_ranges, &(struct vgpu_range){
		.base = ptr, .size = size })) {
		call_u64s(VGPU_OP_VMM_UNMAP, 2, (uint64_t[]){ ptr, size });
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	return CUDA_SUCCESS;
}

CUresult cuMemUnmap(CUdeviceptr ptr, size_t size)
{
	struct vgpu_range r;
	CUresult rc = call_u64s(VGPU_OP_VMM_UNMAP, 2, (uint64_t[]){ ptr, size });

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
	struct vgpu_wbuf w;
	uint8_t req[24];
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!desc || !count)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < count; i++) {
		if (desc[i].location.type == CU_MEM_LOCATION_TYPE_INVALID)
			return CUDA_ERROR_INVALID_VALUE;
		if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE)
			return CUDA_ERROR_NOT_SUPPORTED;	/* host access to device memory */
		if (!vgpu_device(desc[i].location.id, &rc))
			return rc;
	}
	for (size_t i = 0; i < count; i++) {
		vgpu_wbuf_init_fixed(&w, req, sizeof(req));
		vgpu_put_u64(&w, ptr);
		vgpu_put_u64(&w, size);
		vgpu_put_u32(&w, (uint32_t)desc[i].location.id);
		vgpu_put_u32(&w, (uint32_t)desc[i].flags);
		rc = vgpu_rpc_void(VGPU_OP_VMM_SET_ACCESS, &w);
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
	uint32_t f;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!flags || !location || location->type != CU_MEM_LOCATION_TYPE_DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, ptr);
	vgpu_put_u32(&w, (uint32_t)location->id);
	rc = vgpu_rpc_buf(VGPU_OP_VMM_GET_ACCESS, &w, buf, sizeof(buf), &r);
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
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!prop)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, handle);
	rc = vgpu_rpc_buf(VGPU_OP_VMM_HANDLE_INFO, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	dev = vgpu_get_u32(&r);
	vgpu_get_u64(&r);	/* size: the driver's properties do not carry it */
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	memset(prop, 0, sizeof(*prop));
	prop->type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop->requestedHandleTypes = CU_MEM_HANDLE_TYPE_NONE;
	prop->location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop->location.id = (int)dev;
	return CUDA_SUCCESS;
}

CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *handle, void *addr)
{
	struct vgpu_wbuf w;
	uint8_t req[8];
	uint64_t h;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!handle)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, (uintptr_t)addr);
	rc = vgpu_rpc_u64(VGPU_OP_VMM_RETAIN, &w, &h);
	if (!rc)
		*handle = h;
	return rc;
}
