/* SPDX-License-Identifier: MIT */
/*
 * alloc_table.h - a session's device-memory ranges, sorted by base address.
 *
 * Every pointer range a client names (copy, memset, kernel argument in the
 * sim) must lie inside one of its own session's ranges; this table answers
 * that in O(log n).  Both backends insert what they allocate here, so the
 * check is the same whatever executes the work.
 */
#ifndef VGPU_SERVER_ALLOC_TABLE_H
#define VGPU_SERVER_ALLOC_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum vgpu_alloc_kind {
	VGPU_ALLOC_MEM = 1,	/* MEM_ALLOC: freeable with MEM_FREE, counted in stats */
	VGPU_ALLOC_GLOBAL = 2,	/* a module global: lives until its module unloads */
	VGPU_ALLOC_POOL = 3,	/* POOL_ALLOC: freeable with MEM_FREE(_ASYNC), counted in stats */
	/*
	 * An accessible VMM mapping (ops_vmm.c): not counted (its chunk is).
	 * Mappings that are adjacent in device memory and in host memory
	 * (cuda: host NULL) form one range for vgpu_at_range, as a copy across
	 * two chunks mapped back to back is legal.
	 */
	VGPU_ALLOC_VMM = 4,
};

struct vgpu_alloc {
	uint64_t base;
	uint64_t size;
	int kind;
	void *owner;	/* backend context (MEM) or module (GLOBAL) */
	void *host;	/* sim: the host buffer behind the range; cuda: NULL */
};

struct vgpu_alloc_table {
	struct vgpu_alloc *v;
	size_t n, cap;
	uint64_t mem_bytes;	/* sum of VGPU_ALLOC_MEM and _POOL sizes */
	uint64_t mem_count;	/* number of VGPU_ALLOC_MEM and _POOL entries */
};

void vgpu_at_init(struct vgpu_alloc_table *at);
void vgpu_at_fini(struct vgpu_alloc_table *at);
/* Insert [base, base+size); -EEXIST if it overlaps an entry, -EINVAL for size 0. */
int vgpu_at_insert(struct vgpu_alloc_table *at, uint64_t base, uint64_t size, int kind,
		   void *owner, void *host);
/* Remove the entry starting exactly at base; -ENOENT if none. */
int vgpu_at_remove(struct vgpu_alloc_table *at, uint64_t base);
/* Entry starting exactly at base, or NULL. */
struct vgpu_alloc *vgpu_at_exact(struct vgpu_alloc_table *at, uint64_t base);
/*
 * Entry containing all of [addr, addr+len) (len 0 = just addr), or NULL;
 * for VGPU_ALLOC_VMM, the first of the contiguous entries that do.
 */
struct vgpu_alloc *vgpu_at_range(struct vgpu_alloc_table *at, uint64_t addr, uint64_t len);
/* Host pointer for [addr, addr+len) when entries carry host buffers, or NULL. */
void *vgpu_at_host(struct vgpu_alloc_table *at, uint64_t addr, uint64_t len);
/*
 * First address in [lo, hi) where size bytes fit, aligned to align and at
 * least guard bytes away from every entry; 0 if none.
 */
uint64_t vgpu_at_find_gap(const struct vgpu_alloc_table *at, uint64_t lo, uint64_t hi,
			  uint64_t size, uint64_t align, uint64_t guard);

#endif
