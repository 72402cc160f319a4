// SPDX-License-Identifier: MIT
/*
 * pool_cmd.c - vgpuctl over a pool of servers (see pool_cmd.h).
 *
 * Every command starts by asking each server for PARTITION_LIST, one after
 * the other, each in a session of its own.  A server that cannot be
 * reached or does not answer is left out, never fatal: the pool goes on
 * with the others.  Placement reads that snapshot; another vgpuctl may
 * change a server between its LIST and our CREATE, in which case the
 * server refuses (CUDA_ERROR_OUT_OF_MEMORY) and nothing is created.
 */
#include "ctl/pool_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ops.h"
#include "ctl/place.h"

struct snapshot {
	struct vgpu_partition_list list[POOL_SERVERS_MAX];
	struct place_server ps[POOL_SERVERS_MAX];
	unsigned int reachable;
};

/* LIST every server (only @only when >= 0). */
static void gather(const struct pool *pool, int only, struct snapshot *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned int s = 0; s < pool->n; s++) {
		struct ctl_conn cn;

		st->ps[s].list = &st->list[s];
		if ((only >= 0 && (unsigned int)only != s) ||
		    ctl_connect(&cn, pool->srv[s].address))
			continue;
		if (!ctl_op_list(&cn, &st->list[s])) {
			st->ps[s].reachable = true;
			st->reachable++;
		}
		ctl_disconnect(&cn);
	}
}

static void release(const struct pool *pool, struct snapshot *st)
{
	for (unsigned int s = 0; s < pool->n; s++)
		vgpu_partition_list_free(&st->list[s]);
}

int pool_cmd_list(const struct pool *pool)
{
	struct snapshot *st = malloc(sizeof(*st));
	int status;

	if (!st) {
		fprintf(stderr, "vgpuctl: out of memory\n");
		return 1;
	}
	gather(pool, -1, st);
	for (unsigned int s = 0; s < pool->n; s++) {
		printf("%s== server %s (%s)%s\n", s ? "\n" : "", pool->srv[s].name,
		       pool->srv[s].address, st->ps[s].reachable ? "" : ": unreachable");
		if (st->ps[s].reachable)
			ctl_print_list(stdout, &st->list[s]);
	}
	printf("\n%u of %u servers answered\n", st->reachable, pool->n);
	status = st->reachable ? 0 : 1;
	release(pool, st);
	free(st);
	return status;
}

static int create_on(const struct pool_server *srv, const struct ctl_cmd *c, uint32_t gpu,
		     const struct place_result *r)
{
	struct vgpu_partition_create_req q = { .gpu = gpu, .mem_bytes = c->mem.bytes,
				      .mem_pct = c->mem.pct, .compute_share = c->compute,
				      .priority = c->priority };
	struct ctl_conn cn;
	char what[96], mem[32];
	uint32_t id = 0;
	int ret;

	memcpy(q.name, c->name, sizeof(q.name));
	if (ctl_connect(&cn, srv->address))
		return 1;
	ret = ctl_op_create(&cn, &q, &id);
	ctl_disconnect(&cn);
	if (ret < 0)
		return 1;
	if (ret) {
		snprintf(what, sizeof(what), "create %s on server %s", c->name, srv->name);
		ctl_report(what, VGPU_OP_PARTITION_CREATE, (uint32_t)ret);
		return 1;
	}
	ctl_format_mem(mem, sizeof(mem), &c->mem);
	printf("created partition %s (id %u) on server %s (%s) GPU %u: memory %s", c->name, id,
	       srv->name, srv->address, gpu, mem);
	if (c->mem.pct)
		printf(" (%llu MiB)", ctl_mib(r->mem_bytes));
	printf(", compute %u%%, priority %u (%s; the GPU had %llu MiB and %u%% compute free)\n",
	       c->compute, c->priority, place_policy_name(c->policy), ctl_mib(r->free_mem),
	       r->compute_free);
	return 0;
}

int pool_cmd_create(const struct pool *pool, const struct ctl_cmd *c)
{
	struct place_req q = { .name = c->name, .mem_bytes = c->mem.bytes, .mem_pct = c->mem.pct,
			       .compute = c->compute, .policy = c->policy, .server = -1,
			       .gpu = c->has_gpu ? (int64_t)c->gpu : -1 };
	const struct pool_server *only = NULL;
	struct place_result r;
	struct snapshot *st;
	char mem[32];
	int ret, status = 1;

	if (c->has_pool_server) {
		only = pool_find(pool, c->pool_server);
		if (!only) {
			fprintf(stderr, "vgpuctl: the pool has no server %s\n", c->pool_server);
			return 1;
		}
		q.server = (int)(only - pool->srv);
	}
	st = malloc(sizeof(*st));
	if (!st) {
		fprintf(stderr, "vgpuctl: out of memory\n");
		return 1;
	}
	gather(pool, q.server, st);
	ctl_format_mem(mem, sizeof(mem), &c->mem);
	ret = place(st->ps, pool->n, &q, &r);
	switch (ret) {
	case 0:
		status = create_on(&pool->srv[r.server], c, r.gpu, &r);
		break;
	case -EEXIST:
		fprintf(stderr, "vgpuctl: create %s: server %s already has a partition of that name\n",
			c->name, pool->srv[r.server].name);
		break;
	case -ENODEV:
		fprintf(stderr, "vgpuctl: create %s: no server that answered has %s%s\n", c->name,
			c->has_gpu ? "that GPU" : "a GPU",
			st->reachable ? "" : " (none answered)");
		break;
	default:
		fprintf(stderr, "vgpuctl: create %s: no GPU has memory %s and compute %u%% free "
			"(%u of %u servers answered)\n", c->name, mem, c->compute, st->reachable,
			only ? 1 : pool->n);
		break;
	}
	release(pool, st);
	free(st);
	return status;
}

const char *pool_cmd_locate(const struct pool *pool, const struct ctl_cmd *c)
{
	const struct pool_server *found = NULL;
	struct snapshot *st;
	unsigned int n = 0;

	if (c->has_pool_server) {
		found = pool_find(pool, c->pool_server);
		if (!found)
			fprintf(stderr, "vgpuctl: the pool has no server %s\n", c->pool_server);
		return found ? found->address : NULL;
	}
	st = malloc(sizeof(*st));
	if (!st) {
		fprintf(stderr, "vgpuctl: out of memory\n");
		return NULL;
	}
	gather(pool, -1, st);
	for (unsigned int s = 0; s < pool->n; s++) {
		const struct vgpu_partition_list *l = &st->list[s];

		for (uint32_t i = 0; st->ps[s].reachable && i < l->npart; i++) {
			if (!strcmp(l->parts[i].name, c->name)) {
				found = &pool->srv[s];
				n++;
			}
		}
	}
	if (!n)
		fprintf(stderr, "vgpuctl: no server has a partition %s (%u of %u servers answered)\n",
			c->name, st->reachable, pool->n);
	else if (n > 1)
		fprintf(stderr, "vgpuctl: %u servers have a partition %s: say which with --server NAME\n",
			n, c->name);
	release(pool, st);
	free(st);
	return n == 1 ? found->address : NULL;
}
