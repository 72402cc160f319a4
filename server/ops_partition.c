// SPDX-License-Identifier: MIT
/*
 * ops_partition.c - ops 57-61 (docs/PROTOCOL.md) and a session's side of
 * partition accounting.  The table itself is partition.c; here are the
 * wire formats, who may administer, and how a session's allocations are
 * counted against the partition it attached to.
 *
 * Accounting: each allocation path (MEM_ALLOC, VMM_CREATE, POOL_ALLOC)
 * charges its size before the backend allocates.  After every request the
 * session settles: what it holds now (alloc table MEM + POOL bytes and VMM
 * chunk bytes, the same numbers SERVER_STATS counts) is what stays
 * charged, so a failed allocation and every way memory is freed (MEM_FREE,
 * MEM_FREE_ASYNC, a chunk's last release or unmap, a context or pool
 * destroyed) give bytes back without each path knowing about partitions.
 * A pool's cache (what it keeps beyond its live allocations, raised by its
 * release threshold) is memory the session holds too, so it counts; when
 * an allocation would not fit, the caches are trimmed first, as they are
 * the memory the session can give back without losing anything.
 */
#include "server/session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/partition.h"

static bool attached(const struct session *s)
{
	return s->part_rec >= 0;
}

/* What the session holds that counts against a partition. */
static uint64_t held(struct session *s)
{
	return s->at.mem_bytes + s->vmm_bytes + sess_pools_cached(s, 0);
}

/* Make the charge what the session holds; false if that does not fit the limit. */
static bool settle(struct session *s)
{
	uint64_t charged = vgpu_part_charged(s->cfg->parts, s->part_rec);
	uint64_t now = held(s);

	if (charged > now)
		vgpu_part_uncharge(s->cfg->parts, s->part_rec, charged - now);
	else if (charged < now)
		return vgpu_part_charge(s->cfg->parts, s->part_rec, now - charged) == CUDA_SUCCESS;
	return true;
}

CUresult sess_part_charge_pool(struct session *s, uint64_t n, uint64_t pool)
{
	uint64_t cached;
	CUresult rc;

	if (!attached(s))
		return CUDA_SUCCESS;
	cached = pool ? sess_pools_cached(s, pool) : 0;
	rc = vgpu_part_charge(s->cfg->parts, s->part_rec, n > cached ? n - cached : 0);
	if (rc != CUDA_ERROR_OUT_OF_MEMORY || !sess_pools_trim(s))
		return rc;
	/* the caches are gone: count all n against what is left */
	settle(s);
	return vgpu_part_charge(s->cfg->parts, s->part_rec, n);
}

CUresult sess_part_charge(struct session *s, uint64_t n)
{
	return sess_part_charge_pool(s, n, 0);
}

bool sess_part_fits(struct session *s)
{
	if (!attached(s))
		return true;
	if (settle(s))
		return true;
	return sess_pools_trim(s) && settle(s);
}

void sess_part_settle(struct session *s)
{
	if (attached(s) && !settle(s))
		/* every path charges first; a miss is a bug to see, not to hide */
		log_err("session %u: holds more than its partition allows", s->id);
}

void sess_part_detach(struct session *s)
{
	if (!attached(s))
		return;
	if (s->sched_wait_ns)
		log_info("session %u: launches held back %llu ms for the compute share", s->id,
			 (unsigned long long)(s->sched_wait_ns / 1000000));
	vgpu_part_detach(s->cfg->parts, s->part_rec);
	s->part_rec = -1;
	s->sched_spatial = false;
	s->sched_spatial_timed = false;
}

void sess_part_mem_info(struct session *s, uint64_t *free_b, uint64_t *total)
{
	uint64_t limit, used, room;

	if (!attached(s))
		return;
	vgpu_part_usage(s->cfg->parts, s->part_rec, &limit, &used);
	room = limit > used ? limit - used : 0;
	*total = limit;
	if (*free_b > room)
		*free_b = room;
}

uint64_t sess_part_total(struct session *s, int dev, uint64_t total)
{
	uint64_t limit, used;

	if (!attached(s) || (uint32_t)dev != s->dev_base)
		return total;
	vgpu_part_usage(s->cfg->parts, s->part_rec, &limit, &used);
	return limit;
}

int vgpu_part_learn_gpus(struct vgpu_partitions *t, const struct vgpu_backend_ops *ops,
			 void *be)
{
	struct vgpu_device_info *di = NULL;
	char (*names)[VGPU_PART_GPU_NAME_MAX + 1] = NULL;
	const char *np[VGPU_PART_MAX_GPUS];
	uint64_t totals[VGPU_PART_MAX_GPUS];
	int count = 0, ret = -ENODEV;

	if (ops->device_count(be, &count) || count <= 0)
		return -ENODEV;
	if (count > VGPU_PART_MAX_GPUS)
		count = VGPU_PART_MAX_GPUS;
	di = calloc(1, sizeof(*di));
	names = calloc((size_t)count, sizeof(*names));
	if (!di || !names) {
		ret = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < count; i++) {
		if (ops->device_info(be, i, di)) {
			log_warn("no device info on GPU %d for the partition table", i);
			goto out;
		}
		di->name[sizeof(di->name) - 1] = '\0';
		snprintf(names[i], sizeof(names[i]), "%s", di->name);
		np[i] = names[i];
		totals[i] = di->total_mem;
	}
	ret = vgpu_part_set_gpus(t, (uint32_t)count, np, totals);
out:
	free(names);
	free(di);
	return ret;
}

/*
 * vgpu-server probes the GPUs at start; when that failed (or in tests),
 * the first session to open its backend describes them for everyone.
 */
void sess_part_learn_gpus(struct session *s)
{
	if (s->cfg->parts && !vgpu_part_gpus_known(s->cfg->parts))
		vgpu_part_learn_gpus(s->cfg->parts, s->ops, s->be);
}

/* Administration is for the host itself unless the server says otherwise. */
static CUresult admin_check(struct session *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (!s->cfg->parts)
		return CUDA_ERROR_NOT_SUPPORTED;
	if (getpeername(s->fd, (struct sockaddr *)&ss, &sl))
		sl = 0;
	if (!vgpu_part_admin_ok(sl ? (struct sockaddr *)&ss : NULL, sl, s->cfg->admin_any)) {
		log_warn("session %u: partition administration from a remote peer refused",
			 s->id);
		return CUDA_ERROR_NOT_PERMITTED;
	}
	return CUDA_SUCCESS;
}

/*
 * The bodies are parsed by common/partition_wire.c, as the clients write
 * them: -EPROTO (malformed) closes the session, -EINVAL (a bad name,
 * percentage, share or priority) is CUDA_ERROR_INVALID_VALUE.
 */
static int bad_body(int ret)
{
	return ret == -EPROTO ? -EPROTO : CUDA_ERROR_INVALID_VALUE;
}

/* PARTITION_ATTACH: str name -> u32 id, u32 gpu, u64 mem_limit, u32 compute, u32 priority */
int op_partition_attach(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	char name[VGPU_PARTITION_NAME_MAX + 1];
	struct vgpu_partition_attach_resp resp;
	struct vgpu_part_info pi;
	int ret = vgpu_partition_name_get(r, name);
	CUresult rc;

	if (ret == -EPROTO)
		return ret;
	if (!s->cfg->parts)
		return CUDA_ERROR_NOT_SUPPORTED;
	/* VMM_CREATE needs no context: memory held already would escape the limit */
	if (attached(s) || s->ctx_made || held(s))
		return CUDA_ERROR_ILLEGAL_STATE;
	if (ret)
		return bad_body(ret);
	/*
	 * A partition is a slice of one GPU: a session exposing all cannot be
	 * bound; one that asked for its partition's GPU gets it now.
	 */
	rc = vgpu_part_attach(s->cfg->parts, name, s->gpu_all ? UINT32_MAX :
			      s->gpu_of_part ? VGPU_GPU_OF_PARTITION : s->dev_base,
			      (int)getpid(), &s->part_rec, &pi);
	if (rc == CUDA_ERROR_INVALID_DEVICE && s->gpu_all)
		log_info("session %u: attaching to %s needs a session of one GPU", s->id, name);
	if (rc)
		return rc;
	if (s->gpu_of_part && pi.gpu >= s->backend_gpus) {
		/* a table described by hand (tests) may name a GPU the backend lacks */
		vgpu_part_detach(s->cfg->parts, s->part_rec);
		s->part_rec = -1;
		return CUDA_ERROR_INVALID_DEVICE;
	}
	if (s->gpu_of_part) {
		s->dev_base = pi.gpu;
		s->dev_count = 1;
		s->gpu_of_part = false;
	}
	log_info("session %u: attached to partition %s (GPU %u, %llu bytes, compute %u%%)",
		 s->id, name, pi.gpu, (unsigned long long)pi.mem_limit, pi.compute_share);
	sess_sched_attach(s, pi.compute_share);
	resp = (struct vgpu_partition_attach_resp){
		.id = pi.id, .gpu = pi.gpu, .mem_limit = pi.mem_limit,
		.compute_share = pi.compute_share, .priority = pi.priority,
	};
	vgpu_partition_attach_resp_put(w, &resp);
	return CUDA_SUCCESS;
}

/* rounded, so 35% of an odd size reads back as 35 */
static uint32_t percent(uint64_t part, uint64_t total)
{
	if (!total)
		return 0;
	return (uint32_t)(((unsigned __int128)part * 100 + total / 2) / total);
}

/*
 * PARTITION_LIST: - -> every GPU (free_mem: what no partition was granted)
 * and every partition.
 */
int op_partition_list(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	struct vgpu_part_snapshot *snap;
	struct vgpu_partition_list l = { 0 };
	CUresult rc;

	REQ_DONE(r);
	rc = admin_check(s);
	if (rc)
		return rc;
	snap = malloc(sizeof(*snap));
	l.gpus = calloc(VGPU_PART_MAX_GPUS, sizeof(*l.gpus));
	l.parts = calloc(VGPU_PART_MAX, sizeof(*l.parts));
	rc = CUDA_ERROR_OUT_OF_MEMORY;
	if (!snap || !l.gpus || !l.parts)
		goto out;
	vgpu_part_snapshot(s->cfg->parts, snap);
	l.ngpu = snap->ngpu;
	for (uint32_t g = 0; g < snap->ngpu; g++) {
		const struct vgpu_part_gpu_info *gi = &snap->gpu[g];
		struct vgpu_partition_list_gpu *lg = &l.gpus[g];

		lg->index = g;
		snprintf(lg->name, sizeof(lg->name), "%s", gi->name);
		lg->total_mem = gi->total_mem;
		lg->free_mem = gi->total_mem - gi->granted_mem;
		lg->mem_pct_granted = percent(gi->granted_mem, gi->total_mem);
		lg->compute_pct_granted = gi->compute_granted;
	}
	l.npart = snap->npart;
	for (uint32_t i = 0; i < snap->npart; i++) {
		const struct vgpu_part_info *pi = &snap->part[i];

		l.parts[i] = (struct vgpu_partition_list_entry){
			.id = pi->id, .gpu = pi->gpu, .mem_limit = pi->mem_limit,
			.mem_used = pi->mem_used, .compute_share = pi->compute_share,
			.priority = pi->priority, .sessions = pi->sessions,
		};
		memcpy(l.parts[i].name, pi->name, sizeof(l.parts[i].name));
	}
	vgpu_partition_list_put(w, &l);
	rc = CUDA_SUCCESS;
out:
	vgpu_partition_list_free(&l);
	free(snap);
	return rc;
}

/* PARTITION_CREATE: str name, u32 gpu, u64 mem_bytes, u32 mem_pct, u32 compute, u32 prio -> u32 id */
int op_partition_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	struct vgpu_partition_create_req c;
	int ret = vgpu_partition_create_req_get(r, &c);
	uint32_t id = 0;
	CUresult rc;

	if (ret == -EPROTO)
		return ret;
	rc = admin_check(s);
	if (rc)
		return rc;
	if (ret)
		return bad_body(ret);
	rc = vgpu_part_create(s->cfg->parts, c.name, c.gpu, c.mem_bytes, c.mem_pct,
			      c.compute_share, c.priority, &id);
	if (rc == CUDA_SUCCESS)
		vgpu_put_u32(w, id);
	return rc;
}

/* PARTITION_RESIZE: str name, u64 mem_bytes, u32 mem_pct, u32 compute -> - */
int op_partition_resize(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	struct vgpu_partition_resize_req q;
	int ret = vgpu_partition_resize_req_get(r, &q);
	CUresult rc;

	if (ret == -EPROTO)
		return ret;
	rc = admin_check(s);
	if (rc)
		return rc;
	if (ret)
		return bad_body(ret);
	return vgpu_part_resize(s->cfg->parts, q.name, q.mem_bytes, q.mem_pct, q.compute_share);
}

/* PARTITION_DELETE: str name -> - */
int op_partition_delete(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	char name[VGPU_PARTITION_NAME_MAX + 1];
	int ret = vgpu_partition_name_get(r, name);
	CUresult rc;

	if (ret == -EPROTO)
		return ret;
	rc = admin_check(s);
	if (rc)
		return rc;
	if (ret)
		return bad_body(ret);
	return vgpu_part_delete(s->cfg->parts, name);
}
