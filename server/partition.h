/* SPDX-License-Identifier: MIT */
/*
 * partition.h - the server's partition table (docs/PROTOCOL.md, ops 57-61;
 * docs/SERVER.md says how it is shared and what is enforced).
 *
 * A partition is a named slice of one server GPU: a memory limit, a
 * compute share and a priority.  The table lives in one anonymous
 * MAP_SHARED mapping made by the vgpu-server parent before it forks any
 * session, so every session process sees every change at once.
 *
 * Locking: a process-shared robust mutex in the mapping serialises
 * everything that changes the set of partitions or their limits (create,
 * resize, delete), session binding (attach, detach, reap) and the GPU
 * table.  The bytes a partition's sessions hold (`used`) are counted
 * without the lock, with compare-and-swap against `mem_limit`, so the
 * allocation paths never wait on an administrator.  The GPU time its
 * sessions' kernels used (the compute scheduler's window, sched.h) is
 * charged and read the same way, lock-free.
 *
 * Each attached session owns one record (pid, partition, bytes charged) in
 * the mapping; it alone writes `charged`.  When a session process dies
 * without detaching, the parent, reaping it, gives the record's bytes and
 * its session count back (vgpu_part_reap).
 */
#ifndef VGPU_SERVER_PARTITION_H
#define VGPU_SERVER_PARTITION_H

#include <cuda.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/partition.h"	/* the ops' bodies and the name rule */

#define VGPU_PART_MAX		VGPU_PARTITIONS_MAX	/* partitions per server */
#define VGPU_PART_MAX_GPUS	64	/* GPUs the table describes */
#define VGPU_PART_NAME_MAX	VGPU_PARTITION_NAME_MAX
#define VGPU_PART_GPU_NAME_MAX	(VGPU_PARTITION_GPU_NAME - 1)
#define VGPU_PART_PRIO_MAX	VGPU_PARTITION_PRIO_MAX

struct vgpu_part_shm;

/* A process-local handle on the shared mapping. */
struct vgpu_partitions {
	struct vgpu_part_shm *shm;
	size_t size;
};

/* One partition as LIST and ATTACH report it. */
struct vgpu_part_info {
	uint32_t id;
	char name[VGPU_PART_NAME_MAX + 1];
	uint32_t gpu;
	uint64_t mem_limit;
	uint64_t mem_used;
	uint32_t compute_share;
	uint32_t priority;
	uint32_t sessions;
};

/* One GPU as LIST reports it. */
struct vgpu_part_gpu_info {
	char name[VGPU_PART_GPU_NAME_MAX + 1];
	uint64_t total_mem;
	uint64_t granted_mem;		/* sum of its partitions' limits */
	uint32_t compute_granted;	/* sum of its partitions' shares, percent */
};

/* A consistent copy of the whole table (taken under the lock). */
struct vgpu_part_snapshot {
	uint32_t ngpu;
	struct vgpu_part_gpu_info gpu[VGPU_PART_MAX_GPUS];
	uint32_t npart;
	struct vgpu_part_info part[VGPU_PART_MAX];
};

/*
 * Map a table with room for max_sessions attached sessions (the parent,
 * before any fork); 0 or -errno.  destroy unmaps it.
 */
int vgpu_part_table_create(struct vgpu_partitions *t, uint32_t max_sessions);
void vgpu_part_table_destroy(struct vgpu_partitions *t);

/* Is the GPU table filled in (by vgpu_part_set_gpus)? */
bool vgpu_part_gpus_known(const struct vgpu_partitions *t);
/*
 * Describe the server's GPUs, once: the first caller wins and later calls
 * change nothing (a GPU's name and size do not change while a server runs).
 * The cuda backend cannot be asked in the parent (no CUDA before fork), so
 * the first session that opens its backend does it.  0 or -EINVAL.
 */
int vgpu_part_set_gpus(struct vgpu_partitions *t, uint32_t n, const char *const *names,
		       const uint64_t *totals);

/*
 * Administration.  create: mem_bytes > 0 is the limit, else mem_pct
 * (1-100) of the GPU; compute 1-100; priority 0-7.  resize: 0 keeps a
 * field.  CUresults as docs/PROTOCOL.md lists them; on error nothing
 * changed.
 */
CUresult vgpu_part_create(struct vgpu_partitions *t, const char *name, uint32_t gpu,
			  uint64_t mem_bytes, uint32_t mem_pct, uint32_t compute,
			  uint32_t priority, uint32_t *id);
CUresult vgpu_part_resize(struct vgpu_partitions *t, const char *name, uint64_t mem_bytes,
			  uint32_t mem_pct, uint32_t compute);
CUresult vgpu_part_delete(struct vgpu_partitions *t, const char *name);
void vgpu_part_snapshot(struct vgpu_partitions *t, struct vgpu_part_snapshot *out);

/*
 * Bind a session (process pid) to partition name of GPU gpu; *rec is the
 * session's record for the calls below, *info what ATTACH answers.
 * CUDA_ERROR_NOT_FOUND, CUDA_ERROR_INVALID_DEVICE (another GPU),
 * CUDA_ERROR_OUT_OF_MEMORY (no free record).
 */
CUresult vgpu_part_attach(struct vgpu_partitions *t, const char *name, uint32_t gpu, int pid,
			  int *rec, struct vgpu_part_info *info);
/* Give back the record's bytes and its place in the session count. */
void vgpu_part_detach(struct vgpu_partitions *t, int rec);
/* Parent, on reaping pid: detach every record that process left behind. */
void vgpu_part_reap(struct vgpu_partitions *t, int pid);

/*
 * Count n more bytes for the record's partition: CUDA_ERROR_OUT_OF_MEMORY
 * when that would pass its limit (nothing counted).  Lock-free.
 */
CUresult vgpu_part_charge(struct vgpu_partitions *t, int rec, uint64_t n);
/* Count n bytes as given back (at most what the record holds). */
void vgpu_part_uncharge(struct vgpu_partitions *t, int rec, uint64_t n);
/* Bytes the record holds now. */
uint64_t vgpu_part_charged(const struct vgpu_partitions *t, int rec);
/* The record's partition's limit and the bytes all its sessions use now. */
void vgpu_part_usage(const struct vgpu_partitions *t, int rec, uint64_t *limit,
		     uint64_t *used);

struct vgpu_sched_load;

/*
 * Compute scheduling (sched.h): charge us microseconds of GPU time, ended
 * at now_ns, to the record's partition; and what a launch decision needs
 * to know about the record's partition and its GPU at now_ns.  Lock-free.
 */
void vgpu_part_gpu_charge(struct vgpu_partitions *t, int rec, uint64_t us, uint64_t now_ns);
void vgpu_part_gpu_load(const struct vgpu_partitions *t, int rec, uint64_t now_ns,
			struct vgpu_sched_load *l);
/* At now_ns the record's session has this many kernels in flight or waiting. */
void vgpu_part_set_demand(struct vgpu_partitions *t, int rec, uint32_t kernels,
			  uint64_t now_ns);

struct vgpu_backend_ops;
struct vgpu_server_config;

/*
 * Describe the GPUs of an open backend in the table (vgpu_part_set_gpus);
 * 0 or -errno.  ops_partition.c.
 */
int vgpu_part_learn_gpus(struct vgpu_partitions *t, const struct vgpu_backend_ops *ops,
			 void *be);
/*
 * vgpu-server at start (partition_conf.c, not in libvgpuserver.a): learn
 * the GPUs in a child process that opens the backend (the parent must not
 * initialise CUDA), 0 or -errno; create the partitions of a --partitions
 * file, 0 or -1 after a message naming file:line on stderr.
 */
int vgpu_part_probe(struct vgpu_partitions *t, const struct vgpu_server_config *cfg);
int vgpu_part_load(struct vgpu_partitions *t, const char *path);

/*
 * May a peer at this address administer partitions?  Loopback (127/8,
 * ::1, ::ffff:127/104) and local (AF_UNIX) peers may; others only with
 * admin_any (vgpu-server --admin-any).
 */
bool vgpu_part_admin_ok(const struct sockaddr *sa, socklen_t len, bool admin_any);

#endif
