/* SPDX-License-Identifier: MIT */
/*
 * ops.h - one vgpuctl session with a server (ops.c): connect and HELLO,
 * the partition ops, GOODBYE.  Everything that goes wrong on the way is
 * printed to stderr here, so callers only decide what to do next.
 */
#ifndef VGPU_CTL_OPS_H
#define VGPU_CTL_OPS_H

#include <stdint.h>

#include "common/partition.h"

struct ctl_conn {
	int fd;
	uint64_t next_id;
	const char *server;
};

/* Connect to HOST:PORT and say HELLO: 0, or -1 (printed). */
int ctl_connect(struct ctl_conn *cn, const char *server);
/* GOODBYE (not waiting for its answer) and close. */
void ctl_disconnect(struct ctl_conn *cn);

/*
 * The ops: 0, the server's CUresult (> 0, not printed but for LIST's), or
 * -1 after a transport or protocol failure (printed).  LIST fills @l
 * (vgpu_partition_list_free); CREATE gives the new partition's id.
 */
int ctl_op_list(struct ctl_conn *cn, struct vgpu_partition_list *l);
int ctl_op_create(struct ctl_conn *cn, const struct vgpu_partition_create_req *c, uint32_t *id);
int ctl_op_resize(struct ctl_conn *cn, const struct vgpu_partition_resize_req *q);
int ctl_op_delete(struct ctl_conn *cn, const char *name);

/* "vgpuctl: WHAT: CUDA_ERROR_...: what it means for @op" on stderr. */
void ctl_report(const char *what, uint16_t op, uint32_t status);

#endif
