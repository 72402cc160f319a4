/* SPDX-License-Identifier: MIT */
/*
 * ctrl.h - /dev/vgpu-control: the ioctls of uapi/vgpu.h, the channel ring
 * mapping, and the io_uring passthrough commands (FETCH, COMMIT).  The only
 * file of vgpud that needs the kernel module.
 */
#ifndef VGPU_USERD_CTRL_H
#define VGPU_USERD_CTRL_H

#include <liburing.h>
#include <stdint.h>

#include "uapi/vgpu.h"

#define CTRL_PATH	"/dev/" VGPU_CONTROL_NAME

/* All return 0 / an fd, or -errno. */
int ctrl_open(const char *path);
/* ATTACH with VGPU_API_VERSION and VGPU_F_ALL; the accepted set and the device count come back. */
int ctrl_attach(int fd, uint64_t *features, uint32_t *nr_devices);
int ctrl_detach(int fd);
/*
 * What sysfs shows of a device: its server, and its partition's memory
 * limit (bytes) and compute share (percent), 0 where not reported.  One
 * ioctl sets all three, so callers pass the server again with new limits.
 */
int ctrl_dev_config(int fd, uint32_t dev_index, const char *server, uint64_t mem_limit,
		    uint32_t compute_share);
/*
 * After an OPEN event: CHAN_INFO, check the ring layout, mmap the ring
 * (info->ring.map_size bytes at VGPU_CTRL_MMAP_CHAN(chan_id)).  On error
 * *why says which step failed.
 */
int ctrl_chan_map(int fd, uint32_t chan_id, struct vgpu_ctrl_chan_info *info, void **map,
		  const char **why);

/*
 * Fill @sqe with a uring_cmd on the control fd: @cmd_op is
 * VGPU_URING_CMD_FETCH (chan_id 0) or VGPU_URING_CMD_COMMIT; the 16-byte
 * struct vgpu_uring_cmd goes to sqe->cmd (plain 64-byte SQEs).
 */
void ctrl_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op, uint32_t chan_id);

#endif
