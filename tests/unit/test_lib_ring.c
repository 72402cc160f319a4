// SPDX-License-Identifier: MIT
/*
 * test_lib_ring.c - lib/'s default transport, the channel ring of
 * /dev/vgpuN, against a fake module and daemon in this process.
 *
 * The library's objects are linked in statically and built with
 * -Wl,--wrap for open, ioctl, mmap, munmap and poll, so for paths under
 * /fake/ those reach the fakes below: GET_INFO/SETUP publish a ring with a
 * deliberately unusual layout (indices scattered, CQEs before SQEs, small
 * data area, 4 SQ entries so indices wrap), the "daemon" forwards each
 * entry over a socketpair to vgpu_session_serve (sim) and posts the
 * completion, and knobs inject transport errors, stray completions and a
 * dying channel.
 *
 * Knobs act on the pending entries when the library polls, as if the
 * daemon had run in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "lib/transport.h"
#include "server/server.h"
#include "uapi/vgpu.h"

#define SIM_IMAGE	"//vgpu-sim test_lib_ring\n"
#define FAKE_DATA	(256u << 10)
#define FAKE_MAX	8

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);

struct fake_chan {
	bool used;
	int fd;			/* a real fd (of /dev/null) standing for the channel */
	bool setup;
	uint8_t *mem;
	struct vgpu_ring_info ri;
	int sfd;		/* our end of the socketpair to the session */
	int srv_fd;
	pthread_t th;
	uint64_t frame_id;
	/* knobs, each for the next entry */
	int inject_res;		/* complete with this negative errno, unforwarded */
	bool inject_stale;	/* post a completion with a foreign id first */
	bool die_after;		/* complete it, then the channel dies */
	bool swallow_and_die;	/* never complete it; the channel dies */
	/* state */
	bool dead;
	bool pending;		/* doorbell rung, entries not yet handled */
	unsigned int doorbells, entries;
	unsigned int posted;	/* NOREPLY entries handled */
};

static struct fake_chan chans[FAKE_MAX];
static struct {
	uint32_t api_version;
	uint32_t state;
	bool bad_layout;
} knobs = { VGPU_API_VERSION, VGPU_DEV_LIVE, false };

static struct fake_chan *chan_of(int fd)
{
	for (int i = 0; i < FAKE_MAX; i++)
		if (chans[i].used && chans[i].fd == fd)
			return &chans[i];
	return NULL;
}

#define RING_U32(ch, field)	((uint32_t *)((ch)->mem + (ch)->ri.field))

/* ---- the fake daemon ----------------------------------------------------- */

static void *session_thread(void *arg)
{
	struct fake_chan *ch = arg;
	struct vgpu_server_config cfg = { .backend = VGPU_BACKEND_SIM, .sim_mem_bytes = 64 << 20 };

	vgpu_session_serve(ch->srv_fd, &cfg, (uint32_t)(ch - chans) + 1);
	close(ch->srv_fd);
	return NULL;
}

static int connect_session(struct fake_chan *ch)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 1, .gpu = 0,
				    .client = "fake vgpud" };
	struct vgpu_hello_resp r;
	const char *why;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	ch->sfd = sv[0];
	ch->srv_fd = sv[1];
	if (pthread_create(&ch->th, NULL, session_thread, ch))
		return -EAGAIN;
	return vgpu_client_hello(ch->sfd, &q, &r, &why);
}

static void post_cqe(struct fake_chan *ch, uint64_t id, int32_t res, uint32_t len)
{
	uint32_t tail = *RING_U32(ch, cq_tail_off);
	uint32_t head = __atomic_load_n(RING_U32(ch, cq_head_off), __ATOMIC_ACQUIRE);
	struct vgpu_cqe *cqes = (struct vgpu_cqe *)(ch->mem + ch->ri.cqes_off);

	assert_true(tail - head < ch->ri.cq_entries);	/* the app keeps up */
	cqes[tail & (ch->ri.cq_entries - 1)] = (struct vgpu_cqe){ .id = id, .res = res,
								  .resp_len = len };
	__atomic_store_n(RING_U32(ch, cq_tail_off), tail + 1, __ATOMIC_RELEASE);
}

/* Forward one entry to the session; the CQE's res, response written at resp_off. */
static int32_t forward(struct fake_chan *ch, const struct vgpu_sqe *e, uint32_t *len)
{
	uint8_t *data = ch->mem + ch->ri.data_off;
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = e->op, .id = ++ch->frame_id, .len = e->req_len };
	void *body = NULL;

	if (vgpu_frame_send(ch->sfd, &h, data + e->req_off) ||
	    vgpu_frame_recv(ch->sfd, VGPU_PROTO_MAX_BODY, &h, &body, NULL))
		return -ECONNRESET;
	if (h.len > e->resp_cap) {
		free(body);
		return -EMSGSIZE;
	}
	memcpy(data + e->resp_off, body, h.len);
	free(body);
	*len = h.len;
	return (int32_t)h.status;
}

static void handle_entries(struct fake_chan *ch)
{
	uint32_t head = *RING_U32(ch, sq_head_off);
	uint32_t tail = __atomic_load_n(RING_U32(ch, sq_tail_off), __ATOMIC_ACQUIRE);
	const struct vgpu_sqe *sqes = (struct vgpu_sqe *)(ch->mem + ch->ri.sqes_off);
	uint64_t data = ch->ri.data_size;

	while (head != tail) {
		struct vgpu_sqe e = sqes[head & (ch->ri.sq_entries - 1)];
		uint32_t len = 0;
		int32_t res;

		__atomic_store_n(RING_U32(ch, sq_head_off), ++head, __ATOMIC_RELEASE);
		ch->entries++;
		if (ch->swallow_and_die) {
			ch->swallow_and_die = false;
			ch->dead = true;
			continue;
		}
		if (e.reserved || (e.flags & ~VGPU_SQE_F_NOREPLY) ||
		    (uint64_t)e.req_off + e.req_len > data ||
		    (uint64_t)e.resp_off + e.resp_cap > data)
			res = -EINVAL;
		else if (ch->inject_res)
			res = ch->inject_res;
		else
			res = forward(ch, &e, &len);
		ch->inject_res = 0;
		if (ch->inject_stale) {
			ch->inject_stale = false;
			post_cqe(ch, e.id + 1000, 0, 0);
		}
		/* as vgpud: a posted (NOREPLY) entry completes only when it fails */
		if (e.flags & VGPU_SQE_F_NOREPLY) {
			ch->posted++;
			if (!res)
				continue;
		}
		post_cqe(ch, e.id, res, len);
		if (ch->die_after) {
			ch->die_after = false;
			ch->dead = true;
		}
	}
}

/* ---- the fake module ------------------------------------------------------ */

static int fake_setup(struct fake_chan *ch, struct vgpu_setup *su)
{
	struct vgpu_ring_info *ri = &ch->ri;
	uint32_t sq = su->sq_entries ? su->sq_entries : 4;
	uint64_t map;

	if (su->api_version != VGPU_API_VERSION || su->flags || su->reserved0 ||
	    (sq & (sq - 1)))
		return -EINVAL;
	if (ch->setup)
		return -EBUSY;
	if (knobs.state != VGPU_DEV_LIVE)
		return -ENOTCONN;
	memset(ri, 0, sizeof(*ri));
	ri->sq_entries = sq;
	ri->cq_entries = 2 * sq;
	ri->data_size = su->data_size ? su->data_size : FAKE_DATA;
	/* nothing where one might guess it */
	ri->cq_tail_off = 0x40;
	ri->sq_head_off = 0x84;
	ri->cq_head_off = 0xc8;
	ri->sq_tail_off = 0x10c;
	ri->cqes_off = 0x200;
	ri->sqes_off = (ri->cqes_off + ri->cq_entries * sizeof(struct vgpu_cqe) + 63) & ~63u;
	ri->data_off = (ri->sqes_off + sq * sizeof(struct vgpu_sqe) + 4095) & ~4095u;
	map = ri->data_off + ri->data_size;
	ri->map_size = knobs.bad_layout ? map - 8 : map;
	ch->mem = aligned_alloc(4096, (map + 4095) & ~4095ull);
	if (!ch->mem)
		return -ENOMEM;
	memset(ch->mem, 0, map);
	if (connect_session(ch))
		return -ECONNREFUSED;
	ch->setup = true;
	su->features &= VGPU_F_ALL;
	su->chan_id = (uint32_t)(ch - chans) + 1;
	su->ring = *ri;
	return 0;
}

int __wrap_open(const char *path, int flags, ...)
{
	struct fake_chan *ch = NULL;
	mode_t mode = 0;
	va_list ap;
	int fd;

	va_start(ap, flags);
	if (flags & O_CREAT)
		mode = va_arg(ap, int);
	va_end(ap);
	if (strncmp(path, "/fake/", 6))
		return __real_open(path, flags, mode);
	if (!strcmp(path, "/fake/missing")) {
		errno = ENOENT;
		return -1;
	}
	fd = __real_open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < FAKE_MAX && !ch; i++)
		if (!chans[i].used || chans[i].fd == fd)
			ch = &chans[i];
	if (!ch)
		abort();	/* more fake channels than FAKE_MAX */
	memset(ch, 0, sizeof(*ch));
	ch->used = true;
	ch->fd = fd;
	return fd;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct fake_chan *ch = chan_of(fd);
	va_list ap;
	void *arg;
	int ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!ch)
		return __real_ioctl(fd, req, arg);
	switch (req) {
	case VGPU_IOC_GET_INFO: {
		struct vgpu_dev_info *i = arg;

		memset(i, 0, sizeof(*i));
		i->api_version = knobs.api_version;
		i->features = VGPU_F_ALL;
		i->state = knobs.state;
		snprintf(i->server, sizeof(i->server), "in-process");
		break;
	}
	case VGPU_IOC_SETUP:
		ret = fake_setup(ch, arg);
		break;
	case VGPU_IOC_DOORBELL:
		if (ch->dead)
			ret = -EPIPE;
		else if (!ch->setup)
			ret = -EINVAL;
		ch->doorbells++;
		ch->pending = !ret;
		break;
	default:
		ret = -ENOTTY;
	}
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct fake_chan *ch = chan_of(fd);

	if (!ch)
		return __real_mmap(addr, len, prot, flags, fd, off);
	if (!ch->setup || off != VGPU_MMAP_RING || len != ch->ri.map_size ||
	    !(flags & MAP_SHARED)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return ch->mem;
}

int __wrap_munmap(void *addr, size_t len)
{
	for (int i = 0; i < FAKE_MAX; i++) {
		struct fake_chan *ch = &chans[i];

		if (ch->used && ch->mem == addr) {
			shutdown(ch->sfd, SHUT_RDWR);
			pthread_join(ch->th, NULL);
			close(ch->sfd);
			free(ch->mem);
			ch->mem = NULL;
			ch->used = false;
			return 0;
		}
	}
	return __real_munmap(addr, len);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct fake_chan *ch = n == 1 ? chan_of(fds[0].fd) : NULL;
	uint32_t head, tail;

	if (!ch)
		return __real_poll(fds, n, timeout);
	if (ch->pending) {
		ch->pending = false;
		handle_entries(ch);
	}
	fds[0].revents = 0;
	head = __atomic_load_n(RING_U32(ch, cq_head_off), __ATOMIC_ACQUIRE);
	tail = *RING_U32(ch, cq_tail_off);
	if (head != tail)
		fds[0].revents |= POLLIN;
	if (ch->dead)
		fds[0].revents |= POLLERR | POLLHUP;
	/* a look without waiting (the library waiting for the SQ to drain) */
	if (!timeout)
		return fds[0].revents ? 1 : 0;
	/* nothing will ever come: a bug in the library or the test */
	assert_true(fds[0].revents);
	return 1;
}

/* ---- cases ---------------------------------------------------------------- */

static int setup(void **state)
{
	vgpu_log_init("test_lib_ring", VGPU_LOG_ERR, 0);
	unsetenv("VGPU_SERVER");
	unsetenv("VGPU_DATA_SIZE");
	return 0;
}

static void test_open_refusals(void **state)
{
	struct vgpu_transport *t;
	int err = 0;

	assert_null(vgpu_ring_open("/fake/missing", &err));
	assert_int_equal(err, -ENOENT);
	knobs.state = VGPU_DEV_NO_DAEMON;
	assert_null(vgpu_ring_open("/fake/vgpu0", &err));
	assert_int_equal(err, -ENOTCONN);
	knobs.state = VGPU_DEV_LIVE;
	knobs.api_version = VGPU_API_VERSION + 1;
	assert_null(vgpu_ring_open("/fake/vgpu0", &err));
	assert_int_equal(err, -EPROTO);
	knobs.api_version = VGPU_API_VERSION;
	knobs.bad_layout = true;	/* the data area runs past the mapping */
	t = vgpu_ring_open("/fake/vgpu0", &err);
	knobs.bad_layout = false;
	assert_null(t);
	assert_int_equal(err, -EPROTO);
	for (int i = 0; i < FAKE_MAX; i++) {	/* what the refused opens left */
		if (chans[i].used && chans[i].mem)
			__wrap_munmap(chans[i].mem, chans[i].ri.map_size);
		chans[i].used = false;
	}
}

static int call_count(struct vgpu_transport *t, uint32_t *count)
{
	uint8_t buf[4];
	struct iovec resp = { .iov_base = buf, .iov_len = sizeof(buf) };
	uint32_t status = 99;
	size_t len = 0;
	int ret = vgpu_transport_call(t, VGPU_OP_DEVICE_COUNT, NULL, 0, &resp, 1, &len, &status);

	if (!ret) {
		assert_int_equal(status, 0);
		assert_int_equal(len, 4);
		memcpy(count, buf, 4);
	}
	return ret;
}

static void test_transport_errors(void **state)
{
	struct vgpu_transport *t;
	struct fake_chan *ch;
	uint32_t count = 0, ord = 0;
	uint8_t small[8];
	struct iovec req = { .iov_base = &ord, .iov_len = 4 };
	struct iovec resp = { .iov_base = small, .iov_len = sizeof(small) };
	uint32_t status;
	size_t len;
	int err = 0;

	t = vgpu_ring_open("/fake/vgpu0", &err);
	assert_non_null(t);
	ch = &chans[0];
	assert_true(ch->used && ch->setup);
	assert_true(t->max_payload > 0 && t->max_payload <= FAKE_DATA - 2 * VGPU_TRANSPORT_HDR_ROOM);
	assert_int_equal(call_count(t, &count), 0);
	assert_int_equal(count, 1);

	/* per-entry errors: reported, the channel lives on */
	ch->inject_res = -EINVAL;
	assert_int_equal(call_count(t, &count), -EINVAL);
	ch->inject_res = -EPROTO;
	assert_int_equal(call_count(t, &count), -EPROTO);
	ch->inject_stale = true;
	assert_int_equal(call_count(t, &count), 0);
	/* a reply larger than the caller's buffer */
	assert_int_equal(vgpu_transport_call(t, VGPU_OP_DEVICE_INFO, &req, 1, &resp, 1, &len,
					     &status), -EMSGSIZE);
	/* enough calls that the 4-entry SQ and 8-entry CQ wrap several times */
	for (int i = 0; i < 40; i++)
		assert_int_equal(call_count(t, &count), 0);
	assert_false(t->dead);

	/* the server is lost: this call and every later one fail */
	ch->inject_res = -ECONNRESET;
	assert_int_equal(call_count(t, &count), -ECONNRESET);
	assert_true(t->dead);
	err = ch->doorbells;
	assert_int_equal(call_count(t, &count), -ENOTCONN);
	assert_int_equal(ch->doorbells, err);	/* failed without touching the ring */
	vgpu_transport_close(t);

	/* the daemon dies while we wait: POLLERR, not a hang */
	t = vgpu_ring_open("/fake/vgpu0", &err);
	assert_non_null(t);
	for (int i = 0; i < FAKE_MAX; i++)
		if (chans[i].used && chans[i].setup)
			ch = &chans[i];
	ch->swallow_and_die = true;
	assert_int_equal(call_count(t, &count), -EPIPE);
	assert_true(t->dead);
	vgpu_transport_close(t);
}

/* The whole library through the ring; the last step kills the channel. */
static void test_library_over_ring(void **state)
{
	enum { N = 100000 };	/* 400 KB: more than one data area per copy */
	float *x = malloc(N * 4), *y = malloc(N * 4), *r = malloc(N * 4), a = 2.0f;
	struct fake_chan *ch = NULL;
	CUdeviceptr dx, dy, p;
	CUcontext ctx;
	CUmodule m;
	CUfunction f;
	char name[64];
	int n = N;
	void *params[] = { &a, &dx, &dy, &n };
	unsigned int before, bells;

	setenv("VGPU_DEVICE", "/fake/vgpu0", 1);
	setenv("VGPU_DATA_SIZE", "262144", 1);
	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	for (int i = 0; i < FAKE_MAX; i++)
		if (chans[i].used && chans[i].setup)
			ch = &chans[i];
	assert_non_null(ch);
	assert_int_equal(ch->ri.data_size, 262144);
	assert_int_equal(cuDeviceGetName(name, sizeof(name), 0), CUDA_SUCCESS);
	assert_string_equal(name, "vgpu sim device");
	assert_int_equal(cuCtxCreate(&ctx, NULL, 0, 0), CUDA_SUCCESS);

	for (int i = 0; i < N; i++) {
		x[i] = (float)(i % 50);
		y[i] = (float)(i % 9);
	}
	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&f, m, "saxpy"), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&dx, N * 4), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&dy, N * 4), CUDA_SUCCESS);
	before = ch->entries;
	assert_int_equal(cuMemcpyHtoD(dx, x, N * 4), CUDA_SUCCESS);
	assert_int_equal(ch->entries - before, 2);	/* split into two chunks */
	assert_int_equal(cuMemcpyHtoD(dy, y, N * 4), CUDA_SUCCESS);
	before = ch->posted;
	assert_int_equal(cuLaunchKernel(f, N / 256 + 1, 1, 1, 256, 1, 1, 0, NULL, params, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	assert_int_equal(ch->posted - before, 1);	/* it went as a posted entry */
	before = ch->entries;
	assert_int_equal(cuMemcpyDtoH(r, dy, N * 4), CUDA_SUCCESS);
	assert_int_equal(ch->entries - before, 2);
	for (int i = 0; i < N; i++)
		assert_true(r[i] == a * x[i] + y[i]);

	/* many posted launches in a row (past the area's and the SQ's room, past the
	 * posting bound) run in order: y = a*x + y, 600 times */
	for (int k = 0; k < 600; k++)
		assert_int_equal(cuLaunchKernel(f, N / 256 + 1, 1, 1, 256, 1, 1, 0, NULL, params,
						NULL), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(r, dy, N * 4), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_true(r[i] == a * x[i] * 601 + y[i]);
	/* a posted launch that fails is reported once, by the next call */
	ch->inject_res = -EINVAL;
	assert_int_equal(cuLaunchKernel(f, N / 256 + 1, 1, 1, 256, 1, 1, 0, NULL, params, NULL),
			 CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_UNKNOWN);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);

	/* transport errors become CUresults; the channel survives them */
	ch->inject_res = -EINVAL;
	assert_int_equal(cuMemsetD8(dx, 0, 16), CUDA_ERROR_INVALID_VALUE);
	ch->inject_res = -EMSGSIZE;
	assert_int_equal(cuMemsetD8(dx, 0, 16), CUDA_ERROR_INVALID_VALUE);
	ch->inject_stale = true;
	assert_int_equal(cuMemsetD8(dx, 0, 16), CUDA_SUCCESS);

	/* completed, then the daemon went away: this call still succeeds... */
	ch->die_after = true;
	assert_int_equal(cuMemAlloc(&p, 64), CUDA_SUCCESS);
	/* ...and the next ones fail, without waiting */
	assert_int_equal(cuMemFree(p), CUDA_ERROR_DEVICE_UNAVAILABLE);
	bells = ch->doorbells;
	assert_int_equal(cuMemAlloc(&p, 64), CUDA_ERROR_DEVICE_UNAVAILABLE);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_DEVICE_UNAVAILABLE);
	assert_int_equal(ch->doorbells, bells);
	free(x);
	free(y);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_library_over_ring),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
