// SPDX-License-Identifier: MIT
/*
 * test_sim.c - the sim backend called directly (no protocol), plus the
 * alloc table and handle table it relies on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/backend.h"
#include "server/handles.h"
#include "server/sim.h"

#define MEM	(1u << 20)
#define IMG	"//vgpu-sim test module\n"

struct fx {
	struct vgpu_alloc_table at;
	void *be;
	void *ctx;
	const struct vgpu_backend_ops *o;
};

static int setup(void **state)
{
	struct vgpu_server_config cfg = { .backend = VGPU_BACKEND_SIM, .sim_mem_bytes = MEM };
	struct fx *f = calloc(1, sizeof(*f));

	f->o = vgpu_backend_get(VGPU_BACKEND_SIM);
	vgpu_at_init(&f->at);
	if (f->o->open(&cfg, 1, &f->at, &f->be) || f->o->ctx_create(f->be, 0, 0, &f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	f->o->ctx_destroy(f->be, f->ctx);
	f->o->close(f->be);
	assert_int_equal(f->at.n, 0);	/* close dropped everything */
	vgpu_at_fini(&f->at);
	free(f);
	return 0;
}

static uint64_t alloc(struct fx *f, uint64_t size)
{
	uint64_t d = 0;

	assert_int_equal(f->o->mem_alloc(f->be, f->ctx, size, &d), CUDA_SUCCESS);
	return d;
}

static void htod(struct fx *f, uint64_t d, const void *p, size_t n)
{
	assert_int_equal(f->o->memcpy_htod(f->be, f->ctx, d, p, n, NULL), CUDA_SUCCESS);
}

static void dtoh(struct fx *f, void *p, uint64_t d, size_t n)
{
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, p, d, n, NULL), CUDA_SUCCESS);
}

static void test_device(void **state)
{
	struct fx *f = *state;
	struct vgpu_device_info di;
	int n = 0;
	void *c;

	assert_int_equal(f->o->device_count(f->be, &n), CUDA_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(f->o->device_info(f->be, 0, &di), CUDA_SUCCESS);
	assert_string_equal(di.name, "vgpu sim device");
	assert_true(di.total_mem == MEM);
	assert_int_equal(di.attr[CU_DEVICE_ATTRIBUTE_WARP_SIZE], 32);
	assert_int_equal(di.attr[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK], 1024);
	assert_int_equal(di.attr[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR], 9);
	assert_int_equal(di.attr[75], 9);
	assert_int_equal(di.attr[76], 0);
	assert_true(di.attr[CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT] > 0);
	assert_int_equal(di.attr[0], 0);
	assert_int_equal(f->o->device_info(f->be, 1, &di), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(f->o->ctx_create(f->be, 1, 0, &c), CUDA_ERROR_INVALID_DEVICE);
}

static void test_alloc(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, fr, tot, d;

	a = alloc(f, 1000);
	b = alloc(f, 4096);
	assert_true(a >= SIM_VA_BASE && a < SIM_VA_BASE + (uint64_t)SIM_VA_SLOTS * SIM_VA_WINDOW);
	assert_true(a % 256 == 0 && b % 256 == 0);
	assert_true(b >= a + 1000 + 4096 || a >= b + 4096 + 4096);	/* guard gap */
	assert_int_equal(f->o->mem_get_info(f->be, f->ctx, &fr, &tot), CUDA_SUCCESS);
	assert_true(tot == MEM);
	assert_true(fr == MEM - 5096);
	assert_true(f->at.mem_bytes == 5096 && f->at.mem_count == 2);

	/* past the total */
	assert_int_equal(f->o->mem_alloc(f->be, f->ctx, MEM, &d), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(f->o->mem_alloc(f->be, f->ctx, 0, &d), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(f->o->mem_free(f->be, f->ctx, a + 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->mem_free(f->be, f->ctx, a), CUDA_SUCCESS);
	assert_int_equal(f->o->mem_free(f->be, f->ctx, a), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->mem_free(f->be, f->ctx, b), CUDA_SUCCESS);
	assert_int_equal(f->o->mem_get_info(f->be, f->ctx, &fr, &tot), CUDA_SUCCESS);
	assert_true(fr == MEM);

	/* the whole device in one piece, after frees */
	d = alloc(f, MEM);
	assert_int_equal(f->o->mem_free(f->be, f->ctx, d), CUDA_SUCCESS);
}

static void test_copies(void **state)
{
	struct fx *f = *state;
	uint64_t a = alloc(f, 64), b = alloc(f, 64);
	uint8_t in[64], out[64];

	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	htod(f, a, in, 64);
	memset(out, 0, sizeof(out));
	dtoh(f, out, a, 64);
	assert_memory_equal(in, out, 64);
	/* inside, at an offset */
	dtoh(f, out, a + 60, 4);
	assert_int_equal(out[0], 60);
	/* one byte past the end, before the start, between allocations */
	assert_int_equal(f->o->memcpy_htod(f->be, f->ctx, a + 1, in, 64, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, out, a - 1, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, out, a + 64, 1, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->memcpy_htod(f->be, f->ctx, 0x1000, in, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	/* dtod */
	assert_int_equal(f->o->memcpy_dtod(f->be, f->ctx, b, a, 64, NULL), CUDA_SUCCESS);
	dtoh(f, out, b, 64);
	assert_memory_equal(in, out, 64);
	assert_int_equal(f->o->memcpy_dtod(f->be, f->ctx, b + 1, a, 64, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	/* overflow of addr + len */
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, out, a, (size_t)-1, NULL),
			 CUDA_ERROR_INVALID_VALUE);
}

static void test_memset(void **state)
{
	struct fx *f = *state;
	uint64_t a = alloc(f, 16);
	uint8_t out[16];
	static const uint8_t w2[] = { 0x34, 0x12, 0x34, 0x12, 0x34, 0x12, 0, 0 };
	static const uint8_t w4[] = { 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12 };

	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0x1ab, 1, 16, NULL), CUDA_SUCCESS);
	dtoh(f, out, a, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 0xab);
	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0, 1, 16, NULL), CUDA_SUCCESS);
	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0xffff1234, 2, 3, NULL), CUDA_SUCCESS);
	dtoh(f, out, a, 8);
	assert_memory_equal(out, w2, 8);
	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0x12345678, 4, 2, NULL), CUDA_SUCCESS);
	dtoh(f, out, a, 8);
	assert_memory_equal(out, w4, 8);
	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0, 3, 2, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->memset(f->be, f->ctx, a, 0, 4, 5, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(f->o->memset(f->be, f->ctx, a + 2, 0, 2, 8, NULL),
			 CUDA_ERROR_INVALID_VALUE);
}

/* Load the test module and look up a kernel, checking its layout. */
static void *kernel(struct fx *f, void **mod, const char *name, uint32_t n,
		    const struct vgpu_param *want, uint32_t size)
{
	struct vgpu_param_layout lay = { 0 };
	void *fn;

	if (!*mod)
		assert_int_equal(f->o->module_load(f->be, f->ctx, IMG, strlen(IMG), mod),
				 CUDA_SUCCESS);
	assert_int_equal(f->o->module_get_function(f->be, f->ctx, *mod, name, &fn, &lay),
			 CUDA_SUCCESS);
	assert_int_equal(lay.n, n);
	assert_int_equal(lay.buf_size, size);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(lay.p[i].offset, want[i].offset);
		assert_int_equal(lay.p[i].size, want[i].size);
	}
	free(lay.p);
	return fn;
}

static CUresult launch(struct fx *f, void *fn, const void *params, size_t n)
{
	static const uint32_t g[3] = { 1, 1, 1 }, b[3] = { 128, 1, 1 };

	return f->o->launch(f->be, f->ctx, fn, g, b, 0, NULL, params, n);
}

static void test_modules(void **state)
{
	struct fx *f = *state;
	void *mod = NULL, *fn;
	struct vgpu_param_layout lay = { 0 };
	uint64_t g, gs, before = f->at.n;
	uint32_t v = 7, out = 0;

	assert_int_equal(f->o->module_load(f->be, f->ctx, "\x7f" "ELF", 4, &mod),
			 CUDA_ERROR_INVALID_IMAGE);
	assert_int_equal(f->o->module_load(f->be, f->ctx, "//vgpu-sim\0x", 12, &mod),
			 CUDA_ERROR_INVALID_IMAGE);
	assert_int_equal(f->o->module_load(f->be, f->ctx, "//vgpu-si", 9, &mod),
			 CUDA_ERROR_INVALID_IMAGE);
	/* a trailing NUL, as a PTX image would have, is fine */
	assert_int_equal(f->o->module_load(f->be, f->ctx, IMG, sizeof(IMG), &mod), CUDA_SUCCESS);
	assert_int_equal(f->o->module_get_function(f->be, f->ctx, mod, "nope", &fn, &lay),
			 CUDA_ERROR_NOT_FOUND);
	assert_int_equal(f->o->module_get_global(f->be, f->ctx, mod, "nope", &g, &gs),
			 CUDA_ERROR_NOT_FOUND);
	assert_int_equal(f->o->module_get_global(f->be, f->ctx, mod, "sim_counter", &g, &gs),
			 CUDA_SUCCESS);
	assert_true(gs == 4);
	assert_int_equal(f->at.n, before + 1);
	htod(f, g, &v, 4);
	dtoh(f, &out, g, 4);
	assert_int_equal(out, 7);
	assert_true(f->at.mem_count == 0);	/* globals are not allocations */
	assert_int_equal(f->o->module_unload(f->be, f->ctx, mod), CUDA_SUCCESS);
	assert_int_equal(f->at.n, before);
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, &out, g, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
}

static void test_kernels(void **state)
{
	struct fx *f = *state;
	static const struct vgpu_param ls[] = { { 0, 4 }, { 8, 8 }, { 16, 8 }, { 24, 4 } };
	static const struct vgpu_param lr[] = { { 0, 8 }, { 8, 8 }, { 16, 4 } };
	static const struct vgpu_param lf[] = { { 0, 8 }, { 8, 4 }, { 12, 4 } };
	static const struct vgpu_param lsp[] = { { 0, 4 } };
	void *mod = NULL, *saxpy, *reduce, *fill, *spin;
	enum { N = 1000 };
	float x[N], y[N], r;
	uint32_t u[N];
	uint64_t dx = alloc(f, sizeof(x)), dy = alloc(f, sizeof(y)), dr = alloc(f, 4);
	uint8_t p[28] = { 0 };
	float a = 2.0f;
	int32_t n = N;
	uint32_t val = 0xdeadbeef;
	void *e0, *e1;
	float ms = 0;

	saxpy = kernel(f, &mod, "saxpy", 4, ls, 28);
	reduce = kernel(f, &mod, "reduce_sum", 3, lr, 20);
	fill = kernel(f, &mod, "fill_u32", 3, lf, 16);
	spin = kernel(f, &mod, "spin", 1, lsp, 4);

	for (int i = 0; i < N; i++) {
		x[i] = (float)i;
		y[i] = 1.0f;
	}
	htod(f, dx, x, sizeof(x));
	htod(f, dy, y, sizeof(y));
	memcpy(p + 0, &a, 4);
	memcpy(p + 8, &dx, 8);
	memcpy(p + 16, &dy, 8);
	memcpy(p + 24, &n, 4);
	assert_int_equal(launch(f, saxpy, p, 27), CUDA_ERROR_INVALID_VALUE);	/* short params */
	{
		static const uint32_t g[3] = { 1, 1, 1 }, b[3] = { 2048, 1, 1 };

		assert_int_equal(f->o->launch(f->be, f->ctx, saxpy, g, b, 0, NULL, p, 28),
				 CUDA_ERROR_INVALID_VALUE);
	}
	assert_int_equal(launch(f, saxpy, p, 28), CUDA_SUCCESS);
	assert_int_equal(f->o->ctx_sync(f->be, f->ctx), CUDA_SUCCESS);
	dtoh(f, y, dy, sizeof(y));
	for (int i = 0; i < N; i++)
		assert_true(y[i] == 2.0f * (float)i + 1.0f);

	/* reduce_sum over x: 0 + 1 + ... + 999 */
	memcpy(p + 0, &dx, 8);
	memcpy(p + 8, &dr, 8);
	memcpy(p + 16, &n, 4);
	assert_int_equal(launch(f, reduce, p, 20), CUDA_SUCCESS);
	dtoh(f, &r, dr, 4);
	assert_true(r == 499500.0f);

	/* fill_u32 over the first 10 elements only */
	memset(u, 0, sizeof(u));
	htod(f, dx, u, sizeof(u));
	n = 10;
	memcpy(p + 0, &dx, 8);
	memcpy(p + 8, &val, 4);
	memcpy(p + 12, &n, 4);
	assert_int_equal(launch(f, fill, p, 16), CUDA_SUCCESS);
	dtoh(f, u, dx, sizeof(u));
	assert_int_equal(u[9], 0xdeadbeef);
	assert_int_equal(u[10], 0);

	/* spin 50 ms between two events */
	assert_int_equal(f->o->event_create(f->be, f->ctx, 0, &e0), CUDA_SUCCESS);
	assert_int_equal(f->o->event_create(f->be, f->ctx, 0, &e1), CUDA_SUCCESS);
	assert_int_equal(f->o->event_elapsed(f->be, f->ctx, e0, e1, &ms),
			 CUDA_ERROR_INVALID_HANDLE);	/* not recorded yet */
	assert_int_equal(f->o->event_record(f->be, f->ctx, e0, NULL), CUDA_SUCCESS);
	n = 50;
	assert_int_equal(launch(f, spin, &n, 4), CUDA_SUCCESS);
	assert_int_equal(f->o->event_record(f->be, f->ctx, e1, NULL), CUDA_SUCCESS);
	assert_int_equal(f->o->event_sync(f->be, f->ctx, e1), CUDA_SUCCESS);
	assert_int_equal(f->o->event_elapsed(f->be, f->ctx, e0, e1, &ms), CUDA_SUCCESS);
	assert_true(ms >= 49.0f && ms < 2000.0f);
	f->o->event_destroy(f->be, f->ctx, e0);
	f->o->event_destroy(f->be, f->ctx, e1);
	assert_int_equal(f->o->module_unload(f->be, f->ctx, mod), CUDA_SUCCESS);
}

static void test_fault_sticky(void **state)
{
	struct fx *f = *state;
	static const struct vgpu_param lf[] = { { 0, 8 } };
	void *mod = NULL, *fault = kernel(f, &mod, "fault", 1, lf, 8), *st;
	uint64_t d = alloc(f, 64), x;
	uint8_t buf[8];

	assert_int_equal(launch(f, fault, &d, 8), CUDA_SUCCESS);	/* async: reported later */
	assert_int_equal(f->o->ctx_sync(f->be, f->ctx), CUDA_ERROR_ILLEGAL_ADDRESS);
	assert_int_equal(f->o->ctx_sync(f->be, f->ctx), CUDA_ERROR_ILLEGAL_ADDRESS);
	assert_int_equal(f->o->mem_alloc(f->be, f->ctx, 8, &x), CUDA_ERROR_ILLEGAL_ADDRESS);
	assert_int_equal(f->o->memcpy_dtoh(f->be, f->ctx, buf, d, 8, NULL),
			 CUDA_ERROR_ILLEGAL_ADDRESS);
	assert_int_equal(f->o->stream_create(f->be, f->ctx, 0, 0, &st),
			 CUDA_ERROR_ILLEGAL_ADDRESS);
	assert_int_equal(launch(f, fault, &d, 8), CUDA_ERROR_ILLEGAL_ADDRESS);
	/* releasing still works, so a session can clean up */
	assert_int_equal(f->o->mem_free(f->be, f->ctx, d), CUDA_SUCCESS);
	assert_int_equal(f->o->module_unload(f->be, f->ctx, mod), CUDA_SUCCESS);
}

static void test_bad_kernel_pointer(void **state)
{
	struct fx *f = *state;
	static const struct vgpu_param lf[] = { { 0, 8 }, { 8, 4 }, { 12, 4 } };
	void *mod = NULL, *fill = kernel(f, &mod, "fill_u32", 3, lf, 16);
	uint64_t d = alloc(f, 16);
	uint8_t p[16];
	int32_t n = 5;	/* 20 bytes into a 16-byte allocation */

	memcpy(p, &d, 8);
	memset(p + 8, 0, 4);
	memcpy(p + 12, &n, 4);
	assert_int_equal(launch(f, fill, p, 16), CUDA_SUCCESS);
	assert_int_equal(f->o->ctx_sync(f->be, f->ctx), CUDA_ERROR_ILLEGAL_ADDRESS);
	f->o->module_unload(f->be, f->ctx, mod);
}

static void test_streams(void **state)
{
	struct fx *f = *state;
	void *s, *e;
	float ms;

	assert_int_equal(f->o->stream_create(f->be, f->ctx, 0, -1, &s), CUDA_SUCCESS);
	assert_int_equal(f->o->stream_sync(f->be, f->ctx, s), CUDA_SUCCESS);
	assert_int_equal(f->o->stream_sync(f->be, f->ctx, NULL), CUDA_SUCCESS);
	assert_int_equal(f->o->event_create(f->be, f->ctx, CU_EVENT_DISABLE_TIMING, &e),
			 CUDA_SUCCESS);
	assert_int_equal(f->o->event_record(f->be, f->ctx, e, s), CUDA_SUCCESS);
	assert_int_equal(f->o->event_elapsed(f->be, f->ctx, e, e, &ms), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(f->o->event_destroy(f->be, f->ctx, e), CUDA_SUCCESS);
	assert_int_equal(f->o->stream_destroy(f->be, f->ctx, s), CUDA_SUCCESS);
}

/* ---- tables ------------------------------------------------------------ */

static void test_alloc_table(void **state)
{
	struct vgpu_alloc_table at;
	int owner;

	vgpu_at_init(&at);
	assert_int_equal(vgpu_at_insert(&at, 1000, 100, VGPU_ALLOC_MEM, &owner, NULL), 0);
	assert_int_equal(vgpu_at_insert(&at, 3000, 100, VGPU_ALLOC_MEM, &owner, NULL), 0);
	assert_int_equal(vgpu_at_insert(&at, 2000, 100, VGPU_ALLOC_GLOBAL, &owner, NULL), 0);
	assert_int_equal(vgpu_at_insert(&at, 1099, 2, VGPU_ALLOC_MEM, NULL, NULL), -EEXIST);
	assert_int_equal(vgpu_at_insert(&at, 950, 51, VGPU_ALLOC_MEM, NULL, NULL), -EEXIST);
	assert_int_equal(vgpu_at_insert(&at, 900, 100, VGPU_ALLOC_MEM, NULL, NULL), 0);
	assert_int_equal(vgpu_at_insert(&at, 5, 0, VGPU_ALLOC_MEM, NULL, NULL), -EINVAL);
	assert_int_equal(vgpu_at_insert(&at, UINT64_MAX - 5, 10, VGPU_ALLOC_MEM, NULL, NULL),
			 -EINVAL);
	assert_int_equal(at.n, 4);
	assert_true(at.mem_bytes == 300 && at.mem_count == 3);
	for (size_t i = 1; i < at.n; i++)
		assert_true(at.v[i - 1].base < at.v[i].base);

	assert_non_null(vgpu_at_range(&at, 1000, 100));
	assert_null(vgpu_at_range(&at, 1000, 101));
	assert_null(vgpu_at_range(&at, 999, 2));	/* spans two entries */
	assert_non_null(vgpu_at_range(&at, 2099, 1));
	assert_null(vgpu_at_range(&at, 2100, 1));
	assert_null(vgpu_at_range(&at, 10, 1));
	assert_null(vgpu_at_range(&at, 5000, 1));
	assert_null(vgpu_at_range(&at, 1050, UINT64_MAX));
	assert_true(vgpu_at_range(&at, 3050, 0)->base == 3000);
	assert_null(vgpu_at_exact(&at, 1001));
	assert_non_null(vgpu_at_exact(&at, 2000));

	/* gaps: 256-aligned, 50 bytes of guard */
	assert_true(vgpu_at_find_gap(&at, 256, 10000, 100, 256, 50) == 256);
	assert_true(vgpu_at_find_gap(&at, 800, 10000, 100, 256, 50) == 1280);
	assert_true(vgpu_at_find_gap(&at, 800, 10000, 800, 256, 50) == 3328);
	assert_true(vgpu_at_find_gap(&at, 800, 4000, 1000, 256, 50) == 0);
	assert_true(vgpu_at_find_gap(&at, 800, 4328, 1000, 256, 50) == 3328);

	assert_int_equal(vgpu_at_remove(&at, 1000), 0);
	assert_int_equal(vgpu_at_remove(&at, 1000), -ENOENT);
	assert_int_equal(vgpu_at_remove(&at, 2000), 0);
	assert_true(at.mem_bytes == 200 && at.mem_count == 2);
	assert_null(vgpu_at_range(&at, 1000, 1));
	vgpu_at_fini(&at);
}

static void test_handles(void **state)
{
	struct vgpu_handles h, other;
	int a, b;
	uint64_t ia, ib, ic, seen = 0;
	uint32_t pos = 0;
	uint64_t x;

	vgpu_handles_init(&h, 0x1234567890abcdefull);
	vgpu_handles_init(&other, 0xfedcba0987654321ull);
	ia = vgpu_handle_new(&h, VGPU_H_CTX, &a, 0);
	ib = vgpu_handle_new(&h, VGPU_H_MODULE, &b, ia);
	assert_true(ia && ib && ia != ib);
	assert_true(ia != (uint64_t)(uintptr_t)&a);	/* never a raw pointer */
	assert_ptr_equal(vgpu_handle_get(&h, ia, VGPU_H_CTX)->obj, &a);
	assert_null(vgpu_handle_get(&h, ia, VGPU_H_MODULE));	/* wrong type */
	assert_null(vgpu_handle_get(&h, 0, VGPU_H_CTX));
	assert_null(vgpu_handle_get(&h, 12345, VGPU_H_CTX));
	assert_null(vgpu_handle_get(&h, ia ^ 1, VGPU_H_CTX));
	/* another session's table does not know the id */
	vgpu_handle_new(&other, VGPU_H_CTX, &a, 0);
	assert_null(vgpu_handle_get(&other, ia, VGPU_H_CTX));

	while ((x = vgpu_handle_next(&h, &pos, VGPU_H_MODULE, ia)))
		seen = x;
	assert_true(seen == ib);

	vgpu_handle_del(&h, ia);
	assert_null(vgpu_handle_get(&h, ia, VGPU_H_CTX));
	/* the slot is reused with a new generation: the old id stays dead */
	ic = vgpu_handle_new(&h, VGPU_H_CTX, &b, 0);
	assert_true(ic != ia);
	assert_null(vgpu_handle_get(&h, ia, VGPU_H_CTX));
	assert_ptr_equal(vgpu_handle_get(&h, ic, VGPU_H_CTX)->obj, &b);
	for (int i = 0; i < 1000; i++)
		assert_true(vgpu_handle_new(&h, VGPU_H_EVENT, &a, ic) != 0);
	assert_int_equal(h.live, 1002);
	vgpu_handles_fini(&h);
	vgpu_handles_fini(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_kernel_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
		cmocka_unit_test(test_alloc_table),
		cmocka_unit_test(test_handles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
