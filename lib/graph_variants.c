// SPDX-License-Identifier: MIT
/*
 * graph_variants.c - the other exported names of the graph and capture
 * entry points (see variants.c for the idea): their per-thread-stream
 * forms (_ptsz; all work is ordered per session, so they are the plain
 * ones) and the original ABI that cuda.h now #defines to _v2/_v3 names
 * (no edge data, kernel-node parameters without kern/ctx, the old
 * instantiate and update signatures).
 */
#include "lib/graph.h"

#include <string.h>

#undef cuStreamBeginCapture
#undef cuStreamGetCaptureInfo
#undef cuStreamUpdateCaptureDependencies
#undef cuGraphAddKernelNode
#undef cuGraphKernelNodeGetParams
#undef cuGraphKernelNodeSetParams
#undef cuGraphExecKernelNodeSetParams
#undef cuGraphExecUpdate
#undef cuGraphGetEdges
#undef cuGraphNodeGetDependencies
#undef cuGraphNodeGetDependentNodes
#undef cuGraphAddDependencies
#undef cuGraphRemoveDependencies
#undef cuGraphAddNode
#undef cuGraphInstantiate

#define ENTRY(name, params) CUresult name params; CUresult name params

/* ---- per-thread stream forms -------------------------------------------- */

ENTRY(cuStreamBeginCapture_v2_ptsz, (CUstream s, CUstreamCaptureMode mode))
{
	return cuStreamBeginCapture_v2(s, mode);
}

ENTRY(cuStreamBeginCaptureToGraph_ptsz, (CUstream s, CUgraph g, const CUgraphNode *deps,
					 const CUgraphEdgeData *edges, size_t n,
					 CUstreamCaptureMode mode))
{
	return cuStreamBeginCaptureToGraph(s, g, deps, edges, n, mode);
}

ENTRY(cuStreamEndCapture_ptsz, (CUstream s, CUgraph *g))
{
	return cuStreamEndCapture(s, g);
}

ENTRY(cuStreamIsCapturing_ptsz, (CUstream s, CUstreamCaptureStatus *status))
{
	return cuStreamIsCapturing(s, status);
}

ENTRY(cuStreamGetCaptureInfo_v2_ptsz, (CUstream s, CUstreamCaptureStatus *status,
				       cuuint64_t *id, CUgraph *g, const CUgraphNode **deps,
				       size_t *n))
{
	return cuStreamGetCaptureInfo_v3(s, status, id, g, deps, NULL, n);
}

ENTRY(cuStreamGetCaptureInfo_v3_ptsz, (CUstream s, CUstreamCaptureStatus *status,
				       cuuint64_t *id, CUgraph *g, const CUgraphNode **deps,
				       const CUgraphEdgeData **edges, size_t *n))
{
	return cuStreamGetCaptureInfo_v3(s, status, id, g, deps, edges, n);
}

ENTRY(cuStreamUpdateCaptureDependencies_v2_ptsz, (CUstream s, CUgraphNode *deps,
						  const CUgraphEdgeData *edges, size_t n,
						  unsigned int flags))
{
	return cuStreamUpdateCaptureDependencies_v2(s, deps, edges, n, flags);
}

ENTRY(cuGraphLaunch_ptsz, (CUgraphExec e, CUstream s))
{
	return cuGraphLaunch(e, s);
}

ENTRY(cuGraphUpload_ptsz, (CUgraphExec e, CUstream s))
{
	return cuGraphUpload(e, s);
}

ENTRY(cuGraphInstantiateWithParams_ptsz, (CUgraphExec *e, CUgraph g,
					  CUDA_GRAPH_INSTANTIATE_PARAMS *p))
{
	return cuGraphInstantiateWithParams(e, g, p);
}

/* ---- the original ABI --------------------------------------------------- */

ENTRY(cuStreamBeginCapture, (CUstream s))
{
	return cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL);
}

ENTRY(cuStreamBeginCapture_ptsz, (CUstream s))
{
	return cuStreamBeginCapture_v2(s, CU_STREAM_CAPTURE_MODE_GLOBAL);
}

ENTRY(cuStreamGetCaptureInfo, (CUstream s, CUstreamCaptureStatus *status, cuuint64_t *id))
{
	return cuStreamGetCaptureInfo_v3(s, status, id, NULL, NULL, NULL, NULL);
}

ENTRY(cuStreamGetCaptureInfo_ptsz, (CUstream s, CUstreamCaptureStatus *status,
				    cuuint64_t *id))
{
	return cuStreamGetCaptureInfo_v3(s, status, id, NULL, NULL, NULL, NULL);
}

ENTRY(cuStreamUpdateCaptureDependencies, (CUstream s, CUgraphNode *deps, size_t n,
					  unsigned int flags))
{
	return cuStreamUpdateCaptureDependencies_v2(s, deps, NULL, n, flags);
}

ENTRY(cuStreamUpdateCaptureDependencies_ptsz, (CUstream s, CUgraphNode *deps, size_t n,
					       unsigned int flags))
{
	return cuStreamUpdateCaptureDependencies_v2(s, deps, NULL, n, flags);
}

static void kparams_from_v1(CUDA_KERNEL_NODE_PARAMS *p, const CUDA_KERNEL_NODE_PARAMS_v1 *o)
{
	memset(p, 0, sizeof(*p));
	memcpy(p, o, sizeof(*o));	/* v2 begins with v1's fields */
}

ENTRY(cuGraphAddKernelNode, (CUgraphNode *out, CUgraph g, const CUgraphNode *deps, size_t n,
			     const CUDA_KERNEL_NODE_PARAMS_v1 *o))
{
	CUDA_KERNEL_NODE_PARAMS p;

	if (!o)
		return CUDA_ERROR_INVALID_VALUE;
	kparams_from_v1(&p, o);
	return cuGraphAddKernelNode_v2(out, g, deps, n, &p);
}

ENTRY(cuGraphKernelNodeGetParams, (CUgraphNode node, CUDA_KERNEL_NODE_PARAMS_v1 *o))
{
	CUDA_KERNEL_NODE_PARAMS p;
	CUresult rc;

	if (!o)
		return CUDA_ERROR_INVALID_VALUE;
	rc = cuGraphKernelNodeGetParams_v2(node, &p);
	if (rc)
		return rc;
	memcpy(o, &p, sizeof(*o));
	if (!o->func)
		o->func = (CUfunction)p.kern;
	return CUDA_SUCCESS;
}

ENTRY(cuGraphKernelNodeSetParams, (CUgraphNode node, const CUDA_KERNEL_NODE_PARAMS_v1 *o))
{
	CUDA_KERNEL_NODE_PARAMS p;

	if (!o)
		return CUDA_ERROR_INVALID_VALUE;
	kparams_from_v1(&p, o);
	return cuGraphKernelNodeSetParams_v2(node, &p);
}

ENTRY(cuGraphExecKernelNodeSetParams, (CUgraphExec e, CUgraphNode node,
				       const CUDA_KERNEL_NODE_PARAMS_v1 *o))
{
	CUDA_KERNEL_NODE_PARAMS p;

	if (!o)
		return CUDA_ERROR_INVALID_VALUE;
	kparams_from_v1(&p, o);
	return cuGraphExecKernelNodeSetParams_v2(e, node, &p);
}

ENTRY(cuGraphExecUpdate, (CUgraphExec e, CUgraph g, CUgraphNode *err_node,
			  CUgraphExecUpdateResult *result))
{
	CUgraphExecUpdateResultInfo info = { 0 };
	CUresult rc = cuGraphExecUpdate_v2(e, g, &info);

	if (err_node)
		*err_node = info.errorNode;
	if (result)
		*result = info.result;
	return rc;
}

ENTRY(cuGraphGetEdges, (CUgraph g, CUgraphNode *from, CUgraphNode *to, size_t *n))
{
	return cuGraphGetEdges_v2(g, from, to, NULL, n);
}

ENTRY(cuGraphNodeGetDependencies, (CUgraphNode node, CUgraphNode *deps, size_t *n))
{
	return cuGraphNodeGetDependencies_v2(node, deps, NULL, n);
}

ENTRY(cuGraphNodeGetDependentNodes, (CUgraphNode node, CUgraphNode *out, size_t *n))
{
	return cuGraphNodeGetDependentNodes_v2(node, out, NULL, n);
}

ENTRY(cuGraphAddDependencies, (CUgraph g, const CUgraphNode *from, const CUgraphNode *to,
			       size_t n))
{
	return cuGraphAddDependencies_v2(g, from, to, NULL, n);
}

ENTRY(cuGraphRemoveDependencies, (CUgraph g, const CUgraphNode *from, const CUgraphNode *to,
				  size_t n))
{
	return cuGraphRemoveDependencies_v2(g, from, to, NULL, n);
}

ENTRY(cuGraphAddNode, (CUgraphNode *out, CUgraph g, const CUgraphNode *deps, size_t n,
		       CUgraphNodeParams *p))
{
	return cuGraphAddNode_v2(out, g, deps, NULL, n, p);
}

/*
 * The first instantiate: an error node (none to report: the only failure,
 * a cycle, has no single culprit) and a log buffer, left untouched.
 */
static CUresult instantiate_v1(CUgraphExec *e, CUgraph g, CUgraphNode *err_node, char *log,
			       size_t log_size)
{
	CUresult rc = cuGraphInstantiateWithFlags(e, g, 0);

	if (err_node)
		*err_node = NULL;
	return rc;
}

ENTRY(cuGraphInstantiate, (CUgraphExec *e, CUgraph g, CUgraphNode *err_node, char *log,
			   size_t log_size))
{
	return instantiate_v1(e, g, err_node, log, log_size);
}

ENTRY(cuGraphInstantiate_v2, (CUgraphExec *e, CUgraph g, CUgraphNode *err_node, char *log,
			      size_t log_size))
{
	return instantiate_v1(e, g, err_node, log, log_size);
}
