/* SPDX-License-Identifier: MIT */
/*
 * handles.h - a session's opaque object ids.
 *
 * Clients never see server pointers: each context, module, function,
 * stream and event gets a u64 id made of a slot index and a generation,
 * scrambled with a per-session key.  A stale id (slot reused), an id of
 * another type or another session fails the lookup, which the session turns
 * into CUDA_ERROR_INVALID_HANDLE.  0 is never an id (stream 0 = default).
 */
#ifndef VGPU_SERVER_HANDLES_H
#define VGPU_SERVER_HANDLES_H

#include <stddef.h>
#include <stdint.h>

enum vgpu_htype {
	VGPU_H_FREE = 0,
	VGPU_H_CTX,
	VGPU_H_MODULE,
	VGPU_H_FUNC,
	VGPU_H_STREAM,
	VGPU_H_EVENT,
	VGPU_H_CHUNK,		/* a VMM physical allocation (ops_vmm.c) */
	VGPU_H_POOL,		/* a memory pool (ops_pool.c) */
	VGPU_H_TEX,		/* a texture object (ops_tex.c) */
};

struct vgpu_handle {
	uint32_t gen;
	uint16_t type;		/* enum vgpu_htype; VGPU_H_FREE when unused */
	void *obj;		/* backend object */
	uint64_t parent;	/* id of the owning ctx (or module, for functions) */
	uint32_t aux;		/* functions: parameter buffer size */
};

struct vgpu_handles {
	struct vgpu_handle *v;
	uint32_t n, cap;
	uint32_t hint;
	uint64_t key;		/* per-session scrambler */
	uint32_t live;
};

void vgpu_handles_init(struct vgpu_handles *h, uint64_t key);
void vgpu_handles_fini(struct vgpu_handles *h);
/* New id for obj, or 0 when out of memory. */
uint64_t vgpu_handle_new(struct vgpu_handles *h, int type, void *obj, uint64_t parent);
/* Entry for id if it is live and of type, else NULL. */
struct vgpu_handle *vgpu_handle_get(struct vgpu_handles *h, uint64_t id, int type);
/* Forget id (no-op when not live). */
void vgpu_handle_del(struct vgpu_handles *h, uint64_t id);
/*
 * Iteration over live entries, for cleanup: start with *pos = 0; returns the
 * next live id of type (any type when type is VGPU_H_FREE) whose parent is
 * parent (any when parent is 0), or 0 at the end.  Safe to delete the
 * returned id before calling again.
 */
uint64_t vgpu_handle_next(struct vgpu_handles *h, uint32_t *pos, int type, uint64_t parent);

#endif
