// SPDX-License-Identifier: MIT
/* part_client.c - the partition tests' protocol client (part_client.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/part_client.h"

static void *serve(void *arg)
{
	struct peer *p = arg;

	vgpu_session_serve(p->sfd, p->cfg, 1);
	close(p->sfd);
	return NULL;
}

void hello(struct peer *p, uint32_t gpu)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = gpu,
				    .client = "partition test" };
	struct vgpu_hello_resp resp;

	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, NULL), 0);
}

void start_thread(struct peer *p, uint32_t gpu)
{
	assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
	p->threaded = true;
	hello(p, gpu);
}

struct peer *start(const struct vgpu_server_config *cfg, uint32_t gpu)
{
	struct peer *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[0];
	p->sfd = sv[1];
	p->cfg = cfg;
	start_thread(p, gpu);
	return p;
}

struct peer *connect_tcp(const char *hostport, uint32_t gpu)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->fd = vgpu_tcp_connect(hostport, 5000);
	assert_true(p->fd >= 0);
	hello(p, gpu);
	return p;
}

/* Close the client side; the session frees what it holds and ends. */
void finish(struct peer *p)
{
	close(p->fd);
	if (p->threaded)
		pthread_join(p->th, NULL);
	free(p->body);
	free(p);
}

/* One request; its status.  The reply body is left in p->r. */
uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = ++p->next, .len = (uint32_t)w->len };

	free(p->body);
	p->body = NULL;
	assert_int_equal(vgpu_frame_send(p->fd, &h, w->buf), 0);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &p->body, NULL), 0);
	assert_int_equal(h.op, op);
	vgpu_rbuf_init(&p->r, p->body, h.len);
	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return h.status;
}

uint32_t create(struct peer *p, const char *name, uint32_t gpu, uint64_t bytes,
		       uint32_t pct, uint32_t compute, uint32_t prio)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_str(&w, name);
	vgpu_put_u32(&w, gpu);
	vgpu_put_u64(&w, bytes);
	vgpu_put_u32(&w, pct);
	vgpu_put_u32(&w, compute);
	vgpu_put_u32(&w, prio);
	st = call(p, VGPU_OP_PARTITION_CREATE, &w);
	if (!st) {
		assert_true(vgpu_get_u32(&p->r) > 0);
		assert_true(vgpu_rbuf_done(&p->r));
	}
	vgpu_wbuf_free(&w);
	return st;
}

uint32_t resize(struct peer *p, const char *name, uint64_t bytes, uint32_t pct,
		       uint32_t compute)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_str(&w, name);
	vgpu_put_u64(&w, bytes);
	vgpu_put_u32(&w, pct);
	vgpu_put_u32(&w, compute);
	st = call(p, VGPU_OP_PARTITION_RESIZE, &w);
	vgpu_wbuf_free(&w);
	return st;
}

uint32_t by_name(struct peer *p, uint16_t op, const char *name)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_str(&w, name);
	st = call(p, op, &w);
	vgpu_wbuf_free(&w);
	return st;
}

uint32_t attach(struct peer *p, const char *name, uint64_t *limit)
{
	uint32_t st = by_name(p, VGPU_OP_PARTITION_ATTACH, name);

	if (!st) {
		vgpu_get_u32(&p->r);	/* id */
		assert_int_equal(vgpu_get_u32(&p->r), 0);	/* gpu */
		*limit = vgpu_get_u64(&p->r);
		vgpu_get_u32(&p->r);
		vgpu_get_u32(&p->r);
		assert_true(vgpu_rbuf_done(&p->r));
	}
	return st;
}

uint32_t ctx_create(struct peer *p)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	st = call(p, VGPU_OP_CTX_CREATE, &w);
	if (!st)
		p->ctx = vgpu_get_u64(&p->r);
	vgpu_wbuf_free(&w);
	return st;
}

uint32_t mem_alloc(struct peer *p, uint64_t size, uint64_t *dptr)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, size);
	st = call(p, VGPU_OP_MEM_ALLOC, &w);
	if (!st && dptr)
		*dptr = vgpu_get_u64(&p->r);
	vgpu_wbuf_free(&w);
	return st;
}

uint32_t mem_free(struct peer *p, uint64_t dptr)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, dptr);
	st = call(p, VGPU_OP_MEM_FREE, &w);
	vgpu_wbuf_free(&w);
	return st;
}

void mem_info(struct peer *p, uint64_t *free_b, uint64_t *total)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	assert_int_equal(call(p, VGPU_OP_MEM_GET_INFO, &w), 0);
	*free_b = vgpu_get_u64(&p->r);
	*total = vgpu_get_u64(&p->r);
	vgpu_wbuf_free(&w);
}

uint64_t dev_total(struct peer *p)
{
	struct vgpu_wbuf w;
	char name[256];
	size_t n;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(p, VGPU_OP_DEVICE_INFO, &w), 0);
	vgpu_wbuf_free(&w);
	vgpu_get_str(&p->r, name, sizeof(name));
	vgpu_get_bytes(&p->r, &n);
	return vgpu_get_u64(&p->r);
}

uint32_t list(struct peer *p, const char *name, struct listed *l)
{
	struct vgpu_wbuf w;
	uint32_t st;

	memset(l, 0, sizeof(*l));
	vgpu_wbuf_init(&w);
	st = call(p, VGPU_OP_PARTITION_LIST, &w);
	vgpu_wbuf_free(&w);
	if (st)
		return st;
	l->ngpu = vgpu_get_u32(&p->r);
	for (uint32_t i = 0; i < l->ngpu; i++) {
		char gname[256];

		assert_int_equal(vgpu_get_u32(&p->r), i);
		vgpu_get_str(&p->r, gname, sizeof(gname));
		if (i == 0) {
			strcpy(l->gpu_name, gname);
			l->total = vgpu_get_u64(&p->r);
			l->free_b = vgpu_get_u64(&p->r);
			l->mem_pct = vgpu_get_u32(&p->r);
			l->compute_pct = vgpu_get_u32(&p->r);
		} else {
			vgpu_get_u64(&p->r);
			vgpu_get_u64(&p->r);
			vgpu_get_u32(&p->r);
			vgpu_get_u32(&p->r);
		}
	}
	l->npart = vgpu_get_u32(&p->r);
	for (uint32_t i = 0; i < l->npart; i++) {
		char pname[256];
		uint64_t limit, used;
		uint32_t compute, prio, sessions;

		assert_true(vgpu_get_u32(&p->r) > 0);
		vgpu_get_str(&p->r, pname, sizeof(pname));
		vgpu_get_u32(&p->r);
		limit = vgpu_get_u64(&p->r);
		used = vgpu_get_u64(&p->r);
		compute = vgpu_get_u32(&p->r);
		prio = vgpu_get_u32(&p->r);
		sessions = vgpu_get_u32(&p->r);
		if (name && !strcmp(pname, name)) {
			l->found = true;
			l->limit = limit;
			l->used = used;
			l->compute = compute;
			l->prio = prio;
			l->sessions = sessions;
		}
	}
	assert_true(vgpu_rbuf_done(&p->r));
	return 0;
}
