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
 * kernel, it compares what its partition used in the window, for its
 * share, with the other partitions of the GPU that want it now; ahead of
 * the one furthest behind by more than a kernel, the session sleeps until
 * that one caught up (vgpu_sched_delay says how long to sleep before
 * looking again).
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
/* nor looks again sooner than this: no spinning on the table */
#define VGPU_SCHED_SLEEP_MIN_NS	250000ull	/* 250 us */
/* a session with kernels in flight or waiting wants the GPU this long after its last request */
#define VGPU_SCHED_WANT_BUSY_NS		100000000ull	/* 100 ms */
/* one with none, this long */
#define VGPU_SCHED_WANT_GRACE_NS	20000000ull	/* 20 ms */
/* the lead a partition may take: its mean kernel time, at most this */
#define VGPU_SCHED_SLACK_MAX_US		100000ull	/* 100 ms */
/* nor later: the others may stop wanting the GPU at any moment */
#define VGPU_SCHED_SLEEP_MAX_NS	10000000ull	/* 10 ms */

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
	uint64_t slack_us;	/* how far ahead it may be: about one of its kernels */
	uint32_t contenders;	/* sessions of other partitions of the GPU that have
				 * kernels in flight or waiting to launch now, or had
				 * within VGPU_SCHED_WANT_GRACE_NS */
	/*
	 * Of those partitions with a priority up to this one's, the one that
	 * used least for its share: its use and share (0: none); and the same
	 * of those with a higher priority.
	 */
	uint64_t behind_us;
	uint32_t behind_share;
	uint64_t above_us;
	uint32_t above_share;
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
 * waits only when its share is below 100 and another partition of its GPU
 * that wants the GPU now (kernels in flight or waiting) used less of the
 * window for its share than this one (own_us over share against
 * behind_us over behind_share), by more than slack_us for a full share
 * when that partition's priority is not higher, by anything when it is
 * (above_us over above_share): the higher priority may lead by a kernel.  So a
 * partition alone, or beside partitions that have nothing to run, is never
 * held back (work-conserving), the one furthest behind always goes (no
 * two wait for each other), and partitions that all want the GPU use it
 * in proportion to their shares, whatever part of the time it spends
 * switching between them.
 */
uint64_t vgpu_sched_delay(const struct vgpu_sched_load *l, uint64_t now_ns);

/* CLOCK_MONOTONIC in ns. */
uint64_t vgpu_sched_now(void);

#endif
