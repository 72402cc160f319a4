// SPDX-License-Identifier: MIT
/*
 * test_session_ops.c - the ops added for the CUDA runtime's needs (function
 * attributes, occupancy, stream waits and queries) through
 * vgpu_session_serve on a socketpair, with the sim backend: their answers,
 * their refusals, and that a body that does not parse closes the session.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/server.h"

#define SIM_IMG "//vgpu-sim ops\n"

struct peer {
	int fd, sfd;
	pthread_t th;
	uint64_t next;
	struct vgpu_server_config cfg;
	uint64_t ctx, mod, func, stream, event;
};

static void *serve(void *arg)
{
	struct peer *p = arg;

	vgpu_session_serve(p->sfd, &p->cfg, 1);
	close(p->sfd);
	return NULL;
}

/* One request; the status, and the reply body in r (freed with *mem). */
static uint32_t rpc(struct peer *p, uint16_t op, struct vgpu_wbuf *w, struct vgpu_rbuf *r,
		    void **mem)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = ++p->next, .len = (uint32_t)w->len };
	void *b = NULL;

	assert_int_equal(vgpu_frame_send(p->fd, &h, w->buf), 0);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), 0);
	assert_int_equal(h.op, op);
	if (h.status)
		assert_int_equal(h.len, 0);
	vgpu_rbuf_init(r, b, h.len);
	*mem = b;
	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return h.status;
}

static uint64_t rpc_u64(struct peer *p, uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;
	void *mem;
	uint64_t v;

	assert_int_equal(rpc(p, op, w, &r, &mem), 0);
	v = vgpu_get_u64(&r);
	assert_true(vgpu_rbuf_done(&r));
	free(mem);
	return v;
}

/* A session with a context, the sim module, its saxpy function, a stream and an event. */
static struct peer *start(void)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = VGPU_GPU_ALL,
				    .client = "test_session_ops" };
	struct vgpu_hello_resp resp;
	struct peer *p = calloc(1, sizeof(*p));
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *mem;
	int sv[2];

	vgpu_log_init("test_session_ops", VGPU_LOG_ERR, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[0];
	p->sfd = sv[1];
	p->cfg.backend = VGPU_BACKEND_SIM;
	p->cfg.sim_mem_bytes = 1 << 20;
	assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, NULL), 0);

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	p->ctx = rpc_u64(p, VGPU_OP_CTX_CREATE, &w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_bytes(&w, SIM_IMG, strlen(SIM_IMG));
	p->mod = rpc_u64(p, VGPU_OP_MODULE_LOAD, &w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, p->mod);
	vgpu_put_str(&w, "saxpy");
	assert_int_equal(rpc(p, VGPU_OP_MODULE_GET_FUNCTION, &w, &r, &mem), 0);
	p->func = vgpu_get_u64(&r);
	free(mem);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u32(&w, 0);
	vgpu_put_i32(&w, 0);
	p->stream = rpc_u64(p, VGPU_OP_STREAM_CREATE, &w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u32(&w, 0);
	p->event = rpc_u64(p, VGPU_OP_EVENT_CREATE, &w);
	vgpu_wbuf_free(&w);
	return p;
}

static void finish(struct peer *p)
{
	close(p->fd);
	pthread_join(p->th, NULL);
	free(p);
}

/* A request {ctx, handle, ...}: w initialised, the two handles put. */
static void req_start(struct vgpu_wbuf *w, struct peer *p, uint64_t h)
{
	vgpu_wbuf_init(w);
	vgpu_put_u64(w, p->ctx);
	vgpu_put_u64(w, h);
}

/* Send w (and free it); the status.  A reply of one i32 goes to *v if v. */
static uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w, int32_t *v)
{
	struct vgpu_rbuf r;
	void *mem;
	uint32_t st = rpc(p, op, w, &r, &mem);

	if (!st && v) {
		*v = vgpu_get_i32(&r);
		assert_true(vgpu_rbuf_done(&r));
	}
	free(mem);
	vgpu_wbuf_free(w);
	return st;
}

/* FUNC_GET_ATTRIBUTE: the value, or -1 and the status when it fails. */
static int32_t get_attr(struct peer *p, uint64_t func, int32_t attrib, uint32_t *st)
{
	struct vgpu_wbuf w;
	int32_t v = -1;

	req_start(&w, p, func);
	vgpu_put_i32(&w, attrib);
	*st = call(p, VGPU_OP_FUNC_GET_ATTRIBUTE, &w, &v);
	return v;
}

static uint32_t set_attr(struct peer *p, int32_t attrib, int32_t value)
{
	struct vgpu_wbuf w;

	req_start(&w, p, p->func);
	vgpu_put_i32(&w, attrib);
	vgpu_put_i32(&w, value);
	return call(p, VGPU_OP_FUNC_SET_ATTRIBUTE, &w, NULL);
}

static uint32_t occupancy_blocks(struct peer *p, int32_t block_size, int32_t *blocks)
{
	struct vgpu_wbuf w;

	req_start(&w, p, p->func);
	vgpu_put_i32(&w, block_size);
	vgpu_put_u64(&w, 0);
	vgpu_put_u32(&w, 0);
	return call(p, VGPU_OP_OCCUPANCY_BLOCKS, &w, blocks);
}

static uint32_t wait_event(struct peer *p, uint64_t stream, uint64_t event)
{
	struct vgpu_wbuf w;

	req_start(&w, p, stream);
	vgpu_put_u64(&w, event);
	vgpu_put_u32(&w, 0);
	return call(p, VGPU_OP_STREAM_WAIT_EVENT, &w, NULL);
}

static void test_func_attributes(void **state)
{
	struct peer *p = start();
	uint32_t st;

	assert_int_equal(get_attr(p, p->func, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &st), 1024);
	assert_int_equal(st, 0);
	assert_int_equal(get_attr(p, p->func, CU_FUNC_ATTRIBUTE_PTX_VERSION, &st), 90);
	assert_int_equal(get_attr(p, p->func, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, &st), 0);
	get_attr(p, p->func, CU_FUNC_ATTRIBUTE_MAX, &st);
	assert_int_equal(st, CUDA_ERROR_INVALID_VALUE);
	get_attr(p, p->func, -1, &st);
	assert_int_equal(st, CUDA_ERROR_INVALID_VALUE);
	get_attr(p, p->mod, CU_FUNC_ATTRIBUTE_NUM_REGS, &st);	/* a module is no function */
	assert_int_equal(st, CUDA_ERROR_INVALID_HANDLE);

	assert_int_equal(set_attr(p, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 32768), 0);
	/* more than a block can have */
	assert_int_equal(set_attr(p, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 1 << 20),
			 CUDA_ERROR_INVALID_VALUE);
	/* read-only */
	assert_int_equal(set_attr(p, CU_FUNC_ATTRIBUTE_NUM_REGS, 16), CUDA_ERROR_INVALID_VALUE);
	finish(p);
}

static void test_occupancy(void **state)
{
	struct peer *p = start();
	struct vgpu_wbuf w;
	int32_t blocks = -1;

	assert_int_equal(occupancy_blocks(p, 512, &blocks), 0);
	assert_int_equal(blocks, 4);
	assert_int_equal(occupancy_blocks(p, 0, &blocks), CUDA_ERROR_INVALID_VALUE);

	req_start(&w, p, p->func);
	vgpu_put_i32(&w, 8);
	vgpu_put_i32(&w, 128);
	assert_true(rpc_u64(p, VGPU_OP_OCCUPANCY_DYN_SMEM, &w) == 228 * 1024 / 8);
	vgpu_wbuf_free(&w);
	req_start(&w, p, p->stream);	/* a stream is no function */
	vgpu_put_i32(&w, 8);
	vgpu_put_i32(&w, 128);
	assert_int_equal(call(p, VGPU_OP_OCCUPANCY_DYN_SMEM, &w, NULL), CUDA_ERROR_INVALID_HANDLE);
	finish(p);
}

static void test_stream_wait_and_query(void **state)
{
	struct peer *p = start();
	struct vgpu_wbuf w;

	req_start(&w, p, p->event);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_EVENT_RECORD, &w, NULL), 0);
	assert_int_equal(wait_event(p, p->stream, p->event), 0);
	assert_int_equal(wait_event(p, 0, p->event), 0);	/* the default stream waits too */
	assert_int_equal(wait_event(p, p->stream, p->stream), CUDA_ERROR_INVALID_HANDLE);
	req_start(&w, p, p->stream);
	assert_int_equal(call(p, VGPU_OP_STREAM_QUERY, &w, NULL), 0);
	req_start(&w, p, p->event);
	assert_int_equal(call(p, VGPU_OP_EVENT_QUERY, &w, NULL), 0);
	req_start(&w, p, p->event + 1);
	assert_int_equal(call(p, VGPU_OP_EVENT_QUERY, &w, NULL), CUDA_ERROR_INVALID_HANDLE);
	finish(p);
}

/* A new op's body that does not parse exactly ends the session, like the old ones. */
static void test_truncated_body_closes(void **state)
{
	struct peer *p = start();
	struct vgpu_wbuf w;
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = VGPU_OP_OCCUPANCY_BLOCKS, .id = 7 };
	void *b = NULL;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, p->func);
	vgpu_put_i32(&w, 256);		/* dyn_smem and flags missing */
	h.len = (uint32_t)w.len;
	assert_int_equal(vgpu_frame_send(p->fd, &h, w.buf), 0);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), -ECONNRESET);
	vgpu_wbuf_free(&w);
	finish(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_func_attributes),
		cmocka_unit_test(test_occupancy),
		cmocka_unit_test(test_stream_wait_and_query),
		cmocka_unit_test(test_truncated_body_closes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
