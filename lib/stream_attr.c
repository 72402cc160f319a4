// SPDX-License-Identifier: MIT
/*
 * stream_attr.c - stream attributes (cuStreamGet/SetAttribute,
 * cuStreamCopyAttributes) and the context queries that go with them.
 *
 * The attributes a stream takes only tune performance: an L2 access
 * policy window, how a synchronising host thread waits, memory
 * synchronisation domains.  They are recorded per stream (the default
 * stream's in its context) and answered back, not forwarded: the server's
 * streams keep the driver's defaults, so no line is ever made persisting
 * and cuCtxResetPersistingL2Cache has nothing to reset.  A stream's
 * priority is fixed where the server made it: reading it works, changing
 * it is CUDA_ERROR_NOT_SUPPORTED.
 */
#include "lib/driver.h"

#include <string.h>

/*
 * The attributes of stream s (a stream, or its context's default
 * stream's) and its priority; v, the value the call reads or writes, must
 * not be NULL.
 */
static CUresult attrs_of(CUstream s, const void *v, struct vgpu_stream_attrs **a, int *priority)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = vgpu_stream_ctx(s, &c, &sh);

	if (rc)
		return rc;
	*a = sh ? &s->attrs : &c->null_attrs;
	*priority = sh ? s->priority : 0;
	return v ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

static bool policy_ok(CUaccessProperty p)
{
	return p == CU_ACCESS_PROPERTY_NORMAL || p == CU_ACCESS_PROPERTY_STREAMING ||
	       p == CU_ACCESS_PROPERTY_PERSISTING;
}

CUresult cuStreamSetAttribute(CUstream s, CUstreamAttrID id, const CUstreamAttrValue *v)
{
	struct vgpu_stream_attrs *a;
	int priority;
	CUresult rc = attrs_of(s, v, &a, &priority);

	if (rc)
		return rc;
	switch (id) {
	case CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW:
		if (!(v->accessPolicyWindow.hitRatio >= 0.0f &&
		      v->accessPolicyWindow.hitRatio <= 1.0f) ||
		    !policy_ok(v->accessPolicyWindow.hitProp) ||
		    !policy_ok(v->accessPolicyWindow.missProp))
			return CUDA_ERROR_INVALID_VALUE;
		a->apw = v->accessPolicyWindow;
		break;
	case CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY:
		if (v->syncPolicy < CU_SYNC_POLICY_AUTO || v->syncPolicy > CU_SYNC_POLICY_BLOCKING_SYNC)
			return CUDA_ERROR_INVALID_VALUE;
		a->sync = v->syncPolicy;
		break;
	case CU_STREAM_ATTRIBUTE_PRIORITY:
		/* fixed where the server made the stream */
		return v->priority == priority ? CUDA_SUCCESS : CUDA_ERROR_NOT_SUPPORTED;
	case CU_STREAM_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
		a->domain_map = v->memSyncDomainMap;
		break;
	case CU_STREAM_ATTRIBUTE_MEM_SYNC_DOMAIN:
		if (v->memSyncDomain != CU_LAUNCH_MEM_SYNC_DOMAIN_DEFAULT &&
		    v->memSyncDomain != CU_LAUNCH_MEM_SYNC_DOMAIN_REMOTE)
			return CUDA_ERROR_INVALID_VALUE;
		a->domain = v->memSyncDomain;
		break;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	a->set |= 1u << id;
	return CUDA_SUCCESS;
}

CUresult cuStreamGetAttribute(CUstream s, CUstreamAttrID id, CUstreamAttrValue *v)
{
	struct vgpu_stream_attrs *a;
	int priority;
	CUresult rc = attrs_of(s, v, &a, &priority);

	if (rc)
		return rc;
	memset(v, 0, sizeof(*v));
	switch (id) {
	case CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW:
		v->accessPolicyWindow = a->apw;
		break;
	case CU_STREAM_ATTRIBUTE_SYNCHRONIZATION_POLICY:
		v->syncPolicy = a->set & (1u << id) ? a->sync : CU_SYNC_POLICY_AUTO;
		break;
	case CU_STREAM_ATTRIBUTE_PRIORITY:
		v->priority = priority;
		break;
	case CU_STREAM_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
		if (a->set & (1u << id))
			v->memSyncDomainMap = a->domain_map;
		else
			v->memSyncDomainMap.remote = 1;	/* the driver's: default 0, remote 1 */
		break;
	case CU_STREAM_ATTRIBUTE_MEM_SYNC_DOMAIN:
		v->memSyncDomain = a->domain;
		break;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	return CUDA_SUCCESS;
}

CUresult cuStreamCopyAttributes(CUstream dst, CUstream src)
{
	struct vgpu_stream_attrs *d, *s;
	int pd, ps;
	/* no value pointer here: any non-NULL one stands in */
	CUresult rc = attrs_of(dst, "", &d, &pd);

	if (!rc)
		rc = attrs_of(src, "", &s, &ps);
	if (!rc && d != s)
		*d = *s;
	return rc;
}

/* CUDA 12.5's form, which also names the green context: there are none here. */
CUresult cuStreamGetCtx_v2(CUstream s, CUcontext *pctx, CUgreenCtx *pgreen)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = vgpu_stream_ctx(s, &c, &sh);

	if (rc)
		return rc;
	if (!pctx || !pgreen)
		return CUDA_ERROR_INVALID_VALUE;
	*pctx = c;
	*pgreen = NULL;
	return CUDA_SUCCESS;
}

#define PTSZ(name, params, args) \
	CUresult name##_ptsz params; CUresult name##_ptsz params { return name args; }

PTSZ(cuStreamSetAttribute, (CUstream s, CUstreamAttrID id, const CUstreamAttrValue *v),
     (s, id, v))
PTSZ(cuStreamGetAttribute, (CUstream s, CUstreamAttrID id, CUstreamAttrValue *v), (s, id, v))
PTSZ(cuStreamCopyAttributes, (CUstream dst, CUstream src), (dst, src))
PTSZ(cuStreamGetCtx_v2, (CUstream s, CUcontext *pctx, CUgreenCtx *pgreen), (s, pctx, pgreen))

/* No access policy window is forwarded, so no line is ever persisting. */
CUresult cuCtxResetPersistingL2Cache(void)
{
	struct CUctx_st *c;

	return vgpu_ctx_current(&c);
}
