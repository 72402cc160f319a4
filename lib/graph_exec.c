// SPDX-License-Identifier: MIT
/*
 * graph_exec.c - executable graphs: instantiation (a private copy of the
 * graph in a topological order), launch (the nodes replayed one after
 * another on the launch stream through the ordinary entry points, so every
 * dependency holds), per-node updates and whole-graph updates.
 */
#include "lib/graph.h"

#include <stdlib.h>
#include <string.h>

CUresult vgpu_node_run(const struct CUgraphNode_st *n, CUstream s);

/* Run the nodes of g (already in topological order) on s. */
static CUresult graph_run(const struct CUgraph_st *g, CUstream s)
{
	for (size_t i = 0; i < g->n; i++) {
		CUresult rc = vgpu_node_run(g->nodes[i], s);

		if (rc)
			return rc;
	}
	return CUDA_SUCCESS;
}

static CUresult memset_run(const CUDA_MEMSET_NODE_PARAMS *p, CUstream s)
{
	if (p->height <= 1) {
		switch (p->elementSize) {
		case 1:
			return cuMemsetD8Async(p->dst, (unsigned char)p->value, p->width, s);
		case 2:
			return cuMemsetD16Async(p->dst, (unsigned short)p->value, p->width, s);
		default:
			return cuMemsetD32Async(p->dst, p->value, p->width, s);
		}
	}
	switch (p->elementSize) {
	case 1:
		return cuMemsetD2D8Async(p->dst, p->pitch, (unsigned char)p->value, p->width,
					 p->height, s);
	case 2:
		return cuMemsetD2D16Async(p->dst, p->pitch, (unsigned short)p->value, p->width,
					  p->height, s);
	default:
		return cuMemsetD2D32Async(p->dst, p->pitch, p->value, p->width, p->height, s);
	}
}

CUresult vgpu_node_run(const struct CUgraphNode_st *n, CUstream s)
{
	size_t len;
	void *extra[5];

	if (n->disabled)
		return CUDA_SUCCESS;
	switch (n->type) {
	case CU_GRAPH_NODE_TYPE_KERNEL:
		len = n->u.k.len;
		extra[0] = CU_LAUNCH_PARAM_BUFFER_POINTER;
		extra[1] = n->u.k.params;
		extra[2] = CU_LAUNCH_PARAM_BUFFER_SIZE;
		extra[3] = &len;
		extra[4] = CU_LAUNCH_PARAM_END;
		return cuLaunchKernel(n->u.k.func, n->u.k.grid[0], n->u.k.grid[1], n->u.k.grid[2],
				      n->u.k.block[0], n->u.k.block[1], n->u.k.block[2],
				      n->u.k.smem, s, NULL, extra);
	case CU_GRAPH_NODE_TYPE_MEMCPY:
		return cuMemcpy3DAsync_v2(&n->u.copy, s);
	case CU_GRAPH_NODE_TYPE_MEMSET:
		return memset_run(&n->u.set, s);
	case CU_GRAPH_NODE_TYPE_HOST:
		return cuLaunchHostFunc(s, n->u.host.fn, n->u.host.userData);
	case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
		return cuEventRecord(n->u.ev, s);
	case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
		return cuStreamWaitEvent(s, n->u.ev, 0);
	case CU_GRAPH_NODE_TYPE_GRAPH:
		return graph_run(n->u.child, s);
	case CU_GRAPH_NODE_TYPE_EMPTY:
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_NOT_SUPPORTED;
	}
}

/*
 * Put g's nodes (and orig[], kept parallel, when given) in a topological
 * order, child graphs too (Kahn's algorithm; ready nodes run in creation
 * order).  A cycle answers INVALID_VALUE.
 */
static CUresult topo_sort(struct CUgraph_st *g, struct CUgraphNode_st **orig)
{
	size_t n = g->n, m = n ? n : 1, head = 0, tail = 0, edges = 0;
	size_t *indeg = calloc(m, sizeof(*indeg)), *first = calloc(m + 1, sizeof(*first));
	size_t *fill = calloc(m, sizeof(*fill)), *queue = malloc(m * sizeof(*queue));
	size_t *succ = NULL;
	struct CUgraphNode_st **order = malloc(m * sizeof(*order));
	struct CUgraphNode_st **oorder = malloc(m * sizeof(*oorder));
	CUresult rc = CUDA_ERROR_OUT_OF_MEMORY;

	if (!indeg || !first || !fill || !queue || !order || !oorder)
		goto out;
	for (size_t i = 0; i < n; i++) {
		g->nodes[i]->mark = i;
		edges += g->nodes[i]->ndeps;
	}
	/* successor lists in one array: succ[first[d]..first[d + 1]) are d's dependents */
	succ = malloc((edges ? edges : 1) * sizeof(*succ));
	if (!succ)
		goto out;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g->nodes[i]->ndeps; j++)
			first[g->nodes[i]->deps[j]->mark + 1]++;
	for (size_t i = 0; i < n; i++)
		first[i + 1] += first[i];
	for (size_t i = 0; i < n; i++) {
		indeg[i] = g->nodes[i]->ndeps;
		if (!indeg[i])
			queue[tail++] = i;
		for (size_t j = 0; j < g->nodes[i]->ndeps; j++) {
			size_t d = g->nodes[i]->deps[j]->mark;

			succ[first[d] + fill[d]++] = i;
		}
	}
	while (head < tail) {
		size_t i = queue[head];

		order[head] = g->nodes[i];
		if (orig)
			oorder[head] = orig[i];
		head++;
		for (size_t k = first[i]; k < first[i + 1]; k++)
			if (!--indeg[succ[k]])
				queue[tail++] = succ[k];
	}
	if (head != n) {
		rc = CUDA_ERROR_INVALID_VALUE;	/* a cycle */
		goto out;
	}
	memcpy(g->nodes, order, n * sizeof(*order));
	if (orig)
		memcpy(orig, oorder, n * sizeof(*oorder));
	rc = CUDA_SUCCESS;
	for (size_t i = 0; !rc && i < n; i++)
		if (g->nodes[i]->type == CU_GRAPH_NODE_TYPE_GRAPH)
			rc = topo_sort(g->nodes[i]->u.child, NULL);
out:
	free(indeg);
	free(first);
	free(fill);
	free(queue);
	free(succ);
	free(order);
	free(oorder);
	return rc;
}

static CUresult exec_build(struct CUgraph_st *src, struct CUgraph_st **g,
			   struct CUgraphNode_st ***orig)
{
	CUresult rc = vgpu_graph_clone(src, g);

	if (rc)
		return rc;
	*orig = malloc((src->n ? src->n : 1) * sizeof(**orig));
	if (!*orig) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out_graph;
	}
	memcpy(*orig, src->nodes, src->n * sizeof(**orig));
	rc = topo_sort(*g, *orig);
	if (!rc)
		return CUDA_SUCCESS;
	free(*orig);
out_graph:
	vgpu_graph_free(*g);
	return rc;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *out, CUgraph g, unsigned long long flags)
{
	struct CUgraphExec_st *e;
	CUresult rc = vgpu_obj_arg(g, VGPU_OBJ_GRAPH);

	if (rc)
		return rc;
	if (!out)
		return CUDA_ERROR_INVALID_VALUE;
	/*
	 * Device launch needs the real driver's graphs.  Auto-free-on-launch
	 * concerns graph-owned allocations, which these graphs never hold
	 * (memory nodes are refused when added or captured): nothing to free,
	 * so the flag is accepted as the no-op it is here (PyTorch's
	 * CUDAGraph always passes it).
	 */
	if (flags & CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH)
		return CUDA_ERROR_NOT_SUPPORTED;
	e = calloc(1, sizeof(*e));
	if (!e)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = exec_build(g, &e->g, &e->orig);
	if (rc)
		goto out_free;
	e->flags = flags;
	e->o.type = VGPU_OBJ_GRAPH_EXEC;
	if (vgpu_obj_register(&e->o)) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		vgpu_graph_free(e->g);
		free(e->orig);
		goto out_free;
	}
	*out = e;
	return CUDA_SUCCESS;
out_free:
	free(e);
	return rc;
}

CUresult cuGraphInstantiateWithParams(CUgraphExec *out, CUgraph g,
				      CUDA_GRAPH_INSTANTIATE_PARAMS *p)
{
	CUresult rc;

	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	rc = cuGraphInstantiateWithFlags(out, g, p->flags);
	p->hErrNode_out = NULL;
	p->result_out = rc == CUDA_SUCCESS ? CUDA_GRAPH_INSTANTIATE_SUCCESS :
			rc == CUDA_ERROR_INVALID_VALUE ? CUDA_GRAPH_INSTANTIATE_INVALID_STRUCTURE :
			CUDA_GRAPH_INSTANTIATE_ERROR;
	if (!rc && (p->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD))
		rc = cuGraphUpload(*out, p->hUploadStream);
	return rc;
}

static CUresult exec_arg(CUgraphExec e)
{
	return vgpu_obj_arg(e, VGPU_OBJ_GRAPH_EXEC);
}

CUresult cuGraphExecDestroy(CUgraphExec e)
{
	CUresult rc = exec_arg(e);

	if (rc)
		return rc;
	vgpu_obj_unregister(&e->o);
	if (e->order_ev)
		cuEventDestroy_v2(e->order_ev);	/* gone with its context already: nothing to do */
	vgpu_graph_free(e->g);
	free(e->orig);
	e->o.type = 0;
	free(e);
	return CUDA_SUCCESS;
}

CUresult cuGraphExecGetFlags(CUgraphExec e, cuuint64_t *flags)
{
	CUresult rc = exec_arg(e);

	if (rc)
		return rc;
	if (!flags)
		return CUDA_ERROR_INVALID_VALUE;
	*flags = e->flags;
	return CUDA_SUCCESS;
}

/*
 * Launches of one executable graph run in launch order (cuda.h), also on
 * different streams: when this launch's stream is not the last one's, the
 * work queued on that one so far (the last launch with it) is recorded in
 * the graph's event and this stream waits for it.  A last stream that is
 * gone has nothing left to wait for.
 */
static CUresult order_after_last(struct CUgraphExec_st *e, CUstream s)
{
	CUresult rc;

	if (!e->last_stream || e->last_stream == s)
		return CUDA_SUCCESS;
	if (!e->order_ev) {
		rc = cuEventCreate(&e->order_ev, CU_EVENT_DISABLE_TIMING);
		if (rc)
			return rc;
	}
	rc = cuEventRecord(e->order_ev, e->last_stream);
	if (rc == CUDA_ERROR_INVALID_HANDLE)
		return CUDA_SUCCESS;
	return rc ? rc : cuStreamWaitEvent(s, e->order_ev, 0);
}

CUresult cuGraphLaunch(CUgraphExec e, CUstream s)
{
	CUresult rc = exec_arg(e);

	if (rc)
		return rc;
	/* a launch into a capture would be a child-graph node; not served */
	if (vgpu_capturing(s))
		return vgpu_capture_refuse(s);
	rc = order_after_last(e, s);
	if (rc)
		return rc;
	e->last_stream = s;
	return graph_run(e->g, s);
}

/* Nothing to upload: the graph lives in the client until it runs. */
CUresult cuGraphUpload(CUgraphExec e, CUstream s)
{
	uint64_t sh;
	CUresult rc = exec_arg(e);

	return rc ? rc : vgpu_stream_handle(s, &sh);
}

/* The executable graph's copy of source node n, checked to be of this type. */
static CUresult exec_node(CUgraphExec e, CUgraphNode n, int type, struct CUgraphNode_st **out)
{
	CUresult rc = exec_arg(e);

	if (rc)
		return rc;
	for (size_t i = 0; i < e->g->n; i++) {
		if (e->orig[i] == n) {
			if (type >= 0 && e->g->nodes[i]->type != (CUgraphNodeType)type)
				return CUDA_ERROR_INVALID_VALUE;
			*out = e->g->nodes[i];
			return CUDA_SUCCESS;
		}
	}
	return CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGraphExecKernelNodeSetParams(CUgraphExec e, CUgraphNode n,
					const CUDA_KERNEL_NODE_PARAMS *p)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, CU_GRAPH_NODE_TYPE_KERNEL, &x);

	if (!rc && !p)
		rc = CUDA_ERROR_INVALID_VALUE;
	return rc ? rc : vgpu_knode_replace(&x->u.k, p);
}

CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec e, CUgraphNode n, const CUDA_MEMCPY3D *p,
					CUcontext ctx)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, CU_GRAPH_NODE_TYPE_MEMCPY, &x);

	if (!rc && !p)
		rc = CUDA_ERROR_INVALID_VALUE;
	if (!rc)
		x->u.copy = *p;
	return rc;
}

CUresult cuGraphExecMemsetNodeSetParams(CUgraphExec e, CUgraphNode n,
					const CUDA_MEMSET_NODE_PARAMS *p, CUcontext ctx)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, CU_GRAPH_NODE_TYPE_MEMSET, &x);

	if (!rc && (!p || (p->elementSize != 1 && p->elementSize != 2 && p->elementSize != 4)))
		rc = CUDA_ERROR_INVALID_VALUE;
	if (!rc)
		x->u.set = *p;
	return rc;
}

CUresult cuGraphExecHostNodeSetParams(CUgraphExec e, CUgraphNode n,
				      const CUDA_HOST_NODE_PARAMS *p)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, CU_GRAPH_NODE_TYPE_HOST, &x);

	if (!rc && (!p || !p->fn))
		rc = CUDA_ERROR_INVALID_VALUE;
	if (!rc)
		x->u.host = *p;
	return rc;
}

static CUresult exec_event(CUgraphExec e, CUgraphNode n, int type, CUevent ev)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, type, &x);

	if (!rc)
		rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);
	if (!rc)
		x->u.ev = ev;
	return rc;
}

CUresult cuGraphExecEventRecordNodeSetEvent(CUgraphExec e, CUgraphNode n, CUevent ev)
{
	return exec_event(e, n, CU_GRAPH_NODE_TYPE_EVENT_RECORD, ev);
}

CUresult cuGraphExecEventWaitNodeSetEvent(CUgraphExec e, CUgraphNode n, CUevent ev)
{
	return exec_event(e, n, CU_GRAPH_NODE_TYPE_WAIT_EVENT, ev);
}

CUresult cuGraphNodeSetEnabled(CUgraphExec e, CUgraphNode n, unsigned int enabled)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, -1, &x);

	if (!rc)
		x->disabled = !enabled;
	return rc;
}

CUresult cuGraphNodeGetEnabled(CUgraphExec e, CUgraphNode n, unsigned int *enabled)
{
	struct CUgraphNode_st *x;
	CUresult rc = exec_node(e, n, -1, &x);

	if (!rc && !enabled)
		rc = CUDA_ERROR_INVALID_VALUE;
	if (!rc)
		*enabled = !x->disabled;
	return rc;
}

/* Do a's and b's nodes (same count, both sorted) have the same dependencies by position? */
static bool same_edges(const struct CUgraph_st *a, const struct CUgraph_st *b)
{
	for (size_t i = 0; i < a->n; i++) {
		a->nodes[i]->mark = i;
		b->nodes[i]->mark = i;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct CUgraphNode_st *x = a->nodes[i], *y = b->nodes[i];

		if (x->ndeps != y->ndeps)
			return false;
		for (size_t j = 0; j < x->ndeps; j++) {
			size_t k = 0;

			while (k < y->ndeps && y->deps[k]->mark != x->deps[j]->mark)
				k++;
			if (k == y->ndeps)
				return false;
		}
	}
	return true;
}

/*
 * Take over g's parameters when its topology is the instantiated one's:
 * the same number of nodes, of the same types, with the same edges (after
 * both are sorted).  The executable graph keeps its nodes (so its source
 * nodes still name them, and disabled ones stay disabled): only their
 * parameters change.  Otherwise nothing changes and the answer says why.
 */
CUresult cuGraphExecUpdate_v2(CUgraphExec e, CUgraph g, CUgraphExecUpdateResultInfo *info)
{
	struct CUgraph_st *ng;
	struct CUgraphNode_st **norig;
	CUgraphExecUpdateResult why = CU_GRAPH_EXEC_UPDATE_SUCCESS;
	CUresult rc = exec_arg(e);

	if (!rc)
		rc = vgpu_obj_arg(g, VGPU_OBJ_GRAPH);
	if (rc)
		return rc;
	rc = exec_build(g, &ng, &norig);
	if (rc)
		return rc;
	if (ng->n != e->g->n)
		why = CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED;
	for (size_t i = 0; !why && i < ng->n; i++)
		if (ng->nodes[i]->type != e->g->nodes[i]->type)
			why = CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED;
	if (!why && !same_edges(e->g, ng))
		why = CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED;
	if (info) {
		memset(info, 0, sizeof(*info));
		info->result = why;
	}
	if (!why) {
		/* swap the parameters: the old ones go with ng */
		for (size_t i = 0; i < ng->n; i++) {
			struct CUgraphNode_st *x = e->g->nodes[i], *y = ng->nodes[i];
			__typeof__(x->u) tmp = x->u;

			x->u = y->u;
			y->u = tmp;
		}
	}
	vgpu_graph_free(ng);
	free(norig);
	return why ? CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE : CUDA_SUCCESS;
}
