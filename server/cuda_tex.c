// SPDX-License-Identifier: MIT
/*
 * cuda_tex.c - the cuda backend's texture objects: cuTexObjectCreate over
 * device memory the session holds (ops_tex.c checked the request).  The
 * object's value is what kernels take; it is also the backend object.
 */
#include "server/cuda_be.h"

#include <string.h>

CUresult cuda_tex_create(void *be, void *ctx, const struct vgpu_tex_req *t, void **obj,
			 uint64_t *value)
{
	struct cuda_be *b = be;
	CUDA_RESOURCE_DESC res;
	CUDA_TEXTURE_DESC tex;
	CUtexObject o = 0;
	CUresult rc;

	if (!b->f.TexObjectCreate || !b->f.TexObjectDestroy)
		return CUDA_ERROR_NOT_SUPPORTED;
	memset(&res, 0, sizeof(res));
	memset(&tex, 0, sizeof(tex));
	res.resType = (CUresourcetype)t->res_type;
	if (t->res_type == VGPU_TEX_RES_LINEAR) {
		res.res.linear.devPtr = t->dptr;
		res.res.linear.format = (CUarray_format)t->format;
		res.res.linear.numChannels = t->channels;
		res.res.linear.sizeInBytes = t->width;
	} else {
		res.res.pitch2D.devPtr = t->dptr;
		res.res.pitch2D.format = (CUarray_format)t->format;
		res.res.pitch2D.numChannels = t->channels;
		res.res.pitch2D.width = t->width;
		res.res.pitch2D.height = t->height;
		res.res.pitch2D.pitchInBytes = t->pitch;
	}
	for (int i = 0; i < 3; i++)
		tex.addressMode[i] = (CUaddress_mode)t->address_mode[i];
	tex.filterMode = (CUfilter_mode)t->filter_mode;
	tex.flags = t->flags;
	tex.maxAnisotropy = t->max_anisotropy;
	tex.mipmapFilterMode = (CUfilter_mode)t->mipmap_filter_mode;
	tex.mipmapLevelBias = t->mipmap_level_bias;
	tex.minMipmapLevelClamp = t->min_mipmap_level_clamp;
	tex.maxMipmapLevelClamp = t->max_mipmap_level_clamp;
	memcpy(tex.borderColor, t->border_color, sizeof(tex.borderColor));
	USE(b, ctx);
	rc = b->f.TexObjectCreate(&o, &res, &tex, NULL);
	if (rc)
		return rc;
	*obj = (void *)(uintptr_t)o;
	*value = o;
	return CUDA_SUCCESS;
}

CUresult cuda_tex_destroy(void *be, void *ctx, void *obj)
{
	struct cuda_be *b = be;

	return b->f.TexObjectDestroy((CUtexObject)(uintptr_t)obj);
}
