/* SPDX-License-Identifier: MIT */
/*
 * conn.h - one channel's TCP connection to its server, driven by io_uring:
 * an asynchronous connect (each resolved address in turn, each bounded by a
 * linked timeout), then one sendmsg and one recv in flight at a time.  The
 * bytes themselves come from and go to the channel (chan.h).
 *
 * The prep functions only queue SQEs; the caller owns the user_data values
 * and reports each completion back (conn_connect_done, or clearing
 * send_busy / recv_busy).  The struct must stay put while anything is in
 * flight: the kernel writes into rxbuf and reads msg/iov.
 */
#ifndef VGPU_USERD_CONN_H
#define VGPU_USERD_CONN_H

#include <liburing.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "userd/chan.h"

#define CONN_RXBUF	(64 * 1024)
#define CONN_IOV	16
#define CONN_TIMEOUT_MS	3000

struct conn {
	int fd;
	struct addrinfo *ai_list;	/* from getaddrinfo, until connected */
	struct addrinfo *ai;		/* address being tried */
	bool connecting, connected, send_busy, recv_busy;
	struct __kernel_timespec timeout;
	struct msghdr msg;
	struct iovec iov[CONN_IOV];
	uint8_t rxbuf[CONN_RXBUF];
};

void conn_init(struct conn *cn);
/* Resolve host and port (blocking getaddrinfo).  0, or -errno with *why. */
int conn_resolve(struct conn *cn, const char *host, const char *port, const char **why);
/*
 * Queue a connect to the current address (skipping addresses no socket can
 * be made for), linked to a @timeout_ms timeout whose completion carries
 * @ud_timeout.  0, or -errno when no address is left.
 */
int conn_prep_connect(struct conn *cn, struct io_uring *ring, uint64_t ud, uint64_t ud_timeout,
		      int timeout_ms);
/*
 * The connect completed with @res.  0: connected.  Otherwise the socket is
 * closed, the next address is current (conn_has_next) and the error is
 * returned (-ETIMEDOUT when the timeout cancelled it).
 */
int conn_connect_done(struct conn *cn, int res);
bool conn_has_next(const struct conn *cn);
/* Queue a sendmsg of what @c has to send.  1 queued, 0 nothing to do, -errno. */
int conn_prep_send(struct conn *cn, struct io_uring *ring, struct chan *c, uint64_t ud);
/* Queue a recv into rxbuf.  1 queued, 0 nothing to do, -errno. */
int conn_prep_recv(struct conn *cn, struct io_uring *ring, uint64_t ud);
/* Shut the socket down (waking whatever is in flight on it) and close it. */
void conn_close(struct conn *cn);

#endif
