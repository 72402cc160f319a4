// SPDX-License-Identifier: MIT
/*
 * cuda_ctx.c - the cuda backend's contexts (CTX_CREATE, CTX_DESTROY,
 * CTX_SYNC): the device's primary context, or under --spatial the session's
 * one context limited to its partition's share of the SMs.
 */
#include "server/cuda_be.h"

/*
 * Spatial sharing (vgpu-server --spatial, under NVIDIA's MPS): a partition's
 * session gets a context of its own limited to its share of the SMs, so
 * tenants run side by side instead of taking turns.  The driver offers
 * that only to MPS clients (cuDeviceGetExecAffinitySupport says so).
 */
CUresult cuda_compute_limit(void *be, int ordinal, uint32_t share)
{
	struct cuda_be *b = be;
	CUdevice dev;
	int ok = 0;

	if (!share || share >= 100)
		return CUDA_SUCCESS;
	if (!b->f.CtxCreateParams || !b->f.CtxDestroy || !b->f.CtxPopCurrent ||
	    !b->f.DeviceGetExecAffinitySupport)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (b->f.DeviceGet(&dev, ordinal) ||
	    b->f.DeviceGetExecAffinitySupport(&ok, CU_EXEC_AFFINITY_TYPE_SM_COUNT, dev) || !ok)
		return CUDA_ERROR_NOT_SUPPORTED;
	b->sm_share = share;
	return CUDA_SUCCESS;
}

/*
 * One SM-limited context per session, shared by all the contexts it makes
 * (as the primary context is): the SM count holds per context, so a
 * session making several would otherwise get its share several times.
 */
static CUresult ctx_create_sm_share(struct cuda_be *b, struct cuda_ctx *c)
{
	CUexecAffinityParam p = { .type = CU_EXEC_AFFINITY_TYPE_SM_COUNT };
	CUctxCreateParams cp = { .execAffinityParams = &p, .numExecAffinityParams = 1 };
	CUcontext popped;
	int sms = 0;
	CUresult rc;

	if (!b->sm_ctx) {
		rc = b->f.DeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
					     c->dev);
		if (rc)
			return rc;
		/* rounded up, at least one: the driver rounds to what the GPU can split */
		p.param.smCount.val = (sms * b->sm_share + 99) / 100;
		if (!p.param.smCount.val)
			p.param.smCount.val = 1;
		rc = b->f.CtxCreateParams(&b->sm_ctx, &cp, 0, c->dev);
		if (rc)
			return rc;
		/* creating pushed it; contexts are made current with cuCtxSetCurrent */
		b->f.CtxPopCurrent(&popped);
		b->current = NULL;
	}
	b->sm_refs++;
	c->c = b->sm_ctx;
	c->own = true;
	return CUDA_SUCCESS;
}

CUresult cuda_ctx_create(void *be, int ordinal, unsigned int flags, void **ctx)
{
	struct cuda_be *b = be;
	struct cuda_ctx *c = calloc(1, sizeof(*c));
	CUresult rc;

	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = b->f.DeviceGet(&c->dev, ordinal);
	if (rc == CUDA_SUCCESS && b->sm_share)
		rc = ctx_create_sm_share(b, c);
	else if (rc == CUDA_SUCCESS)
		rc = b->f.PrimaryCtxRetain(&c->c, c->dev);
	if (rc) {
		free(c);
		return rc;
	}
	*ctx = c;
	return cuda_use(b, c);
}

CUresult cuda_ctx_destroy(void *be, void *ctx)
{
	struct cuda_be *b = be;
	struct cuda_ctx *c = ctx;
	CUresult rc;

	/* its timing events die with the context: collect and destroy them first */
	cuda_timing_drop(b, c);
	if (b->current == c->c) {
		b->f.CtxSetCurrent(NULL);
		b->current = NULL;
	}
	rc = CUDA_SUCCESS;	/* a shared SM-limited context another one still uses */
	if (!c->own)
		rc = b->f.PrimaryCtxRelease(c->dev);
	else if (!--b->sm_refs)
		rc = b->f.CtxDestroy(b->sm_ctx);
	if (c->own && !b->sm_refs)
		b->sm_ctx = NULL;
	free(c);
	return rc;
}

CUresult cuda_ctx_sync(void *be, void *ctx)
{
	struct cuda_be *b = be;

	USE(b, ctx);
	return b->f.CtxSynchronize();
}
