// SPDX-License-Identifier: MIT
/*
 * spin_alloc N [IMAGE] - allocate N MiB, memset it, print "ALLOCATED <bytes>",
 * then launch spin(200) and synchronise forever.  The first call that fails
 * prints its error name and exits 1: this is how the tests see an
 * application error out (not hang) when the daemon or server dies, and
 * that a killed application's memory is freed.
 */
#include "tests/progs/prog.h"

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	size_t bytes = (size_t)mib << 20;
	CUdeviceptr p;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;
	int ms = 200;
	void *params[] = { &ms };

	if (!mib) {
		fprintf(stderr, "usage: spin_alloc MIB [IMAGE]\n");
		return 2;
	}
	prog_setup(&ctx);
	mod = prog_load(argc > 2 ? argv[2] : NULL);
	CK(cuModuleGetFunction(&fn, mod, "spin"));
	CK(cuMemAlloc(&p, bytes));
	CK(cuMemsetD8(p, 0x5a, bytes));
	printf("ALLOCATED %zu\n", bytes);
	fflush(stdout);
	for (;;) {
		CK(cuLaunchKernel(fn, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL));
		CK(cuCtxSynchronize());
	}
}
