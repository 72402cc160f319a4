/* SPDX-License-Identifier: MIT */
/*
 * pool_cmd.h - vgpuctl's commands over a pool of servers (pool_cmd.c):
 * list every server, create where the policy says, find the server of a
 * partition for resize, split and delete.
 */
#ifndef VGPU_CTL_POOL_CMD_H
#define VGPU_CTL_POOL_CMD_H

#include "ctl/ctl.h"
#include "ctl/pool.h"

/* Every server's table; one that does not answer is shown as unreachable.
 * Exit status 0, or 1 when none answered. */
int pool_cmd_list(const struct pool *pool);
/* Place @c's partition (place.c) from every server's LIST and create it there. */
int pool_cmd_create(const struct pool *pool, const struct ctl_cmd *c);
/*
 * The address of the server @c means: --server NAME, else the one server
 * of the pool that has partition c->name.  NULL when there is none, or
 * several (printed).
 */
const char *pool_cmd_locate(const struct pool *pool, const struct ctl_cmd *c);

#endif
