/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - vgpuctl, the administration tool for a server's partitions
 * (docs/PROTOCOL.md ops 57-61).  args.c turns the command line into a
 * struct ctl_cmd without touching the network, so the tests call it
 * directly; vgpuctl.c talks to the server and prints.
 */
#ifndef VGPU_CTL_CTL_H
#define VGPU_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/partition.h"
#include "ctl/place.h"

#define CTL_DEFAULT_SERVER	"127.0.0.1:7070"

enum ctl_verb { CTL_HELP, CTL_LIST, CTL_CREATE, CTL_RESIZE, CTL_SPLIT, CTL_DELETE };

/* A memory amount: bytes, or a percentage of the GPU's total (one is 0). */
struct ctl_mem {
	uint64_t bytes;
	uint32_t pct;
};

struct ctl_cmd {
	enum ctl_verb verb;
	const char *server;		/* -s, else VGPU_SERVER, else the default */
	const char *pool;		/* -p, else VGPU_POOL (unless -s); NULL: one server */
	char name[VGPU_PARTITION_NAME_MAX + 1];
	char newname[VGPU_PARTITION_NAME_MAX + 1];	/* split */
	uint32_t gpu;
	struct ctl_mem mem;		/* --mem, or split's --mem-new */
	uint32_t compute;		/* --compute / --compute-new; 0: not given */
	uint32_t priority;
	enum place_policy policy;	/* create with a pool: --policy (binpack) */
	char pool_server[VGPU_PARTITION_NAME_MAX + 1];	/* --server NAME of the pool */
	bool has_gpu, has_mem, has_compute, has_priority, has_policy, has_pool_server;
};

/*
 * "10%" (1-100), or bytes with an optional binary suffix: "4G", "512M",
 * "64K", "1T" (also "4GiB", "4GB"; case-insensitive), more than 0.
 * 0, or -EINVAL.
 */
int ctl_parse_mem(const char *s, struct ctl_mem *m);
/* Decimal in [min, max], no sign or spaces. 0, or -EINVAL. */
int ctl_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/*
 * The whole command line (argv[0] is the program).  @env_server and
 * @env_pool are VGPU_SERVER and VGPU_POOL (either may be NULL).  0, or
 * -EINVAL with a message in @err.
 */
int ctl_parse_args(int argc, char **argv, const char *env_server, const char *env_pool,
		   struct ctl_cmd *cmd, char *err, size_t errlen);
void ctl_usage(FILE *f);

/* "CUDA_ERROR_NOT_FOUND" for a CUresult, or "CUresult <n>". */
const char *ctl_cu_name(uint32_t status, char *buf, size_t cap);
/* The GPU of that index in a LIST answer, or NULL. */
const struct vgpu_partition_list_gpu *ctl_find_gpu(const struct vgpu_partition_list *l,
						   uint32_t index);
/* "10%", "512 MiB" or "1000 bytes". */
void ctl_format_mem(char *buf, size_t cap, const struct ctl_mem *m);
/* The LIST answer as a table. */
void ctl_print_list(FILE *f, const struct vgpu_partition_list *l);

static inline unsigned long long ctl_mib(uint64_t bytes)
{
	return (unsigned long long)(bytes >> 20);
}

#endif
