// SPDX-License-Identifier: MIT
/*
 * cuda_vmm.c - the cuda backend's virtual memory management and memory
 * pools: the driver's own calls.  The session (ops_vmm.c, ops_pool.c) has
 * checked every argument; here each call only names the device the
 * session maps the client onto.  Pool allocations and frees are the
 * stream-ordered calls on the session's stream, so a free queued behind a
 * kernel that still uses the memory waits for it on the GPU.  An old driver
 * without these entry points answers CUDA_ERROR_NOT_SUPPORTED.
 */
#include "server/cuda_be.h"

#include <stdlib.h>
#include <string.h>

struct cuda_chunk {
	CUmemGenericAllocationHandle h;
};

struct cuda_resv {
	CUdeviceptr base;
	size_t size;
};

#define NEED(b, field)					\
	do {						\
		if (!(b)->f.field)			\
			return CUDA_ERROR_NOT_SUPPORTED;\
	} while (0)

static CUmemAllocationProp pinned_on(int ordinal)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_NONE;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = ordinal;
	return p;
}

CUresult cuda_vmm_granularity(void *be, int ordinal, unsigned int option, uint64_t *gran)
{
	struct cuda_be *b = be;
	CUmemAllocationProp p = pinned_on(ordinal);
	size_t g = 0;
	CUresult rc;

	NEED(b, MemGetGranularity);
	rc = b->f.MemGetGranularity(&g, &p, (CUmemAllocationGranularity_flags)option);
	*gran = g;
	return rc;
}

CUresult cuda_vmm_create(void *be, int ordinal, uint64_t size, void **chunk)
{
	struct cuda_be *b = be;
	CUmemAllocationProp p = pinned_on(ordinal);
	struct cuda_chunk *c;
	CUresult rc;

	NEED(b, MemCreate);
	c = calloc(1, sizeof(*c));
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = b->f.MemCreate(&c->h, size, &p, 0);
	if (rc) {
		free(c);
		return rc;
	}
	*chunk = c;
	return CUDA_SUCCESS;
}

CUresult cuda_vmm_release(void *be, void *chunk)
{
	struct cuda_be *b = be;
	struct cuda_chunk *c = chunk;
	CUresult rc = b->f.MemRelease(c->h);

	free(c);
	return rc;
}

CUresult cuda_vmm_reserve(void *be, uint64_t size, uint64_t align, uint64_t hint, void **resv,
			  uint64_t *addr)
{
	struct cuda_be *b = be;
	struct cuda_resv *r;
	CUresult rc;

	NEED(b, MemAddressReserve);
	r = calloc(1, sizeof(*r));
	if (!r)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = b->f.MemAddressReserve(&r->base, size, align, hint, 0);
	if (rc) {
		free(r);
		return rc;
	}
	r->size = size;
	*resv = r;
	*addr = r->base;
	return CUDA_SUCCESS;
}

CUresult cuda_vmm_free_va(void *be, void *resv)
{
	struct cuda_be *b = be;
	struct cuda_resv *r = resv;
	CUresult rc = b->f.MemAddressFree(r->base, r->size);

	free(r);
	return rc;
}

CUresult cuda_vmm_map(void *be, void *resv, uint64_t addr, uint64_t size, void *chunk,
		      uint64_t off, void **host)
{
	struct cuda_be *b = be;
	struct cuda_chunk *c = chunk;

	*host = NULL;
	return b->f.MemMap(addr, size, off, c->h, 0);
}

CUresult cuda_vmm_unmap(void *be, void *resv, uint64_t addr, uint64_t size)
{
	struct cuda_be *b = be;

	return b->f.MemUnmap(addr, size);
}

CUresult cuda_vmm_set_access(void *be, int ordinal, uint64_t addr, uint64_t size,
			     unsigned int flags)
{
	struct cuda_be *b = be;
	CUmemAccessDesc d;

	memset(&d, 0, sizeof(d));
	d.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	d.location.id = ordinal;
	d.flags = (CUmemAccess_flags)flags;
	return b->f.MemSetAccess(addr, size, &d, 1);
}

CUresult cuda_pool_default(void *be, int ordinal, void **pool)
{
	struct cuda_be *b = be;
	CUdevice dev;
	CUresult rc;

	NEED(b, DeviceGetDefaultMemPool);
	rc = b->f.DeviceGet(&dev, ordinal);
	return rc ? rc : b->f.DeviceGetDefaultMemPool((CUmemoryPool *)pool, dev);
}

CUresult cuda_pool_create(void *be, int ordinal, void **pool)
{
	struct cuda_be *b = be;
	CUmemPoolProps p;

	NEED(b, MemPoolCreate);
	memset(&p, 0, sizeof(p));
	p.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = ordinal;
	return b->f.MemPoolCreate((CUmemoryPool *)pool, &p);
}

CUresult cuda_pool_destroy(void *be, void *pool)
{
	struct cuda_be *b = be;

	/* allocations still out keep their memory until freed (the driver's rule) */
	return b->f.MemPoolDestroy(pool);
}

CUresult cuda_pool_alloc(void *be, void *ctx, void *pool, uint64_t size, void *stream,
			 uint64_t *dptr)
{
	struct cuda_be *b = be;
	CUdeviceptr p;
	CUresult rc;

	USE(b, ctx);
	NEED(b, MemAllocFromPoolAsync);
	rc = b->f.MemAllocFromPoolAsync(&p, size, pool, stream);
	if (rc)
		return rc;
	if (vgpu_at_insert(b->at, p, size, VGPU_ALLOC_POOL, ctx, NULL)) {
		b->f.MemFreeAsync(p, stream);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*dptr = p;
	return CUDA_SUCCESS;
}

CUresult cuda_pool_free(void *be, void *ctx, uint64_t dptr, void *stream)
{
	struct cuda_be *b = be;
	CUresult rc;

	USE(b, ctx);
	rc = b->f.MemFreeAsync(dptr, stream);
	if (rc == CUDA_SUCCESS)
		vgpu_at_remove(b->at, dptr);
	return rc;
}

CUresult cuda_pool_set_attr(void *be, void *pool, int attr, uint64_t value)
{
	struct cuda_be *b = be;
	cuuint64_t v64 = value;
	int v = (int)value;

	/* the reuse flags are ints, the rest cuuint64_t */
	if (attr < CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)
		return b->f.MemPoolSetAttribute(pool, (CUmemPool_attribute)attr, &v);
	return b->f.MemPoolSetAttribute(pool, (CUmemPool_attribute)attr, &v64);
}

CUresult cuda_pool_get_attr(void *be, void *pool, int attr, uint64_t *value)
{
	struct cuda_be *b = be;
	cuuint64_t v64 = 0;
	int v = 0;
	CUresult rc;

	if (attr < CU_MEMPOOL_ATTR_RELEASE_THRESHOLD) {
		rc = b->f.MemPoolGetAttribute(pool, (CUmemPool_attribute)attr, &v);
		*value = (uint64_t)v;
		return rc;
	}
	rc = b->f.MemPoolGetAttribute(pool, (CUmemPool_attribute)attr, &v64);
	*value = v64;
	return rc;
}

CUresult cuda_pool_trim(void *be, void *pool, uint64_t keep)
{
	struct cuda_be *b = be;

	return b->f.MemPoolTrimTo(pool, keep);
}
