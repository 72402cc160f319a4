/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * vgpu.h - the one ABI shared by vgpu.ko and user space.
 *
 * Two kinds of file:
 *   /dev/vgpuN        one channel per open(); used by applications (lib/).
 *   /dev/vgpu-control the daemon's node (root only, one opener at a time).
 *
 * A channel is a ring in memory shared by the application, the kernel and
 * the daemon:
 *
 *   [ control page | SQ entries | CQ entries | data area ]
 *
 * The application writes submission entries (struct vgpu_sqe) whose request
 * payloads live in the data area, advances sq_tail and rings the doorbell
 * (VGPU_IOC_DOORBELL).  The daemon, woken through a parked io_uring
 * passthrough command on /dev/vgpu-control (VGPU_URING_CMD_FETCH), copies
 * entries and payloads out of the ring, forwards them to a server, writes
 * response payloads into the data area, posts completion entries
 * (struct vgpu_cqe, matched to submissions by id, in any order) and commits
 * them (VGPU_URING_CMD_COMMIT), which wakes the application (poll() or
 * VGPU_IOC_WAIT).
 *
 * Who writes what (everything else in the ring is read-only for that side):
 *   application: sq_tail, SQ entries, request payloads, cq_head
 *   daemon:      sq_head, CQ entries, response payloads, cq_tail
 *   kernel:      nothing; it only reads sq/cq indices for poll and wait.
 * The producer publishes a tail with a store-release after the entries are
 * written; the consumer reads it with a load-acquire before reading entries.
 * Nobody trusts the other side: the daemon copies each entry out of shared
 * memory before validating it; the kernel treats indices as hints.
 *
 * Layouts are published (struct vgpu_ring_info), never assumed: user space
 * must locate every field through the offsets it is given.  All structures
 * are fixed-width, explicitly padded and little-endian on the wire; fields
 * named reserved* must be zero and are rejected with -EINVAL otherwise.
 */
#ifndef _UAPI_LINUX_VGPU_H
#define _UAPI_LINUX_VGPU_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VGPU_API_VERSION	1
#define VGPU_CONTROL_NAME	"vgpu-control"
#define VGPU_DEVICE_PREFIX	"vgpu"		/* /dev/vgpu0 .. N-1 */
#define VGPU_MAX_DEVICES	64

/*
 * Feature bits, negotiated: user space asks for a set, the kernel masks the
 * bits it does not know and writes back the accepted set.
 *
 * VGPU_F_NOREPLY: an SQE flagged VGPU_SQE_F_NOREPLY gets a CQE only when it
 *   fails; its error is reported by the next synchronising call's CQE.
 * VGPU_F_WAIT_IOCTL: VGPU_IOC_WAIT is available besides poll().
 */
#define VGPU_F_NOREPLY		(1ULL << 0)
#define VGPU_F_WAIT_IOCTL	(1ULL << 1)
#define VGPU_F_ALL		(VGPU_F_NOREPLY | VGPU_F_WAIT_IOCTL)

/* Ring size limits (entries are powers of two). */
#define VGPU_SQ_ENTRIES_DEFAULT	64
#define VGPU_SQ_ENTRIES_MAX	4096
#define VGPU_DATA_SIZE_DEFAULT	(4U << 20)
#define VGPU_DATA_SIZE_MAX	(256U << 20)

/* ---------------------------------------------------------------------- */
/* Ring entries                                                            */
/* ---------------------------------------------------------------------- */

/* struct vgpu_sqe.flags */
#define VGPU_SQE_F_NOREPLY	(1U << 0)	/* needs VGPU_F_NOREPLY */

/*
 * Submission entry, 32 bytes.  @op is a wire-protocol op code
 * (docs/PROTOCOL.md); the kernel never interprets it.  The request payload
 * is data[req_off, req_off + req_len); the daemon writes the response
 * payload to data[resp_off, resp_off + resp_cap).  Both ranges must lie
 * inside the data area; the daemon fails the entry with -EINVAL otherwise.
 */
struct vgpu_sqe {
	__u64	id;		/* chosen by the application, echoed in the CQE */
	__u16	op;
	__u16	flags;		/* VGPU_SQE_F_* */
	__u32	req_off;
	__u32	req_len;
	__u32	resp_off;
	__u32	resp_cap;
	__u32	reserved;	/* must be zero */
};

/*
 * Completion entry, 16 bytes.  @res >= 0 is the server's status (a CUresult);
 * @res < 0 is a negative errno from the transport: -EINVAL bad entry,
 * -EMSGSIZE response larger than resp_cap, -ECONNRESET / -ENOTCONN server
 * lost, -EPROTO malformed reply.  @resp_len bytes were written at resp_off.
 */
struct vgpu_cqe {
	__u64	id;
	__s32	res;
	__u32	resp_len;
};

/*
 * Where everything is inside the channel's mapping (offsets in bytes from
 * the start of the mapping at VGPU_MMAP_RING).  The four indices are free
 * running __u32 counters; an entry's slot is index & (entries - 1).
 */
struct vgpu_ring_info {
	__u32	sq_entries;
	__u32	cq_entries;
	__u32	data_size;
	__u32	reserved0;
	__u32	sq_head_off;
	__u32	sq_tail_off;
	__u32	cq_head_off;
	__u32	cq_tail_off;
	__u32	sqes_off;
	__u32	cqes_off;
	__u32	data_off;
	__u32	reserved1;
	__u64	map_size;	/* bytes to mmap */
	__u64	reserved2;
};

/* ---------------------------------------------------------------------- */
/* /dev/vgpuN: the application's node                                       */
/* ---------------------------------------------------------------------- */

#define VGPU_IOC_MAGIC		'V'

/* Device states, as reported by VGPU_IOC_GET_INFO and sysfs "state". */
enum vgpu_dev_state {
	VGPU_DEV_NO_DAEMON	= 0,	/* no daemon attached: setup fails */
	VGPU_DEV_LIVE		= 1,	/* daemon attached */
};

/* Channel states. */
enum vgpu_chan_state {
	VGPU_CHAN_NEW		= 0,	/* opened, no ring yet */
	VGPU_CHAN_LIVE		= 1,	/* ring set up, daemon told */
	VGPU_CHAN_DEAD		= 2,	/* daemon went away: calls fail (-EPIPE) */
	VGPU_CHAN_CLOSED	= 3,	/* application closed it */
};

struct vgpu_dev_info {
	__u32	api_version;	/* out: VGPU_API_VERSION */
	__u32	index;		/* out: N of /dev/vgpuN */
	__u64	features;	/* out: VGPU_F_* the kernel supports */
	__u32	state;		/* out: enum vgpu_dev_state */
	__u32	reserved0;
	__u64	mem_limit;	/* out: bytes granted (0: not reported) */
	__u32	compute_share;	/* out: percent (0: not reported) */
	__u32	reserved1;
	char	server[64];	/* out: NUL-terminated "host:port" */
	__u64	reserved2[4];
};

/*
 * Create the channel's ring.  In: api_version, features wanted, sq_entries
 * and data_size (0: defaults; sq_entries must be a power of two); cq_entries
 * is always 2 * sq_entries.  Out: accepted features, ring info.  Once per
 * channel (-EBUSY after); -ENOTCONN when no daemon is attached.
 */
struct vgpu_setup {
	__u32	api_version;
	__u32	flags;		/* must be zero */
	__u64	features;
	__u32	sq_entries;
	__u32	data_size;
	__u32	chan_id;	/* out: the channel's id, as the daemon sees it */
	__u32	reserved0;
	struct vgpu_ring_info ring;
	__u64	reserved1[4];
};

/*
 * Wait until the CQ is not empty.  timeout_ns 0 waits forever.
 * Returns 0, -ETIMEDOUT, -EINTR, or -EPIPE when the channel is dead.
 */
struct vgpu_wait {
	__u64	timeout_ns;
	__u32	flags;		/* must be zero */
	__u32	reserved;
};

#define VGPU_IOC_GET_INFO	_IOR(VGPU_IOC_MAGIC, 0x00, struct vgpu_dev_info)
#define VGPU_IOC_SETUP		_IOWR(VGPU_IOC_MAGIC, 0x01, struct vgpu_setup)
#define VGPU_IOC_DOORBELL	_IO(VGPU_IOC_MAGIC, 0x02)
#define VGPU_IOC_WAIT		_IOW(VGPU_IOC_MAGIC, 0x03, struct vgpu_wait)

/* mmap offset of the ring on the application's fd. */
#define VGPU_MMAP_RING		0ULL

/* ---------------------------------------------------------------------- */
/* /dev/vgpu-control: the daemon's node                                     */
/* ---------------------------------------------------------------------- */

/*
 * Attach: the calling process becomes the daemon; devices go LIVE.
 * In: api_version, features.  Out: accepted features, nr_devices.
 * -EBUSY if a daemon is attached already.
 */
struct vgpu_ctrl_attach {
	__u32	api_version;
	__u32	flags;		/* must be zero */
	__u64	features;
	__u32	nr_devices;	/* out */
	__u32	reserved0;
	__u64	reserved1[4];
};

/* Describe a channel (after an OPEN event).  In: chan_id. */
struct vgpu_ctrl_chan_info {
	__u32	chan_id;
	__u32	dev_index;	/* out: N of /dev/vgpuN */
	__u32	state;		/* out: enum vgpu_chan_state */
	__s32	pid;		/* out: tgid of the opener */
	__u64	features;	/* out: features accepted at setup */
	struct vgpu_ring_info ring;	/* out */
	__u64	reserved[4];
};

/*
 * What the daemon tells the kernel about a device, shown in sysfs and
 * VGPU_IOC_GET_INFO.  The kernel stores it; it does not enforce it.
 */
struct vgpu_ctrl_dev_config {
	__u32	dev_index;
	__u32	flags;		/* must be zero */
	__u64	mem_limit;
	__u32	compute_share;
	__u32	reserved0;
	char	server[64];	/* NUL-terminated */
	__u64	reserved1[4];
};

#define VGPU_CTRL_IOC_ATTACH	_IOWR(VGPU_IOC_MAGIC, 0x20, struct vgpu_ctrl_attach)
#define VGPU_CTRL_IOC_DETACH	_IO(VGPU_IOC_MAGIC, 0x21)
#define VGPU_CTRL_IOC_CHAN_INFO	_IOWR(VGPU_IOC_MAGIC, 0x22, struct vgpu_ctrl_chan_info)
#define VGPU_CTRL_IOC_DEV_CONFIG _IOW(VGPU_IOC_MAGIC, 0x23, struct vgpu_ctrl_dev_config)

/*
 * The daemon maps channel C's ring at offset VGPU_CTRL_MMAP_CHAN(C) of the
 * control fd.  The mapping keeps the ring alive after the application has
 * closed it, until the daemon unmaps it.
 */
#define VGPU_CTRL_MMAP_SHIFT	32
#define VGPU_CTRL_MMAP_CHAN(c)	((__u64)(c) << VGPU_CTRL_MMAP_SHIFT)
#define VGPU_CHAN_ID_MAX	((1U << 24) - 1)

/*
 * io_uring passthrough commands (IORING_OP_URING_CMD) on the control fd.
 * The 16-byte command payload (sqe->cmd) is struct vgpu_uring_cmd.
 *
 * FETCH parks until some channel has an event, then completes with
 *   res = VGPU_EVT(events, chan_id): events in bits 24..31 (VGPU_EVT_*),
 *   the channel id in bits 0..23; or a negative errno (-ESHUTDOWN on
 *   detach, -EINVAL on a malformed command).  Every pending event of that
 *   channel is reported at once; handle them in the order OPEN, DOORBELL,
 *   CLOSE.  After CLOSE the channel id is gone; the ring stays mapped until
 *   the daemon unmaps it.
 * COMMIT says "new CQEs are in channel chan_id's ring" and wakes its
 *   waiters; it completes at once with 0 or -ENOENT.
 */
struct vgpu_uring_cmd {
	__u32	chan_id;	/* COMMIT: the channel; FETCH: must be zero */
	__u32	flags;		/* must be zero */
	__u64	reserved;	/* must be zero */
};

#define VGPU_URING_CMD_FETCH	_IOWR(VGPU_IOC_MAGIC, 0x40, struct vgpu_uring_cmd)
#define VGPU_URING_CMD_COMMIT	_IOWR(VGPU_IOC_MAGIC, 0x41, struct vgpu_uring_cmd)

#define VGPU_EVT_OPEN		0x01U	/* ring set up: map it, connect */
#define VGPU_EVT_DOORBELL	0x02U	/* SQ tail moved */
#define VGPU_EVT_CLOSE		0x04U	/* application closed the channel */
#define VGPU_EVT_SHIFT		24
#define VGPU_EVT(events, chan)	((int)(((events) << VGPU_EVT_SHIFT) | (chan)))
#define VGPU_EVT_EVENTS(res)	(((__u32)(res) >> VGPU_EVT_SHIFT) & 0xffU)
#define VGPU_EVT_CHAN(res)	((__u32)(res) & VGPU_CHAN_ID_MAX)

#endif /* _UAPI_LINUX_VGPU_H */
