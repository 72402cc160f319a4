// SPDX-License-Identifier: MIT
/*
 * partition.c - the partition table shared by all session processes
 * (partition.h has the rules; docs/SERVER.md the picture).
 *
 * Memory accounting without the lock: a session charges bytes with a
 * compare-and-swap on its partition's `used`, checked against
 * `mem_limit`.  A resize (under the lock) stores the new limit and then
 * reads `used`; a charge swaps `used` and then reads the limit again.  All
 * four accesses are sequentially consistent, so at least one side sees the
 * other: either the charge sees the smaller limit and takes its bytes
 * back, or the resize sees the larger `used` and puts the old limit back.
 * Either way `used` never stays above `mem_limit`.
 */
#include "server/partition.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>

#include "common/log.h"
#include "server/sched.h"

struct part {
	uint32_t id;		/* 0: slot free; atomic: the scheduler reads it without the lock */
	char name[VGPU_PART_NAME_MAX + 1];
	uint32_t gpu;
	uint32_t compute_share;	/* atomic: read by the scheduler without the lock */
	uint32_t priority;
	uint32_t sessions;	/* attached records */
	uint64_t mem_limit;	/* atomic: read by charges without the lock */
	uint64_t used;		/* atomic: bytes charged by its sessions */
	struct vgpu_sched_window busy;	/* GPU time of its kernels (sched.c), lock-free */
};

struct part_gpu {
	char name[VGPU_PART_GPU_NAME_MAX + 1];
	uint64_t total;
};

/*
 * One attached session.  pid 0: free.  charged, wants_until: written by its
 * session only; wants_until (atomic) is read by every other session's launch
 * decisions, and a dead session's stops counting when its record is freed.
 */
struct part_rec {
	int32_t pid;
	uint32_t part;		/* index into parts[] */
	uint64_t charged;
	uint64_t wants_until;	/* CLOCK_MONOTONIC ns: it wants the GPU until then */
};

struct vgpu_part_shm {
	pthread_mutex_t lock;
	uint32_t ngpu;		/* atomic; 0 until a session described the GPUs */
	uint32_t next_id;
	struct part_gpu gpu[VGPU_PART_MAX_GPUS];
	struct part parts[VGPU_PART_MAX];
	uint32_t nrec;
	struct part_rec rec[];
};

int vgpu_part_table_create(struct vgpu_partitions *t, uint32_t max_sessions)
{
	pthread_mutexattr_t ma;
	size_t size;
	void *p;
	int err;

	if (!max_sessions || max_sessions > 1u << 20)
		return -EINVAL;
	size = sizeof(struct vgpu_part_shm) + (size_t)max_sessions * sizeof(struct part_rec);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->shm = p;
	t->size = size;
	t->shm->nrec = max_sessions;
	t->shm->next_id = 1;
	err = pthread_mutexattr_init(&ma);
	if (err)
		goto fail;
	/* shared by the session processes; a holder that dies must not wedge them */
	err = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!err)
		err = pthread_mutex_init(&t->shm->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (err)
		goto fail;
	return 0;
fail:
	munmap(p, size);
	t->shm = NULL;
	t->size = 0;
	return -err;
}

void vgpu_part_table_destroy(struct vgpu_partitions *t)
{
	if (!t->shm)
		return;
	pthread_mutex_destroy(&t->shm->lock);
	munmap(t->shm, t->size);
	t->shm = NULL;
	t->size = 0;
}

/*
 * Every change under the lock is a few stores that leave the table
 * consistent at each step, so a holder that died mid-way (EOWNERDEAD)
 * left nothing to repair: mark the mutex consistent and go on.
 */
static void lock(struct vgpu_part_shm *m)
{
	int err = pthread_mutex_lock(&m->lock);

	if (err == EOWNERDEAD) {
		log_warn("partition table: lock holder died; recovering");
		pthread_mutex_consistent(&m->lock);
	}
}

static void unlock(struct vgpu_part_shm *m)
{
	pthread_mutex_unlock(&m->lock);
}

bool vgpu_part_gpus_known(const struct vgpu_partitions *t)
{
	return __atomic_load_n(&t->shm->ngpu, __ATOMIC_ACQUIRE) != 0;
}

int vgpu_part_set_gpus(struct vgpu_partitions *t, uint32_t n, const char *const *names,
		       const uint64_t *totals)
{
	struct vgpu_part_shm *m = t->shm;

	if (!n || n > VGPU_PART_MAX_GPUS)
		return -EINVAL;
	lock(m);
	if (!m->ngpu) {
		for (uint32_t i = 0; i < n; i++) {
			snprintf(m->gpu[i].name, sizeof(m->gpu[i].name), "%s", names[i]);
			m->gpu[i].total = totals[i];
		}
		__atomic_store_n(&m->ngpu, n, __ATOMIC_RELEASE);
	}
	unlock(m);
	return 0;
}

/* Under the lock: the live partition called name, or NULL. */
static struct part *find(struct vgpu_part_shm *m, const char *name)
{
	for (int i = 0; i < VGPU_PART_MAX; i++)
		if (m->parts[i].id && !strcmp(m->parts[i].name, name))
			return &m->parts[i];
	return NULL;
}

/* Under the lock: what gpu's partitions other than skip grant. */
static void granted(struct vgpu_part_shm *m, uint32_t gpu, const struct part *skip,
		    uint64_t *mem, uint32_t *compute)
{
	*mem = 0;
	*compute = 0;
	for (int i = 0; i < VGPU_PART_MAX; i++) {
		const struct part *p = &m->parts[i];

		if (!p->id || p->gpu != gpu || p == skip)
			continue;
		*mem += __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
		*compute += p->compute_share;
	}
}

/* The limit a request asks for: mem_bytes, else mem_pct of the GPU; 0 if invalid. */
static uint64_t wanted_limit(const struct part_gpu *g, uint64_t mem_bytes, uint32_t mem_pct)
{
	if (mem_bytes)
		return mem_bytes;
	if (!mem_pct || mem_pct > 100)
		return 0;
	return (uint64_t)((unsigned __int128)g->total * mem_pct / 100);
}

CUresult vgpu_part_create(struct vgpu_partitions *t, const char *name, uint32_t gpu,
			  uint64_t mem_bytes, uint32_t mem_pct, uint32_t compute,
			  uint32_t priority, uint32_t *id)
{
	struct vgpu_part_shm *m = t->shm;
	struct part *p = NULL;
	uint64_t limit, mem;
	uint32_t cpu;
	CUresult rc;

	if (!vgpu_partition_name_ok(name) || !compute || compute > 100 ||
	    priority > VGPU_PART_PRIO_MAX || (!mem_bytes && (!mem_pct || mem_pct > 100)))
		return CUDA_ERROR_INVALID_VALUE;
	lock(m);
	rc = CUDA_ERROR_INVALID_DEVICE;
	if (gpu >= m->ngpu)
		goto out;
	rc = CUDA_ERROR_INVALID_VALUE;
	if (find(m, name))
		goto out;
	limit = wanted_limit(&m->gpu[gpu], mem_bytes, mem_pct);
	rc = CUDA_ERROR_OUT_OF_MEMORY;
	if (!limit)	/* a percentage of a GPU too small to give a byte */
		goto out;
	granted(m, gpu, NULL, &mem, &cpu);
	if (mem > m->gpu[gpu].total || limit > m->gpu[gpu].total - mem || compute > 100 - cpu)
		goto out;
	for (int i = 0; i < VGPU_PART_MAX && !p; i++)
		if (!m->parts[i].id)
			p = &m->parts[i];
	if (!p)		/* all 64 in use */
		goto out;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->gpu = gpu;
	p->compute_share = compute;
	p->priority = priority;
	__atomic_store_n(&p->mem_limit, limit, __ATOMIC_SEQ_CST);
	/* last: the slot is live from here (for the scheduler too) */
	__atomic_store_n(&p->id, m->next_id++, __ATOMIC_RELEASE);
	*id = p->id;
	rc = CUDA_SUCCESS;
	log_info("partition %s (id %u): gpu %u, %llu bytes, compute %u%%, priority %u", name,
		 p->id, gpu, (unsigned long long)limit, compute, priority);
out:
	unlock(m);
	return rc;
}

CUresult vgpu_part_resize(struct vgpu_partitions *t, const char *name, uint64_t mem_bytes,
			  uint32_t mem_pct, uint32_t compute)
{
	struct vgpu_part_shm *m = t->shm;
	uint64_t old, limit, mem;
	uint32_t cpu;
	struct part *p;
	CUresult rc;

	if (!vgpu_partition_name_ok(name) || compute > 100 || (!mem_bytes && mem_pct > 100))
		return CUDA_ERROR_INVALID_VALUE;
	lock(m);
	rc = CUDA_ERROR_NOT_FOUND;
	p = find(m, name);
	if (!p)
		goto out;
	old = __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
	limit = mem_bytes || mem_pct ? wanted_limit(&m->gpu[p->gpu], mem_bytes, mem_pct) : old;
	if (!compute)
		compute = p->compute_share;
	rc = CUDA_ERROR_OUT_OF_MEMORY;
	if (!limit)
		goto out;
	granted(m, p->gpu, p, &mem, &cpu);
	if (mem > m->gpu[p->gpu].total || limit > m->gpu[p->gpu].total - mem ||
	    compute > 100 - cpu)
		goto out;
	/* store, then look: see the comment at the top of the file */
	__atomic_store_n(&p->mem_limit, limit, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->used, __ATOMIC_SEQ_CST) > limit) {
		__atomic_store_n(&p->mem_limit, old, __ATOMIC_SEQ_CST);
		rc = CUDA_ERROR_ILLEGAL_STATE;
		goto out;
	}
	/* its sessions' next launches see it (sched.c) */
	__atomic_store_n(&p->compute_share, compute, __ATOMIC_RELAXED);
	rc = CUDA_SUCCESS;
	log_info("partition %s: %llu bytes, compute %u%%", name, (unsigned long long)limit,
		 compute);
out:
	unlock(m);
	return rc;
}

CUresult vgpu_part_delete(struct vgpu_partitions *t, const char *name)
{
	struct vgpu_part_shm *m = t->shm;
	struct part *p;
	CUresult rc;

	if (!vgpu_partition_name_ok(name))
		return CUDA_ERROR_INVALID_VALUE;
	lock(m);
	p = find(m, name);
	rc = !p ? CUDA_ERROR_NOT_FOUND : p->sessions ? CUDA_ERROR_ILLEGAL_STATE : CUDA_SUCCESS;
	if (rc == CUDA_SUCCESS) {
		log_info("partition %s (id %u) deleted", name, p->id);
		__atomic_store_n(&p->id, 0, __ATOMIC_RELEASE);
	}
	unlock(m);
	return rc;
}

static void info_of(const struct part *p, struct vgpu_part_info *out)
{
	out->id = p->id;
	memcpy(out->name, p->name, sizeof(out->name));
	out->gpu = p->gpu;
	out->mem_limit = __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
	out->mem_used = __atomic_load_n(&p->used, __ATOMIC_SEQ_CST);
	out->compute_share = p->compute_share;
	out->priority = p->priority;
	out->sessions = p->sessions;
}

void vgpu_part_snapshot(struct vgpu_partitions *t, struct vgpu_part_snapshot *out)
{
	struct vgpu_part_shm *m = t->shm;

	lock(m);
	out->ngpu = m->ngpu;
	for (uint32_t g = 0; g < m->ngpu; g++) {
		struct vgpu_part_gpu_info *gi = &out->gpu[g];

		memcpy(gi->name, m->gpu[g].name, sizeof(gi->name));
		gi->total_mem = m->gpu[g].total;
		granted(m, g, NULL, &gi->granted_mem, &gi->compute_granted);
	}
	out->npart = 0;
	for (int i = 0; i < VGPU_PART_MAX; i++)
		if (m->parts[i].id)
			info_of(&m->parts[i], &out->part[out->npart++]);
	unlock(m);
}

CUresult vgpu_part_attach(struct vgpu_partitions *t, const char *name, uint32_t gpu, int pid,
			  int *rec, struct vgpu_part_info *info)
{
	struct vgpu_part_shm *m = t->shm;
	struct part *p;
	CUresult rc;

	if (!vgpu_partition_name_ok(name))
		return CUDA_ERROR_INVALID_VALUE;
	lock(m);
	rc = CUDA_ERROR_NOT_FOUND;
	p = find(m, name);
	if (!p)
		goto out;
	rc = CUDA_ERROR_INVALID_DEVICE;
	if (gpu != VGPU_GPU_OF_PARTITION && p->gpu != gpu)
		goto out;
	rc = CUDA_ERROR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < m->nrec; i++) {
		struct part_rec *r = &m->rec[i];

		if (r->pid)
			continue;
		__atomic_store_n(&r->part, (uint32_t)(p - m->parts), __ATOMIC_RELAXED);
		__atomic_store_n(&r->charged, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&r->wants_until, 0, __ATOMIC_RELAXED);
		/* last, released: a lock-free reader that sees the pid sees the rest */
		__atomic_store_n(&r->pid, pid, __ATOMIC_RELEASE);
		p->sessions++;
		*rec = (int)i;
		info_of(p, info);
		rc = CUDA_SUCCESS;
		break;
	}
out:
	unlock(m);
	return rc;
}

/* Under the lock. */
static void detach_locked(struct vgpu_part_shm *m, struct part_rec *r)
{
	struct part *p = &m->parts[r->part];
	uint64_t n = __atomic_exchange_n(&r->charged, 0, __ATOMIC_SEQ_CST);
	uint64_t u = __atomic_load_n(&p->used, __ATOMIC_SEQ_CST);

	/* saturating: see vgpu_part_charge on what a crash can leave */
	while (!__atomic_compare_exchange_n(&p->used, &u, u > n ? u - n : 0, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	if (p->sessions)
		p->sessions--;
	r->pid = 0;
}

void vgpu_part_detach(struct vgpu_partitions *t, int rec)
{
	struct vgpu_part_shm *m = t->shm;

	if (rec < 0 || (uint32_t)rec >= m->nrec)
		return;
	lock(m);
	if (m->rec[rec].pid)
		detach_locked(m, &m->rec[rec]);
	unlock(m);
}

void vgpu_part_reap(struct vgpu_partitions *t, int pid)
{
	struct vgpu_part_shm *m = t->shm;

	if (pid <= 0)
		return;
	lock(m);
	for (uint32_t i = 0; i < m->nrec; i++) {
		struct part_rec *r = &m->rec[i];

		if (r->pid != pid)
			continue;
		log_info("partition %s: giving back %llu bytes of dead process %d",
			 m->parts[r->part].name,
			 (unsigned long long)__atomic_load_n(&r->charged, __ATOMIC_SEQ_CST), pid);
		detach_locked(m, r);
	}
	unlock(m);
}

/*
 * `used` first, then the record: a process killed between the two leaves
 * bytes counted that no record names, so its partition looks fuller than
 * it is (never emptier: the limit holds).  Uncharging goes the other way
 * round for the same reason.
 */
CUresult vgpu_part_charge(struct vgpu_partitions *t, int rec, uint64_t n)
{
	struct vgpu_part_shm *m = t->shm;
	struct part_rec *r = &m->rec[rec];
	struct part *p = &m->parts[r->part];
	uint64_t u, lim;

	for (;;) {
		u = __atomic_load_n(&p->used, __ATOMIC_SEQ_CST);
		lim = __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
		if (n > lim || u > lim - n)
			return CUDA_ERROR_OUT_OF_MEMORY;
		if (!__atomic_compare_exchange_n(&p->used, &u, u + n, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		/* a resize may have lowered the limit meanwhile: look again */
		lim = __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
		if (u + n <= lim)
			break;
		__atomic_sub_fetch(&p->used, n, __ATOMIC_SEQ_CST);
	}
	__atomic_add_fetch(&r->charged, n, __ATOMIC_SEQ_CST);
	return CUDA_SUCCESS;
}

void vgpu_part_uncharge(struct vgpu_partitions *t, int rec, uint64_t n)
{
	struct vgpu_part_shm *m = t->shm;
	struct part_rec *r = &m->rec[rec];
	struct part *p = &m->parts[r->part];
	uint64_t c = __atomic_load_n(&r->charged, __ATOMIC_SEQ_CST);

	if (n > c)
		n = c;
	__atomic_store_n(&r->charged, c - n, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&p->used, n, __ATOMIC_SEQ_CST);
}

uint64_t vgpu_part_charged(const struct vgpu_partitions *t, int rec)
{
	return __atomic_load_n(&t->shm->rec[rec].charged, __ATOMIC_SEQ_CST);
}

void vgpu_part_usage(const struct vgpu_partitions *t, int rec, uint64_t *limit,
		     uint64_t *used)
{
	const struct part *p = &t->shm->parts[t->shm->rec[rec].part];

	*limit = __atomic_load_n(&p->mem_limit, __ATOMIC_SEQ_CST);
	*used = __atomic_load_n(&p->used, __ATOMIC_SEQ_CST);
}

void vgpu_part_gpu_charge(struct vgpu_partitions *t, int rec, uint64_t us, uint64_t now_ns)
{
	struct vgpu_part_shm *m = t->shm;

	vgpu_sched_window_add(&m->parts[m->rec[rec].part].busy, now_ns, us);
}

void vgpu_part_set_demand(struct vgpu_partitions *t, int rec, uint32_t kernels,
			  uint64_t now_ns)
{
	/*
	 * Until a moment from now, renewed at every request and while a launch
	 * waits: a session that stops sending requests (its client gone quiet
	 * with work queued) stops holding the others back.  One with nothing
	 * in flight still counts for a moment: between one kernel's end and
	 * its next launch there is always a gap (the client's turn, a busy
	 * CPU), and the others must not take every such gap for the end of
	 * its work.
	 */
	__atomic_store_n(&t->shm->rec[rec].wants_until,
			 now_ns + (kernels ? VGPU_SCHED_WANT_BUSY_NS : VGPU_SCHED_WANT_GRACE_NS),
			 __ATOMIC_RELAXED);
}

/*
 * Without the lock: partitions come and go meanwhile, so this is a
 * moment's estimate (a slot being created or deleted is seen or not),
 * which is all a launch decision needs.  A slot is reused only after its
 * partition had no sessions, and creating it empties its window.
 */
void vgpu_part_gpu_load(const struct vgpu_partitions *t, int rec, uint64_t now_ns,
			struct vgpu_sched_load *l)
{
	const struct vgpu_part_shm *m = t->shm;
	const struct part *me = &m->parts[m->rec[rec].part];
	bool wants[VGPU_PART_MAX] = { false };

	memset(l, 0, sizeof(*l));
	l->share = __atomic_load_n(&me->compute_share, __ATOMIC_RELAXED);
	/* which other partitions of the GPU have a session that wants it now */
	for (uint32_t i = 0; i < m->nrec; i++) {
		const struct part_rec *r = &m->rec[i];
		uint32_t part;

		/* the pid first (acquire, paired with attach's release), then what it covers */
		if (!__atomic_load_n(&r->pid, __ATOMIC_ACQUIRE))
			continue;
		part = __atomic_load_n(&r->part, __ATOMIC_RELAXED);
		if (part >= VGPU_PART_MAX ||
		    &m->parts[part] == me || m->parts[part].gpu != me->gpu)
			continue;
		if (__atomic_load_n(&r->wants_until, __ATOMIC_RELAXED) > now_ns) {
			wants[part] = true;
			l->contenders++;
		}
	}
	for (int i = 0; i < VGPU_PART_MAX; i++) {
		const struct part *p = &m->parts[i];
		uint32_t share;
		uint64_t us;

		if (!__atomic_load_n(&p->id, __ATOMIC_ACQUIRE) || p->gpu != me->gpu)
			continue;
		us = vgpu_sched_window_sum(&p->busy, now_ns);
		l->total_us += us;
		if (p == me) {
			l->own_us = us;
			continue;
		}
		if (us)
			l->others++;
		share = __atomic_load_n(&p->compute_share, __ATOMIC_RELAXED);
		if (!wants[i] || !share)
			continue;
		/*
		 * the wanting partition furthest behind its share, among those of a
		 * priority up to ours and among those above (set at creation: read
		 * plainly, as the GPU is)
		 */
		if (p->priority > me->priority) {
			if (!l->above_share || us * 100 / share < l->above_us * 100 / l->above_share) {
				l->above_us = us;
				l->above_share = share;
			}
		} else if (!l->behind_share ||
			   us * 100 / share < l->behind_us * 100 / l->behind_share) {
			l->behind_us = us;
			l->behind_share = share;
		}
	}
}

bool vgpu_part_admin_ok(const struct sockaddr *sa, socklen_t len, bool admin_any)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (admin_any)
		return true;
	if (!sa || len < sizeof(sa_family_t))
		return false;
	switch (sa->sa_family) {
	case AF_UNIX:	/* a socketpair or a local socket: same host */
		return true;
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return len >= sizeof(*in) && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;

		if (len < sizeof(*in6))
			return false;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (!memcmp(a, v4mapped, sizeof(v4mapped)) && a[12] == 127);
	}
	}
	return false;
}
