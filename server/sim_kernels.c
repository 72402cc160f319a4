// SPDX-License-Identifier: MIT
/*
 * sim_kernels.c - the sim backend's modules and built-in kernels.
 *
 * The sim never pretends to run real GPU code: it loads only "sim images"
 * (NUL-free text starting with "//vgpu-sim") and offers a fixed set of
 * kernels by name, with the parameter layouts nvcc would give their C
 * signatures.  Kernels ignore grid/block and process n elements; every
 * pointer they touch is translated through the session's alloc table, and
 * a bad one is an illegal address that sticks for the rest of the session,
 * as a real fault does.
 */
#include "server/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static float ld_f32(const uint8_t *p)
{
	float v;

	memcpy(&v, p, 4);
	return v;
}

static uint32_t ld_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int32_t ld_i32(const uint8_t *p)
{
	return (int32_t)ld_u32(p);
}

static uint64_t ld_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* saxpy(float a, const float *x, float *y, int n): y = a*x + y */
static CUresult k_saxpy(struct sim *s, const uint8_t *pa)
{
	float a = ld_f32(pa + 0);
	int32_t n = ld_i32(pa + 24);
	const float *x;
	float *y;

	if (n <= 0)
		return CUDA_SUCCESS;
	x = sim_kernel_ptr(s, ld_u64(pa + 8), (uint64_t)n * 4);
	y = x ? sim_kernel_ptr(s, ld_u64(pa + 16), (uint64_t)n * 4) : NULL;
	if (!y)
		return s->sticky;
	for (int32_t i = 0; i < n; i++)
		y[i] = a * x[i] + y[i];
	return CUDA_SUCCESS;
}

/* reduce_sum(const float *in, float *out, int n): out[0] = sum(in[0..n)) */
static CUresult k_reduce_sum(struct sim *s, const uint8_t *pa)
{
	int32_t n = ld_i32(pa + 16);
	const float *in = NULL;
	float *out;
	double sum = 0;

	if (n > 0 && !(in = sim_kernel_ptr(s, ld_u64(pa + 0), (uint64_t)n * 4)))
		return s->sticky;
	out = sim_kernel_ptr(s, ld_u64(pa + 8), 4);
	if (!out)
		return s->sticky;
	for (int32_t i = 0; i < n; i++)
		sum += in[i];
	*out = (float)sum;
	return CUDA_SUCCESS;
}

/* fill_u32(unsigned *p, unsigned v, int n) */
static CUresult k_fill_u32(struct sim *s, const uint8_t *pa)
{
	uint32_t v = ld_u32(pa + 8);
	int32_t n = ld_i32(pa + 12);
	uint32_t *p;

	if (n <= 0)
		return CUDA_SUCCESS;
	p = sim_kernel_ptr(s, ld_u64(pa + 0), (uint64_t)n * 4);
	if (!p)
		return s->sticky;
	for (int32_t i = 0; i < n; i++)
		p[i] = v;
	return CUDA_SUCCESS;
}

/* spin(int ms): a long-running kernel, for timeouts and event timing */
static CUresult k_spin(struct sim *s, const uint8_t *pa)
{
	int32_t ms = ld_i32(pa + 0);
	struct timespec ts;

	if (ms <= 0)
		return CUDA_SUCCESS;
	if (ms > SIM_SPIN_MAX_MS)
		ms = SIM_SPIN_MAX_MS;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return CUDA_SUCCESS;
}

/* fault(int *p): always an out-of-bounds access */
static CUresult k_fault(struct sim *s, const uint8_t *pa)
{
	if (!s->sticky)
		s->sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
	return s->sticky;
}

static const struct sim_kernel kernels[] = {
	{ "saxpy", 4, { { 0, 4 }, { 8, 8 }, { 16, 8 }, { 24, 4 } }, 28, k_saxpy },
	{ "reduce_sum", 3, { { 0, 8 }, { 8, 8 }, { 16, 4 } }, 20, k_reduce_sum },
	{ "fill_u32", 3, { { 0, 8 }, { 8, 4 }, { 12, 4 } }, 16, k_fill_u32 },
	{ "spin", 1, { { 0, 4 } }, 4, k_spin },
	{ "fault", 1, { { 0, 8 } }, 8, k_fault },
};

const struct sim_kernel *sim_kernel_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
		if (!strcmp(kernels[i].name, name))
			return &kernels[i];
	return NULL;
}

static bool is_sim_image(const char *img, size_t n)
{
	size_t tag = strlen(SIM_IMAGE_TAG);

	if (n && img[n - 1] == '\0')
		n--;		/* a PTX-style terminating NUL is fine */
	return n >= tag && !memcmp(img, SIM_IMAGE_TAG, tag) && !memchr(img, '\0', n);
}

CUresult sim_module_load(void *be, void *ctx, const void *image, size_t n, void **mod)
{
	struct sim *s = be;
	struct sim_module *m;
	CUresult rc;

	if (s->sticky)
		return s->sticky;
	if (!image || !is_sim_image(image, n))
		return CUDA_ERROR_INVALID_IMAGE;
	m = calloc(1, sizeof(*m));
	if (!m)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = sim_alloc(s, 4, VGPU_ALLOC_GLOBAL, m, &m->counter);
	if (rc) {
		free(m);
		return rc;
	}
	*mod = m;
	return CUDA_SUCCESS;
}

CUresult sim_module_unload(void *be, void *ctx, void *mod)
{
	struct sim *s = be;
	struct sim_module *m = mod;

	/* no sticky check: releasing resources must work after a fault */
	sim_free(s, m->counter);
	free(m);
	return CUDA_SUCCESS;
}

CUresult sim_module_get_function(void *be, void *ctx, void *mod, const char *name,
				 void **func, struct vgpu_param_layout *layout)
{
	struct sim *s = be;
	const struct sim_kernel *k;

	if (s->sticky)
		return s->sticky;
	k = sim_kernel_find(name);
	if (!k)
		return CUDA_ERROR_NOT_FOUND;
	layout->p = malloc(k->nparams * sizeof(*layout->p));
	if (!layout->p)
		return CUDA_ERROR_OUT_OF_MEMORY;
	memcpy(layout->p, k->params, k->nparams * sizeof(*layout->p));
	layout->n = k->nparams;
	layout->buf_size = k->buf_size;
	*func = (void *)k;
	return CUDA_SUCCESS;
}

CUresult sim_module_get_global(void *be, void *ctx, void *mod, const char *name,
			       uint64_t *dptr, uint64_t *size)
{
	struct sim *s = be;
	struct sim_module *m = mod;

	if (s->sticky)
		return s->sticky;
	if (strcmp(name, "sim_counter"))
		return CUDA_ERROR_NOT_FOUND;
	*dptr = m->counter;
	*size = 4;
	return CUDA_SUCCESS;
}

CUresult sim_launch(void *be, void *ctx, void *func, const uint32_t grid[3],
		    const uint32_t block[3], uint32_t shared_bytes, void *stream,
		    const void *params, size_t params_len)
{
	struct sim *s = be;
	const struct sim_kernel *k = func;
	uint64_t threads = (uint64_t)block[0] * block[1] * block[2], t;

	if (s->sticky)
		return s->sticky;
	/* the limits a real launch checks synchronously */
	if (!grid[0] || !grid[1] || !grid[2] || !threads || threads > 1024 ||
	    block[2] > 64 || grid[1] > 65535 || grid[2] > 65535)
		return CUDA_ERROR_INVALID_VALUE;
	if (shared_bytes > 48 * 1024)
		return CUDA_ERROR_INVALID_VALUE;
	if (params_len < k->buf_size)
		return CUDA_ERROR_INVALID_VALUE;
	/*
	 * A faulting kernel does not fail its launch (launches are
	 * asynchronous on a GPU); the fault shows from the next call on.
	 */
	t = sim_busy_begin();
	k->run(s, params);
	sim_busy_end(s, SIM_BUSY_KERNEL, t);
	return CUDA_SUCCESS;
}
