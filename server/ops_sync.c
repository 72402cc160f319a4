// SPDX-License-Identifier: MIT
/* ops_sync.c - streams and events. */
#include "server/session_int.h"

int op_stream_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint32_t flags = vgpu_get_u32(r);
	int32_t prio = vgpu_get_i32(r);
	void *c, *st;
	CUresult rc;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->stream_create(s->be, c, flags, prio, &st);
	if (rc)
		return rc;
	return sess_reply_new_handle(s, w, VGPU_H_STREAM, st, ctx, c, s->ops->stream_destroy);
}

/* A {u64 ctx, u64 stream} request answered by @call. */
static int stream_call(struct session *s, struct vgpu_rbuf *r, sess_obj_fn call)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	void *c, *st;

	REQ_DONE(r);
	if (!sess_ctx_stream(s, ctx, stream, &c, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	return call(s->be, c, st);
}

int op_stream_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	return stream_call(s, r, s->ops->stream_sync);
}

int op_stream_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);

	REQ_DONE(r);
	if (!sess_ctx(s, ctx) || !vgpu_handle_get(&s->h, stream, VGPU_H_STREAM))
		return CUDA_ERROR_INVALID_HANDLE;
	sess_destroy_stream(s, stream);
	return CUDA_SUCCESS;
}

int op_event_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint32_t flags = vgpu_get_u32(r);
	void *c, *ev;
	CUresult rc;

	REQ_DONE(r);
	c = sess_ctx(s, ctx);
	if (!c)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->event_create(s->be, c, flags, &ev);
	if (rc)
		return rc;
	return sess_reply_new_handle(s, w, VGPU_H_EVENT, ev, ctx, c, s->ops->event_destroy);
}

/* ctx and event handles of a request, or NULL. */
static struct vgpu_handle *event_of(struct session *s, uint64_t ctx, uint64_t ev, void **c)
{
	*c = sess_ctx(s, ctx);
	return *c ? vgpu_handle_get(&s->h, ev, VGPU_H_EVENT) : NULL;
}

int op_event_record(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t ev = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	struct vgpu_handle *e;
	void *c, *st;

	REQ_DONE(r);
	e = event_of(s, ctx, ev, &c);
	if (!e || !sess_stream(s, stream, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	return s->ops->event_record(s->be, c, e->obj, st);
}

/* A {u64 ctx, u64 event} request answered by @call. */
static int event_call(struct session *s, struct vgpu_rbuf *r, sess_obj_fn call)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t ev = vgpu_get_u64(r);
	struct vgpu_handle *e;
	void *c;

	REQ_DONE(r);
	e = event_of(s, ctx, ev, &c);
	if (!e)
		return CUDA_ERROR_INVALID_HANDLE;
	return call(s->be, c, e->obj);
}

int op_event_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	return event_call(s, r, s->ops->event_sync);
}

int op_event_elapsed(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t start = vgpu_get_u64(r);
	uint64_t end = vgpu_get_u64(r);
	struct vgpu_handle *a, *b;
	void *c;
	float ms = 0;
	CUresult rc;

	REQ_DONE(r);
	a = event_of(s, ctx, start, &c);
	b = vgpu_handle_get(&s->h, end, VGPU_H_EVENT);
	if (!a || !b)
		return CUDA_ERROR_INVALID_HANDLE;
	rc = s->ops->event_elapsed(s->be, c, a->obj, b->obj, &ms);
	if (rc == CUDA_SUCCESS)
		vgpu_put_f32(w, ms);
	return rc;
}

int op_event_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t ev = vgpu_get_u64(r);
	void *c;

	REQ_DONE(r);
	if (!event_of(s, ctx, ev, &c))
		return CUDA_ERROR_INVALID_HANDLE;
	sess_destroy_event(s, ev);
	return CUDA_SUCCESS;
}

int op_stream_wait_event(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t ctx = vgpu_get_u64(r);
	uint64_t stream = vgpu_get_u64(r);
	uint64_t event = vgpu_get_u64(r);
	uint32_t flags = vgpu_get_u32(r);
	struct vgpu_handle *e;
	void *c, *st;

	REQ_DONE(r);
	e = event_of(s, ctx, event, &c);
	if (!e || !sess_stream(s, stream, &st))
		return CUDA_ERROR_INVALID_HANDLE;
	return s->ops->stream_wait_event(s->be, c, st, e->obj, flags);
}

int op_stream_query(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	return stream_call(s, r, s->ops->stream_query);
}

int op_event_query(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	return event_call(s, r, s->ops->event_query);
}
