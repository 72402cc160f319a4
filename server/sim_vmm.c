// SPDX-License-Identifier: MIT
/*
 * sim_vmm.c - the sim's virtual memory management and memory pools.
 *
 * VMM: a chunk is a memfd of its size (counted in the sim's used memory);
 * a reservation is a range of the session's VMM half of its address slice
 * plus a PROT_NONE host reservation of the same size; mapping puts the
 * chunk's pages (MAP_SHARED from the memfd, at the offset) at the matching
 * place of the host reservation.  So mappings that are adjacent in the
 * device range are adjacent in host memory too, a copy or a kernel may run
 * across two chunks mapped back to back, and a chunk mapped twice aliases,
 * as on a GPU.  Unmapping puts PROT_NONE pages back.  The session
 * (ops_vmm.c) has already checked every argument.
 *
 * Pools: allocations are ordinary sim allocations (VGPU_ALLOC_POOL); the
 * pool keeps the counters a driver pool reports.  Work is synchronous, so
 * every free is also the synchronisation at which a driver pool gives
 * memory above its release threshold back: reserved = max(used, min(what
 * it held, threshold)).  The held bytes are bookkeeping only; the sim
 * frees host memory at once.
 */
#include "server/sim.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct sim_chunk {
	int fd;
	uint64_t size;
};

struct sim_resv {
	uint64_t base, size;
	char *host;
	struct sim_resv *next;
};

struct sim_pool {
	uint64_t used, reserved, used_high, reserved_high, threshold;
	uint64_t reuse[3];	/* CU_MEMPOOL_ATTR_REUSE_* (1..3), default on */
	uint64_t allocs;
	bool dead;		/* destroyed with allocations out: freed with the last */
	struct sim_pool *next;
};

struct sim_pool_rec {
	uint64_t dptr, size;
	struct sim_pool *pool;
};

static const int rw_anon = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

CUresult sim_vmm_granularity(void *be, int ordinal, unsigned int option, uint64_t *gran)
{
	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	*gran = SIM_VMM_GRAN;
	return CUDA_SUCCESS;
}

CUresult sim_vmm_create(void *be, int ordinal, uint64_t size, void **chunk)
{
	struct sim *s = be;
	struct sim_chunk *c;

	if (s->sticky)
		return s->sticky;
	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (size > s->total - s->used)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	c->fd = memfd_create("vgpu-sim-chunk", MFD_CLOEXEC);
	if (c->fd < 0 || ftruncate(c->fd, (off_t)size)) {
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	c->size = size;
	s->used += size;
	*chunk = c;
	return CUDA_SUCCESS;
}

CUresult sim_vmm_release(void *be, void *chunk)
{
	struct sim *s = be;
	struct sim_chunk *c = chunk;

	close(c->fd);	/* pages still mapped would stay; the session unmaps first */
	s->used -= c->size;
	free(c);
	return CUDA_SUCCESS;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Is [base, base+size) inside the VMM half and SIM_GUARD away from every reservation? */
static bool resv_free(const struct sim *s, uint64_t base, uint64_t size)
{
	if (base < s->vmm_lo || base > s->vmm_hi || size > s->vmm_hi - base)
		return false;
	for (const struct sim_resv *r = s->resv; r; r = r->next)
		if (base < r->base + r->size + SIM_GUARD && r->base < base + size + SIM_GUARD)
			return false;
	return true;
}

CUresult sim_vmm_reserve(void *be, uint64_t size, uint64_t align, uint64_t hint, void **resv,
			 uint64_t *addr)
{
	struct sim *s = be;
	struct sim_resv *r, **pp;
	uint64_t base = 0;

	if (align < SIM_VMM_GRAN)
		align = SIM_VMM_GRAN;
	if (hint && hint % align == 0 && resv_free(s, hint, size)) {
		base = hint;
	} else {
		/* first fit: after the range's start, then after each reservation */
		uint64_t cand = align_up(s->vmm_lo, align);

		if (!resv_free(s, cand, size))
			for (r = s->resv, cand = 0; r; r = r->next) {
				cand = align_up(r->base + r->size + SIM_GUARD, align);
				if (resv_free(s, cand, size))
					break;
				cand = 0;
			}
		base = cand;
	}
	if (!base)
		return CUDA_ERROR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CUDA_ERROR_OUT_OF_MEMORY;
	r->host = mmap(NULL, size, PROT_NONE, rw_anon, -1, 0);
	if (r->host == MAP_FAILED) {
		free(r);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	r->base = base;
	r->size = size;
	for (pp = &s->resv; *pp && (*pp)->base < base; pp = &(*pp)->next)
		;
	r->next = *pp;
	*pp = r;
	*resv = r;
	*addr = base;
	return CUDA_SUCCESS;
}

CUresult sim_vmm_free_va(void *be, void *resv)
{
	struct sim *s = be;
	struct sim_resv *r = resv, **pp;

	for (pp = &s->resv; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	munmap(r->host, r->size);
	free(r);
	return CUDA_SUCCESS;
}

CUresult sim_vmm_map(void *be, void *resv, uint64_t addr, uint64_t size, void *chunk,
		     uint64_t off, void **host)
{
	struct sim_resv *r = resv;
	struct sim_chunk *c = chunk;
	char *at = r->host + (addr - r->base);

	if (mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, c->fd, (off_t)off) ==
	    MAP_FAILED)
		return CUDA_ERROR_OUT_OF_MEMORY;
	*host = at;
	return CUDA_SUCCESS;
}

CUresult sim_vmm_unmap(void *be, void *resv, uint64_t addr, uint64_t size)
{
	struct sim_resv *r = resv;
	char *at = r->host + (addr - r->base);

	/* back to an inaccessible hole: the reservation stays whole */
	if (mmap(at, size, PROT_NONE, rw_anon | MAP_FIXED, -1, 0) == MAP_FAILED)
		return CUDA_ERROR_UNKNOWN;
	return CUDA_SUCCESS;
}

/* The session grants access through its alloc table: nothing to change here. */
CUresult sim_vmm_set_access(void *be, int ordinal, uint64_t addr, uint64_t size,
			    unsigned int flags)
{
	struct sim *s = be;

	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	return s->sticky;
}

/* ---- pools ------------------------------------------------------------- */

static struct sim_pool *pool_new(struct sim *s)
{
	struct sim_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->reuse[0] = p->reuse[1] = p->reuse[2] = 1;
	p->next = s->pools;
	s->pools = p;
	return p;
}

static void pool_free_now(struct sim *s, struct sim_pool *p)
{
	struct sim_pool **pp;

	for (pp = &s->pools; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	free(p);
}

CUresult sim_pool_default(void *be, int ordinal, void **pool)
{
	struct sim *s = be;

	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (!s->dflt_pool)
		s->dflt_pool = pool_new(s);
	*pool = s->dflt_pool;
	return *pool ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult sim_pool_create(void *be, int ordinal, void **pool)
{
	struct sim *s = be;

	if (ordinal != 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (s->sticky)
		return s->sticky;
	*pool = pool_new(s);
	return *pool ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult sim_pool_destroy(void *be, void *pool)
{
	struct sim *s = be;
	struct sim_pool *p = pool;

	if (p->allocs)
		p->dead = true;
	else
		pool_free_now(s, p);
	return CUDA_SUCCESS;
}

/* Give back what is held above max(used, limit). */
static void pool_release(struct sim_pool *p, uint64_t limit)
{
	uint64_t keep = p->used > limit ? p->used : limit;

	if (p->reserved > keep)
		p->reserved = keep;
}

CUresult sim_pool_alloc(void *be, void *ctx, void *pool, uint64_t size, void *stream,
			uint64_t *dptr)
{
	struct sim *s = be;
	struct sim_pool *p = pool;
	CUresult rc;

	if (s->sticky)
		return s->sticky;
	if (s->nprec == s->cprec) {
		size_t nc = s->cprec ? s->cprec * 2 : 32;
		struct sim_pool_rec *nv = realloc(s->prec, nc * sizeof(*nv));

		if (!nv)
			return CUDA_ERROR_OUT_OF_MEMORY;
		s->prec = nv;
		s->cprec = nc;
	}
	rc = sim_alloc(s, size, VGPU_ALLOC_POOL, ctx, dptr);
	if (rc)
		return rc;
	s->prec[s->nprec++] = (struct sim_pool_rec){ *dptr, size, p };
	p->allocs++;
	p->used += size;
	if (p->reserved < p->used)
		p->reserved = p->used;	/* what it held covers the rest */
	if (p->used_high < p->used)
		p->used_high = p->used;
	if (p->reserved_high < p->reserved)
		p->reserved_high = p->reserved;
	return CUDA_SUCCESS;
}

CUresult sim_pool_free(void *be, void *ctx, uint64_t dptr, void *stream)
{
	struct sim *s = be;
	struct sim_pool *p;
	size_t i;

	for (i = 0; i < s->nprec && s->prec[i].dptr != dptr; i++)
		;
	if (i == s->nprec)
		return CUDA_ERROR_INVALID_VALUE;
	p = s->prec[i].pool;
	p->used -= s->prec[i].size;
	p->allocs--;
	s->prec[i] = s->prec[--s->nprec];
	sim_free(s, dptr);
	pool_release(p, p->threshold);
	if (p->dead && !p->allocs)
		pool_free_now(s, p);
	return CUDA_SUCCESS;
}

CUresult sim_pool_set_attr(void *be, void *pool, int attr, uint64_t value)
{
	struct sim_pool *p = pool;

	switch (attr) {
	case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
		p->reuse[attr - CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES] = value;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
		p->threshold = value;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
		p->reserved_high = p->reserved;	/* a reset starts from the current value */
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
		p->used_high = p->used;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

CUresult sim_pool_get_attr(void *be, void *pool, int attr, uint64_t *value)
{
	struct sim_pool *p = pool;

	switch (attr) {
	case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
	case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
		*value = p->reuse[attr - CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES];
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
		*value = p->threshold;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
		*value = p->reserved;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
		*value = p->reserved_high;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_USED_MEM_CURRENT:
		*value = p->used;
		return CUDA_SUCCESS;
	case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
		*value = p->used_high;
		return CUDA_SUCCESS;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
}

CUresult sim_pool_trim(void *be, void *pool, uint64_t keep)
{
	pool_release(pool, keep);
	return CUDA_SUCCESS;
}

void sim_vmm_close(struct sim *s)
{
	for (size_t i = 0; i < s->at->n;) {
		if (s->at->v[i].kind == VGPU_ALLOC_VMM)
			vgpu_at_remove(s->at, s->at->v[i].base);
		else
			i++;
	}
	while (s->resv)
		sim_vmm_free_va(s, s->resv);
	/* pool allocations are in the table, freed with the rest */
	while (s->pools)
		pool_free_now(s, s->pools);
	free(s->prec);
	s->prec = NULL;
	s->nprec = s->cprec = 0;
}
