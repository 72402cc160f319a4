// SPDX-License-Identifier: MIT
/*
 * memory.c - device memory: allocation, copies and memsets.
 *
 * Host buffers travel in the request (HtoD) or the response (DtoH) and are
 * split into chunks of the transport's max_payload; each chunk is written
 * straight from / read straight into the caller's buffer.  The Async forms
 * name a stream but complete before returning, which is a valid (if
 * stronger) implementation of their semantics.
 */
#include "lib/driver.h"
#include "lib/vmm.h"
#include "lib/graph.h"

#include <string.h>

/* Request fields of one copy: at most five u64 plus a length word. */
#define COPY_REQ_MAX	48

static void mem_undo(const struct vgpu_alloc_op *a, uint64_t p)
{
	vgpu_rpc_ctx_handle(VGPU_OP_MEM_FREE, a->ctx, p);
}

CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	uint8_t req[16];
	uint64_t p;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!dptr || !bytesize)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_u64(&w, bytesize);
	rc = vgpu_alloc_apart(&(struct vgpu_alloc_op){
		.tp = vgpu_ctx_tp(c), .op = VGPU_OP_MEM_ALLOC, .req = &w, .size = bytesize,
		.undo = mem_undo, .ctx = c }, &p);
	if (rc)
		return rc;
	/* remembered for the calls that take a bare address (ranges.c) */
	if (vgpu_range_add(&vgpu_dev_ranges, &(struct vgpu_range){
		.base = p, .size = bytesize, .ctx = c, .tp = vgpu_ctx_tp(c) })) {
		vgpu_rpc_ctx_handle(VGPU_OP_MEM_FREE, c, p);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*dptr = (CUdeviceptr)p;
	return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr dptr)
{
	struct CUctx_st *c;
	struct vgpu_range r;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	/* freed by the context that allocated it, whichever is current (another server's) */
	if (dptr && vgpu_range_find(&vgpu_dev_ranges, dptr, &r) && r.ctx)
		c = r.ctx;
	else if ((rc = vgpu_ctx_current(&c)) || !dptr)
		return rc;	/* freeing 0 does nothing: cudaFree(0) is how libraries make the context */
	rc = vgpu_rpc_ctx_handle(VGPU_OP_MEM_FREE, c, dptr);
	if (!rc)
		vgpu_range_del(&vgpu_dev_ranges, dptr, NULL);
	return rc;
}

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[8], buf[16];
	uint64_t f, t;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	if (!free_bytes || !total_bytes)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	rc = vgpu_rpc_buf(vgpu_ctx_tp(c), VGPU_OP_MEM_GET_INFO, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	f = vgpu_get_u64(&r);
	t = vgpu_get_u64(&r);
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	*free_bytes = f;
	*total_bytes = t;
	return CUDA_SUCCESS;
}

/*
 * The context and stream handle a call on device memory at p goes to: the
 * current context and the stream argument, or p's own server (multidev.c).
 */
static CUresult ctx_stream(CUstream stream, CUdeviceptr p, struct CUctx_st **c, uint64_t *sh)
{
	CUresult rc = vgpu_ctx_current(c);

	if (!rc)
		rc = vgpu_stream_handle(stream, sh);
	return rc ? rc : vgpu_route_ptr(p, c, sh);
}

/* One host <-> device copy, sent in chunks of the transport's max_payload. */
struct copy {
	struct CUctx_st *c;
	uint64_t sh;
	char *host;
	CUdeviceptr dev;
};

static CUresult htod_chunk(const struct copy *cp, size_t off, size_t k)
{
	uint8_t req[COPY_REQ_MAX];
	struct vgpu_wbuf w;
	struct iovec iov[2];

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, cp->c->h);
	vgpu_put_u64(&w, cp->dev + off);
	vgpu_put_u64(&w, cp->sh);
	vgpu_put_u32(&w, (uint32_t)k);	/* "bytes data": length, then the bytes */
	iov[0] = (struct iovec){ .iov_base = req, .iov_len = w.len };
	iov[1] = (struct iovec){ .iov_base = cp->host + off, .iov_len = k };
	return vgpu_rpc(vgpu_ctx_tp(cp->c), VGPU_OP_MEMCPY_HTOD, iov, 2, NULL, 0, NULL);
}

static CUresult dtoh_chunk(const struct copy *cp, size_t off, size_t k)
{
	uint8_t req[COPY_REQ_MAX], lenbuf[4];
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	struct iovec q, a[2];
	size_t len = 0;
	CUresult rc;

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, cp->c->h);
	vgpu_put_u64(&w, cp->dev + off);
	vgpu_put_u64(&w, k);
	vgpu_put_u64(&w, cp->sh);
	q = (struct iovec){ .iov_base = req, .iov_len = w.len };
	a[0] = (struct iovec){ .iov_base = lenbuf, .iov_len = sizeof(lenbuf) };
	a[1] = (struct iovec){ .iov_base = cp->host + off, .iov_len = k };
	rc = vgpu_rpc(vgpu_ctx_tp(cp->c), VGPU_OP_MEMCPY_DTOH, &q, 1, a, 2, &len);
	if (rc)
		return rc;
	vgpu_rbuf_init(&r, lenbuf, sizeof(lenbuf));
	if (len != sizeof(lenbuf) + k || vgpu_get_u32(&r) != k)
		return CUDA_ERROR_UNKNOWN;
	return CUDA_SUCCESS;
}

typedef CUresult (*chunk_fn)(const struct copy *cp, size_t off, size_t k);

static CUresult chunks(chunk_fn fn, const struct copy *cp, size_t n)
{
	size_t chunk = vgpu_ctx_tp(cp->c)->max_payload;
	CUresult rc;

	if (!cp->host && n)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t off = 0; off < n; off += chunk) {
		rc = fn(cp, off, n - off < chunk ? n - off : chunk);
		if (rc)
			return rc;
	}
	return CUDA_SUCCESS;
}

static CUresult copy_chunked(chunk_fn fn, struct copy *cp, size_t n, CUstream stream)
{
	CUresult rc = ctx_stream(stream, cp->dev, &cp->c, &cp->sh);

	return rc ? rc : chunks(fn, cp, n);
}

CUresult vgpu_copy_dtoh_in(struct CUctx_st *c, void *dst, CUdeviceptr src, size_t n)
{
	return chunks(dtoh_chunk, &(struct copy){ .c = c, .host = dst, .dev = src }, n);
}

CUresult vgpu_copy_htod_in(struct CUctx_st *c, CUdeviceptr dst, const void *src, size_t n)
{
	return chunks(htod_chunk, &(struct copy){ .c = c, .host = (char *)src, .dev = dst }, n);
}

/* A 1D copy on a capturing stream becomes a memcpy node. */
static CUresult capture_copy(CUmemorytype dt, CUdeviceptr dst, CUmemorytype st,
			     CUdeviceptr src, size_t n, CUstream stream)
{
	CUDA_MEMCPY3D p;

	if (!n)
		return CUDA_SUCCESS;
	vgpu_copy3d_linear(&p, dt, dst, st, src, n);
	return vgpu_capture_add(stream, CU_GRAPH_NODE_TYPE_MEMCPY, &p);
}

static CUresult copy_htod(CUdeviceptr dst, const void *src, size_t n, CUstream stream)
{
	struct copy cp = { .host = (char *)src, .dev = dst };

	if (vgpu_capturing(stream))
		return capture_copy(CU_MEMORYTYPE_DEVICE, dst, CU_MEMORYTYPE_HOST,
				    (CUdeviceptr)(uintptr_t)src, n, stream);
	return copy_chunked(htod_chunk, &cp, n, stream);
}

static CUresult copy_dtoh(void *dst, CUdeviceptr src, size_t n, CUstream stream)
{
	struct copy cp = { .host = dst, .dev = src };

	if (vgpu_capturing(stream))
		return capture_copy(CU_MEMORYTYPE_HOST, (CUdeviceptr)(uintptr_t)dst,
				    CU_MEMORYTYPE_DEVICE, src, n, stream);
	return copy_chunked(dtoh_chunk, &cp, n, stream);
}

/*
 * A stream-ordered op on device memory at dst with an empty reply and the
 * request {u64 ctx, args, u64 stream}; nothing is sent when n (its size) is 0.
 */
static CUresult stream_op(uint16_t op, CUdeviceptr dst, const struct vgpu_wbuf *args, size_t n,
			  CUstream stream)
{
	struct CUctx_st *c;
	struct vgpu_wbuf w;
	uint8_t req[COPY_REQ_MAX];
	uint64_t sh;
	CUresult rc = ctx_stream(stream, dst, &c, &sh);

	if (rc || !n)
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	vgpu_put_raw(&w, args->buf, args->len);
	vgpu_put_u64(&w, sh);
	return vgpu_rpc_void(vgpu_ctx_tp(c), op, &w);
}

static CUresult copy_dtod(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream stream)
{
	struct CUctx_st *c;
	struct vgpu_wbuf a;
	uint8_t args[24];
	uint64_t sh;
	bool relayed;
	CUresult rc;

	if (vgpu_capturing(stream))
		return capture_copy(CU_MEMORYTYPE_DEVICE, dst, CU_MEMORYTYPE_DEVICE, src, n, stream);
	/* between two servers' memory: through this process */
	rc = vgpu_ctx_current(&c);
	if (!rc)
		rc = vgpu_stream_handle(stream, &sh);
	if (!rc && n)
		rc = vgpu_relay_dtod(dst, src, n, c, sh, &relayed);
	if (rc || !n || relayed)
		return rc;
	vgpu_wbuf_init_fixed(&a, args, sizeof(args));
	vgpu_put_u64(&a, dst);
	vgpu_put_u64(&a, src);
	vgpu_put_u64(&a, n);
	return stream_op(VGPU_OP_MEMCPY_DTOD, dst, &a, n, stream);
}

static CUresult memset_n(CUdeviceptr dst, uint32_t value, uint32_t elem, size_t count,
			 CUstream stream)
{
	struct vgpu_wbuf a;
	uint8_t args[24];

	if (vgpu_capturing(stream)) {
		CUDA_MEMSET_NODE_PARAMS p = {
			.dst = dst, .value = value, .elementSize = elem, .width = count, .height = 1,
		};

		return count ? vgpu_capture_add(stream, CU_GRAPH_NODE_TYPE_MEMSET, &p) : CUDA_SUCCESS;
	}
	vgpu_wbuf_init_fixed(&a, args, sizeof(args));
	vgpu_put_u64(&a, dst);
	vgpu_put_u32(&a, value);
	vgpu_put_u32(&a, elem);
	vgpu_put_u64(&a, count);
	return stream_op(VGPU_OP_MEMSET, dst, &a, count, stream);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n)
{
	return copy_htod(dst, src, n, NULL);
}

CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n)
{
	return copy_dtoh(dst, src, n, NULL);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n)
{
	return copy_dtod(dst, src, n, NULL);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, CUstream s)
{
	return copy_htod(dst, src, n, s);
}

CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy_dtoh(dst, src, n, s);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s)
{
	return copy_dtod(dst, src, n, s);
}

CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char uc, size_t n)
{
	return memset_n(dst, uc, 1, n, NULL);
}

CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short us, size_t n)
{
	return memset_n(dst, us, 2, n, NULL);
}

CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int ui, size_t n)
{
	return memset_n(dst, ui, 4, n, NULL);
}

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char uc, size_t n, CUstream s)
{
	return memset_n(dst, uc, 1, n, s);
}

CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short us, size_t n, CUstream s)
{
	return memset_n(dst, us, 2, n, s);
}

CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int ui, size_t n, CUstream s)
{
	return memset_n(dst, ui, 4, n, s);
}

/*
 * Stream-ordered allocation from the device's current pool, on the server
 * (mempool.c): the cuda backend uses the driver's stream-ordered calls, so
 * a free queued behind a kernel still using the memory waits for it.
 */
CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytesize, CUstream s)
{
	return vgpu_pool_alloc(dptr, bytesize, NULL, s);
}

CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream s)
{
	return vgpu_mem_free_async(dptr, s);
}

CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream s);
CUresult cuMemAllocAsync_ptsz(CUdeviceptr *dptr, size_t bytesize, CUstream s)
{
	return cuMemAllocAsync(dptr, bytesize, s);
}

CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s);
CUresult cuMemFreeAsync_ptsz(CUdeviceptr dptr, CUstream s)
{
	return cuMemFreeAsync(dptr, s);
}
