// SPDX-License-Identifier: MIT
/*
 * test_userd.c - vgpud's channel logic (userd/ring.c, userd/chan.c) without
 * the kernel, against the real session (vgpu_session_serve, sim backend,
 * in a thread): the test plays the application on a ring in anonymous
 * memory and moves the channel's bytes with the poll() rig of
 * test_userd_rig.c.  Ring layout and entry checks are here too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "server/partition.h"
#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/ring.h"

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

/* One request, one completion; returns the response area. */
static uint8_t *call(struct rig *r, uint64_t id, uint16_t op, struct vgpu_wbuf *w, uint32_t cap,
		     struct vgpu_cqe *cqe)
{
	struct vgpu_sqe *e = tring_req(&r->t, id, op, w, cap);
	uint32_t resp_off = e->resp_off;

	if (w)
		vgpu_wbuf_free(w);
	rig_doorbell(r);
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
	assert_int_equal(get_le32(resp), 1);
	assert_true(chan_ready(r.c));
	assert_true(chan_take_commit(r.c));

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	resp = call(&r, 2, VGPU_OP_CTX_CREATE, &w, 8, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 8);
	ctx = get_le64(resp);

	wb_u64x2(&w, ctx, sizeof(pattern));
	resp = call(&r, 3, VGPU_OP_MEM_ALLOC, &w, 8, &q);
	assert_int_equal(q.res, 0);
	dptr = get_le64(resp);

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
	assert_int_equal(get_le32(resp), sizeof(pattern));
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
	assert_int_equal(get_le32(resp), 1);
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
	rig_doorbell(&r);
	assert_int_equal(*r.t.sq_head, N);	/* all taken in one go */
	pump_reap(&r, q, N);
	for (int i = 0; i < N; i++) {
		int k = (int)(q[i].id - 1000);

		assert_true(k >= 0 && k < N && !seen[k]);
		seen[k] = true;
		assert_int_equal(q[i].res, 0);
		assert_int_equal(q[i].resp_len, 4);
		assert_int_equal(get_le32(r.t.data + resp_off[k]), 1);
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
		rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	ctx = get_le64(resp);

	/* N successful NOREPLY entries, then one that waits: one completion */
	for (int i = 0; i < N; i++) {
		vgpu_wbuf_init(&w);
		vgpu_put_u64(&w, ctx);
		tring_req(&r.t, 100 + i, VGPU_OP_CTX_SYNC, &w, 0)->flags = VGPU_SQE_F_NOREPLY;
		vgpu_wbuf_free(&w);
	}
	tring_req(&r.t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
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
	rig_doorbell(&r);
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
	rig_doorbell(&r);
	pump_reap(&r, q, 2);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_int_equal(q[1].res, -ENOTCONN);
	assert_int_equal(chan_error(r.c), -ENOTCONN);
	tring_req(&r.t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
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
	rig_doorbell(&r);
	PUMP_UNTIL(&r, tring_cq_ready(&r.t) == 4);		/* CQ full, not reaped */
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
	assert_int_equal(*r.t.sq_head, r.t.tail);		/* taken: nothing owed yet */
	PUMP_UNTIL(&r, chan_wants_retry(r.c) && chan_inflight(r.c) == 0);
	assert_int_equal(tring_cq_ready(&r.t), 4);		/* 4 more held back */
	for (int i = 0; i < 4; i++)
		tring_req(&r.t, id++, VGPU_OP_DEVICE_COUNT, NULL, 4);
	rig_doorbell(&r);
	assert_int_equal(r.t.tail - *r.t.sq_head, 4);		/* left in the SQ */
	for (int i = 0; i < 8; i++)
		pump_once(&r, 1);
	assert_int_equal(r.t.tail - *r.t.sq_head, 4);

	/* the application catches up: everything arrives, in order */
	for (uint64_t want = 1, end = now_ms() + RIG_WAIT_MS; want < id;) {
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
	rig_doorbell(&r);
	assert_int_equal(tring_reap(&r.t, q, 2), 1);
	assert_int_equal(q[0].res, -EINVAL);
	rig_fini(&r);
}

/*
 * A device with a partition: vgpud's channel attaches after HELLO, and the
 * application's session then sees and is held to the partition's limit.
 */
static void test_server_partition(void **state)
{
	static const char *names[] = { "vgpu sim device" };
	static const uint64_t totals[] = { 64 << 20 };
	struct vgpu_partitions parts;
	struct vgpu_cqe q;
	struct vgpu_wbuf w;
	struct rig r;
	uint32_t id;
	uint8_t *resp;
	uint64_t ctx;

	assert_int_equal(vgpu_part_table_create(&parts, 8), 0);
	assert_int_equal(vgpu_part_set_gpus(&parts, 1, names, totals), 0);
	assert_int_equal(vgpu_part_create(&parts, "p16", 0, 16 << 20, 0, 50, 1, &id), 0);
	tserver_parts = &parts;

	rig_init(&r, true, 16, 32, 1 << 16, 0, 0, 0);
	assert_int_equal(chan_attach(r.c, "p16"), 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	resp = call(&r, 1, VGPU_OP_CTX_CREATE, &w, 8, &q);
	assert_int_equal(q.res, 0);
	assert_true(chan_ready(r.c));
	ctx = get_le64(resp);
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	resp = call(&r, 2, VGPU_OP_MEM_GET_INFO, &w, 16, &q);
	assert_int_equal(q.res, 0);
	assert_true(get_le64(resp + 8) == 16 << 20);	/* total: the partition's limit */
	assert_true(get_le64(resp) <= 16 << 20);
	wb_u64x2(&w, ctx, 12 << 20);
	call(&r, 3, VGPU_OP_MEM_ALLOC, &w, 8, &q);
	assert_int_equal(q.res, 0);
	wb_u64x2(&w, ctx, 8 << 20);
	call(&r, 4, VGPU_OP_MEM_ALLOC, &w, 8, &q);
	assert_int_equal(q.res, 2);	/* CUDA_ERROR_OUT_OF_MEMORY */
	rig_fini(&r);

	/* an unknown partition: the channel fails as if HELLO had been refused */
	rig_init(&r, true, 16, 32, 1 << 16, 0, 0, 0);
	assert_int_equal(chan_attach(r.c, "nosuch"), 0);
	call(&r, 1, VGPU_OP_DEVICE_COUNT, NULL, 16, &q);
	assert_int_equal(q.res, -ENOTCONN);
	assert_false(chan_ready(r.c));
	rig_fini(&r);

	tserver_parts = NULL;
	vgpu_part_table_destroy(&parts);
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
		cmocka_unit_test(test_server_partition),
	};

	vgpu_log_init("test_userd", getenv("VGPU_TEST_DEBUG") ? VGPU_LOG_DEBUG : VGPU_LOG_ERR, 0);
	alarm(120);	/* a hang fails the run instead of blocking make unit */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
