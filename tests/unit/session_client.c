// SPDX-License-Identifier: MIT
/* session_client.c - the session tests' protocol client (session_client.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/session_client.h"

static void *serve(void *arg)
{
	struct peer *p = arg;

	p->ret = vgpu_session_serve(p->sfd, &p->cfg, p->id);
	close(p->sfd);
	return NULL;
}

struct peer *start(uint32_t id)
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
int finish(struct peer *p)
{
	int ret;

	close(p->fd);
	pthread_join(p->th, NULL);
	ret = p->ret;
	free(p);
	return ret;
}

/* After the session closed its end: our next read sees EOF. */
void assert_closed(struct peer *p)
{
	struct vgpu_frame_hdr h;
	void *b = NULL;

	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), -ECONNRESET);
	pthread_join(p->th, NULL);
	p->th = 0;
}

void send_req(struct peer *p, uint16_t op, uint32_t flags, const struct vgpu_wbuf *w)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .flags = flags, .id = ++p->next,
				    .len = w ? (uint32_t)w->len : 0 };

	assert_int_equal(vgpu_frame_send(p->fd, &h, w ? w->buf : NULL), 0);
}

/* One request/response; returns status, body in *r (backed by *mem, freed by caller). */
uint32_t rpc(struct peer *p, uint16_t op, const struct vgpu_wbuf *w, struct vgpu_rbuf *r,
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
uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_rbuf r;
	uint32_t st = rpc(p, op, w, &r, NULL);

	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return st;
}

/* rpc whose reply is a single u64. */
uint64_t call_u64(struct peer *p, uint16_t op, struct vgpu_wbuf *w, uint32_t want)
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

void hello(struct peer *p)
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

uint64_t ctx_create(struct peer *p)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	return call_u64(p, VGPU_OP_CTX_CREATE, &w, 0);
}

uint64_t mem_alloc(struct peer *p, uint64_t ctx, uint64_t size)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, size);
	return call_u64(p, VGPU_OP_MEM_ALLOC, &w, 0);
}

uint32_t htod(struct peer *p, uint64_t ctx, uint64_t dst, const void *d, size_t n)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	vgpu_put_u64(&w, dst);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, d, n);
	return call(p, VGPU_OP_MEMCPY_HTOD, &w);
}

uint32_t dtoh(struct peer *p, uint64_t ctx, uint64_t src, void *d, size_t n)
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

void stats(struct peer *p, uint32_t *s, uint64_t *b, uint64_t *a)
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
