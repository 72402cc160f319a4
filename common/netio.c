// SPDX-License-Identifier: MIT
/*
 * netio.c - blocking frame I/O, TCP connect/tuning and the client side of
 * the HELLO handshake.  vgpud does its own non-blocking I/O through
 * io_uring and uses only the codec from wire.c plus vgpu_tcp_tune().
 */
#include "common/proto.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

int vgpu_iov_advance(struct iovec **iov, int cnt, size_t n)
{
	struct iovec *v = *iov;

	while (cnt > 0 && n >= v->iov_len) {
		n -= v->iov_len;
		v++;
		cnt--;
	}
	if (cnt > 0) {
		v->iov_base = (char *)v->iov_base + n;
		v->iov_len -= n;
	}
	*iov = v;
	return cnt;
}

static int write_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t n = writev(fd, iov, cnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		cnt = vgpu_iov_advance(&iov, cnt, n);
	}
	return 0;
}

int vgpu_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int vgpu_frame_send(int fd, const struct vgpu_frame_hdr *h, const void *body)
{
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)body, .iov_len = h->len },
	};

	vgpu_hdr_encode(h, hdr);
	return write_all(fd, iov, h->len ? 2 : 1);
}

int vgpu_frame_recv(int fd, uint32_t max_body, struct vgpu_frame_hdr *h,
		    void **body, const char **why)
{
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	int ret;

	*body = NULL;
	ret = vgpu_read_all(fd, hdr, sizeof(hdr));
	if (ret)
		return ret;
	ret = vgpu_hdr_decode(hdr, max_body, h, why);
	if (ret)
		return ret;
	if (!h->len)
		return 0;
	*body = malloc(h->len);
	if (!*body)
		return -ENOMEM;
	ret = vgpu_read_all(fd, *body, h->len);
	if (ret) {
		free(*body);
		*body = NULL;
	}
	return ret;
}

int vgpu_frame_recv_rx(int fd, uint32_t max_body, struct vgpu_frame_hdr *h,
		       struct vgpu_rxbuf *rx, const void **body, const char **why)
{
	uint8_t hdr[VGPU_PROTO_HDR_SIZE];
	int ret;

	*body = NULL;
	ret = vgpu_read_all(fd, hdr, sizeof(hdr));
	if (ret)
		return ret;
	ret = vgpu_hdr_decode(hdr, max_body, h, why);
	if (ret || !h->len)
		return ret;
	if (h->len > rx->cap) {
		/* nothing to keep: free first so the peak is one buffer */
		free(rx->buf);
		rx->cap = 0;
		rx->buf = malloc(h->len);
		if (!rx->buf)
			return -ENOMEM;
		rx->cap = h->len;
	}
	ret = vgpu_read_all(fd, rx->buf, h->len);
	if (!ret)
		*body = rx->buf;
	return ret;
}

void vgpu_rxbuf_free(struct vgpu_rxbuf *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->cap = 0;
}

int vgpu_client_hello(int fd, const struct vgpu_hello_req *req,
		      struct vgpu_hello_resp *resp, const char **why)
{
	struct vgpu_frame_hdr h = {
		.magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
		.op = VGPU_OP_HELLO,
	};
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	void *body;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_hello_req_put(&w, req);
	if (w.err) {
		vgpu_wbuf_free(&w);
		return -ENOMEM;
	}
	h.len = w.len;
	ret = vgpu_frame_send(fd, &h, w.buf);
	vgpu_wbuf_free(&w);
	if (ret)
		return ret;
	ret = vgpu_frame_recv(fd, 4096, &h, &body, why);
	if (ret)
		return ret;
	ret = -EPROTO;
	if (h.op != VGPU_OP_HELLO || !(h.flags & VGPU_FRAME_F_RESP)) {
		*why = "first reply is not HELLO";
	} else if (h.status != 0) {
		*why = "server refused the handshake";
	} else {
		vgpu_rbuf_init(&r, body, h.len);
		if (vgpu_hello_resp_get(&r, resp))
			*why = "malformed HELLO reply";
		else if (resp->version < req->min_version || resp->version > req->max_version)
			*why = "server chose an unsupported version";
		else
			ret = 0;
	}
	free(body);
	return ret;
}

void vgpu_tcp_tune(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned int user_timeout = 30000;	/* ms of unacknowledged data */

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

/* Split "host:port" / "[v6]:port" / "host" into host and port strings. */
static int split_hostport(const char *hp, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;
	size_t hl;

	if (!hp || !*hp)
		return -EINVAL;
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end)
			return -EINVAL;
		hl = end - hp - 1;
		if (hl >= hcap)
			return -EINVAL;
		memcpy(host, hp + 1, hl);
		host[hl] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strrchr(hp, ':');
		hl = colon ? (size_t)(colon - hp) : strlen(hp);
		if (hl >= hcap)
			return -EINVAL;
		memcpy(host, hp, hl);
		host[hl] = '\0';
	}
	if (colon)
		snprintf(port, pcap, "%s", colon + 1);
	else
		snprintf(port, pcap, "%d", VGPU_PROTO_DEFAULT_PORT);
	return 0;
}

int vgpu_tcp_connect(const char *hostport, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char host[256], port[16];
	int fd = -1, ret;

	ret = split_hostport(hostport, host, sizeof(host), port, sizeof(port));
	if (ret)
		return ret;
	if (getaddrinfo(host, port, &hints, &res))
		return -EHOSTUNREACH;
	ret = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			ret = -errno;
			goto next;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1) != 1) {
			ret = -ETIMEDOUT;
			goto next;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			ret = -err;
			goto next;
		}
		break;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ret;
	/* back to blocking: vgpud sets O_NONBLOCK again where it wants it */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	vgpu_tcp_tune(fd);
	return fd;
}
