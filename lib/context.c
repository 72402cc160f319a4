// SPDX-License-Identifier: MIT
/*
 * context.c - contexts: created and destroyed on the server (CTX_CREATE /
 * CTX_DESTROY), made current per thread here.
 *
 * Each thread has its own context stack; the top is the current context.
 * A device's primary context is reference counted (Retain/Release) and is
 * destroyed on the server when the count drops to zero or on a reset; its
 * handle, as in the real driver, stays the same for the life of the
 * process (the CUDA runtime keeps it across cudaDeviceReset): it is only
 * marked inactive, and the next retain makes it live again.  Destroying a
 * context frees, here, the modules, functions, streams and events that
 * lived in it; the server frees its side itself.
 *
 * primary_lock (recursive) serialises the primary contexts' transitions,
 * and is held while context-local storage destructors run: they may call
 * back into retain and release on the same thread.
 */
#include "lib/driver.h"
#include "lib/export.h"

#include <stdlib.h>

#define CTX_STACK_MAX	64

static uint64_t ctx_ids;	/* last context id handed out */
static pthread_mutex_t primary_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static __thread struct {
	struct CUctx_st *stack[CTX_STACK_MAX];
	int depth;
} tls;

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);
CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params, int nparams,
			unsigned int flags, CUdevice dev);

CUresult vgpu_ctx_current(struct CUctx_st **ctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!tls.depth || !vgpu_obj_valid(tls.stack[tls.depth - 1], VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	*ctx = tls.stack[tls.depth - 1];
	return (*ctx)->active ? CUDA_SUCCESS : CUDA_ERROR_CONTEXT_IS_DESTROYED;
}

CUresult vgpu_ctx_arg(CUcontext c, struct CUctx_st **ctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!c)
		return vgpu_ctx_current(ctx);
	if (!vgpu_obj_valid(c, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	*ctx = c;
	return c->active ? CUDA_SUCCESS : CUDA_ERROR_CONTEXT_IS_DESTROYED;
}

/* CTX_CREATE: the server's handle of a new context. */
static CUresult server_create(CUdevice dev, unsigned int flags, uint64_t *h)
{
	struct vgpu_wbuf w;
	uint8_t req[8];

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(dev));
	vgpu_put_u32(&w, flags);
	return vgpu_rpc_u64(vgpu_dev_tp(dev), VGPU_OP_CTX_CREATE, &w, h);
}

static CUresult server_destroy(CUdevice dev, uint64_t h)
{
	struct vgpu_wbuf w;
	uint8_t req[8];

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, h);
	return vgpu_rpc_void(vgpu_dev_tp(dev), VGPU_OP_CTX_DESTROY, &w);
}

static CUresult ctx_new(CUdevice dev, unsigned int flags, bool primary, struct CUctx_st **out)
{
	struct CUctx_st *c;
	uint64_t h;
	CUresult rc = server_create(dev, flags, &h);

	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->o.type = VGPU_OBJ_CTX;
		c->h = h;
		c->dev = dev;
		c->flags = flags;
		c->primary = primary;
		c->active = true;
		c->id = __atomic_add_fetch(&ctx_ids, 1, __ATOMIC_RELAXED);
	}
	if (!c || vgpu_obj_register(&c->o) < 0) {
		free(c);
		server_destroy(dev, h);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*out = c;
	return CUDA_SUCCESS;
}

/*
 * The end of a context's contents: context-local storage destructors first,
 * while the context still works; then the server side, and here everything
 * that lived in it.  The caller unregisters (or deactivates) it.
 */
static CUresult ctx_teardown(struct CUctx_st *c, bool primary)
{
	CUresult rc;
	int j = 0;

	vgpu_cls_release(c);
	if (primary)
		c->active = false;
	else
		vgpu_obj_unregister(&c->o);
	rc = server_destroy(c->dev, c->h);
	vgpu_obj_sweep(c, vgpu_obj_free);
	vgpu_range_drop_ctx(&vgpu_dev_ranges, c);
	/* drop it from this thread's stack; other threads find it invalid (or inactive) */
	for (int i = 0; i < tls.depth; i++)
		if (tls.stack[i] != c)
			tls.stack[j++] = tls.stack[i];
	tls.depth = j;
	return rc;
}

static CUresult ctx_free(struct CUctx_st *c)
{
	CUresult rc = ctx_teardown(c, false);

	vgpu_obj_free(&c->o);
	return rc;
}

/* A primary context made live again: a new server context behind the same handle. */
static CUresult ctx_reactivate(struct CUctx_st *c, unsigned int flags)
{
	CUresult rc = server_create(c->dev, flags, &c->h);

	if (rc)
		return rc;
	c->flags = flags;
	c->id = __atomic_add_fetch(&ctx_ids, 1, __ATOMIC_RELAXED);	/* a new context */
	c->limit_set = 0;
	c->cache_config = CU_FUNC_CACHE_PREFER_NONE;
	c->active = true;
	return CUDA_SUCCESS;
}

static CUresult push(struct CUctx_st *c)
{
	if (tls.depth == CTX_STACK_MAX)
		return CUDA_ERROR_OUT_OF_MEMORY;
	tls.stack[tls.depth++] = c;
	return CUDA_SUCCESS;
}

CUresult cuCtxCreate_v4(CUcontext *pctx, CUctxCreateParams *params, unsigned int flags,
			CUdevice dev)
{
	struct CUctx_st *c;
	CUresult rc;

	if (!vgpu_device(dev, &rc))
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	if (params && (params->numExecAffinityParams || params->cigParams))
		return CUDA_ERROR_NOT_SUPPORTED;
	rc = ctx_new(dev, flags, false, &c);
	if (rc)
		return rc;
	rc = push(c);
	if (rc) {
		ctx_free(c);
		return rc;
	}
	*pctx = c;
	return CUDA_SUCCESS;
}

CUresult cuCtxCreate_v3(CUcontext *pctx, CUexecAffinityParam *params, int nparams,
			unsigned int flags, CUdevice dev)
{
	if (nparams > 0)
		return CUDA_ERROR_NOT_SUPPORTED;
	return cuCtxCreate_v4(pctx, NULL, flags, dev);
}

CUresult cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev)
{
	return cuCtxCreate_v4(pctx, NULL, flags, dev);
}

CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_obj_valid(ctx, VGPU_OBJ_CTX) || ctx->primary)
		return CUDA_ERROR_INVALID_CONTEXT;
	return ctx_free(ctx);
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = tls.depth ? tls.stack[tls.depth - 1] : NULL;
	return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!ctx) {
		if (tls.depth)
			tls.depth--;
		return CUDA_SUCCESS;
	}
	if (!vgpu_obj_valid(ctx, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	if (!tls.depth)
		return push(ctx);
	tls.stack[tls.depth - 1] = ctx;
	return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent_v2(CUcontext ctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_obj_valid(ctx, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	return push(ctx);
}

CUresult cuCtxPopCurrent_v2(CUcontext *pctx)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!tls.depth)
		return CUDA_ERROR_INVALID_CONTEXT;
	tls.depth--;
	if (pctx)
		*pctx = tls.stack[tls.depth];
	return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext ctx)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_arg(ctx, &c);

	if (rc)
		return rc;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	*device = c->dev;
	return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
	return cuCtxGetDevice_v2(device, NULL);
}

CUresult cuCtxSynchronize_v2(CUcontext ctx)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	uint8_t req[8];
	CUresult rc = vgpu_ctx_arg(ctx, &c);

	if (rc)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	return vgpu_rpc_void(vgpu_ctx_tp(c), VGPU_OP_CTX_SYNC, &w);
}

CUresult cuCtxSynchronize(void)
{
	return cuCtxSynchronize_v2(NULL);
}

/* ---- primary contexts -------------------------------------------------- */

CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!pctx)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&primary_lock);
	if (!d->primary)
		rc = ctx_new(dev, d->primary_flags, true, &d->primary);
	else if (!d->primary->active)
		rc = ctx_reactivate(d->primary, d->primary_flags);
	if (!rc) {
		d->primary_refs++;
		*pctx = d->primary;
	}
	pthread_mutex_unlock(&primary_lock);
	return rc;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	pthread_mutex_lock(&primary_lock);
	if (!d->primary_refs)
		rc = CUDA_ERROR_INVALID_CONTEXT;
	else if (!--d->primary_refs)
		rc = ctx_teardown(d->primary, true);
	pthread_mutex_unlock(&primary_lock);
	return rc;
}

CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int *flags, int *active)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!flags || !active)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&primary_lock);
	*flags = d->primary_flags;
	*active = d->primary && d->primary->active;
	pthread_mutex_unlock(&primary_lock);
	return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	pthread_mutex_lock(&primary_lock);
	d->primary_flags = flags;	/* takes effect at the next creation */
	pthread_mutex_unlock(&primary_lock);
	return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	pthread_mutex_lock(&primary_lock);
	if (d->primary && d->primary->active)
		rc = ctx_teardown(d->primary, true);
	d->primary_refs = 0;
	pthread_mutex_unlock(&primary_lock);
	return rc;
}
