// SPDX-License-Identifier: MIT
/* test_userd_util.c - helpers of vgpud's unit tests (see test_userd.h). */
#include "tests/unit/test_userd.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTRL_PAGE 4096u

void tring_init(struct tring *t, uint32_t sq_entries, uint32_t cq_entries, uint32_t data_size,
		uint32_t start)
{
	struct vgpu_ring_info *ri = &t->ri;
	uint32_t off;

	memset(t, 0, sizeof(*t));
	ri->sq_entries = sq_entries;
	ri->cq_entries = cq_entries;
	ri->data_size = data_size;
	ri->sq_head_off = 0;
	ri->sq_tail_off = 64;
	ri->cq_head_off = 128;
	ri->cq_tail_off = 192;
	ri->sqes_off = CTRL_PAGE;
	ri->cqes_off = off = CTRL_PAGE + sq_entries * (uint32_t)sizeof(struct vgpu_sqe);
	off += cq_entries * (uint32_t)sizeof(struct vgpu_cqe);
	ri->data_off = (off + CTRL_PAGE - 1) & ~(CTRL_PAGE - 1);
	ri->map_size = (uint64_t)ri->data_off + data_size;
	t->len = ri->map_size;
	t->map = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		      MAP_NORESERVE, -1, 0);
	assert(t->map != MAP_FAILED);
	t->sq_head = (uint32_t *)(t->map + ri->sq_head_off);
	t->sq_tail = (uint32_t *)(t->map + ri->sq_tail_off);
	t->cq_head = (uint32_t *)(t->map + ri->cq_head_off);
	t->cq_tail = (uint32_t *)(t->map + ri->cq_tail_off);
	t->sqes = (struct vgpu_sqe *)(t->map + ri->sqes_off);
	t->cqes = (struct vgpu_cqe *)(t->map + ri->cqes_off);
	t->data = t->map + ri->data_off;
	*t->sq_head = *t->sq_tail = *t->cq_head = *t->cq_tail = start;
	t->tail = start;
}

void tring_fini(struct tring *t)
{
	munmap(t->map, t->len);
	t->map = NULL;
}

uint32_t tring_alloc(struct tring *t, uint32_t n)
{
	uint32_t off;

	n = (n + 7) & ~7u;
	assert(n <= t->ri.data_size);
	if (t->data_next + n > t->ri.data_size)
		t->data_next = 0;
	off = t->data_next;
	t->data_next += n;
	return off;
}

uint32_t tring_put(struct tring *t, const void *p, uint32_t len)
{
	uint32_t off = tring_alloc(t, len);

	if (len)
		memcpy(t->data + off, p, len);
	return off;
}

void tring_sqe(struct tring *t, const struct vgpu_sqe *e)
{
	memcpy(&t->sqes[t->tail & (t->ri.sq_entries - 1)], e, sizeof(*e));
	t->tail++;
}

struct vgpu_sqe *tring_req(struct tring *t, uint64_t id, uint16_t op, const struct vgpu_wbuf *w,
			   uint32_t cap)
{
	struct vgpu_sqe e = { .id = id, .op = op };

	e.req_len = w ? (uint32_t)w->len : 0;
	e.req_off = tring_put(t, w ? w->buf : NULL, e.req_len);
	e.resp_cap = cap;
	e.resp_off = tring_alloc(t, cap);
	tring_sqe(t, &e);
	return &t->sqes[(t->tail - 1) & (t->ri.sq_entries - 1)];
}

void tring_publish(struct tring *t)
{
	__atomic_store_n(t->sq_tail, t->tail, __ATOMIC_RELEASE);
}

uint32_t tring_cq_ready(const struct tring *t)
{
	return __atomic_load_n(t->cq_tail, __ATOMIC_ACQUIRE) - *t->cq_head;
}

int tring_reap(struct tring *t, struct vgpu_cqe *out, int max)
{
	uint32_t tail = __atomic_load_n(t->cq_tail, __ATOMIC_ACQUIRE);
	uint32_t head = *t->cq_head;
	int n = 0;

	while (head != tail && n < max) {
		out[n++] = t->cqes[head & (t->ri.cq_entries - 1)];
		head++;
	}
	__atomic_store_n(t->cq_head, head, __ATOMIC_RELEASE);
	return n;
}

/* ---- servers ------------------------------------------------------------ */

static void *serve(void *arg)
{
	struct tserver *s = arg;

	s->ret = vgpu_session_serve(s->sfd, &s->cfg, 1);
	close(s->sfd);
	return NULL;
}

struct vgpu_partitions *tserver_parts;

int tserver_start(struct tserver *s)
{
	int sv[2];

	memset(s, 0, sizeof(*s));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	s->sfd = sv[1];
	s->cfg.backend = VGPU_BACKEND_SIM;
	s->cfg.sim_mem_bytes = 64 << 20;
	s->cfg.parts = tserver_parts;
	if (pthread_create(&s->th, NULL, serve, s))
		abort();
	return sv[0];
}

int tserver_join(struct tserver *s)
{
	pthread_join(s->th, NULL);
	return s->ret;
}

/* Scripted session: answer HELLO, swallow n frames, close. */
static void *drop_session(void *arg)
{
	struct tserver *s = arg;
	struct vgpu_hello_resp hr = { .version = 1, .backend = VGPU_BACKEND_SIM, .session = 9,
				      .server = "dropper" };
	struct vgpu_frame_hdr h;
	struct vgpu_wbuf w;
	void *body;

	if (vgpu_frame_recv(s->sfd, VGPU_PROTO_MAX_BODY, &h, &body, NULL) == 0) {
		struct vgpu_hello_req q;
		struct vgpu_rbuf r;

		vgpu_rbuf_init(&r, body, h.len);
		if (vgpu_hello_req_get(&r, &q) == 0)
			memcpy(s->client, q.client, sizeof(s->client));
		free(body);
		vgpu_wbuf_init(&w);
		vgpu_hello_resp_put(&w, &hr);
		h.flags = VGPU_FRAME_F_RESP;
		h.len = (uint32_t)w.len;
		vgpu_frame_send(s->sfd, &h, w.buf);
		vgpu_wbuf_free(&w);
		for (int i = 0; i < s->ret; i++) {
			if (vgpu_frame_recv(s->sfd, VGPU_PROTO_MAX_BODY, &h, &body, NULL))
				break;
			free(body);
		}
	}
	s->ret = 0;
	close(s->sfd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct tlisten *l = arg;

	while (l->nsessions < TLISTEN_MAX) {
		int fd = accept4(l->lfd, NULL, NULL, SOCK_CLOEXEC);
		struct tserver *s;

		if (fd < 0)
			break;	/* listener shut down */
		s = &l->s[l->nsessions];
		memset(s, 0, sizeof(*s));
		s->sfd = fd;
		s->cfg.backend = VGPU_BACKEND_SIM;
		s->cfg.sim_mem_bytes = 64 << 20;
	s->cfg.parts = tserver_parts;
		s->ret = l->drop_after;
		if (pthread_create(&s->th, NULL, l->drop_after ? drop_session : serve, s))
			abort();
		__atomic_add_fetch(&l->nsessions, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

void tlisten_start(struct tlisten *l, int drop_after)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	memset(l, 0, sizeof(*l));
	l->drop_after = drop_after;
	l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->lfd < 0 || bind(l->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l->lfd, 16) || getsockname(l->lfd, (struct sockaddr *)&a, &al))
		abort();
	l->port = ntohs(a.sin_port);
	if (pthread_create(&l->th, NULL, accept_loop, l))
		abort();
}

void tlisten_stop(struct tlisten *l)
{
	shutdown(l->lfd, SHUT_RDWR);
	pthread_join(l->th, NULL);
	close(l->lfd);
	for (int i = 0; i < l->nsessions; i++)
		pthread_join(l->s[i].th, NULL);
}

void wb_u32(struct vgpu_wbuf *w, uint32_t a)
{
	vgpu_wbuf_init(w);
	vgpu_put_u32(w, a);
}

void wb_u64x2(struct vgpu_wbuf *w, uint64_t a, uint64_t b)
{
	vgpu_wbuf_init(w);
	vgpu_put_u64(w, a);
	vgpu_put_u64(w, b);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
