/* SPDX-License-Identifier: MIT */
/*
 * devcfg.h - what vgpud tells the module about each device through
 * VGPU_CTRL_IOC_DEV_CONFIG, which /sys/class/misc/vgpuN/{server,mem_limit,
 * compute_share} show: the device's server from the configuration and,
 * for a device bound to a partition, the partition's memory limit and
 * compute share.
 *
 * vgpud learns the limits only from PARTITION_ATTACH replies: each channel
 * that attaches brings the partition's current values, so sysfs shows the
 * limits as of the device's last attach.  A resize made with vgpuctl
 * afterwards shows once the next application opens the device; nothing
 * polls the server.  Until the first attach, and for a device without a
 * partition, the limits are 0 ("not reported").
 */
#ifndef VGPU_USERD_DEVCFG_H
#define VGPU_USERD_DEVCFG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/partition.h"
#include "userd/config.h"

struct devcfg {
	int ctrl_fd;
	uint32_t nr_devices;		/* the module's */
	struct devcfg_dev {		/* what the module was last told */
		char server[VGPUD_SERVER_LEN];	/* "": not configured */
		char partition[VGPU_PARTITION_NAME_MAX + 1];
		uint64_t mem_limit;
		uint32_t compute_share;
	} dev[VGPU_MAX_DEVICES];
};

void devcfg_init(struct devcfg *dc, int ctrl_fd, uint32_t nr_devices);

/*
 * A configuration was loaded (start, SIGHUP): tell the module every
 * device's server.  A device whose server and partition did not change
 * keeps the limits it has; any other one shows 0 until its next attach.
 * A device no longer configured is cleared.
 */
void devcfg_apply(struct devcfg *dc, const struct vgpud_config *cfg);

/*
 * A channel of /dev/vgpu@dev, opened for @server, attached to @partition
 * and got @a back: show its limits.  Ignored when the configuration has
 * moved the device elsewhere since the channel opened (the reload set what
 * sysfs shows); no ioctl when nothing changed.  Returns true when the
 * module was told.
 */
bool devcfg_attached(struct devcfg *dc, uint32_t dev, const char *server,
		     const char *partition, const struct vgpu_partition_attach_resp *a);

#endif
