// SPDX-License-Identifier: MIT
/* texture_wire.c - TEX_CREATE's request on the wire (common/texture.h). */
#include "common/texture.h"

#include <errno.h>

void vgpu_tex_req_put(struct vgpu_wbuf *w, const struct vgpu_tex_req *t)
{
	vgpu_put_u64(w, t->ctx);
	vgpu_put_u32(w, t->res_type);
	vgpu_put_u32(w, t->format);
	vgpu_put_u32(w, t->channels);
	vgpu_put_u32(w, t->reserved);
	vgpu_put_u64(w, t->dptr);
	vgpu_put_u64(w, t->width);
	vgpu_put_u64(w, t->height);
	vgpu_put_u64(w, t->pitch);
	for (int i = 0; i < 3; i++)
		vgpu_put_u32(w, t->address_mode[i]);
	vgpu_put_u32(w, t->filter_mode);
	vgpu_put_u32(w, t->flags);
	vgpu_put_u32(w, t->max_anisotropy);
	vgpu_put_u32(w, t->mipmap_filter_mode);
	vgpu_put_f32(w, t->mipmap_level_bias);
	vgpu_put_f32(w, t->min_mipmap_level_clamp);
	vgpu_put_f32(w, t->max_mipmap_level_clamp);
	for (int i = 0; i < 4; i++)
		vgpu_put_f32(w, t->border_color[i]);
}

int vgpu_tex_req_get(struct vgpu_rbuf *r, struct vgpu_tex_req *t)
{
	t->ctx = vgpu_get_u64(r);
	t->res_type = vgpu_get_u32(r);
	t->format = vgpu_get_u32(r);
	t->channels = vgpu_get_u32(r);
	t->reserved = vgpu_get_u32(r);
	t->dptr = vgpu_get_u64(r);
	t->width = vgpu_get_u64(r);
	t->height = vgpu_get_u64(r);
	t->pitch = vgpu_get_u64(r);
	for (int i = 0; i < 3; i++)
		t->address_mode[i] = vgpu_get_u32(r);
	t->filter_mode = vgpu_get_u32(r);
	t->flags = vgpu_get_u32(r);
	t->max_anisotropy = vgpu_get_u32(r);
	t->mipmap_filter_mode = vgpu_get_u32(r);
	t->mipmap_level_bias = vgpu_get_f32(r);
	t->min_mipmap_level_clamp = vgpu_get_f32(r);
	t->max_mipmap_level_clamp = vgpu_get_f32(r);
	for (int i = 0; i < 4; i++)
		t->border_color[i] = vgpu_get_f32(r);
	return vgpu_rbuf_done(r) ? 0 : -EPROTO;
}
