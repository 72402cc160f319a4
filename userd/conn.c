// SPDX-License-Identifier: MIT
/* conn.c - a channel's server connection over io_uring (see conn.h). */
#include "userd/conn.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "userd/uring.h"

void conn_init(struct conn *cn)
{
	memset(cn, 0, offsetof(struct conn, rxbuf));
	cn->fd = -1;
}

int conn_resolve(struct conn *cn, const char *host, const char *port, const char **why)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV,
	};
	int ret = getaddrinfo(host, port, &hints, &cn->ai_list);

	if (ret) {
		*why = gai_strerror(ret);
		cn->ai_list = NULL;
		return ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	cn->ai = cn->ai_list;
	return 0;
}

int conn_prep_connect(struct conn *cn, struct io_uring *ring, uint64_t ud, uint64_t ud_timeout,
		      int timeout_ms)
{
	int ret = -EHOSTUNREACH;

	for (; cn->ai; cn->ai = cn->ai->ai_next) {
		struct io_uring_sqe *sqe, *tmo;
		int fd;

		fd = socket(cn->ai->ai_family, cn->ai->ai_socktype | SOCK_CLOEXEC,
			    cn->ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		/* the connect and its timeout must go in together */
		if (io_uring_sq_space_left(ring) < 2)
			io_uring_submit(ring);
		if (io_uring_sq_space_left(ring) < 2) {
			close(fd);
			return -EBUSY;
		}
		sqe = io_uring_get_sqe(ring);
		tmo = io_uring_get_sqe(ring);
		io_uring_prep_connect(sqe, fd, cn->ai->ai_addr, cn->ai->ai_addrlen);
		io_uring_sqe_set_data64(sqe, ud);
		sqe->flags |= IOSQE_IO_LINK;
		cn->timeout.tv_sec = timeout_ms / 1000;
		cn->timeout.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		io_uring_prep_link_timeout(tmo, &cn->timeout, 0);
		io_uring_sqe_set_data64(tmo, ud_timeout);
		cn->fd = fd;
		cn->connecting = true;
		return 0;
	}
	return ret;
}

int conn_connect_done(struct conn *cn, int res)
{
	cn->connecting = false;
	if (res == 0) {
		cn->connected = true;
		vgpu_tcp_tune(cn->fd);
		freeaddrinfo(cn->ai_list);
		cn->ai_list = cn->ai = NULL;
		return 0;
	}
	close(cn->fd);
	cn->fd = -1;
	if (cn->ai)
		cn->ai = cn->ai->ai_next;
	return res == -ECANCELED ? -ETIMEDOUT : res;
}

bool conn_has_next(const struct conn *cn)
{
	return cn->ai != NULL;
}

int conn_prep_send(struct conn *cn, struct io_uring *ring, struct chan *c, uint64_t ud)
{
	struct io_uring_sqe *sqe;
	int n;

	if (!cn->connected || cn->send_busy)
		return 0;
	n = chan_tx_iov(c, cn->iov, CONN_IOV);
	if (!n)
		return 0;
	sqe = uring_sqe(ring);
	if (!sqe) {
		chan_tx_done(c, 0);
		return -EBUSY;
	}
	memset(&cn->msg, 0, sizeof(cn->msg));
	cn->msg.msg_iov = cn->iov;
	cn->msg.msg_iovlen = n;
	io_uring_prep_sendmsg(sqe, cn->fd, &cn->msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud);
	cn->send_busy = true;
	return 1;
}

int conn_prep_recv(struct conn *cn, struct io_uring *ring, uint64_t ud)
{
	struct io_uring_sqe *sqe;

	if (!cn->connected || cn->recv_busy)
		return 0;
	sqe = uring_sqe(ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv(sqe, cn->fd, cn->rxbuf, sizeof(cn->rxbuf), 0);
	io_uring_sqe_set_data64(sqe, ud);
	cn->recv_busy = true;
	return 1;
}

void conn_close(struct conn *cn)
{
	if (cn->fd >= 0) {
		shutdown(cn->fd, SHUT_RDWR);
		close(cn->fd);
		cn->fd = -1;
	}
	cn->connecting = false;
	cn->connected = false;
	if (cn->ai_list)
		freeaddrinfo(cn->ai_list);
	cn->ai_list = cn->ai = NULL;
}
