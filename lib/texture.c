// SPDX-License-Identifier: MIT
/*
 * texture.c - texture objects over device memory (cuTexObject*): linear
 * and pitched 2D resources, made on the server that holds the memory
 * (TEX_CREATE, docs/PROTOCOL.md).  A kernel takes the object's value as a
 * parameter, so the application gets the server driver's own value, and
 * this file remembers, per value, the context and server handle it was
 * made with (for destroy) and the descriptors (for the Get calls, answered
 * here).  Objects over CUDA arrays need arrays, which vgpu does not have:
 * CUDA_ERROR_NOT_SUPPORTED.  Surface objects, which exist only over
 * arrays, likewise (generated stubs).
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/texture.h"

struct tex_rec {
	CUtexObject value;
	struct CUctx_st *ctx;
	uint64_t ctx_id;	/* the context's id then: a context made anew at its address differs */
	uint64_t h;		/* server handle */
	CUDA_RESOURCE_DESC res;
	CUDA_TEXTURE_DESC tex;
	struct tex_rec *next;
};

static pthread_mutex_t tex_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tex_rec *texes;	/* protected by tex_lock */

/*
 * The object of value v, preferring one of context c: values are unique
 * per server, and an application with several servers may hold two alike.
 * Under tex_lock; its link in the list in *link.
 */
static struct tex_rec *find(CUtexObject v, const struct CUctx_st *c, struct tex_rec ***link)
{
	struct tex_rec **p, **any = NULL;

	for (p = &texes; *p; p = &(*p)->next) {
		if ((*p)->value != v)
			continue;
		if ((*p)->ctx == c)
			break;
		if (!any)
			any = p;
	}
	if (!*p)
		p = any;
	if (link)
		*link = p;
	return p ? *p : NULL;
}

/* The request for res and tex, or CUDA_ERROR_NOT_SUPPORTED / INVALID_VALUE. */
static CUresult fill(struct vgpu_tex_req *t, const CUDA_RESOURCE_DESC *res,
		     const CUDA_TEXTURE_DESC *tex, CUdeviceptr *dptr)
{
	memset(t, 0, sizeof(*t));
	switch (res->resType) {
	case CU_RESOURCE_TYPE_LINEAR:
		t->res_type = VGPU_TEX_RES_LINEAR;
		t->format = (uint32_t)res->res.linear.format;
		t->channels = res->res.linear.numChannels;
		t->width = res->res.linear.sizeInBytes;
		*dptr = res->res.linear.devPtr;
		break;
	case CU_RESOURCE_TYPE_PITCH2D:
		t->res_type = VGPU_TEX_RES_PITCH2D;
		t->format = (uint32_t)res->res.pitch2D.format;
		t->channels = res->res.pitch2D.numChannels;
		t->width = res->res.pitch2D.width;
		t->height = res->res.pitch2D.height;
		t->pitch = res->res.pitch2D.pitchInBytes;
		*dptr = res->res.pitch2D.devPtr;
		break;
	case CU_RESOURCE_TYPE_ARRAY:
	case CU_RESOURCE_TYPE_MIPMAPPED_ARRAY:
		return CUDA_ERROR_NOT_SUPPORTED;	/* no CUDA arrays through vgpu */
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	if (res->flags)
		return CUDA_ERROR_INVALID_VALUE;	/* must be zero */
	t->dptr = *dptr;
	for (int i = 0; i < 3; i++)
		t->address_mode[i] = (uint32_t)tex->addressMode[i];
	t->filter_mode = (uint32_t)tex->filterMode;
	t->flags = tex->flags;
	t->max_anisotropy = tex->maxAnisotropy;
	t->mipmap_filter_mode = (uint32_t)tex->mipmapFilterMode;
	t->mipmap_level_bias = tex->mipmapLevelBias;
	t->min_mipmap_level_clamp = tex->minMipmapLevelClamp;
	t->max_mipmap_level_clamp = tex->maxMipmapLevelClamp;
	memcpy(t->border_color, tex->borderColor, sizeof(t->border_color));
	return CUDA_SUCCESS;
}

CUresult cuTexObjectCreate(CUtexObject *out, const CUDA_RESOURCE_DESC *res,
			   const CUDA_TEXTURE_DESC *tex, const CUDA_RESOURCE_VIEW_DESC *view)
{
	uint8_t req[160], buf[16];
	struct vgpu_tex_req t;
	struct tex_rec *rec;
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	CUdeviceptr dptr = 0;
	uint64_t sh = 0, h, value;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	/* a view re-interprets an array: there is none here to view */
	if (!out || !res || !tex || view)
		return CUDA_ERROR_INVALID_VALUE;
	rc = fill(&t, res, tex, &dptr);
	if (!rc)
		rc = vgpu_ctx_current(&c);
	/* made where the memory is, whichever context is current */
	if (!rc)
		rc = vgpu_route_ptr(dptr, &c, &sh);
	if (rc)
		return rc;
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return CUDA_ERROR_OUT_OF_MEMORY;
	t.ctx = c->h;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_tex_req_put(&w, &t);
	rc = vgpu_rpc_buf(vgpu_ctx_tp(c), VGPU_OP_TEX_CREATE, &w, buf, sizeof(buf), &r);
	if (rc) {
		free(rec);
		return rc;
	}
	h = vgpu_get_u64(&r);
	value = vgpu_get_u64(&r);
	if (!vgpu_rbuf_done(&r)) {
		free(rec);
		return CUDA_ERROR_UNKNOWN;
	}
	*rec = (struct tex_rec){ .value = value, .ctx = c, .ctx_id = c->id, .h = h,
				 .res = *res, .tex = *tex };
	pthread_mutex_lock(&tex_lock);
	rec->next = texes;
	texes = rec;
	pthread_mutex_unlock(&tex_lock);
	*out = value;
	return CUDA_SUCCESS;
}

CUresult cuTexObjectDestroy(CUtexObject v)
{
	struct tex_rec *rec, **link;
	struct CUctx_st *cur = NULL;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	vgpu_ctx_current(&cur);
	pthread_mutex_lock(&tex_lock);
	rec = find(v, cur, &link);
	if (rec)
		*link = rec->next;
	pthread_mutex_unlock(&tex_lock);
	if (!rec)
		return CUDA_ERROR_INVALID_VALUE;
	/* a context destroyed since took its objects on the server along */
	if (vgpu_obj_valid(rec->ctx, VGPU_OBJ_CTX) && rec->ctx->id == rec->ctx_id &&
	    rec->ctx->active)
		rc = vgpu_rpc_ctx_handle(VGPU_OP_TEX_DESTROY, rec->ctx, rec->h);
	free(rec);
	return rc;
}

/* Copy what object v was made with into res or tex (whichever is given). */
static CUresult get_desc(CUtexObject v, CUDA_RESOURCE_DESC *res, CUDA_TEXTURE_DESC *tex)
{
	struct CUctx_st *cur = NULL;
	struct tex_rec *rec;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!res && !tex)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_ctx_current(&cur);
	pthread_mutex_lock(&tex_lock);
	rec = find(v, cur, NULL);
	if (rec && res)
		*res = rec->res;
	if (rec && tex)
		*tex = rec->tex;
	pthread_mutex_unlock(&tex_lock);
	return rec ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuTexObjectGetResourceDesc(CUDA_RESOURCE_DESC *res, CUtexObject v)
{
	return res ? get_desc(v, res, NULL) : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuTexObjectGetTextureDesc(CUDA_TEXTURE_DESC *tex, CUtexObject v)
{
	return tex ? get_desc(v, NULL, tex) : CUDA_ERROR_INVALID_VALUE;
}

/* Objects here are never made with a view (only arrays have one): an all-zero view. */
CUresult cuTexObjectGetResourceViewDesc(CUDA_RESOURCE_VIEW_DESC *view, CUtexObject v)
{
	CUDA_TEXTURE_DESC tex;
	CUresult rc;

	if (!view)
		return CUDA_ERROR_INVALID_VALUE;
	rc = get_desc(v, NULL, &tex);
	if (!rc)
		memset(view, 0, sizeof(*view));
	return rc;
}
