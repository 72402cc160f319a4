// SPDX-License-Identifier: MIT
/*
 * capture.c - stream capture: while a stream captures, the work submitted
 * to it becomes nodes of a graph instead of running (graph.h).
 *
 * A capture starts on one stream (its origin).  Each stream in it has the
 * nodes its next work depends on (cap_deps); a recorded event remembers the
 * capture and the nodes it stood behind, and a stream that waits for such
 * an event joins the capture with those dependencies — the fork/join
 * pattern programs use to capture several streams into one graph.  Ending
 * the capture on the origin hands out the graph and releases every stream
 * that joined.
 *
 * Not served: capturing the NULL or per-thread default stream, graph
 * launches and stream-ordered allocations inside a capture (refused with
 * CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, which also invalidates the
 * capture).  The capture mode is kept (cuThreadExchangeStreamCaptureMode)
 * but unsafe calls on other streams are not policed: they run.
 */
#include "lib/graph.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct zero_edges {
	struct zero_edges *next;
	size_t n;
	CUgraphEdgeData e[];
};

struct vgpu_capture {
	uint64_t id;			/* unique in the process, never 0 */
	struct CUgraph_st *g;
	bool own_graph;			/* made by BeginCapture (not ...ToGraph) */
	bool invalidated;
	CUstreamCaptureMode mode;
	CUstream origin;		/* NULL once destroyed: the capture cannot end */
	CUstream *streams;		/* every stream in it, the origin included */
	size_t nstreams;
	/*
	 * GetCaptureInfo's edge data (all default): the largest block so far
	 * first; earlier ones stay until the capture ends, since a pointer
	 * handed out for one stream must outlive calls on the others
	 */
	struct zero_edges *zero;
	struct vgpu_capture *next;	/* in active */
};

/*
 * capture_lock protects: the active list, every capture, and the capture
 * fields of streams (cap, cap_deps, cap_ndeps) and events (cap_id,
 * cap_deps, cap_ndeps).  Never held across a call to the server.
 */
static pthread_mutex_t capture_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vgpu_capture *active;
static atomic_int nactive;		/* the fast "nothing captures" test */
static uint64_t last_id;
static __thread CUstreamCaptureMode thread_mode = CU_STREAM_CAPTURE_MODE_GLOBAL;

static bool special_stream(CUstream s)
{
	return !s || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD;
}

/* Replace a dependency set with a copy of deps[0..n-1] (under capture_lock). */
static CUresult deps_set(struct CUgraphNode_st ***set, size_t *nset,
			 struct CUgraphNode_st *const *deps, size_t n)
{
	struct CUgraphNode_st **v = NULL;

	if (n) {
		v = malloc(n * sizeof(*v));
		if (!v)
			return CUDA_ERROR_OUT_OF_MEMORY;
		memcpy(v, deps, n * sizeof(*v));
	}
	free(*set);
	*set = v;
	*nset = n;
	return CUDA_SUCCESS;
}

/*
 * Add deps[0..n-1] to a set, skipping those already in it.  Built in a new
 * array: deps may be the set itself (what GetCaptureInfo handed out).
 */
static CUresult deps_merge(struct CUgraphNode_st ***set, size_t *nset,
			   struct CUgraphNode_st *const *deps, size_t n)
{
	struct CUgraphNode_st **v = malloc((*nset + n ? *nset + n : 1) * sizeof(*v));
	size_t k = *nset;

	if (!v)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (k)
		memcpy(v, *set, k * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < k && v[j] != deps[i])
			j++;
		if (j == k)
			v[k++] = deps[i];
	}
	free(*set);
	*set = v;
	*nset = k;
	return CUDA_SUCCESS;
}

static struct vgpu_capture *capture_by_id(uint64_t id)
{
	for (struct vgpu_capture *c = active; id && c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static CUresult stream_join(struct vgpu_capture *cap, CUstream s)
{
	CUstream *v = realloc(cap->streams, (cap->nstreams + 1) * sizeof(*v));

	if (!v)
		return CUDA_ERROR_OUT_OF_MEMORY;
	v[cap->nstreams++] = s;
	cap->streams = v;
	s->cap = cap;
	return CUDA_SUCCESS;
}

static void capture_unlink(struct vgpu_capture *cap)
{
	struct vgpu_capture **pp;

	for (pp = &active; *pp != cap; pp = &(*pp)->next)
		;
	*pp = cap->next;
	atomic_fetch_sub(&nactive, 1);
}

static void capture_free(struct vgpu_capture *cap)
{
	while (cap->zero) {
		struct zero_edges *z = cap->zero;

		cap->zero = z->next;
		free(z);
	}
	free(cap->streams);
	free(cap);
}

/*
 * Take s out of its capture (under capture_lock).  Leaving before the end
 * (a stream destroyed) invalidates it; the last stream to leave a capture
 * that can no longer end (its origin is gone) takes it away.
 */
static void stream_leave(CUstream s, bool ending)
{
	struct vgpu_capture *cap = s->cap;

	for (size_t i = 0; i < cap->nstreams; i++) {
		if (cap->streams[i] == s) {
			cap->streams[i] = cap->streams[--cap->nstreams];
			break;
		}
	}
	if (cap->origin == s && !ending) {
		cap->origin = NULL;
		cap->invalidated = true;
	}
	s->cap = NULL;
	free(s->cap_deps);
	s->cap_deps = NULL;
	s->cap_ndeps = 0;
	if (!ending && !cap->origin && !cap->nstreams) {
		capture_unlink(cap);
		if (cap->own_graph)
			vgpu_graph_free(cap->g);
		capture_free(cap);
	}
}

bool vgpu_capturing(CUstream s)
{
	bool r;

	if (!atomic_load(&nactive) || special_stream(s) || !vgpu_obj_valid(s, VGPU_OBJ_STREAM))
		return false;
	pthread_mutex_lock(&capture_lock);
	r = s->cap != NULL;
	pthread_mutex_unlock(&capture_lock);
	return r;
}

CUresult vgpu_capture_add(CUstream s, CUgraphNodeType type, const void *u)
{
	struct CUgraphNode_st *n;
	struct vgpu_capture *cap;
	CUresult rc;

	pthread_mutex_lock(&capture_lock);
	cap = s->cap;
	if (!cap || cap->invalidated) {
		rc = cap ? CUDA_ERROR_STREAM_CAPTURE_INVALIDATED : CUDA_ERROR_ILLEGAL_STATE;
		if (type == CU_GRAPH_NODE_TYPE_KERNEL)
			vgpu_knode_free((struct vgpu_knode *)u);
		goto out;
	}
	rc = vgpu_graph_add(cap->g, type, u, s->cap_deps, s->cap_ndeps, &n);
	if (!rc)
		rc = deps_set(&s->cap_deps, &s->cap_ndeps, &n, 1);
	if (rc)
		cap->invalidated = true;
out:
	pthread_mutex_unlock(&capture_lock);
	return rc;
}

CUresult vgpu_capture_refuse(CUstream s)
{
	pthread_mutex_lock(&capture_lock);
	if (vgpu_obj_valid(s, VGPU_OBJ_STREAM) && s->cap)
		s->cap->invalidated = true;
	pthread_mutex_unlock(&capture_lock);
	return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
}

bool vgpu_capture_event_record(CUevent ev, CUstream s, CUresult *rc)
{
	bool captured;

	/*
	 * Every cuEventRecord comes here: with no capture anywhere and an event
	 * that never stood in one, take no lock (cap_id is written under
	 * capture_lock, read here atomically).
	 */
	if (!atomic_load(&nactive) && !__atomic_load_n(&ev->cap_id, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&capture_lock);
	captured = !special_stream(s) && vgpu_obj_valid(s, VGPU_OBJ_STREAM) && s->cap;
	if (captured) {
		*rc = deps_set(&ev->cap_deps, &ev->cap_ndeps, s->cap_deps, s->cap_ndeps);
		__atomic_store_n(&ev->cap_id, *rc ? 0 : s->cap->id, __ATOMIC_RELEASE);
	} else {
		/* an ordinary record: what it stood for in a capture is over */
		__atomic_store_n(&ev->cap_id, 0, __ATOMIC_RELEASE);
		deps_set(&ev->cap_deps, &ev->cap_ndeps, NULL, 0);
	}
	pthread_mutex_unlock(&capture_lock);
	return captured;
}

bool vgpu_capture_stream_wait(CUstream s, CUevent ev, unsigned int flags, CUresult *rc)
{
	struct vgpu_capture *cap;
	bool handled = false;

	if (!atomic_load(&nactive))
		return false;
	pthread_mutex_lock(&capture_lock);
	cap = capture_by_id(ev->cap_id);
	if (special_stream(s) || !vgpu_obj_valid(s, VGPU_OBJ_STREAM)) {
		/* the default stream cannot join a capture */
		if (cap) {
			cap->invalidated = true;
			*rc = CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
			handled = true;
		}
		goto out;
	}
	if (cap && s->cap == cap) {
		*rc = deps_merge(&s->cap_deps, &s->cap_ndeps, ev->cap_deps, ev->cap_ndeps);
		handled = true;
	} else if (cap && !s->cap) {
		*rc = deps_set(&s->cap_deps, &s->cap_ndeps, ev->cap_deps, ev->cap_ndeps);
		if (!*rc)
			*rc = stream_join(cap, s);
		if (*rc)
			deps_set(&s->cap_deps, &s->cap_ndeps, NULL, 0);
		handled = true;
	} else if (cap) {
		/* two captures cannot be joined */
		cap->invalidated = s->cap->invalidated = true;
		*rc = CUDA_ERROR_STREAM_CAPTURE_ISOLATION;
		handled = true;
	} else if (s->cap) {
		/*
		 * An event from outside the capture: the graph waits for it
		 * when it runs (work recorded before may still be running on
		 * the GPU by then), as CU_EVENT_WAIT_EXTERNAL asks explicitly.
		 */
		pthread_mutex_unlock(&capture_lock);
		*rc = vgpu_capture_add(s, CU_GRAPH_NODE_TYPE_WAIT_EVENT, &ev);
		return true;
	}
out:
	pthread_mutex_unlock(&capture_lock);
	return handled;
}

bool vgpu_capture_uses(const struct CUgraph_st *g)
{
	bool used = false;

	pthread_mutex_lock(&capture_lock);
	for (struct vgpu_capture *c = active; c && !used; c = c->next)
		used = c->g == g;
	pthread_mutex_unlock(&capture_lock);
	return used;
}

void vgpu_capture_forget_stream(CUstream s)
{
	pthread_mutex_lock(&capture_lock);
	if (s->cap)
		stream_leave(s, false);
	pthread_mutex_unlock(&capture_lock);
}

void vgpu_capture_forget_event(CUevent ev)
{
	pthread_mutex_lock(&capture_lock);
	__atomic_store_n(&ev->cap_id, 0, __ATOMIC_RELEASE);
	deps_set(&ev->cap_deps, &ev->cap_ndeps, NULL, 0);
	pthread_mutex_unlock(&capture_lock);
}

/* ---- the capture API ---------------------------------------------------- */

static CUresult capture_stream_arg(CUstream s)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (special_stream(s))
		return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
	return vgpu_obj_valid(s, VGPU_OBJ_STREAM) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

static CUresult begin(CUstream s, struct CUgraph_st *g, const CUgraphNode *deps, size_t ndeps,
		      CUstreamCaptureMode mode)
{
	struct vgpu_capture *cap;
	CUresult rc = capture_stream_arg(s);

	if (rc)
		return rc;
	if (mode > CU_STREAM_CAPTURE_MODE_RELAXED || (ndeps && !deps))
		return CUDA_ERROR_INVALID_VALUE;
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return CUDA_ERROR_OUT_OF_MEMORY;
	cap->mode = mode;
	cap->origin = s;
	cap->g = g;
	if (!g) {
		rc = vgpu_graph_new(&cap->g);
		if (rc)
			goto out_free;
		cap->own_graph = true;
	}
	pthread_mutex_lock(&capture_lock);
	rc = CUDA_ERROR_ILLEGAL_STATE;
	if (s->cap)
		goto out_unlock;
	rc = CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < ndeps; i++)
		if (!vgpu_obj_valid(deps[i], VGPU_OBJ_GRAPH_NODE) || deps[i]->g != cap->g)
			goto out_unlock;
	rc = deps_set(&s->cap_deps, &s->cap_ndeps, deps, ndeps);
	if (!rc)
		rc = stream_join(cap, s);
	if (rc)
		goto out_unlock;
	cap->id = ++last_id;
	cap->next = active;
	active = cap;
	atomic_fetch_add(&nactive, 1);
	pthread_mutex_unlock(&capture_lock);
	return CUDA_SUCCESS;
out_unlock:
	pthread_mutex_unlock(&capture_lock);
	if (cap->own_graph)
		vgpu_graph_free(cap->g);
out_free:
	free(cap->streams);
	free(cap);
	return rc;
}

CUresult cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode mode)
{
	return begin(s, NULL, NULL, 0, mode);
}

CUresult cuStreamBeginCaptureToGraph(CUstream s, CUgraph g, const CUgraphNode *deps,
				     const CUgraphEdgeData *edges, size_t ndeps,
				     CUstreamCaptureMode mode)
{
	CUresult rc = vgpu_obj_arg(g, VGPU_OBJ_GRAPH);

	if (rc)
		return rc;
	for (size_t i = 0; edges && i < ndeps; i++)
		if (edges[i].type || edges[i].from_port || edges[i].to_port)
			return CUDA_ERROR_NOT_SUPPORTED;
	return begin(s, g, deps, ndeps, mode);
}

CUresult cuStreamEndCapture(CUstream s, CUgraph *out)
{
	struct vgpu_capture *cap;
	CUresult rc = capture_stream_arg(s);

	if (rc)
		return rc;
	if (!out)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&capture_lock);
	cap = s->cap;
	if (!cap || cap->origin != s) {
		pthread_mutex_unlock(&capture_lock);
		return cap ? CUDA_ERROR_STREAM_CAPTURE_UNMATCHED : CUDA_ERROR_ILLEGAL_STATE;
	}
	while (cap->nstreams)
		stream_leave(cap->streams[0], true);
	capture_unlink(cap);
	pthread_mutex_unlock(&capture_lock);

	if (cap->invalidated) {
		if (cap->own_graph)
			vgpu_graph_free(cap->g);
		*out = NULL;
		rc = CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
	} else {
		*out = cap->g;
	}
	capture_free(cap);
	return rc;
}

static CUstreamCaptureStatus status_of(CUstream s)
{
	if (!s->cap)
		return CU_STREAM_CAPTURE_STATUS_NONE;
	return s->cap->invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED :
				     CU_STREAM_CAPTURE_STATUS_ACTIVE;
}

CUresult cuStreamIsCapturing(CUstream s, CUstreamCaptureStatus *status)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!status)
		return CUDA_ERROR_INVALID_VALUE;
	if (special_stream(s)) {
		*status = CU_STREAM_CAPTURE_STATUS_NONE;
		return CUDA_SUCCESS;
	}
	if (!vgpu_obj_valid(s, VGPU_OBJ_STREAM))
		return CUDA_ERROR_INVALID_HANDLE;
	pthread_mutex_lock(&capture_lock);
	*status = status_of(s);
	pthread_mutex_unlock(&capture_lock);
	return CUDA_SUCCESS;
}

/*
 * The dependency array handed out stays valid until the next capture call
 * on the stream, as the real driver documents.
 */
CUresult cuStreamGetCaptureInfo_v3(CUstream s, CUstreamCaptureStatus *status,
				   cuuint64_t *id, CUgraph *graph, const CUgraphNode **deps,
				   const CUgraphEdgeData **edges, size_t *ndeps)
{
	struct vgpu_capture *cap;
	CUresult rc = cuStreamIsCapturing(s, status);

	if (rc)
		return rc;
	if (edges && !deps)
		return CUDA_ERROR_INVALID_VALUE;
	if (*status == CU_STREAM_CAPTURE_STATUS_NONE)
		return CUDA_SUCCESS;
	pthread_mutex_lock(&capture_lock);
	cap = s->cap;
	if (!cap) {
		*status = CU_STREAM_CAPTURE_STATUS_NONE;
		goto out;
	}
	if (id)
		*id = cap->id;
	if (graph)
		*graph = cap->g;
	if (deps)
		*deps = (const CUgraphNode *)s->cap_deps;
	if (ndeps)
		*ndeps = s->cap_ndeps;
	if (edges) {
		if (!cap->zero || cap->zero->n < s->cap_ndeps) {
			size_t n = s->cap_ndeps > 16 ? s->cap_ndeps : 16;
			struct zero_edges *z = calloc(1, sizeof(*z) + n * sizeof(z->e[0]));

			if (!z) {
				rc = CUDA_ERROR_OUT_OF_MEMORY;
				goto out;
			}
			z->n = n;
			z->next = cap->zero;
			cap->zero = z;
		}
		*edges = cap->zero->e;
	}
out:
	pthread_mutex_unlock(&capture_lock);
	return rc;
}

CUresult cuStreamGetCaptureInfo_v2(CUstream s, CUstreamCaptureStatus *status, cuuint64_t *id,
				   CUgraph *graph, const CUgraphNode **deps, size_t *ndeps);
CUresult cuStreamGetCaptureInfo_v2(CUstream s, CUstreamCaptureStatus *status, cuuint64_t *id,
				   CUgraph *graph, const CUgraphNode **deps, size_t *ndeps)
{
	return cuStreamGetCaptureInfo_v3(s, status, id, graph, deps, NULL, ndeps);
}

CUresult cuStreamUpdateCaptureDependencies_v2(CUstream s, CUgraphNode *deps,
					      const CUgraphEdgeData *edges, size_t n,
					      unsigned int flags)
{
	CUresult rc = capture_stream_arg(s);

	if (rc)
		return rc;
	if ((n && !deps) || flags > CU_STREAM_SET_CAPTURE_DEPENDENCIES)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; edges && i < n; i++)
		if (edges[i].type || edges[i].from_port || edges[i].to_port)
			return CUDA_ERROR_NOT_SUPPORTED;
	pthread_mutex_lock(&capture_lock);
	rc = CUDA_ERROR_ILLEGAL_STATE;
	if (!s->cap)
		goto out;
	rc = CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < n; i++)
		if (!vgpu_obj_valid(deps[i], VGPU_OBJ_GRAPH_NODE) || deps[i]->g != s->cap->g)
			goto out;
	rc = flags == CU_STREAM_SET_CAPTURE_DEPENDENCIES ?
		deps_set(&s->cap_deps, &s->cap_ndeps, deps, n) :
		deps_merge(&s->cap_deps, &s->cap_ndeps, deps, n);
out:
	pthread_mutex_unlock(&capture_lock);
	return rc;
}

CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *mode)
{
	CUstreamCaptureMode old;

	if (!mode || *mode > CU_STREAM_CAPTURE_MODE_RELAXED)
		return CUDA_ERROR_INVALID_VALUE;
	old = thread_mode;
	thread_mode = *mode;
	*mode = old;
	return CUDA_SUCCESS;
}
