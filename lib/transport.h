/* SPDX-License-Identifier: MIT */
/*
 * transport.h - how lib/ reaches vgpu-server: one call = one request of the
 * wire protocol (docs/PROTOCOL.md) and its response, behind one interface
 * with two implementations:
 *
 *   ring  the channel ring of /dev/vgpuN (uapi/vgpu.h), served by vgpud;
 *         the default, path from VGPU_DEVICE or /dev/vgpu0.
 *   tcp   a direct connection to vgpu-server, when VGPU_SERVER=host:port.
 *
 * A request body is gathered from an iovec array (small encoded fields plus
 * bulk data such as a host buffer, written once into the ring's data area
 * or onto the socket); a response body is scattered into another (fixed
 * fields, then e.g. the destination of a device-to-host copy).
 *
 * Calls are serialised by the transport's mutex: a call owns the ring's data
 * area, or the socket, from its request to its response.  Once a transport
 * has lost its peer it is dead: every later call fails at once.
 *
 * A request may also be posted (vgpu_transport_post): sent without waiting,
 * the server answering only if it fails (VGPU_FRAME_F_NOREPLY).  The server
 * serves a connection's requests in order, so the next call's reply comes
 * after any such failure; the call reads it on the way.  The first posted
 * failure is reported as the status of the next call that succeeded and
 * synchronises, queries, copies or sets memory (the CUDA rule: a call may
 * return the error of earlier asynchronous work), never of one that made or
 * released something, whose error would leave the library out of step
 * with the server.  At most VGPU_TRANSPORT_MAX_POSTED requests are posted in a row;
 * the next goes as a call, so the server never has more unread failure
 * replies than a socket holds and never blocks writing them.
 */
#ifndef VGPU_LIB_TRANSPORT_H
#define VGPU_LIB_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct vgpu_transport;

struct vgpu_transport_ops {
	const char *name;
	/* See vgpu_transport_call(); called with t->lock held, t not dead. */
	int (*call)(struct vgpu_transport *t, uint16_t op,
		    const struct iovec *req, int nreq,
		    const struct iovec *resp, int nresp,
		    size_t *resp_len, uint32_t *status);
	/* Optional: send without waiting (see the top); t->lock held, t not dead. */
	int (*post)(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq);
	void (*close)(struct vgpu_transport *t);
};

#define VGPU_TRANSPORT_MAX_POSTED	256
/* async_err for a posted request that failed in the transport, not at the server */
#define VGPU_TRANSPORT_ASYNC_LOST	999	/* CUDA_ERROR_UNKNOWN */

struct vgpu_transport {
	const struct vgpu_transport_ops *ops;
	pthread_mutex_t lock;
	uint64_t next_id;	/* protected by lock */
	bool dead;		/* protected by lock; set on a lost peer */
	/* posted requests (protected by lock) */
	uint32_t posted;	/* sent since the last call */
	uint64_t posted_from;	/* the first of those's id */
	uint32_t async_err;	/* the first posted failure not yet reported, or 0 */
	/*
	 * Largest bulk payload (copy chunk) one request or response may
	 * carry besides its fixed fields; copies are split to fit.
	 */
	size_t max_payload;
	/* one module image staged in pieces at a time (module.c): the server keeps one */
	pthread_mutex_t image_lock;
};

/* Request fields above a bulk payload never exceed this (LAUNCH: 72 bytes). */
#define VGPU_TRANSPORT_HDR_ROOM	256

/*
 * Send op with the body gathered from req[0..nreq) and wait for the reply.
 * Returns 0 with the server's CUresult in *status and the response body
 * (*resp_len bytes) scattered over resp[0..nresp); or a negative errno:
 *   -ECONNRESET / -ENOTCONN / -EPIPE  peer lost (the transport is now dead)
 *   -EINVAL     the request was refused as malformed
 *   -EMSGSIZE   the request or response does not fit
 *   -EPROTO     a malformed reply
 */
int vgpu_transport_call(struct vgpu_transport *t, uint16_t op,
			const struct iovec *req, int nreq,
			const struct iovec *resp, int nresp,
			size_t *resp_len, uint32_t *status);

/*
 * Post op (see the top): 0 with *status CUDA_SUCCESS, or the status of an
 * earlier posted request that failed; the transport without posting, or
 * with VGPU_TRANSPORT_MAX_POSTED requests in flight, makes it a call (its
 * own status then).  Errors as vgpu_transport_call.
 */
int vgpu_transport_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req,
			int nreq, uint32_t *status);

/*
 * Open the transports the environment selects, one per server (or device
 * node) of the comma-separated VGPU_SERVER (or VGPU_DEVICE) list, into
 * tps[0..cap): their count, or -1 with *err -errno or a CUresult (> 0) a
 * server refused the session with (VGPU_PARTITION's attach); then none is
 * left open.  VGPU_GPU and VGPU_PARTITION have one entry per server or one
 * for all.
 */
int vgpu_transport_open_all(struct vgpu_transport **tps, int cap, int *err);
void vgpu_transport_close(struct vgpu_transport *t);

/* The implementations' constructors. */
/* @partition: PARTITION_ATTACH to it after HELLO (NULL: none). */
struct vgpu_transport *vgpu_tcp_open(const char *hostport, uint32_t gpu, const char *partition,
				     int *err);
struct vgpu_transport *vgpu_ring_open(const char *path, int *err);

/* Common initialisation of the embedded header. */
void vgpu_transport_init(struct vgpu_transport *t, const struct vgpu_transport_ops *ops,
			 size_t max_payload);

/* Is this errno one that means the peer is gone for good? */
bool vgpu_transport_errno_fatal(int err);

/* Total length of an iovec array. */
size_t vgpu_iov_len(const struct iovec *iov, int n);
/* Copy len bytes of src into the iovec array dst (as far as it reaches). */
void vgpu_iov_scatter(const struct iovec *dst, int n, const void *src, size_t len);
/* Copy the whole iovec array src to dst. */
void vgpu_iov_gather(void *dst, const struct iovec *src, int n);

#endif
