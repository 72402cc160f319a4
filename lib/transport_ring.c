// SPDX-License-Identifier: MIT
/*
 * transport_ring.c - the default transport: a channel ring on /dev/vgpuN
 * (uapi/vgpu.h), served by vgpud.
 *
 * One call at a time owns the whole data area: the request body goes to
 * data[0, req_len), the response comes back after it (64-byte aligned).
 * Posted requests (VGPU_SQE_F_NOREPLY, when the module grants VGPU_F_NOREPLY)
 * are laid one after another from data[0]; vgpud copies an entry's payload
 * out before it advances sq_head, so a call, or a post that would not fit,
 * first waits until sq_head has passed every posted entry.  A posted entry
 * gets a completion only when it fails: reap() keeps the first such
 * status in t->async_err for the next call to report (transport.h).
 * Every field of the ring is located through the offsets VGPU_IOC_SETUP
 * returned, never through an assumed layout, and each is checked to lie
 * inside the mapping before it is used.
 *
 * We own sq_tail and cq_head (kept in local copies, published with
 * store-release); vgpud owns sq_head and cq_tail (read with load-acquire
 * before the entries they cover).  A dead channel (daemon gone) shows as
 * POLLERR/POLLHUP from poll() or -EPIPE from the doorbell: the call and the
 * transport then fail instead of waiting.
 */
#include "lib/transport.h"
#include "lib/debug.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "uapi/vgpu.h"

#define RING_MAX_PAYLOAD	(16u << 20)
#define RING_MIN_DATA		(64u << 10)
#define RESP_ALIGN		64

struct ring_transport {
	struct vgpu_transport t;
	int fd;
	void *map;
	size_t map_size;
	uint32_t *sq_head, *sq_tail, *cq_head, *cq_tail;
	struct vgpu_sqe *sqes;
	struct vgpu_cqe *cqes;
	uint8_t *data;
	uint32_t sq_entries, cq_entries, data_size;
	uint32_t sq_tail_local;	/* our producer index, mirrored to *sq_tail */
	uint32_t cq_head_local;	/* our consumer index, mirrored to *cq_head */
	uint32_t post_off;	/* where the next posted payload goes; 0: none in the area */
};

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Does [off, off + len) lie inside the mapping, aligned to align? */
static bool in_map(const struct vgpu_ring_info *ri, uint64_t off, uint64_t len, uint64_t align)
{
	return !(off & (align - 1)) && off <= ri->map_size && len <= ri->map_size - off;
}

static int check_ring_info(const struct vgpu_ring_info *ri)
{
	if (!is_pow2(ri->sq_entries) || !is_pow2(ri->cq_entries) ||
	    ri->sq_entries > VGPU_SQ_ENTRIES_MAX || ri->cq_entries > 2 * VGPU_SQ_ENTRIES_MAX)
		return -EPROTO;
	if (ri->data_size < RING_MIN_DATA || ri->map_size > SIZE_MAX)
		return -EPROTO;
	if (!in_map(ri, ri->sq_head_off, 4, 4) || !in_map(ri, ri->sq_tail_off, 4, 4) ||
	    !in_map(ri, ri->cq_head_off, 4, 4) || !in_map(ri, ri->cq_tail_off, 4, 4))
		return -EPROTO;
	if (!in_map(ri, ri->sqes_off, (uint64_t)ri->sq_entries * sizeof(struct vgpu_sqe), 8) ||
	    !in_map(ri, ri->cqes_off, (uint64_t)ri->cq_entries * sizeof(struct vgpu_cqe), 8) ||
	    !in_map(ri, ri->data_off, ri->data_size, 8))
		return -EPROTO;
	return 0;
}

/*
 * Take completions off the CQ until ours (id) shows up (0: none wanted, take
 * what is there); a posted entry's (a failure) leaves its status in
 * t->async_err; entries for other ids (left over from an interrupted call)
 * are consumed and dropped.
 */
static bool reap(struct ring_transport *rt, uint64_t id, struct vgpu_cqe *out)
{
	struct vgpu_transport *t = &rt->t;
	uint32_t tail = __atomic_load_n(rt->cq_tail, __ATOMIC_ACQUIRE);

	while (rt->cq_head_local != tail) {
		struct vgpu_cqe c = rt->cqes[rt->cq_head_local & (rt->cq_entries - 1)];

		rt->cq_head_local++;
		__atomic_store_n(rt->cq_head, rt->cq_head_local, __ATOMIC_RELEASE);
		if (id && c.id == id) {
			*out = c;
			return true;
		}
		if (t->posted && c.id >= t->posted_from && c.id < t->next_id && c.res) {
			vgpu_dbg("ring: posted request %llu failed: %d", (unsigned long long)c.id,
				 c.res);
			if (!t->async_err)
				t->async_err = c.res > 0 ? (uint32_t)c.res
							 : VGPU_TRANSPORT_ASYNC_LOST;
			continue;
		}
		vgpu_dbg("ring: dropping completion %llu (waiting for %llu)",
			 (unsigned long long)c.id, (unsigned long long)id);
	}
	return false;
}

/* Is the channel dead (the daemon gone)?  Without waiting. */
static bool chan_dead(struct ring_transport *rt)
{
	struct pollfd pfd = { .fd = rt->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/*
 * Wait until vgpud has taken every entry we submitted (payloads copied out:
 * the data area is free again) or, with room > 0, until the SQ has room.
 * vgpud takes entries as soon as it is rung, so this is short; it sleeps in
 * 20 us steps and gives up when the channel dies.
 */
static int wait_sq(struct ring_transport *rt, bool room)
{
	const struct timespec step = { .tv_nsec = 20000 };

	for (;;) {
		uint32_t used = rt->sq_tail_local - __atomic_load_n(rt->sq_head, __ATOMIC_ACQUIRE);

		if (room ? used < rt->sq_entries : !used)
			return 0;
		if (chan_dead(rt))
			return -EPIPE;
		reap(rt, 0, NULL);	/* failures of posted entries, meanwhile */
		nanosleep(&step, NULL);
	}
}

static int wait_cqe(struct ring_transport *rt, uint64_t id, struct vgpu_cqe *out)
{
	for (;;) {
		struct pollfd pfd = { .fd = rt->fd, .events = POLLIN };

		if (reap(rt, id, out))
			return 0;
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
			/* the completion may have been posted before the end */
			if (reap(rt, id, out))
				return 0;
			return -EPIPE;
		}
	}
}

static int doorbell(struct ring_transport *rt)
{
	while (ioctl(rt->fd, VGPU_IOC_DOORBELL) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int ring_call(struct vgpu_transport *t, uint16_t op,
		     const struct iovec *req, int nreq,
		     const struct iovec *resp, int nresp,
		     size_t *resp_len, uint32_t *status)
{
	struct ring_transport *rt = (struct ring_transport *)t;
	size_t req_len = vgpu_iov_len(req, nreq);
	size_t resp_off = (req_len + RESP_ALIGN - 1) & ~(size_t)(RESP_ALIGN - 1);
	uint64_t id = t->next_id++;
	struct vgpu_sqe *sqe;
	struct vgpu_cqe cqe;
	int ret;

	if (resp_off >= rt->data_size)
		return -EMSGSIZE;
	if (rt->post_off) {
		/* the call takes the whole area: posted payloads must have been taken */
		ret = wait_sq(rt, false);
		if (ret)
			return ret;
		rt->post_off = 0;
	}
	if (rt->sq_tail_local - __atomic_load_n(rt->sq_head, __ATOMIC_ACQUIRE) >= rt->sq_entries)
		return -EBUSY;	/* cannot happen with one call in flight */

	vgpu_iov_gather(rt->data, req, nreq);
	sqe = &rt->sqes[rt->sq_tail_local & (rt->sq_entries - 1)];
	sqe->id = id;
	sqe->op = op;
	sqe->flags = 0;
	sqe->req_off = 0;
	sqe->req_len = (uint32_t)req_len;
	sqe->resp_off = (uint32_t)resp_off;
	sqe->resp_cap = rt->data_size - (uint32_t)resp_off;
	sqe->reserved = 0;
	rt->sq_tail_local++;
	/* entry and payload visible before the tail that covers them */
	__atomic_store_n(rt->sq_tail, rt->sq_tail_local, __ATOMIC_RELEASE);

	ret = doorbell(rt);
	if (!ret)
		ret = wait_cqe(rt, id, &cqe);
	if (ret)
		return ret;
	if (cqe.res < 0)
		return cqe.res;
	if (cqe.resp_len > rt->data_size - resp_off)
		return -EPROTO;
	if (cqe.resp_len > vgpu_iov_len(resp, nresp))
		return -EMSGSIZE;
	vgpu_iov_scatter(resp, nresp, rt->data + resp_off, cqe.resp_len);
	*resp_len = cqe.resp_len;
	*status = (uint32_t)cqe.res;
	return 0;
}

static int ring_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq)
{
	struct ring_transport *rt = (struct ring_transport *)t;
	size_t len = vgpu_iov_len(req, nreq);
	size_t next = (len + RESP_ALIGN - 1) & ~(size_t)(RESP_ALIGN - 1);
	struct vgpu_sqe *sqe;
	int ret;

	if (next > rt->data_size)
		return -EMSGSIZE;
	if (rt->post_off + next > rt->data_size) {
		ret = wait_sq(rt, false);	/* all taken: start again at data[0] */
		if (ret)
			return ret;
		rt->post_off = 0;
	}
	ret = wait_sq(rt, true);
	if (ret)
		return ret;
	vgpu_iov_gather(rt->data + rt->post_off, req, nreq);
	sqe = &rt->sqes[rt->sq_tail_local & (rt->sq_entries - 1)];
	sqe->id = t->next_id++;
	sqe->op = op;
	sqe->flags = VGPU_SQE_F_NOREPLY;
	sqe->req_off = rt->post_off;
	sqe->req_len = (uint32_t)len;
	sqe->resp_off = 0;
	sqe->resp_cap = 0;
	sqe->reserved = 0;
	rt->post_off += (uint32_t)next;
	rt->sq_tail_local++;
	__atomic_store_n(rt->sq_tail, rt->sq_tail_local, __ATOMIC_RELEASE);
	reap(rt, 0, NULL);
	return doorbell(rt);
}

static void ring_close(struct vgpu_transport *t)
{
	struct ring_transport *rt = (struct ring_transport *)t;

	munmap(rt->map, rt->map_size);
	close(rt->fd);
	free(rt);
}

static const struct vgpu_transport_ops ring_ops = {
	.name = "ring",
	.call = ring_call,
	.close = ring_close,
};

/* When the module granted VGPU_F_NOREPLY. */
static const struct vgpu_transport_ops ring_ops_post = {
	.name = "ring",
	.call = ring_call,
	.post = ring_post,
	.close = ring_close,
};

static uint32_t data_size_wanted(void)
{
	const char *v = getenv("VGPU_DATA_SIZE");
	unsigned long n;

	if (!v || !*v)
		return 0;	/* the module's default */
	n = strtoul(v, NULL, 0);
	return n > VGPU_DATA_SIZE_MAX ? VGPU_DATA_SIZE_MAX : (uint32_t)n;
}

/* Set the channel up and map it: 1 when posting (VGPU_F_NOREPLY) was granted, 0, or -errno. */
static int ring_setup(struct ring_transport *rt, const char *path)
{
	struct vgpu_dev_info info;
	struct vgpu_setup su;
	struct vgpu_ring_info *ri = &su.ring;
	uint8_t *m;
	int ret;

	memset(&info, 0, sizeof(info));
	if (ioctl(rt->fd, VGPU_IOC_GET_INFO, &info) < 0)
		return -errno;
	if (info.api_version != VGPU_API_VERSION) {
		vgpu_dbg("ring: %s speaks API %u, we speak %u", path, info.api_version,
			 VGPU_API_VERSION);
		return -EPROTO;
	}
	if (info.state != VGPU_DEV_LIVE)
		return -ENOTCONN;

	memset(&su, 0, sizeof(su));
	su.api_version = VGPU_API_VERSION;
	su.features = VGPU_F_WAIT_IOCTL | VGPU_F_NOREPLY;
	su.data_size = data_size_wanted();
	if (ioctl(rt->fd, VGPU_IOC_SETUP, &su) < 0)
		return -errno;
	ret = check_ring_info(ri);
	if (ret) {
		vgpu_dbg("ring: %s published an unusable ring layout", path);
		return ret;
	}
	m = mmap(NULL, ri->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, rt->fd, VGPU_MMAP_RING);
	if (m == MAP_FAILED)
		return -errno;
	rt->map = m;
	rt->map_size = ri->map_size;
	rt->sq_head = (uint32_t *)(m + ri->sq_head_off);
	rt->sq_tail = (uint32_t *)(m + ri->sq_tail_off);
	rt->cq_head = (uint32_t *)(m + ri->cq_head_off);
	rt->cq_tail = (uint32_t *)(m + ri->cq_tail_off);
	rt->sqes = (struct vgpu_sqe *)(m + ri->sqes_off);
	rt->cqes = (struct vgpu_cqe *)(m + ri->cqes_off);
	rt->data = m + ri->data_off;
	rt->sq_entries = ri->sq_entries;
	rt->cq_entries = ri->cq_entries;
	rt->data_size = ri->data_size;
	rt->sq_tail_local = __atomic_load_n(rt->sq_tail, __ATOMIC_RELAXED);
	rt->cq_head_local = __atomic_load_n(rt->cq_head, __ATOMIC_RELAXED);
	vgpu_dbg("ring: %s channel %u, %u entries, %u KiB data, server %.64s%s", path,
		 su.chan_id, ri->sq_entries, ri->data_size >> 10, info.server,
		 su.features & VGPU_F_NOREPLY ? ", posting" : "");
	return su.features & VGPU_F_NOREPLY ? 1 : 0;
}

struct vgpu_transport *vgpu_ring_open(const char *path, int *err)
{
	struct ring_transport *rt = calloc(1, sizeof(*rt));
	size_t max;
	int ret;

	if (!rt) {
		*err = -ENOMEM;
		return NULL;
	}
	rt->fd = open(path, O_RDWR | O_CLOEXEC);
	if (rt->fd < 0) {
		ret = -errno;
		vgpu_dbg("ring: cannot open %s: %s", path, strerror(-ret));
		goto out_free;
	}
	ret = ring_setup(rt, path);
	if (ret < 0) {
		vgpu_dbg("ring: setting up %s failed: %s", path, strerror(-ret));
		goto out_close;
	}
	max = (rt->data_size - 2 * VGPU_TRANSPORT_HDR_ROOM) & ~(size_t)4095;
	vgpu_transport_init(&rt->t, ret ? &ring_ops_post : &ring_ops,
			    max < RING_MAX_PAYLOAD ? max : RING_MAX_PAYLOAD);
	return &rt->t;

out_close:
	close(rt->fd);
out_free:
	free(rt);
	*err = ret;
	return NULL;
}
