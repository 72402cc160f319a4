// SPDX-License-Identifier: MIT
/*
 * spin_rate MS SECONDS [BLOCKS] - launch spin(MS) on BLOCKS blocks (default
 * 1) and wait for it, again and again for SECONDS, then print
 * "spin_rate: N launches in S s = R/s".  Kernel-bound work whose rate is
 * what a compute share divides: tests/gpu/partitions.sh runs one per
 * tenant and compares the rates.  SPIN_EVERY=S: also print the rate of
 * each S seconds as "spin_rate: T s: R/s" (T: the interval's end), to see
 * one tenant's rate change while something happens beside it.
 */
#include "tests/progs/prog.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int ms = argc > 1 ? atoi(argv[1]) : 0;
	double secs = argc > 2 ? atof(argv[2]) : 0, t0, t;
	double every = getenv("SPIN_EVERY") ? atof(getenv("SPIN_EVERY")) : 0, mark = every;
	unsigned long at_mark = 0;
	unsigned int blocks = argc > 3 ? (unsigned int)strtoul(argv[3], NULL, 0) : 1;
	void *params[] = { &ms };
	unsigned long n = 0;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn;

	if (ms <= 0 || secs <= 0 || !blocks) {
		fprintf(stderr, "usage: spin_rate MS SECONDS [BLOCKS]\n");
		return 2;
	}
	prog_setup(&ctx);
	mod = prog_load(argc > 4 ? argv[4] : NULL);
	CK(cuModuleGetFunction(&fn, mod, "spin"));
	t0 = now_s();
	do {
		CK(cuLaunchKernel(fn, blocks, 1, 1, 1, 1, 1, 0, NULL, params, NULL));
		CK(cuCtxSynchronize());
		n++;
		t = now_s() - t0;
		if (every > 0 && t >= mark) {
			printf("spin_rate: %.2f s: %.2f/s\n", t, (n - at_mark) / (t - mark + every));
			fflush(stdout);
			at_mark = n;
			mark = t + every;
		}
	} while (t < secs);
	printf("spin_rate: %lu launches in %.2f s = %.2f/s\n", n, t, n / t);
	return 0;
}
