/* SPDX-License-Identifier: MIT */
/*
 * partition.h - bodies of the partition ops 57-61 (docs/PROTOCOL.md, "Ops
 * 57-61 are partitions"), shared by vgpu-server, vgpuctl, vgpud and lib/.
 *
 * Each *_put writes exactly the body the op table lists; each *_get parses
 * one and returns
 *   0        parsed exactly, every field in range;
 *   -EPROTO  malformed: truncated, trailing bytes, a string over 255 bytes
 *            (a server closes the session, a client drops the connection);
 *   -EINVAL  well formed but a value breaks the rules: a name that is not
 *            1-31 bytes of [A-Za-z0-9_.-], a percentage, share or priority
 *            out of range, counts over the limits (a server answers
 *            CUDA_ERROR_INVALID_VALUE).
 * The ranges checked are the request rules of PROTOCOL.md; the server's
 * own rules (over-commit, names in use, GPUs it has) are its business.
 */
#ifndef VGPU_COMMON_PARTITION_H
#define VGPU_COMMON_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/proto.h"

#define VGPU_PARTITION_NAME_MAX	31	/* bytes, NUL not included */
#define VGPU_PARTITIONS_MAX		64	/* partitions per server */
#define VGPU_PARTITION_PRIO_MAX	7
#define VGPU_PARTITION_GPU_NAME	256	/* a GPU's name: a str, NUL included */
/* LIST answers at most this many GPUs (a bound for the reader, not a rule). */
#define VGPU_PARTITION_GPUS_MAX	1024

/* 1-31 bytes of [A-Za-z0-9_.-]. */
bool vgpu_partition_name_ok(const char *name);

/* PARTITION_ATTACH's response; what a session is bound to. */
struct vgpu_partition_attach_resp {
	uint32_t id;
	uint32_t gpu;
	uint64_t mem_limit;
	uint32_t compute_share;	/* 1-100 */
	uint32_t priority;	/* 0-7 */
};

/* PARTITION_CREATE's request. */
struct vgpu_partition_create_req {
	char name[VGPU_PARTITION_NAME_MAX + 1];
	uint32_t gpu;
	uint64_t mem_bytes;	/* > 0: the limit; 0: mem_pct applies */
	uint32_t mem_pct;	/* 1-100 of the GPU's total when mem_bytes is 0 */
	uint32_t compute_share;	/* 1-100 */
	uint32_t priority;	/* 0-7 */
};

/* PARTITION_RESIZE's request; 0 keeps a field (memory: both 0). */
struct vgpu_partition_resize_req {
	char name[VGPU_PARTITION_NAME_MAX + 1];
	uint64_t mem_bytes;
	uint32_t mem_pct;	/* 0-100 */
	uint32_t compute_share;	/* 0-100 */
};

/* PARTITION_LIST's response. */
struct vgpu_partition_list_gpu {
	uint32_t index;
	char name[VGPU_PARTITION_GPU_NAME];
	uint64_t total_mem;
	uint64_t free_mem;
	uint32_t mem_pct_granted;	/* 0-100 */
	uint32_t compute_pct_granted;	/* 0-100 */
};

struct vgpu_partition_list_entry {
	uint32_t id;
	char name[VGPU_PARTITION_NAME_MAX + 1];
	uint32_t gpu;
	uint64_t mem_limit;
	uint64_t mem_used;
	uint32_t compute_share;
	uint32_t priority;
	uint32_t sessions;
};

struct vgpu_partition_list {
	uint32_t ngpu;
	struct vgpu_partition_list_gpu *gpus;	/* malloc'ed by _get; vgpu_partition_list_free */
	uint32_t npart;
	struct vgpu_partition_list_entry *parts;
};

/* ATTACH and DELETE requests: str name. */
void vgpu_partition_name_put(struct vgpu_wbuf *w, const char *name);
int vgpu_partition_name_get(struct vgpu_rbuf *r, char name[VGPU_PARTITION_NAME_MAX + 1]);

void vgpu_partition_attach_resp_put(struct vgpu_wbuf *w,
				    const struct vgpu_partition_attach_resp *p);
int vgpu_partition_attach_resp_get(struct vgpu_rbuf *r, struct vgpu_partition_attach_resp *p);

void vgpu_partition_create_req_put(struct vgpu_wbuf *w, const struct vgpu_partition_create_req *c);
int vgpu_partition_create_req_get(struct vgpu_rbuf *r, struct vgpu_partition_create_req *c);

void vgpu_partition_resize_req_put(struct vgpu_wbuf *w, const struct vgpu_partition_resize_req *q);
int vgpu_partition_resize_req_get(struct vgpu_rbuf *r, struct vgpu_partition_resize_req *q);

/* Writes l->ngpu GPUs and l->npart partitions. */
void vgpu_partition_list_put(struct vgpu_wbuf *w, const struct vgpu_partition_list *l);
/* Allocates l->gpus and l->parts (also -ENOMEM); on failure l is empty. */
int vgpu_partition_list_get(struct vgpu_rbuf *r, struct vgpu_partition_list *l);
void vgpu_partition_list_free(struct vgpu_partition_list *l);

/* CREATE / RESIZE requests that break the rules above: -EINVAL, else 0. */
int vgpu_partition_create_req_check(const struct vgpu_partition_create_req *c);
int vgpu_partition_resize_req_check(const struct vgpu_partition_resize_req *q);

#endif /* VGPU_COMMON_PARTITION_H */
