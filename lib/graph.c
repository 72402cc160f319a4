// SPDX-License-Identifier: MIT
/*
 * graph.c - graphs and their nodes (see graph.h for the model): creation,
 * the node kinds a program builds by hand, parameters in and out, edges,
 * cloning and destruction.  Nodes of kinds not listed here (memory
 * allocation, external semaphores, batch memory operations, conditionals)
 * are refused with CUDA_ERROR_NOT_SUPPORTED.
 */
#include "lib/graph.h"

#include <stdlib.h>
#include <string.h>

/* ---- kernel nodes ------------------------------------------------------ */

CUresult vgpu_knode_init(struct vgpu_knode *k, CUfunction func, const unsigned int grid[3],
			 const unsigned int block[3], unsigned int smem, void **kernel_params,
			 void **extra)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	memset(k, 0, sizeof(*k));
	k->func = func;
	memcpy(k->grid, grid, sizeof(k->grid));
	memcpy(k->block, block, sizeof(k->block));
	k->smem = smem;
	k->len = f->buf_size;
	k->nargs = f->nparams;
	k->params = calloc(1, k->len ? k->len : 1);
	k->argv = calloc(k->nargs ? k->nargs : 1, sizeof(*k->argv));
	if (!k->params || !k->argv) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out_free;
	}
	rc = vgpu_pack_params(f, kernel_params, extra, k->params);
	if (rc)
		goto out_free;
	for (uint32_t i = 0; i < k->nargs; i++)
		k->argv[i] = k->params + f->params[i].offset;
	return CUDA_SUCCESS;
out_free:
	vgpu_knode_free(k);
	return rc;
}

void vgpu_knode_free(struct vgpu_knode *k)
{
	free(k->params);
	free(k->argv);
	k->params = NULL;
	k->argv = NULL;
}

/* A copy of a kernel node's parameters (for clones and instantiation). */
static CUresult knode_dup(struct vgpu_knode *dst, const struct vgpu_knode *src)
{
	*dst = *src;
	dst->params = malloc(src->len ? src->len : 1);
	dst->argv = calloc(src->nargs ? src->nargs : 1, sizeof(*dst->argv));
	if (!dst->params || !dst->argv) {
		vgpu_knode_free(dst);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	memcpy(dst->params, src->params, src->len);
	for (uint32_t i = 0; i < src->nargs; i++)
		dst->argv[i] = dst->params + ((uint8_t *)src->argv[i] - src->params);
	return CUDA_SUCCESS;
}

void vgpu_copy3d_linear(CUDA_MEMCPY3D *p, CUmemorytype dt, CUdeviceptr dst, CUmemorytype st,
			CUdeviceptr src, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->dstMemoryType = dt;
	p->srcMemoryType = st;
	if (dt == CU_MEMORYTYPE_HOST)
		p->dstHost = (void *)(uintptr_t)dst;
	else
		p->dstDevice = dst;
	if (st == CU_MEMORYTYPE_HOST)
		p->srcHost = (const void *)(uintptr_t)src;
	else
		p->srcDevice = src;
	p->WidthInBytes = n;
	p->Height = 1;
	p->Depth = 1;
}

/* ---- graphs and nodes -------------------------------------------------- */

CUresult vgpu_graph_new(struct CUgraph_st **out)
{
	struct CUgraph_st *g = calloc(1, sizeof(*g));

	if (!g)
		return CUDA_ERROR_OUT_OF_MEMORY;
	g->o.type = VGPU_OBJ_GRAPH;
	if (vgpu_obj_register(&g->o)) {
		free(g);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*out = g;
	return CUDA_SUCCESS;
}

static void node_free(struct CUgraphNode_st *n)
{
	vgpu_obj_unregister(&n->o);
	if (n->type == CU_GRAPH_NODE_TYPE_KERNEL)
		vgpu_knode_free(&n->u.k);
	else if (n->type == CU_GRAPH_NODE_TYPE_GRAPH)
		vgpu_graph_free(n->u.child);
	free(n->deps);
	n->o.type = 0;
	free(n);
}

void vgpu_graph_free(struct CUgraph_st *g)
{
	if (!g)
		return;
	vgpu_obj_unregister(&g->o);
	for (size_t i = 0; i < g->n; i++)
		node_free(g->nodes[i]);
	free(g->nodes);
	g->o.type = 0;
	free(g);
}

static bool node_of(const struct CUgraph_st *g, CUgraphNode n)
{
	return vgpu_obj_valid(n, VGPU_OBJ_GRAPH_NODE) && n->g == g;
}

/* Make n depend on d too (no duplicate edges). */
static CUresult dep_add(struct CUgraphNode_st *n, struct CUgraphNode_st *d)
{
	struct CUgraphNode_st **nd;

	for (size_t i = 0; i < n->ndeps; i++)
		if (n->deps[i] == d)
			return CUDA_SUCCESS;
	nd = realloc(n->deps, (n->ndeps + 1) * sizeof(*nd));
	if (!nd)
		return CUDA_ERROR_OUT_OF_MEMORY;
	nd[n->ndeps++] = d;
	n->deps = nd;
	return CUDA_SUCCESS;
}

static bool dep_del(struct CUgraphNode_st *n, const struct CUgraphNode_st *d)
{
	for (size_t i = 0; i < n->ndeps; i++) {
		if (n->deps[i] == d) {
			n->deps[i] = n->deps[--n->ndeps];
			return true;
		}
	}
	return false;
}

/* Copy node parameters of this type from u into n (kernel buffers: taken over). */
static CUresult params_set(struct CUgraphNode_st *n, CUgraphNodeType type, const void *u)
{
	switch (type) {
	case CU_GRAPH_NODE_TYPE_KERNEL:
		n->u.k = *(const struct vgpu_knode *)u;
		return CUDA_SUCCESS;
	case CU_GRAPH_NODE_TYPE_MEMCPY:
		n->u.copy = *(const CUDA_MEMCPY3D *)u;
		return CUDA_SUCCESS;
	case CU_GRAPH_NODE_TYPE_MEMSET:
		n->u.set = *(const CUDA_MEMSET_NODE_PARAMS *)u;
		return CUDA_SUCCESS;
	case CU_GRAPH_NODE_TYPE_HOST:
		n->u.host = *(const CUDA_HOST_NODE_PARAMS *)u;
		return CUDA_SUCCESS;
	case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
	case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
		n->u.ev = *(const CUevent *)u;
		return CUDA_SUCCESS;
	case CU_GRAPH_NODE_TYPE_GRAPH: {
		CUresult rc = vgpu_graph_clone(*(struct CUgraph_st *const *)u, &n->u.child);

		if (!rc)
			n->u.child->owned = true;
		return rc;
	}
	case CU_GRAPH_NODE_TYPE_EMPTY:
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_NOT_SUPPORTED;
	}
}

CUresult vgpu_graph_add(struct CUgraph_st *g, CUgraphNodeType type, const void *u,
			CUgraphNode const *deps, size_t ndeps, struct CUgraphNode_st **out)
{
	struct CUgraphNode_st *n;
	CUresult rc = CUDA_ERROR_INVALID_VALUE;

	if (ndeps && !deps)
		goto out_params;
	for (size_t i = 0; i < ndeps; i++)
		if (!node_of(g, deps[i]))
			goto out_params;
	rc = CUDA_ERROR_OUT_OF_MEMORY;
	if (g->n == g->cap) {
		size_t ncap = g->cap ? 2 * g->cap : 16;
		struct CUgraphNode_st **nn = realloc(g->nodes, ncap * sizeof(*nn));

		if (!nn)
			goto out_params;
		g->nodes = nn;
		g->cap = ncap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto out_params;
	n->g = g;
	n->type = type;
	n->o.type = VGPU_OBJ_GRAPH_NODE;
	n->o.owner = g;
	for (size_t i = 0; i < ndeps; i++) {
		if (dep_add(n, deps[i]))
			goto out_node;
	}
	/* a kernel's buffers move to the node here; only a child graph's copy can fail */
	rc = params_set(n, type, u);
	if (rc)
		goto out_node;
	if (vgpu_obj_register(&n->o)) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		if (type == CU_GRAPH_NODE_TYPE_GRAPH)
			vgpu_graph_free(n->u.child);
		goto out_node;
	}
	g->nodes[g->n++] = n;
	if (out)
		*out = n;
	return CUDA_SUCCESS;
out_node:
	free(n->deps);
	free(n);
out_params:
	if (type == CU_GRAPH_NODE_TYPE_KERNEL)
		vgpu_knode_free((struct vgpu_knode *)u);
	return rc;
}

CUresult vgpu_graph_clone(const struct CUgraph_st *g, struct CUgraph_st **out)
{
	struct CUgraph_st *c;
	CUresult rc = vgpu_graph_new(&c);

	if (rc)
		return rc;
	for (size_t i = 0; i < g->n; i++) {
		const struct CUgraphNode_st *o = g->nodes[i];
		struct CUgraphNode_st *n;
		struct vgpu_knode k;
		const void *u = &o->u;

		if (o->type == CU_GRAPH_NODE_TYPE_KERNEL) {
			rc = knode_dup(&k, &o->u.k);
			if (rc)
				goto out_free;
			u = &k;
		} else if (o->type == CU_GRAPH_NODE_TYPE_GRAPH) {
			u = &o->u.child;
		}
		rc = vgpu_graph_add(c, o->type, u, NULL, 0, &n);
		if (rc)
			goto out_free;
		n->disabled = o->disabled;
	}
	/* edges: the same positions (nodes are in the same order) */
	for (size_t i = 0; i < g->n; i++)
		g->nodes[i]->mark = i;
	for (size_t i = 0; i < g->n; i++) {
		for (size_t j = 0; j < g->nodes[i]->ndeps; j++) {
			rc = dep_add(c->nodes[i], c->nodes[g->nodes[i]->deps[j]->mark]);
			if (rc)
				goto out_free;
		}
	}
	*out = c;
	return CUDA_SUCCESS;
out_free:
	vgpu_graph_free(c);
	return rc;
}

static CUresult graph_arg(CUgraph g)
{
	return vgpu_obj_arg(g, VGPU_OBJ_GRAPH);
}

CUresult cuGraphCreate(CUgraph *out, unsigned int flags)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!out || flags)
		return CUDA_ERROR_INVALID_VALUE;
	return vgpu_graph_new(out);
}

/*
 * A child-graph node's graph belongs to the node, and a capture's graph to
 * the capture until it ends: neither may be destroyed on its own.
 */
CUresult cuGraphDestroy(CUgraph g)
{
	CUresult rc = graph_arg(g);

	if (rc)
		return rc;
	if (g->owned || vgpu_capture_uses(g))
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_graph_free(g);
	return CUDA_SUCCESS;
}

CUresult cuGraphClone(CUgraph *out, CUgraph g)
{
	CUresult rc = graph_arg(g);

	if (rc)
		return rc;
	return out ? vgpu_graph_clone(g, out) : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGraphNodeFindInClone(CUgraphNode *out, CUgraphNode orig, CUgraph clone)
{
	CUresult rc = vgpu_obj_arg(orig, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	if (graph_arg(clone) || !out)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < orig->g->n && i < clone->n; i++) {
		if (orig->g->nodes[i] == orig && clone->nodes[i]->type == orig->type) {
			*out = clone->nodes[i];
			return CUDA_SUCCESS;
		}
	}
	return CUDA_ERROR_INVALID_VALUE;
}

/* The common front of the cuGraphAdd*Node calls. */
static CUresult add_node(CUgraphNode *out, CUgraph g, const CUgraphNode *deps, size_t ndeps,
			 CUgraphNodeType type, const void *u)
{
	CUresult rc = graph_arg(g);

	if (rc)
		goto out_params;
	rc = CUDA_ERROR_INVALID_VALUE;
	if (!out)
		goto out_params;
	return vgpu_graph_add(g, type, u, deps, ndeps, out);
out_params:
	if (type == CU_GRAPH_NODE_TYPE_KERNEL)
		vgpu_knode_free((struct vgpu_knode *)u);
	return rc;
}

static CUresult knode_from(struct vgpu_knode *k, const CUDA_KERNEL_NODE_PARAMS *p)
{
	unsigned int grid[3], block[3];
	CUfunction f;

	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	f = p->func ? p->func : (CUfunction)p->kern;
	grid[0] = p->gridDimX;
	grid[1] = p->gridDimY;
	grid[2] = p->gridDimZ;
	block[0] = p->blockDimX;
	block[1] = p->blockDimY;
	block[2] = p->blockDimZ;
	return vgpu_knode_init(k, f, grid, block, p->sharedMemBytes, p->kernelParams, p->extra);
}

CUresult cuGraphAddKernelNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			      size_t ndeps, const CUDA_KERNEL_NODE_PARAMS *p)
{
	struct vgpu_knode k;
	CUresult rc = knode_from(&k, p);

	return rc ? rc : add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_KERNEL, &k);
}

static CUresult memset_check(const CUDA_MEMSET_NODE_PARAMS *p)
{
	if (!p || (p->elementSize != 1 && p->elementSize != 2 && p->elementSize != 4))
		return CUDA_ERROR_INVALID_VALUE;
	if (p->height > 1 && p->pitch < p->width * p->elementSize)
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

CUresult cuGraphAddMemcpyNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			      size_t ndeps, const CUDA_MEMCPY3D *p, CUcontext ctx)
{
	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	return add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_MEMCPY, p);
}

CUresult cuGraphAddMemsetNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			      size_t ndeps, const CUDA_MEMSET_NODE_PARAMS *p, CUcontext ctx)
{
	CUresult rc = memset_check(p);

	return rc ? rc : add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_MEMSET, p);
}

CUresult cuGraphAddHostNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			    size_t ndeps, const CUDA_HOST_NODE_PARAMS *p)
{
	if (!p || !p->fn)
		return CUDA_ERROR_INVALID_VALUE;
	return add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_HOST, p);
}

CUresult cuGraphAddEmptyNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			     size_t ndeps)
{
	return add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_EMPTY, NULL);
}

CUresult cuGraphAddChildGraphNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
				  size_t ndeps, CUgraph child)
{
	if (graph_arg(child) || child == g)
		return CUDA_ERROR_INVALID_VALUE;
	return add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_GRAPH, &child);
}

CUresult cuGraphAddEventRecordNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
				   size_t ndeps, CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	return rc ? rc : add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_EVENT_RECORD, &ev);
}

CUresult cuGraphAddEventWaitNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
				 size_t ndeps, CUevent ev)
{
	CUresult rc = vgpu_obj_arg(ev, VGPU_OBJ_EVENT);

	return rc ? rc : add_node(out, g, deps, ndeps, CU_GRAPH_NODE_TYPE_WAIT_EVENT, &ev);
}

/* cuGraphAddNode's generic parameters, for the kinds served. */
CUresult cuGraphAddNode(CUgraphNode *out, CUgraph g, const CUgraphNode *deps,
			const CUgraphEdgeData *edges, size_t ndeps, CUgraphNodeParams *p)
{
	CUDA_KERNEL_NODE_PARAMS kp;
	CUDA_MEMSET_NODE_PARAMS sp;
	CUDA_HOST_NODE_PARAMS hp;

	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; edges && i < ndeps; i++)
		if (edges[i].type || edges[i].from_port || edges[i].to_port)
			return CUDA_ERROR_NOT_SUPPORTED;
	switch (p->type) {
	case CU_GRAPH_NODE_TYPE_KERNEL:
		memcpy(&kp, &p->kernel, sizeof(kp));
		return cuGraphAddKernelNode(out, g, deps, ndeps, &kp);
	case CU_GRAPH_NODE_TYPE_MEMCPY:
		if (p->memcpy.flags || p->memcpy.reserved)
			return CUDA_ERROR_INVALID_VALUE;
		return cuGraphAddMemcpyNode(out, g, deps, ndeps, &p->memcpy.copyParams,
					    p->memcpy.copyCtx);
	case CU_GRAPH_NODE_TYPE_MEMSET:
		memcpy(&sp, &p->memset, sizeof(sp));
		return cuGraphAddMemsetNode(out, g, deps, ndeps, &sp, p->memset.ctx);
	case CU_GRAPH_NODE_TYPE_HOST:
		hp.fn = p->host.fn;
		hp.userData = p->host.userData;
		return cuGraphAddHostNode(out, g, deps, ndeps, &hp);
	case CU_GRAPH_NODE_TYPE_GRAPH:
		return cuGraphAddChildGraphNode(out, g, deps, ndeps, p->graph.graph);
	case CU_GRAPH_NODE_TYPE_EMPTY:
		return cuGraphAddEmptyNode(out, g, deps, ndeps);
	case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
		return cuGraphAddEventRecordNode(out, g, deps, ndeps, p->eventRecord.event);
	case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
		return cuGraphAddEventWaitNode(out, g, deps, ndeps, p->eventWait.event);
	default:
		return CUDA_ERROR_NOT_SUPPORTED;
	}
}

/* ---- node parameters ---------------------------------------------------- */

static CUresult node_arg(CUgraphNode n, CUgraphNodeType type, const void *p)
{
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	if (!p || n->type != type)
		return CUDA_ERROR_INVALID_VALUE;
	return CUDA_SUCCESS;
}

CUresult cuGraphNodeGetType(CUgraphNode n, CUgraphNodeType *type)
{
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	if (!type)
		return CUDA_ERROR_INVALID_VALUE;
	*type = n->type;
	return CUDA_SUCCESS;
}

void vgpu_knode_params(const struct vgpu_knode *k, CUDA_KERNEL_NODE_PARAMS *p)
{
	memset(p, 0, sizeof(*p));
	if (vgpu_obj_valid(k->func, VGPU_OBJ_KERNEL))
		p->kern = (CUkernel)k->func;
	else
		p->func = k->func;
	p->gridDimX = k->grid[0];
	p->gridDimY = k->grid[1];
	p->gridDimZ = k->grid[2];
	p->blockDimX = k->block[0];
	p->blockDimY = k->block[1];
	p->blockDimZ = k->block[2];
	p->sharedMemBytes = k->smem;
	p->kernelParams = k->argv;
}

CUresult cuGraphKernelNodeGetParams(CUgraphNode n, CUDA_KERNEL_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_KERNEL, p);

	if (!rc)
		vgpu_knode_params(&n->u.k, p);
	return rc;
}

CUresult vgpu_knode_replace(struct vgpu_knode *k, const CUDA_KERNEL_NODE_PARAMS *p)
{
	struct vgpu_knode nk;
	CUresult rc = knode_from(&nk, p);

	if (rc)
		return rc;
	vgpu_knode_free(k);
	*k = nk;
	return CUDA_SUCCESS;
}

CUresult cuGraphKernelNodeSetParams(CUgraphNode n, const CUDA_KERNEL_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_KERNEL, p);

	return rc ? rc : vgpu_knode_replace(&n->u.k, p);
}

CUresult cuGraphMemcpyNodeGetParams(CUgraphNode n, CUDA_MEMCPY3D *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_MEMCPY, p);

	if (!rc)
		*p = n->u.copy;
	return rc;
}

CUresult cuGraphMemcpyNodeSetParams(CUgraphNode n, const CUDA_MEMCPY3D *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_MEMCPY, p);

	if (!rc)
		n->u.copy = *p;
	return rc;
}

CUresult cuGraphMemsetNodeGetParams(CUgraphNode n, CUDA_MEMSET_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_MEMSET, p);

	if (!rc)
		*p = n->u.set;
	return rc;
}

CUresult cuGraphMemsetNodeSetParams(CUgraphNode n, const CUDA_MEMSET_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_MEMSET, p);

	if (!rc)
		rc = memset_check(p);
	if (!rc)
		n->u.set = *p;
	return rc;
}

CUresult cuGraphHostNodeGetParams(CUgraphNode n, CUDA_HOST_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_HOST, p);

	if (!rc)
		*p = n->u.host;
	return rc;
}

CUresult cuGraphHostNodeSetParams(CUgraphNode n, const CUDA_HOST_NODE_PARAMS *p)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_HOST, p);

	if (!rc && !p->fn)
		rc = CUDA_ERROR_INVALID_VALUE;
	if (!rc)
		n->u.host = *p;
	return rc;
}

CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode n, CUgraph *out)
{
	CUresult rc = node_arg(n, CU_GRAPH_NODE_TYPE_GRAPH, out);

	if (!rc)
		*out = n->u.child;
	return rc;
}

static CUresult event_node(CUgraphNode n, CUevent *get, CUevent set)
{
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	if (n->type != CU_GRAPH_NODE_TYPE_EVENT_RECORD && n->type != CU_GRAPH_NODE_TYPE_WAIT_EVENT)
		return CUDA_ERROR_INVALID_VALUE;
	if (get) {
		*get = n->u.ev;
		return CUDA_SUCCESS;
	}
	rc = vgpu_obj_arg(set, VGPU_OBJ_EVENT);
	if (!rc)
		n->u.ev = set;
	return rc;
}

CUresult cuGraphEventRecordNodeGetEvent(CUgraphNode n, CUevent *out)
{
	return out ? event_node(n, out, NULL) : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGraphEventRecordNodeSetEvent(CUgraphNode n, CUevent ev)
{
	return event_node(n, NULL, ev);
}

CUresult cuGraphEventWaitNodeGetEvent(CUgraphNode n, CUevent *out)
{
	return out ? event_node(n, out, NULL) : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGraphEventWaitNodeSetEvent(CUgraphNode n, CUevent ev)
{
	return event_node(n, NULL, ev);
}

/* ---- structure: nodes, edges -------------------------------------------- */

/* Copy up to *count of src[] out (NULL-padded); *count becomes the real number. */
static CUresult list_out(CUgraphNode *out, size_t *count, struct CUgraphNode_st *const *src,
			 size_t n)
{
	if (!count)
		return CUDA_ERROR_INVALID_VALUE;
	if (out) {
		for (size_t i = 0; i < *count; i++)
			out[i] = i < n ? src[i] : NULL;
	}
	*count = n;
	return CUDA_SUCCESS;
}

CUresult cuGraphGetNodes(CUgraph g, CUgraphNode *nodes, size_t *count)
{
	CUresult rc = graph_arg(g);

	return rc ? rc : list_out(nodes, count, g->nodes, g->n);
}

/* The nodes of g that pass keep(g, node, arg), into a malloc'ed array. */
static CUresult select_nodes(const struct CUgraph_st *g,
			     bool (*keep)(const struct CUgraph_st *, const struct CUgraphNode_st *,
					  const void *),
			     const void *arg, struct CUgraphNode_st ***out, size_t *n)
{
	struct CUgraphNode_st **v = malloc((g->n ? g->n : 1) * sizeof(*v));

	if (!v)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*n = 0;
	for (size_t i = 0; i < g->n; i++)
		if (keep(g, g->nodes[i], arg))
			v[(*n)++] = g->nodes[i];
	*out = v;
	return CUDA_SUCCESS;
}

static bool is_root(const struct CUgraph_st *g, const struct CUgraphNode_st *n, const void *arg)
{
	return !n->ndeps;
}

static bool depends_on(const struct CUgraph_st *g, const struct CUgraphNode_st *n,
		       const void *arg)
{
	for (size_t i = 0; i < n->ndeps; i++)
		if (n->deps[i] == arg)
			return true;
	return false;
}

static CUresult selected_out(const struct CUgraph_st *g,
			     bool (*keep)(const struct CUgraph_st *,
					  const struct CUgraphNode_st *, const void *),
			     const void *arg, CUgraphNode *out, CUgraphEdgeData *edges,
			     size_t *count)
{
	struct CUgraphNode_st **v;
	size_t n;
	CUresult rc;

	if (!count)
		return CUDA_ERROR_INVALID_VALUE;
	rc = select_nodes(g, keep, arg, &v, &n);
	if (rc)
		return rc;
	if (edges && out)
		memset(edges, 0, *count * sizeof(*edges));
	rc = list_out(out, count, v, n);
	free(v);
	return rc;
}

CUresult cuGraphGetRootNodes(CUgraph g, CUgraphNode *roots, size_t *count)
{
	CUresult rc = graph_arg(g);

	return rc ? rc : selected_out(g, is_root, NULL, roots, NULL, count);
}

CUresult cuGraphNodeGetDependencies(CUgraphNode n, CUgraphNode *deps, CUgraphEdgeData *edges,
				    size_t *count)
{
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	if (count && deps && edges)
		memset(edges, 0, *count * sizeof(*edges));
	return list_out(deps, count, n->deps, n->ndeps);
}

CUresult cuGraphNodeGetDependentNodes(CUgraphNode n, CUgraphNode *out, CUgraphEdgeData *edges,
				      size_t *count)
{
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	return rc ? rc : selected_out(n->g, depends_on, n, out, edges, count);
}

CUresult cuGraphGetEdges(CUgraph g, CUgraphNode *from, CUgraphNode *to, CUgraphEdgeData *edges,
			 size_t *count)
{
	size_t k = 0;
	CUresult rc = graph_arg(g);

	if (rc)
		return rc;
	if (!count || (!from != !to))
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < g->n; i++) {
		for (size_t j = 0; j < g->nodes[i]->ndeps; j++, k++) {
			if (from && k < *count) {
				from[k] = g->nodes[i]->deps[j];
				to[k] = g->nodes[i];
				if (edges)
					memset(&edges[k], 0, sizeof(edges[k]));
			}
		}
	}
	for (size_t i = k; from && i < *count; i++)
		from[i] = to[i] = NULL;
	*count = k;
	return CUDA_SUCCESS;
}

static CUresult edges_check(CUgraph g, const CUgraphNode *from, const CUgraphNode *to,
			    const CUgraphEdgeData *edges, size_t n)
{
	CUresult rc = graph_arg(g);

	if (rc)
		return rc;
	if (n && (!from || !to))
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < n; i++) {
		if (!node_of(g, from[i]) || !node_of(g, to[i]) || from[i] == to[i])
			return CUDA_ERROR_INVALID_VALUE;
		if (edges && (edges[i].type || edges[i].from_port || edges[i].to_port))
			return CUDA_ERROR_NOT_SUPPORTED;
	}
	return CUDA_SUCCESS;
}

CUresult cuGraphAddDependencies(CUgraph g, const CUgraphNode *from, const CUgraphNode *to,
				const CUgraphEdgeData *edges, size_t n)
{
	CUresult rc = edges_check(g, from, to, edges, n);

	for (size_t i = 0; !rc && i < n; i++)
		rc = dep_add(to[i], from[i]);
	return rc;
}

CUresult cuGraphRemoveDependencies(CUgraph g, const CUgraphNode *from, const CUgraphNode *to,
				   const CUgraphEdgeData *edges, size_t n)
{
	CUresult rc = edges_check(g, from, to, edges, n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!depends_on(g, to[i], from[i]))
			return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < n; i++)
		dep_del(to[i], from[i]);
	return CUDA_SUCCESS;
}

CUresult cuGraphDestroyNode(CUgraphNode n)
{
	struct CUgraph_st *g;
	size_t at = 0;
	CUresult rc = vgpu_obj_arg(n, VGPU_OBJ_GRAPH_NODE);

	if (rc)
		return rc;
	g = n->g;
	for (size_t i = 0; i < g->n; i++) {
		while (dep_del(g->nodes[i], n))
			;
		if (g->nodes[i] != n)
			g->nodes[at++] = g->nodes[i];
	}
	g->n = at;
	node_free(n);
	return CUDA_SUCCESS;
}

/* Graphviz output is a debugging aid the real driver offers; not served. */
CUresult cuGraphDebugDotPrint(CUgraph g, const char *path, unsigned int flags)
{
	CUresult rc = graph_arg(g);

	return rc ? rc : CUDA_ERROR_NOT_SUPPORTED;
}
