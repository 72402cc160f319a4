// SPDX-License-Identifier: MIT
/* ring.c - channel ring layout checks and submission entry checks. */
#include "userd/ring.h"

#include <errno.h>
#include <stdbool.h>

#include "common/proto.h"

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

struct region {
	uint64_t off, len;
	const char *name;
};

int ring_info_check(const struct vgpu_ring_info *ri, const char **why)
{
	const struct region rg[] = {
		{ ri->sq_head_off, 4, "sq_head" },
		{ ri->sq_tail_off, 4, "sq_tail" },
		{ ri->cq_head_off, 4, "cq_head" },
		{ ri->cq_tail_off, 4, "cq_tail" },
		{ ri->sqes_off, (uint64_t)ri->sq_entries * sizeof(struct vgpu_sqe), "SQ entries" },
		{ ri->cqes_off, (uint64_t)ri->cq_entries * sizeof(struct vgpu_cqe), "CQ entries" },
		{ ri->data_off, ri->data_size, "data area" },
	};
	const unsigned int n = sizeof(rg) / sizeof(rg[0]);

	if (!pow2(ri->sq_entries) || ri->sq_entries > VGPU_SQ_ENTRIES_MAX) {
		*why = "sq_entries not a power of two within limits";
		return -EINVAL;
	}
	if (!pow2(ri->cq_entries) || ri->cq_entries > 2 * VGPU_SQ_ENTRIES_MAX) {
		*why = "cq_entries not a power of two within limits";
		return -EINVAL;
	}
	if (ri->data_size > VGPU_DATA_SIZE_MAX) {
		*why = "data area larger than VGPU_DATA_SIZE_MAX";
		return -EINVAL;
	}
	if (!ri->map_size || ri->map_size > RING_MAP_MAX) {
		*why = "map_size zero or too large";
		return -EINVAL;
	}
	if ((ri->sq_head_off | ri->sq_tail_off | ri->cq_head_off | ri->cq_tail_off) & 3) {
		*why = "index not 4-byte aligned";
		return -EINVAL;
	}
	if ((ri->sqes_off | ri->cqes_off) & 7) {
		*why = "entries not 8-byte aligned";
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		/* offsets are u32 and lengths < 2^33: the sums cannot overflow */
		if (rg[i].off + rg[i].len > ri->map_size) {
			*why = "a region lies outside map_size";
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (rg[i].len && rg[j].len && rg[i].off < rg[j].off + rg[j].len &&
			    rg[j].off < rg[i].off + rg[i].len) {
				*why = "regions overlap";
				return -EINVAL;
			}
		}
	}
	return 0;
}

void ring_init(struct ring *r, void *base, const struct vgpu_ring_info *ri)
{
	uint8_t *b = base;

	r->base = b;
	r->sq_head = (uint32_t *)(b + ri->sq_head_off);
	r->sq_tail = (uint32_t *)(b + ri->sq_tail_off);
	r->cq_head = (uint32_t *)(b + ri->cq_head_off);
	r->cq_tail = (uint32_t *)(b + ri->cq_tail_off);
	r->sqes = b + ri->sqes_off;
	r->cqes = b + ri->cqes_off;
	r->data = b + ri->data_off;
	r->sq_entries = ri->sq_entries;
	r->cq_entries = ri->cq_entries;
	r->data_size = ri->data_size;
}

int ring_sqe_check(const struct vgpu_sqe *e, uint32_t data_size, uint64_t features,
		   const char **why)
{
	if (e->reserved) {
		*why = "reserved field set";
		return -EINVAL;
	}
	if (e->flags & ~VGPU_SQE_F_NOREPLY) {
		*why = "unknown flags";
		return -EINVAL;
	}
	if ((e->flags & VGPU_SQE_F_NOREPLY) && !(features & VGPU_F_NOREPLY)) {
		*why = "NOREPLY flag without the NOREPLY feature";
		return -EINVAL;
	}
	if (e->op == VGPU_OP_HELLO || !vgpu_op_name(e->op)) {
		*why = "unknown op";
		return -EINVAL;
	}
	if ((uint64_t)e->req_off + e->req_len > data_size) {
		*why = "request outside the data area";
		return -EINVAL;
	}
	if ((uint64_t)e->resp_off + e->resp_cap > data_size) {
		*why = "response area outside the data area";
		return -EINVAL;
	}
	if (e->req_len > VGPU_PROTO_MAX_BODY) {
		*why = "request larger than a frame body";
		return -EINVAL;
	}
	return 0;
}
