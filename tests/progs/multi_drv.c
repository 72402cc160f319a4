// SPDX-License-Identifier: MIT
/*
 * multi_drv N [IMAGE] - one application on N devices (at least 2), which
 * may be partitions of different GPUs and servers: a vector goes to
 * device 0, from each device to the next with cuMemcpyPeer (relayed when
 * they are on different servers), every device runs saxpy on its copy,
 * and device 0's context reads every result back by address.  Each
 * result is checked against the CPU.  Prints the peer copies' rate and
 * "multi devices=N OK"; exit 0 only on success.
 */
#include "tests/progs/prog.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define N	(1 << 22)	/* 16 MiB of floats */
#define MAXDEV	16

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	size_t bytes = N * sizeof(float);
	float *x = malloc(bytes), *y = malloc(bytes), *out = malloc(bytes);
	CUdeviceptr dx[MAXDEV], dy[MAXDEV];
	CUcontext ctx[MAXDEV];
	CUfunction fn[MAXDEV];
	CUmodule mod[MAXDEV];
	int want = argc > 1 ? atoi(argv[1]) : 2, count, n = N, bad = 0;
	double t, peer_s = 0;

	if (!x || !y || !out || want < 2 || want > MAXDEV) {
		fprintf(stderr, "usage: multi_drv N [IMAGE]  (2 <= N <= %d)\n", MAXDEV);
		return 2;
	}
	for (int i = 0; i < N; i++) {
		x[i] = (float)(i % 1000) * 0.5f;
		y[i] = (float)(i % 77);
	}
	CK(cuInit(0));
	CK(cuDeviceGetCount(&count));
	if (count != want) {
		printf("FAILED: %d devices, expected %d\n", count, want);
		return 1;
	}
	for (int d = 0; d < count; d++) {
		char name[128];
		size_t free_b, total;

		CK(cuCtxCreate(&ctx[d], NULL, 0, d));
		CK(cuDeviceGetName(name, sizeof(name), d));
		CK(cuMemGetInfo(&free_b, &total));
		printf("device %d: %s, %zu MiB\n", d, name, total >> 20);
		mod[d] = prog_load(argc > 2 ? argv[2] : NULL);
		CK(cuModuleGetFunction(&fn[d], mod[d], "saxpy"));
		CK(cuMemAlloc(&dx[d], bytes));
		CK(cuMemAlloc(&dy[d], bytes));
		CK(cuMemcpyHtoD(dy[d], y, bytes));
		CK(cuCtxPopCurrent(NULL));
	}
	/* device 0 gets x; each device passes it on to the next */
	CK(cuCtxPushCurrent(ctx[0]));
	CK(cuMemcpyHtoD(dx[0], x, bytes));
	for (int d = 1; d < count; d++) {
		t = now();
		CK(cuMemcpyPeer(dx[d], ctx[d], dx[d - 1], ctx[d - 1], bytes));
		peer_s += now() - t;
	}
	CK(cuCtxPopCurrent(NULL));
	for (int d = 0; d < count; d++) {
		float a = 1.5f + (float)d;
		void *params[] = { &a, &dx[d], &dy[d], &n };

		CK(cuCtxPushCurrent(ctx[d]));
		CK(cuLaunchKernel(fn[d], (N + 255) / 256, 1, 1, 256, 1, 1, 0, NULL, params, NULL));
		CK(cuCtxSynchronize());
		CK(cuCtxPopCurrent(NULL));
	}
	/* every result read back from device 0's context: the address says where */
	CK(cuCtxPushCurrent(ctx[0]));
	for (int d = 0; d < count; d++) {
		float a = 1.5f + (float)d;

		memset(out, 0, bytes);
		CK(cuMemcpyDtoH(out, dy[d], bytes));
		for (int i = 0; i < N; i++) {
			if (out[i] != a * x[i] + y[i]) {
				printf("device %d: y[%d] = %g, expected %g\n", d, i, out[i],
				       a * x[i] + y[i]);
				bad++;
				break;
			}
		}
	}
	CK(cuCtxPopCurrent(NULL));
	for (int d = 0; d < count; d++) {
		CK(cuCtxPushCurrent(ctx[d]));
		CK(cuMemFree(dx[d]));
		CK(cuMemFree(dy[d]));
		CK(cuModuleUnload(mod[d]));
		CK(cuCtxPopCurrent(NULL));
		CK(cuCtxDestroy(ctx[d]));
	}
	printf("peer copies: %d x %zu MiB in %.3f s, %.0f MiB/s\n", count - 1, bytes >> 20,
	       peer_s, (double)(count - 1) * (double)(bytes >> 20) / peer_s);
	printf("multi devices=%d %s\n", count, bad ? "FAILED" : "OK");
	return bad ? 1 : 0;
}
