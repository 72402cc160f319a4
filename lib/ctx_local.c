// SPDX-License-Identifier: MIT
/*
 * ctx_local.c - context-local storage: (key -> value, destructor) pairs a
 * CUDA runtime hangs on each context it uses (export table c693336e...).
 * The runtime keeps its per-context state there; when the context is
 * destroyed (primary context released or reset, cuCtxDestroy) each
 * destructor runs, with the context still usable, so the runtime can free
 * what it held in it.
 */
#include "lib/driver.h"
#include "lib/export.h"

#include <stdlib.h>

struct vgpu_cls_entry {
	struct vgpu_cls_entry *next;
	void *key;
	void *value;
	vgpu_cls_dtor dtor;
};

/* protects every context's cls list */
static pthread_mutex_t cls_lock = PTHREAD_MUTEX_INITIALIZER;

static struct vgpu_cls_entry **find(struct CUctx_st *c, void *key)
{
	struct vgpu_cls_entry **pe = &c->cls;

	while (*pe && (*pe)->key != key)
		pe = &(*pe)->next;
	return pe;
}

/* Locks the storage and finds @key's slot in the context's list; the caller unlocks. */
static CUresult cls_slot(CUcontext ctx, void *key, struct vgpu_cls_entry ***pe)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_arg(ctx, &c);

	if (rc)
		return rc;
	pthread_mutex_lock(&cls_lock);
	*pe = find(c, key);
	return CUDA_SUCCESS;
}

CUresult vgpu_cls_put(CUcontext ctx, void *key, void *value, vgpu_cls_dtor dtor)
{
	struct vgpu_cls_entry **pe, *e;
	CUresult rc = cls_slot(ctx, key, &pe);

	if (rc)
		return rc;
	e = *pe;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->key = key;
			*pe = e;
		}
	}
	if (e) {
		e->value = value;
		e->dtor = dtor;
	}
	pthread_mutex_unlock(&cls_lock);
	return e ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult vgpu_cls_delete(CUcontext ctx, void *key)
{
	struct vgpu_cls_entry **pe, *e;
	CUresult rc = cls_slot(ctx, key, &pe);

	if (rc)
		return rc;
	e = *pe;
	if (e)
		*pe = e->next;
	pthread_mutex_unlock(&cls_lock);
	free(e);
	return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult vgpu_cls_get(void **value, CUcontext ctx, void *key)
{
	struct vgpu_cls_entry *e;
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_arg(ctx, &c);

	if (rc)
		return rc;
	if (!value)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&cls_lock);
	e = *find(c, key);
	if (e)
		*value = e->value;
	pthread_mutex_unlock(&cls_lock);
	return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

void vgpu_cls_release(CUcontext c)
{
	struct vgpu_cls_entry *e;

	/* one at a time, unlocked: a destructor may use the storage itself */
	for (;;) {
		pthread_mutex_lock(&cls_lock);
		e = c->cls;
		if (e)
			c->cls = e->next;
		pthread_mutex_unlock(&cls_lock);
		if (!e)
			return;
		if (e->dtor)
			e->dtor(c, e->key, e->value);
		free(e);
	}
}
