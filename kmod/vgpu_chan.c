// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_chan.c - /dev/vgpuN: each open() is a channel.
 *
 * Life of a channel:
 *   open      NEW: an id in ctl->chans, no ring yet
 *   SETUP     LIVE: ring allocated, OPEN event posted to the daemon
 *   DOORBELL  DOORBELL event posted (LIVE only)
 *   daemon gone            LIVE -> DEAD: waiters wake with an error
 *   release   -> CLOSED: CLOSE event posted if the daemon knew it
 * The ring outlives the file while anyone maps it (see vgpu_internal.h).
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "vgpu_internal.h"

static void vgpu_chan_free(struct kref *ref)
{
	struct vgpu_chan *chan = container_of(ref, struct vgpu_chan, ref);

	xa_erase(&chan->dev->ctl->chans, chan->id);
	vfree(chan->ring);
	kfree_rcu(chan, rcu);
}

void vgpu_chan_put(struct vgpu_chan *chan)
{
	kref_put(&chan->ref, vgpu_chan_free);
}

struct vgpu_chan *vgpu_chan_get_by_id(struct vgpu_ctl *ctl, u32 id)
{
	struct vgpu_chan *chan;

	rcu_read_lock();
	chan = xa_load(&ctl->chans, id);
	if (chan && !kref_get_unless_zero(&chan->ref))
		chan = NULL;
	rcu_read_unlock();
	return chan;
}

void vgpu_chan_post(struct vgpu_chan *chan, u32 events)
{
	struct vgpu_ctl *ctl = chan->dev->ctl;
	struct vgpu_fetch *f;
	bool queued;

	kref_get(&chan->ref);	/* in case the queue keeps it */
	f = vgpu_evq_post(&ctl->evq, &chan->evn, events, &queued);
	if (f)
		vgpu_ctl_complete_fetch(f);
	if (!queued)
		vgpu_chan_put(chan);
}

void vgpu_chans_kill(struct vgpu_ctl *ctl)
{
	struct vgpu_chan *chan;
	unsigned long id;

	xa_for_each(&ctl->chans, id, chan) {
		chan = vgpu_chan_get_by_id(ctl, id);
		if (!chan)
			continue;
		if (cmpxchg(&chan->state, VGPU_CHAN_LIVE, VGPU_CHAN_DEAD) == VGPU_CHAN_LIVE)
			wake_up_all(&chan->wq);
		vgpu_chan_put(chan);
	}
}

static int vgpu_dev_open(struct inode *inode, struct file *file)
{
	struct vgpu_dev *dev = container_of(file->private_data, struct vgpu_dev, misc);
	struct vgpu_ctl *ctl = dev->ctl;
	struct vgpu_chan *chan;
	int ret;

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	kref_init(&chan->ref);
	mutex_init(&chan->lock);
	init_waitqueue_head(&chan->wq);
	INIT_LIST_HEAD(&chan->evn.node);
	chan->dev = dev;
	chan->pid = task_tgid_nr(current);
	chan->owner_mm = current->mm;
	chan->state = VGPU_CHAN_NEW;

	ret = xa_alloc_cyclic(&ctl->chans, &chan->id, chan, XA_LIMIT(1, VGPU_CHAN_ID_MAX),
			      &ctl->next_id, GFP_KERNEL);
	if (ret < 0)
		goto out_free;
	chan->evn.id = chan->id;
	file->private_data = chan;
	atomic_inc(&dev->channels);
	atomic64_inc(&dev->channels_total);
	return 0;

out_free:
	kfree(chan);
	return ret;
}

static int vgpu_dev_release(struct inode *inode, struct file *file)
{
	struct vgpu_chan *chan = file->private_data;
	int old = xchg(&chan->state, VGPU_CHAN_CLOSED);

	atomic_dec(&chan->dev->channels);
	/*
	 * The daemon knows the channel from its OPEN event: tell it, so it
	 * ends the server session, which frees what the application held.
	 */
	if (old == VGPU_CHAN_LIVE)
		vgpu_chan_post(chan, VGPU_EVT_CLOSE);
	vgpu_chan_put(chan);
	return 0;
}

static long vgpu_ioc_get_info(struct vgpu_chan *chan, void __user *arg)
{
	struct vgpu_dev *dev = chan->dev;
	struct vgpu_ctl *ctl = dev->ctl;
	struct vgpu_dev_info info = {
		.api_version = VGPU_API_VERSION,
		.index = dev->index,
		.features = VGPU_F_ALL,
	};

	mutex_lock(&ctl->lock);
	info.state = ctl->daemon ? VGPU_DEV_LIVE : VGPU_DEV_NO_DAEMON;
	info.mem_limit = dev->mem_limit;
	info.compute_share = dev->compute_share;
	memcpy(info.server, dev->server, sizeof(info.server));
	mutex_unlock(&ctl->lock);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long vgpu_ioc_setup(struct vgpu_chan *chan, void __user *arg)
{
	struct vgpu_ctl *ctl = chan->dev->ctl;
	struct vgpu_ring_info info;
	struct vgpu_setup s;
	void *ring;
	long ret;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	ret = vgpu_setup_check(&s);
	if (ret)
		return ret;
	ret = vgpu_ring_layout(s.sq_entries, s.data_size, &info);
	if (ret)
		return ret;

	mutex_lock(&ctl->lock);
	mutex_lock(&chan->lock);
	if (chan->ring) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!ctl->daemon) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	ring = vmalloc_user(info.map_size);
	if (!ring) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	chan->features = s.features & ctl->features & VGPU_F_ALL;
	chan->info = info;
	chan->gen = ctl->gen;
	chan->ring = ring;
	if (cmpxchg(&chan->state, VGPU_CHAN_NEW, VGPU_CHAN_LIVE) != VGPU_CHAN_NEW) {
		ret = -EPIPE;
		goto out_unlock;
	}
	s.features = chan->features;
	s.chan_id = chan->id;
	s.ring = info;
	mutex_unlock(&chan->lock);
	mutex_unlock(&ctl->lock);

	vgpu_chan_post(chan, VGPU_EVT_OPEN);
	return copy_to_user(arg, &s, sizeof(s)) ? -EFAULT : 0;

out_unlock:
	mutex_unlock(&chan->lock);
	mutex_unlock(&ctl->lock);
	return ret;
}

static int vgpu_chan_live(struct vgpu_chan *chan)
{
	/* pairs with the cmpxchg in setup: a LIVE state implies a ring */
	switch (smp_load_acquire(&chan->state)) {
	case VGPU_CHAN_LIVE:
		return 0;
	case VGPU_CHAN_NEW:
		return -EBADFD;		/* no ring yet */
	default:
		return -EPIPE;		/* daemon gone */
	}
}

static long vgpu_ioc_doorbell(struct vgpu_chan *chan)
{
	int ret = vgpu_chan_live(chan);

	if (ret)
		return ret;
	atomic64_inc(&chan->dev->doorbells);
	vgpu_chan_post(chan, VGPU_EVT_DOORBELL);
	return 0;
}

/* chan->ring is set once (under chan->lock) before state becomes LIVE */
static bool vgpu_chan_ready(struct vgpu_chan *chan)
{
	/* acquire: pairs with the cmpxchg that published chan->ring */
	return smp_load_acquire(&chan->state) != VGPU_CHAN_LIVE ||
	       vgpu_ring_cq_ready(chan->ring, &chan->info);
}

static long vgpu_ioc_wait(struct vgpu_chan *chan, void __user *arg)
{
	struct vgpu_wait w;
	long left;
	int ret;

	if (copy_from_user(&w, arg, sizeof(w)))
		return -EFAULT;
	if (w.flags || w.reserved)
		return -EINVAL;
	ret = vgpu_chan_live(chan);
	if (ret)
		return ret;
	if (!w.timeout_ns) {
		ret = wait_event_interruptible(chan->wq, vgpu_chan_ready(chan));
		if (ret)
			return ret;
	} else {
		left = wait_event_interruptible_timeout(chan->wq, vgpu_chan_ready(chan),
							nsecs_to_jiffies(w.timeout_ns) ?: 1);
		if (left < 0)
			return left;
		if (!left)
			return -ETIMEDOUT;
	}
	/* completions that arrived before the daemon died are still readable */
	if (vgpu_ring_cq_ready(chan->ring, &chan->info))
		return 0;
	return vgpu_chan_live(chan);
}

static long vgpu_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vgpu_chan *chan = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VGPU_IOC_GET_INFO:
		return vgpu_ioc_get_info(chan, uarg);
	case VGPU_IOC_SETUP:
		return vgpu_ioc_setup(chan, uarg);
	case VGPU_IOC_DOORBELL:
		return vgpu_ioc_doorbell(chan);
	case VGPU_IOC_WAIT:
		return vgpu_ioc_wait(chan, uarg);
	default:
		return -ENOTTY;
	}
}

static __poll_t vgpu_dev_poll(struct file *file, poll_table *wait)
{
	struct vgpu_chan *chan = file->private_data;
	__poll_t mask = 0;
	int state;

	poll_wait(file, &chan->wq, wait);
	/* acquire: pairs with the cmpxchg that published chan->ring */
	state = smp_load_acquire(&chan->state);
	if (state == VGPU_CHAN_NEW)
		return 0;
	if (vgpu_ring_cq_ready(chan->ring, &chan->info))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (state != VGPU_CHAN_LIVE)
		mask |= EPOLLERR | EPOLLHUP;
	return mask;
}

/* ---- ring mappings: each holds a channel reference -------------------- */

static void vgpu_vma_open(struct vm_area_struct *vma)
{
	struct vgpu_chan *chan = vma->vm_private_data;

	kref_get(&chan->ref);
}

static void vgpu_vma_close(struct vm_area_struct *vma)
{
	vgpu_chan_put(vma->vm_private_data);
}

static const struct vm_operations_struct vgpu_vm_ops = {
	.open = vgpu_vma_open,
	.close = vgpu_vma_close,
};

int vgpu_ring_mmap(struct vgpu_chan *chan, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	int ret;

	/* the whole ring, from its start: partial maps only invite confusion */
	if (len != chan->info.map_size)
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTCOPY;	/* a fork()ed child has no channel */
	ret = remap_vmalloc_range(vma, chan->ring, 0);
	if (ret)
		return ret;
	vma->vm_private_data = chan;
	vma->vm_ops = &vgpu_vm_ops;
	vgpu_vma_open(vma);
	return 0;
}

static int vgpu_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vgpu_chan *chan = file->private_data;
	int ret;

	if (vma->vm_pgoff != VGPU_MMAP_RING)
		return -EINVAL;
	/* only the process that opened the channel maps its ring */
	if (current->mm != chan->owner_mm)
		return -EACCES;
	mutex_lock(&chan->lock);
	ret = chan->ring ? vgpu_ring_mmap(chan, vma) : -EBADFD;
	mutex_unlock(&chan->lock);
	return ret;
}

const struct file_operations vgpu_dev_fops = {
	.owner = THIS_MODULE,
	.open = vgpu_dev_open,
	.release = vgpu_dev_release,
	.unlocked_ioctl = vgpu_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = vgpu_dev_poll,
	.mmap = vgpu_dev_mmap,
	.llseek = noop_llseek,
};
