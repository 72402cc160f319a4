// SPDX-License-Identifier: MIT
/*
 * test_userd_peer.c - vgpud's channel logic (userd/chan.c) against a fake
 * server scripted frame by frame: out-of-order replies, reused ids,
 * oversized bodies, wrong ids or ops, garbage, a server that goes away,
 * NOREPLY on the wire, a bad HELLO, the application closing, and a
 * partition's PARTITION_ATTACH (sent after HELLO, before any request;
 * refused or malformed: the channel fails like a refused HELLO).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/partition.h"
#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/ring.h"

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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
	peer_take(&r, 1, &fid, NULL, NULL);
	chan_close(r.c);
	peer_send(&r, fid, VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	for (int i = 0; i < 5; i++)
		pump_once(&r, 2);
	assert_int_equal(*r.t.cq_tail, 0);
	assert_int_equal(chan_inflight(r.c), 0);
	rig_fini(&r);
}

/* ---- partitions: PARTITION_ATTACH right after HELLO --------------------- */

/* Nothing more arrives at the fake server within @ms (after pumping). */
static void peer_quiet(struct rig *r, int ms)
{
	struct pollfd p = { .fd = r->peer, .events = POLLIN };

	for (int i = 0; i < 4; i++)
		pump_once(r, 2);
	flush_tx(r);
	assert_int_equal(poll(&p, 1, ms), 0);
}

/*
 * HELLO answered; the ATTACH frame taken and checked (op, id, name); an
 * entry the application queued before is not sent while ATTACH is open.
 */
static uint64_t attach_start(struct rig *r, const char *name)
{
	struct vgpu_frame_hdr h;
	struct vgpu_rbuf rb;
	char got[VGPU_PARTITION_NAME_MAX + 1];
	void *body;

	assert_int_equal(chan_attach(r->c, name), 0);
	tring_req(&r->t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(r);
	peer_hello_send(r);
	peer_recv(r, &h, &body);
	assert_int_equal(h.op, VGPU_OP_PARTITION_ATTACH);
	assert_false(h.flags);
	assert_true(h.id != 0);
	vgpu_rbuf_init(&rb, body, h.len);
	assert_int_equal(vgpu_partition_name_get(&rb, got), 0);
	assert_string_equal(got, name);
	free(body);
	peer_quiet(r, 50);
	assert_false(chan_ready(r->c));
	assert_int_equal(chan_inflight(r->c), 0);
	return h.id;
}

static void test_peer_attach(void **state)
{
	struct vgpu_partition_attach_resp a = { .id = 4, .gpu = 0, .mem_limit = 64 << 20,
						.compute_share = 25, .priority = 3 };
	struct vgpu_cqe q;
	struct vgpu_wbuf w;
	uint64_t fid, afid;
	uint16_t op;
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	afid = attach_start(&r, "train-1");
	vgpu_wbuf_init(&w);
	vgpu_partition_attach_resp_put(&w, &a);
	peer_send(&r, afid, VGPU_OP_PARTITION_ATTACH, 0, w.buf, (uint32_t)w.len);
	vgpu_wbuf_free(&w);
	PUMP_UNTIL(&r, chan_ready(r.c));
	/* now the entry goes out, behind the attach */
	peer_take(&r, 1, &fid, &op, NULL);
	assert_int_equal(op, VGPU_OP_DEVICE_COUNT);
	assert_true(fid > afid);
	peer_send(&r, fid, VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
	pump_reap(&r, &q, 1);
	assert_true(q.id == 1);
	assert_int_equal(q.res, 0);
	assert_int_equal(chan_error(r.c), 0);
	rig_fini(&r);
}

enum attach_fail { AF_NOT_FOUND, AF_SHORT_BODY, AF_BAD_VALUES, AF_WRONG_OP, AF_CLOSED };

/* A failed attach: the entry waiting in the SQ and every later one get -ENOTCONN. */
static void attach_fails(enum attach_fail kind)
{
	struct vgpu_partition_attach_resp bad = { .id = 1, .mem_limit = 1 << 20,
						  .compute_share = 0, .priority = 9 };
	struct vgpu_cqe q[2];
	struct vgpu_wbuf w;
	uint64_t afid;
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	afid = attach_start(&r, "p");
	switch (kind) {
	case AF_NOT_FOUND:
		peer_send(&r, afid, VGPU_OP_PARTITION_ATTACH, 500, NULL, 0);
		break;
	case AF_SHORT_BODY:
		peer_send(&r, afid, VGPU_OP_PARTITION_ATTACH, 0, "\1\0\0\0", 4);
		break;
	case AF_BAD_VALUES:
		vgpu_wbuf_init(&w);
		vgpu_partition_attach_resp_put(&w, &bad);
		peer_send(&r, afid, VGPU_OP_PARTITION_ATTACH, 0, w.buf, (uint32_t)w.len);
		vgpu_wbuf_free(&w);
		break;
	case AF_WRONG_OP:
		peer_send(&r, afid, VGPU_OP_DEVICE_COUNT, 0, "\1\0\0\0", 4);
		break;
	case AF_CLOSED:
		close(r.peer);
		r.peer = -1;
		break;
	}
	pump_reap(&r, q, 1);
	assert_true(q[0].id == 1);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_int_equal(chan_error(r.c), -ENOTCONN);
	assert_false(chan_ready(r.c));
	tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
	assert_int_equal(tring_reap(&r.t, q, 2), 2);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_int_equal(q[1].res, -ENOTCONN);
	rig_fini(&r);
}

static void test_peer_attach_not_found(void **state) { attach_fails(AF_NOT_FOUND); }
static void test_peer_attach_short_body(void **state) { attach_fails(AF_SHORT_BODY); }
static void test_peer_attach_bad_values(void **state) { attach_fails(AF_BAD_VALUES); }
static void test_peer_attach_wrong_op(void **state) { attach_fails(AF_WRONG_OP); }
static void test_peer_attach_closed(void **state) { attach_fails(AF_CLOSED); }

/* HELLO refused with ATTACH queued: the channel fails at once, nothing waits for ATTACH. */
static void test_peer_attach_hello_refused(void **state)
{
	struct vgpu_frame_hdr h;
	struct vgpu_cqe q;
	struct rig r;
	void *body;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	assert_int_equal(chan_attach(r.c, "p"), 0);
	tring_req(&r.t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
	peer_recv(&r, &h, &body);	/* HELLO */
	free(body);
	peer_send(&r, 0, VGPU_OP_HELLO, 101, NULL, 0);
	pump_reap(&r, &q, 1);
	assert_int_equal(q.res, -ENOTCONN);
	rig_fini(&r);
}

static void test_peer_attach_bad_name(void **state)
{
	struct rig r;

	rig_init(&r, false, 8, 16, 4096, 0, 0, 0);
	assert_int_equal(chan_attach(r.c, ""), -EINVAL);
	assert_int_equal(chan_attach(r.c, "two words"), -EINVAL);
	assert_int_equal(chan_attach(r.c, "0123456789abcdefghijABCDEFGHIJ_x"), -EINVAL);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_peer_attach),
		cmocka_unit_test(test_peer_attach_not_found),
		cmocka_unit_test(test_peer_attach_short_body),
		cmocka_unit_test(test_peer_attach_bad_values),
		cmocka_unit_test(test_peer_attach_wrong_op),
		cmocka_unit_test(test_peer_attach_closed),
		cmocka_unit_test(test_peer_attach_hello_refused),
		cmocka_unit_test(test_peer_attach_bad_name),
	};

	vgpu_log_init("test_userd_peer", getenv("VGPU_TEST_DEBUG") ? VGPU_LOG_DEBUG : VGPU_LOG_ERR, 0);
	alarm(120);	/* a hang fails the run instead of blocking make unit */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
