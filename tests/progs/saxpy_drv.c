// SPDX-License-Identifier: MIT
/*
 * saxpy_drv [IMAGE] - y = a*x + y over 1M floats through the driver API,
 * checked against the CPU.  Prints "saxpy n=N max_err=E OK"; exit 0 only
 * on success.
 */
#include "tests/progs/prog.h"

#include <math.h>

#define N	(1 << 20)

int main(int argc, char **argv)
{
	float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
	float *out = malloc(N * sizeof(float)), a = 2.5f;
	CUdeviceptr dx, dy;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	int n = N;
	void *params[] = { &a, &dx, &dy, &n };
	double max_err = 0;

	if (!x || !y || !out)
		return 1;
	/* small integers and halves: every result is exact in float */
	for (int i = 0; i < N; i++) {
		x[i] = (float)(i % 1000) * 0.5f;
		y[i] = (float)(i % 77);
	}
	prog_setup(&ctx);
	mod = prog_load(argc > 1 ? argv[1] : NULL);
	CK(cuModuleGetFunction(&fn, mod, "saxpy"));
	CK(cuMemAlloc(&dx, N * sizeof(float)));
	CK(cuMemAlloc(&dy, N * sizeof(float)));
	CK(cuMemcpyHtoD(dx, x, N * sizeof(float)));
	CK(cuMemcpyHtoD(dy, y, N * sizeof(float)));
	CK(cuLaunchKernel(fn, (N + 255) / 256, 1, 1, 256, 1, 1, 0, NULL, params, NULL));
	CK(cuCtxSynchronize());
	CK(cuMemcpyDtoH(out, dy, N * sizeof(float)));
	for (int i = 0; i < N; i++) {
		double err = fabs((double)out[i] - ((double)a * x[i] + y[i]));

		if (err > max_err)
			max_err = err;
	}
	CK(cuMemFree(dx));
	CK(cuMemFree(dy));
	CK(cuModuleUnload(mod));
	CK(cuCtxDestroy(ctx));
	printf("saxpy n=%d max_err=%g %s\n", N, max_err, max_err == 0 ? "OK" : "FAILED");
	return max_err == 0 ? 0 : 1;
}
