// SPDX-License-Identifier: MIT
/*
 * ops_mem.c - allocations, copies and memsets.  Every device range is
 * checked against the session's own alloc table before the backend sees
 * it: a session can only touch memory it allocated (or a global of a
 * module it loaded), whatever address it sends.
 */
#include "server/session_int.h"

int op_mem_alloc(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	uint64_t dptr = 0;
	void *c;
	CUresult rc;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!size)
		return CUDA_ERROR_INVALID_VALUE;
	/* counted before the backend allocates; a failure is settled after the op */
	rc = sess_part_charge(s, size);
	if (rc)
		return rc;
	rc = s->ops->mem_alloc(s->be, c, size, &dptr);
	if (rc == CUDA_SUCCESS)
		vgpu_put_u64(w, dptr);
	return rc;
}

int op_mem_free(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t dptr = vgpu_get_u64(r);
	struct vgpu_alloc *a;
	void *c;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	a = vgpu_at_exact(&s->at, dptr);
	/* cuMemFree takes a pool's allocation too (after the device is done with it) */
	if (!a || (a->kind != VGPU_ALLOC_MEM && a->kind != VGPU_ALLOC_POOL))
		return CUDA_ERROR_INVALID_VALUE;
	return s->ops->mem_free(s->be, c, dptr);
}

int op_mem_get_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t free_b = 0, total = 0;
	void *c;
	CUresult rc;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->mem_get_info(s->be, c, &free_b, &total);
	if (rc == CUDA_SUCCESS) {
		sess_part_mem_info(s, &free_b, &total);
		vgpu_put_u64(w, free_b);
		vgpu_put_u64(w, total);
	}
	return rc;
}

int op_memcpy_htod(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t dst = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	size_t n;
	const void *data = vgpu_get_bytes(r, &n);
	void *c, *st;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	if (!sess_range_ok(s, dst, n))
		return CUDA_ERROR_INVALID_VALUE;
	if (!n)
		return CUDA_SUCCESS;
	return s->ops->memcpy_htod(s->be, c, dst, data, n, st);
}

int op_memcpy_dtoh(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t src = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	void *c, *st, *dst;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	/* the reply is u32 length + data and must fit in one frame */
	if (size > VGPU_PROTO_MAX_BODY - 4 || !sess_range_ok(s, src, size))
		return CUDA_ERROR_INVALID_VALUE;
	dst = vgpu_put_bytes_reserve(w, size);
	if (!dst)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (!size)
		return CUDA_SUCCESS;
	return s->ops->memcpy_dtoh(s->be, c, dst, src, size, st);
}

int op_memcpy_dtod(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t dst = vgpu_get_u64(r);
	uint64_t src = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	void *c, *st;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	if (!sess_range_ok(s, dst, size) || !sess_range_ok(s, src, size))
		return CUDA_ERROR_INVALID_VALUE;
	if (!size)
		return CUDA_SUCCESS;
	return s->ops->memcpy_dtod(s->be, c, dst, src, size, st);
}

int op_memset(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t dst = vgpu_get_u64(r);
	uint32_t value = vgpu_get_u32(r);
	uint32_t elem = vgpu_get_u32(r);
	uint64_t count = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	void *c, *st;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	if ((elem != 1 && elem != 2 && elem != 4) || count > UINT64_MAX / 4 ||
	    !sess_range_ok(s, dst, count * elem))
		return CUDA_ERROR_INVALID_VALUE;
	if (!count)
		return CUDA_SUCCESS;
	return s->ops->memset(s->be, c, dst, value, elem, count, st);
}
