// SPDX-License-Identifier: MIT
/*
 * handles.c - slot array with generation counters.  The id is
 * ((gen << 32) | (slot + 1)) XOR key: the generation catches reuse of a
 * freed slot, the key makes ids differ between sessions so one session's
 * id is (almost surely) meaningless in another.
 */
#include "server/handles.h"

#include <stdlib.h>
#include <string.h>

void vgpu_handles_init(struct vgpu_handles *h, uint64_t key)
{
	memset(h, 0, sizeof(*h));
	h->key = key;
}

void vgpu_handles_fini(struct vgpu_handles *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static uint64_t make_id(const struct vgpu_handles *h, uint32_t slot)
{
	return (((uint64_t)h->v[slot].gen << 32) | (slot + 1)) ^ h->key;
}

uint64_t vgpu_handle_new(struct vgpu_handles *h, int type, void *obj, uint64_t parent)
{
	uint32_t slot;
	uint64_t id;

	for (slot = h->hint; slot < h->n && h->v[slot].type != VGPU_H_FREE; slot++)
		;
	if (slot == h->n) {
		if (h->n == h->cap) {
			uint32_t cap = h->cap ? h->cap * 2 : 64;
			struct vgpu_handle *nv;

			if (cap > 0x40000000u)
				return 0;
			nv = realloc(h->v, (size_t)cap * sizeof(*nv));
			if (!nv)
				return 0;
			memset(nv + h->cap, 0, (size_t)(cap - h->cap) * sizeof(*nv));
			h->v = nv;
			h->cap = cap;
		}
		h->n++;
	}
	h->hint = slot + 1;
	h->v[slot].gen++;
	h->v[slot].type = type;
	h->v[slot].obj = obj;
	h->v[slot].parent = parent;
	h->v[slot].aux = 0;
	id = make_id(h, slot);
	if (id == 0) {		/* astronomically unlikely; burn a generation */
		h->v[slot].gen++;
		id = make_id(h, slot);
	}
	h->live++;
	return id;
}

static struct vgpu_handle *lookup(struct vgpu_handles *h, uint64_t id)
{
	uint64_t raw = id ^ h->key;
	uint32_t slot = (uint32_t)raw - 1;

	if (!id || (uint32_t)raw == 0 || slot >= h->n)
		return NULL;
	if (h->v[slot].type == VGPU_H_FREE || h->v[slot].gen != (uint32_t)(raw >> 32))
		return NULL;
	return &h->v[slot];
}

struct vgpu_handle *vgpu_handle_get(struct vgpu_handles *h, uint64_t id, int type)
{
	struct vgpu_handle *e = lookup(h, id);

	return e && e->type == type ? e : NULL;
}

void vgpu_handle_del(struct vgpu_handles *h, uint64_t id)
{
	struct vgpu_handle *e = lookup(h, id);
	uint32_t slot;

	if (!e)
		return;
	slot = e - h->v;
	e->type = VGPU_H_FREE;
	e->obj = NULL;
	h->live--;
	if (slot < h->hint)
		h->hint = slot;
}

uint64_t vgpu_handle_next(struct vgpu_handles *h, uint32_t *pos, int type, uint64_t parent)
{
	while (*pos < h->n) {
		uint32_t slot = (*pos)++;
		struct vgpu_handle *e = &h->v[slot];

		if (e->type == VGPU_H_FREE)
			continue;
		if (type != VGPU_H_FREE && e->type != type)
			continue;
		if (parent && e->parent != parent)
			continue;
		return make_id(h, slot);
	}
	return 0;
}
