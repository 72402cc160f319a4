// SPDX-License-Identifier: MIT
/*
 * stream.c - streams and events.  Both live in the context that was
 * current when they were made and carry it, so they can be synchronised or
 * destroyed from any thread.  The NULL stream and the special handles
 * CU_STREAM_LEGACY / CU_STREAM_PER_THREAD are the server's default stream 0.
 */
#include "lib/driver.h"
#include "lib/graph.h"

#include <stdlib.h>

CUresult vgpu_stream_handle(CUstream s, uint64_t *h)
{
	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) {
		*h = 0;
		return CUDA_SUCCESS;
	}
	if (!vgpu_obj_valid(s, VGPU_OBJ_STREAM))
		return CUDA_ERROR_INVALID_HANDLE;
	*h = s->h;
	return CUDA_SUCCESS;
}

/*
 * Create a stream or event on the server with the request in w and register
 * o (allocated, its fields but h set) for it.  On failure o is freed and
 * nothing is left on the server.
 */
static CUresult create(struct vgpu_obj *o, uint32_t type, struct CUctx_st *c, uint64_t *h,
		       uint16_t op, uint16_t destroy_op, struct vgpu_wbuf *w)
{
	CUresult rc = vgpu_rpc_u64(vgpu_ctx_tp(c), op, w, h);

	if (!rc) {
		o->type = type;
		o->owner = c;
		if (vgpu_obj_register(o) == 0)
			return CUDA_SUCCESS;
		vgpu_rpc_ctx_handle(destroy_op, c, *h);
		rc = CUDA_ERROR_OUT_OF_MEMORY;
	}
	free(o);
	return rc;
}

CUresult cuStreamCreateWithPriority(CUstream *ph, unsigned int flags, int priority)
{
	struct CUctx_st *c;
	struct CUstream_st *s;
	struct vgpu_wbuf w;
	uint8_t req[16];
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!ph)
		return CUDA_ERROR_INVALID_VALUE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return CUDA_ERROR_OUT_OF_MEMORY;
	s->ctx = c;
	s->flags = flags;
	s->priority = priority;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u32(&w, flags);
	vgpu_put_i32(&w, priority);
	rc = create(&s->o, VGPU_OBJ_STREAM, c, &s->h, VGPU_OP_STREAM_CREATE,
		    VGPU_OP_STREAM_DESTROY, &w);
	if (!rc)
		*ph = s;
	return rc;
}

CUresult cuStreamCreate(CUstream *ph, unsigned int flags)
{
	return cuStreamCreateWithPriority(ph, flags, 0);
}

CUresult cuStreamSynchronize(CUstream s)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) {
		rc = vgpu_ctx_current(&c);
		return rc ? rc : vgpu_rpc_ctx_handle(VGPU_OP_STREAM_SYNC, c, 0);
	}
	if (!vgpu_obj_valid(s, VGPU_OBJ_STREAM))
		return CUDA_ERROR_INVALID_HANDLE;
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	return vgpu_rpc_ctx_handle(VGPU_OP_STREAM_SYNC, s->ctx, s->h);
}

CUresult cuStreamDestroy_v2(CUstream s)
{
	CUresult rc = vgpu_obj_arg(s, VGPU_OBJ_STREAM);

	if (rc)
		return rc;
	return vgpu_obj_destroy(&s->o, VGPU_OP_STREAM_DESTROY, s->ctx, s->h);
}

CUresult cuEventCreate(CUevent *ph, unsigned int flags)
{
	struct CUctx_st *c;
	struct CUevent_st *e;
	struct vgpu_wbuf w;
	uint8_t req[16];
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!ph)
		return CUDA_ERROR_INVALID_VALUE;
	e = calloc(1, sizeof(*e));
	if (!e)
		return CUDA_ERROR_OUT_OF_MEMORY;
	e->ctx = c;
	e->flags = flags;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u32(&w, flags);
	rc = create(&e->o, VGPU_OBJ_EVENT, c, &e->h, VGPU_OP_EVENT_CREATE,
		    VGPU_OP_EVENT_DESTROY, &w);
	if (!rc)
		*ph = e;
	return rc;
}

CUresult cuEventRecord(CUevent ev, CUstream s)
{
	struct vgpu_wbuf w;
	uint8_t req[24];
	uint64_t sh;
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	rc = vgpu_stream_handle(s, &sh);
	if (rc)
		return rc;
	/* an event and a stream of different contexts: refused here, not later */
	if (sh && s->ctx != ev->ctx)
		return CUDA_ERROR_INVALID_HANDLE;
	if (vgpu_capture_event_record(ev, s, &rc))
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, ev->ctx->h);
	vgpu_put_u64(&w, ev->h);
	vgpu_put_u64(&w, sh);
	/* handles checked here, nothing else to refuse: posted (LIBCUDA.md) */
	return vgpu_rpc_post_w(vgpu_ctx_tp(ev->ctx), VGPU_OP_EVENT_RECORD, &w);
}

CUresult cuEventSynchronize(CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	return vgpu_rpc_ctx_handle(VGPU_OP_EVENT_SYNC, ev->ctx, ev->h);
}

CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[24], buf[4];
	float v;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!ms)
		return CUDA_ERROR_INVALID_VALUE;
	if (!vgpu_obj_valid(start, VGPU_OBJ_EVENT) || !vgpu_obj_valid(end, VGPU_OBJ_EVENT) ||
	    vgpu_ctx_tp(start->ctx) != vgpu_ctx_tp(end->ctx))
		return CUDA_ERROR_INVALID_HANDLE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, start->ctx->h);
	vgpu_put_u64(&w, start->h);
	vgpu_put_u64(&w, end->h);
	rc = vgpu_rpc_buf(vgpu_ctx_tp(start->ctx), VGPU_OP_EVENT_ELAPSED, &w, buf, sizeof(buf),
			  &r);
	if (rc)
		return rc;
	v = vgpu_get_f32(&r);
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	*ms = v;
	return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	return vgpu_obj_destroy(&ev->o, VGPU_OP_EVENT_DESTROY, ev->ctx, ev->h);
}

/* ---- waits, queries and properties ------------------------------------- */

/* The context and server handle of a stream argument (special handles: current context). */
CUresult vgpu_stream_ctx(CUstream s, struct CUctx_st **c, uint64_t *h)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) {
		*h = 0;
		return vgpu_ctx_current(c);
	}
	if (!vgpu_obj_valid(s, VGPU_OBJ_STREAM))
		return CUDA_ERROR_INVALID_HANDLE;
	*c = s->ctx;
	*h = s->h;
	return CUDA_SUCCESS;
}

CUresult cuStreamWaitEvent(CUstream s, CUevent ev, unsigned int flags)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	uint8_t req[28];
	uint64_t sh;
	CUresult rc = vgpu_stream_ctx(s, &c, &sh);

	if (rc)
		return rc;
	if (!vgpu_obj_valid(ev, VGPU_OBJ_EVENT))
		return CUDA_ERROR_INVALID_HANDLE;
	if (flags & ~CU_EVENT_WAIT_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	if (vgpu_capture_stream_wait(s, ev, flags, &rc))
		return rc;
	/*
	 * An event of another server: no stream there can wait for it, so the
	 * host does; what follows on s starts after the event, as asked, and
	 * later than it might have.
	 */
	if (vgpu_ctx_tp(ev->ctx) != vgpu_ctx_tp(c))
		return cuEventSynchronize(ev);
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u64(&w, sh);
	vgpu_put_u64(&w, ev->h);
	vgpu_put_u32(&w, flags);
	/* handles checked here; flags the server refuses come back from the next call */
	return vgpu_rpc_post_w(vgpu_ctx_tp(c), VGPU_OP_STREAM_WAIT_EVENT, &w);
}

CUresult cuStreamQuery(CUstream s)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = vgpu_stream_ctx(s, &c, &sh);

	if (!rc && vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	return rc ? rc : vgpu_rpc_ctx_handle(VGPU_OP_STREAM_QUERY, c, sh);
}

CUresult cuEventQuery(CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	return rc ? rc : vgpu_rpc_ctx_handle(VGPU_OP_EVENT_QUERY, ev->ctx, ev->h);
}

/* CU_EVENT_RECORD_EXTERNAL only matters inside a capture: it becomes a record node. */
CUresult cuEventRecordWithFlags(CUevent ev, CUstream s, unsigned int flags)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	if (flags & ~(unsigned int)CU_EVENT_RECORD_EXTERNAL)
		return CUDA_ERROR_INVALID_VALUE;
	if ((flags & CU_EVENT_RECORD_EXTERNAL) && vgpu_capturing(s))
		return vgpu_capture_add(s, CU_GRAPH_NODE_TYPE_EVENT_RECORD, &ev);
	return cuEventRecord(ev, s);
}

/* vgpu_stream_ctx() for a query that writes through @out: a NULL @out is INVALID_VALUE. */
static CUresult stream_query(CUstream s, const void *out, struct CUctx_st **c, uint64_t *h)
{
	CUresult rc = vgpu_stream_ctx(s, c, h);

	if (rc)
		return rc;
	return out ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuStreamGetFlags(CUstream s, unsigned int *flags)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = stream_query(s, flags, &c, &sh);

	if (rc)
		return rc;
	*flags = sh ? s->flags : CU_STREAM_DEFAULT;
	return CUDA_SUCCESS;
}

CUresult cuStreamGetPriority(CUstream s, int *priority)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = stream_query(s, priority, &c, &sh);

	if (rc)
		return rc;
	*priority = sh ? s->priority : 0;
	return CUDA_SUCCESS;
}

CUresult cuStreamGetCtx(CUstream s, CUcontext *pctx)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = stream_query(s, pctx, &c, &sh);

	if (rc)
		return rc;
	*pctx = c;
	return CUDA_SUCCESS;
}

CUresult cuStreamGetDevice(CUstream s, CUdevice *dev)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = stream_query(s, dev, &c, &sh);

	if (rc)
		return rc;
	*dev = c->dev;
	return CUDA_SUCCESS;
}

CUresult cuStreamGetId(CUstream s, unsigned long long *id)
{
	struct CUctx_st *c;
	uint64_t sh;
	CUresult rc = stream_query(s, id, &c, &sh);

	if (rc)
		return rc;
	*id = sh;	/* the server's handle: unique in the session, 0 for the default stream */
	return CUDA_SUCCESS;
}

/*
 * Context-wide event record and wait, in their stronger forms: the record
 * waits for all the context's work first (so the event covers it), the
 * wait blocks the caller until the event completed (so all later work of
 * the context follows it).
 */
CUresult cuCtxRecordEvent(CUcontext ctx, CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	if (!vgpu_obj_valid(ctx, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	if (ev->ctx != ctx)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = cuCtxSynchronize_v2(ctx);
	return rc ? rc : cuEventRecord(ev, NULL);
}

CUresult cuCtxWaitEvent(CUcontext ctx, CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	if (rc)
		return rc;
	if (!vgpu_obj_valid(ctx, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	return cuEventSynchronize(ev);
}

#define PTSZ(name, params, args) \
	CUresult name##_ptsz params; CUresult name##_ptsz params { return name args; }

PTSZ(cuStreamWaitEvent, (CUstream s, CUevent ev, unsigned int flags), (s, ev, flags))
PTSZ(cuStreamQuery, (CUstream s), (s))
PTSZ(cuEventRecordWithFlags, (CUevent ev, CUstream s, unsigned int flags), (ev, s, flags))
PTSZ(cuStreamGetFlags, (CUstream s, unsigned int *flags), (s, flags))
PTSZ(cuStreamGetPriority, (CUstream s, int *priority), (s, priority))
PTSZ(cuStreamGetCtx, (CUstream s, CUcontext *pctx), (s, pctx))
PTSZ(cuStreamGetDevice, (CUstream s, CUdevice *dev), (s, dev))
PTSZ(cuStreamGetId, (CUstream s, unsigned long long *id), (s, id))

/* ---- host work in stream order ------------------------------------------ */

/*
 * The host function runs here, in the client, once the stream has reached
 * it: the stream is synchronised first, so it runs after all earlier work,
 * and the call returns after it, so later work follows it.  (Async calls
 * already complete before they return; this keeps that model.)
 */
CUresult cuLaunchHostFunc(CUstream s, CUhostFn fn, void *user)
{
	CUresult rc;

	if (!fn)
		return vgpu_initialized() ? vgpu_initialized() : CUDA_ERROR_INVALID_VALUE;
	if (vgpu_capturing(s)) {
		CUDA_HOST_NODE_PARAMS p = { .fn = fn, .userData = user };

		return vgpu_capture_add(s, CU_GRAPH_NODE_TYPE_HOST, &p);
	}
	rc = cuStreamSynchronize(s);
	if (rc)
		return rc;
	fn(user);
	return CUDA_SUCCESS;
}

/* The same, for the older callback, which also learns the stream's status. */
CUresult cuStreamAddCallback(CUstream s, CUstreamCallback cb, void *user, unsigned int flags)
{
	CUresult rc;

	if (!cb || flags)
		return vgpu_initialized() ? vgpu_initialized() : CUDA_ERROR_INVALID_VALUE;
	/* capturing a callback (with its status argument) is not supported: refuse */
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	rc = cuStreamSynchronize(s);
	if (rc == CUDA_ERROR_DEVICE_UNAVAILABLE || rc == CUDA_ERROR_NOT_INITIALIZED ||
	    rc == CUDA_ERROR_INVALID_HANDLE || rc == CUDA_ERROR_INVALID_CONTEXT)
		return rc;
	cb(s, rc, user);
	return CUDA_SUCCESS;
}

PTSZ(cuLaunchHostFunc, (CUstream s, CUhostFn fn, void *user), (s, fn, user))
PTSZ(cuStreamAddCallback, (CUstream s, CUstreamCallback cb, void *user, unsigned int flags),
     (s, cb, user, flags))
