// SPDX-License-Identifier: MIT
/*
 * reduce_drv [IMAGE] - out[0] = sum of 1M floats through the driver API,
 * checked against a double-precision CPU sum with a relative tolerance
 * (float accumulation order differs between the sim, a GPU and the CPU).
 * Prints "reduce n=N sum=S cpu=C rel_err=E OK"; exit 0 only on success.
 */
#include "tests/progs/prog.h"

#include <math.h>
#include <stdint.h>

#define N	(1 << 20)
#define TOL	1e-4

int main(int argc, char **argv)
{
	float *in = malloc(N * sizeof(float)), sum = 0;
	uint32_t seed = 12345;
	CUdeviceptr din, dout;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	int n = N;
	void *params[] = { &din, &dout, &n };
	double cpu = 0, rel;

	if (!in)
		return 1;
	for (int i = 0; i < N; i++) {
		seed = seed * 1664525u + 1013904223u;
		in[i] = (float)(seed >> 8) / (float)(1u << 24);	/* [0, 1) */
		cpu += in[i];
	}
	prog_setup(&ctx);
	mod = prog_load(argc > 1 ? argv[1] : NULL);
	CK(cuModuleGetFunction(&fn, mod, "reduce_sum"));
	CK(cuMemAlloc(&din, N * sizeof(float)));
	CK(cuMemAlloc(&dout, sizeof(float)));
	CK(cuMemcpyHtoD(din, in, N * sizeof(float)));
	CK(cuMemsetD32(dout, 0, 1));	/* the CUDA kernel accumulates with atomicAdd */
	CK(cuLaunchKernel(fn, 256, 1, 1, 256, 1, 1, 0, NULL, params, NULL));
	CK(cuCtxSynchronize());
	CK(cuMemcpyDtoH(&sum, dout, sizeof(float)));
	CK(cuMemFree(din));
	CK(cuMemFree(dout));
	CK(cuModuleUnload(mod));
	CK(cuCtxDestroy(ctx));
	rel = fabs(sum - cpu) / cpu;
	printf("reduce n=%d sum=%.3f cpu=%.3f rel_err=%.2g %s\n", N, sum, cpu, rel,
	       rel <= TOL ? "OK" : "FAILED");
	return rel <= TOL ? 0 : 1;
}
