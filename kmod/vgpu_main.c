// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_main.c - module load/unload: /dev/vgpu-control and /dev/vgpu0..N-1.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "vgpu_internal.h"

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "number of /dev/vgpuN nodes (1.." __stringify(VGPU_MAX_DEVICES) ")");

static struct vgpu_ctl vgpu_ctl;

static void vgpu_unregister_devs(struct vgpu_ctl *ctl, u32 n)
{
	while (n--)
		misc_deregister(&ctl->devs[n].misc);
}

static int __init vgpu_init(void)
{
	struct vgpu_ctl *ctl = &vgpu_ctl;
	u32 i;
	int ret;

	if (!nr_devices || nr_devices > VGPU_MAX_DEVICES) {
		pr_err("vgpu: nr_devices must be 1..%d\n", VGPU_MAX_DEVICES);
		return -EINVAL;
	}
	vgpu_ctl_init(ctl);
	ctl->nr_devices = nr_devices;
	ctl->devs = kcalloc(nr_devices, sizeof(*ctl->devs), GFP_KERNEL);
	if (!ctl->devs)
		return -ENOMEM;

	for (i = 0; i < nr_devices; i++) {
		struct vgpu_dev *dev = &ctl->devs[i];

		dev->ctl = ctl;
		dev->index = i;
		snprintf(dev->name, sizeof(dev->name), VGPU_DEVICE_PREFIX "%u", i);
		dev->misc.minor = MISC_DYNAMIC_MINOR;
		dev->misc.name = dev->name;
		dev->misc.fops = &vgpu_dev_fops;
		dev->misc.groups = vgpu_dev_groups;
		/* any user may run CUDA programs, as with /dev/nvidia* */
		dev->misc.mode = 0666;
		ret = misc_register(&dev->misc);
		if (ret)
			goto out_unregister;
	}

	ctl->misc.minor = MISC_DYNAMIC_MINOR;
	ctl->misc.name = VGPU_CONTROL_NAME;
	ctl->misc.fops = &vgpu_ctl_fops;
	ctl->misc.mode = 0600;
	ret = misc_register(&ctl->misc);
	if (ret)
		goto out_unregister;
	pr_info("vgpu: %u device(s), api %d\n", nr_devices, VGPU_API_VERSION);
	return 0;

out_unregister:
	vgpu_unregister_devs(ctl, i);
	kfree(ctl->devs);
	return ret;
}

static void __exit vgpu_exit(void)
{
	struct vgpu_ctl *ctl = &vgpu_ctl;

	misc_deregister(&ctl->misc);
	vgpu_unregister_devs(ctl, ctl->nr_devices);
	vgpu_ctl_fini(ctl);
	kfree(ctl->devs);
}

module_init(vgpu_init);
module_exit(vgpu_exit);
MODULE_DESCRIPTION("vgpu: CUDA on remote GPUs through channel rings");
MODULE_LICENSE("GPL");
