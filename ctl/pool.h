/* SPDX-License-Identifier: MIT */
/*
 * pool.h - the pool file: one description of the GPU servers vgpuctl
 * places partitions on (docs/VGPUCTL.md).  inih format, one section per
 * server:
 *
 *   [server gpu-a]
 *   address = 10.0.0.1:7070
 *
 * NAME is 1-31 characters of A-Z a-z 0-9 _ . - and unique; address is
 * HOST:PORT as -s takes it.  Order matters: placement breaks ties in
 * favour of the server listed first.
 */
#ifndef VGPU_CTL_POOL_H
#define VGPU_CTL_POOL_H

#include <stddef.h>

#include "common/partition.h"

#define POOL_SERVERS_MAX	64
#define POOL_ADDR_MAX		128	/* HOST:PORT, NUL included */
#define POOL_DEFAULT_PATH	"/etc/vgpu/pool.conf"

struct pool_server {
	char name[VGPU_PARTITION_NAME_MAX + 1];
	char address[POOL_ADDR_MAX];
	int line;		/* of its section header */
};

struct pool {
	unsigned int n;
	struct pool_server srv[POOL_SERVERS_MAX];
};

/*
 * Load @path.  0, or -1 with "path:line: what" (or "path: what") in @err.
 * A file naming no server is an error.
 */
int pool_load(const char *path, struct pool *pool, char *err, size_t errlen);
/* The server of that name, or NULL. */
const struct pool_server *pool_find(const struct pool *pool, const char *name);

#endif
