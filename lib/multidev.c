// SPDX-License-Identifier: MIT
/*
 * multidev.c - devices of several servers in one process.  cuInit opens
 * one link per server (init.c); each device, and everything made on it,
 * is reached through its own link.  What needs care is what the driver
 * API does not tie to a context:
 *
 *  - addresses: every server picks its own, so an allocation is kept
 *    apart from all addresses the process knows (vgpu_alloc_apart), and a
 *    bare address then names one server's memory;
 *  - calls on an address: sent to the server that holds it
 *    (vgpu_route_ptr), whatever context is current, as unified addressing
 *    lets the real driver do;
 *  - copies between two servers' memory: relayed through this process in
 *    chunks (vgpu_relay_dtod, cuMemcpyPeer).  No stream waits across
 *    servers, so such a copy first waits for the stream's earlier work
 *    and is complete on return.
 *
 * Kernels reach only their own device's memory (no peer access between
 * servers: cuDeviceCanAccessPeer says 0).
 */
#include "lib/driver.h"
#include "lib/graph.h"
#include "lib/debug.h"

#include <pthread.h>
#include <stdlib.h>

/* A relay's chunk: large enough to keep both links busy, small enough to stay cached. */
#define RELAY_CHUNK	(4u << 20)
/* Chunks in flight: one being read from the source while one is written to the target. */
#define RELAY_BUFS	2

static bool known(uint64_t base, uint64_t size)
{
	return vgpu_range_overlaps(&vgpu_dev_ranges, base, size) ||
	       vgpu_range_overlaps(&vgpu_va_ranges, base, size);
}

CUresult vgpu_alloc_apart(const struct vgpu_alloc_op *a, uint64_t *addr)
{
	uint64_t held[VGPU_APART_TRIES], p;
	CUresult rc;
	int n = 0;

	for (;;) {
		rc = vgpu_rpc_u64(a->tp, a->op, a->req, &p);
		if (rc)
			break;
		if (!known(p, a->size)) {
			*addr = p;
			break;
		}
		vgpu_dbg("%s gave %#llx, an address this process already uses; asking again",
			 vgpu_op_name(a->op), (unsigned long long)p);
		if (n == VGPU_APART_TRIES) {
			a->undo(a, p);
			rc = CUDA_ERROR_OUT_OF_MEMORY;
			break;
		}
		held[n++] = p;	/* kept while asking again, so the server picks another */
	}
	while (n--)
		a->undo(a, held[n]);
	return rc;
}

CUresult vgpu_route_ptr(CUdeviceptr p, struct CUctx_st **c, uint64_t *sh)
{
	struct vgpu_range r;
	CUresult rc;

	if (!vgpu_range_find(&vgpu_dev_ranges, p, &r) || !r.tp || r.tp == vgpu_ctx_tp(*c))
		return CUDA_SUCCESS;
	/* VMM memory belongs to no context: reached only from its own server's */
	if (!r.ctx)
		return CUDA_ERROR_INVALID_VALUE;
	rc = vgpu_rpc_ctx_handle(VGPU_OP_STREAM_SYNC, *c, *sh);
	if (rc)
		return rc;
	*c = r.ctx;
	*sh = 0;
	return CUDA_SUCCESS;
}

/*
 * A relay of more than one chunk is a pipeline: a reader thread copies
 * chunk i+1 out of the source server while the caller writes chunk i to
 * the target, so the two links (each with its own lock) work at once and
 * the copy runs at the slower link's rate rather than half of it.
 * Chunk i lives in buf[i % RELAY_BUFS]; the counters say who may touch
 * which buffer.
 */
struct relay {
	struct CUctx_st *sc;
	CUdeviceptr src;
	size_t n;
	char *buf[RELAY_BUFS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* protected by lock */
	size_t filled;		/* chunks read into their buffers */
	size_t drained;		/* chunks written out; their buffers free again */
	CUresult read_rc;	/* the reader's failure; it stops there */
	bool stop;		/* the writer failed: the reader stops */
};

static size_t chunk_len(size_t n, size_t i)
{
	size_t off = i * RELAY_CHUNK;

	return n - off < RELAY_CHUNK ? n - off : RELAY_CHUNK;
}

static void *relay_reader(void *arg)
{
	struct relay *r = arg;
	size_t chunks = (r->n + RELAY_CHUNK - 1) / RELAY_CHUNK;

	for (size_t i = 0; i < chunks; i++) {
		CUresult rc;
		bool stop;

		pthread_mutex_lock(&r->lock);
		while (!r->stop && i - r->drained >= RELAY_BUFS)
			pthread_cond_wait(&r->cond, &r->lock);
		stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		rc = vgpu_copy_dtoh_in(r->sc, r->buf[i % RELAY_BUFS], r->src + i * RELAY_CHUNK,
				       chunk_len(r->n, i));
		pthread_mutex_lock(&r->lock);
		if (rc)
			r->read_rc = rc;
		else
			r->filled = i + 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		if (rc)
			break;
	}
	return NULL;
}

/* The caller's half: write each chunk as the reader fills it. */
static CUresult relay_writer(struct relay *r, struct CUctx_st *dc, CUdeviceptr dst)
{
	size_t chunks = (r->n + RELAY_CHUNK - 1) / RELAY_CHUNK;
	CUresult rc = CUDA_SUCCESS;

	for (size_t i = 0; i < chunks && !rc; i++) {
		pthread_mutex_lock(&r->lock);
		while (r->filled <= i && !r->read_rc)
			pthread_cond_wait(&r->cond, &r->lock);
		rc = r->filled > i ? CUDA_SUCCESS : r->read_rc;
		pthread_mutex_unlock(&r->lock);
		if (rc)
			break;
		rc = vgpu_copy_htod_in(dc, dst + i * RELAY_CHUNK, r->buf[i % RELAY_BUFS],
				       chunk_len(r->n, i));
		pthread_mutex_lock(&r->lock);
		r->drained = i + 1;
		r->stop = rc != CUDA_SUCCESS;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

/*
 * Copy n bytes through host buffers: out of src in context sc, into dst
 * in context dc (of another server), each on its null stream.
 */
static CUresult relay(struct CUctx_st *dc, CUdeviceptr dst, struct CUctx_st *sc,
		      CUdeviceptr src, size_t n)
{
	struct relay r = { .sc = sc, .src = src, .n = n };
	size_t bufs = n > RELAY_CHUNK ? RELAY_BUFS : 1;
	CUresult rc = CUDA_ERROR_OUT_OF_MEMORY;
	pthread_t reader;

	for (size_t i = 0; i < bufs; i++)
		if (!(r.buf[i] = malloc(chunk_len(n, 0) ? chunk_len(n, 0) : 1)))
			goto out_free;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	if (bufs == 1 || pthread_create(&reader, NULL, relay_reader, &r)) {
		/* one chunk, or no thread to be had: read and write in turn */
		rc = CUDA_SUCCESS;
		for (size_t i = 0; i * RELAY_CHUNK < n && !rc; i++) {
			rc = vgpu_copy_dtoh_in(sc, r.buf[0], src + i * RELAY_CHUNK,
					       chunk_len(n, i));
			if (!rc)
				rc = vgpu_copy_htod_in(dc, dst + i * RELAY_CHUNK, r.buf[0],
						       chunk_len(n, i));
		}
	} else {
		rc = relay_writer(&r, dc, dst);
		pthread_join(reader, NULL);
	}
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
out_free:
	for (size_t i = 0; i < RELAY_BUFS; i++)
		free(r.buf[i]);
	return rc;
}

CUresult vgpu_relay_dtod(CUdeviceptr dst, CUdeviceptr src, size_t n, struct CUctx_st *c,
			 uint64_t sh, bool *relayed)
{
	struct vgpu_range d, s;
	CUresult rc;

	*relayed = vgpu_range_find(&vgpu_dev_ranges, dst, &d) &&
		   vgpu_range_find(&vgpu_dev_ranges, src, &s) && d.tp != s.tp;
	if (!*relayed)
		return CUDA_SUCCESS;
	if (!d.ctx || !s.ctx)
		return CUDA_ERROR_INVALID_VALUE;	/* VMM memory: see vgpu_route_ptr */
	rc = vgpu_rpc_ctx_handle(VGPU_OP_STREAM_SYNC, c, sh);
	return rc ? rc : relay(d.ctx, dst, s.ctx, src, n);
}

/*
 * Copies between contexts.  Within one server the server's copy does it
 * (its driver copies between its devices); between servers it is relayed.
 */
static CUresult copy_peer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx,
			  size_t n, CUstream s)
{
	struct CUctx_st *dc, *sc;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!vgpu_obj_valid(dctx, VGPU_OBJ_CTX) || !vgpu_obj_valid(sctx, VGPU_OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	dc = dctx;
	sc = sctx;
	if (!dc->active || !sc->active)
		return CUDA_ERROR_CONTEXT_IS_DESTROYED;
	if (vgpu_ctx_tp(dc) == vgpu_ctx_tp(sc))
		return cuMemcpyDtoDAsync_v2(dst, src, n, s);
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	rc = cuStreamSynchronize(s);
	return rc || !n ? rc : relay(dc, dst, sc, src, n);
}

CUresult cuMemcpyPeer(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx,
		      size_t n)
{
	return copy_peer(dst, dctx, src, sctx, n, NULL);
}

CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx,
			   size_t n, CUstream s)
{
	return copy_peer(dst, dctx, src, sctx, n, s);
}

/* The per-thread default stream forms (see variants.c). */
CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx,
			   size_t n);
CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src, CUcontext sctx,
			   size_t n)
{
	return copy_peer(dst, dctx, src, sctx, n, CU_STREAM_PER_THREAD);
}

CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
				CUcontext sctx, size_t n, CUstream s);
CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dctx, CUdeviceptr src,
				CUcontext sctx, size_t n, CUstream s)
{
	return copy_peer(dst, dctx, src, sctx, n, s);
}
