/* SPDX-License-Identifier: MIT */
/*
 * graph.h - CUDA graphs and stream capture, kept in the client.
 *
 * A graph is a list of nodes, each with the nodes it depends on; nothing
 * of it lives on the server.  Instantiating copies the graph into an
 * executable one in a topological order; launching replays that order on
 * the launch stream through the ordinary entry points (a kernel node is a
 * cuLaunchKernel with the parameters packed when the node was made, a
 * memcpy node a cuMemcpy3DAsync, ...).  One stream runs the nodes one
 * after another: branches that could overlap on a GPU do not, which is
 * correct (every dependency is kept) and loses only concurrency inside
 * one graph.
 *
 * Capture turns the work a program submits to a capturing stream into
 * nodes instead of running it (capture.c).  The hooks in launch.c,
 * memory.c, copy2d.c and stream.c ask vgpu_capturing() first.
 *
 * Locking: as with the real driver, one graph must not be changed from
 * two threads at once; the application serialises that.  Capture state
 * (a stream's and an event's capture fields, the captures themselves) is
 * under capture.c's capture_lock, which is never held across a call to
 * the server.
 */
#ifndef VGPU_LIB_GRAPH_H
#define VGPU_LIB_GRAPH_H

#include "lib/driver.h"

/* A kernel node: the function as given (CUfunction or CUkernel) and its packed parameters. */
struct vgpu_knode {
	CUfunction func;
	unsigned int grid[3], block[3], smem;
	uint8_t *params;	/* the layout the function's parameter info gives */
	uint32_t len;
	uint32_t nargs;
	void **argv;		/* argv[i] points into params: GetParams' kernelParams */
};

struct CUgraphNode_st {
	struct vgpu_obj o;		/* owner: the graph */
	struct CUgraph_st *g;
	CUgraphNodeType type;
	struct CUgraphNode_st **deps;	/* the nodes this one runs after */
	size_t ndeps;
	bool disabled;			/* in an executable graph: cuGraphNodeSetEnabled */
	size_t mark;			/* scratch for graph algorithms (graph_exec.c) */
	union {
		struct vgpu_knode k;
		CUDA_MEMCPY3D copy;
		CUDA_MEMSET_NODE_PARAMS set;
		CUDA_HOST_NODE_PARAMS host;
		CUevent ev;			/* event record and event wait */
		struct CUgraph_st *child;	/* a copy owned by the node */
	} u;
};

struct CUgraph_st {
	struct vgpu_obj o;
	struct CUgraphNode_st **nodes;	/* in creation order */
	size_t n, cap;
	bool owned;			/* a child-graph node's copy: dies with the node */
};

struct CUgraphExec_st {
	struct vgpu_obj o;
	struct CUgraph_st *g;		/* private copy, nodes in topological order */
	struct CUgraphNode_st **orig;	/* orig[i]: the source node of g->nodes[i] */
	unsigned long long flags;
	/*
	 * Launches of one executable graph are ordered, whatever their
	 * streams: the stream of the last launch, and an event to hand the
	 * order over when the next launch comes on another stream.
	 */
	CUstream last_stream;
	CUevent order_ev;
};

/* ---- graph.c ------------------------------------------------------------ */
CUresult vgpu_graph_new(struct CUgraph_st **out);
void vgpu_graph_free(struct CUgraph_st *g);
/*
 * Add a node of this type to g after deps[0..ndeps-1] (checked: live nodes
 * of g); its parameters are copied from u (a kernel node's buffers are
 * taken over: on failure they are freed).
 */
CUresult vgpu_graph_add(struct CUgraph_st *g, CUgraphNodeType type, const void *u,
			CUgraphNode const *deps, size_t ndeps, struct CUgraphNode_st **out);
/* A copy of g: the same nodes in the same order, the same edges. */
CUresult vgpu_graph_clone(const struct CUgraph_st *g, struct CUgraph_st **out);
/* Fill a kernel node from launch arguments: the function is resolved and the parameters packed. */
CUresult vgpu_knode_init(struct vgpu_knode *k, CUfunction func, const unsigned int grid[3],
			 const unsigned int block[3], unsigned int smem, void **kernel_params,
			 void **extra);
void vgpu_knode_free(struct vgpu_knode *k);
/* A kernel node's parameters as CUDA_KERNEL_NODE_PARAMS (kernelParams point into the node). */
void vgpu_knode_params(const struct vgpu_knode *k, CUDA_KERNEL_NODE_PARAMS *p);
/* Replace a kernel node's parameters (the old ones are kept if the new are refused). */
CUresult vgpu_knode_replace(struct vgpu_knode *k, const CUDA_KERNEL_NODE_PARAMS *p);
/* A 1D copy as the CUDA_MEMCPY3D a memcpy node holds (unified: types from the pointers). */
void vgpu_copy3d_linear(CUDA_MEMCPY3D *p, CUmemorytype dt, CUdeviceptr dst, CUmemorytype st,
			CUdeviceptr src, size_t n);

/* ---- graph_exec.c ------------------------------------------------------- */
/* Run one node's work on stream s (a launch replays the nodes this way). */
CUresult vgpu_node_run(const struct CUgraphNode_st *n, CUstream s);

/* ---- capture.c ---------------------------------------------------------- */
/*
 * Is s capturing?  Then the caller records its work with vgpu_capture_add
 * instead of running it.  Cheap when no capture is active anywhere.
 */
bool vgpu_capturing(CUstream s);
/*
 * Record a node of this type (parameters in u, as vgpu_graph_add) in the
 * capture of s, after the stream's current dependencies; the node becomes
 * them.  An invalidated capture answers CUDA_ERROR_STREAM_CAPTURE_INVALIDATED.
 */
CUresult vgpu_capture_add(CUstream s, CUgraphNodeType type, const void *u);
/*
 * A call that cannot be captured (synchronising a capturing stream)
 * invalidates the capture and answers CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED.
 */
CUresult vgpu_capture_refuse(CUstream s);
/*
 * cuEventRecord / cuStreamWaitEvent on a capturing stream or a captured
 * event: true when the capture took the call (its answer in *rc).
 */
bool vgpu_capture_event_record(CUevent ev, CUstream s, CUresult *rc);
bool vgpu_capture_stream_wait(CUstream s, CUevent ev, unsigned int flags, CUresult *rc);
/* Is g the graph an active capture records into?  (cuGraphDestroy refuses it.) */
bool vgpu_capture_uses(const struct CUgraph_st *g);
/* A stream or event is being destroyed: drop its capture state. */
void vgpu_capture_forget_stream(CUstream s);
void vgpu_capture_forget_event(CUevent ev);

#endif
