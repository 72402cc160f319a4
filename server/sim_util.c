// SPDX-License-Identifier: MIT
/*
 * sim_util.c - GPU_UTILIZATION on the sim: the share of wall time since
 * the previous question (or since the session began) that the session's
 * sim kernels ran ("gpu") and its copies and memsets ran ("memory"), as
 * NVML reports the share of its sampling period.  Only this session's
 * work counts: a sim session is a GPU of its own.
 *
 * The same measurement feeds the compute scheduler (server/sched.c): a sim
 * kernel runs at the call, so its GPU time is the wall time of its run.
 */
#include "server/sim.h"

#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sim_busy_begin(void)
{
	return now_ns();
}

void sim_busy_end(struct sim *s, int what, uint64_t begin)
{
	uint64_t t = now_ns() - begin;

	if (!s->busy_since)
		s->busy_since = begin;
	if (what == SIM_BUSY_KERNEL) {
		s->busy_kernel_ns += t;
		s->sched_kernel_ns += t;
	} else {
		s->busy_mem_ns += t;
	}
}

static unsigned int pct(uint64_t part, uint64_t whole)
{
	return !whole ? 0 : part >= whole ? 100 : (unsigned int)(part * 100 / whole);
}

CUresult sim_utilization(void *be, int dev, unsigned int *gpu, unsigned int *mem)
{
	struct sim *s = be;
	uint64_t now = now_ns(), since = s->busy_since ? s->busy_since : now;

	*gpu = pct(s->busy_kernel_ns, now - since);
	*mem = pct(s->busy_mem_ns, now - since);
	s->busy_since = now;
	s->busy_kernel_ns = s->busy_mem_ns = 0;
	return CUDA_SUCCESS;
}

/* Always measured (two clock reads per kernel): nothing to switch on. */
void sim_kernel_timing(void *be, bool on)
{
}

/*
 * Texture objects: the sim's kernels sample nothing, so an object is only
 * a value (distinct per session, never 0) to hand back and to destroy.
 */
CUresult sim_tex_create(void *be, void *ctx, const struct vgpu_tex_req *t, void **obj,
			uint64_t *value)
{
	struct sim *s = be;

	if (s->sticky)
		return s->sticky;
	*value = ++s->textures;
	*obj = (void *)(uintptr_t)*value;
	return CUDA_SUCCESS;
}

CUresult sim_tex_destroy(void *be, void *ctx, void *obj)
{
	return CUDA_SUCCESS;
}

/* No SMs to keep a partition to: only pretended, for tests (cfg->sim_spatial). */
CUresult sim_compute_limit(void *be, int ordinal, uint32_t share)
{
	struct sim *s = be;

	return s->spatial_ok ? CUDA_SUCCESS : CUDA_ERROR_NOT_SUPPORTED;
}

uint64_t sim_kernel_time(void *be, uint32_t contenders)
{
	struct sim *s = be;
	uint64_t t = s->sched_kernel_ns;

	s->sched_kernel_ns = 0;
	return t;
}
