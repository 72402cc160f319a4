// SPDX-License-Identifier: MIT
/*
 * fault_drv - a tenant whose kernel faults: launch fault (an out-of-bounds
 * store), then see the error at the next synchronisation and from every
 * later call of the context, as on a GPU.  Prints "fault_drv: OK ..." when
 * the fault was reported as CUDA_ERROR_ILLEGAL_ADDRESS; the point is what
 * it does not do: other tenants' work goes on (tests/gpu/partitions.sh).
 */
#include "tests/progs/prog.h"

int main(int argc, char **argv)
{
	CUdeviceptr p;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	CUresult rc;
	void *params[] = { &p };

	prog_setup(&ctx);
	mod = prog_load(argc > 1 ? argv[1] : NULL);
	CK(cuModuleGetFunction(&fn, mod, "fault"));
	CK(cuMemAlloc(&p, 64));
	rc = cuLaunchKernel(fn, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL);
	if (rc == CUDA_SUCCESS)
		rc = cuCtxSynchronize();
	if (rc != CUDA_ERROR_ILLEGAL_ADDRESS) {
		printf("FAILED the fault was reported as %s\n", prog_err(rc));
		return 1;
	}
	rc = cuMemAlloc(&p, 64);
	printf("fault_drv: OK fault reported as CUDA_ERROR_ILLEGAL_ADDRESS; next call: %s\n",
	       prog_err(rc));
	return 0;
}
