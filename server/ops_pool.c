// SPDX-License-Identifier: MIT
/*
 * ops_pool.c - stream-ordered allocation from memory pools.  Pools live on
 * the server: on the cuda backend they are the driver's own pools and
 * allocations are made and freed with cuMemAllocFromPoolAsync /
 * cuMemFreeAsync on the session's stream, so a free queued behind a kernel
 * waits for it on the GPU; the sim keeps its own counters.  Each device
 * has a default pool (made a handle at first use, never destroyed) and a
 * current pool (cuDeviceSetMemPool), which POOL_ALLOC uses when it names
 * no pool, as cuMemAllocAsync does.
 */
#include "server/session_int.h"

#include <stdlib.h>

struct sess_pool {
	void *obj;		/* backend pool */
	int ordinal;		/* backend ordinal */
	bool is_default;
};

struct sess_pools {
	uint32_t n;		/* client devices */
	uint64_t *dflt;		/* per client device: default pool's handle, or 0 */
	uint64_t *current;	/* per client device: current pool's handle, 0 = default */
};

static struct sess_pools *pools_of(struct session *s)
{
	struct sess_pools *p = s->pools;

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->n = s->dev_count;
	p->dflt = calloc(p->n ? p->n : 1, sizeof(*p->dflt));
	p->current = calloc(p->n ? p->n : 1, sizeof(*p->current));
	if (!p->dflt || !p->current) {
		free(p->dflt);
		free(p->current);
		free(p);
		return NULL;
	}
	s->pools = p;
	return p;
}

static struct sess_pool *pool_get(struct session *s, uint64_t id)
{
	struct vgpu_handle *e = vgpu_handle_get(&s->h, id, VGPU_H_POOL);

	return e ? e->obj : NULL;
}

/* A new handle for a backend pool; 0 when out of memory (the pool is left to the caller). */
static uint64_t pool_handle(struct session *s, void *obj, int ordinal, bool is_default)
{
	struct sess_pool *p = calloc(1, sizeof(*p));
	uint64_t id;

	if (!p)
		return 0;
	*p = (struct sess_pool){ .obj = obj, .ordinal = ordinal, .is_default = is_default };
	id = vgpu_handle_new(&s->h, VGPU_H_POOL, p, 0);
	if (!id)
		free(p);
	return id;
}

/* The default pool's handle of client device dev (< dev_count), made at first use. */
static CUresult default_pool(struct session *s, struct sess_pools *ps, uint32_t dev, uint64_t *id)
{
	void *obj;
	CUresult rc;

	if (!ps->dflt[dev]) {
		rc = s->ops->pool_default(s->be, sess_ordinal(s, dev), &obj);
		if (rc)
			return rc;
		ps->dflt[dev] = pool_handle(s, obj, sess_ordinal(s, dev), true);
		if (!ps->dflt[dev])
			return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*id = ps->dflt[dev];
	return CUDA_SUCCESS;
}

/* POOL_DEVICE: u32 device, u32 which (0: default, 1: current) -> u64 pool */
int op_pool_device(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t dev = vgpu_get_u32(r);
	uint32_t which = vgpu_get_u32(r);
	struct sess_pools *ps;
	uint64_t id = 0;
	CUresult rc;

	REQ_DONE(r);
	if (sess_ordinal(s, dev) < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (which > 1)
		return CUDA_ERROR_INVALID_VALUE;
	ps = pools_of(s);
	if (!ps)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (which && ps->current[dev]) {
		id = ps->current[dev];
	} else {
		rc = default_pool(s, ps, dev, &id);
		if (rc)
			return rc;
	}
	vgpu_put_u64(w, id);
	return CUDA_SUCCESS;
}

/* POOL_SET_CURRENT: u32 device, u64 pool (of that device) */
int op_pool_set_current(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t dev = vgpu_get_u32(r);
	uint64_t id = vgpu_get_u64(r);
	struct sess_pools *ps;
	struct sess_pool *p;

	REQ_DONE(r);
	if (sess_ordinal(s, dev) < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	if (p->ordinal != sess_ordinal(s, dev))
		return CUDA_ERROR_INVALID_DEVICE;
	ps = pools_of(s);
	if (!ps)
		return CUDA_ERROR_OUT_OF_MEMORY;
	ps->current[dev] = p->is_default ? 0 : id;
	return CUDA_SUCCESS;
}

/* POOL_CREATE: u32 device -> u64 pool */
int op_pool_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t dev = vgpu_get_u32(r);
	int ord;
	uint64_t id;
	void *obj;
	CUresult rc;

	REQ_DONE(r);
	ord = sess_ordinal(s, dev);
	if (ord < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	rc = s->ops->pool_create(s->be, ord, &obj);
	if (rc)
		return rc;
	id = pool_handle(s, obj, ord, false);
	if (!id) {
		s->ops->pool_destroy(s->be, obj);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	vgpu_put_u64(w, id);
	return CUDA_SUCCESS;
}

static void pool_drop(struct session *s, uint64_t id)
{
	struct sess_pool *p = pool_get(s, id);
	struct sess_pools *ps = s->pools;

	for (uint32_t d = 0; ps && d < ps->n; d++)
		if (ps->current[d] == id)
			ps->current[d] = 0;	/* the default pool becomes current again */
	s->ops->pool_destroy(s->be, p->obj);
	vgpu_handle_del(&s->h, id);
	free(p);
}

/*
 * POOL_DESTROY: u64 pool.  Allocations still out keep their memory until
 * they are freed (the driver's rule); a default pool cannot be destroyed.
 */
int op_pool_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	struct sess_pool *p;

	REQ_DONE(r);
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	if (p->is_default)
		return CUDA_ERROR_INVALID_VALUE;
	pool_drop(s, id);
	return CUDA_SUCCESS;
}

/* POOL_ALLOC: u64 ctx, u64 stream, u64 pool (0: the device's current), u32 device, u64 size */
int op_pool_alloc(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	uint64_t id = vgpu_get_u64(r);
	uint32_t dev = vgpu_get_u32(r);
	uint64_t size = vgpu_get_u64(r);
	struct sess_pools *ps;
	struct sess_pool *p;
	uint64_t dptr = 0;
	void *c, *st;
	CUresult rc;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	if (sess_ordinal(s, dev) < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (!size)
		return CUDA_ERROR_INVALID_VALUE;
	if (!id) {
		ps = pools_of(s);
		if (!ps)
			return CUDA_ERROR_OUT_OF_MEMORY;
		id = ps->current[dev];
		if (!id) {
			rc = default_pool(s, ps, dev, &id);
			if (rc)
				return rc;
		}
	}
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	/*
	 * Counted before the backend allocates (a failure is settled after
	 * the op), less what the pool's cache can serve: that is counted
	 * already.  A pool that grew by more than asked (its granularity) is
	 * checked after the allocation.
	 */
	rc = sess_part_charge_pool(s, size, id);
	if (rc)
		return rc;
	rc = s->ops->pool_alloc(s->be, c, p->obj, size, st, &dptr);
	if (rc)
		return rc;
	if (!sess_part_fits(s)) {
		/* give it back and wait for that, so the pool's trim can release it */
		s->ops->pool_free(s->be, c, dptr, st);
		s->ops->stream_sync(s->be, c, st);
		sess_pools_trim(s);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	vgpu_put_u64(w, dptr);
	return CUDA_SUCCESS;
}

/*
 * MEM_FREE_ASYNC: u64 ctx, u64 dptr, u64 stream.  A pool's allocation is
 * freed in stream order; cuMemAlloc'ed memory after the stream's work.
 */
int op_mem_free_async(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t dptr = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	struct vgpu_alloc *a;
	void *c, *st;
	CUresult rc;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	a = vgpu_at_exact(&s->at, dptr);
	if (a && a->kind == VGPU_ALLOC_POOL)
		return s->ops->pool_free(s->be, c, dptr, st);
	if (!a || a->kind != VGPU_ALLOC_MEM)
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->stream_sync(s->be, c, st);
	return rc ? rc : s->ops->mem_free(s->be, c, dptr);
}

/* Which attributes are settable: the reuse flags, the threshold, and highs (to 0 only). */
static bool attr_ok(uint32_t attr)
{
	return attr >= CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES &&
	       attr <= CU_MEMPOOL_ATTR_USED_MEM_HIGH;
}

/* POOL_SET_ATTR: u64 pool, u32 attr, u64 value */
int op_pool_set_attr(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	uint32_t attr = vgpu_get_u32(r);
	uint64_t value = vgpu_get_u64(r);
	struct sess_pool *p;

	REQ_DONE(r);
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!attr_ok(attr) || attr == CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT ||
	    attr == CU_MEMPOOL_ATTR_USED_MEM_CURRENT)
		return CUDA_ERROR_INVALID_VALUE;
	if ((attr == CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH || attr == CU_MEMPOOL_ATTR_USED_MEM_HIGH) &&
	    value)
		return CUDA_ERROR_INVALID_VALUE;	/* a high mark can only be reset */
	if (attr < CU_MEMPOOL_ATTR_RELEASE_THRESHOLD && value > 1)
		return CUDA_ERROR_INVALID_VALUE;	/* the reuse flags are 0 or 1 */
	return s->ops->pool_set_attr(s->be, p->obj, (int)attr, value);
}

/* POOL_GET_ATTR: u64 pool, u32 attr -> u64 value */
int op_pool_get_attr(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	uint32_t attr = vgpu_get_u32(r);
	struct sess_pool *p;
	uint64_t value = 0;
	CUresult rc;

	REQ_DONE(r);
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!attr_ok(attr))
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->pool_get_attr(s->be, p->obj, (int)attr, &value);
	if (rc == CUDA_SUCCESS)
		vgpu_put_u64(w, value);
	return rc;
}

/* POOL_TRIM: u64 pool, u64 min_bytes_to_keep */
int op_pool_trim(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	uint64_t keep = vgpu_get_u64(r);
	struct sess_pool *p;

	REQ_DONE(r);
	p = pool_get(s, id);
	if (!p)
		return CUDA_ERROR_INVALID_HANDLE;
	return s->ops->pool_trim(s->be, p->obj, keep);
}

/* What pool p keeps beyond its live allocations: its cache. */
static uint64_t pool_cached(struct session *s, const struct sess_pool *p)
{
	uint64_t reserved, used;

	if (s->ops->pool_get_attr(s->be, p->obj, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT, &reserved) ||
	    s->ops->pool_get_attr(s->be, p->obj, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &used))
		return 0;
	return reserved > used ? reserved - used : 0;
}

uint64_t sess_pools_cached(struct session *s, uint64_t only)
{
	uint64_t sum = 0, id;
	uint32_t pos = 0;
	struct sess_pool *p;

	if (!s->pools)
		return 0;	/* no pool used yet */
	if (only) {
		p = pool_get(s, only);
		return p ? pool_cached(s, p) : 0;
	}
	while ((id = vgpu_handle_next(&s->h, &pos, VGPU_H_POOL, 0)))
		sum += pool_cached(s, pool_get(s, id));
	return sum;
}

bool sess_pools_trim(struct session *s)
{
	bool gave = false;
	uint32_t pos = 0;
	uint64_t id;

	while ((id = vgpu_handle_next(&s->h, &pos, VGPU_H_POOL, 0))) {
		struct sess_pool *p = pool_get(s, id);

		if (pool_cached(s, p)) {
			s->ops->pool_trim(s->be, p->obj, 0);
			gave = true;
		}
	}
	return gave;
}

void sess_pool_cleanup(struct session *s)
{
	struct sess_pools *ps = s->pools;
	uint32_t pos = 0;
	uint64_t id;

	while ((id = vgpu_handle_next(&s->h, &pos, VGPU_H_POOL, 0))) {
		struct sess_pool *p = pool_get(s, id);

		if (p->is_default) {
			vgpu_handle_del(&s->h, id);
			free(p);
		} else {
			pool_drop(s, id);
		}
	}
	if (ps) {
		free(ps->dflt);
		free(ps->current);
		free(ps);
		s->pools = NULL;
	}
}
