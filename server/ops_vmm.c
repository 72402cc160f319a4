// SPDX-License-Identifier: MIT
/*
 * ops_vmm.c - virtual memory management (cuMemCreate, cuMemAddressReserve,
 * cuMemMap, cuMemSetAccess, ...).  The bookkeeping is here, common to both
 * backends, so that every rule is checked before a backend sees a call:
 * sizes, addresses and offsets are multiples of the granularity, a mapping
 * lies inside one reservation and inside its chunk, nothing is mapped
 * twice, an unmap or access change covers whole mappings.  The backends
 * only execute (real VMM calls, or the sim's memfd mappings).
 *
 * A chunk (physical allocation) is a session handle while the client holds
 * a reference (cuMemCreate, cuMemRetainAllocationHandle); it is freed when
 * it has neither references nor mappings, as the driver keeps a released
 * chunk alive until it is unmapped.  A mapping becomes addressable (an
 * alloc-table entry, so copies, memsets and launches may name it) only
 * once access is granted, as on the GPU.  Chunks count in the session's
 * bytes_allocated.
 */
#include "server/session_int.h"

#include <stdlib.h>

struct vmm_chunk {
	void *obj;		/* backend chunk */
	uint64_t size;
	int ordinal;		/* backend ordinal */
	uint64_t id;		/* handle while refs > 0, else 0 */
	uint32_t refs;
	uint32_t maps;
};

struct vmm_resv {
	void *obj;		/* backend reservation */
	uint64_t base, size;
};

struct vmm_map {
	uint64_t base, size;
	struct vmm_resv *resv;
	struct vmm_chunk *chunk;
	uint64_t off;
	unsigned int access;	/* CUmemAccess_flags; non-zero: in the alloc table */
	void *host;		/* sim: host view of base */
};

struct sess_vmm {
	struct vmm_resv **resv;
	size_t nresv, cresv;
	struct vmm_map *map;	/* unsorted: sessions hold hundreds, not millions */
	size_t nmap, cmap;
};

static struct sess_vmm *vmm_of(struct session *s)
{
	if (!s->vmm)
		s->vmm = calloc(1, sizeof(*s->vmm));
	return s->vmm;
}

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t nc;
	void *nv;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 16;
	nv = realloc(*v, nc * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* The minimum granularity of a backend ordinal; 0 when the backend has none. */
static uint64_t gran_of(struct session *s, int ordinal)
{
	uint64_t g = 0;

	if (s->ops->vmm_granularity(s->be, ordinal, CU_MEM_ALLOC_GRANULARITY_MINIMUM, &g))
		return 0;
	return g;
}

static bool aligned(uint64_t v, uint64_t g)
{
	return g && v % g == 0;
}

static struct vmm_chunk *chunk_get(struct session *s, uint64_t id)
{
	struct vgpu_handle *e = vgpu_handle_get(&s->h, id, VGPU_H_CHUNK);

	return e ? e->obj : NULL;
}

/* Drop a chunk that has no references and no mappings left. */
static void chunk_put(struct session *s, struct vmm_chunk *c)
{
	if (c->refs || c->maps)
		return;
	s->ops->vmm_release(s->be, c->obj);
	s->vmm_bytes -= c->size;
	s->vmm_count--;
	free(c);
}

/* The mapping containing addr, or NULL. */
static struct vmm_map *map_at(struct sess_vmm *v, uint64_t addr)
{
	for (size_t i = 0; i < v->nmap; i++)
		if (addr - v->map[i].base < v->map[i].size)
			return &v->map[i];
	return NULL;
}

/*
 * Do the mappings cover [addr, addr+size) exactly, each one wholly inside?
 * (what unmapping and access changes need: the driver works on whole
 * mappings).
 */
static bool whole_maps(struct sess_vmm *v, uint64_t addr, uint64_t size)
{
	uint64_t covered = 0;

	if (!size || addr + size < addr)
		return false;
	for (size_t i = 0; i < v->nmap; i++) {
		const struct vmm_map *m = &v->map[i];

		if (m->base >= addr + size || m->base + m->size <= addr)
			continue;
		if (m->base < addr || m->base + m->size > addr + size)
			return false;
		covered += m->size;
	}
	return covered == size;
}

static void map_remove(struct session *s, struct sess_vmm *v, size_t i)
{
	struct vmm_map m = v->map[i];

	if (m.access)
		vgpu_at_remove(&s->at, m.base);
	s->ops->vmm_unmap(s->be, m.resv->obj, m.base, m.size);
	v->map[i] = v->map[--v->nmap];
	m.chunk->maps--;
	chunk_put(s, m.chunk);
}

/* VMM_GRANULARITY: u32 device, u32 option -> u64 bytes */
int op_vmm_granularity(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t dev = vgpu_get_u32(r);
	uint32_t option = vgpu_get_u32(r);
	int ord;
	uint64_t g = 0;
	CUresult rc;

	REQ_DONE(r);
	ord = sess_ordinal(s, dev);
	if (ord < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (option != CU_MEM_ALLOC_GRANULARITY_MINIMUM &&
	    option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)
		return CUDA_ERROR_INVALID_VALUE;
	rc = s->ops->vmm_granularity(s->be, ord, option, &g);
	if (rc == CUDA_SUCCESS)
		vgpu_put_u64(w, g);
	return rc;
}

/* VMM_CREATE: u32 device, u64 size -> u64 handle */
int op_vmm_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t dev = vgpu_get_u32(r);
	uint64_t size = vgpu_get_u64(r);
	struct vmm_chunk *c;
	int ord;
	CUresult rc;

	REQ_DONE(r);
	ord = sess_ordinal(s, dev);
	if (ord < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if (!size || !aligned(size, gran_of(s, ord)))
		return CUDA_ERROR_INVALID_VALUE;
	/* a chunk counts against the partition from creation (settled after the op) */
	rc = sess_part_charge(s, size);
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = s->ops->vmm_create(s->be, ord, size, &c->obj);
	if (rc) {
		free(c);
		return rc;
	}
	c->size = size;
	c->ordinal = ord;
	c->refs = 1;
	c->id = vgpu_handle_new(&s->h, VGPU_H_CHUNK, c, 0);
	if (!c->id) {
		s->ops->vmm_release(s->be, c->obj);
		free(c);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	s->vmm_bytes += size;
	s->vmm_count++;
	vgpu_put_u64(w, c->id);
	return CUDA_SUCCESS;
}

/* VMM_RELEASE: u64 handle.  A mapped chunk lives on until its last unmap. */
int op_vmm_release(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	struct vmm_chunk *c;

	REQ_DONE(r);
	c = chunk_get(s, id);
	if (!c)
		return CUDA_ERROR_INVALID_VALUE;
	if (--c->refs == 0) {
		vgpu_handle_del(&s->h, c->id);
		c->id = 0;
	}
	chunk_put(s, c);
	return CUDA_SUCCESS;
}

/* VMM_RESERVE: u64 size, u64 align, u64 addr -> u64 addr */
int op_vmm_reserve(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t size = vgpu_get_u64(r);
	uint64_t align = vgpu_get_u64(r);
	uint64_t hint = vgpu_get_u64(r);
	struct sess_vmm *v;
	struct vmm_resv *rv;
	uint64_t g;
	CUresult rc;

	REQ_DONE(r);
	g = gran_of(s, sess_ordinal(s, 0));
	if (!size || !aligned(size, g) || (align & (align - 1)) || (hint && !aligned(hint, g)))
		return CUDA_ERROR_INVALID_VALUE;
	v = vmm_of(s);
	rv = calloc(1, sizeof(*rv));
	if (!v || !rv || grow((void **)&v->resv, &v->cresv, v->nresv, sizeof(*v->resv))) {
		free(rv);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	rc = s->ops->vmm_reserve(s->be, size, align, hint, &rv->obj, &rv->base);
	if (rc) {
		free(rv);
		return rc;
	}
	rv->size = size;
	v->resv[v->nresv++] = rv;
	vgpu_put_u64(w, rv->base);
	return CUDA_SUCCESS;
}

/* VMM_FREE_VA: u64 addr, u64 size (exactly a reservation, nothing mapped in it) */
int op_vmm_free_va(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	struct sess_vmm *v = s->vmm;
	struct vmm_resv *rv;
	size_t i;

	REQ_DONE(r);
	for (i = 0; v && i < v->nresv; i++)
		if (v->resv[i]->base == addr && v->resv[i]->size == size)
			break;
	if (!v || i == v->nresv)
		return CUDA_ERROR_INVALID_VALUE;
	rv = v->resv[i];
	for (size_t j = 0; j < v->nmap; j++)
		if (v->map[j].resv == rv)
			return CUDA_ERROR_INVALID_VALUE;	/* unmap first */
	s->ops->vmm_free_va(s->be, rv->obj);
	v->resv[i] = v->resv[--v->nresv];
	free(rv);
	return CUDA_SUCCESS;
}

/* VMM_MAP: u64 addr, u64 size, u64 offset, u64 handle */
int op_vmm_map(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	uint64_t off = vgpu_get_u64(r);
	uint64_t id = vgpu_get_u64(r);
	struct sess_vmm *v = s->vmm;
	struct vmm_chunk *c;
	struct vmm_resv *rv = NULL;
	struct vmm_map *m;
	uint64_t g;
	void *host = NULL;
	CUresult rc;

	REQ_DONE(r);
	c = chunk_get(s, id);
	if (!c)
		return CUDA_ERROR_INVALID_VALUE;
	g = gran_of(s, c->ordinal);
	if (!size || !aligned(size, g) || !aligned(addr, g) || (off && !aligned(off, g)) ||
	    off > c->size || size > c->size - off || addr + size < addr)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; v && i < v->nresv; i++)
		if (addr - v->resv[i]->base < v->resv[i]->size)
			rv = v->resv[i];
	if (!rv || addr + size > rv->base + rv->size)
		return CUDA_ERROR_INVALID_VALUE;	/* not inside one reservation */
	for (size_t i = 0; i < v->nmap; i++)
		if (v->map[i].base < addr + size && addr < v->map[i].base + v->map[i].size)
			return CUDA_ERROR_INVALID_VALUE;	/* already mapped */
	if (grow((void **)&v->map, &v->cmap, v->nmap, sizeof(*v->map)))
		return CUDA_ERROR_OUT_OF_MEMORY;
	rc = s->ops->vmm_map(s->be, rv->obj, addr, size, c->obj, off, &host);
	if (rc)
		return rc;
	m = &v->map[v->nmap++];
	*m = (struct vmm_map){ .base = addr, .size = size, .resv = rv, .chunk = c, .off = off,
			       .host = host };
	c->maps++;
	return CUDA_SUCCESS;
}

/* VMM_UNMAP: u64 addr, u64 size (whole mappings) */
int op_vmm_unmap(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	struct sess_vmm *v = s->vmm;

	REQ_DONE(r);
	if (!v || !whole_maps(v, addr, size))
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < v->nmap;) {
		if (v->map[i].base - addr < size)
			map_remove(s, v, i);	/* moves the last one into i */
		else
			i++;
	}
	return CUDA_SUCCESS;
}

/* VMM_SET_ACCESS: u64 addr, u64 size, u32 device, u32 flags (whole mappings) */
int op_vmm_set_access(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	uint64_t size = vgpu_get_u64(r);
	uint32_t dev = vgpu_get_u32(r);
	uint32_t flags = vgpu_get_u32(r);
	struct sess_vmm *v = s->vmm;
	int ord;
	CUresult rc;

	REQ_DONE(r);
	ord = sess_ordinal(s, dev);
	if (ord < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	if ((flags != CU_MEM_ACCESS_FLAGS_PROT_NONE && flags != CU_MEM_ACCESS_FLAGS_PROT_READ &&
	     flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE) || !v || !whole_maps(v, addr, size))
		return CUDA_ERROR_INVALID_VALUE;
	/* the table first: failing there leaves the device's view unchanged */
	for (size_t i = 0; i < v->nmap; i++) {
		struct vmm_map *m = &v->map[i];

		if (m->base - addr >= size || !flags == !m->access)
			continue;
		if (flags && vgpu_at_insert(&s->at, m->base, m->size, VGPU_ALLOC_VMM, m->chunk,
					    m->host)) {
			for (size_t j = 0; j < i; j++)
				if (v->map[j].base - addr < size && !v->map[j].access)
					vgpu_at_remove(&s->at, v->map[j].base);
			return CUDA_ERROR_OUT_OF_MEMORY;
		}
	}
	rc = s->ops->vmm_set_access(s->be, ord, addr, size, flags);
	for (size_t i = 0; i < v->nmap; i++) {
		struct vmm_map *m = &v->map[i];

		if (m->base - addr >= size || !flags == !m->access)
			continue;
		if (rc == CUDA_SUCCESS ? !flags : !m->access)
			vgpu_at_remove(&s->at, m->base);
	}
	if (rc == CUDA_SUCCESS)
		for (size_t i = 0; i < v->nmap; i++)
			if (v->map[i].base - addr < size)
				v->map[i].access = flags;
	return rc;
}

/* VMM_GET_ACCESS: u64 addr, u32 device -> u32 flags */
int op_vmm_get_access(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	uint32_t dev = vgpu_get_u32(r);
	struct vmm_map *m;

	REQ_DONE(r);
	if (sess_ordinal(s, dev) < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	m = s->vmm ? map_at(s->vmm, addr) : NULL;
	if (!m)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_put_u32(w, m->access);
	return CUDA_SUCCESS;
}

/* VMM_HANDLE_INFO: u64 handle -> u32 device, u64 size */
int op_vmm_handle_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t id = vgpu_get_u64(r);
	struct vmm_chunk *c;

	REQ_DONE(r);
	c = chunk_get(s, id);
	if (!c)
		return CUDA_ERROR_INVALID_VALUE;
	vgpu_put_u32(w, (uint32_t)c->ordinal - s->dev_base);
	vgpu_put_u64(w, c->size);
	return CUDA_SUCCESS;
}

/* VMM_RETAIN: u64 addr -> u64 handle (of the chunk mapped there, one more reference) */
int op_vmm_retain(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint64_t addr = vgpu_get_u64(r);
	struct vmm_map *m;
	struct vmm_chunk *c;

	REQ_DONE(r);
	m = s->vmm ? map_at(s->vmm, addr) : NULL;
	if (!m)
		return CUDA_ERROR_INVALID_VALUE;
	c = m->chunk;
	if (!c->id) {
		/* released while mapped: the handle comes back */
		c->id = vgpu_handle_new(&s->h, VGPU_H_CHUNK, c, 0);
		if (!c->id)
			return CUDA_ERROR_OUT_OF_MEMORY;
	}
	c->refs++;
	vgpu_put_u64(w, c->id);
	return CUDA_SUCCESS;
}

void sess_vmm_cleanup(struct session *s)
{
	struct sess_vmm *v = s->vmm;
	uint32_t pos = 0;
	uint64_t id;

	if (v) {
		while (v->nmap)
			map_remove(s, v, v->nmap - 1);
		for (size_t i = 0; i < v->nresv; i++) {
			s->ops->vmm_free_va(s->be, v->resv[i]->obj);
			free(v->resv[i]);
		}
		free(v->resv);
		free(v->map);
		free(v);
		s->vmm = NULL;
	}
	/* chunks the client still holds; unmapped ones were freed with their last mapping */
	while ((id = vgpu_handle_next(&s->h, &pos, VGPU_H_CHUNK, 0))) {
		struct vmm_chunk *c = chunk_get(s, id);

		vgpu_handle_del(&s->h, id);
		c->refs = 0;
		chunk_put(s, c);
	}
}
