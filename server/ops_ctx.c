// SPDX-License-Identifier: MIT
/* ops_ctx.c - device queries, contexts and SERVER_STATS. */
#include "server/session_int.h"

#include <stdlib.h>

int op_device_count(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	REQ_DONE(r);
	vgpu_put_u32(w, s->dev_count);
	return CUDA_SUCCESS;
}

int op_device_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t ordinal = vgpu_get_u32(r);
	struct vgpu_device_info *di;
	int dev;
	CUresult rc;

	REQ_DONE(r);
	dev = sess_ordinal(s, ordinal);
	if (dev < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	di = calloc(1, sizeof(*di));
	if (!di)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = s->ops->device_info(s->be, dev, di);
	if (rc == CUDA_SUCCESS) {
		di->name[sizeof(di->name) - 1] = '\0';
		vgpu_put_str(w, di->name);
		vgpu_put_bytes(w, di->uuid, sizeof(di->uuid));
		/* an attached session's device is as large as its partition */
		vgpu_put_u64(w, sess_part_total(s, dev, di->total_mem));
		vgpu_put_u32(w, di->driver_version);
		vgpu_put_u32(w, VGPU_DEV_NATTR);
		for (unsigned int i = 0; i < VGPU_DEV_NATTR; i++)
			vgpu_put_i32(w, di->attr[i]);
	}
	free(di);
	return rc;
}

int op_ctx_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t ordinal = vgpu_get_u32(r);
	uint32_t flags = vgpu_get_u32(r);
	void *ctx;
	uint64_t id;
	int dev;
	CUresult rc;

	REQ_DONE(r);
	dev = sess_ordinal(s, ordinal);
	if (dev < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	rc = s->ops->ctx_create(s->be, dev, flags, &ctx);
	if (rc)
		return rc;
	id = vgpu_handle_new(&s->h, VGPU_H_CTX, ctx, 0);
	if (!id) {
		s->ops->ctx_destroy(s->be, ctx);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	vgpu_put_u64(w, id);
	s->ctx_made = true;	/* PARTITION_ATTACH is refused from now on */
	return CUDA_SUCCESS;
}

int op_ctx_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);

	REQ_DONE(r);
	if (!sess_ctx(s, ctx))
		return CUDA_ERROR_INVALID_HANDLE;
	sess_destroy_ctx(s, ctx);
	return CUDA_SUCCESS;
}

int op_ctx_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	void *c;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	return s->ops->ctx_sync(s->be, c);
}

int op_server_stats(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t sessions;
	uint64_t bytes, allocs;

	REQ_DONE(r);
	sess_stats(s, &sessions, &bytes, &allocs);
	vgpu_put_u32(w, sessions);
	vgpu_put_u64(w, bytes);
	vgpu_put_u64(w, allocs);
	return CUDA_SUCCESS;
}
