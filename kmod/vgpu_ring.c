// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_ring.c - the channel ring's layout and the checks on the setup
 * request.  Pure functions (no allocation), so KUnit tests them directly.
 *
 * Layout, all offsets published in struct vgpu_ring_info:
 *   page 0      control: sq_head, sq_tail, cq_head, cq_tail, each on its
 *               own cache line (producer and consumer never share a line)
 *   page 1..    SQEs, then CQEs (cq_entries = 2 * sq_entries, so every
 *               submission has a completion slot even with NOREPLY
 *               entries reporting late errors)
 *   page-aligned data area of data_size bytes
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "vgpu_internal.h"

#define VGPU_IDX_STRIDE	64	/* one cache line per index */

static void vgpu_abi_pins(void)
{
	/* the ABI's layout, pinned: user space compiles the same header */
	BUILD_BUG_ON(sizeof(struct vgpu_sqe) != 32);
	BUILD_BUG_ON(offsetof(struct vgpu_sqe, op) != 8);
	BUILD_BUG_ON(offsetof(struct vgpu_sqe, req_off) != 12);
	BUILD_BUG_ON(offsetof(struct vgpu_sqe, reserved) != 28);
	BUILD_BUG_ON(sizeof(struct vgpu_cqe) != 16);
	BUILD_BUG_ON(offsetof(struct vgpu_cqe, res) != 8);
	BUILD_BUG_ON(sizeof(struct vgpu_ring_info) != 64);
	BUILD_BUG_ON(offsetof(struct vgpu_ring_info, map_size) != 48);
	BUILD_BUG_ON(sizeof(struct vgpu_dev_info) != 136);
	BUILD_BUG_ON(sizeof(struct vgpu_setup) != 128);
	BUILD_BUG_ON(offsetof(struct vgpu_setup, ring) != 32);
	BUILD_BUG_ON(sizeof(struct vgpu_wait) != 16);
	BUILD_BUG_ON(sizeof(struct vgpu_ctrl_attach) != 56);
	BUILD_BUG_ON(sizeof(struct vgpu_ctrl_chan_info) != 120);
	BUILD_BUG_ON(sizeof(struct vgpu_ctrl_dev_config) != 120);
	BUILD_BUG_ON(sizeof(struct vgpu_uring_cmd) != 16);
	BUILD_BUG_ON(VGPU_MAX_DEVICES > 256);
	BUILD_BUG_ON(4 * VGPU_IDX_STRIDE > PAGE_SIZE);
}

int vgpu_ring_layout(u32 sq_entries, u32 data_size, struct vgpu_ring_info *info)
{
	u64 sqes_off, cqes_off, data_off, map_size;

	vgpu_abi_pins();
	if (!sq_entries)
		sq_entries = VGPU_SQ_ENTRIES_DEFAULT;
	if (!data_size)
		data_size = VGPU_DATA_SIZE_DEFAULT;
	if (!is_power_of_2(sq_entries) || sq_entries > VGPU_SQ_ENTRIES_MAX)
		return -EINVAL;
	if (data_size > VGPU_DATA_SIZE_MAX || data_size < PAGE_SIZE)
		return -EINVAL;
	data_size = PAGE_ALIGN(data_size);

	sqes_off = PAGE_SIZE;
	cqes_off = sqes_off + (u64)sq_entries * sizeof(struct vgpu_sqe);
	data_off = PAGE_ALIGN(cqes_off + 2ULL * sq_entries * sizeof(struct vgpu_cqe));
	map_size = data_off + data_size;

	memset(info, 0, sizeof(*info));
	info->sq_entries = sq_entries;
	info->cq_entries = 2 * sq_entries;
	info->data_size = data_size;
	info->sq_head_off = 0 * VGPU_IDX_STRIDE;
	info->sq_tail_off = 1 * VGPU_IDX_STRIDE;
	info->cq_head_off = 2 * VGPU_IDX_STRIDE;
	info->cq_tail_off = 3 * VGPU_IDX_STRIDE;
	info->sqes_off = sqes_off;
	info->cqes_off = cqes_off;
	info->data_off = data_off;
	info->map_size = map_size;
	return 0;
}

int vgpu_setup_check(const struct vgpu_setup *s)
{
	int i;

	if (s->api_version != VGPU_API_VERSION)
		return -EPROTO;
	if (s->flags || s->reserved0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(s->reserved1); i++)
		if (s->reserved1[i])
			return -EINVAL;
	/* ring is an output: user space must pass it zeroed */
	if (memchr_inv(&s->ring, 0, sizeof(s->ring)))
		return -EINVAL;
	return 0;
}
