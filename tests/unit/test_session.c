// SPDX-License-Identifier: MIT
/*
 * test_session.c - vgpu_session_serve in a thread over a socketpair, at the
 * edges of a session: the handshake and its refusals, a wrong first frame,
 * garbage and truncated frames (the session closes and frees what it held),
 * EOF mid-frame.  The ops themselves: test_session_flow.c; vgpu-server as
 * a process: test_session_server.c.  The client: session_client.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/server.h"
#include "tests/unit/session_client.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_hello_refusals),
		cmocka_unit_test(test_wrong_first_frame),
		cmocka_unit_test(test_garbage_closes_and_frees),
		cmocka_unit_test(test_eof_mid_frame),
	};

	signal(SIGPIPE, SIG_IGN);
	/* the refusals below are expected: keep their warnings, drop the info chatter */
	vgpu_log_init("test_session", VGPU_LOG_ERR, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
