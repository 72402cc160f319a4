// SPDX-License-Identifier: MIT
/*
 * memlimit_drv MIB - the device this process sees is a partition of MIB
 * MiB: cuDeviceTotalMem and cuMemGetInfo's total say so, half of it can be
 * allocated, and an allocation past what is left fails with
 * CUDA_ERROR_OUT_OF_MEMORY and changes nothing.  Prints "memlimit: OK ..."
 * or "FAILED ..."; exit 0 only on OK.
 */
#include "tests/progs/prog.h"

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	size_t total = 0, free_b = 0, free2 = 0, limit = (size_t)mib << 20, dtotal = 0;
	CUdeviceptr half, more;
	CUcontext ctx;
	CUdevice dev;
	CUresult rc;

	if (!mib) {
		fprintf(stderr, "usage: memlimit_drv MIB\n");
		return 2;
	}
	dev = prog_setup(&ctx);
	CK(cuDeviceTotalMem(&dtotal, dev));
	CK(cuMemGetInfo(&free_b, &total));
	if (total != limit || dtotal != limit || free_b > total) {
		printf("FAILED total %zu, device total %zu, free %zu; want %zu\n", total, dtotal,
		       free_b, limit);
		return 1;
	}
	CK(cuMemAlloc(&half, limit / 2));
	rc = cuMemAlloc(&more, limit - limit / 4);	/* more than what is left */
	if (rc != CUDA_ERROR_OUT_OF_MEMORY) {
		printf("FAILED allocation past the limit: %s\n", prog_err(rc));
		return 1;
	}
	CK(cuMemGetInfo(&free2, &total));
	if (free2 > free_b - limit / 2) {
		printf("FAILED free %zu after allocating %zu of %zu free\n", free2, limit / 2, free_b);
		return 1;
	}
	CK(cuMemFree(half));
	printf("memlimit: OK partition of %lu MiB (free %zu MiB), past it: "
	       "CUDA_ERROR_OUT_OF_MEMORY\n", mib, free_b >> 20);
	return 0;
}
