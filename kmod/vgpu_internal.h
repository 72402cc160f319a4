/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vgpu_internal.h - objects of vgpu.ko and the rules that protect them.
 *
 * Objects:
 *   struct vgpu_ctl   the module: the control node, the attached daemon,
 *                     the event queue, the channel table, the devices.
 *   struct vgpu_dev   one /dev/vgpuN: counters and the daemon's config.
 *   struct vgpu_chan  one open() of /dev/vgpuN: its ring and state.
 *
 * Lock order (outer first): ctl->lock  ->  chan->lock  ->  evq.lock.
 *   ctl->lock (mutex)     daemon, daemon_file, gen, features, dev config.
 *   chan->lock (mutex)    the NEW -> LIVE transition and the ring pointer.
 *   evq.lock (spinlock)   the event queue: queued channels, their pending
 *                         event bits, parked FETCH commands.
 * chan->state changes only with cmpxchg (see vgpu_chan.c), so poll() and the
 * doorbell read it without a lock.  The channel table (ctl->chans, an
 * xarray) has its own internal lock; lookups take a reference with
 * kref_get_unless_zero() under RCU.
 *
 * Lifetimes: a channel is referenced by the application's file, by every
 * mapping of its ring (the application's and the daemon's, through the vma
 * open/close ops) and by the event queue while it is queued.  The ring is
 * freed with the last reference, so the daemon may still read a ring whose
 * application is gone.
 */
#ifndef VGPU_INTERNAL_H
#define VGPU_INTERNAL_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "uapi/vgpu.h"

/* ---- ring layout (vgpu_ring.c), pure functions ------------------------ */

/*
 * Validate a setup request and fill @info with the ring layout.  Sizes of
 * zero select the defaults.  Returns 0 or -EINVAL.
 */
int vgpu_ring_layout(u32 sq_entries, u32 data_size, struct vgpu_ring_info *info);
/* Check the fields of a struct vgpu_setup coming from user space. */
int vgpu_setup_check(const struct vgpu_setup *s);

/* Number of CQEs the daemon posted that the application has not consumed. */
static inline u32 vgpu_ring_cq_ready(const void *ring, const struct vgpu_ring_info *info)
{
	u32 head = READ_ONCE(*(const u32 *)(ring + info->cq_head_off));
	u32 tail = READ_ONCE(*(const u32 *)(ring + info->cq_tail_off));

	/* indices are hints from user space: any value is harmless here */
	return tail - head;
}

/* ---- event queue (vgpu_evq.c) ----------------------------------------- */

/*
 * A parked FETCH.  Lives in the io_uring command's pdu (or on the stack in
 * KUnit tests); @res is the result to complete it with.
 */
struct vgpu_fetch {
	struct list_head node;
	int res;
};

struct vgpu_evq_node {
	struct list_head node;	/* in vgpu_evq.chans while queued */
	u32 events;		/* VGPU_EVT_* pending */
	u32 id;			/* channel id reported with the events */
	bool queued;
};

struct vgpu_evq {
	spinlock_t lock;
	struct list_head chans;		/* vgpu_evq_node with events, FIFO */
	struct list_head fetches;	/* parked vgpu_fetch, FIFO */
	bool shutdown;			/* no daemon: fetches fail -ESHUTDOWN */
};

void vgpu_evq_init(struct vgpu_evq *q);
/*
 * Add @events to @n.  If a FETCH is parked, all of @n's pending events are
 * handed to it: it is returned (res set) for the caller to complete.
 * Otherwise @n is queued if it was not; *queued_now tells the caller to
 * take a reference for the queue.  Returns NULL then.
 */
struct vgpu_fetch *vgpu_evq_post(struct vgpu_evq *q, struct vgpu_evq_node *n, u32 events,
				 bool *queued_now);
/*
 * A FETCH arrives.  If a channel is queued, dequeue it and return its
 * result (>= 0), setting *dequeued so the caller drops the queue's
 * reference; else park @f and return -EIOCBQUEUED; -ESHUTDOWN after
 * shutdown.
 */
int vgpu_evq_fetch(struct vgpu_evq *q, struct vgpu_fetch *f, struct vgpu_evq_node **dequeued);
/*
 * Shut the queue (daemon gone) or reopen it (new daemon).  Shutting moves
 * every parked fetch to @fetches (res -ESHUTDOWN) and every queued node to
 * @nodes, for the caller to complete and release outside the lock.
 */
void vgpu_evq_shutdown(struct vgpu_evq *q, struct list_head *fetches, struct list_head *nodes);
void vgpu_evq_reopen(struct vgpu_evq *q);

/* ---- objects ---------------------------------------------------------- */

struct vgpu_ctl;

struct vgpu_dev {
	struct miscdevice misc;
	struct vgpu_ctl *ctl;
	u32 index;
	char name[16];
	atomic_t channels;		/* open now */
	atomic64_t channels_total;	/* opened since load */
	atomic64_t doorbells;
	atomic64_t commits;
	/* set by the daemon (VGPU_CTRL_IOC_DEV_CONFIG); ctl->lock */
	u64 mem_limit;
	u32 compute_share;
	char server[64];
};

struct vgpu_chan {
	struct kref ref;
	struct rcu_head rcu;		/* lookups hold RCU, not a lock */
	struct vgpu_dev *dev;
	u32 id;
	pid_t pid;			/* tgid of the opener */
	struct mm_struct *owner_mm;	/* only this mm may map the ring (not a reference) */
	int state;			/* enum vgpu_chan_state, cmpxchg */
	u64 gen;			/* daemon generation the ring was set up with */
	struct mutex lock;		/* setup: ring, info, features */
	void *ring;			/* vmalloc_user, map_size bytes */
	struct vgpu_ring_info info;
	u64 features;
	wait_queue_head_t wq;		/* application waiters (poll, WAIT) */
	struct vgpu_evq_node evn;	/* evq.lock */
};

struct vgpu_ctl {
	struct miscdevice misc;		/* /dev/vgpu-control */
	struct mutex lock;
	struct file *daemon_file;	/* the attached daemon's control file */
	struct task_struct *daemon;	/* its group leader (reference held) */
	u64 gen;			/* bumped at each attach */
	u64 features;
	atomic_t open;			/* control node opened (one opener) */
	struct delayed_work monitor;	/* notices a dying daemon */
	struct vgpu_evq evq;
	struct xarray chans;		/* id -> vgpu_chan, XA_FLAGS_ALLOC1 */
	u32 next_id;			/* xa_alloc_cyclic cursor */
	u32 nr_devices;
	struct vgpu_dev *devs;
};

/* vgpu_chan.c: the application's node */
extern const struct file_operations vgpu_dev_fops;
struct vgpu_chan *vgpu_chan_get_by_id(struct vgpu_ctl *ctl, u32 id);
void vgpu_chan_put(struct vgpu_chan *chan);
/* Post events to the daemon; takes the queue's reference as needed. */
void vgpu_chan_post(struct vgpu_chan *chan, u32 events);
/* Mark every LIVE channel DEAD and wake its waiters (daemon gone). */
void vgpu_chans_kill(struct vgpu_ctl *ctl);
int vgpu_ring_mmap(struct vgpu_chan *chan, struct vm_area_struct *vma);


/* vgpu_ctrl.c: the daemon's node */
extern const struct file_operations vgpu_ctl_fops;
void vgpu_ctl_init(struct vgpu_ctl *ctl);
void vgpu_ctl_fini(struct vgpu_ctl *ctl);
/* Complete a FETCH handed out by vgpu_evq_post() (f->res is its result). */
void vgpu_ctl_complete_fetch(struct vgpu_fetch *f);

/* vgpu_sysfs.c */
extern const struct attribute_group *vgpu_dev_groups[];

#endif /* VGPU_INTERNAL_H */
