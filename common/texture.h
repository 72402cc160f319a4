/* SPDX-License-Identifier: MIT */
/*
 * texture.h - TEX_CREATE's request (docs/PROTOCOL.md): a texture object
 * over device memory, as cuTexObjectCreate takes it (a linear or pitched
 * 2D resource and its sampling), in wire order.  Shared by lib/ (encodes)
 * and the server (decodes, checks); no cuda.h here, the values are the
 * driver API's.
 */
#ifndef VGPU_COMMON_TEXTURE_H
#define VGPU_COMMON_TEXTURE_H

#include <stdint.h>

#include "common/proto.h"

/* CUresourcetype values a texture over device memory may have */
#define VGPU_TEX_RES_LINEAR	2u
#define VGPU_TEX_RES_PITCH2D	3u

struct vgpu_tex_req {
	uint64_t ctx;
	uint32_t res_type;	/* VGPU_TEX_RES_* */
	uint32_t format;	/* CUarray_format */
	uint32_t channels;	/* 1, 2 or 4 */
	uint32_t reserved;	/* 0 */
	uint64_t dptr;
	uint64_t width;		/* LINEAR: bytes; PITCH2D: elements per row */
	uint64_t height;	/* PITCH2D: rows; LINEAR: 0 */
	uint64_t pitch;		/* PITCH2D: bytes per row; LINEAR: 0 */
	uint32_t address_mode[3];	/* CUaddress_mode */
	uint32_t filter_mode;		/* CUfilter_mode */
	uint32_t flags;			/* CU_TRSF_* */
	uint32_t max_anisotropy;
	uint32_t mipmap_filter_mode;
	float mipmap_level_bias, min_mipmap_level_clamp, max_mipmap_level_clamp;
	float border_color[4];
};

void vgpu_tex_req_put(struct vgpu_wbuf *w, const struct vgpu_tex_req *t);
/* 0, or -EPROTO when r does not hold exactly one request */
int vgpu_tex_req_get(struct vgpu_rbuf *r, struct vgpu_tex_req *t);

#endif
