// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_ctrl.c - /dev/vgpu-control: the daemon's node.
 *
 * The daemon attaches (ioctl), parks io_uring FETCH commands that complete
 * when a channel has events, maps channel rings and COMMITs completions.
 * This follows ublk: no thread in the module, no copies of payloads; the
 * kernel only moves event bits and wakes sleepers.
 *
 * Daemon death: a killed daemon's io_uring waits at exit for its parked
 * FETCH commands, and 6.1 cannot cancel a uring_cmd, so the file is never
 * released until they complete.  A monitor (delayed work, every 100 ms
 * while a daemon is attached) sees the task exiting and detaches it:
 * parked FETCHes fail with -ESHUTDOWN and every LIVE channel goes DEAD, so
 * applications get errors instead of hanging.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vgpu_internal.h"

#define VGPU_MONITOR_PERIOD	(HZ / 10)

void vgpu_ctl_complete_fetch(struct vgpu_fetch *f)
{
	struct io_uring_cmd *cmd = container_of((void *)f, struct io_uring_cmd, pdu);

	io_uring_cmd_done(cmd, f->res, 0, IO_URING_F_UNLOCKED);
}

/* ctl->lock held */
static void vgpu_ctl_detach_locked(struct vgpu_ctl *ctl)
{
	struct vgpu_fetch *f, *ftmp;
	struct vgpu_evq_node *n, *ntmp;
	LIST_HEAD(fetches);
	LIST_HEAD(nodes);

	if (!ctl->daemon)
		return;
	put_task_struct(ctl->daemon);
	ctl->daemon = NULL;
	ctl->daemon_file = NULL;

	vgpu_evq_shutdown(&ctl->evq, &fetches, &nodes);
	list_for_each_entry_safe(f, ftmp, &fetches, node) {
		list_del_init(&f->node);
		vgpu_ctl_complete_fetch(f);
	}
	list_for_each_entry_safe(n, ntmp, &nodes, node) {
		list_del_init(&n->node);
		vgpu_chan_put(container_of(n, struct vgpu_chan, evn));
	}
	vgpu_chans_kill(ctl);
	pr_info("vgpu: daemon detached\n");
}

static void vgpu_ctl_monitor(struct work_struct *work)
{
	struct vgpu_ctl *ctl = container_of(to_delayed_work(work), struct vgpu_ctl, monitor);

	mutex_lock(&ctl->lock);
	if (ctl->daemon) {
		if (ctl->daemon->flags & PF_EXITING)
			vgpu_ctl_detach_locked(ctl);
		else
			schedule_delayed_work(&ctl->monitor, VGPU_MONITOR_PERIOD);
	}
	mutex_unlock(&ctl->lock);
}

static int vgpu_ctl_open(struct inode *inode, struct file *file)
{
	struct vgpu_ctl *ctl = container_of(file->private_data, struct vgpu_ctl, misc);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/* one daemon at a time: a second opener gets -EBUSY, not a share */
	if (atomic_cmpxchg(&ctl->open, 0, 1))
		return -EBUSY;
	file->private_data = ctl;
	return 0;
}

static int vgpu_ctl_release(struct inode *inode, struct file *file)
{
	struct vgpu_ctl *ctl = file->private_data;

	mutex_lock(&ctl->lock);
	if (ctl->daemon_file == file)
		vgpu_ctl_detach_locked(ctl);
	mutex_unlock(&ctl->lock);
	atomic_set(&ctl->open, 0);
	return 0;
}

static long vgpu_ctl_attach(struct vgpu_ctl *ctl, struct file *file, void __user *arg)
{
	struct vgpu_ctrl_attach a;
	long ret = 0;
	int i;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.api_version != VGPU_API_VERSION)
		return -EPROTO;
	if (a.flags || a.reserved0 || a.nr_devices)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(a.reserved1); i++)
		if (a.reserved1[i])
			return -EINVAL;

	mutex_lock(&ctl->lock);
	if (ctl->daemon) {
		ret = -EBUSY;
		goto out_unlock;
	}
	ctl->daemon = get_task_struct(current);
	ctl->daemon_file = file;
	ctl->gen++;
	ctl->features = a.features & VGPU_F_ALL;
	vgpu_evq_reopen(&ctl->evq);
	schedule_delayed_work(&ctl->monitor, VGPU_MONITOR_PERIOD);
	a.features = ctl->features;
	a.nr_devices = ctl->nr_devices;
	pr_info("vgpu: daemon %d attached\n", task_tgid_nr(current));
out_unlock:
	mutex_unlock(&ctl->lock);
	if (ret)
		return ret;
	return copy_to_user(arg, &a, sizeof(a)) ? -EFAULT : 0;
}

/* ctl->lock held: is @file the attached daemon's? */
static bool vgpu_is_daemon(struct vgpu_ctl *ctl, struct file *file)
{
	return ctl->daemon && ctl->daemon_file == file;
}

static long vgpu_ctl_chan_info(struct vgpu_ctl *ctl, void __user *arg)
{
	struct vgpu_ctrl_chan_info ci;
	struct vgpu_chan *chan;
	int i;

	if (copy_from_user(&ci, arg, sizeof(ci)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(ci.reserved); i++)
		if (ci.reserved[i])
			return -EINVAL;
	chan = vgpu_chan_get_by_id(ctl, ci.chan_id);
	if (!chan)
		return -ENOENT;
	mutex_lock(&chan->lock);
	ci.dev_index = chan->dev->index;
	ci.state = READ_ONCE(chan->state);	/* a snapshot; chan->lock orders the rest */
	ci.pid = chan->pid;
	ci.features = chan->features;
	ci.ring = chan->info;
	mutex_unlock(&chan->lock);
	vgpu_chan_put(chan);
	return copy_to_user(arg, &ci, sizeof(ci)) ? -EFAULT : 0;
}

static long vgpu_ctl_dev_config(struct vgpu_ctl *ctl, void __user *arg)
{
	struct vgpu_ctrl_dev_config dc;
	struct vgpu_dev *dev;
	int i;

	if (copy_from_user(&dc, arg, sizeof(dc)))
		return -EFAULT;
	if (dc.flags || dc.reserved0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(dc.reserved1); i++)
		if (dc.reserved1[i])
			return -EINVAL;
	if (dc.dev_index >= ctl->nr_devices)
		return -ENODEV;
	if (!memchr(dc.server, '\0', sizeof(dc.server)))
		return -EINVAL;
	if (dc.compute_share > 100)
		return -EINVAL;
	dev = &ctl->devs[dc.dev_index];
	mutex_lock(&ctl->lock);
	dev->mem_limit = dc.mem_limit;
	dev->compute_share = dc.compute_share;
	memcpy(dev->server, dc.server, sizeof(dev->server));
	mutex_unlock(&ctl->lock);
	return 0;
}

/*
 * ctl->lock is never held across a user copy: mmap() takes it under
 * mmap_lock, and a fault in copy_*_user takes mmap_lock.
 */
static long vgpu_ctl_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vgpu_ctl *ctl = file->private_data;
	void __user *uarg = (void __user *)arg;
	bool daemon;

	if (cmd == VGPU_CTRL_IOC_ATTACH)
		return vgpu_ctl_attach(ctl, file, uarg);

	mutex_lock(&ctl->lock);
	daemon = vgpu_is_daemon(ctl, file);
	if (daemon && cmd == VGPU_CTRL_IOC_DETACH)
		vgpu_ctl_detach_locked(ctl);
	mutex_unlock(&ctl->lock);
	if (!daemon)
		return -ENOTCONN;

	switch (cmd) {
	case VGPU_CTRL_IOC_DETACH:
		return 0;
	case VGPU_CTRL_IOC_CHAN_INFO:
		return vgpu_ctl_chan_info(ctl, uarg);
	case VGPU_CTRL_IOC_DEV_CONFIG:
		return vgpu_ctl_dev_config(ctl, uarg);
	default:
		return -ENOTTY;
	}
}

static int vgpu_ctl_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vgpu_ctl *ctl = file->private_data;
	const unsigned long chan_shift = VGPU_CTRL_MMAP_SHIFT - PAGE_SHIFT;
	struct vgpu_chan *chan;
	int ret;

	if (vma->vm_pgoff & ((1UL << chan_shift) - 1))
		return -EINVAL;
	mutex_lock(&ctl->lock);
	if (!vgpu_is_daemon(ctl, file)) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	chan = vgpu_chan_get_by_id(ctl, vma->vm_pgoff >> chan_shift);
	if (!chan) {
		ret = -ENOENT;
		goto out_unlock;
	}
	mutex_lock(&chan->lock);
	/* a ring set up under an earlier daemon is not this daemon's business */
	if (!chan->ring || chan->gen != ctl->gen)
		ret = -ENOENT;
	else
		ret = vgpu_ring_mmap(chan, vma);
	mutex_unlock(&chan->lock);
	vgpu_chan_put(chan);
out_unlock:
	mutex_unlock(&ctl->lock);
	return ret;
}

static int vgpu_ctl_fetch(struct vgpu_ctl *ctl, struct io_uring_cmd *cmd)
{
	struct vgpu_fetch *f = (struct vgpu_fetch *)cmd->pdu;
	struct vgpu_evq_node *n;
	int res;

	BUILD_BUG_ON(sizeof(*f) > sizeof(cmd->pdu));
	INIT_LIST_HEAD(&f->node);
	res = vgpu_evq_fetch(&ctl->evq, f, &n);
	if (n)
		vgpu_chan_put(container_of(n, struct vgpu_chan, evn));
	return res;
}

static int vgpu_ctl_commit(struct vgpu_ctl *ctl, u32 chan_id)
{
	struct vgpu_chan *chan = vgpu_chan_get_by_id(ctl, chan_id);

	if (!chan)
		return -ENOENT;
	atomic64_inc(&chan->dev->commits);
	wake_up_all(&chan->wq);
	vgpu_chan_put(chan);
	return 0;
}

static int vgpu_ctl_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct vgpu_ctl *ctl = cmd->file->private_data;
	const struct vgpu_uring_cmd *ucp = cmd->cmd;
	struct vgpu_uring_cmd uc;
	bool daemon;

	/* the SQE is shared with user space: read it once, then check it */
	uc.chan_id = READ_ONCE(ucp->chan_id);
	uc.flags = READ_ONCE(ucp->flags);
	uc.reserved = READ_ONCE(ucp->reserved);
	if (uc.flags || uc.reserved)
		return -EINVAL;

	mutex_lock(&ctl->lock);
	daemon = vgpu_is_daemon(ctl, cmd->file);
	mutex_unlock(&ctl->lock);
	if (!daemon)
		return -ENOTCONN;

	switch (cmd->cmd_op) {
	case VGPU_URING_CMD_FETCH:
		if (uc.chan_id)
			return -EINVAL;
		return vgpu_ctl_fetch(ctl, cmd);
	case VGPU_URING_CMD_COMMIT:
		return vgpu_ctl_commit(ctl, uc.chan_id);
	default:
		return -EOPNOTSUPP;
	}
}

const struct file_operations vgpu_ctl_fops = {
	.owner = THIS_MODULE,
	.open = vgpu_ctl_open,
	.release = vgpu_ctl_release,
	.unlocked_ioctl = vgpu_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vgpu_ctl_mmap,
	.uring_cmd = vgpu_ctl_uring_cmd,
	.llseek = noop_llseek,
};

void vgpu_ctl_init(struct vgpu_ctl *ctl)
{
	mutex_init(&ctl->lock);
	atomic_set(&ctl->open, 0);
	INIT_DELAYED_WORK(&ctl->monitor, vgpu_ctl_monitor);
	vgpu_evq_init(&ctl->evq);
	xa_init_flags(&ctl->chans, XA_FLAGS_ALLOC1);
}

void vgpu_ctl_fini(struct vgpu_ctl *ctl)
{
	/* no file is open (module references), so no daemon, no channel */
	cancel_delayed_work_sync(&ctl->monitor);
	WARN_ON(!xa_empty(&ctl->chans));
	xa_destroy(&ctl->chans);
}
