// SPDX-License-Identifier: MIT
/*
 * test_session_flow.c - a driver-API program's ops through vgpu_session_serve
 * in a thread over a socketpair, driven with raw protocol frames: saxpy end
 * to end, bad handles and ranges, DEVICE_INFO, one session naming another's
 * pointers and contexts, NOREPLY, sticky faults.  The client:
 * session_client.c.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/server.h"
#include "tests/unit/session_client.h"

#define SIM_IMG "//vgpu-sim saxpy\n"

/* ---- tests ------------------------------------------------------------- */

/* The whole saxpy flow, as a driver-API program would do it. */
/*
 * A LAUNCH body: fn on a grid of gx x 1 x 1 blocks of bx x 1 x 1 threads,
 * no shared memory, the default stream, flags, the parameter bytes.
 */
static void put_launch(struct vgpu_wbuf *w, uint64_t ctx, uint64_t fn, uint32_t gx,
		       uint32_t bx, uint32_t flags, const void *params, size_t len)
{
	vgpu_put_u64(w, ctx);
	vgpu_put_u64(w, fn);
	for (int i = 0; i < 3; i++)
		vgpu_put_u32(w, i ? 1 : gx);
	for (int i = 0; i < 3; i++)
		vgpu_put_u32(w, i ? 1 : bx);
	vgpu_put_u32(w, 0);
	vgpu_put_u32(w, flags);
	vgpu_put_u64(w, 0);
	vgpu_put_bytes(w, params, len);
}

static void test_saxpy(void **state)
{
	struct peer *p = start(3);
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem;
	enum { N = 4096 };
	static float x[N], y[N];
	float a = 3.0f, ms;
	int32_t n = N;
	uint64_t ctx, dx, dy, mod, fn, ev0, ev1, fr, tot, g, gs;
	uint8_t params[28];
	uint32_t cnt;

	hello(p);
	ctx = ctx_create(p);
	dx = mem_alloc(p, ctx, sizeof(x));
	dy = mem_alloc(p, ctx, sizeof(y));
	for (int i = 0; i < N; i++) {
		x[i] = (float)i;
		y[i] = 0.5f;
	}
	assert_int_equal(htod(p, ctx, dx, x, sizeof(x)), 0);
	assert_int_equal(htod(p, ctx, dy, y, sizeof(y)), 0);

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(rpc(p, VGPU_OP_MEM_GET_INFO, &w, &r, &mem), 0);
	fr = vgpu_get_u64(&r);
	tot = vgpu_get_u64(&r);
	assert_true(vgpu_rbuf_done(&r));
	assert_true(tot == 1 << 20 && fr == tot - 2 * sizeof(x));
	free(mem);
	vgpu_wbuf_free(&w);

	/* a non-sim image is refused */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_bytes(&w, "\x7f" "ELF\x02\x01", 6);
	assert_int_equal(call(p, VGPU_OP_MODULE_LOAD, &w), CUDA_ERROR_INVALID_IMAGE);
	vgpu_put_u64(&w, ctx);
	vgpu_put_bytes(&w, SIM_IMG, strlen(SIM_IMG));
	mod = call_u64(p, VGPU_OP_MODULE_LOAD, &w, 0);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "saxpy");
	assert_int_equal(rpc(p, VGPU_OP_MODULE_GET_FUNCTION, &w, &r, &mem), 0);
	fn = vgpu_get_u64(&r);
	cnt = vgpu_get_u32(&r);
	assert_int_equal(cnt, 4);
	{
		static const uint32_t want[8] = { 0, 4, 8, 8, 16, 8, 24, 4 };

		for (int i = 0; i < 8; i++)
			assert_int_equal(vgpu_get_u32(&r), want[i]);
	}
	assert_true(vgpu_rbuf_done(&r));
	free(mem);
	vgpu_wbuf_free(&w);

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "sim_counter");
	assert_int_equal(rpc(p, VGPU_OP_MODULE_GET_GLOBAL, &w, &r, &mem), 0);
	g = vgpu_get_u64(&r);
	gs = vgpu_get_u64(&r);
	assert_true(gs == 4 && g != 0);
	free(mem);
	vgpu_wbuf_free(&w);
	assert_int_equal(htod(p, ctx, g, &n, 4), 0);	/* globals are legal targets */

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u32(&w, 0);
	ev0 = call_u64(p, VGPU_OP_EVENT_CREATE, &w, 0);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u32(&w, 0);
	ev1 = call_u64(p, VGPU_OP_EVENT_CREATE, &w, 0);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev0);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_EVENT_RECORD, &w), 0);

	memcpy(params, &a, 4);
	memset(params + 4, 0, 4);
	memcpy(params + 8, &dx, 8);
	memcpy(params + 16, &dy, 8);
	memcpy(params + 24, &n, 4);
	/* flags: an unknown bit; a cluster that does not divide the grid (neither runs) */
	for (int k = 0; k < 2; k++) {
		put_launch(&w, ctx, fn, N / 256, 256, k ? VGPU_LAUNCH_F_CLUSTER : 1u << 7, params,
			   28);
		if (k)
			for (int i = 0; i < 3; i++)
				vgpu_put_u32(&w, i ? 1 : N / 256 + 1);
		assert_int_equal(call(p, VGPU_OP_LAUNCH, &w),
				 k ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_NOT_SUPPORTED);
	}
	for (int len = 27; len <= 28; len++) {
		put_launch(&w, ctx, fn, N / 256, 256, 0, params, len);
		/* the params buffer must match the layout exactly */
		assert_int_equal(call(p, VGPU_OP_LAUNCH, &w), len == 28 ? 0 : CUDA_ERROR_INVALID_VALUE);
	}
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev1);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_EVENT_RECORD, &w), 0);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_CTX_SYNC, &w), 0);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev0);
	vgpu_put_u64(&w, ev1);
	assert_int_equal(rpc(p, VGPU_OP_EVENT_ELAPSED, &w, &r, &mem), 0);
	ms = vgpu_get_f32(&r);
	assert_true(vgpu_rbuf_done(&r));
	assert_true(ms >= 0.0f && ms < 1000.0f);
	free(mem);
	vgpu_wbuf_free(&w);

	memset(y, 0, sizeof(y));
	assert_int_equal(dtoh(p, ctx, dy, y, sizeof(y)), 0);
	for (int i = 0; i < N; i++)
		assert_true(y[i] == 3.0f * (float)i + 0.5f);

	/* unload, free, destroy, goodbye */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	assert_int_equal(call(p, VGPU_OP_MODULE_UNLOAD, &w), 0);
	put_launch(&w, ctx, fn, 1, 1, 0, params, 28);
	assert_int_equal(call(p, VGPU_OP_LAUNCH, &w), CUDA_ERROR_INVALID_HANDLE);	/* fn died */
	assert_int_equal(htod(p, ctx, g, &n, 4), CUDA_ERROR_INVALID_VALUE);	/* global too */
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dx);
	assert_int_equal(call(p, VGPU_OP_MEM_FREE, &w), 0);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dx);
	assert_int_equal(call(p, VGPU_OP_MEM_FREE, &w), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_CTX_DESTROY, &w), 0);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_CTX_SYNC, &w), CUDA_ERROR_INVALID_HANDLE);
	vgpu_wbuf_free(&w);
	assert_int_equal(rpc(p, VGPU_OP_GOODBYE, NULL, &r, NULL), 0);
	assert_closed(p);
	assert_int_equal(p->ret, 0);
	close(p->fd);
	free(p);
}

static void test_bad_handles(void **state)
{
	struct peer *p = start(4);
	struct vgpu_wbuf w;
	uint64_t ctx, d;

	hello(p);
	ctx = ctx_create(p);
	d = mem_alloc(p, ctx, 64);
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, 0xdeadbeef);
	vgpu_put_u64(&w, 16);
	assert_int_equal(call(p, VGPU_OP_MEM_ALLOC, &w), CUDA_ERROR_INVALID_HANDLE);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_CTX_SYNC, &w), CUDA_ERROR_INVALID_HANDLE);
	/* a module handle is not a function, a ctx is not a stream */
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ctx);
	vgpu_put_str(&w, "saxpy");
	assert_int_equal(call(p, VGPU_OP_MODULE_GET_FUNCTION, &w), CUDA_ERROR_INVALID_HANDLE);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_STREAM_SYNC, &w), CUDA_ERROR_INVALID_HANDLE);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_STREAM_SYNC, &w), 0);	/* default stream */
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, 77);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_EVENT_RECORD, &w), CUDA_ERROR_INVALID_HANDLE);
	/* copies with an unknown stream */
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, d);
	vgpu_put_u64(&w, 5);
	vgpu_put_bytes(&w, "abcd", 4);
	assert_int_equal(call(p, VGPU_OP_MEMCPY_HTOD, &w), CUDA_ERROR_INVALID_HANDLE);
	/* device ordinals */
	vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(p, VGPU_OP_CTX_CREATE, &w), CUDA_ERROR_INVALID_DEVICE);
	vgpu_put_u32(&w, 1);
	assert_int_equal(call(p, VGPU_OP_DEVICE_INFO, &w), CUDA_ERROR_INVALID_DEVICE);
	/* ranges */
	assert_int_equal(htod(p, ctx, d + 60, "abcdefgh", 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(htod(p, ctx, d + 56, "abcdefgh", 8), 0);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, d);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 4);
	vgpu_put_u64(&w, 17);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_MEMSET, &w), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, d);
	vgpu_put_u64(&w, d + 32);
	vgpu_put_u64(&w, 33);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_MEMCPY_DTOD, &w), CUDA_ERROR_INVALID_VALUE);
	vgpu_wbuf_free(&w);
	assert_int_equal(finish(p), 0);
}

/* IMAGE_CHUNK: total, offset, bytes */
static uint32_t chunk(struct peer *p, uint64_t total, uint64_t off, const void *data, size_t n)
{
	struct vgpu_wbuf w;
	uint32_t rc;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, total);
	vgpu_put_u64(&w, off);
	vgpu_put_bytes(&w, data, n);
	rc = call(p, VGPU_OP_IMAGE_CHUNK, &w);
	vgpu_wbuf_free(&w);
	return rc;
}

/* MODULE_LOAD_STAGED: its status; the module handle in *mod on success. */
static uint32_t load_staged(struct peer *p, uint64_t ctx, uint64_t *mod)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem = NULL;
	uint32_t rc;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	rc = rpc(p, VGPU_OP_MODULE_LOAD_STAGED, &w, &r, &mem);
	if (!rc)
		*mod = vgpu_get_u64(&r);
	free(mem);
	vgpu_wbuf_free(&w);
	return rc;
}

/*
 * A module image in pieces (IMAGE_CHUNK, MODULE_LOAD_STAGED): in order it
 * loads like MODULE_LOAD; out of order, past its end, of a changed or bad
 * total, or unfinished, it is dropped and the load is INVALID_IMAGE; a
 * staged image is used once; a session may end with one unfinished.
 */
static void test_staged_image(void **state)
{
	struct peer *p = start(6);
	enum { N = 3000 };
	static char img[N];
	uint64_t ctx, mod = 0;
	struct vgpu_wbuf w;

	memset(img, 'x', sizeof(img));
	memcpy(img, SIM_IMG, strlen(SIM_IMG));
	hello(p);
	ctx = ctx_create(p);
	assert_int_equal(load_staged(p, ctx, &mod), CUDA_ERROR_INVALID_IMAGE);
	assert_int_equal(chunk(p, 0, 0, img, 10), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(chunk(p, (uint64_t)VGPU_IMAGE_MAX + 1, 0, img, 10),
			 CUDA_ERROR_INVALID_VALUE);
	/* a gap */
	assert_int_equal(chunk(p, N, 0, img, 1000), 0);
	assert_int_equal(chunk(p, N, 2000, img + 2000, 1000), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(chunk(p, N, 1000, img + 1000, 1000), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(load_staged(p, ctx, &mod), CUDA_ERROR_INVALID_IMAGE);
	/* past the end; a changed total */
	assert_int_equal(chunk(p, 100, 0, img, 200), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(chunk(p, N, 0, img, 1000), 0);
	assert_int_equal(chunk(p, N + 1, 1000, img + 1000, 1000), CUDA_ERROR_INVALID_VALUE);
	/* unfinished */
	assert_int_equal(chunk(p, N, 0, img, 1000), 0);
	assert_int_equal(load_staged(p, ctx, &mod), CUDA_ERROR_INVALID_IMAGE);
	/* in order: a module whose kernels are there; used once */
	for (int off = 0; off < N; off += 1000)
		assert_int_equal(chunk(p, N, off, img + off, 1000), 0);
	assert_int_equal(load_staged(p, (uint64_t)-1, &mod), CUDA_ERROR_INVALID_HANDLE);
	for (int off = 0; off < N; off += 1000)
		assert_int_equal(chunk(p, N, off, img + off, 1000), 0);
	assert_int_equal(load_staged(p, ctx, &mod), 0);
	assert_int_equal(load_staged(p, ctx, &mod), CUDA_ERROR_INVALID_IMAGE);
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "saxpy");
	assert_int_equal(call(p, VGPU_OP_MODULE_GET_FUNCTION, &w), 0);
	vgpu_wbuf_free(&w);
	/* complete but not an image the backend takes */
	assert_int_equal(chunk(p, 6, 0, "\x7f" "ELF\x02\x01", 6), 0);
	assert_int_equal(load_staged(p, ctx, &mod), CUDA_ERROR_INVALID_IMAGE);
	/* the session ends with half an image staged */
	assert_int_equal(chunk(p, N, 0, img, 1000), 0);
	finish(p);
}

static void test_device_info(void **state)
{
	struct peer *p = start(5);
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem;
	char name[256];
	size_t un;
	uint32_t n;
	int32_t attr[CU_DEVICE_ATTRIBUTE_MAX];

	hello(p);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	assert_int_equal(rpc(p, VGPU_OP_DEVICE_INFO, &w, &r, &mem), 0);
	assert_non_null(vgpu_get_str(&r, name, sizeof(name)));
	assert_string_equal(name, "vgpu sim device");
	assert_non_null(vgpu_get_bytes(&r, &un));
	assert_int_equal(un, 16);
	assert_true(vgpu_get_u64(&r) == 1 << 20);
	assert_true(vgpu_get_u32(&r) > 0);
	n = vgpu_get_u32(&r);
	assert_int_equal(n, CU_DEVICE_ATTRIBUTE_MAX);
	for (uint32_t i = 0; i < n; i++)
		attr[i] = vgpu_get_i32(&r);
	assert_true(vgpu_rbuf_done(&r));
	assert_int_equal(attr[CU_DEVICE_ATTRIBUTE_WARP_SIZE], 32);
	assert_int_equal(attr[75], 9);
	free(mem);
	vgpu_wbuf_free(&w);
	assert_int_equal(finish(p), 0);
}

static void test_cross_session(void **state)
{
	struct peer *a = start(21), *b = start(22);
	uint64_t ca, cb, da, db;
	char buf[8];

	hello(a);
	hello(b);
	ca = ctx_create(a);
	cb = ctx_create(b);
	da = mem_alloc(a, ca, 64);
	db = mem_alloc(b, cb, 64);
	assert_true(da != db);
	assert_int_equal(htod(a, ca, da, "session", 8), 0);
	/* B names A's address: not B's memory */
	assert_int_equal(htod(b, cb, da, "intrude", 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(dtoh(b, cb, da, buf, 8), CUDA_ERROR_INVALID_VALUE);
	/* B names A's context handle */
	assert_int_equal(htod(b, ca, db, "intrude", 8), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(dtoh(a, ca, da, buf, 8), 0);
	assert_string_equal(buf, "session");
	assert_int_equal(finish(a), 0);
	/* A's address stays invalid in B after A is gone */
	assert_int_equal(htod(b, cb, da, "intrude", 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(finish(b), 0);
}

static void test_noreply_and_sticky(void **state)
{
	struct peer *p = start(6);
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem;
	uint64_t ctx, d, mod, fn;

	hello(p);
	ctx = ctx_create(p);
	d = mem_alloc(p, ctx, 64);
	/* NOREPLY success: no answer; NOREPLY failure: an answer */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, d);
	send_req(p, VGPU_OP_MEM_FREE, VGPU_FRAME_F_NOREPLY, &w);
	send_req(p, VGPU_OP_MEM_FREE, VGPU_FRAME_F_NOREPLY, &w);
	{
		struct vgpu_frame_hdr h;
		void *b = NULL;

		assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), 0);
		assert_true(h.id == p->next);
		assert_int_equal(h.status, CUDA_ERROR_INVALID_VALUE);
		assert_null(b);
	}
	vgpu_wbuf_free(&w);

	/* fault: the launch succeeds, the sync reports, everything after fails */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_bytes(&w, SIM_IMG, strlen(SIM_IMG));
	mod = call_u64(p, VGPU_OP_MODULE_LOAD, &w, 0);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "fault");
	assert_int_equal(rpc(p, VGPU_OP_MODULE_GET_FUNCTION, &w, &r, &mem), 0);
	fn = vgpu_get_u64(&r);
	free(mem);
	vgpu_wbuf_free(&w);
	vgpu_wbuf_init(&w);
	put_launch(&w, ctx, fn, 1, 1, 0, &d, 8);
	assert_int_equal(call(p, VGPU_OP_LAUNCH, &w), 0);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_CTX_SYNC, &w), CUDA_ERROR_ILLEGAL_ADDRESS);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, 8);
	assert_int_equal(call(p, VGPU_OP_MEM_ALLOC, &w), CUDA_ERROR_ILLEGAL_ADDRESS);
	vgpu_wbuf_free(&w);
	assert_int_equal(finish(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saxpy),
		cmocka_unit_test(test_bad_handles),
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_staged_image),
		cmocka_unit_test(test_cross_session),
		cmocka_unit_test(test_noreply_and_sticky),
	};

	signal(SIGPIPE, SIG_IGN);
	/* the refusals below are expected: keep their warnings, drop the info chatter */
	vgpu_log_init("test_session_flow", VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
