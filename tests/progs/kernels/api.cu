// SPDX-License-Identifier: MIT
// api_drv's and spin_alloc's kernels, with the sim's names and signatures.
__device__ unsigned int sim_counter;

extern "C" __global__ void fill_u32(unsigned int *p, unsigned int v, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = v;
}

// busy-wait ms milliseconds of the GPU's global timer (0..10000, like the sim)
extern "C" __global__ void spin(int ms)
{
	unsigned long long start, now, ns;

	ms = ms < 0 ? 0 : ms > 10000 ? 10000 : ms;
	ns = (unsigned long long)ms * 1000000ull;
	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
	do {
		asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
	} while (now - start < ns);
}
