// SPDX-License-Identifier: MIT
/*
 * vgpuctl.c - vgpuctl: list, create, resize, split and delete a server's
 * partitions (docs/PROTOCOL.md ops 57-61; the command line is args.c's,
 * the session ops.c's; with a pool file, pool_cmd.c picks the server).
 *
 * Each command is one session: connect, HELLO, its op(s), GOODBYE.  A
 * refused op prints the server's CUresult by name, with what it means for
 * partitions, and the exit status is 1 (2 for a bad command line).
 */
#include "ctl/ctl.h"
#include "ctl/ops.h"
#include "ctl/pool.h"
#include "ctl/pool_cmd.h"

#include <cuda.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- commands ---------------------------------------------------------- */

static int cmd_list(struct ctl_conn *cn)
{
	struct vgpu_partition_list l;

	if (ctl_op_list(cn, &l))
		return 1;
	ctl_print_list(stdout, &l);
	vgpu_partition_list_free(&l);
	return 0;
}

static int cmd_create(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	struct vgpu_partition_create_req q = { .gpu = c->gpu, .mem_bytes = c->mem.bytes,
				      .mem_pct = c->mem.pct, .compute_share = c->compute,
				      .priority = c->priority };
	char what[64], mem[32];
	uint32_t id = 0;
	int ret;

	memcpy(q.name, c->name, sizeof(q.name));
	ret = ctl_op_create(cn, &q, &id);
	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "create %s", c->name);
	if (ret) {
		ctl_report(what, VGPU_OP_PARTITION_CREATE, (uint32_t)ret);
		return 1;
	}
	ctl_format_mem(mem, sizeof(mem), &c->mem);
	printf("created partition %s (id %u) on GPU %u: memory %s, compute %u%%, priority %u\n",
	       c->name, id, c->gpu, mem, c->compute, c->priority);
	return 0;
}

static int cmd_resize(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	struct vgpu_partition_resize_req q = { .mem_bytes = c->mem.bytes, .mem_pct = c->mem.pct,
				      .compute_share = c->compute };
	char what[64], mem[32];
	int ret;

	memcpy(q.name, c->name, sizeof(q.name));
	ret = ctl_op_resize(cn, &q);
	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "resize %s", c->name);
	if (ret) {
		ctl_report(what, VGPU_OP_PARTITION_RESIZE, (uint32_t)ret);
		return 1;
	}
	printf("resized partition %s:", c->name);
	if (c->has_mem) {
		ctl_format_mem(mem, sizeof(mem), &c->mem);
		printf(" memory %s", mem);
	}
	if (c->has_compute)
		printf(" compute %u%%", c->compute);
	printf("\n");
	return 0;
}

static int cmd_delete(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	char what[64];
	int ret = ctl_op_delete(cn, c->name);

	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "delete %s", c->name);
	if (ret) {
		ctl_report(what, VGPU_OP_PARTITION_DELETE, (uint32_t)ret);
		return 1;
	}
	printf("deleted partition %s\n", c->name);
	return 0;
}

/*
 * split: RESIZE NAME down by the new partition's share, then CREATE NEWNAME
 * with it on the same GPU and at NAME's priority.  Without --compute-new
 * the compute share moves in proportion to the memory.  A failed CREATE
 * gives NAME its old size back.
 */
static int cmd_split(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	const struct vgpu_partition_list_entry *p = NULL;
	const struct vgpu_partition_list_gpu *g;
	struct vgpu_partition_resize_req q = { 0 };
	struct vgpu_partition_create_req n = { 0 };
	struct vgpu_partition_list l;
	uint64_t bytes;
	uint32_t share, id = 0;
	char what[96];
	int ret, status = 1;

	if (ctl_op_list(cn, &l))
		return 1;
	for (uint32_t i = 0; i < l.npart; i++)
		if (!strcmp(l.parts[i].name, c->name))
			p = &l.parts[i];
	if (!p) {
		fprintf(stderr, "vgpuctl: split: no partition %s\n", c->name);
		goto out;
	}
	g = ctl_find_gpu(&l, p->gpu);
	if (c->mem.pct && !g) {
		fprintf(stderr, "vgpuctl: split: the server did not list GPU %u of %s\n", p->gpu,
			c->name);
		goto out;
	}
	bytes = c->mem.pct ? g->total_mem / 100 * c->mem.pct +
			     g->total_mem % 100 * c->mem.pct / 100 : c->mem.bytes;
	if (!bytes || bytes >= p->mem_limit) {
		fprintf(stderr, "vgpuctl: split: %s has %llu MiB; it cannot give %llu MiB and keep some\n",
			c->name, ctl_mib(p->mem_limit), ctl_mib(bytes));
		goto out;
	}
	share = c->has_compute ? c->compute :
		(uint32_t)(((uint64_t)p->compute_share * bytes + p->mem_limit / 2) / p->mem_limit);
	if (!share)
		share = 1;
	if (share >= p->compute_share) {
		fprintf(stderr, "vgpuctl: split: %s has %u%% compute; it cannot give %u%% and keep some%s\n",
			c->name, p->compute_share, share,
			c->has_compute ? "" : " (give --compute-new)");
		goto out;
	}

	memcpy(q.name, p->name, sizeof(q.name));
	q.mem_bytes = p->mem_limit - bytes;
	q.compute_share = p->compute_share - share;
	ret = ctl_op_resize(cn, &q);
	if (ret) {
		snprintf(what, sizeof(what), "split: step 1 of 2 (shrink %s) failed; nothing changed",
			 c->name);
		if (ret > 0)
			ctl_report(what, VGPU_OP_PARTITION_RESIZE, (uint32_t)ret);
		else
			fprintf(stderr, "vgpuctl: %s\n", what);
		goto out;
	}

	memcpy(n.name, c->newname, sizeof(n.name));
	n.gpu = p->gpu;
	n.mem_bytes = bytes;
	n.compute_share = share;
	n.priority = p->priority;
	ret = ctl_op_create(cn, &n, &id);
	if (ret) {
		snprintf(what, sizeof(what), "split: step 2 of 2 (create %s) failed", c->newname);
		if (ret > 0)
			ctl_report(what, VGPU_OP_PARTITION_CREATE, (uint32_t)ret);
		else
			fprintf(stderr, "vgpuctl: %s\n", what);
		q.mem_bytes = p->mem_limit;
		q.compute_share = p->compute_share;
		if (ret > 0 && !ctl_op_resize(cn, &q))
			fprintf(stderr, "vgpuctl: split: %s has its old size back\n", c->name);
		else
			fprintf(stderr, "vgpuctl: split: %s stays shrunk to %llu MiB, %u%% compute; "
				"restore it with: vgpuctl resize %s --mem %lluM --compute %u\n",
				c->name, ctl_mib(p->mem_limit - bytes), p->compute_share - share,
				c->name, ctl_mib(p->mem_limit), p->compute_share);
		goto out;
	}
	printf("split %s: it keeps %llu MiB and %u%% compute; new partition %s (id %u) on GPU %u "
	       "has %llu MiB and %u%% compute\n", c->name, ctl_mib(p->mem_limit - bytes),
	       p->compute_share - share, c->newname, id, p->gpu, ctl_mib(bytes), share);
	status = 0;
out:
	vgpu_partition_list_free(&l);
	return status;
}

/*
 * With a pool, list and create (unless told --server and --gpu) work on
 * every server (pool_cmd.c); everything else names one server, and goes
 * on below as with -s.  0 to go on (c->server set), else the exit status.
 */
static int with_pool(struct ctl_cmd *c, int *status)
{
	static struct pool pool;
	const struct pool_server *srv;
	char err[320];

	if (pool_load(c->pool, &pool, err, sizeof(err))) {
		fprintf(stderr, "vgpuctl: %s\n", err);
		*status = 2;
		return 1;
	}
	if (c->verb == CTL_LIST) {
		*status = pool_cmd_list(&pool);
		return 1;
	}
	if (c->verb == CTL_CREATE && !(c->has_pool_server && c->has_gpu)) {
		*status = pool_cmd_create(&pool, c);
		return 1;
	}
	if (c->verb == CTL_CREATE) {
		srv = pool_find(&pool, c->pool_server);
		c->server = srv ? srv->address : NULL;
		if (!srv)
			fprintf(stderr, "vgpuctl: the pool has no server %s\n", c->pool_server);
	} else {
		c->server = pool_cmd_locate(&pool, c);
	}
	*status = 1;
	return !c->server;
}

int main(int argc, char **argv)
{
	struct ctl_conn cn;
	struct ctl_cmd c;
	char err[160];
	int status;

	if (ctl_parse_args(argc, argv, getenv("VGPU_SERVER"), getenv("VGPU_POOL"), &c, err,
			   sizeof(err))) {
		fprintf(stderr, "vgpuctl: %s\n", err);
		ctl_usage(stderr);
		return 2;
	}
	if (c.verb == CTL_HELP) {
		ctl_usage(stdout);
		return 0;
	}
	if (c.pool && with_pool(&c, &status))
		return status;
	if (ctl_connect(&cn, c.server))
		return 1;
	switch (c.verb) {
	case CTL_LIST: status = cmd_list(&cn); break;
	case CTL_CREATE: status = cmd_create(&cn, &c); break;
	case CTL_RESIZE: status = cmd_resize(&cn, &c); break;
	case CTL_SPLIT: status = cmd_split(&cn, &c); break;
	default: status = cmd_delete(&cn, &c); break;
	}
	ctl_disconnect(&cn);
	return status;
}
