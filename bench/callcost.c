// SPDX-License-Identifier: MIT
/*
 * callcost - what one driver call costs through the library it runs on:
 * native (NVIDIA's libcuda.so.1), vgpu's direct transport (VGPU_SERVER) or
 * the device node.  Same binary, same machine; only LD_LIBRARY_PATH and the
 * environment change, so the ratios compare the paths and nothing else.
 *
 *   callcost [iterations]
 *
 * Prints one line per measurement, "name value unit", for bench/run-gpu.sh:
 *   sync_us          cuCtxSynchronize round trip (an empty call)
 *   launch_sync_us   launch of an empty kernel (fill_u32 n=0) + synchronize
 *   launch_async_us  per launch, of 1000 empty launches in a row then one
 *                    synchronize (what an application queueing work pays)
 *   htod_4k_us / dtoh_4k_us   4 KiB copies
 *   htod_gbps / dtoh_gbps     64 MiB copies, pageable host memory
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "tests/progs/prog.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* median of n samples (sorted in place) */
static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[n / 2];
}

#define MAXN 20000

int main(int argc, char **argv)
{
	static double t[MAXN];
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	size_t big = 64u << 20;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fill;
	CUdeviceptr d, dbig;
	unsigned int v = 0;
	int zero = 0;
	void *params[] = { &d, &v, &zero };
	char *h, *hbig;
	double t0;

	if (n < 10 || n > MAXN)
		n = 2000;
	prog_setup(&ctx);
	mod = prog_load(getenv("CALLCOST_IMAGE"));
	CK(cuModuleGetFunction(&fill, mod, "fill_u32"));
	CK(cuMemAlloc(&d, 4096));
	CK(cuMemAlloc(&dbig, big));
	h = calloc(1, 4096);
	hbig = malloc(big);
	if (!h || !hbig)
		return 1;
	memset(hbig, 1, big);

	for (int i = 0; i < n; i++) {
		t0 = now_us();
		CK(cuCtxSynchronize());
		t[i] = now_us() - t0;
	}
	printf("sync_us %.2f us\n", median(t, n));
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		CK(cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
		CK(cuCtxSynchronize());
		t[i] = now_us() - t0;
	}
	printf("launch_sync_us %.2f us\n", median(t, n));
	for (int r = 0; r < 9; r++) {
		t0 = now_us();
		for (int i = 0; i < 1000; i++)
			CK(cuLaunchKernel(fill, 1, 1, 1, 32, 1, 1, 0, NULL, params, NULL));
		CK(cuCtxSynchronize());
		t[r] = (now_us() - t0) / 1000;
	}
	printf("launch_async_us %.2f us\n", median(t, 9));
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		CK(cuMemcpyHtoD(d, h, 4096));
		t[i] = now_us() - t0;
	}
	printf("htod_4k_us %.2f us\n", median(t, n));
	for (int i = 0; i < n; i++) {
		t0 = now_us();
		CK(cuMemcpyDtoH(h, d, 4096));
		t[i] = now_us() - t0;
	}
	printf("dtoh_4k_us %.2f us\n", median(t, n));
	for (int i = 0; i < 5; i++) {
		t0 = now_us();
		CK(cuMemcpyHtoD(dbig, hbig, big));
		t[i] = now_us() - t0;
	}
	printf("htod_gbps %.2f GB/s\n", big / median(t, 5) / 1e3);
	for (int i = 0; i < 5; i++) {
		t0 = now_us();
		CK(cuMemcpyDtoH(hbig, dbig, big));
		t[i] = now_us() - t0;
	}
	printf("dtoh_gbps %.2f GB/s\n", big / median(t, 5) / 1e3);
	CK(cuMemFree(dbig));
	CK(cuMemFree(d));
	CK(cuCtxDestroy(ctx));
	return 0;
}
