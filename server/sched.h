/* SPDX-License-Identifier: MIT */
/*
 * sched.h - the compute scheduler: a partition's compute share is
 * enforced by time-slicing its sessions' kernel launches (docs/SERVER.md,
 * "Compute scheduling").
 *
 * Each partition keeps, in the shared partition table, the GPU time its
 * sessions' kernels used over a sliding window of VGPU_SCHED_BUCKETS
 * buckets of VGPU_SCHED_BUCKET_NS each (the current, partial bucket and
 * the full ones before it).  Before a session of a partition launches a
 * kernel, it compares what its partition used in the window with its
 * share of the window; over it, while the GPU is contended, the session
 * sleeps until the share allows (vgpu_sched_delay says how long to sleep
 * before looking again).
 *
 * A bucket is one 64-bit word, so it is charged with a compare-and-swap
 * and read with a load, from any session process, without a lock: the
 * bucket's epoch (its start time / VGPU_SCHED_BUCKET_NS, low 28 bits) in
 * the high bits, the microseconds charged to it in the low 36.  A word
 * whose epoch is not the one its slot stands for now is stale: it counts
 * as 0 and the first charge of the new epoch replaces it.
 */
#ifndef VGPU_SERVER_SCHED_H
#define VGPU_SERVER_SCHED_H

#include <stdint.h>

#define VGPU_SCHED_BUCKET_NS	100000000ull	/* 100 ms */
#define VGPU_SCHED_BUCKETS	5		/* window: 400-500 ms */
/* a single throttled launch never waits longer than this */
#define VGPU_SCHED_WAIT_MAX_NS	(2 * VGPU_SCHED_BUCKETS * VGPU_SCHED_BUCKET_NS)
/*
 * The GPU counts as busy when its partitions used this much of the window:
 * a little under 100, because the time of kernels still running is not
 * charged yet, and an idle gap that is only that uncharged time would let
 * every partition launch alike, the ones over their share included.
 */
#define VGPU_SCHED_BUSY_PCT	90
/* nor looks again sooner than this: no spinning on the table */
#define VGPU_SCHED_SLEEP_MIN_NS	1000000ull	/* 1 ms */

/* One partition's GPU time per bucket; lives in the shared table, zeroed = empty. */
struct vgpu_sched_window {
	uint64_t slot[VGPU_SCHED_BUCKETS];
};

/* What a launch decision needs to know about a partition and its GPU. */
struct vgpu_sched_load {
	uint32_t share;		/* the partition's compute share, percent */
	uint64_t own_us;	/* GPU time its sessions used in the window */
	uint64_t total_us;	/* of all partitions of its GPU, its own included */
	uint32_t others;	/* other partitions of the GPU that used any */
	uint64_t next_us;	/* what the launch asked about will likely take */
};

/* Charge us microseconds of GPU time at now_ns (CLOCK_MONOTONIC).  Lock-free. */
void vgpu_sched_window_add(struct vgpu_sched_window *w, uint64_t now_ns, uint64_t us);
/* Microseconds charged in the window that ends at now_ns. */
uint64_t vgpu_sched_window_sum(const struct vgpu_sched_window *w, uint64_t now_ns);
/* The window's length at now_ns, in microseconds (full buckets + the current part). */
uint64_t vgpu_sched_window_us(uint64_t now_ns);

/*
 * The policy, pure: 0 when a session of the partition l describes may
 * launch at now_ns, else how long (ns) to sleep before asking again.  It
 * waits only when all of these hold: its share is below 100, another
 * partition of its GPU used GPU time in the window, the partition used
 * more than its share of the window (counting half of next_us: see
 * sched.c), and the GPU was busy (the
 * partitions' times add up to at least VGPU_SCHED_BUSY_PCT of the
 * window); so a partition alone, or beside partitions that leave the GPU
 * idle, is not held back (work-conserving, to within that 10%).
 */
uint64_t vgpu_sched_delay(const struct vgpu_sched_load *l, uint64_t now_ns);

/* CLOCK_MONOTONIC in ns. */
uint64_t vgpu_sched_now(void);

#endif
