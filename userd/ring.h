/* SPDX-License-Identifier: MIT */
/*
 * ring.h - the daemon's view of one channel ring (uapi/vgpu.h): where the
 * indices, entries and data area are, checked once from the published
 * struct vgpu_ring_info; the acquire/release index accessors; and the
 * check of one submission entry.  No I/O, no allocation: works on any
 * memory laid out per a ring info (the kernel's mapping or a test's).
 */
#ifndef VGPU_USERD_RING_H
#define VGPU_USERD_RING_H

#include <stdint.h>
#include <string.h>

#include "uapi/vgpu.h"

/* Largest mapping vgpud accepts: the biggest data area plus room for the rest. */
#define RING_MAP_MAX	((uint64_t)VGPU_DATA_SIZE_MAX + (64ull << 20))

struct ring {
	uint8_t *base;
	uint32_t *sq_head, *sq_tail, *cq_head, *cq_tail;
	uint8_t *sqes;		/* struct vgpu_sqe[sq_entries], copied out, never used in place */
	uint8_t *cqes;		/* struct vgpu_cqe[cq_entries] */
	uint8_t *data;
	uint32_t sq_entries, cq_entries, data_size;
};

/*
 * Check a published layout before any use: entries powers of two within
 * the ABI's limits, every field aligned and inside map_size, no two regions
 * overlapping.  Returns 0 or -EINVAL with a reason in *why.
 */
int ring_info_check(const struct vgpu_ring_info *ri, const char **why);

/* Point @r at a mapping laid out per @ri (which passed ring_info_check). */
void ring_init(struct ring *r, void *base, const struct vgpu_ring_info *ri);

static inline uint32_t ring_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void ring_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Copy the SQE at free-running index @idx out of shared memory. */
static inline void ring_read_sqe(const struct ring *r, uint32_t idx, struct vgpu_sqe *out)
{
	memcpy(out, r->sqes + (size_t)(idx & (r->sq_entries - 1)) * sizeof(*out), sizeof(*out));
}

static inline void ring_write_cqe(struct ring *r, uint32_t idx, const struct vgpu_cqe *c)
{
	memcpy(r->cqes + (size_t)(idx & (r->cq_entries - 1)) * sizeof(*c), c, sizeof(*c));
}

/*
 * Check a copied-out SQE against a data area of @data_size bytes and the
 * channel's accepted @features: reserved zero, known flags, a known op
 * other than HELLO, request and response ranges inside the data area,
 * request no larger than a frame body.  0 or -EINVAL with *why.
 */
int ring_sqe_check(const struct vgpu_sqe *e, uint32_t data_size, uint64_t features,
		   const char **why);

#endif
