// SPDX-License-Identifier: MIT
/*
 * smoke_main.c - vgpu-smoke HOST:PORT: an end-to-end check of a running
 * vgpu-server through the raw protocol: device info, a saxpy kernel, a
 * module global, events, range checking, stats.  Against a sim server it
 * loads a sim image; against a cuda server the hand-written PTX below, so it
 * needs no nvcc.  Prints what it did; exit 0 only if every step checked out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "server/sim_ptx.h"

/* the sim's kernels as PTX: saxpy and sim_counter for a real GPU */
static const char saxpy_ptx[] = VGPU_SIM_KERNELS_PTX;
static const char sim_image[] = "//vgpu-sim smoke\n";

static int fd;
static uint64_t next_id;
static int failures;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			failures++;					\
		}							\
	} while (0)

/* Send w as op, receive the reply into r (body in *mem); returns status or -errno. */
static int rpc(uint16_t op, struct vgpu_wbuf *w, struct vgpu_rbuf *r, void **mem)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = ++next_id, .len = w ? (uint32_t)w->len : 0 };
	const char *why = NULL;
	int ret = vgpu_frame_send(fd, &h, w ? w->buf : NULL);

	if (w) {
		vgpu_wbuf_free(w);
		vgpu_wbuf_init(w);
	}
	*mem = NULL;
	if (!ret)
		ret = vgpu_frame_recv(fd, VGPU_PROTO_MAX_BODY, &h, mem, &why);
	if (ret) {
		fprintf(stderr, "vgpu-smoke: %s: %s\n", vgpu_op_name(op), why ? why : strerror(-ret));
		exit(1);
	}
	if (h.op != op || h.id != next_id || !(h.flags & VGPU_FRAME_F_RESP)) {
		fprintf(stderr, "vgpu-smoke: %s: mismatched reply\n", vgpu_op_name(op));
		exit(1);
	}
	vgpu_rbuf_init(r, *mem, h.len);
	return (int)h.status;
}

/* rpc that must succeed; the reply stays in r/mem. */
static void ok(uint16_t op, struct vgpu_wbuf *w, struct vgpu_rbuf *r, void **mem)
{
	int st = rpc(op, w, r, mem);

	if (st) {
		fprintf(stderr, "vgpu-smoke: %s failed with CUresult %d\n", vgpu_op_name(op), st);
		exit(1);
	}
}

static uint64_t ok_u64(uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;
	void *mem;
	uint64_t v;

	ok(op, w, &r, &mem);
	v = vgpu_get_u64(&r);
	CHECK(vgpu_rbuf_done(&r), "%s reply size", vgpu_op_name(op));
	free(mem);
	return v;
}

static void device_info(struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;
	void *mem;
	char name[256];
	size_t ul;
	uint64_t total;
	uint32_t drv, n;
	int32_t attr[256] = { 0 };

	vgpu_put_u32(w, 0);
	ok(VGPU_OP_DEVICE_INFO, w, &r, &mem);
	vgpu_get_str(&r, name, sizeof(name));
	vgpu_get_bytes(&r, &ul);
	total = vgpu_get_u64(&r);
	drv = vgpu_get_u32(&r);
	n = vgpu_get_u32(&r);
	for (uint32_t i = 0; i < n; i++) {
		int32_t v = vgpu_get_i32(&r);

		if (i < 256)
			attr[i] = v;
	}
	CHECK(vgpu_rbuf_done(&r) && ul == 16, "DEVICE_INFO reply");
	printf("device 0: %s, %llu MiB, driver %u, sm_%d%d, %d SMs, warp %d, %u attributes\n",
	       name, (unsigned long long)(total >> 20), drv, attr[75], attr[76], attr[16],
	       attr[10], n);
	CHECK(attr[10] == 32, "warp size %d", attr[10]);
	free(mem);
}

int main(int argc, char **argv)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = VGPU_GPU_ALL,
				    .client = "vgpu-smoke" };
	struct vgpu_hello_resp hr;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	const char *why = NULL;
	void *mem;
	enum { N = 1 << 20 };
	float *x = malloc(N * 4), *y = malloc(N * 4), a = 2.5f, ms;
	uint64_t ctx, dx, dy, mod, fn, g, gsize, ev0, ev1;
	uint32_t cnt, counter = 0x1234abcd, back = 0;
	int32_t n = N;
	uint8_t params[28] = { 0 };
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: vgpu-smoke HOST:PORT\n");
		return 2;
	}
	fd = vgpu_tcp_connect(argv[1], 5000);
	if (fd < 0) {
		fprintf(stderr, "vgpu-smoke: %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	ret = vgpu_client_hello(fd, &q, &hr, &why);
	if (ret) {
		fprintf(stderr, "vgpu-smoke: handshake: %s\n", why ? why : strerror(-ret));
		return 1;
	}
	printf("session %u on \"%s\", backend %s\n", hr.session, hr.server,
	       hr.backend == VGPU_BACKEND_CUDA ? "cuda" : "sim");
	vgpu_wbuf_init(&w);
	device_info(&w);

	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	ctx = ok_u64(VGPU_OP_CTX_CREATE, &w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, N * 4);
	dx = ok_u64(VGPU_OP_MEM_ALLOC, &w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, N * 4);
	dy = ok_u64(VGPU_OP_MEM_ALLOC, &w);
	printf("allocated x at 0x%llx, y at 0x%llx\n", (unsigned long long)dx,
	       (unsigned long long)dy);
	for (int i = 0; i < N; i++) {
		x[i] = (float)(i % 1000);
		y[i] = 1.0f;
	}
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dx);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, x, N * 4);
	ok(VGPU_OP_MEMCPY_HTOD, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dy);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, y, N * 4);
	ok(VGPU_OP_MEMCPY_HTOD, &w, &r, &mem);

	/* one byte past y: refused */
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dy + 1);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, y, N * 4);
	CHECK(rpc(VGPU_OP_MEMCPY_HTOD, &w, &r, &mem) == 1, "out-of-range copy not refused");
	free(mem);

	vgpu_put_u64(&w, ctx);
	if (hr.backend == VGPU_BACKEND_CUDA)
		vgpu_put_bytes(&w, saxpy_ptx, sizeof(saxpy_ptx) - 1);
	else
		vgpu_put_bytes(&w, sim_image, sizeof(sim_image) - 1);
	mod = ok_u64(VGPU_OP_MODULE_LOAD, &w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "saxpy");
	ok(VGPU_OP_MODULE_GET_FUNCTION, &w, &r, &mem);
	fn = vgpu_get_u64(&r);
	cnt = vgpu_get_u32(&r);
	printf("saxpy layout:");
	{
		static const uint32_t want[8] = { 0, 4, 8, 8, 16, 8, 24, 4 };

		CHECK(cnt == 4, "saxpy has %u params", cnt);
		for (uint32_t i = 0; i < cnt && i < 4; i++) {
			uint32_t o = vgpu_get_u32(&r), s = vgpu_get_u32(&r);

			printf(" %u/%u", o, s);
			CHECK(o == want[2 * i] && s == want[2 * i + 1], "param %u layout", i);
		}
	}
	printf("\n");
	free(mem);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	vgpu_put_str(&w, "sim_counter");
	ok(VGPU_OP_MODULE_GET_GLOBAL, &w, &r, &mem);
	g = vgpu_get_u64(&r);
	gsize = vgpu_get_u64(&r);
	free(mem);
	CHECK(gsize == 4, "sim_counter size %llu", (unsigned long long)gsize);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, g);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, &counter, 4);
	ok(VGPU_OP_MEMCPY_HTOD, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, g);
	vgpu_put_u64(&w, 4);
	vgpu_put_u64(&w, 0);
	ok(VGPU_OP_MEMCPY_DTOH, &w, &r, &mem);
	{
		size_t bl;
		const void *b = vgpu_get_bytes(&r, &bl);

		if (b && bl == 4)
			memcpy(&back, b, 4);
	}
	free(mem);
	CHECK(back == counter, "global round trip 0x%x", back);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u32(&w, 0);
	ev0 = ok_u64(VGPU_OP_EVENT_CREATE, &w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u32(&w, 0);
	ev1 = ok_u64(VGPU_OP_EVENT_CREATE, &w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev0);
	vgpu_put_u64(&w, 0);
	ok(VGPU_OP_EVENT_RECORD, &w, &r, &mem);

	memcpy(params, &a, 4);
	memcpy(params + 8, &dx, 8);
	memcpy(params + 16, &dy, 8);
	memcpy(params + 24, &n, 4);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, fn);
	vgpu_put_u32(&w, N / 256);
	vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 256);
	vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 1);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, params, sizeof(params));
	ok(VGPU_OP_LAUNCH, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev1);
	vgpu_put_u64(&w, 0);
	ok(VGPU_OP_EVENT_RECORD, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	ok(VGPU_OP_CTX_SYNC, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, ev0);
	vgpu_put_u64(&w, ev1);
	ok(VGPU_OP_EVENT_ELAPSED, &w, &r, &mem);
	ms = vgpu_get_f32(&r);
	free(mem);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dy);
	vgpu_put_u64(&w, N * 4);
	vgpu_put_u64(&w, 0);
	ok(VGPU_OP_MEMCPY_DTOH, &w, &r, &mem);
	{
		size_t bl;
		const float *b = vgpu_get_bytes(&r, &bl);
		int bad = 0;

		CHECK(b && bl == N * 4, "DTOH size");
		for (int i = 0; b && i < N; i++)
			bad += b[i] != a * (float)(i % 1000) + 1.0f;
		CHECK(!bad, "%d wrong saxpy results", bad);
		printf("saxpy over %d elements: %s, %.3f ms between events\n", N,
		       bad ? "WRONG" : "correct", ms);
	}
	free(mem);

	ok(VGPU_OP_SERVER_STATS, NULL, &r, &mem);
	{
		uint32_t s = vgpu_get_u32(&r);
		uint64_t by = vgpu_get_u64(&r), al = vgpu_get_u64(&r);

		printf("server: sessions=%u bytes_allocated=%llu allocations=%llu\n", s,
		       (unsigned long long)by, (unsigned long long)al);
		CHECK(s >= 1 && by >= 2ull * N * 4 && al >= 2, "stats");
	}
	free(mem);

	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, mod);
	ok(VGPU_OP_MODULE_UNLOAD, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dx);
	ok(VGPU_OP_MEM_FREE, &w, &r, &mem);
	vgpu_put_u64(&w, ctx);
	ok(VGPU_OP_CTX_DESTROY, &w, &r, &mem);
	ok(VGPU_OP_GOODBYE, NULL, &r, &mem);
	vgpu_wbuf_free(&w);
	close(fd);
	free(x);
	free(y);
	printf("%s\n", failures ? "FAILED" : "OK");
	return failures ? 1 : 0;
}
