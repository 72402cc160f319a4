// SPDX-License-Identifier: MIT
/*
 * objects.c - the registry of live handles: an open-addressing hash set of
 * object pointers (linear probing, backward-shift deletion, no tombstones).
 * It lets every entry point refuse a stale or made-up handle before
 * dereferencing it, and lets a destroyed context take its modules, streams
 * and events with it.
 */
#include "lib/driver.h"
#include "lib/graph.h"

#include <errno.h>
#include <stdlib.h>

static struct {
	pthread_mutex_t lock;
	struct vgpu_obj **slot;	/* NULL = free */
	size_t cap;		/* power of two, or 0 */
	size_t count;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static size_t hash(const void *p, size_t cap)
{
	uint64_t v = (uint64_t)(uintptr_t)p >> 4;

	return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* Slot holding p, or the free slot where it would go.  Needs cap > count. */
static size_t find(const void *p)
{
	size_t i = hash(p, reg.cap);

	while (reg.slot[i] && reg.slot[i] != p)
		i = (i + 1) & (reg.cap - 1);
	return i;
}

static int grow(void)
{
	size_t ncap = reg.cap ? reg.cap * 2 : 64, ocap = reg.cap;
	struct vgpu_obj **old = reg.slot;

	reg.slot = calloc(ncap, sizeof(*reg.slot));
	if (!reg.slot) {
		reg.slot = old;
		return -ENOMEM;
	}
	reg.cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			reg.slot[find(old[i])] = old[i];
	free(old);
	return 0;
}

/* Remove slot i and shift back the entries of its probe chain. */
static void remove_at(size_t i)
{
	size_t j = i;

	reg.slot[i] = NULL;
	reg.count--;
	for (;;) {
		size_t home;

		j = (j + 1) & (reg.cap - 1);
		if (!reg.slot[j])
			return;
		home = hash(reg.slot[j], reg.cap);
		/* move j into the hole unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			reg.slot[i] = reg.slot[j];
			reg.slot[j] = NULL;
			i = j;
		}
	}
}

int vgpu_obj_register(struct vgpu_obj *o)
{
	int ret = 0;

	pthread_mutex_lock(&reg.lock);
	if ((reg.count + 1) * 2 > reg.cap)
		ret = grow();
	if (!ret) {
		size_t i = find(o);

		if (!reg.slot[i]) {
			reg.slot[i] = o;
			reg.count++;
		}
	}
	pthread_mutex_unlock(&reg.lock);
	return ret;
}

void vgpu_obj_unregister(struct vgpu_obj *o)
{
	pthread_mutex_lock(&reg.lock);
	if (reg.cap) {
		size_t i = find(o);

		if (reg.slot[i])
			remove_at(i);
	}
	pthread_mutex_unlock(&reg.lock);
}

bool vgpu_obj_valid(const void *p, uint32_t type)
{
	bool ok = false;

	if (!p)
		return false;
	pthread_mutex_lock(&reg.lock);
	if (reg.cap) {
		size_t i = find(p);

		ok = reg.slot[i] && reg.slot[i]->type == type;
	}
	pthread_mutex_unlock(&reg.lock);
	return ok;
}

void vgpu_obj_sweep(const void *owner, void (*fn)(struct vgpu_obj *o))
{
	struct vgpu_obj **found = NULL;
	size_t n = 0;

	pthread_mutex_lock(&reg.lock);
	if (reg.count)
		found = malloc(reg.count * sizeof(*found));
	for (size_t i = 0; found && i < reg.cap; i++)
		if (reg.slot[i] && reg.slot[i]->owner == owner)
			found[n++] = reg.slot[i];
	for (size_t i = 0; i < n; i++)
		remove_at(find(found[i]));
	pthread_mutex_unlock(&reg.lock);
	for (size_t i = 0; i < n; i++)
		fn(found[i]);
	free(found);
}

void vgpu_obj_free(struct vgpu_obj *o)
{
	if (!o)
		return;
	switch (o->type) {
	case VGPU_OBJ_MODULE: {
		struct CUmod_st *m = (struct CUmod_st *)o;
		struct CUfunc_st *f, *next;

		for (f = m->funcs; f; f = next) {
			next = f->next;
			vgpu_obj_unregister(&f->o);
			vgpu_obj_free(&f->o);
		}
		pthread_mutex_destroy(&m->lock);
		break;
	}
	case VGPU_OBJ_KERNEL:
		free(((struct CUkern_st *)o)->name);
		break;
	case VGPU_OBJ_STREAM:
		vgpu_capture_forget_stream((CUstream)o);
		break;
	case VGPU_OBJ_EVENT:
		vgpu_capture_forget_event((CUevent)o);
		break;
	case VGPU_OBJ_FUNC: {
		struct CUfunc_st *f = (struct CUfunc_st *)o;

		free(f->name);
		free(f->params);
		break;
	}
	default:
		break;
	}
	o->type = 0;	/* a stale pointer to it no longer looks alive */
	free(o);
}

CUresult vgpu_obj_arg(const void *p, uint32_t type)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	return vgpu_obj_valid(p, type) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult vgpu_obj_destroy(struct vgpu_obj *o, uint16_t op, const struct CUctx_st *c,
			  uint64_t h)
{
	CUresult rc;

	vgpu_obj_unregister(o);
	rc = vgpu_rpc_ctx_handle(op, c, h);
	vgpu_obj_free(o);
	return rc;
}
