// SPDX-License-Identifier: MIT
/*
 * transport_tcp.c - the direct transport: one TCP connection to vgpu-server
 * (VGPU_SERVER=host:port), i.e. one server session for the process.
 *
 * Frames go out with sendmsg(MSG_NOSIGNAL) so a vanished server gives
 * -EPIPE instead of killing the application with SIGPIPE; response bodies
 * are read straight into the caller's buffers.  Any I/O failure or reply
 * that does not match its request leaves the byte stream in an unknown
 * state, so the transport is then dead.
 *
 * With VGPU_PARTITION=NAME the session is bound to that partition
 * (PARTITION_ATTACH) right after HELLO, before any other request, so every
 * allocation of the process counts against it; a refusal fails the open
 * with the server's CUresult, which cuInit returns.
 */
#include "lib/transport.h"
#include "lib/debug.h"

#include <cuda.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/partition.h"
#include "common/proto.h"

#define TCP_MAX_PAYLOAD		(16u << 20)
#define TCP_CONNECT_MS		10000
#define TCP_MAX_IOV		8

struct tcp_transport {
	struct vgpu_transport t;
	int fd;
};

static int send_iov(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = cnt };
		ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		cnt = vgpu_iov_advance(&iov, cnt, n);
	}
	return 0;
}

static int drain(int fd, size_t len)
{
	char scratch[4096];

	while (len > 0) {
		size_t k = len < sizeof(scratch) ? len : sizeof(scratch);
		int ret = vgpu_read_all(fd, scratch, k);

		if (ret)
			return ret;
		len -= k;
	}
	return 0;
}

/* Read a body of len bytes into resp[]; what does not fit is read and dropped. */
static int recv_body(int fd, const struct iovec *resp, int nresp, size_t len)
{
	size_t cap = vgpu_iov_len(resp, nresp), left = len < cap ? len : cap;
	int ret;

	for (int i = 0; i < nresp && left; i++) {
		size_t k = resp[i].iov_len < left ? resp[i].iov_len : left;

		ret = vgpu_read_all(fd, resp[i].iov_base, k);
		if (ret)
			return ret;
		left -= k;
	}
	if (len > cap) {
		ret = drain(fd, len - cap);
		return ret ? ret : -EMSGSIZE;
	}
	return 0;
}

/* Send one request frame; flags: VGPU_FRAME_F_NOREPLY or 0.  Its id in *id. */
static int send_request(struct tcp_transport *tt, uint16_t op, uint32_t flags,
			const struct iovec *req, int nreq, uint64_t *id)
{
	struct vgpu_frame_hdr h = {
		.magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
		.op = op, .flags = flags, .id = tt->t.next_id++,
	};
	struct iovec iov[TCP_MAX_IOV + 1];
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	size_t len = vgpu_iov_len(req, nreq);

	if (nreq > TCP_MAX_IOV || len > VGPU_PROTO_MAX_BODY)
		return -EMSGSIZE;
	h.len = (uint32_t)len;
	*id = h.id;
	vgpu_hdr_encode(&h, hdr);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	memcpy(&iov[1], req, nreq * sizeof(*req));
	return send_iov(tt->fd, iov, nreq + 1);
}

static int tcp_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq)
{
	uint64_t id;
	int ret = send_request((struct tcp_transport *)t, op, VGPU_FRAME_F_NOREPLY, req, nreq,
			       &id);

	if (ret && ret != -EMSGSIZE)
		t->dead = true;	/* part of a frame may have gone out */
	return ret;
}

/*
 * The reply to request id: on the way, the failure replies of requests
 * posted before it (ids from t->posted_from), whose first status is kept
 * in t->async_err.
 */
static int recv_reply(struct tcp_transport *tt, uint16_t op, uint64_t id,
		      struct vgpu_frame_hdr *h, const char **why)
{
	struct vgpu_transport *t = &tt->t;
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	int ret;

	for (;;) {
		ret = vgpu_read_all(tt->fd, hdr, sizeof(hdr));
		if (!ret && vgpu_hdr_decode(hdr, VGPU_PROTO_MAX_BODY, h, why))
			ret = -EPROTO;
		if (ret)
			return ret;
		if (!(h->flags & VGPU_FRAME_F_RESP))
			break;
		if (h->id == id)
			return h->op == op ? 0 : (*why = "reply does not match the request", -EPROTO);
		if (!t->posted || h->id < t->posted_from || h->id > id || !h->status)
			break;
		vgpu_dbg("tcp: posted %s (id %llu) failed: %u", vgpu_op_name(h->op) ?: "?",
			 (unsigned long long)h->id, h->status);
		if (!t->async_err)
			t->async_err = h->status;
		ret = drain(tt->fd, h->len);
		if (ret)
			return ret;
	}
	*why = "reply does not match the request";
	return -EPROTO;
}

static int tcp_call(struct vgpu_transport *t, uint16_t op,
		    const struct iovec *req, int nreq,
		    const struct iovec *resp, int nresp,
		    size_t *resp_len, uint32_t *status)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;
	struct vgpu_frame_hdr h;
	const char *why = NULL;
	uint64_t id;
	int ret;

	ret = send_request(tt, op, 0, req, nreq, &id);
	if (ret == -EMSGSIZE)
		return ret;
	if (!ret)
		ret = recv_reply(tt, op, id, &h, &why);
	if (ret) {
		if (why)
			vgpu_dbg("tcp: %s", why);
		t->dead = true;
		return ret;
	}
	ret = recv_body(tt->fd, resp, nresp, h.len);
	if (ret && ret != -EMSGSIZE) {
		t->dead = true;
		return ret;
	}
	*status = h.status;
	*resp_len = h.len;
	return ret;
}

static void tcp_close(struct vgpu_transport *t)
{
	struct tcp_transport *tt = (struct tcp_transport *)t;

	close(tt->fd);
	free(tt);
}

static const struct vgpu_transport_ops tcp_ops = {
	.name = "tcp",
	.call = tcp_call,
	.post = tcp_post,
	.close = tcp_close,
};

/*
 * vgpu_client_hello() writes with plain writev(): keep a server that closes
 * during the handshake from raising SIGPIPE in the application.
 */
static int hello_nosigpipe(int fd, const struct vgpu_hello_req *q,
			   struct vgpu_hello_resp *r, const char **why)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	int ret;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ret = vgpu_client_hello(fd, q, r, why);
	if (ret == -EPIPE && !was_pending) {
		const struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/*
 * PARTITION_ATTACH on a fresh transport (nothing else has been sent).
 * 0, a CUresult (> 0) the server refused it with, or -errno.
 */
static int attach(struct tcp_transport *tt, const char *name)
{
	struct vgpu_partition_attach_resp info;
	struct iovec req, resp;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t rbuf[64];
	size_t len = 0;
	uint32_t status = 0;
	int ret;

	if (!vgpu_partition_name_ok(name)) {
		vgpu_dbg("tcp: VGPU_PARTITION '%s': expected 1-%d characters of A-Z a-z 0-9 _ . -",
			 name, VGPU_PARTITION_NAME_MAX);
		return CUDA_ERROR_INVALID_VALUE;
	}
	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, name);
	if (w.err) {
		vgpu_wbuf_free(&w);
		return -ENOMEM;
	}
	req = (struct iovec){ .iov_base = w.buf, .iov_len = w.len };
	resp = (struct iovec){ .iov_base = rbuf, .iov_len = sizeof(rbuf) };
	ret = tcp_call(&tt->t, VGPU_OP_PARTITION_ATTACH, &req, 1, &resp, 1, &len, &status);
	vgpu_wbuf_free(&w);
	if (ret) {
		vgpu_dbg("tcp: PARTITION_ATTACH %s: %s", name, strerror(-ret));
		return ret;
	}
	if (status > INT32_MAX) {
		vgpu_dbg("tcp: PARTITION_ATTACH %s: status %u out of range", name, status);
		return -EPROTO;
	}
	if (status) {
		vgpu_dbg("tcp: the server refused VGPU_PARTITION=%s: CUresult %u%s", name, status,
			 status == CUDA_ERROR_NOT_FOUND ? " (no such partition)" :
			 status == CUDA_ERROR_INVALID_DEVICE ? " (a GPU this session does not expose: VGPU_GPU)" :
			 "");
		return (int)status;
	}
	vgpu_rbuf_init(&r, rbuf, len);
	if (vgpu_partition_attach_resp_get(&r, &info)) {
		vgpu_dbg("tcp: PARTITION_ATTACH %s: malformed reply", name);
		return -EPROTO;
	}
	vgpu_dbg("tcp: attached to partition %s (id %u, gpu %u, %llu MiB, compute %u%%, priority %u)",
		 name, info.id, info.gpu, (unsigned long long)(info.mem_limit >> 20),
		 info.compute_share, info.priority);
	return 0;
}

struct vgpu_transport *vgpu_tcp_open(const char *hostport, uint32_t gpu, const char *partition,
				     int *err)
{
	struct vgpu_hello_req q = {
		.min_version = VGPU_PROTO_VERSION, .max_version = VGPU_PROTO_VERSION,
		.gpu = gpu,
	};
	struct vgpu_hello_resp r;
	struct tcp_transport *tt;
	const char *why = NULL;
	int fd, ret;

	fd = vgpu_tcp_connect(hostport, TCP_CONNECT_MS);
	if (fd < 0) {
		vgpu_dbg("tcp: cannot connect to %s: %s", hostport, strerror(-fd));
		*err = fd;
		return NULL;
	}
	snprintf(q.client, sizeof(q.client), "libcuda pid %d", (int)getpid());
	ret = hello_nosigpipe(fd, &q, &r, &why);
	if (ret) {
		vgpu_dbg("tcp: handshake with %s failed: %s", hostport,
			 why ? why : strerror(-ret));
		close(fd);
		*err = ret;
		return NULL;
	}
	tt = calloc(1, sizeof(*tt));
	if (!tt) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	tt->fd = fd;
	vgpu_transport_init(&tt->t, &tcp_ops, TCP_MAX_PAYLOAD);
	vgpu_dbg("tcp: session %u on %s (%s)", r.session, hostport, r.server);
	if (partition) {
		ret = attach(tt, partition);
		if (ret) {
			vgpu_transport_close(&tt->t);
			*err = ret;
			return NULL;
		}
	}
	return &tt->t;
}
