/* SPDX-License-Identifier: MIT */
/*
 * chan.h - one channel's request bookkeeping, without any I/O.
 *
 * A channel joins a ring (struct ring) to one server session.  It takes
 * entries off the SQ, checks them, frames them for the server (each with a
 * frame id of its own, mapped back to the entry's id: applications may
 * reuse ids), parses the server's byte stream back into replies, writes
 * response bodies into the data area and posts completions, holding them
 * back while the CQ is full.  The caller moves bytes: it sends what
 * chan_tx_iov() offers, feeds what it receives to chan_rx(), calls
 * chan_process() after doorbells, and COMMITs when chan_take_commit() says
 * so.  Nothing here blocks or knows about io_uring, the kernel or sockets,
 * so tests drive it with any loop and any memory.
 *
 * chan_start(), chan_attach(), chan_conn_lost() and chan_ready() (the
 * session's handshake) are in handshake.c, the rest in chan.c; the two
 * share the channel's state through chan_int.h.
 *
 * Completion results (struct vgpu_cqe.res): the server's CUresult (>= 0);
 * -EINVAL a bad entry; -EMSGSIZE a response larger than resp_cap;
 * -ENOTCONN the session never came up (no server configured, connect or
 * HELLO failed); -ECONNRESET the server went away; -EPROTO the server sent
 * something malformed.  Once a channel has failed, everything outstanding
 * and every later entry completes with that error.
 */
#ifndef VGPU_USERD_CHAN_H
#define VGPU_USERD_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/partition.h"
#include "common/proto.h"
#include "uapi/vgpu.h"

struct chan;

/* Consumption stops while this many request bytes wait to be sent. */
#define CHAN_TX_HIGH		(4u << 20)
/* Every this many NOREPLY entries in a row, one is sent expecting a reply. */
#define CHAN_NOREPLY_SYNC	256
/* Consumption stops while this many NOREPLY entries are unconfirmed. */
#define CHAN_NOREPLY_MAX	4096

struct chan_stats {
	uint64_t frames_sent;	/* requests framed (HELLO excluded) */
	uint64_t replies;	/* replies matched */
	uint64_t cqes;		/* completions published */
	uint64_t invalid;	/* entries refused with -EINVAL */
};

/*
 * A channel on a mapping laid out per @ri; ring_info_check(@ri) must have
 * passed.  The ring's current indices are taken as the starting point.
 * NULL on allocation failure.
 */
struct chan *chan_new(uint32_t id, void *map, const struct vgpu_ring_info *ri,
		      uint64_t features);
/* Free everything; the caller guarantees no send is in flight.  Never unmaps. */
void chan_free(struct chan *c);

/* HELLO's request for /dev/vgpu@dev opened by @pid: client "vgpud/HOST/vgpuN/PID". */
void chan_hello_req(struct vgpu_hello_req *h, const char *host, uint32_t dev, int pid,
		    uint32_t gpu);
/* Queue HELLO as the first frame; requests may be queued behind it at once. */
int chan_start(struct chan *c, const struct vgpu_hello_req *hello);
/*
 * Bind the session to a partition: queue PARTITION_ATTACH right behind
 * HELLO (call it after chan_start, before anything else).  No entry is
 * taken off the SQ until it is answered; a refusal fails the channel with
 * -ENOTCONN.  0, -EINVAL (not a partition name) or -ENOMEM.
 */
int chan_attach(struct chan *c, const char *partition);
/*
 * Once after PARTITION_ATTACH succeeded: the partition's name (the
 * channel's own string), its reply in @a.  NULL otherwise.
 */
const char *chan_take_attached(struct chan *c, struct vgpu_partition_attach_resp *a);

/*
 * The doorbell rang, a reply or a send freed room, or a retry is due:
 * publish held-back completions and take new entries off the SQ.
 */
void chan_process(struct chan *c);

/*
 * Bytes to send: fills up to @max iovecs, returns how many (0: nothing).
 * The frames stay put until chan_tx_done(), which must follow every call
 * that returned > 0 (with 0 if the send failed).
 */
int chan_tx_iov(struct chan *c, struct iovec *iov, int max);
void chan_tx_done(struct chan *c, size_t sent);

/* Bytes from the server.  Returns 0, or the error the channel failed with. */
int chan_rx(struct chan *c, const void *buf, size_t len);

/* The connection ended or could not be made: fail with -ECONNRESET, or
 * -ENOTCONN when the HELLO had not been answered. */
void chan_conn_lost(struct chan *c);
/* Fail with @err (< 0): complete everything outstanding and later with it. */
void chan_fail(struct chan *c, int err);
/* The application closed the channel: drop all state, never touch the ring again. */
void chan_close(struct chan *c);

/* 0, or the error every entry now completes with (the socket can go). */
int chan_error(const struct chan *c);
/* True once after completions were published: COMMIT is due. */
bool chan_take_commit(struct chan *c);
/* Completions are held back (CQ full): call chan_process() again later. */
bool chan_wants_retry(const struct chan *c);
/* Entries sent and not yet answered or confirmed. */
unsigned int chan_inflight(const struct chan *c);
bool chan_ready(const struct chan *c);	/* HELLO (and PARTITION_ATTACH) answered */
uint32_t chan_id(const struct chan *c);
const struct chan_stats *chan_stats(const struct chan *c);

#endif
