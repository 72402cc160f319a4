// SPDX-License-Identifier: MIT
/*
 * test_session_vmm.c - the VMM and pool ops at the wire: through
 * vgpu_session_serve on a socketpair (sim backend) their checks, the
 * session's accounting of chunks and pool allocations, that a body that
 * does not parse closes the session, and that a session ending with
 * everything alive frees it; against a spawned vgpu-server, that a client
 * leaving with chunks and pool memory brings bytes_allocated back to 0.
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
#include "tests/unit/spawn_server.h"

#define MIB	(1ull << 20)
#define G	(2 * MIB)

struct peer {
	int fd, sfd;
	pthread_t th;
	bool threaded;
	uint64_t next;
	struct vgpu_server_config cfg;
	uint64_t ctx;
};

static void *serve(void *arg)
{
	struct peer *p = arg;

	vgpu_session_serve(p->sfd, &p->cfg, 1);
	close(p->sfd);
	return NULL;
}

/* One request; the status, and a u64 reply (when there is one) in *out. */
static uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w, uint64_t *out)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = ++p->next, .len = (uint32_t)w->len };
	struct vgpu_rbuf r;
	void *b = NULL;

	assert_int_equal(vgpu_frame_send(p->fd, &h, w->buf), 0);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), 0);
	assert_int_equal(h.op, op);
	vgpu_rbuf_init(&r, b, h.len);
	if (!h.status && out && h.len == 8)
		*out = vgpu_get_u64(&r);
	free(b);
	vgpu_wbuf_free(w);
	vgpu_wbuf_init(w);
	return h.status;
}

static void hello_ctx(struct peer *p)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = VGPU_GPU_ALL,
				    .client = "test_session_vmm" };
	struct vgpu_hello_resp resp;
	struct vgpu_wbuf w;

	assert_int_equal(vgpu_client_hello(p->fd, &q, &resp, NULL), 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(p, VGPU_OP_CTX_CREATE, &w, &p->ctx), 0);
	vgpu_wbuf_free(&w);
}

static struct peer *start(void)
{
	struct peer *p = calloc(1, sizeof(*p));
	int sv[2];

	vgpu_log_init("test_session_vmm", VGPU_LOG_ERR, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[0];
	p->sfd = sv[1];
	p->cfg.backend = VGPU_BACKEND_SIM;
	p->cfg.sim_mem_bytes = 64 * MIB;
	assert_int_equal(pthread_create(&p->th, NULL, serve, p), 0);
	p->threaded = true;
	hello_ctx(p);
	return p;
}

/* Close the client side; the session frees what it holds and ends. */
static void finish(struct peer *p)
{
	close(p->fd);
	if (p->threaded)
		pthread_join(p->th, NULL);
	free(p);
}

static void stats(struct peer *p, uint64_t *bytes, uint64_t *allocs, uint32_t *sessions)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = VGPU_OP_SERVER_STATS, .id = ++p->next };
	struct vgpu_rbuf r;
	void *b = NULL;
	uint32_t n;

	assert_int_equal(vgpu_frame_send(p->fd, &h, NULL), 0);
	assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL), 0);
	assert_int_equal(h.status, 0);
	vgpu_rbuf_init(&r, b, h.len);
	n = vgpu_get_u32(&r);
	*bytes = vgpu_get_u64(&r);
	*allocs = vgpu_get_u64(&r);
	assert_true(vgpu_rbuf_done(&r));
	if (sessions)
		*sessions = n;
	free(b);
}

static uint64_t create(struct peer *p, uint64_t size, uint32_t *st)
{
	struct vgpu_wbuf w;
	uint64_t h = 0;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, size);
	*st = call(p, VGPU_OP_VMM_CREATE, &w, &h);
	vgpu_wbuf_free(&w);
	return h;
}

static uint32_t op4(struct peer *p, uint16_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		    int n, uint64_t *out)
{
	struct vgpu_wbuf w;
	uint64_t v[4] = { a, b, c, d };
	uint32_t st;

	vgpu_wbuf_init(&w);
	for (int i = 0; i < n; i++)
		vgpu_put_u64(&w, v[i]);
	st = call(p, op, &w, out);
	vgpu_wbuf_free(&w);
	return st;
}

static uint32_t set_access(struct peer *p, uint64_t addr, uint64_t size, uint32_t dev,
			   uint32_t flags)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, addr);
	vgpu_put_u64(&w, size);
	vgpu_put_u32(&w, dev);
	vgpu_put_u32(&w, flags);
	st = call(p, VGPU_OP_VMM_SET_ACCESS, &w, NULL);
	vgpu_wbuf_free(&w);
	return st;
}

static uint32_t pool_alloc(struct peer *p, uint64_t pool, uint64_t size, uint64_t *d)
{
	struct vgpu_wbuf w;
	uint32_t st;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, 0);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, size);
	st = call(p, VGPU_OP_POOL_ALLOC, &w, d);
	vgpu_wbuf_free(&w);
	return st;
}

static void test_accounting_and_checks(void **state)
{
	struct peer *p = start();
	uint64_t a, b, base = 0, bytes, allocs, d = 0, pool = 0, v = 0;
	uint8_t buf[64] = { 1, 2, 3 };
	struct vgpu_wbuf w;
	uint32_t st;

	a = create(p, 2 * G, &st);
	assert_int_equal(st, 0);
	b = create(p, G, &st);
	assert_int_equal(st, 0);
	create(p, G + 1, &st);
	assert_int_equal(st, CUDA_ERROR_INVALID_VALUE);
	create(p, 0, &st);
	assert_int_equal(st, CUDA_ERROR_INVALID_VALUE);
	create(p, 1ull << 40, &st);
	assert_int_equal(st, CUDA_ERROR_OUT_OF_MEMORY);	/* more than the sim has */
	stats(p, &bytes, &allocs, NULL);
	assert_true(bytes == 3 * G && allocs == 2);

	assert_int_equal(op4(p, VGPU_OP_VMM_RESERVE, 4 * G, 0, 0, 0, 3, &base), 0);
	assert_int_not_equal(base, 0);
	/* the handle of another type, or a made-up one, is no chunk */
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base, G, 0, p->ctx, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base, G, 0, 42, 4, NULL), CUDA_ERROR_INVALID_VALUE);
	/* offsets that wrap, ranges that wrap */
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base, G, UINT64_MAX - G + 1, a, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, UINT64_MAX - G + 1, 2 * G, 0, a, 4, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(op4(p, VGPU_OP_VMM_UNMAP, base, UINT64_MAX, 0, 0, 2, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base, 2 * G, 0, a, 4, NULL), 0);
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base + 2 * G, G, 0, b, 4, NULL), 0);
	assert_int_equal(set_access(p, base, 3 * G, 0, 5), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(set_access(p, base, 3 * G, 1, 3), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(set_access(p, base, 3 * G, 0, 3), 0);

	/* a copy across the two chunks */
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, base + 2 * G - 32);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, buf, sizeof(buf));
	assert_int_equal(call(p, VGPU_OP_MEMCPY_HTOD, &w, NULL), 0);
	/* access revoked: the range is no longer addressable */
	assert_int_equal(set_access(p, base, 3 * G, 0, 0), 0);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, base);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, buf, sizeof(buf));
	assert_int_equal(call(p, VGPU_OP_MEMCPY_HTOD, &w, NULL), CUDA_ERROR_INVALID_VALUE);
	vgpu_wbuf_free(&w);

	/* released while mapped: still counted until unmapped */
	assert_int_equal(op4(p, VGPU_OP_VMM_RELEASE, a, 0, 0, 0, 1, NULL), 0);
	stats(p, &bytes, &allocs, NULL);
	assert_true(bytes == 3 * G && allocs == 2);
	assert_int_equal(op4(p, VGPU_OP_VMM_UNMAP, base, 2 * G, 0, 0, 2, NULL), 0);
	stats(p, &bytes, &allocs, NULL);
	assert_true(bytes == G && allocs == 1);

	/* pool allocations count like cuMemAlloc's */
	assert_int_equal(pool_alloc(p, 0, MIB, &d), 0);
	stats(p, &bytes, &allocs, NULL);
	assert_true(bytes == G + MIB && allocs == 2);
	assert_int_equal(pool_alloc(p, b, MIB, &d), CUDA_ERROR_INVALID_HANDLE);	/* a chunk */
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(p, VGPU_OP_POOL_DEVICE, &w, &pool), 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 2);
	assert_int_equal(call(p, VGPU_OP_POOL_DEVICE, &w, NULL), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_POOL_SET_ATTR, &w, NULL), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, CU_MEMPOOL_ATTR_USED_MEM_HIGH + 1);
	assert_int_equal(call(p, VGPU_OP_POOL_GET_ATTR, &w, NULL), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC);
	vgpu_put_u64(&w, 2);
	assert_int_equal(call(p, VGPU_OP_POOL_SET_ATTR, &w, NULL), CUDA_ERROR_INVALID_VALUE);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, CU_MEMPOOL_ATTR_USED_MEM_CURRENT);
	assert_int_equal(call(p, VGPU_OP_POOL_GET_ATTR, &w, &v), 0);
	assert_int_equal(v, MIB);
	vgpu_wbuf_free(&w);
	assert_int_equal(op4(p, VGPU_OP_MEM_FREE_ASYNC, p->ctx, d, 0, 0, 3, NULL), 0);
	assert_int_equal(op4(p, VGPU_OP_MEM_FREE_ASYNC, p->ctx, d, 0, 0, 3, NULL),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(op4(p, VGPU_OP_POOL_DESTROY, pool, 0, 0, 0, 1, NULL),
			 CUDA_ERROR_INVALID_VALUE);	/* the default pool */
	stats(p, &bytes, &allocs, NULL);
	assert_true(bytes == G && allocs == 1);

	/* the session ends holding a chunk, a mapping, reservations and pool memory */
	assert_int_equal(op4(p, VGPU_OP_VMM_MAP, base, G, 0, b, 4, NULL), 0);
	assert_int_equal(set_access(p, base, G, 0, 3), 0);
	assert_int_equal(pool_alloc(p, 0, MIB, &d), 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(p, VGPU_OP_POOL_CREATE, &w, &pool), 0);
	vgpu_wbuf_free(&w);
	assert_int_equal(pool_alloc(p, pool, MIB, &d), 0);
	assert_int_equal(op4(p, VGPU_OP_VMM_RESERVE, 2 * G, 0, 0, 0, 3, &base), 0);
	finish(p);	/* run under valgrind: nothing leaks */
}

/* A body that does not parse ends the session, whatever the op. */
static void test_malformed(void **state)
{
	for (uint16_t op = VGPU_OP_VMM_GRANULARITY; op <= VGPU_OP_OCCUPANCY_CLUSTERS; op++) {
		struct peer *p = start();
		struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC,
					    .version = VGPU_PROTO_VERSION, .op = op, .id = 99,
					    .len = 3 };
		void *b = NULL;

		assert_int_equal(vgpu_frame_send(p->fd, &h, "abc"), 0);
		assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b, NULL),
				 -ECONNRESET);
		finish(p);
	}
}

/* A client leaving with chunks and pool memory: the server's totals go back to 0. */
static void test_server_process(void **state)
{
	struct spawned_server srv;
	struct peer *a, *c;
	uint64_t bytes = 0, allocs = 0, base, d;
	uint32_t st, sessions = 0;

	if (spawn_server(&srv, VGPU_BUILD_DIR "/bin/vgpu-server")) {
		print_message("no vgpu-server: skipped\n");
		skip();
	}
	a = calloc(1, sizeof(*a));
	a->fd = vgpu_tcp_connect(srv.hostport, 5000);
	assert_true(a->fd >= 0);
	hello_ctx(a);
	create(a, 2 * G, &st);
	assert_int_equal(st, 0);
	assert_int_equal(op4(a, VGPU_OP_VMM_RESERVE, 2 * G, 0, 0, 0, 3, &base), 0);
	assert_int_equal(pool_alloc(a, 0, MIB, &d), 0);
	c = calloc(1, sizeof(*c));
	c->fd = vgpu_tcp_connect(srv.hostport, 5000);
	assert_true(c->fd >= 0);
	hello_ctx(c);
	stats(c, &bytes, &allocs, &sessions);
	assert_true(sessions == 2 && bytes == 2 * G + MIB && allocs == 2);
	finish(a);
	for (int i = 0; i < 200; i++) {
		stats(c, &bytes, &allocs, &sessions);
		if (sessions == 1)
			break;
		usleep(10000);
	}
	assert_true(sessions == 1 && bytes == 0 && allocs == 0);
	finish(c);
	stop_spawned_server(&srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounting_and_checks),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_server_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
