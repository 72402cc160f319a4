/* SPDX-License-Identifier: MIT */
/*
 * chan_int.h - one channel's state, shared by chan.c (SQ consumption,
 * framing, reply reassembly, completions, failure) and handshake.c (HELLO,
 * PARTITION_ATTACH, a connection that never came up).  Nothing else
 * includes it: to everyone else struct chan is opaque (chan.h).
 */
#ifndef VGPU_USERD_CHAN_INT_H
#define VGPU_USERD_CHAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/partition.h"
#include "common/proto.h"
#include "userd/chan.h"
#include "userd/ring.h"

#define HDR_SIZE	VGPU_PROTO_HDR_SIZE

enum pend_kind {
	PEND_DONE,	/* a hole: answered or retired */
	PEND_REPLY,	/* a completion is owed */
	PEND_NOREPLY,	/* sent with VGPU_FRAME_F_NOREPLY: a completion only on error */
	PEND_QUIET,	/* NOREPLY entry sent expecting a reply; success is swallowed */
};

struct pend {
	uint64_t fid;		/* frame id on the wire */
	uint64_t sqe_id;	/* the application's id */
	uint32_t resp_off;
	uint32_t resp_cap;
	uint16_t op;
	uint8_t kind;
};

struct txframe {
	struct txframe *next;
	size_t len;
	uint8_t data[];		/* header + body */
};

/* RX_HELLO: the body of a reply to one of vgpud's own frames goes to hello_buf */
enum rx_state { RX_HDR, RX_BODY, RX_SKIP, RX_HELLO };

struct chan {
	uint32_t id;
	uint64_t features;
	struct ring ring;
	int err;		/* 0, or what every entry now completes with */
	bool closed;
	bool commit;		/* completions published since the last COMMIT */
	bool hello_done;
	bool attaching;		/* PARTITION_ATTACH sent, not (successfully) answered */
	uint64_t attach_fid;
	bool attach_new;	/* attached, not yet taken by chan_take_attached() */
	struct vgpu_partition_attach_resp attached;
	char partition[VGPU_PARTITION_NAME_MAX + 1];
	bool sq_bad_logged, cq_bad_logged;
	uint32_t sq_head;	/* ours; published with a store-release */
	uint32_t cq_tail;	/* ours; published with a store-release */
	uint64_t next_fid;	/* 0 is HELLO's */

	struct pend *pv;
	size_t pv_head, pv_tail, pv_cap;
	unsigned int n_reply, n_noreply, n_quiet;
	unsigned int noreply_run;	/* NOREPLY entries since the last reply-expecting one */

	struct vgpu_cqe *held;	/* power-of-two ring buffer */
	uint32_t held_first, held_count, held_cap;

	struct txframe *tx_head, **tx_tailp;
	size_t tx_off;		/* bytes of tx_head already sent */
	size_t tx_bytes;	/* queued, not yet sent */
	bool tx_busy;		/* frames handed out by chan_tx_iov() */

	enum rx_state rx_state;
	uint8_t hdr[HDR_SIZE];
	uint32_t hdr_got;
	struct vgpu_frame_hdr rh;	/* header of the reply being received */
	uint32_t body_got;
	struct pend rx;		/* its entry, taken off the pending queue */
	bool rx_post;		/* post a completion when the body is in */
	int32_t rx_res;
	uint8_t *hello_buf;

	struct chan_stats st;
};

/* chan.c */
/* Append @f (its len set) to the send queue. */
void chan_tx_push(struct chan *c, struct txframe *f);
/* The server sent something malformed: fail with -EPROTO, or -ENOTCONN
 * while the handshake is not complete. */
void chan_malformed(struct chan *c, const char *why);

/* handshake.c: the receive side of the handshake, called from chan_rx() */
/* The header in c->rh is the reply to HELLO, expected first. */
void handshake_hello_header(struct chan *c);
/* The header in c->rh must be the reply to PARTITION_ATTACH (c->attaching). */
void handshake_attach_header(struct chan *c);
/* The body of the HELLO or PARTITION_ATTACH reply is in c->hello_buf. */
void handshake_body_done(struct chan *c);

#endif
