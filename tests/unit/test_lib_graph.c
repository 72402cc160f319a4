// SPDX-License-Identifier: MIT
/*
 * test_lib_graph.c - CUDA graphs and stream capture in lib/ (graph.c,
 * graph_exec.c, capture.c) against an in-process sim server
 * (lib_server.c): capture of copies, memsets, kernels and host functions
 * that run only when the graph is launched (and then every time), fork and
 * join across streams through events, what invalidates a capture, graphs
 * built by hand with edges, cycles, per-node and whole-graph updates,
 * disabled nodes, clones, child graphs, and bad handles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <cuda.h>

#include "tests/unit/lib_server.h"

enum { N = 1024 };

static CUmodule mod;
static CUfunction saxpy, fill;
static int host_calls;

static void count_call(void *arg)
{
	host_calls += *(int *)arg;
}

static void load_module(void)
{
	make_ctx();
	if (!mod) {
		assert_int_equal(cuModuleLoadData(&mod, SIM_IMAGE), CUDA_SUCCESS);
		assert_int_equal(cuModuleGetFunction(&saxpy, mod, "saxpy"), CUDA_SUCCESS);
		assert_int_equal(cuModuleGetFunction(&fill, mod, "fill_u32"), CUDA_SUCCESS);
	}
}

static CUresult launch_saxpy(CUstream s, float a, CUdeviceptr x, CUdeviceptr y)
{
	unsigned int n = N;
	void *args[] = { &a, &x, &y, &n };

	return cuLaunchKernel(saxpy, N / 256, 1, 1, 256, 1, 1, 0, s, args, NULL);
}

static void check_saxpy(const float *y, const float *x, float a, float y0)
{
	for (int i = 0; i < N; i++)
		assert_float_equal(y[i], a * x[i] + y0, 1e-5);
}

static void node_count(CUgraph g, size_t want)
{
	size_t n = 0;

	assert_int_equal(cuGraphGetNodes(g, NULL, &n), CUDA_SUCCESS);
	assert_int_equal(n, want);
}

/* ---- capture ----------------------------------------------------------- */

static void test_capture_replay(void **state)
{
	static float hx[N], hy[N];
	CUdeviceptr x, y;
	CUstream s;
	CUgraph g;
	CUgraphExec e;
	CUstreamCaptureStatus st;
	cuuint64_t id = 0;
	CUgraph cg = NULL;
	const CUgraphNode *deps = NULL;
	const CUgraphEdgeData *edges = NULL;
	size_t ndeps = 7, nroots = 0, nedges = 0;
	CUgraphNode roots[2];
	CUgraphNodeType type;
	float one = 1.0f;
	int step = 1;
	uint32_t one_bits;

	memcpy(&one_bits, &one, 4);
	load_module();
	host_calls = 0;
	for (int i = 0; i < N; i++)
		hx[i] = (float)i;
	memset(hy, 0, sizeof(hy));
	assert_int_equal(cuMemAlloc(&x, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&y, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);

	assert_int_equal(cuStreamIsCapturing(s, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_NONE);
	assert_int_equal(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuStreamIsCapturing(s, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_ACTIVE);
	assert_int_equal(cuStreamGetCaptureInfo(s, &st, &id, &cg, &deps, &edges, &ndeps),
			 CUDA_SUCCESS);
	assert_true(id != 0);
	assert_non_null(cg);
	assert_int_equal(ndeps, 0);

	assert_int_equal(cuMemsetD32Async(y, one_bits, N, s), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoDAsync(x, hx, N * 4, s), CUDA_SUCCESS);
	assert_int_equal(launch_saxpy(s, 2.0f, x, y), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoHAsync(hy, y, N * 4, s), CUDA_SUCCESS);
	assert_int_equal(cuLaunchHostFunc(s, count_call, &step), CUDA_SUCCESS);
	assert_int_equal(cuStreamGetCaptureInfo(s, &st, &id, &cg, &deps, &edges, &ndeps),
			 CUDA_SUCCESS);
	assert_int_equal(ndeps, 1);
	assert_int_equal(cuGraphNodeGetType(deps[0], &type), CUDA_SUCCESS);
	assert_int_equal(type, CU_GRAPH_NODE_TYPE_HOST);
	assert_non_null(edges);
	assert_int_equal(edges[0].type, 0);
	/* captured, not run */
	assert_int_equal(host_calls, 0);
	assert_float_equal(hy[5], 0.0f, 0);

	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_SUCCESS);
	assert_ptr_equal(g, cg);
	assert_int_equal(cuStreamIsCapturing(s, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_NONE);
	node_count(g, 5);
	nroots = 2;
	assert_int_equal(cuGraphGetRootNodes(g, roots, &nroots), CUDA_SUCCESS);
	assert_int_equal(nroots, 1);
	assert_null(roots[1]);
	assert_int_equal(cuGraphNodeGetType(roots[0], &type), CUDA_SUCCESS);
	assert_int_equal(type, CU_GRAPH_NODE_TYPE_MEMSET);
	assert_int_equal(cuGraphGetEdges(g, NULL, NULL, NULL, &nedges), CUDA_SUCCESS);
	assert_int_equal(nedges, 4);
	assert_float_equal(hy[5], 0.0f, 0);

	/* auto-free-on-launch (PyTorch's flag) has nothing to free; device launch is refused */
	assert_int_equal(cuGraphInstantiateWithFlags(&e, g,
			 CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH |
			 CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH),
			 CUDA_ERROR_NOT_SUPPORTED);
	assert_int_equal(cuGraphInstantiateWithFlags(&e, g,
			 CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH), CUDA_SUCCESS);
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	/* each launch runs it all again, reading the host buffer as it is then */
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_SUCCESS);
	for (int round = 1; round <= 3; round++) {
		for (int i = 0; i < N; i++)
			hx[i] = (float)(i * round);
		memset(hy, 0, sizeof(hy));
		assert_int_equal(cuGraphLaunch(e, s), CUDA_SUCCESS);
		assert_int_equal(cuStreamSynchronize(s), CUDA_SUCCESS);
		check_saxpy(hy, hx, 2.0f, 1.0f);
		assert_int_equal(host_calls, round);
	}
	/* the graph outlives its source graph */
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	assert_int_equal(host_calls, 4);
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuGraphDestroy(g), CUDA_ERROR_INVALID_HANDLE);

	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(x), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(y), CUDA_SUCCESS);
}

/* s1 forks s2 through an event and joins it back: one graph with a diamond. */
static void test_capture_fork_join(void **state)
{
	static uint32_t h[2 * N];
	CUdeviceptr d;
	CUstream s1, s2;
	CUevent fork_ev, join_ev;
	CUgraph g;
	CUgraphExec e;
	CUgraphNode nodes[8], deps[4];
	CUstreamCaptureStatus st;
	size_t n = 8, nd = 4;
	CUgraphNodeType type;
	unsigned int cnt = N, v = 7;
	void *args[3];
	CUdeviceptr second;

	load_module();
	assert_int_equal(cuMemAlloc(&d, 2 * N * 4), CUDA_SUCCESS);
	second = d + N * 4;
	assert_int_equal(cuStreamCreate(&s1, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s2, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&fork_ev, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&join_ev, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);

	assert_int_equal(cuStreamBeginCapture(s1, CU_STREAM_CAPTURE_MODE_RELAXED), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32Async(d, 0, 2 * N, s1), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(fork_ev, s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s2, fork_ev, 0), CUDA_SUCCESS);	/* s2 joins */
	assert_int_equal(cuStreamIsCapturing(s2, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_ACTIVE);
	args[0] = &d;
	args[1] = &v;
	args[2] = &cnt;
	assert_int_equal(cuLaunchKernel(fill, 4, 1, 1, 256, 1, 1, 0, s1, args, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32Async(second, 9, N, s2), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(join_ev, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s1, join_ev, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoHAsync(h, d, sizeof(h), s1), CUDA_SUCCESS);
	/* only the origin ends it */
	assert_int_equal(cuStreamEndCapture(s2, &g), CUDA_ERROR_STREAM_CAPTURE_UNMATCHED);
	assert_int_equal(cuStreamEndCapture(s1, &g), CUDA_SUCCESS);
	assert_int_equal(cuStreamIsCapturing(s2, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_NONE);

	assert_int_equal(cuGraphGetNodes(g, nodes, &n), CUDA_SUCCESS);
	assert_int_equal(n, 4);
	/* the copy waits for both branches */
	assert_int_equal(cuGraphNodeGetType(nodes[3], &type), CUDA_SUCCESS);
	assert_int_equal(type, CU_GRAPH_NODE_TYPE_MEMCPY);
	assert_int_equal(cuGraphNodeGetDependencies(nodes[3], deps, NULL, &nd), CUDA_SUCCESS);
	assert_int_equal(nd, 2);
	nd = 4;
	assert_int_equal(cuGraphNodeGetDependentNodes(nodes[0], deps, NULL, &nd), CUDA_SUCCESS);
	assert_int_equal(nd, 2);

	memset(h, 0xff, sizeof(h));
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s1), CUDA_SUCCESS);
	for (int i = 0; i < N; i++) {
		assert_int_equal(h[i], 7);
		assert_int_equal(h[N + i], 9);
	}
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	/* an event recorded in the capture is an ordinary event again */
	assert_int_equal(cuEventRecord(join_ev, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s1, join_ev, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventSynchronize(join_ev), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(fork_ev), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(join_ev), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s2), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
}

static void test_capture_errors(void **state)
{
	CUstream s, s2;
	CUgraph g = (CUgraph)1;
	CUstreamCaptureStatus st;
	CUdeviceptr d;
	CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;

	load_module();
	assert_int_equal(cuMemAlloc(&d, 4096), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s2, 0), CUDA_SUCCESS);

	/* the default streams cannot capture; nothing to end; twice is once too many */
	assert_int_equal(cuStreamBeginCapture(NULL, CU_STREAM_CAPTURE_MODE_GLOBAL),
			 CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(cuStreamBeginCapture(CU_STREAM_LEGACY, CU_STREAM_CAPTURE_MODE_GLOBAL),
			 CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(cuStreamIsCapturing(NULL, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_NONE);
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_ERROR_ILLEGAL_STATE);
	assert_int_equal(cuStreamBeginCapture(s, 7), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuStreamBeginCapture((CUstream)&st, 0), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuStreamIsCapturing(s, NULL), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL),
			 CUDA_ERROR_ILLEGAL_STATE);
	/* other streams are not affected */
	assert_int_equal(cuMemsetD8Async(d, 1, 16, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s2), CUDA_SUCCESS);
	/* synchronising a capturing stream invalidates the capture */
	assert_int_equal(cuMemsetD8Async(d, 1, 16, s), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(cuStreamIsCapturing(s, &st), CUDA_SUCCESS);
	assert_int_equal(st, CU_STREAM_CAPTURE_STATUS_INVALIDATED);
	assert_int_equal(cuMemsetD8Async(d, 1, 16, s), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);
	assert_null(g);

	/* a query is refused the same way */
	assert_int_equal(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuStreamQuery(s), CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);

	/* a stream destroyed while capturing: the capture is gone with it */
	assert_int_equal(cuStreamBeginCapture(s2, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD8Async(d, 1, 16, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s2), CUDA_SUCCESS);

	/* the thread's capture mode is swapped, not checked */
	assert_int_equal(cuThreadExchangeStreamCaptureMode(&mode), CUDA_SUCCESS);
	assert_int_equal(mode, CU_STREAM_CAPTURE_MODE_GLOBAL);
	assert_int_equal(cuThreadExchangeStreamCaptureMode(&mode), CUDA_SUCCESS);
	assert_int_equal(mode, CU_STREAM_CAPTURE_MODE_RELAXED);
	mode = 9;
	assert_int_equal(cuThreadExchangeStreamCaptureMode(&mode), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
}

/* Capturing into an existing graph, after given nodes, with explicit dependency updates. */
static void test_capture_to_graph(void **state)
{
	CUdeviceptr d;
	CUstream s;
	CUgraph g;
	CUgraphNode first, extra, nodes[4], deps[4];
	size_t n = 4, nd = 4;
	uint32_t h[16];
	CUgraphExec e;
	CUDA_MEMSET_NODE_PARAMS sp = { .value = 3, .elementSize = 4, .width = 16, .height = 1 };

	load_module();
	assert_int_equal(cuMemAlloc(&d, 64), CUDA_SUCCESS);
	sp.dst = d;
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphCreate(&g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddMemsetNode(&first, g, NULL, 0, &sp, NULL), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddEmptyNode(&extra, g, NULL, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamBeginCaptureToGraph(s, g, &first, NULL, 1,
						     CU_STREAM_CAPTURE_MODE_GLOBAL),
			 CUDA_SUCCESS);
	assert_int_equal(cuStreamUpdateCaptureDependencies(s, &extra, NULL, 1,
							   CU_STREAM_ADD_CAPTURE_DEPENDENCIES),
			 CUDA_SUCCESS);
	assert_int_equal(cuStreamUpdateCaptureDependencies(s, &extra, NULL, 1, 5),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemcpyDtoHAsync(h, d, sizeof(h), s), CUDA_SUCCESS);
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_SUCCESS);
	assert_int_equal(cuGraphGetNodes(g, nodes, &n), CUDA_SUCCESS);
	assert_int_equal(n, 3);
	assert_int_equal(cuGraphNodeGetDependencies(nodes[2], deps, NULL, &nd), CUDA_SUCCESS);
	assert_int_equal(nd, 2);

	memset(h, 0, sizeof(h));
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, s), CUDA_SUCCESS);
	for (int i = 0; i < 16; i++)
		assert_int_equal(h[i], 3);
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
}

/* ---- graphs built by hand ----------------------------------------------- */

static void test_explicit_graph(void **state)
{
	static uint32_t h[N];
	CUdeviceptr d;
	CUgraph g, child, clone;
	CUgraphExec e;
	CUgraphNode set, kern, copy, host, sub, cn, found;
	CUgraphNode from[1], to[1];
	CUDA_MEMSET_NODE_PARAMS sp = { .value = 1, .elementSize = 4, .width = N, .height = 1 };
	CUDA_KERNEL_NODE_PARAMS kp = { 0 }, got;
	CUDA_MEMCPY3D cp;
	CUDA_HOST_NODE_PARAMS hp;
	CUgraphExecUpdateResultInfo info;
	unsigned int v = 5, cnt = N, enabled = 9;
	void *args[3] = { &d, &v, &cnt };
	int step = 10;

	load_module();
	host_calls = 0;
	assert_int_equal(cuMemAlloc(&d, N * 4), CUDA_SUCCESS);
	sp.dst = d;
	kp.func = fill;
	kp.gridDimX = N / 256;
	kp.gridDimY = kp.gridDimZ = 1;
	kp.blockDimX = 256;
	kp.blockDimY = kp.blockDimZ = 1;
	kp.kernelParams = args;
	memset(&cp, 0, sizeof(cp));
	cp.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	cp.srcDevice = d;
	cp.dstMemoryType = CU_MEMORYTYPE_HOST;
	cp.dstHost = h;
	cp.WidthInBytes = N * 4;
	cp.Height = cp.Depth = 1;
	hp.fn = count_call;
	hp.userData = &step;

	assert_int_equal(cuGraphCreate(&g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphCreate(&child, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddMemsetNode(&set, g, NULL, 0, &sp, NULL), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddKernelNode(&kern, g, &set, 1, &kp), CUDA_SUCCESS);
	v = 99;	/* the node copied the value */
	assert_int_equal(cuGraphAddMemcpyNode(&copy, g, &kern, 1, &cp, NULL), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddHostNode(&cn, child, NULL, 0, &hp), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddChildGraphNode(&sub, g, &copy, 1, child), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddHostNode(&host, g, &sub, 1, &hp), CUDA_SUCCESS);
	node_count(g, 5);

	/* parameters come back; kernelParams point at the copied values */
	assert_int_equal(cuGraphKernelNodeGetParams(kern, &got), CUDA_SUCCESS);
	assert_ptr_equal(got.func, fill);
	assert_int_equal(got.gridDimX, N / 256);
	assert_int_equal(*(unsigned int *)got.kernelParams[1], 5);
	assert_int_equal(*(CUdeviceptr *)got.kernelParams[0], d);

	/* bad input */
	assert_int_equal(cuGraphAddKernelNode(&cn, g, &cn, 1, &kp), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphAddKernelNode(&cn, g, NULL, 0, NULL), CUDA_ERROR_INVALID_VALUE);
	sp.elementSize = 3;
	assert_int_equal(cuGraphAddMemsetNode(&cn, g, NULL, 0, &sp, NULL), CUDA_ERROR_INVALID_VALUE);
	sp.elementSize = 4;
	assert_int_equal(cuGraphMemsetNodeGetParams(kern, &sp), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphAddEmptyNode(&cn, (CUgraph)&sp, NULL, 0),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuGraphAddChildGraphNode(&cn, g, NULL, 0, g), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphCreate(&clone, 1), CUDA_ERROR_INVALID_VALUE);

	/* a cycle cannot be instantiated; removing the edge again mends it */
	from[0] = host;
	to[0] = set;
	assert_int_equal(cuGraphAddDependencies(g, from, to, NULL, 1), CUDA_SUCCESS);
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphRemoveDependencies(g, from, to, NULL, 1), CUDA_SUCCESS);
	assert_int_equal(cuGraphRemoveDependencies(g, from, to, NULL, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphAddDependencies(g, from, from, NULL, 1), CUDA_ERROR_INVALID_VALUE);

	memset(h, 0, sizeof(h));
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_int_equal(h[i], 5);
	assert_int_equal(host_calls, 20);	/* the child's and the graph's host nodes */

	/* changing the source graph leaves the executable graph alone ... */
	v = 6;
	assert_int_equal(cuGraphKernelNodeSetParams(kern, &kp), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	assert_int_equal(h[17], 5);
	/* ... until it is updated, per node or whole */
	v = 7;
	assert_int_equal(cuGraphExecKernelNodeSetParams(e, kern, &kp), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	assert_int_equal(h[17], 7);
	assert_int_equal(cuGraphExecUpdate(e, g, &info), CUDA_SUCCESS);
	assert_int_equal(info.result, CU_GRAPH_EXEC_UPDATE_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	assert_int_equal(h[17], 6);
	assert_int_equal(cuGraphExecMemsetNodeSetParams(e, kern, &sp, NULL), CUDA_ERROR_INVALID_VALUE);

	/* a disabled node is skipped */
	assert_int_equal(cuGraphNodeSetEnabled(e, host, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphNodeGetEnabled(e, host, &enabled), CUDA_SUCCESS);
	assert_int_equal(enabled, 0);
	host_calls = 0;
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	assert_int_equal(host_calls, 10);

	/* a clone is independent and its nodes are found from the originals */
	assert_int_equal(cuGraphClone(&clone, g), CUDA_SUCCESS);
	node_count(clone, 5);
	assert_int_equal(cuGraphNodeFindInClone(&found, kern, clone), CUDA_SUCCESS);
	assert_ptr_not_equal(found, kern);
	assert_int_equal(cuGraphDestroyNode(found), CUDA_SUCCESS);
	node_count(clone, 4);
	node_count(g, 5);
	/* a different topology cannot update the executable graph */
	assert_int_equal(cuGraphExecUpdate(e, clone, &info), CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE);
	assert_int_equal(info.result, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED);

	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(clone), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(child), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroyNode(kern), CUDA_SUCCESS);
	node_count(g, 4);
	assert_int_equal(cuGraphNodeGetType(kern, NULL), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	assert_int_equal(cuGraphNodeGetType(set, NULL), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
}

/* cuGraphAddNode's generic form, and kernel nodes made from a CUkernel. */
static void test_generic_add_and_kernels(void **state)
{
	CUlibrary lib;
	CUkernel k;
	CUdeviceptr d;
	CUgraph g;
	CUgraphExec e;
	CUgraphNode n1, n2;
	CUgraphNodeParams p;
	CUDA_KERNEL_NODE_PARAMS got;
	unsigned int v = 11, cnt = 64;
	void *args[3] = { &d, &v, &cnt };
	uint32_t h[64];

	load_module();
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "fill_u32"), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&d, sizeof(h)), CUDA_SUCCESS);
	assert_int_equal(cuGraphCreate(&g, 0), CUDA_SUCCESS);

	memset(&p, 0, sizeof(p));
	p.type = CU_GRAPH_NODE_TYPE_KERNEL;
	p.kernel.kern = k;
	p.kernel.gridDimX = p.kernel.gridDimY = p.kernel.gridDimZ = 1;
	p.kernel.blockDimX = 64;
	p.kernel.blockDimY = p.kernel.blockDimZ = 1;
	p.kernel.kernelParams = args;
	assert_int_equal(cuGraphAddNode(&n1, g, NULL, NULL, 0, &p), CUDA_SUCCESS);
	assert_int_equal(cuGraphKernelNodeGetParams(n1, &got), CUDA_SUCCESS);
	assert_ptr_equal(got.kern, k);
	assert_null(got.func);
	memset(&p, 0, sizeof(p));
	p.type = CU_GRAPH_NODE_TYPE_MEMCPY;
	p.memcpy.copyParams.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	p.memcpy.copyParams.srcDevice = d;
	p.memcpy.copyParams.dstMemoryType = CU_MEMORYTYPE_UNIFIED;
	p.memcpy.copyParams.dstDevice = (CUdeviceptr)(uintptr_t)h;
	p.memcpy.copyParams.WidthInBytes = sizeof(h);
	p.memcpy.copyParams.Height = p.memcpy.copyParams.Depth = 1;
	assert_int_equal(cuGraphAddNode(&n2, g, &n1, NULL, 1, &p), CUDA_SUCCESS);
	p.type = CU_GRAPH_NODE_TYPE_MEM_ALLOC;
	assert_int_equal(cuGraphAddNode(&n2, g, NULL, NULL, 0, &p), CUDA_ERROR_NOT_SUPPORTED);

	memset(h, 0, sizeof(h));
	assert_int_equal(cuGraphInstantiate(&e, g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(e, NULL), CUDA_SUCCESS);
	for (int i = 0; i < 64; i++)
		assert_int_equal(h[i], 11);
	assert_int_equal(cuGraphInstantiate(&e, g, CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH),
			 CUDA_ERROR_NOT_SUPPORTED);
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
	assert_int_equal(cuLibraryUnload(lib), CUDA_SUCCESS);
}

static int cb_calls;

static void count_cb(CUstream s, CUresult status, void *arg)
{
	cb_calls++;
}

/* Graphs something else owns, the capture API's arrays, and what a capture takes in. */
static void test_ownership_and_capture_edges(void **state)
{
	CUgraph g, child, inner, cg;
	CUgraphNode sub, e1, deps[4];
	const CUgraphNode *d = NULL;
	const CUgraphEdgeData *ed = NULL;
	CUstreamCaptureStatus st;
	CUgraphExec x;
	CUstream s1, s2;
	CUevent outside;
	size_t n = 0, nn = 4;
	CUdeviceptr dp;

	load_module();
	assert_int_equal(cuMemAlloc(&dp, 256), CUDA_SUCCESS);
	/* a child-graph node's graph belongs to the node */
	assert_int_equal(cuGraphCreate(&g, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphCreate(&child, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddEmptyNode(&e1, child, NULL, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphAddChildGraphNode(&sub, g, NULL, 0, child), CUDA_SUCCESS);
	assert_int_equal(cuGraphChildGraphNodeGetGraph(sub, &inner), CUDA_SUCCESS);
	assert_ptr_not_equal(inner, child);
	assert_int_equal(cuGraphDestroy(inner), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGraphDestroy(child), CUDA_SUCCESS);	/* the caller's own copy */
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);

	/* a capture's graph cannot be destroyed under it */
	assert_int_equal(cuStreamCreate(&s1, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s2, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventCreate(&outside, 0), CUDA_SUCCESS);
	assert_int_equal(cuEventRecord(outside, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamBeginCapture(s1, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD8Async(dp, 1, 256, s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamGetCaptureInfo(s1, &st, NULL, &cg, &d, &ed, &n), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(cg), CUDA_ERROR_INVALID_VALUE);
	/* the dependency array handed out may be handed back */
	assert_int_equal(n, 1);
	assert_int_equal(cuStreamUpdateCaptureDependencies(s1, (CUgraphNode *)d, NULL, n,
							   CU_STREAM_ADD_CAPTURE_DEPENDENCIES),
			 CUDA_SUCCESS);
	assert_int_equal(cuStreamGetCaptureInfo(s1, &st, NULL, NULL, &d, &ed, &n), CUDA_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(ed[0].type, 0);
	/* an event from outside the capture: the graph waits for it when it runs */
	assert_int_equal(cuStreamWaitEvent(s1, outside, 0), CUDA_SUCCESS);
	/* a callback cannot be captured: refused, not run, the capture invalidated */
	cb_calls = 0;
	assert_int_equal(cuStreamAddCallback(s1, count_cb, NULL, 0),
			 CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED);
	assert_int_equal(cb_calls, 0);
	assert_int_equal(cuStreamEndCapture(s1, &cg), CUDA_ERROR_STREAM_CAPTURE_INVALIDATED);

	/* the same without the callback: memset, then the external wait */
	assert_int_equal(cuStreamBeginCapture(s1, CU_STREAM_CAPTURE_MODE_GLOBAL), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD8Async(dp, 1, 256, s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamWaitEvent(s1, outside, 0), CUDA_SUCCESS);
	assert_int_equal(cuStreamEndCapture(s1, &cg), CUDA_SUCCESS);
	assert_int_equal(cuGraphGetNodes(cg, deps, &nn), CUDA_SUCCESS);
	assert_int_equal(nn, 2);
	/* one executable graph launched on two streams, in order */
	assert_int_equal(cuGraphInstantiate(&x, cg, 0), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(x, s1), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(x, s2), CUDA_SUCCESS);
	assert_int_equal(cuGraphLaunch(x, s2), CUDA_SUCCESS);
	assert_int_equal(cuStreamSynchronize(s2), CUDA_SUCCESS);
	assert_int_equal(cuGraphExecDestroy(x), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(cg), CUDA_SUCCESS);
	assert_int_equal(cuEventDestroy(outside), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s1), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s2), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(dp), CUDA_SUCCESS);
}

/* The original ABI and per-thread forms, as cuGetProcAddress hands them to older runtimes. */
static void test_old_abi(void **state)
{
	CUresult (*begin_v1)(CUstream);
	CUresult (*info_v1)(CUstream, CUstreamCaptureStatus *, cuuint64_t *);
	CUresult (*add_kernel_v1)(CUgraphNode *, CUgraph, const CUgraphNode *, size_t,
				  const CUDA_KERNEL_NODE_PARAMS_v1 *);
	CUresult (*get_kernel_v1)(CUgraphNode, CUDA_KERNEL_NODE_PARAMS_v1 *);
	CUresult (*instantiate_v1)(CUgraphExec *, CUgraph, CUgraphNode *, char *, size_t);
	CUresult (*edges_v1)(CUgraph, CUgraphNode *, CUgraphNode *, size_t *);
	CUresult (*launch_ptsz)(CUgraphExec, CUstream);
	CUdriverProcAddressQueryResult st;
	CUDA_KERNEL_NODE_PARAMS_v1 kp = { 0 }, got;
	CUstreamCaptureStatus cs;
	cuuint64_t id = 0;
	CUgraphNode n, err = (CUgraphNode)1;
	CUgraphExec e;
	CUgraph g;
	CUstream s;
	CUdeviceptr d;
	unsigned int v = 42, cnt = 64;
	void *args[3] = { &d, &v, &cnt };
	char log[16] = "untouched";
	size_t ne = 0;
	uint32_t h[64];

	load_module();
	assert_int_equal(cuGetProcAddress("cuStreamBeginCapture", (void **)&begin_v1, 10000, 0, &st),
			 CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuStreamGetCaptureInfo", (void **)&info_v1, 10010,
					  CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st),
			 CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuGraphAddKernelNode", (void **)&add_kernel_v1, 11000, 0,
					  &st), CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuGraphKernelNodeGetParams", (void **)&get_kernel_v1,
					  11000, 0, &st), CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuGraphInstantiate", (void **)&instantiate_v1, 11000, 0,
					  &st), CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuGraphGetEdges", (void **)&edges_v1, 11000, 0, &st),
			 CUDA_SUCCESS);
	assert_int_equal(cuGetProcAddress("cuGraphLaunch", (void **)&launch_ptsz, 13000,
					  CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st),
			 CUDA_SUCCESS);

	assert_int_equal(cuMemAlloc(&d, sizeof(h)), CUDA_SUCCESS);
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(begin_v1(s), CUDA_SUCCESS);
	assert_int_equal(info_v1(s, &cs, &id), CUDA_SUCCESS);
	assert_int_equal(cs, CU_STREAM_CAPTURE_STATUS_ACTIVE);
	assert_true(id != 0);
	assert_int_equal(cuMemsetD32Async(d, 0, 64, s), CUDA_SUCCESS);
	assert_int_equal(cuStreamEndCapture(s, &g), CUDA_SUCCESS);

	/* a kernel node from the parameters without kern/ctx */
	kp.func = fill;
	kp.gridDimX = kp.gridDimY = kp.gridDimZ = 1;
	kp.blockDimX = 64;
	kp.blockDimY = kp.blockDimZ = 1;
	kp.kernelParams = args;
	assert_int_equal(add_kernel_v1(&n, g, NULL, 0, &kp), CUDA_SUCCESS);
	assert_int_equal(get_kernel_v1(n, &got), CUDA_SUCCESS);
	assert_ptr_equal(got.func, fill);
	assert_int_equal(*(unsigned int *)got.kernelParams[1], 42);
	{
		CUgraphNode nodes[2];
		size_t nn = 2;

		assert_int_equal(cuGraphGetNodes(g, nodes, &nn), CUDA_SUCCESS);
		assert_int_equal(cuGraphAddDependencies(g, &nodes[0], &nodes[1], NULL, 1),
				 CUDA_SUCCESS);
	}
	assert_int_equal(edges_v1(g, NULL, NULL, &ne), CUDA_SUCCESS);
	assert_int_equal(ne, 1);
	assert_int_equal(instantiate_v1(&e, g, &err, log, sizeof(log)), CUDA_SUCCESS);
	assert_null(err);
	assert_string_equal(log, "untouched");
	memset(h, 0, sizeof(h));
	assert_int_equal(launch_ptsz(e, s), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(h, d, sizeof(h)), CUDA_SUCCESS);
	for (int i = 0; i < 64; i++)
		assert_int_equal(h[i], 42);
	assert_int_equal(cuGraphExecDestroy(e), CUDA_SUCCESS);
	assert_int_equal(cuGraphDestroy(g), CUDA_SUCCESS);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(d), CUDA_SUCCESS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_replay),
		cmocka_unit_test(test_capture_fork_join),
		cmocka_unit_test(test_capture_errors),
		cmocka_unit_test(test_capture_to_graph),
		cmocka_unit_test(test_explicit_graph),
		cmocka_unit_test(test_generic_add_and_kernels),
		cmocka_unit_test(test_old_abi),
		cmocka_unit_test(test_ownership_and_capture_edges),
	};

	return cmocka_run_group_tests(tests, lib_server_start, NULL);
}
