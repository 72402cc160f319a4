// SPDX-License-Identifier: MIT
/*
 * partition_wire.c - bodies of the partition ops 57-61 (see partition.h).
 *
 * Names are read into a buffer of the protocol's largest string first, so
 * a 40-byte name is a bad value (-EINVAL: the server answers it) while a
 * 300-byte one is a malformed body (-EPROTO), as for every other str.
 */
#include "common/partition.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STR_CAP		256	/* str: at most 255 bytes unless noted */

/* Bytes of one LIST entry without its string bytes: the least it takes. */
#define GPU_ENTRY_MIN	(4 + 4 + 8 + 8 + 4 + 4)
#define PART_ENTRY_MIN	(4 + 4 + 4 + 8 + 8 + 4 + 4 + 4)

bool vgpu_partition_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > VGPU_PARTITION_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* A partition name in the body: 0, -EPROTO, or -EINVAL (parsing goes on). */
static int get_name(struct vgpu_rbuf *r, char name[VGPU_PARTITION_NAME_MAX + 1])
{
	char s[STR_CAP];

	name[0] = '\0';
	if (!vgpu_get_str(r, s, sizeof(s)))
		return -EPROTO;
	if (!vgpu_partition_name_ok(s))
		return -EINVAL;
	memcpy(name, s, strlen(s) + 1);
	return 0;
}

/* The verdict once every field was read: malformed first, then bad values. */
static int verdict(const struct vgpu_rbuf *r, int ret)
{
	if (!vgpu_rbuf_done(r))
		return -EPROTO;
	return ret;
}

void vgpu_partition_name_put(struct vgpu_wbuf *w, const char *name)
{
	vgpu_put_str(w, name);
}

int vgpu_partition_name_get(struct vgpu_rbuf *r, char name[VGPU_PARTITION_NAME_MAX + 1])
{
	return verdict(r, get_name(r, name));
}

void vgpu_partition_attach_resp_put(struct vgpu_wbuf *w, const struct vgpu_partition_attach_resp *p)
{
	vgpu_put_u32(w, p->id);
	vgpu_put_u32(w, p->gpu);
	vgpu_put_u64(w, p->mem_limit);
	vgpu_put_u32(w, p->compute_share);
	vgpu_put_u32(w, p->priority);
}

int vgpu_partition_attach_resp_get(struct vgpu_rbuf *r, struct vgpu_partition_attach_resp *p)
{
	p->id = vgpu_get_u32(r);
	p->gpu = vgpu_get_u32(r);
	p->mem_limit = vgpu_get_u64(r);
	p->compute_share = vgpu_get_u32(r);
	p->priority = vgpu_get_u32(r);
	return verdict(r, p->compute_share < 1 || p->compute_share > 100 ||
			  p->priority > VGPU_PARTITION_PRIO_MAX || !p->mem_limit ? -EINVAL : 0);
}

void vgpu_partition_create_req_put(struct vgpu_wbuf *w, const struct vgpu_partition_create_req *c)
{
	vgpu_put_str(w, c->name);
	vgpu_put_u32(w, c->gpu);
	vgpu_put_u64(w, c->mem_bytes);
	vgpu_put_u32(w, c->mem_pct);
	vgpu_put_u32(w, c->compute_share);
	vgpu_put_u32(w, c->priority);
}

int vgpu_partition_create_req_check(const struct vgpu_partition_create_req *c)
{
	if (!vgpu_partition_name_ok(c->name) || c->mem_pct > 100 ||
	    (!c->mem_bytes && !c->mem_pct) ||
	    c->compute_share < 1 || c->compute_share > 100 || c->priority > VGPU_PARTITION_PRIO_MAX)
		return -EINVAL;
	return 0;
}

int vgpu_partition_create_req_get(struct vgpu_rbuf *r, struct vgpu_partition_create_req *c)
{
	int ret = get_name(r, c->name);

	c->gpu = vgpu_get_u32(r);
	c->mem_bytes = vgpu_get_u64(r);
	c->mem_pct = vgpu_get_u32(r);
	c->compute_share = vgpu_get_u32(r);
	c->priority = vgpu_get_u32(r);
	if (!ret)
		ret = vgpu_partition_create_req_check(c);
	return verdict(r, ret);
}

void vgpu_partition_resize_req_put(struct vgpu_wbuf *w, const struct vgpu_partition_resize_req *q)
{
	vgpu_put_str(w, q->name);
	vgpu_put_u64(w, q->mem_bytes);
	vgpu_put_u32(w, q->mem_pct);
	vgpu_put_u32(w, q->compute_share);
}

int vgpu_partition_resize_req_check(const struct vgpu_partition_resize_req *q)
{
	if (!vgpu_partition_name_ok(q->name) || q->mem_pct > 100 || q->compute_share > 100)
		return -EINVAL;
	return 0;
}

int vgpu_partition_resize_req_get(struct vgpu_rbuf *r, struct vgpu_partition_resize_req *q)
{
	int ret = get_name(r, q->name);

	q->mem_bytes = vgpu_get_u64(r);
	q->mem_pct = vgpu_get_u32(r);
	q->compute_share = vgpu_get_u32(r);
	if (!ret)
		ret = vgpu_partition_resize_req_check(q);
	return verdict(r, ret);
}

void vgpu_partition_list_put(struct vgpu_wbuf *w, const struct vgpu_partition_list *l)
{
	vgpu_put_u32(w, l->ngpu);
	for (uint32_t i = 0; i < l->ngpu; i++) {
		const struct vgpu_partition_list_gpu *g = &l->gpus[i];

		vgpu_put_u32(w, g->index);
		vgpu_put_str(w, g->name);
		vgpu_put_u64(w, g->total_mem);
		vgpu_put_u64(w, g->free_mem);
		vgpu_put_u32(w, g->mem_pct_granted);
		vgpu_put_u32(w, g->compute_pct_granted);
	}
	vgpu_put_u32(w, l->npart);
	for (uint32_t i = 0; i < l->npart; i++) {
		const struct vgpu_partition_list_entry *p = &l->parts[i];

		vgpu_put_u32(w, p->id);
		vgpu_put_str(w, p->name);
		vgpu_put_u32(w, p->gpu);
		vgpu_put_u64(w, p->mem_limit);
		vgpu_put_u64(w, p->mem_used);
		vgpu_put_u32(w, p->compute_share);
		vgpu_put_u32(w, p->priority);
		vgpu_put_u32(w, p->sessions);
	}
}

void vgpu_partition_list_free(struct vgpu_partition_list *l)
{
	free(l->gpus);
	free(l->parts);
	memset(l, 0, sizeof(*l));
}

/* Is there room left in the body for n entries of at least min bytes each? */
static bool room_for(const struct vgpu_rbuf *r, uint32_t n, size_t min)
{
	return !r->err && (uint64_t)n * min <= r->len - r->off;
}

int vgpu_partition_list_get(struct vgpu_rbuf *r, struct vgpu_partition_list *l)
{
	uint32_t n;
	int bad = 0;

	memset(l, 0, sizeof(*l));
	n = vgpu_get_u32(r);
	if (!room_for(r, n, GPU_ENTRY_MIN))
		return -EPROTO;		/* also keeps calloc below the body's size */
	if (n > VGPU_PARTITION_GPUS_MAX)
		return -EINVAL;
	l->gpus = calloc(n ? n : 1, sizeof(*l->gpus));
	if (!l->gpus)
		return -ENOMEM;
	l->ngpu = n;
	for (uint32_t i = 0; i < n && !r->err; i++) {
		struct vgpu_partition_list_gpu *g = &l->gpus[i];

		g->index = vgpu_get_u32(r);
		vgpu_get_str(r, g->name, sizeof(g->name));
		g->total_mem = vgpu_get_u64(r);
		g->free_mem = vgpu_get_u64(r);
		g->mem_pct_granted = vgpu_get_u32(r);
		g->compute_pct_granted = vgpu_get_u32(r);
		if (g->mem_pct_granted > 100 || g->compute_pct_granted > 100)
			bad = -EINVAL;
	}
	n = vgpu_get_u32(r);
	if (!room_for(r, n, PART_ENTRY_MIN)) {
		vgpu_partition_list_free(l);
		return -EPROTO;
	}
	if (n > VGPU_PARTITIONS_MAX) {
		vgpu_partition_list_free(l);
		return -EINVAL;
	}
	l->parts = calloc(n ? n : 1, sizeof(*l->parts));
	if (!l->parts) {
		vgpu_partition_list_free(l);
		return -ENOMEM;
	}
	l->npart = n;
	for (uint32_t i = 0; i < n && !r->err; i++) {
		struct vgpu_partition_list_entry *p = &l->parts[i];
		int ret;

		p->id = vgpu_get_u32(r);
		ret = get_name(r, p->name);
		if (ret == -EPROTO)
			break;
		if (ret)
			bad = ret;
		p->gpu = vgpu_get_u32(r);
		p->mem_limit = vgpu_get_u64(r);
		p->mem_used = vgpu_get_u64(r);
		p->compute_share = vgpu_get_u32(r);
		p->priority = vgpu_get_u32(r);
		p->sessions = vgpu_get_u32(r);
		if (p->compute_share < 1 || p->compute_share > 100 ||
		    p->priority > VGPU_PARTITION_PRIO_MAX)
			bad = -EINVAL;
	}
	bad = verdict(r, bad);
	if (bad)
		vgpu_partition_list_free(l);
	return bad;
}
