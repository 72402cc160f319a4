// SPDX-License-Identifier: MIT
/*
 * alloc_table.c - sorted array of a session's device ranges.  A sorted
 * array (not a tree) because lookups dominate and sessions hold at most a
 * few thousand allocations: binary search is O(log n), insert/remove is a
 * memmove that costs less than the network round trip that caused it.
 */
#include "server/alloc_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vgpu_at_init(struct vgpu_alloc_table *at)
{
	memset(at, 0, sizeof(*at));
}

void vgpu_at_fini(struct vgpu_alloc_table *at)
{
	free(at->v);
	memset(at, 0, sizeof(*at));
}

/* Index of the last entry with base <= addr, or -1. */
static long floor_idx(const struct vgpu_alloc_table *at, uint64_t addr)
{
	long lo = 0, hi = (long)at->n - 1, ans = -1;

	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;

		if (at->v[mid].base <= addr) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

static uint64_t end_of(const struct vgpu_alloc *a)
{
	return a->base + a->size;	/* inserts reject wrap-around, so no overflow */
}

int vgpu_at_insert(struct vgpu_alloc_table *at, uint64_t base, uint64_t size, int kind,
		   void *owner, void *host)
{
	long i;

	if (!size || base + size < base)
		return -EINVAL;
	i = floor_idx(at, base);
	if (i >= 0 && end_of(&at->v[i]) > base)
		return -EEXIST;
	if ((size_t)(i + 1) < at->n && at->v[i + 1].base < base + size)
		return -EEXIST;
	if (at->n == at->cap) {
		size_t cap = at->cap ? at->cap * 2 : 32;
		struct vgpu_alloc *nv = realloc(at->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		at->v = nv;
		at->cap = cap;
	}
	i++;
	memmove(&at->v[i + 1], &at->v[i], (at->n - i) * sizeof(at->v[0]));
	at->v[i] = (struct vgpu_alloc){ base, size, kind, owner, host };
	at->n++;
	if (kind == VGPU_ALLOC_MEM || kind == VGPU_ALLOC_POOL) {
		at->mem_bytes += size;
		at->mem_count++;
	}
	return 0;
}

struct vgpu_alloc *vgpu_at_exact(struct vgpu_alloc_table *at, uint64_t base)
{
	long i = floor_idx(at, base);

	return i >= 0 && at->v[i].base == base ? &at->v[i] : NULL;
}

int vgpu_at_remove(struct vgpu_alloc_table *at, uint64_t base)
{
	struct vgpu_alloc *a = vgpu_at_exact(at, base);
	size_t i;

	if (!a)
		return -ENOENT;
	i = a - at->v;
	if (a->kind == VGPU_ALLOC_MEM || a->kind == VGPU_ALLOC_POOL) {
		at->mem_bytes -= a->size;
		at->mem_count--;
	}
	memmove(&at->v[i], &at->v[i + 1], (at->n - i - 1) * sizeof(at->v[0]));
	at->n--;
	return 0;
}

struct vgpu_alloc *vgpu_at_range(struct vgpu_alloc_table *at, uint64_t addr, uint64_t len)
{
	long i = floor_idx(at, addr);
	struct vgpu_alloc *a;

	if (i < 0 || addr + len < addr)
		return NULL;
	a = &at->v[i];
	if (addr >= end_of(a))
		return NULL;
	if (addr + len <= end_of(a))
		return a;
	if (a->kind != VGPU_ALLOC_VMM)
		return NULL;
	/* a run of VMM mappings that continue each other in device and host memory */
	for (size_t j = (size_t)i + 1; j < at->n; j++) {
		const struct vgpu_alloc *p = &at->v[j - 1], *q = &at->v[j];

		if (q->kind != VGPU_ALLOC_VMM || q->base != end_of(p) ||
		    (p->host ? (char *)p->host + p->size != q->host : q->host != NULL))
			return NULL;
		if (addr + len <= end_of(q))
			return a;
	}
	return NULL;
}

void *vgpu_at_host(struct vgpu_alloc_table *at, uint64_t addr, uint64_t len)
{
	struct vgpu_alloc *a = vgpu_at_range(at, addr, len);

	if (!a || !a->host)
		return NULL;
	return (char *)a->host + (addr - a->base);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

uint64_t vgpu_at_find_gap(const struct vgpu_alloc_table *at, uint64_t lo, uint64_t hi,
			  uint64_t size, uint64_t align, uint64_t guard)
{
	uint64_t cand = align_up(lo, align);

	for (size_t i = 0; i <= at->n; i++) {
		uint64_t limit = i < at->n ? at->v[i].base : hi;

		if (i < at->n && end_of(&at->v[i]) + guard <= cand)
			continue;	/* entirely below the candidate */
		if (cand < hi && size <= hi - cand && cand + size + (i < at->n ? guard : 0) <= limit)
			return cand;
		if (i < at->n)
			cand = align_up(end_of(&at->v[i]) + guard, align);
	}
	return 0;
}
