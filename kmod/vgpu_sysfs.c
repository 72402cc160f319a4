// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_sysfs.c - per-device state and counters, read-only, under
 * /sys/class/misc/vgpuN/: state, channels, channels_total, doorbells,
 * commits, server, mem_limit, compute_share.
 */
#include <linux/device.h>
#include <linux/sysfs.h>

#include "vgpu_internal.h"

static struct vgpu_dev *vgpu_dev_of(struct device *d)
{
	struct miscdevice *misc = dev_get_drvdata(d);

	return container_of(misc, struct vgpu_dev, misc);
}

static ssize_t state_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct vgpu_dev *dev = vgpu_dev_of(d);
	bool live;

	mutex_lock(&dev->ctl->lock);
	live = dev->ctl->daemon;
	mutex_unlock(&dev->ctl->lock);
	return sysfs_emit(buf, "%s\n", live ? "live" : "no-daemon");
}
static DEVICE_ATTR_RO(state);

static ssize_t channels_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&vgpu_dev_of(d)->channels));
}
static DEVICE_ATTR_RO(channels);

#define VGPU_COUNTER_ATTR(name)							\
static ssize_t name##_show(struct device *d, struct device_attribute *attr,	\
			   char *buf)						\
{										\
	return sysfs_emit(buf, "%lld\n",					\
			  (long long)atomic64_read(&vgpu_dev_of(d)->name));	\
}										\
static DEVICE_ATTR_RO(name)

VGPU_COUNTER_ATTR(channels_total);
VGPU_COUNTER_ATTR(doorbells);
VGPU_COUNTER_ATTR(commits);

static ssize_t server_show(struct device *d, struct device_attribute *attr, char *buf)
{
	struct vgpu_dev *dev = vgpu_dev_of(d);
	ssize_t n;

	mutex_lock(&dev->ctl->lock);
	n = sysfs_emit(buf, "%s\n", dev->server);
	mutex_unlock(&dev->ctl->lock);
	return n;
}
static DEVICE_ATTR_RO(server);

/* daemon-set config: read under ctl->lock, as VGPU_CTRL_IOC_DEV_CONFIG writes it */
#define VGPU_CONFIG_ATTR(name, type, fmt)					\
static ssize_t name##_show(struct device *d, struct device_attribute *attr,	\
			   char *buf)						\
{										\
	struct vgpu_dev *dev = vgpu_dev_of(d);					\
	type v;									\
										\
	mutex_lock(&dev->ctl->lock);						\
	v = dev->name;								\
	mutex_unlock(&dev->ctl->lock);						\
	return sysfs_emit(buf, fmt "\n", v);					\
}										\
static DEVICE_ATTR_RO(name)

VGPU_CONFIG_ATTR(mem_limit, unsigned long long, "%llu");
VGPU_CONFIG_ATTR(compute_share, unsigned int, "%u");

static struct attribute *vgpu_dev_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_channels.attr,
	&dev_attr_channels_total.attr,
	&dev_attr_doorbells.attr,
	&dev_attr_commits.attr,
	&dev_attr_server.attr,
	&dev_attr_mem_limit.attr,
	&dev_attr_compute_share.attr,
	NULL,
};

static const struct attribute_group vgpu_dev_group = {
	.attrs = vgpu_dev_attrs,
};

const struct attribute_group *vgpu_dev_groups[] = {
	&vgpu_dev_group,
	NULL,
};
