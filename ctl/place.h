/* SPDX-License-Identifier: MIT */
/*
 * place.h - where a new partition goes in a pool of servers: a pure
 * function of every server's PARTITION_LIST answer (no I/O), so the tests
 * can hand it any pool they like.
 *
 * A GPU fits when its memory granted to no partition (LIST's free_mem)
 * holds the request (a percentage counts of that GPU's total, rounded
 * down as the server does), at least the requested compute share is
 * still ungranted (100 - compute_pct_granted), and its server has a free
 * partition slot.  Among the GPUs that fit, its free capacity is
 *
 *     free_mem / total_mem + (100 - compute_pct_granted) / 100
 *
 * (memory and compute weigh the same), and the policy takes
 *   binpack  the least free capacity: fill one GPU before starting the next;
 *   spread   the most free capacity: every new partition on the emptiest GPU.
 * Ties go to the server listed first in the pool, then the lowest GPU
 * index, so the same pool state always gives the same answer.
 */
#ifndef VGPU_CTL_PLACE_H
#define VGPU_CTL_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/partition.h"

enum place_policy { PLACE_BINPACK, PLACE_SPREAD };

/* One server of the pool, in pool order. */
struct place_server {
	bool reachable;				/* it answered PARTITION_LIST */
	const struct vgpu_partition_list *list;	/* its answer (when reachable) */
};

struct place_req {
	const char *name;	/* the new partition's: refused where it is in use */
	uint64_t mem_bytes;	/* > 0: bytes; 0: mem_pct of the GPU */
	uint32_t mem_pct;
	uint32_t compute;	/* 1-100 */
	enum place_policy policy;
	int server;		/* only this server (pool index), or -1 */
	int64_t gpu;		/* only GPUs of this index, or -1 */
};

struct place_result {
	unsigned int server;	/* pool index */
	uint32_t gpu;
	uint64_t mem_bytes;	/* the limit it will get */
	uint64_t free_mem;	/* the GPU's before */
	uint32_t compute_free;	/* percent, before */
};

/*
 * Pick the GPU.  0 with *out filled; or
 *   -EEXIST  a reachable server has a partition of that name (*out.server says which);
 *   -ENODEV  no reachable server has a GPU the filters allow;
 *   -ENOSPC  GPUs exist but none fits.
 */
int place(const struct place_server *srv, unsigned int n, const struct place_req *q,
	  struct place_result *out);

/* "binpack" / "spread": 0, or -EINVAL. */
int place_parse_policy(const char *s, enum place_policy *p);
const char *place_policy_name(enum place_policy p);

#endif
