// SPDX-License-Identifier: MIT
/*
 * rpc.c - one driver call = one protocol request: the helpers entry points
 * use to send a body, get the server's CUresult back, and turn transport
 * failures into CUresults.
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

CUresult vgpu_errno_to_cu(int err)
{
	if (vgpu_transport_errno_fatal(err))
		return CUDA_ERROR_DEVICE_UNAVAILABLE;	/* server or daemon gone */
	switch (err) {
	case -EINVAL:
	case -EMSGSIZE:
		return CUDA_ERROR_INVALID_VALUE;
	case -ENOMEM:
		return CUDA_ERROR_OUT_OF_MEMORY;
	case -EPROTO:
		return CUDA_ERROR_UNKNOWN;
	default:
		return CUDA_ERROR_OPERATING_SYSTEM;
	}
}

CUresult vgpu_rpc(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq,
		  const struct iovec *resp, int nresp, size_t *resp_len)
{
	uint32_t status = CUDA_ERROR_UNKNOWN;
	int ret;

	if (!t)
		return CUDA_ERROR_NOT_INITIALIZED;
	ret = vgpu_transport_call(t, op, req, nreq, resp, nresp, resp_len, &status);
	if (ret) {
		vgpu_dbg("%s: transport error %d", vgpu_op_name(op), ret);
		return vgpu_errno_to_cu(ret);
	}
	/* what the server refused: the first thing to look at when a program fails */
	if (status)
		vgpu_dbg("%s: server answered %u", vgpu_op_name(op), status);
	return (CUresult)status;
}

/* VGPU_ASYNC=0: every request waits for its answer (debugging a failure's origin). */
static bool posting(void)
{
	static int on = -1;

	if (on < 0) {
		const char *e = getenv("VGPU_ASYNC");

		on = !(e && !strcmp(e, "0"));
	}
	return on;
}

CUresult vgpu_rpc_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq)
{
	uint32_t status = CUDA_ERROR_UNKNOWN;
	int ret;

	if (!t)
		return CUDA_ERROR_NOT_INITIALIZED;
	if (!posting())
		return vgpu_rpc(t, op, req, nreq, NULL, 0, NULL);
	ret = vgpu_transport_post(t, op, req, nreq, &status);
	if (ret) {
		vgpu_dbg("%s: transport error %d", vgpu_op_name(op), ret);
		return vgpu_errno_to_cu(ret);
	}
	if (status)
		vgpu_dbg("%s: server answered %u (this or earlier posted work)", vgpu_op_name(op),
			 status);
	return (CUresult)status;
}

CUresult vgpu_rpc_post_w(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w)
{
	struct iovec req = { .iov_base = w->buf, .iov_len = w->len };

	if (w->err)
		return CUDA_ERROR_INVALID_VALUE;
	return vgpu_rpc_post(t, op, &req, 1);
}

CUresult vgpu_rpc_buf(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w,
		      void *buf, size_t cap,
		      struct vgpu_rbuf *r)
{
	struct iovec req = { .iov_base = w->buf, .iov_len = w->len };
	struct iovec resp = { .iov_base = buf, .iov_len = cap };
	size_t len = 0;
	CUresult rc;

	if (w->err)
		return CUDA_ERROR_INVALID_VALUE;
	rc = vgpu_rpc(t, op, &req, 1, &resp, 1, &len);
	vgpu_rbuf_init(r, buf, rc == CUDA_SUCCESS ? len : 0);
	return rc;
}

/* A reply that is one integer of @size bytes (4 or 8); *out untouched on error. */
static CUresult rpc_scalar(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w,
			   size_t size, uint64_t *out)
{
	uint8_t buf[8];
	struct vgpu_rbuf r;
	CUresult rc = vgpu_rpc_buf(t, op, w, buf, size, &r);
	uint64_t v;

	if (rc)
		return rc;
	v = size == 4 ? vgpu_get_u32(&r) : vgpu_get_u64(&r);
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	*out = v;
	return CUDA_SUCCESS;
}

CUresult vgpu_rpc_u64(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w, uint64_t *out)
{
	return rpc_scalar(t, op, w, sizeof(*out), out);
}

CUresult vgpu_rpc_i32(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w, int32_t *out)
{
	uint64_t v;
	CUresult rc = rpc_scalar(t, op, w, sizeof(*out), &v);

	if (!rc)
		*out = (int32_t)(uint32_t)v;
	return rc;
}

CUresult vgpu_rpc_void(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;

	return vgpu_rpc_buf(t, op, w, NULL, 0, &r);
}

CUresult vgpu_rpc_ctx_handle(uint16_t op, const struct CUctx_st *c, uint64_t h)
{
	struct vgpu_wbuf w;
	uint8_t req[16];

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u64(&w, h);
	return vgpu_rpc_void(vgpu_ctx_tp(c), op, &w);
}
