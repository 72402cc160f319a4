// SPDX-License-Identifier: MIT
/*
 * ops_tex.c - TEX_CREATE and TEX_DESTROY (docs/PROTOCOL.md): texture
 * objects over the session's own device memory, linear or pitched 2D.
 *
 * A texture object is a handle of its context (destroyed with it); the
 * reply carries the backend's object value too, since kernels take the
 * value itself as a parameter.  Every field is checked here, the memory
 * range against the session's allocations, before the backend sees it:
 * a texture cannot read what the session does not hold.
 */
#include "server/session_int.h"

#include <cuda.h>

#include "common/texture.h"

/* Bytes per element of format with channels, or 0 for a format or count the driver lacks. */
static uint64_t elem_bytes(uint32_t format, uint32_t channels)
{
	uint64_t b;

	switch (format) {
	case CU_AD_FORMAT_UNSIGNED_INT8:
	case CU_AD_FORMAT_SIGNED_INT8:
		b = 1;
		break;
	case CU_AD_FORMAT_UNSIGNED_INT16:
	case CU_AD_FORMAT_SIGNED_INT16:
	case CU_AD_FORMAT_HALF:
		b = 2;
		break;
	case CU_AD_FORMAT_UNSIGNED_INT32:
	case CU_AD_FORMAT_SIGNED_INT32:
	case CU_AD_FORMAT_FLOAT:
		b = 4;
		break;
	default:
		return 0;
	}
	return channels == 1 || channels == 2 || channels == 4 ? b * channels : 0;
}

#define TRSF_KNOWN	(CU_TRSF_READ_AS_INTEGER | CU_TRSF_NORMALIZED_COORDINATES | \
			 CU_TRSF_SRGB | CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION | \
			 CU_TRSF_SEAMLESS_CUBEMAP)

/* The request describes memory the session holds and sampling the driver knows. */
static CUresult tex_req_ok(struct session *s, const struct vgpu_tex_req *t)
{
	uint64_t e = elem_bytes(t->format, t->channels), span;

	if (!e || t->reserved)
		return CUDA_ERROR_INVALID_VALUE;
	switch (t->res_type) {
	case VGPU_TEX_RES_LINEAR:
		if (!t->width || t->height || t->pitch || t->width % e)
			return CUDA_ERROR_INVALID_VALUE;
		span = t->width;
		break;
	case VGPU_TEX_RES_PITCH2D:
		if (!t->width || !t->height || t->width > UINT64_MAX / e ||
		    t->pitch < t->width * e || t->height - 1 > (UINT64_MAX - t->width * e) / t->pitch)
			return CUDA_ERROR_INVALID_VALUE;
		span = t->pitch * (t->height - 1) + t->width * e;
		break;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	if (!sess_range_ok(s, t->dptr, span))
		return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < 3; i++)
		if (t->address_mode[i] > CU_TR_ADDRESS_MODE_BORDER)
			return CUDA_ERROR_INVALID_VALUE;
	if (t->filter_mode > CU_TR_FILTER_MODE_LINEAR ||
	    t->mipmap_filter_mode > CU_TR_FILTER_MODE_LINEAR || (t->flags & ~TRSF_KNOWN))
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

/* TEX_CREATE: struct vgpu_tex_req -> u64 handle, u64 value */
int op_tex_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	struct vgpu_tex_req t;
	uint64_t value, id;
	void *c, *obj;
	CUresult rc;

	if (vgpu_tex_req_get(r, &t))
		return -EPROTO;
	c = sess_ctx(s, t.ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = tex_req_ok(s, &t);
	if (rc)
		return rc;
	if (!s->ops->tex_create)
		return CUDA_ERROR_NOT_SUPPORTED;
	rc = s->ops->tex_create(s->be, c, &t, &obj, &value);
	if (rc)
		return rc;
	id = vgpu_handle_new(&s->h, VGPU_H_TEX, obj, t.ctx);
	if (!id) {
		s->ops->tex_destroy(s->be, c, obj);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	vgpu_put_u64(w, id);
	vgpu_put_u64(w, value);
	return CUDA_SUCCESS;
}

void sess_destroy_tex(struct session *s, uint64_t id)
{
	sess_destroy_child(s, id, VGPU_H_TEX, s->ops->tex_destroy);
}

/* TEX_DESTROY: u64 ctx, u64 handle */
int op_tex_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t id = vgpu_get_u64(r);
	struct vgpu_handle *e;

	REQ_DONE(r);
	e = sess_ctx(s, ctx) ? vgpu_handle_get(&s->h, id, VGPU_H_TEX) : NULL;
	if (!e || e->parent != ctx)
		return CUDA_ERROR_INVALID_HANDLE;
	sess_destroy_tex(s, id);
	return CUDA_SUCCESS;
}
