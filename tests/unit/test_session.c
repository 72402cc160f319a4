// SPDX-License-Identifier: MIT
/*
 * test_session.c - vgpu_session_serve in a thread over a socketpair,
 * driven with raw protocol frames; and at the end vgpu-server itself
 * (fork per session, SERVER_STATS, a SIGKILLed session shows freed, SIGTERM).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/server.h"

#define SIM_IMG "//vgpu-sim saxpy\n"

struct peer {
	int fd;		/* client end */
	int sfd;	/* session end */
	uint32_t id;
	int ret;
	pthread_t th;
	uint64_t next;
	struct vgpu_server_config cfg;
};

static void *serve(void *arg)
{
	struct peer *p = arg;

	p->ret = vgpu_session_serve(p->sfd, &p->cfg, p->id);
	close(p->sfd);
	return NULL;
}

static struct peer *start(uint32_t id)
{
	struct peer *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[0];
	p->sfd = sv[1];
	p->id = id;
	p->next = 100;
	p->cfg.backend = VGPU_BACKEND_SIM;
	p->cfg.sim_mem_bytes = 1 << 20;
	assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
	return p;
}

/* Close our end, wait for the session; returns vgpu_session_serve's result. */
static int finish(struct peer *p)
{
	int ret;

	close(p->fd);
	pthread_join(p->th, NULL);
	ret = p->ret;
	free(p);
	return ret;
}

/* After the session closed its end: our next read sees EOF. */
static void assert_closed(struct peer *p)
{
	struct vgpu_frame_hdr h;
	void *b = NULL;

	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), -ECONNRESET);
	pthread_join(p->th, NULL);
	p->th = 0;
}

static void send_req(struct peer *p, uint16_t op, uint32_t flags, const struct vgpu_wbuf *w)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .flags = flags, .id = ++p->next,
				    .len = w ? (uint32_t)w->len : 0 };

	assert_int_equal(vgpu_frame_send(p->fd, &h, w ? w->buf : NULL), 0);
}

/* One request/response; returns status, body in *r (backed by *mem, freed by caller). */
static uint32_t rpc(struct peer *p, uint16_t op, const struct vgpu_wbuf *w, struct vgpu_rbuf *r,
		    void **mem)
{
	struct vgpu_frame_hdr h;
	void *b = NULL;

	send_req(p, op, 0, w);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), 0);
	assert_int_equal(h.op, op);
	assert_true(h.id == p->next);
	assert_true(h.flags & VGPU_FRAME_F_RESP);
	if (h.status)
		assert_int_equal(h.len, 0);
	vgpu_rbuf_init(r, b, h.len);
	if (mem)
		*mem = b;
	else
		free(b);
	return h.status;
}

/* rpc for ops whose reply carries nothing (or that we ignore). */
static uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;
	uint32_t st = rpc(p, op, w, &r, NULL);

	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return st;
}

/* rpc whose reply is a single u64. */
static uint64_t call_u64(struct peer *p, uint16_t op, struct vgpu_wbuf *w, uint32_t want)
{
	struct vgpu_rbuf r;
	void *mem;
	uint64_t v = 0;

	assert_int_equal(rpc(p, op, w, &r, &mem), want);
	if (!want) {
		v = vgpu_get_u64(&r);
		assert_true(vgpu_rbuf_done(&r));
	}
	free(mem);
	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return v;
}

static void hello(struct peer *p)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = VGPU_GPU_ALL,
				    .client = "test_session" };
	struct vgpu_hello_resp resp;
	const char *why = NULL;

	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), 0);
	assert_int_equal(resp.version, 1);
	assert_int_equal(resp.backend, VGPU_BACKEND_SIM);
	assert_int_equal(resp.session, p->id);
}

static uint64_t ctx_create(struct peer *p)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	return call_u64(p, VGPU_OP_CTX_CREATE, &w, 0);
}

static uint64_t mem_alloc(struct peer *p, uint64_t ctx, uint64_t size)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, size);
	return call_u64(p, VGPU_OP_MEM_ALLOC, &w, 0);
}

static uint32_t htod(struct peer *p, uint64_t ctx, uint64_t dst, const void *d, size_t n)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dst);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, d, n);
	return call(p, VGPU_OP_MEMCPY_HTOD, &w);
}

static uint32_t dtoh(struct peer *p, uint64_t ctx, uint64_t src, void *d, size_t n)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, src);
	vgpu_put_u64(&w, n);
	vgpu_put_u64(&w, 0);
	st = rpc(p, VGPU_OP_MEMCPY_DTOH, &w, &r, &mem);
	vgpu_wbuf_free(&w);
	if (!st) {
		size_t got;
		const void *b = vgpu_get_bytes(&r, &got);

		assert_true(vgpu_rbuf_done(&r));
		assert_int_equal(got, n);
		memcpy(d, b, n);
	}
	free(mem);
	return st;
}

static void stats(struct peer *p, uint32_t *s, uint64_t *b, uint64_t *a)
{
	struct vgpu_rbuf r;
	void *mem;

	assert_int_equal(rpc(p, VGPU_OP_SERVER_STATS, NULL, &r, &mem), 0);
	*s = vgpu_get_u32(&r);
	*b = vgpu_get_u64(&r);
	*a = vgpu_get_u64(&r);
	assert_true(vgpu_rbuf_done(&r));
	free(mem);
}

/* ---- tests ------------------------------------------------------------- */

static void test_handshake(void **state)
{
	struct peer *p = start(7);
	struct vgpu_rbuf r;
	void *mem;
	uint32_t n;

	hello(p);
	assert_int_equal(rpc(p, VGPU_OP_DEVICE_COUNT, NULL, &r, &mem), 0);
	n = vgpu_get_u32(&r);
	assert_true(vgpu_rbuf_done(&r));
	assert_int_equal(n, 1);
	free(mem);
	/* GOODBYE: answered, then the session ends cleanly */
	assert_int_equal(rpc(p, VGPU_OP_GOODBYE, NULL, &r, NULL), 0);
	assert_closed(p);
	assert_int_equal(p->ret, 0);
	close(p->fd);
	free(p);
}

static void test_hello_refusals(void **state)
{
	struct vgpu_hello_req q = { .min_version = 2, .max_version = 5, .gpu = VGPU_GPU_ALL };
	struct vgpu_hello_resp resp;
	const char *why = NULL;
	struct peer *p = start(1);

	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), -EPROTO);
	assert_closed(p);
	assert_true(p->ret < 0);
	close(p->fd);
	free(p);

	p = start(2);
	q.min_version = 1;
	q.gpu = 1;	/* the sim has one GPU */
	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), -EPROTO);
	assert_closed(p);
	close(p->fd);
	free(p);

	/* gpu 0 is fine */
	p = start(3);
	q.gpu = 0;
	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), 0);
	assert_int_equal(finish(p), 0);
}

static void test_wrong_first_frame(void **state)
{
	struct peer *p = start(1);

	send_req(p, VGPU_OP_DEVICE_COUNT, 0, NULL);
	assert_closed(p);
	assert_true(p->ret < 0);
	close(p->fd);
	free(p);
}

/* Publish into a private stats table so we can see the session free itself. */
static struct vgpu_stats_table tab;

static void test_garbage_closes_and_frees(void **state)
{
	static const uint8_t junk[32] = "this is not a vgpu frame header";
	int slot;

	assert_int_equal(vgpu_stats_create(&tab, 4), 0);
	for (int mode = 0; mode < 4; mode++) {
		struct peer *p = start(10 + mode);
		struct vgpu_wbuf w;
		uint64_t ctx;
		uint32_t s;
		uint64_t b, a;

		slot = vgpu_stats_claim(&tab, 10 + mode);
		vgpu_stats_set_pid(&tab, slot, getpid());
		vgpu_session_attach_stats(&tab, slot);
		hello(p);
		ctx = ctx_create(p);
		mem_alloc(p, ctx, 1000);
		mem_alloc(p, ctx, 24);
		stats(p, &s, &b, &a);
		assert_int_equal(s, 1);
		assert_true(b == 1024 && a == 2);
		vgpu_wbuf_init(&w);
		switch (mode) {
		case 0:	/* bad magic */
			assert_int_equal(write(p->fd, junk, sizeof(junk)), 32);
			break;
		case 1:	/* truncated body: MEM_ALLOC with 12 of its 16 bytes */
			vgpu_put_u64(&w, ctx);
			vgpu_put_u32(&w, 1);
			send_req(p, VGPU_OP_MEM_ALLOC, 0, &w);
			break;
		case 2:	/* trailing garbage after a valid body */
			vgpu_put_u64(&w, ctx);
			vgpu_put_u8(&w, 0);
			send_req(p, VGPU_OP_CTX_SYNC, 0, &w);
			break;
		case 3:	/* unknown op */
			send_req(p, 999, 0, NULL);
			break;
		}
		vgpu_wbuf_free(&w);
		assert_closed(p);
		assert_true(p->ret < 0);
		/* the session published its empty totals on the way out */
		assert_true(tab.slots[slot].bytes_allocated == 0);
		assert_true(tab.slots[slot].allocations == 0);
		vgpu_stats_release(&tab, slot);
		close(p->fd);
		free(p);
	}
	vgpu_session_attach_stats(NULL, -1);
	vgpu_stats_destroy(&tab);
}

static void test_eof_mid_frame(void **state)
{
	struct peer *p = start(1);
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1,
				    .op = VGPU_OP_MEMCPY_HTOD, .len = 1000 };
	uint8_t b[VGPU_PROTO_HDR_SIZE] = { 0 };

	hello(p);
	mem_alloc(p, ctx_create(p), 4096);
	vgpu_hdr_encode(&h, b);
	assert_int_equal(write(p->fd, b, sizeof(b)), (ssize_t)sizeof(b));
	assert_int_equal(write(p->fd, b, 10), 10);
	shutdown(p->fd, SHUT_WR);
	assert_closed(p);	/* ends, frees (checked by sanitizer/valgrind runs) */
	close(p->fd);
	free(p);
}

/* The whole saxpy flow, as a driver-API program would do it. */
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
	for (int len = 27; len <= 28; len++) {
		vgpu_put_u64(&w, ctx);
		vgpu_put_u64(&w, fn);
		for (int i = 0; i < 3; i++)
			vgpu_put_u32(&w, i ? 1 : N / 256);
		for (int i = 0; i < 3; i++)
			vgpu_put_u32(&w, i ? 1 : 256);
		vgpu_put_u32(&w, 0);
		vgpu_put_u32(&w, 0);
		vgpu_put_u64(&w, 0);
		vgpu_put_bytes(&w, params, len);
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
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, fn);
	for (int i = 0; i < 6; i++)
		vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, params, 28);
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
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, fn);
	for (int i = 0; i < 6; i++)
		vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, &d, 8);
	assert_int_equal(call(p, VGPU_OP_LAUNCH, &w), 0);
	vgpu_put_u64(&w, ctx);
	assert_int_equal(call(p, VGPU_OP_CTX_SYNC, &w), CUDA_ERROR_ILLEGAL_ADDRESS);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, 8);
	assert_int_equal(call(p, VGPU_OP_MEM_ALLOC, &w), CUDA_ERROR_ILLEGAL_ADDRESS);
	vgpu_wbuf_free(&w);
	assert_int_equal(finish(p), 0);
}

/* ---- vgpu-server itself ------------------------------------------------ */

static const char *server_bin(void)
{
	const char *b = getenv("VGPU_SERVER_BIN");

	return b ? b : "build/bin/vgpu-server";
}

static pid_t spawn_server(char *hostport, size_t cap)
{
	int pfd[2];
	pid_t pid;
	FILE *f;
	char line[256];
	unsigned int port;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(server_bin(), "vgpu-server", "--backend", "sim", "--listen", "127.0.0.1:0",
		      "--sim-mem", "64M", "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(sscanf(line, "listening on 127.0.0.1:%u", &port), 1);
	assert_true(port > 0 && port < 65536);
	snprintf(hostport, cap, "127.0.0.1:%u", port);
	fclose(f);
	return pid;
}

static struct peer *connect_to(const char *hp)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->fd = vgpu_tcp_connect(hp, 2000);
	assert_true(p->fd >= 0);
	p->next = 1;
	{
		struct vgpu_hello_req q = { .min_version = 1, .max_version = 1,
					    .gpu = VGPU_GPU_ALL };
		struct vgpu_hello_resp resp;
		const char *why;

		assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, &why), 0);
		assert_int_equal(resp.backend, VGPU_BACKEND_SIM);
		p->id = resp.session;
	}
	return p;
}

static void run_stat(const char *hp, char *out, size_t cap)
{
	char cmd[512];
	const char *bin = getenv("VGPU_STAT_BIN");
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s %s", bin ? bin : "build/bin/vgpu-stat", hp);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)cap, f));
	assert_int_equal(pclose(f), 0);
}

static void test_server_process(void **state)
{
	char hp[64], out[256];
	struct peer *a, *b, *c;
	uint64_t ctx, bytes, allocs;
	uint32_t sessions;
	pid_t srv, victim = 0;
	int st;
	FILE *f;
	char path[64];

	if (access(server_bin(), X_OK)) {
		print_message("no %s: skipped\n", server_bin());
		skip();
	}
	srv = spawn_server(hp, sizeof(hp));
	a = connect_to(hp);
	ctx = ctx_create(a);
	mem_alloc(a, ctx, 1000);
	mem_alloc(a, ctx, 24);
	b = connect_to(hp);
	stats(b, &sessions, &bytes, &allocs);
	assert_int_equal(sessions, 2);
	assert_true(bytes == 1024 && allocs == 2);
	run_stat(hp, out, sizeof(out));
	assert_string_equal(out, "sessions=2 bytes_allocated=1024 allocations=2\n");

	/* B leaves; then A's process is SIGKILLed: its totals must vanish */
	close(b->fd);
	free(b);
	usleep(100000);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)srv, (int)srv);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &victim) != 1)
			victim = 0;
		fclose(f);
	}
	if (victim > 0) {
		assert_int_equal(kill(victim, SIGKILL), 0);
		c = connect_to(hp);
		for (int i = 0; i < 200; i++) {
			stats(c, &sessions, &bytes, &allocs);
			if (sessions == 1)
				break;
			usleep(10000);
		}
		assert_int_equal(sessions, 1);
		assert_true(bytes == 0 && allocs == 0);
		close(c->fd);
		free(c);
	}
	close(a->fd);
	free(a);

	assert_int_equal(kill(srv, SIGTERM), 0);
	assert_int_equal(waitpid(srv, &st, 0), srv);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_hello_refusals),
		cmocka_unit_test(test_wrong_first_frame),
		cmocka_unit_test(test_garbage_closes_and_frees),
		cmocka_unit_test(test_eof_mid_frame),
		cmocka_unit_test(test_saxpy),
		cmocka_unit_test(test_bad_handles),
		cmocka_unit_test(test_device_info),
		cmocka_unit_test(test_cross_session),
		cmocka_unit_test(test_noreply_and_sticky),
		cmocka_unit_test(test_server_process),
	};

	signal(SIGPIPE, SIG_IGN);
	/* the refusals below are expected: keep their warnings, drop the info chatter */
	vgpu_log_init("test_session", VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
