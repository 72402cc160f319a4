// SPDX-License-Identifier: MIT
/*
 * stats.c - the server-wide session table behind SERVER_STATS.  It is an
 * anonymous MAP_SHARED mapping made before any fork, so every session
 * child writes its own slot and any child can sum all of them without
 * talking to the parent.  The parent alone frees slots (when it reaps a
 * child), so a session killed by SIGKILL stops counting at once.
 */
#include "server/server.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int vgpu_stats_create(struct vgpu_stats_table *t, uint32_t n)
{
	void *p;

	if (!n)
		return -EINVAL;
	p = mmap(NULL, (size_t)n * sizeof(*t->slots), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->slots = p;
	t->nslots = n;
	return 0;
}

void vgpu_stats_destroy(struct vgpu_stats_table *t)
{
	if (t->slots)
		munmap(t->slots, (size_t)t->nslots * sizeof(*t->slots));
	t->slots = NULL;
	t->nslots = 0;
}

int vgpu_stats_claim(struct vgpu_stats_table *t, uint32_t session)
{
	for (uint32_t i = 0; i < t->nslots; i++) {
		struct vgpu_stats_slot *s = &t->slots[i];

		if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) == 0) {
			__atomic_store_n(&s->bytes_allocated, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&s->allocations, 0, __ATOMIC_RELAXED);
			s->session = session;
			/* -1 marks "claimed, child not yet known" so it is counted already */
			__atomic_store_n(&s->pid, -1, __ATOMIC_RELEASE);
			return (int)i;
		}
	}
	return -1;
}

void vgpu_stats_set_pid(struct vgpu_stats_table *t, int slot, int pid)
{
	if (slot >= 0 && (uint32_t)slot < t->nslots)
		__atomic_store_n(&t->slots[slot].pid, pid, __ATOMIC_RELEASE);
}

void vgpu_stats_release(struct vgpu_stats_table *t, int slot)
{
	if (slot >= 0 && (uint32_t)slot < t->nslots) {
		__atomic_store_n(&t->slots[slot].bytes_allocated, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->slots[slot].allocations, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->slots[slot].pid, 0, __ATOMIC_RELEASE);
	}
}

void vgpu_stats_release_pid(struct vgpu_stats_table *t, int pid)
{
	for (uint32_t i = 0; i < t->nslots; i++)
		if (__atomic_load_n(&t->slots[i].pid, __ATOMIC_ACQUIRE) == pid)
			vgpu_stats_release(t, (int)i);
}

void vgpu_stats_sum(const struct vgpu_stats_table *t, uint32_t *sessions, uint64_t *bytes,
		    uint64_t *allocs)
{
	*sessions = 0;
	*bytes = *allocs = 0;
	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct vgpu_stats_slot *s = &t->slots[i];

		if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) == 0)
			continue;
		(*sessions)++;
		*bytes += __atomic_load_n(&s->bytes_allocated, __ATOMIC_RELAXED);
		*allocs += __atomic_load_n(&s->allocations, __ATOMIC_RELAXED);
	}
}
