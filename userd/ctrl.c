// SPDX-License-Identifier: MIT
/* ctrl.c - the daemon's side of /dev/vgpu-control (see ctrl.h). */
#include "userd/ctrl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "userd/ring.h"

int ctrl_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int ctrl_attach(int fd, uint64_t *features, uint32_t *nr_devices)
{
	struct vgpu_ctrl_attach a = { .api_version = VGPU_API_VERSION, .features = VGPU_F_ALL };

	if (ioctl(fd, VGPU_CTRL_IOC_ATTACH, &a) < 0)
		return -errno;
	*features = a.features;
	*nr_devices = a.nr_devices;
	return 0;
}

int ctrl_detach(int fd)
{
	return ioctl(fd, VGPU_CTRL_IOC_DETACH) < 0 ? -errno : 0;
}

int ctrl_dev_config(int fd, uint32_t dev_index, const char *server, uint64_t mem_limit,
		    uint32_t compute_share)
{
	struct vgpu_ctrl_dev_config dc = { .dev_index = dev_index, .mem_limit = mem_limit,
					   .compute_share = compute_share };

	snprintf(dc.server, sizeof(dc.server), "%s", server);
	return ioctl(fd, VGPU_CTRL_IOC_DEV_CONFIG, &dc) < 0 ? -errno : 0;
}

int ctrl_chan_map(int fd, uint32_t chan_id, struct vgpu_ctrl_chan_info *info, void **map,
		  const char **why)
{
	void *p;
	int ret;

	memset(info, 0, sizeof(*info));
	info->chan_id = chan_id;
	if (ioctl(fd, VGPU_CTRL_IOC_CHAN_INFO, info) < 0) {
		ret = -errno;
		*why = "VGPU_CTRL_IOC_CHAN_INFO failed";
		return ret;
	}
	if (info->chan_id != chan_id) {
		*why = "CHAN_INFO answered for another channel";
		return -EINVAL;
	}
	if (info->dev_index >= VGPU_MAX_DEVICES) {
		*why = "CHAN_INFO gave a device index out of range";
		return -EINVAL;
	}
	ret = ring_info_check(&info->ring, why);
	if (ret)
		return ret;
	p = mmap(NULL, info->ring.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)VGPU_CTRL_MMAP_CHAN(chan_id));
	if (p == MAP_FAILED) {
		ret = -errno;
		*why = "mmap of the ring failed";
		return ret;
	}
	*map = p;
	return 0;
}

void ctrl_prep_cmd(struct io_uring_sqe *sqe, int fd, uint32_t cmd_op, uint32_t chan_id)
{
	struct vgpu_uring_cmd cmd = { .chan_id = chan_id };

	_Static_assert(sizeof(cmd) == 16, "struct vgpu_uring_cmd must fill a 64-byte SQE's cmd");
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
}
