// SPDX-License-Identifier: MIT
/*
 * ranges.c - the address ranges this process knows about: device memory
 * it allocated (cuMemAlloc) and pinned host memory (cuMemHostAlloc,
 * cuMemHostRegister).  The driver API has calls that take a bare address
 * and must say what it is (cuPointerGetAttribute, cuMemcpy with unified
 * addressing, cuMemGetAddressRange); this table answers them without a
 * round trip.  A sorted array with binary search; one lock per table.
 */
#include "lib/driver.h"

#include <stdlib.h>
#include <string.h>

struct vgpu_ranges vgpu_dev_ranges = { .lock = PTHREAD_MUTEX_INITIALIZER };
struct vgpu_ranges vgpu_host_ranges = { .lock = PTHREAD_MUTEX_INITIALIZER };
struct vgpu_ranges vgpu_va_ranges = { .lock = PTHREAD_MUTEX_INITIALIZER };
struct vgpu_ranges vgpu_host_views = { .lock = PTHREAD_MUTEX_INITIALIZER };
struct vgpu_ranges vgpu_vmm_handles = { .lock = PTHREAD_MUTEX_INITIALIZER };
static uint64_t buffer_ids;	/* last CU_POINTER_ATTRIBUTE_BUFFER_ID handed out (atomic) */

/* Index of the first range whose base is > addr. */
static size_t upper(const struct vgpu_ranges *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int vgpu_range_add(struct vgpu_ranges *t, const struct vgpu_range *r)
{
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct vgpu_range *nr = realloc(t->r, ncap * sizeof(*nr));

		if (!nr) {
			ret = -1;
			goto out;
		}
		t->r = nr;
		t->cap = ncap;
	}
	i = upper(t, r->base);
	memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(*t->r));
	t->r[i] = *r;
	t->r[i].id = __atomic_add_fetch(&buffer_ids, 1, __ATOMIC_RELAXED);
	t->n++;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

bool vgpu_range_del(struct vgpu_ranges *t, uint64_t base, struct vgpu_range *out)
{
	size_t i;
	bool found = false;

	pthread_mutex_lock(&t->lock);
	i = upper(t, base);
	if (i && t->r[i - 1].base == base) {
		if (out)
			*out = t->r[i - 1];
		memmove(&t->r[i - 1], &t->r[i], (t->n - i) * sizeof(*t->r));
		t->n--;
		found = true;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

bool vgpu_range_find(struct vgpu_ranges *t, uint64_t addr, struct vgpu_range *out)
{
	size_t i;
	bool found = false;

	pthread_mutex_lock(&t->lock);
	i = upper(t, addr);
	if (i && addr - t->r[i - 1].base < t->r[i - 1].size) {
		if (out)
			*out = t->r[i - 1];
		found = true;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

bool vgpu_range_overlaps(struct vgpu_ranges *t, uint64_t base, uint64_t size)
{
	size_t i;
	bool hit;

	pthread_mutex_lock(&t->lock);
	i = upper(t, base);
	/* the range at or below base reaching it, or the next one starting inside */
	hit = (i && base - t->r[i - 1].base < t->r[i - 1].size) ||
	      (i < t->n && t->r[i].base - base < size);
	pthread_mutex_unlock(&t->lock);
	return hit;
}

void vgpu_range_drop_ctx(struct vgpu_ranges *t, const void *ctx)
{
	size_t j = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->n; i++)
		if (t->r[i].ctx != ctx)
			t->r[j++] = t->r[i];
	t->n = j;
	pthread_mutex_unlock(&t->lock);
}
