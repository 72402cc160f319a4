// SPDX-License-Identifier: MIT
/*
 * test_userd.c - vgpud's channel logic (userd/ring.c, userd/chan.c) without
 * the kernel: the test plays the application on a ring in anonymous memory
 * and moves the channel's bytes with a small poll() loop over a socketpair,
 * to either vgpu_session_serve (sim backend) in a thread or a scripted
 * fake server written inline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/ring.h"

#define WAIT_MS 5000

/* ---- the poll() loop standing in for io_uring --------------------------- */

struct rig {
	struct tring t;
	struct chan *c;
	int fd;			/* channel end, non-blocking */
	int peer;		/* fake server end, blocking with a timeout (or -1) */
	struct tserver srv;	/* when talking to the real session */
	bool real;
};

/* One round of I/O: send what is queued, take in what arrived, process. */
static void pump_once(struct rig *r, int wait_ms)
{
	struct iovec iov[16];
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	uint8_t buf[16384];
	int n = chan_tx_iov(r->c, iov, 16);

	if (n) {
		ssize_t w = writev(r->fd, iov, n);

		chan_tx_done(r->c, w > 0 ? (size_t)w : 0);
		if (w < 0 && errno != EAGAIN)
			chan_conn_lost(r->c);
		wait_ms = 0;
	}
	if (poll(&p, 1, wait_ms) > 0) {
		ssize_t got = read(r->fd, buf, sizeof(buf));

		if (got > 0)
			chan_rx(r->c, buf, (size_t)got);
		else if (got == 0 || errno != EAGAIN)
			chan_conn_lost(r->c);
	}
	chan_process(r->c);
}

/* Pump until @want completions were reaped into @out (asserts on timeout). */
static void pump_reap(struct rig *r, struct vgpu_cqe *out, int want)
{
	uint64_t end = now_ms() + WAIT_MS;
	int got = 0;

	while (got < want) {
		assert_true(now_ms() < end);
		pump_once(r, 5);
		got += tring_reap(&r->t, out + got, want - got);
	}
	pump_once(r, 0);
	assert_int_equal(tring_cq_ready(&r->t), 0);	/* nothing unexpected */
}

/* Pump until @cond holds. */
#define PUMP_UNTIL(r, cond)						\
	do {								\
		uint64_t end_ = now_ms() + WAIT_MS;			\
		while (!(cond)) {					\
			assert_true(now_ms() < end_);			\
			pump_once(r, 5);				\
		}							\
	} while (0)

/* Send everything queued (for the fake server, which reads synchronously). */
static void flush_tx(struct rig *r)
{
	uint64_t end = now_ms() + WAIT_MS;
	struct iovec iov[16];
	int n;

	while ((n = chan_tx_iov(r->c, iov, 16)) > 0) {
		ssize_t w = writev(r->fd, iov, n);

		chan_tx_done(r->c, w > 0 ? (size_t)w : 0);
		assert_true(w >= 0 || errno == EAGAIN);
		assert_true(now_ms() < end);
	}
}

static void rig_init(struct rig *r, bool real, uint32_t sq, uint32_t cq, uint32_t data,
		     uint32_t start, uint64_t features, uint32_t gpu)
{
	struct vgpu_hello_req h = { .min_version = 1, .max_version = 1, .gpu = gpu,
				    .client = "test_userd" };
	const char *why = NULL;
	int sv[2];

	memset(r, 0, sizeof(*r));
	tring_init(&r->t, sq, cq, data, start);
	assert_int_equal(ring_info_check(&r->t.ri, &why), 0);
	r->c = chan_new(5, r->t.map, &r->t.ri, features);
	assert_non_null(r->c);
	assert_int_equal(chan_start(r->c, &h), 0);
	r->real = real;
	if (real) {
		r->fd = tserver_start(&r->srv);
		r->peer = -1;
	} else {
		struct timeval tv = { .tv_sec = 5 };

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		r->fd = sv[0];
		r->peer = sv[1];
		setsockopt(r->peer, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
}

static void rig_fini(struct rig *r)
{
	close(r->fd);
	if (r->real)
		tserver_join(&r->srv);	/* the session ends on EOF */
	if (r->peer >= 0)
		close(r->peer);
	chan_free(r->c);
	tring_fini(&r->t);
}

/* Submit what tring_req queued and ring the "doorbell". */
static void doorbell(struct rig *r)
{
	tring_publish(&r->t);
	chan_process(r->c);
}

/* ---- the fake server ---------------------------------------------------- */

static void peer_recv(struct rig *r, struct vgpu_frame_hdr *h, void **body)
{
	flush_tx(r);
	assert_int_equal(vgpu_frame_recv(r->peer, VGPU_PROTO_MAX_BODY, h, body, NULL), 0);
}

static void peer_send(struct rig *r, uint64_t id, uint16_t op, uint32_t status, const void *b,
		      uint32_t len)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1, .op = op,
				    .flags = VGPU_FRAME_F_RESP, .status = status, .id = id,
				    .len = len };

	assert_int_equal(vgpu_frame_send(r->peer, &h, b), 0);
}

static void peer_hello(struct rig *r)
{
	struct vgpu_hello_resp hr = { .version = 1, .backend = VGPU_BACKEND_SIM, .session = 3,
				      .server = "fake" };
	struct vgpu_hello_req q;
	struct vgpu_frame_hdr h;
	struct vgpu_rbuf rb;
	struct vgpu_wbuf w;
	void *body;

	peer_recv(r, &h, &body);
	assert_int_equal(h.op, VGPU_OP_HELLO);
	assert_true(h.id == 0);
	vgpu_rbuf_init(&rb, body, h.len);
	assert_int_equal(vgpu_hello_req_get(&rb, &q), 0);
	assert_string_equal(q.client, "test_userd");
	free(body);
	vgpu_wbuf_init(&w);
	vgpu_hello_resp_put(&w, &hr);
	peer_send(r, 0, VGPU_OP_HELLO, 0, w.buf, (uint32_t)w.len);
	vgpu_wbuf_free(&w);
	PUMP_UNTIL(r, chan_ready(r->c));
}

/* Read @n request frames (after HELLO), their ids in @ids. */
static void peer_take(struct rig *r, int n, uint64_t *ids, uint16_t *ops, uint32_t *flags)
{
	for (int i = 0; i < n; i++) {
		struct vgpu_frame_hdr h;
		void *body;

		peer_recv(r, &h, &body);
		free(body);
		assert_false(h.flags & VGPU_FRAME_F_RESP);
		ids[i] = h.id;
		if (ops)
			ops[i] = h.op;
		if (flags)
			flags[i] = h.flags;
	}
}

/* ---- ring layout and entry checks --------------------------------------- */

static void test_ring_info_check(void **state)
{
	struct tring t;
	struct vgpu_ring_info ri;
	const char *why = NULL;

	tring_init(&t, 64, 128, 1 << 20, 0);
	assert_int_equal(ring_info_check(&t.ri, &why), 0);
#define BAD(field, val)								\
	do {									\
		ri = t.ri;							\
		ri.field = (val);						\
		why = NULL;							\
		assert_int_equal(ring_info_check(&ri, &why), -EINVAL);		\
		assert_non_null(why);						\
	} while (0)
	BAD(sq_entries, 0);
	BAD(sq_entries, 48);				/* not a power of two */
	BAD(sq_entries, 2 * VGPU_SQ_ENTRIES_MAX);
	BAD(cq_entries, 96);
	BAD(cq_entries, 0);
	BAD(data_size, VGPU_DATA_SIZE_MAX + 1);
	BAD(map_size, 0);
	BAD(map_size, t.ri.map_size - 1);		/* data area sticks out */
	BAD(map_size, (uint64_t)1 << 40);
	BAD(sq_tail_off, 66);				/* misaligned index */
	BAD(cqes_off, t.ri.cqes_off + 4);		/* misaligned entries */
	BAD(sqes_off, t.ri.cqes_off);			/* SQ overlaps CQ */
	BAD(cq_tail_off, t.ri.data_off + 8);		/* index inside data */
	BAD(sq_head_off, t.ri.sq_tail_off);		/* two indices share a word */
	BAD(data_off, 0xfffff000u);			/* far outside */
#undef BAD
	tring_fini(&t);
}

static void test_sqe_check(void **state)
{
	struct vgpu_sqe ok = { .id = 1, .op = VGPU_OP_DEVICE_COUNT, .req_off = 0, .req_len = 16,
			       .resp_off = 16, .resp_cap = 16 };
	struct vgpu_sqe e;
	const char *why;

	assert_int_equal(ring_sqe_check(&ok, 4096, 0, &why), 0);
	e = ok; e.flags = VGPU_SQE_F_NOREPLY;
	assert_int_equal(ring_sqe_check(&e, 4096, VGPU_F_NOREPLY, &why), 0);
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.reserved = 1;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.flags = 2;
	assert_int_equal(ring_sqe_check(&e, 4096, VGPU_F_ALL, &why), -EINVAL);
	e = ok; e.op = 0;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.op = VGPU_OP_HELLO;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.op = VGPU_OP_MAX;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.req_off = 4090;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.req_off = 0xfffffff8u; e.req_len = 0x10;	/* u32 sum wraps to 8 */
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.resp_off = 0xfffffff8u; e.resp_cap = 0x10;
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), -EINVAL);
	e = ok; e.resp_off = 4096; e.resp_cap = 0;		/* empty, at the end: fine */
	assert_int_equal(ring_sqe_check(&e, 4096, 0, &why), 0);
	e = ok; e.req_len = VGPU_PROTO_MAX_BODY + 1;
	assert_int_equal(ring_sqe_check(&e, VGPU_DATA_SIZE_MAX, 0, &why), -EINVAL);
	e.req_len = VGPU_PROTO_MAX_BODY;
	assert_int_equal(ring_sqe_check(&e, VGPU_DATA_SIZE_MAX, 0, &why), 0);
}

/* ---- against the real session ------------------------------------------- */

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One request, one completion; returns the response area. */
static uint8_t *call(struct rig *r, uint64_t id, uint16_t op, struct vgpu_wbuf *w, uint32_t cap,
		     struct vgpu_cqe *cqe)
{
	struct vgpu_sqe *e = tring_req(&r->t, id, op, w, cap);
	uint32_t resp_off = e->resp_off;

	if (w)
		vgpu_wbuf_free(w);
	doorbell(r);
	pump_reap(r, cqe, 1);
	assert_true(cqe->id == id);
	return r->t.data + resp_off;
}

static void test_server_roundtrip(void **state)
{
	struct rig r;
	struct vgpu_cqe q;
	struct vgpu_wbuf w;
	uint8_t *resp, pattern[5000];
	uint64_t ctx, dptr;

	rig_init(&r, true, 64, 128, 1 << 20, 0, 0, 0);
	resp = call(&r, 1, VGPU_OP_DEVICE_COUNT, NULL, 16, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 4);
	assert_int_equal(rd32(resp), 1);
	assert_true(chan_ready(r.c));
	assert_true(chan_take_commit(r.c));

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	resp = call(&r, 2, VGPU_OP_CTX_CREATE, &w, 8, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 8);
	ctx = rd64(resp);

	wb_u64x2(&w, ctx, sizeof(pattern));
	resp = call(&r, 3, VGPU_OP_MEM_ALLOC, &w, 8, &q);
	assert_int_equal(q.res, 0);
	dptr = rd64(resp);

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	wb_u64x2(&w, ctx, dptr);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, pattern, sizeof(pattern));
	call(&r, 4, VGPU_OP_MEMCPY_HTOD, &w, 0, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 0);

	wb_u64x2(&w, ctx, dptr);
	vgpu_put_u64(&w, sizeof(pattern));
	vgpu_put_u64(&w, 0);
	resp = call(&r, 5, VGPU_OP_MEMCPY_DTOH, &w, 8192, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 4 + sizeof(pattern));
	assert_int_equal(rd32(resp), sizeof(pattern));
	assert_memory_equal(resp + 4, pattern, sizeof(pattern));

	/* a CUDA error is a completion like any other: status >= 0 */
	wb_u64x2(&w, ctx, dptr + (1 << 20));
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, pattern, 16);
	call(&r, 6, VGPU_OP_MEMCPY_HTOD, &w, 0, &q);
	assert_true(q.res > 0);
	assert_int_equal(q.resp_len, 0);

	/* response larger than resp_cap: -EMSGSIZE, and the stream stays in step */
	wb_u64x2(&w, ctx, dptr);
	vgpu_put_u64(&w, 256);
	vgpu_put_u64(&w, 0);
	call(&r, 7, VGPU_OP_MEMCPY_DTOH, &w, 100, &q);
	assert_int_equal(q.res, -EMSGSIZE);
	assert_int_equal(q.resp_len, 0);
	resp = call(&r, 8, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(rd32(resp), 1);
	assert_int_equal(chan_inflight(r.c), 0);
	assert_int_equal(chan_error(r.c), 0);
	rig_fini(&r);
}

/* Many entries in one doorbell; completions are matched by id. */
static void test_server_batch(void **state)
{
	enum { N = 200 };
	struct vgpu_cqe q[N];
	uint32_t resp_off[N];
	bool seen[N] = { 0 };
	struct rig r;

	rig_init(&r, true, 256, 512, 1 << 20, 0, 0, 0);
	for (int i = 0; i < N; i++)
		resp_off[i] = tring_req(&r.t, 1000 + i, VGPU_OP_DEVICE_COUNT, NULL, 4)->resp_off;
	doorbell(&r);
	assert_int_equal(*r.t.sq_head, N);	/* all taken in one go */
	pump_reap(&r, q, N);
	for (int i = 0; i < N; i++) {
		int k = (int)(q[i].id - 1000);

		assert_true(k >= 0 && k < N && !seen[k]);
		seen[k] = true;
		assert_int_equal(q[i].res, 0);
		assert_int_equal(q[i].resp_len, 4);
		assert_int_equal(rd32(r.t.data + resp_off[k]), 1);
	}
	assert_int_equal(chan_stats(r.c)->frames_sent, N);
	assert_int_equal(chan_stats(r.c)->replies, N);
	rig_fini(&r);
}

/* Free-running u32 indices that wrap around during the test. */
static void test_index_wrap(void **state)
{
	struct vgpu_cqe q[16];
	uint64_t id = 1;
	struct rig r;

	rig_init(&r, true, 16, 32, 1 << 16, 0xfffffff0u, 0, 0);
	for (int round = 0; round < 6; round++) {
		int n = 5 + round * 2;		/* up to 15 of 16 slots */
		uint64_t first = id;

		for (int i = 0; i < n; i++)
			tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
		doorbell(&r);
		assert_int_equal(*r.t.sq_head, r.t.tail);
		pump_reap(&r, q, n);
		for (int i = 0; i < n; i++) {
			assert_true(q[i].id == first + (uint64_t)i);	/* the server answers in order */
			assert_int_equal(q[i].res, 0);
		}
	}
	/* both rings went past 2^32 */
	assert_true(*r.t.sq_head < 0x100 && *r.t.cq_tail < 0x100);
	assert_int_equal(*r.t.cq_tail, *r.t.cq_head);
	rig_fini(&r);
}

/* Bad entries fail alone with -EINVAL; the good ones around them go through. */
static void test_validation(void **state)
{
	struct vgpu_sqe bad[] = {
		{ .id = 101, .op = VGPU_OP_DEVICE_COUNT, .reserved = 1 },
		{ .id = 102, .op = VGPU_OP_DEVICE_COUNT, .flags = 0x8 },
		{ .id = 103, .op = VGPU_OP_DEVICE_COUNT, .flags = VGPU_SQE_F_NOREPLY },
		{ .id = 104, .op = 0 },
		{ .id = 105, .op = VGPU_OP_HELLO },
		{ .id = 106, .op = 999 },
		{ .id = 107, .op = VGPU_OP_DEVICE_COUNT, .req_off = 4000, .req_len = 200 },
		{ .id = 108, .op = VGPU_OP_DEVICE_COUNT, .resp_off = 4096, .resp_cap = 1 },
		{ .id = 109, .op = VGPU_OP_DEVICE_COUNT, .req_off = 0xffffff00u, .req_len = 0x200 },
		{ .id = 110, .op = VGPU_OP_DEVICE_COUNT, .resp_off = 16, .resp_cap = 0xfffffff8u },
	};
	const int nb = sizeof(bad) / sizeof(bad[0]);
	struct vgpu_cqe q[16];
	int good = 0, einval = 0;
	struct rig r;

	rig_init(&r, true, 16, 32, 4096, 0, 0 /* no NOREPLY feature */, 0);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	for (int i = 0; i < nb; i++) {
		tring_sqe(&r.t, &bad[i]);
		if (i == 4)
			tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	}
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	pump_reap(&r, q, nb + 3);
	for (int i = 0; i < nb + 3; i++) {
		if (q[i].id <= 3) {
			assert_int_equal(q[i].res, 0);
			good++;
		} else {
			assert_true(q[i].id >= 101 && q[i].id <= 110);
			assert_int_equal(q[i].res, -EINVAL);
			assert_int_equal(q[i].resp_len, 0);
			einval++;
		}
	}
	assert_int_equal(good, 3);
	assert_int_equal(einval, nb);
	assert_int_equal(chan_stats(r.c)->invalid, nb);
	assert_int_equal(chan_error(r.c), 0);
	rig_fini(&r);
}

/* A request body over VGPU_PROTO_MAX_BODY, inside a big data area. */
static void test_validation_max_body(void **state)
{
	struct vgpu_sqe e = { .id = 9, .op = VGPU_OP_MEMCPY_HTOD, .req_off = 0,
			      .req_len = VGPU_PROTO_MAX_BODY + 1 };
	struct vgpu_cqe q;
	struct rig r;

	rig_init(&r, false, 4, 8, VGPU_PROTO_MAX_BODY + (8u << 20), 0, 0, 0);
	tring_sqe(&r.t, &e);
	doorbell(&r);
	assert_int_equal(tring_reap(&r.t, &q, 1), 1);	/* completed at once, nothing sent */
	assert_true(q.id == 9);
	assert_int_equal(q.res, -EINVAL);
	assert_int_equal(chan_stats(r.c)->frames_sent, 0);
	rig_fini(&r);
}

static void test_noreply_server(void **state)
{
	enum { N = CHAN_NOREPLY_SYNC + 50 };
	struct vgpu_cqe q[4];
	struct vgpu_wbuf w;
	struct rig r;
	uint64_t ctx;
	uint8_t *resp;

	rig_init(&r, true, 512, 1024, 1 << 20, 0, VGPU_F_NOREPLY, 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	resp = call(&r, 1, VGPU_OP_CTX_CREATE, &w, 8, q);
	assert_int_equal(q[0].res, 0);
	ctx = rd64(resp);

	/* N successful NOREPLY entries, then one that waits: one completion */
	for (int i = 0; i < N; i++) {
		vgpu_wbuf_init(&w);
		vgpu_put_u64(&w, ctx);
		tring_req(&r.t, 100 + i, VGPU_OP_CTX_SYNC, &w, 0)->flags = VGPU_SQE_F_NOREPLY;
		vgpu_wbuf_free(&w);
	}
	tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	pump_reap(&r, q, 1);
	assert_true(q[0].id == 2);
	assert_int_equal(q[0].res, 0);
	assert_int_equal(chan_inflight(r.c), 0);	/* every NOREPLY entry retired */

	/* a failing NOREPLY entry gets its own completion */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx ^ 0x5a5a);
	tring_req(&r.t, 50, VGPU_OP_CTX_SYNC, &w, 0)->flags = VGPU_SQE_F_NOREPLY;
	vgpu_wbuf_free(&w);
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	pump_reap(&r, q, 2);
	assert_true(q[0].id == 50);
	assert_true(q[0].res > 0);		/* the CUresult */
	assert_true(q[1].id == 3);
	assert_int_equal(q[1].res, 0);
	assert_int_equal(chan_inflight(r.c), 0);
	rig_fini(&r);
}

/* The server refuses HELLO (no such GPU): every entry fails with -ENOTCONN. */
static void test_hello_refused(void **state)
{
	struct vgpu_cqe q[3];
	struct rig r;

	rig_init(&r, true, 4, 8, 4096, 0, 0, 7 /* the sim has one GPU */);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	pump_reap(&r, q, 2);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_int_equal(q[1].res, -ENOTCONN);
	assert_int_equal(chan_error(r.c), -ENOTCONN);
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	assert_int_equal(tring_reap(&r.t, q, 3), 1);
	assert_int_equal(q[0].res, -ENOTCONN);
	rig_fini(&r);
}

/*
 * CQ full: completions are held back, not lost; while the CQ is full and
 * completions are owed, entries stay in the SQ.
 */
static void test_cq_full(void **state)
{
	struct vgpu_cqe q[8];
	struct rig r;
	uint64_t id = 1;

	rig_init(&r, true, 4, 4, 4096, 0x7ffffffe, 0, 0);
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	PUMP_UNTIL(&r, tring_cq_ready(&r.t) == 4);		/* CQ full, not reaped */
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	assert_int_equal(*r.t.sq_head, r.t.tail);		/* taken: nothing owed yet */
	PUMP_UNTIL(&r, chan_wants_retry(r.c) && chan_inflight(r.c) == 0);
	assert_int_equal(tring_cq_ready(&r.t), 4);		/* 4 more held back */
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	assert_int_equal(r.t.tail - *r.t.sq_head, 4);		/* left in the SQ */
	for (int i = 0; i < 8; i++)
		pump_once(&r, 1);
	assert_int_equal(r.t.tail - *r.t.sq_head, 4);

	/* the application catches up: everything arrives, in order */
	for (uint64_t want = 1, end = now_ms() + WAIT_MS; want < id;) {
		int n;

		assert_true(now_ms() < end);
		pump_once(&r, 2);
		n = tring_reap(&r.t, q, 8);
		for (int i = 0; i < n; i++, want++) {
			assert_true(q[i].id == want);
			assert_int_equal(q[i].res, 0);
		}
	}
	assert_false(chan_wants_retry(r.c));
	assert_int_equal(*r.t.sq_head, r.t.tail);
	rig_fini(&r);
}

/* A tail further ahead than the SQ is long fails the channel. */
static void test_corrupt_tail(void **state)
{
	struct vgpu_cqe q[2];
	struct rig r;

	rig_init(&r, true, 8, 16, 4096, 0, 0, 0);
	__atomic_store_n(r.t.sq_tail, *r.t.sq_head + 9, __ATOMIC_RELEASE);
	chan_process(r.c);
	assert_int_equal(chan_error(r.c), -EINVAL);
	assert_int_equal(*r.t.sq_head, 0);			/* nothing taken */
	/* the application recovers its tail: later entries fail */
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	assert_int_equal(tring_reap(&r.t, q, 2), 1);
	assert_int_equal(q[0].res, -EINVAL);
	rig_fini(&r);
}

/* ---- against the fake server -------------------------------------------- */

/* Replies out of order, and ids the application reused: matched by frame id. */
static void test_peer_out_of_order(void **state)
{
	static const char *bodies[] = { "a", "bb", "ccc", "dddd" };
	uint32_t resp_off[4];
	uint64_t fid[4];
	uint16_t ops[4];
	struct vgpu_cqe q[4];
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	for (int i = 0; i < 4; i++)
		resp_off[i] = tring_req(&r.t, 7, VGPU_OP_DEVICE_INFO, NULL, 8)->resp_off;
	doorbell(&r);
	peer_take(&r, 4, fid, ops, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ops[i], VGPU_OP_DEVICE_INFO);
	for (int i = 3; i >= 0; i--)
		peer_send(&r, fid[i], VGPU_OP_DEVICE_INFO, 0, bodies[i], (uint32_t)strlen(bodies[i]));
	pump_reap(&r, q, 4);
	for (int i = 0; i < 4; i++) {
		assert_true(q[i].id == 7);
		assert_int_equal(q[i].res, 0);
		assert_int_equal(q[i].resp_len, 4 - i);	/* reverse order */
		assert_memory_equal(r.t.data + resp_off[i], bodies[i], strlen(bodies[i]));
	}

	/* distinct ids, answered 3 1 4 2 */
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, 20 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 4, fid, NULL, NULL);
	peer_send(&r, fid[2], VGPU_OP_DEVICE_COUNT, 0, "\3\0\0\0", 4);
	peer_send(&r, fid[0], VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	peer_send(&r, fid[3], VGPU_OP_DEVICE_COUNT, 5, NULL, 0);
	peer_send(&r, fid[1], VGPU_OP_DEVICE_COUNT, 0, "\2\0\0\0", 4);
	pump_reap(&r, q, 4);
	assert_true(q[0].id == 22 && q[1].id == 20 && q[2].id == 23 && q[3].id == 21);
	assert_int_equal(q[2].res, 5);
	assert_int_equal(q[2].resp_len, 0);
	assert_int_equal(chan_inflight(r.c), 0);
	rig_fini(&r);
}

static void test_peer_emsgsize(void **state)
{
	uint8_t big[100];
	uint64_t fid[2];
	struct vgpu_cqe q[2];
	struct rig r;
	uint32_t off2;

	memset(big, 0xee, sizeof(big));
	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_INFO, NULL, 10);
	off2 = tring_req(&r.t, 2, VGPU_OP_DEVICE_INFO, NULL, 10)->resp_off;
	doorbell(&r);
	peer_take(&r, 2, fid, NULL, NULL);
	peer_send(&r, fid[0], VGPU_OP_DEVICE_INFO, 0, big, sizeof(big));
	peer_send(&r, fid[1], VGPU_OP_DEVICE_INFO, 0, "0123456789", 10);
	pump_reap(&r, q, 2);
	assert_int_equal(q[0].res, -EMSGSIZE);
	assert_int_equal(q[0].resp_len, 0);
	assert_int_equal(q[1].res, 0);
	assert_int_equal(q[1].resp_len, 10);
	assert_memory_equal(r.t.data + off2, "0123456789", 10);
	rig_fini(&r);
}

/* Outstanding entries, then the server goes away. */
static void test_peer_close(void **state)
{
	uint64_t fid[3];
	struct vgpu_cqe q[3];
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	for (int i = 0; i < 3; i++)
		tring_req(&r.t, 1 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 3, fid, NULL, NULL);
	peer_send(&r, fid[1], VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	close(r.peer);
	r.peer = -1;
	pump_reap(&r, q, 3);
	assert_true(q[0].id == 2);
	assert_int_equal(q[0].res, 0);
	assert_int_equal(q[1].res, -ECONNRESET);
	assert_int_equal(q[2].res, -ECONNRESET);
	assert_true(q[1].id + q[2].id == 4);
	assert_int_equal(chan_error(r.c), -ECONNRESET);
	/* and everything after */
	tring_req(&r.t, 4, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_req(&r.t, 5, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	pump_reap(&r, q, 2);
	assert_int_equal(q[0].res, -ECONNRESET);
	assert_int_equal(q[1].res, -ECONNRESET);
	rig_fini(&r);
}

/* The server goes away in the middle of a reply body. */
static void test_peer_close_mid_reply(void **state)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1,
				    .op = VGPU_OP_DEVICE_INFO, .flags = VGPU_FRAME_F_RESP, .len = 64 };
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	uint64_t fid;
	struct vgpu_cqe q;
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_INFO, NULL, 64);
	doorbell(&r);
	peer_take(&r, 1, &fid, NULL, NULL);
	h.id = fid;
	vgpu_hdr_encode(&h, hdr);
	assert_int_equal(write(r.peer, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(r.peer, "partial", 7), 7);
	close(r.peer);
	r.peer = -1;
	pump_reap(&r, &q, 1);
	assert_true(q.id == 1);
	assert_int_equal(q.res, -ECONNRESET);
	rig_fini(&r);
}

/* Malformed replies: each fails every outstanding and later entry with -EPROTO. */
enum bad_reply { BAD_GARBAGE, BAD_ID, BAD_OP, BAD_BODY_WITH_ERROR, BAD_NOT_RESP, BAD_HELLO };

static void bad_reply(enum bad_reply kind)
{
	uint64_t fid[2];
	struct vgpu_cqe q[2];
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 2, fid, NULL, NULL);
	switch (kind) {
	case BAD_GARBAGE: {
		uint8_t junk[VGPU_PROTO_HDR_SIZE];

		memset(junk, 0xa5, sizeof(junk));
		assert_int_equal(write(r.peer, junk, sizeof(junk)), sizeof(junk));
		break;
	}
	case BAD_ID:
		peer_send(&r, fid[1] + 100, VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
		break;
	case BAD_OP:
		peer_send(&r, fid[0], VGPU_OP_DEVICE_INFO, 0, "\1\0\0\0", 4);
		break;
	case BAD_BODY_WITH_ERROR:
		peer_send(&r, fid[0], VGPU_OP_DEVICE_COUNT, 1, "\1\0\0\0", 4);
		break;
	case BAD_NOT_RESP: {
		struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1,
					    .op = VGPU_OP_DEVICE_COUNT, .id = fid[0] };

		assert_int_equal(vgpu_frame_send(r.peer, &h, NULL), 0);
		break;
	}
	case BAD_HELLO:
		peer_send(&r, 0, VGPU_OP_HELLO, 0, NULL, 0);
		break;
	}
	pump_reap(&r, q, 2);
	assert_int_equal(q[0].res, -EPROTO);
	assert_int_equal(q[1].res, -EPROTO);
	assert_int_equal(chan_error(r.c), -EPROTO);
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	assert_int_equal(tring_reap(&r.t, q, 2), 1);
	assert_int_equal(q[0].res, -EPROTO);
	rig_fini(&r);
}

static void test_peer_garbage(void **state) { bad_reply(BAD_GARBAGE); }
static void test_peer_wrong_id(void **state) { bad_reply(BAD_ID); }
static void test_peer_wrong_op(void **state) { bad_reply(BAD_OP); }
static void test_peer_error_with_body(void **state) { bad_reply(BAD_BODY_WITH_ERROR); }
static void test_peer_not_a_response(void **state) { bad_reply(BAD_NOT_RESP); }
static void test_peer_second_hello(void **state) { bad_reply(BAD_HELLO); }

/* A body over VGPU_PROTO_MAX_BODY announced in a header. */
static void test_peer_oversized_frame(void **state)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1,
				    .op = VGPU_OP_DEVICE_COUNT, .flags = VGPU_FRAME_F_RESP,
				    .len = VGPU_PROTO_MAX_BODY + 1 };
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	struct vgpu_cqe q;
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 1, &h.id, NULL, NULL);
	vgpu_hdr_encode(&h, hdr);
	assert_int_equal(write(r.peer, hdr, sizeof(hdr)), sizeof(hdr));
	pump_reap(&r, &q, 1);
	assert_int_equal(q.res, -EPROTO);
	rig_fini(&r);
}

/* NOREPLY frames carry the flag; a reply retires those sent before it. */
static void test_peer_noreply(void **state)
{
	uint64_t fid[3];
	uint32_t flags[3];
	struct vgpu_cqe q[2];
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, VGPU_F_NOREPLY, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_CTX_SYNC, NULL, 0)->flags = VGPU_SQE_F_NOREPLY;
	tring_req(&r.t, 2, VGPU_OP_CTX_SYNC, NULL, 0)->flags = VGPU_SQE_F_NOREPLY;
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 3, fid, NULL, flags);
	assert_int_equal(flags[0], VGPU_FRAME_F_NOREPLY);
	assert_int_equal(flags[1], VGPU_FRAME_F_NOREPLY);
	assert_int_equal(flags[2], 0);
	assert_int_equal(chan_inflight(r.c), 3);
	peer_send(&r, fid[1], VGPU_OP_CTX_SYNC, 201, NULL, 0);	/* the second fails */
	peer_send(&r, fid[2], VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	pump_reap(&r, q, 2);
	assert_true(q[0].id == 2);
	assert_int_equal(q[0].res, 201);
	assert_true(q[1].id == 3);
	assert_int_equal(chan_inflight(r.c), 0);	/* the first one retired silently */
	rig_fini(&r);
}

/* HELLO answered with garbage: the session never came up (-ENOTCONN). */
static void test_peer_bad_hello(void **state)
{
	struct vgpu_frame_hdr h;
	struct vgpu_cqe q;
	struct rig r;
	void *body;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_recv(&r, &h, &body);	/* HELLO */
	free(body);
	peer_send(&r, 0, VGPU_OP_HELLO, 0, "xx", 2);
	pump_reap(&r, &q, 1);
	assert_int_equal(q.res, -ENOTCONN);
	assert_false(chan_ready(r.c));
	rig_fini(&r);
}

/* The application closes: nothing more is written to the ring. */
static void test_close_drops_state(void **state)
{
	uint64_t fid;
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	peer_hello(&r);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	doorbell(&r);
	peer_take(&r, 1, &fid, NULL, NULL);
	chan_close(r.c);
	peer_send(&r, fid, VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	for (int i = 0; i < 5; i++)
		pump_once(&r, 2);
	assert_int_equal(*r.t.cq_tail, 0);
	assert_int_equal(chan_inflight(r.c), 0);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_info_check),
		cmocka_unit_test(test_sqe_check),
		cmocka_unit_test(test_server_roundtrip),
		cmocka_unit_test(test_server_batch),
		cmocka_unit_test(test_index_wrap),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_validation_max_body),
		cmocka_unit_test(test_noreply_server),
		cmocka_unit_test(test_hello_refused),
		cmocka_unit_test(test_cq_full),
		cmocka_unit_test(test_corrupt_tail),
		cmocka_unit_test(test_peer_out_of_order),
		cmocka_unit_test(test_peer_emsgsize),
		cmocka_unit_test(test_peer_close),
		cmocka_unit_test(test_peer_close_mid_reply),
		cmocka_unit_test(test_peer_garbage),
		cmocka_unit_test(test_peer_wrong_id),
		cmocka_unit_test(test_peer_wrong_op),
		cmocka_unit_test(test_peer_error_with_body),
		cmocka_unit_test(test_peer_not_a_response),
		cmocka_unit_test(test_peer_second_hello),
		cmocka_unit_test(test_peer_oversized_frame),
		cmocka_unit_test(test_peer_noreply),
		cmocka_unit_test(test_peer_bad_hello),
		cmocka_unit_test(test_close_drops_state),
	};

	vgpu_log_init("test_userd", getenv("VGPU_TEST_DEBUG") ? VGPU_LOG_DEBUG : VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
