// SPDX-License-Identifier: MIT
/*
 * ops_func.c - questions about a kernel function and what it may use:
 * attributes (get and set) and the occupancy queries.  The request always
 * starts {u64 ctx, u64 func}; the backend answers.
 */
#include "server/session_int.h"

/*
 * After the whole request is read: the backend's context and function of
 * its {ctx, func} pair; -EPROTO for a malformed request.
 */
static int func_of(struct session *s, struct vgpu_rbuf *r, uint64_t ctx, uint64_t func,
		   void **c, void **f)
{
	struct vgpu_handle *h;

	REQ_DONE(r);
	h = vgpu_handle_get(&s->h, func, VGPU_H_FUNC);
	*c = sess_ctx(s, ctx);
	*f = *c && h ? h->obj : NULL;
	return *f ? 0 : CUDA_ERROR_INVALID_HANDLE;
}

static bool attrib_ok(int32_t attrib)
{
	return attrib >= 0 && attrib < CU_FUNC_ATTRIBUTE_MAX;
}

int op_func_get_attribute(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	int32_t attrib = vgpu_get_i32(r);
	void *c, *f;
	int value = 0;
	int rc;

	rc = func_of(s, r, ctx, func, &c, &f);
	if (rc)
		return rc;
	if (!attrib_ok(attrib))
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->func_get_attribute(s->be, c, f, attrib, &value);
	if (rc == CUDA_SUCCESS)
		vgpu_put_i32(w, value);
	return rc;
}

int op_func_set_attribute(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	int32_t attrib = vgpu_get_i32(r);
	int32_t value = vgpu_get_i32(r);
	void *c, *f;
	int rc;

	rc = func_of(s, r, ctx, func, &c, &f);
	if (rc)
		return rc;
	if (!attrib_ok(attrib))
		return CUDA_ERROR_INVALID_VALUE;
	return s->ops->func_set_attribute(s->be, c, f, attrib, value);
}

int op_occupancy_blocks(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	int32_t block_size = vgpu_get_i32(r);
	uint64_t dyn_smem = vgpu_get_u64(r);
	uint32_t flags = vgpu_get_u32(r);
	void *c, *f;
	int blocks = 0;
	int rc;

	rc = func_of(s, r, ctx, func, &c, &f);
	if (rc)
		return rc;
	if (block_size <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->occupancy_blocks(s->be, c, f, block_size, dyn_smem, flags, &blocks);
	if (rc == CUDA_SUCCESS)
		vgpu_put_i32(w, blocks);
	return rc;
}

int op_occupancy_clusters(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	uint32_t query = vgpu_get_u32(r);
	unsigned int grid[3], block[3], cluster[3], smem;
	uint64_t threads = 1;
	void *c, *f;
	int value = 0, rc;

	for (int i = 0; i < 3; i++)
		grid[i] = vgpu_get_u32(r);
	for (int i = 0; i < 3; i++)
		block[i] = vgpu_get_u32(r);
	smem = vgpu_get_u32(r);
	for (int i = 0; i < 3; i++)
		cluster[i] = vgpu_get_u32(r);
	rc = vgpu_get_u32(r) ? CUDA_ERROR_INVALID_VALUE : 0;	/* reserved */
	if (!rc)
		rc = func_of(s, r, ctx, func, &c, &f);
	if (rc)
		return rc;
	for (int i = 0; i < 3; i++)
		threads *= block[i];
	if (query > 1 || !threads || threads > 1024 || !grid[0] || !grid[1] || !grid[2])
		return CUDA_ERROR_INVALID_VALUE;
	/* a cluster is all three dimensions or none */
	if ((cluster[0] || cluster[1] || cluster[2]) && (!cluster[0] || !cluster[1] || !cluster[2]))
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->occupancy_clusters(s->be, c, f, query, grid, block, smem, cluster, &value);
	if (rc == CUDA_SUCCESS)
		vgpu_put_i32(w, value);
	return rc;
}

int op_occupancy_dyn_smem(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t func = vgpu_get_u64(r);
	int32_t blocks = vgpu_get_i32(r);
	int32_t block_size = vgpu_get_i32(r);
	void *c, *f;
	uint64_t bytes = 0;
	int rc;

	rc = func_of(s, r, ctx, func, &c, &f);
	if (rc)
		return rc;
	if (blocks <= 0 || block_size <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->occupancy_dyn_smem(s->be, c, f, blocks, block_size, &bytes);
	if (rc == CUDA_SUCCESS)
		vgpu_put_u64(w, bytes);
	return rc;
}
