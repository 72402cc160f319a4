// SPDX-License-Identifier: MIT
/* place.c - choosing a server and GPU for a new partition (see place.h). */
#include "ctl/place.h"

#include <errno.h>
#include <string.h>

/* The limit a request gets on a GPU of @total bytes (server/partition.c's rounding). */
static uint64_t wanted(const struct place_req *q, uint64_t total)
{
	if (q->mem_bytes)
		return q->mem_bytes;
	return (uint64_t)((unsigned __int128)total * q->mem_pct / 100);
}

/*
 * Free capacity in millionths of a whole GPU, 0 - 2000000: memory and
 * compute each count up to one.  Integers, so equal GPUs tie exactly.
 */
static uint64_t free_score(uint64_t free_mem, uint64_t total, uint32_t compute_free)
{
	uint64_t mem = (uint64_t)((unsigned __int128)free_mem * 1000000 / total);

	return mem + (uint64_t)compute_free * 10000;
}

static bool has_name(const struct vgpu_partition_list *l, const char *name)
{
	for (uint32_t i = 0; i < l->npart; i++)
		if (!strcmp(l->parts[i].name, name))
			return true;
	return false;
}

int place(const struct place_server *srv, unsigned int n, const struct place_req *q,
	  struct place_result *out)
{
	bool any_gpu = false, found = false;
	uint64_t best = 0;

	for (unsigned int s = 0; s < n; s++) {
		if (srv[s].reachable && q->name && has_name(srv[s].list, q->name)) {
			memset(out, 0, sizeof(*out));
			out->server = s;
			return -EEXIST;
		}
	}
	for (unsigned int s = 0; s < n; s++) {
		const struct vgpu_partition_list *l = srv[s].list;

		if (!srv[s].reachable || (q->server >= 0 && (unsigned int)q->server != s))
			continue;
		for (uint32_t i = 0; i < l->ngpu; i++) {
			const struct vgpu_partition_list_gpu *g = &l->gpus[i];
			uint32_t cfree = g->compute_pct_granted < 100 ? 100 - g->compute_pct_granted : 0;
			uint64_t need, score;

			if (q->gpu >= 0 && (int64_t)g->index != q->gpu)
				continue;
			any_gpu = true;
			if (!g->total_mem || g->free_mem > g->total_mem)
				continue;	/* nothing to place on (or nonsense) */
			need = wanted(q, g->total_mem);
			if (!need || need > g->free_mem || q->compute > cfree ||
			    l->npart >= VGPU_PARTITIONS_MAX)
				continue;
			score = free_score(g->free_mem, g->total_mem, cfree);
			/* strictly better only: the first of equals stays */
			if (found && (q->policy == PLACE_BINPACK ? score >= best : score <= best))
				continue;
			found = true;
			best = score;
			out->server = s;
			out->gpu = g->index;
			out->mem_bytes = need;
			out->free_mem = g->free_mem;
			out->compute_free = cfree;
		}
	}
	if (found)
		return 0;
	return any_gpu ? -ENOSPC : -ENODEV;
}

int place_parse_policy(const char *s, enum place_policy *p)
{
	if (!strcmp(s, "binpack"))
		*p = PLACE_BINPACK;
	else if (!strcmp(s, "spread"))
		*p = PLACE_SPREAD;
	else
		return -EINVAL;
	return 0;
}

const char *place_policy_name(enum place_policy p)
{
	return p == PLACE_SPREAD ? "spread" : "binpack";
}
