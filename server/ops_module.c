// SPDX-License-Identifier: MIT
/* ops_module.c - modules, functions, globals and kernel launches. */
#include "server/session_int.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN	4095	/* PROTOCOL.md: str name (<= 4095) */

static CUresult load(struct session *s, struct vgpu_wbuf *w, uint64_t ctx, const void *image,
		     size_t n)
{
	void *c = sess_ctx(s, ctx), *mod;
	CUresult rc;

	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	if (!n)
		return CUDA_ERROR_INVALID_IMAGE;
	rc = s->ops->module_load(s->be, c, image, n, &mod);
	if (rc)
		return rc;
	return sess_reply_new_handle(s, w, VGPU_H_MODULE, mod, ctx, c, s->ops->module_unload);
}

int op_module_load(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	size_t n;
	const void *image = vgpu_get_bytes(r, &n);

	REQ_DONE(r);
	return load(s, w, ctx, image, n);
}

void sess_stage_drop(struct session *s)
{
	free(s->stage);
	s->stage = NULL;
	s->stage_total = s->stage_have = 0;
}

/*
 * IMAGE_CHUNK: u64 total, u64 offset, bytes data.  Offset 0 starts a new
 * image of total bytes (any unfinished one is dropped); the rest must
 * follow in order.  A piece out of order or past the end drops the image.
 */
int op_image_chunk(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t total = vgpu_get_u64(r);
	uint64_t off = vgpu_get_u64(r);
	size_t n;
	const void *data = vgpu_get_bytes(r, &n);

	REQ_DONE(r);
	if (!off) {
		sess_stage_drop(s);
		if (!total || total > VGPU_IMAGE_MAX)
			return CUDA_ERROR_INVALID_VALUE;
		s->stage = malloc(total);
		if (!s->stage)
			return CUDA_ERROR_OUT_OF_MEMORY;
		s->stage_total = total;
	}
	if (!s->stage || total != s->stage_total || off != s->stage_have || !n ||
	    n > total - off) {
		sess_stage_drop(s);
		return CUDA_ERROR_INVALID_VALUE;
	}
	memcpy(s->stage + off, data, n);
	s->stage_have += n;
	return CUDA_SUCCESS;
}

/* MODULE_LOAD_STAGED: u64 ctx -> u64 module.  The staged image, complete, is used once. */
int op_module_load_staged(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	CUresult rc;

	REQ_DONE(r);
	if (!s->stage || s->stage_have != s->stage_total)
		rc = CUDA_ERROR_INVALID_IMAGE;
	else
		rc = load(s, w, ctx, s->stage, s->stage_total);
	sess_stage_drop(s);
	return rc;
}

int op_module_unload(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t mod = vgpu_get_u64(r);

	REQ_DONE(r);
	if (!sess_ctx(s, ctx) || !vgpu_handle_get(&s->h, mod, VGPU_H_MODULE))
		return CUDA_ERROR_INVALID_HANDLE;
	sess_destroy_module(s, mod);
	return CUDA_SUCCESS;
}

int op_module_get_function(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	char name[NAME_MAX_LEN + 1];
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t mod = vgpu_get_u64(r);
	struct vgpu_param_layout lay = { 0 };
	struct vgpu_handle *m;
	void *c, *fn;
	uint64_t id;
	CUresult rc;

	vgpu_get_str(r, name, sizeof(name));
	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	m = vgpu_handle_get(&s->h, mod, VGPU_H_MODULE);
	if (!c || !m)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->module_get_function(s->be, c, m->obj, name, &fn, &lay);
	if (rc) {
		free(lay.p);
		return rc;
	}
	id = vgpu_handle_new(&s->h, VGPU_H_FUNC, fn, mod);
	if (!id) {
		free(lay.p);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	/* LAUNCH checks its params buffer against this size */
	vgpu_handle_get(&s->h, id, VGPU_H_FUNC)->aux = lay.buf_size;
	vgpu_put_u64(w, id);
	vgpu_put_u32(w, lay.n);
	for (uint32_t i = 0; i < lay.n; i++) {
		vgpu_put_u32(w, lay.p[i].offset);
		vgpu_put_u32(w, lay.p[i].size);
	}
	free(lay.p);
	return CUDA_SUCCESS;
}

int op_module_get_global(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	char name[NAME_MAX_LEN + 1];
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t mod = vgpu_get_u64(r);
	uint64_t dptr = 0, size = 0;
	struct vgpu_handle *m;
	void *c;
	CUresult rc;

	vgpu_get_str(r, name, sizeof(name));
	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	m = vgpu_handle_get(&s->h, mod, VGPU_H_MODULE);
	if (!c || !m)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->module_get_global(s->be, c, m->obj, name, &dptr, &size);
	if (rc == CUDA_SUCCESS) {
		vgpu_put_u64(w, dptr);
		vgpu_put_u64(w, size);
	}
	return rc;
}

int op_launch(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	uint32_t grid[3], block[3], shared, flags, cluster[3] = { 1, 1, 1 };
	uint64_t stream;
	const void *params;
	size_t plen;
	struct vgpu_handle *f;
	void *c, *st;

	for (int i = 0; i < 3; i++)
		grid[i] = vgpu_get_u32(r);
	for (int i = 0; i < 3; i++)
		block[i] = vgpu_get_u32(r);
	shared = vgpu_get_u32(r);
	flags = vgpu_get_u32(r);
	/* before the rest is parsed: a flag this server lacks may bring data it cannot read */
	if (flags & ~VGPU_LAUNCH_F_ALL)
		return CUDA_ERROR_NOT_SUPPORTED;
	stream = vgpu_get_u64(r);
	params = vgpu_get_bytes(r, &plen);
	if (flags & VGPU_LAUNCH_F_CLUSTER)
		for (int i = 0; i < 3; i++)
			cluster[i] = vgpu_get_u32(r);
	REQ_DONE(r);
	/*
	 * 1 to 1024 threads (every GPU's limit; in 64 bits, no wrap) and a grid
	 * of whole clusters; the driver checks the rest (sizes, the GPU's limits)
	 */
	if (!block[0] || (uint64_t)block[0] * block[1] * block[2] - 1 >= 1024)
		return CUDA_ERROR_INVALID_VALUE;
	for (int i = 0; i < 3; i++)
		if (!cluster[i] || !grid[i] || grid[i] % cluster[i])
			return CUDA_ERROR_INVALID_VALUE;
	c = sess_ctx(s, ctx);
	f = vgpu_handle_get(&s->h, func, VGPU_H_FUNC);
	if (!c || !f || !sess_stream(s, stream, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	/* the buffer must be exactly the layout GET_FUNCTION returned */
	if (plen != f->aux)
		return CUDA_ERROR_INVALID_VALUE;
	if (flags && !s->ops->launch_ex)
		return CUDA_ERROR_NOT_SUPPORTED;
	/* a partition over its compute share waits here (sched.c) */
	sess_sched_launch(s);
	if (flags)
		return s->ops->launch_ex(s->be, c, f->obj, grid, block, shared, st,
					 plen ? params : NULL, plen, flags, cluster);
	return s->ops->launch(s->be, c, f->obj, grid, block, shared, st, plen ? params : NULL,
			      plen);
}
