/* SPDX-License-Identifier: MIT */
/*
 * server.h - public interface of libvgpuserver.a: serve one vgpu protocol
 * session (docs/PROTOCOL.md) on a connected stream socket.  vgpu-server
 * calls it in a forked child per connection; tests call it in a thread.
 */
#ifndef VGPU_SERVER_SERVER_H
#define VGPU_SERVER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/proto.h"	/* VGPU_BACKEND_SIM / VGPU_BACKEND_CUDA */

#define VGPU_SIM_DEFAULT_MEM	(1ull << 30)

struct vgpu_partitions;

struct vgpu_server_config {
	int backend;		/* VGPU_BACKEND_SIM or VGPU_BACKEND_CUDA */
	uint64_t sim_mem_bytes;	/* sim device size; 0 = VGPU_SIM_DEFAULT_MEM */
	uint32_t sim_va_slot;	/* the sim's first address slice (sim.h) */
	/*
	 * The shared partition table (server/partition.h), or NULL: the
	 * partition ops then answer CUDA_ERROR_NOT_SUPPORTED.
	 */
	struct vgpu_partitions *parts;
	bool admin_any;		/* partition administration from any peer, not only loopback */
	/*
	 * Partitions' compute shares as SM limits (MPS execution affinity)
	 * where the GPU offers them, instead of time-slicing.
	 */
	bool spatial;
	/*
	 * Tests only: the sim accepts a spatial share as if its GPU could keep
	 * a partition to its SMs (it has none: kernels run as before), so the
	 * scheduling around spatial sessions can be tested without MPS.
	 */
	bool sim_spatial;
};

/*
 * Serve one session on a connected stream socket until it ends (GOODBYE,
 * EOF, malformed frame); frees everything it allocated.  Returns 0 on a
 * clean end (GOODBYE or EOF), -errno otherwise.  Does not close fd.
 * Usable in a thread: no globals besides the optional stats slot below.
 */
int vgpu_session_serve(int fd, const struct vgpu_server_config *cfg, uint32_t session_id);

/* ---- server-wide session totals (SERVER_STATS) ------------------------ */
/*
 * One slot per live session in a MAP_SHARED table the server creates
 * before forking; the child updates its slot, the parent clears it when it
 * reaps the child.  Fields are written/read with relaxed atomics.
 */
struct vgpu_stats_slot {
	int32_t pid;		/* 0 = free */
	uint32_t session;
	uint64_t bytes_allocated;
	uint64_t allocations;
};

struct vgpu_stats_table {
	uint32_t nslots;
	struct vgpu_stats_slot *slots;
};

/* mmap a shared table of n slots; 0 or -errno. */
int vgpu_stats_create(struct vgpu_stats_table *t, uint32_t n);
void vgpu_stats_destroy(struct vgpu_stats_table *t);
/* Claim a free slot for a session (parent, before fork); index or -1 if full. */
int vgpu_stats_claim(struct vgpu_stats_table *t, uint32_t session);
void vgpu_stats_set_pid(struct vgpu_stats_table *t, int slot, int pid);
/* Parent, on reaping pid: free its slot. */
void vgpu_stats_release_pid(struct vgpu_stats_table *t, int pid);
void vgpu_stats_release(struct vgpu_stats_table *t, int slot);
/* Sums over live slots. */
void vgpu_stats_sum(const struct vgpu_stats_table *t, uint32_t *sessions, uint64_t *bytes,
		    uint64_t *allocs);
/*
 * In a session child: publish this process's totals into slot `slot` of t
 * and answer SERVER_STATS from t.  Without it (threads, tests) a session
 * answers SERVER_STATS with its own totals only.
 */
void vgpu_session_attach_stats(struct vgpu_stats_table *t, int slot);

#endif
