// SPDX-License-Identifier: MIT
/*
 * mempool.c - memory pools and stream-ordered allocation from them.
 *
 * Pools are the server's (the driver's own pools on the cuda backend, so
 * cuMemAllocFromPoolAsync and cuMemFreeAsync run in stream order on the
 * GPU; counters kept by the sim otherwise): a CUmemoryPool here is a
 * small registered object holding the server's handle.  The same server
 * handle always gives the same CUmemoryPool (a list of every pool seen),
 * so cuDeviceGetMemPool == cuDeviceGetDefaultMemPool until a pool is set.
 * A single device is served: access descriptors may name only the pool's
 * own device, which always has read-write access.
 */
#include "lib/vmm.h"
#include "lib/graph.h"

#include <stdlib.h>
#include <string.h>

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct CUmemPoolHandle_st *pools;

/* The CUmemoryPool of a server handle, made at first sight. */
static CUresult pool_obj(uint64_t h, CUdevice dev, struct CUmemPoolHandle_st **out)
{
	struct CUmemPoolHandle_st *p;
	CUresult rc = CUDA_SUCCESS;

	pthread_mutex_lock(&pools_lock);
	for (p = pools; p; p = p->next)
		if (p->h == h && vgpu_dev_tp(p->dev) == vgpu_dev_tp(dev) &&
		    vgpu_obj_valid(p, VGPU_OBJ_POOL))
			goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	p->o.type = VGPU_OBJ_POOL;
	p->h = h;
	p->dev = dev;
	if (vgpu_obj_register(&p->o)) {
		free(p);
		p = NULL;
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	p->next = pools;
	pools = p;
out:
	pthread_mutex_unlock(&pools_lock);
	*out = p;
	return rc;
}

static CUresult device_pool(CUmemoryPool *pool, CUdevice dev, uint32_t which)
{
	struct vgpu_wbuf w;
	uint8_t req[8];
	uint64_t h;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!pool)
		return CUDA_ERROR_INVALID_VALUE;
	if (!vgpu_device(dev, &rc))
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(dev));
	vgpu_put_u32(&w, which);
	rc = vgpu_rpc_u64(vgpu_dev_tp(dev), VGPU_OP_POOL_DEVICE, &w, &h);
	return rc ? rc : pool_obj(h, dev, (struct CUmemPoolHandle_st **)pool);
}

CUresult cuDeviceGetDefaultMemPool(CUmemoryPool *pool, CUdevice dev)
{
	return device_pool(pool, dev, 0);
}

CUresult cuDeviceGetMemPool(CUmemoryPool *pool, CUdevice dev)
{
	return device_pool(pool, dev, 1);
}

CUresult cuDeviceSetMemPool(CUdevice dev, CUmemoryPool pool)
{
	struct CUmemPoolHandle_st *p = (struct CUmemPoolHandle_st *)pool;
	struct vgpu_wbuf w;
	uint8_t req[12];
	CUresult rc = vgpu_obj_arg(p, VGPU_OBJ_POOL);

	if (rc)
		return rc;
	if (!vgpu_device(dev, &rc))
		return rc;
	/* a pool serves its own device (as cuMemPoolCreate's location says) */
	if (vgpu_dev_tp(dev) != vgpu_dev_tp(p->dev))
		return CUDA_ERROR_INVALID_DEVICE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(dev));
	vgpu_put_u64(&w, p->h);
	return vgpu_rpc_void(vgpu_dev_tp(dev), VGPU_OP_POOL_SET_CURRENT, &w);
}

/* What the server can honour: pinned memory of one device, no export handles. */
static CUresult check_pool_props(const CUmemPoolProps *pp)
{
	static const unsigned char zero[sizeof(pp->reserved)];
	CUresult rc;

	if (!pp || pp->allocType == CU_MEM_ALLOCATION_TYPE_INVALID ||
	    pp->location.type == CU_MEM_LOCATION_TYPE_INVALID ||
	    memcmp(pp->reserved, zero, sizeof(zero)))
		return CUDA_ERROR_INVALID_VALUE;
	if (pp->allocType != CU_MEM_ALLOCATION_TYPE_PINNED ||
	    pp->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
	    pp->handleTypes != CU_MEM_HANDLE_TYPE_NONE || pp->usage || pp->maxSize)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (!vgpu_device(pp->location.id, &rc))
		return rc;
	return CUDA_SUCCESS;
}

CUresult cuMemPoolCreate(CUmemoryPool *pool, const CUmemPoolProps *props)
{
	struct vgpu_wbuf w;
	uint8_t req[4];
	uint64_t h;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!pool)
		return CUDA_ERROR_INVALID_VALUE;
	rc = check_pool_props(props);
	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(props->location.id));
	rc = vgpu_rpc_u64(vgpu_dev_tp(props->location.id), VGPU_OP_POOL_CREATE, &w, &h);
	return rc ? rc : pool_obj(h, props->location.id, (struct CUmemPoolHandle_st **)pool);
}

/* A pool argument's server handle. */
static CUresult pool_arg(CUmemoryPool pool, uint64_t *h)
{
	CUresult rc = vgpu_obj_arg(pool, VGPU_OBJ_POOL);

	if (!rc)
		*h = ((struct CUmemPoolHandle_st *)pool)->h;
	return rc;
}

/* A valid pool's link. */
static struct vgpu_transport *pool_tp(CUmemoryPool pool)
{
	return vgpu_dev_tp(((struct CUmemPoolHandle_st *)pool)->dev);
}

CUresult cuMemPoolDestroy(CUmemoryPool pool)
{
	struct vgpu_wbuf w;
	uint8_t req[8];
	uint64_t h;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, h);
	rc = vgpu_rpc_void(pool_tp(pool), VGPU_OP_POOL_DESTROY, &w);
	/* kept in the list (unregistered): the server never reuses a handle */
	if (!rc)
		vgpu_obj_unregister(&((struct CUmemPoolHandle_st *)pool)->o);
	return rc;
}

CUresult cuMemPoolSetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
	struct vgpu_wbuf w;
	uint8_t req[20];
	uint64_t h, v;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	if (!value)
		return CUDA_ERROR_INVALID_VALUE;
	/* the reuse flags are ints, the rest cuuint64_t */
	v = attr < CU_MEMPOOL_ATTR_RELEASE_THRESHOLD ? (uint64_t)*(int *)value :
						     *(cuuint64_t *)value;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, h);
	vgpu_put_u32(&w, (uint32_t)attr);
	vgpu_put_u64(&w, v);
	return vgpu_rpc_void(pool_tp(pool), VGPU_OP_POOL_SET_ATTR, &w);
}

CUresult cuMemPoolGetAttribute(CUmemoryPool pool, CUmemPool_attribute attr, void *value)
{
	struct vgpu_wbuf w;
	uint8_t req[12];
	uint64_t h, v;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	if (!value)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, h);
	vgpu_put_u32(&w, (uint32_t)attr);
	rc = vgpu_rpc_u64(pool_tp(pool), VGPU_OP_POOL_GET_ATTR, &w, &v);
	if (rc)
		return rc;
	if (attr < CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)
		*(int *)value = (int)v;
	else
		*(cuuint64_t *)value = v;
	return CUDA_SUCCESS;
}

CUresult cuMemPoolTrimTo(CUmemoryPool pool, size_t min_bytes_to_keep)
{
	struct vgpu_wbuf w;
	uint8_t req[16];
	uint64_t h;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, h);
	vgpu_put_u64(&w, min_bytes_to_keep);
	return vgpu_rpc_void(pool_tp(pool), VGPU_OP_POOL_TRIM, &w);
}

/* One device: only the pool's own, which always has read-write access. */
CUresult cuMemPoolSetAccess(CUmemoryPool pool, const CUmemAccessDesc *map, size_t count)
{
	uint64_t h;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	if (!map && count)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < count; i++) {
		if (map[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE)
			return CUDA_ERROR_INVALID_VALUE;
		if (!vgpu_device(map[i].location.id, &rc))
			return rc;
		if (map[i].location.id != ((struct CUmemPoolHandle_st *)pool)->dev ||
		    map[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
			return CUDA_ERROR_INVALID_DEVICE;
	}
	return CUDA_SUCCESS;
}

CUresult cuMemPoolGetAccess(CUmemAccess_flags *flags, CUmemoryPool pool, CUmemLocation *location)
{
	uint64_t h;
	CUresult rc = pool_arg(pool, &h);

	if (rc)
		return rc;
	if (!flags || !location || location->type != CU_MEM_LOCATION_TYPE_DEVICE)
		return CUDA_ERROR_INVALID_VALUE;
	if (!vgpu_device(location->id, &rc))
		return rc;
	*flags = location->id == ((struct CUmemPoolHandle_st *)pool)->dev ?
		 CU_MEM_ACCESS_FLAGS_PROT_READWRITE : CU_MEM_ACCESS_FLAGS_PROT_NONE;
	return CUDA_SUCCESS;
}

static CUresult free_async(struct vgpu_transport *tp, uint64_t ctx, uint64_t dptr, uint64_t sh)
{
	struct vgpu_wbuf w;
	uint8_t req[24];

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dptr);
	vgpu_put_u64(&w, sh);
	return vgpu_rpc_void(tp, VGPU_OP_MEM_FREE_ASYNC, &w);
}

/* Undo a pool allocation that was kept apart (alloc.c). */
static void pool_undo(const struct vgpu_alloc_op *a, uint64_t p)
{
	free_async(a->tp, a->ctx->h, p, a->stream);
}

CUresult vgpu_pool_alloc(CUdeviceptr *dptr, size_t bytesize, struct CUmemPoolHandle_st *pool,
			 CUstream s)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	uint8_t req[36];
	uint64_t sh, p;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	/* graph-owned allocations (memory nodes) are not served: refused in a capture */
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	rc = vgpu_stream_handle(s, &sh);
	if (rc)
		return rc;
	if (!dptr || !bytesize)
		return CUDA_ERROR_INVALID_VALUE;
	/* a pool of another server's device cannot serve this context's stream */
	if (pool && vgpu_dev_tp(pool->dev) != vgpu_ctx_tp(c))
		return CUDA_ERROR_NOT_SUPPORTED;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u64(&w, sh);
	vgpu_put_u64(&w, pool ? pool->h : 0);
	vgpu_put_u32(&w, vgpu_dev_remote(pool ? pool->dev : c->dev));
	vgpu_put_u64(&w, bytesize);
	rc = vgpu_alloc_apart(&(struct vgpu_alloc_op){
		.tp = vgpu_ctx_tp(c), .op = VGPU_OP_POOL_ALLOC, .req = &w, .size = bytesize,
		.undo = pool_undo, .ctx = c, .stream = sh }, &p);
	if (rc)
		return rc;
	if (vgpu_range_add(&vgpu_dev_ranges, &(struct vgpu_range){
		.base = p, .size = bytesize, .ctx = c, .tp = vgpu_ctx_tp(c) })) {
		vgpu_mem_free_async(p, s);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*dptr = (CUdeviceptr)p;
	return CUDA_SUCCESS;
}

CUresult vgpu_mem_free_async(CUdeviceptr dptr, CUstream s)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	rc = vgpu_stream_handle(s, &sh);
	if (rc)
		return rc;
	/* memory of another server's device: freed there once s's work is done */
	rc = vgpu_route_ptr(dptr, &c, &sh);
	if (rc)
		return rc;
	rc = free_async(vgpu_ctx_tp(c), c->h, dptr, sh);
	if (!rc)
		vgpu_range_del(&vgpu_dev_ranges, dptr, NULL);
	return rc;
}

CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
				 CUstream s)
{
	CUresult rc = vgpu_obj_arg(pool, VGPU_OBJ_POOL);

	return rc ? rc : vgpu_pool_alloc(dptr, bytesize, (struct CUmemPoolHandle_st *)pool, s);
}

CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
				      CUstream s);
CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUmemoryPool pool,
				      CUstream s)
{
	return cuMemAllocFromPoolAsync(dptr, bytesize, pool, s);
}
