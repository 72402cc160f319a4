// SPDX-License-Identifier: MIT
/*
 * test_userd_rig.c - a channel (userd/chan.c) on a test ring, its bytes
 * moved by a small poll() loop over a socketpair standing in for
 * io_uring; the other end is a sim session in a thread or a fake server
 * that the test scripts frame by frame (see test_userd.h).
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
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/ring.h"

void pump_check_deadline(uint64_t end)
{
	assert_true(now_ms() < end);
}

uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One round of I/O: send what is queued, take in what arrived, process. */
void pump_once(struct rig *r, int wait_ms)
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
void pump_reap(struct rig *r, struct vgpu_cqe *out, int want)
{
	uint64_t end = now_ms() + RIG_WAIT_MS;
	int got = 0;

	while (got < want) {
		pump_check_deadline(end);
		pump_once(r, 5);
		got += tring_reap(&r->t, out + got, want - got);
	}
	pump_once(r, 0);
	assert_int_equal(tring_cq_ready(&r->t), 0);	/* nothing unexpected */
}

/* Send everything queued (for the fake server, which reads synchronously). */
void flush_tx(struct rig *r)
{
	uint64_t end = now_ms() + RIG_WAIT_MS;
	struct iovec iov[16];
	int n;

	while ((n = chan_tx_iov(r->c, iov, 16)) > 0) {
		ssize_t w = writev(r->fd, iov, n);

		chan_tx_done(r->c, w > 0 ? (size_t)w : 0);
		assert_true(w >= 0 || errno == EAGAIN);
		assert_true(now_ms() < end);
	}
}

void rig_init(struct rig *r, bool real, uint32_t sq, uint32_t cq, uint32_t data,
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

void rig_fini(struct rig *r)
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
void rig_doorbell(struct rig *r)
{
	tring_publish(&r->t);
	chan_process(r->c);
}

/* ---- the fake server ---------------------------------------------------- */

void peer_recv(struct rig *r, struct vgpu_frame_hdr *h, void **body)
{
	flush_tx(r);
	assert_int_equal(vgpu_frame_recv(r->peer, VGPU_PROTO_MAX_BODY, h, body, NULL), 0);
}

void peer_send(struct rig *r, uint64_t id, uint16_t op, uint32_t status, const void *b,
	       uint32_t len)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = 1, .op = op,
				    .flags = VGPU_FRAME_F_RESP, .status = status, .id = id,
				    .len = len };

	assert_int_equal(vgpu_frame_send(r->peer, &h, b), 0);
}

void peer_hello_send(struct rig *r)
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
}

void peer_hello(struct rig *r)
{
	peer_hello_send(r);
	PUMP_UNTIL(r, chan_ready(r->c));
}

/* Read @n request frames (after HELLO), their ids in @ids. */
void peer_take(struct rig *r, int n, uint64_t *ids, uint16_t *ops, uint32_t *flags)
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
