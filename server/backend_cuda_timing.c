// SPDX-License-Identifier: MIT
/*
 * backend_cuda_timing.c - the GPU time of a session's kernels on the cuda
 * backend, for the compute scheduler (server/sched.c).
 *
 * A launch is bracketed by two events recorded on its stream: the start
 * completes when the stream reaches the kernel, the end when the kernel
 * is done, and cuEventElapsedTime between them is the kernel's time.
 * Launches are asynchronous, so the pairs wait in a ring per context
 * until they complete; every call of kernel_time collects, oldest first,
 * the pairs whose end event has completed (cuEventQuery, which never
 * waits) and stops at the first that has not (work on several streams
 * may complete out of order: a pair behind an unfinished one is collected
 * later, not lost).
 *
 * The ring bounds what a session may have in flight unmeasured: when
 * RING pairs are pending, the next launch first waits, in 1 ms sleeps,
 * for the oldest to complete, at most FULL_WAIT_MS; after that it goes
 * out untimed (a kernel that waits for work the client has not sent yet
 * must not hold the session forever).
 *
 * What the time means: the events measure how long the kernel was in
 * flight on its stream.  When several contexts' kernels share the GPU
 * (time-sliced between processes), that includes the slices the GPU gave
 * to the others, and charging it would bill each partition for its
 * neighbours' time.  So a kernel is charged what its launch shape
 * (function, grid, block, shared bytes) takes uncontended: measured while
 * no other partition of the GPU wants it, the measurement itself (up or
 * down: work may change); while n others do, the smallest seen for the
 * shape, but never less than the measurement / (n + 1), which is what the
 * kernel had if the GPU gave every context an equal slice (so a shape
 * first run with trivial work cannot be charged nothing for heavy work
 * later).  Shapes share a small table; an evicted one starts over.
 *
 * A kernel in flight for longer than LONG_NS (a bucket) is charged as its
 * time passes, from its launch on (the host's clock: an upper bound): a
 * session whose kernel never ends must not look idle to the scheduler
 * and hold the other partitions back.  What was charged so far is taken
 * off its measured time when it completes.
 */
#include "server/cuda_be.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "server/sched.h"

#define RING		128	/* event pairs per context */
#define FULL_WAIT_MS	1000
#define LONG_NS		100000000ull	/* 100 ms: a kernel charged while in flight */

struct cuda_timing {
	struct cuda_timing *next;	/* cuda_be.timings */
	struct cuda_ctx *ctx;
	CUevent start[RING], end[RING];	/* made on first use, kept */
	uint64_t key[RING];		/* each pair's launch shape */
	uint64_t launched[RING];	/* and when it was launched (CLOCK_MONOTONIC ns) */
	uint64_t head_charged;		/* ns of the head pair charged while in flight */
	uint32_t head, tail;		/* pending pairs: [head, tail), mod RING */
	bool warned;
};

uint64_t cuda_launch_key(const void *func, const uint32_t grid[3], const uint32_t block[3],
			 uint32_t shared_bytes)
{
	const uint32_t w[7] = { grid[0], grid[1], grid[2], block[0], block[1], block[2],
				shared_bytes };
	uint64_t k = (uint64_t)(uintptr_t)func * 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 7; i++)	/* FNV-1a style over the words */
		k = (k ^ w[i]) * 0x100000001b3ull;
	return k ? k : 1;
}



/* What a kernel of shape key that took ns is charged (see the top). */
static uint64_t solo_ns(struct cuda_be *b, uint64_t key, uint64_t ns, uint32_t contenders)
{
	size_t n = sizeof(b->solo) / sizeof(b->solo[0]);
	struct cuda_solo *e = &b->solo[key % n];
	uint64_t floor = ns / ((uint64_t)contenders + 1);

	/* new, evicted or measured alone: this measurement is the best there is */
	if (e->key != key || !contenders || ns < e->ns) {
		e->key = key;
		e->ns = ns;
	}
	return e->ns > floor ? e->ns : floor;
}

/* Collect the completed pairs at the head of t's ring; charge a long one in flight. */
static void harvest(struct cuda_be *b, struct cuda_timing *t, uint32_t contenders)
{
	uint64_t age;

	while (t->head != t->tail) {
		uint32_t i = t->head % RING;
		CUresult rc = b->f.EventQuery(t->end[i]);
		uint64_t ns;
		float ms = 0;

		if (rc == CUDA_ERROR_NOT_READY)
			break;
		/* an error (a faulted context) ends the pair uncounted */
		if (rc == CUDA_SUCCESS &&
		    b->f.EventElapsedTime(&ms, t->start[i], t->end[i]) == CUDA_SUCCESS && ms > 0) {
			ns = solo_ns(b, t->key[i], (uint64_t)((double)ms * 1e6), contenders);
			b->timed_ns += ns > t->head_charged ? ns - t->head_charged : 0;
		}
		t->head_charged = 0;
		t->head++;
	}
	if (t->head == t->tail)
		return;
	age = vgpu_sched_now() - t->launched[t->head % RING];
	if (age > LONG_NS && age - LONG_NS > t->head_charged) {
		b->timed_ns += age - LONG_NS - t->head_charged;
		t->head_charged = age - LONG_NS;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A free pair, waiting for the oldest to complete when all RING are in flight. */
static bool room(struct cuda_be *b, struct cuda_timing *t)
{
	harvest(b, t, b->contenders);
	for (int waited = 0; t->tail - t->head == RING && waited < FULL_WAIT_MS; waited++) {
		sleep_ms(1);
		harvest(b, t, b->contenders);
	}
	if (t->tail - t->head < RING)
		return true;
	if (!t->warned)
		log_info("%d kernels in flight for over %d ms: launching untimed", RING,
			 FULL_WAIT_MS);
	t->warned = true;
	return false;
}

int cuda_timing_start(struct cuda_be *b, struct cuda_ctx *c, CUstream stream, uint64_t key)
{
	struct cuda_timing *t = c->timing;
	uint32_t i;

	if (!b->timing)
		return -1;
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return -1;
		t->ctx = c;
		t->next = b->timings;
		b->timings = t;
		c->timing = t;
	}
	if (!room(b, t))
		return -1;
	i = t->tail % RING;
	/* events belong to the context current now: c's (cuda_launch made it so) */
	if (!t->start[i] && b->f.EventCreate(&t->start[i], CU_EVENT_DEFAULT))
		return -1;
	if (!t->end[i] && b->f.EventCreate(&t->end[i], CU_EVENT_DEFAULT))
		return -1;
	if (b->f.EventRecord(t->start[i], stream))
		return -1;
	t->key[i] = key;
	t->launched[i] = vgpu_sched_now();
	return (int)i;
}

void cuda_timing_stop(struct cuda_be *b, struct cuda_ctx *c, CUstream stream, int pair,
		      bool launched)
{
	struct cuda_timing *t = c->timing;

	/* a pair not committed is simply recorded again by the next launch */
	if (pair < 0 || !launched || !t)
		return;
	if (b->f.EventRecord(t->end[pair], stream) == CUDA_SUCCESS)
		t->tail++;
}

void cuda_timing_drop(struct cuda_be *b, struct cuda_ctx *c)
{
	struct cuda_timing *t = c->timing, **pp;

	if (!t)
		return;
	harvest(b, t, b->contenders);
	for (int i = 0; i < RING; i++) {
		if (t->start[i])
			b->f.EventDestroy(t->start[i]);
		if (t->end[i])
			b->f.EventDestroy(t->end[i]);
	}
	for (pp = &b->timings; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t);
	c->timing = NULL;
}

void cuda_timing_fini(struct cuda_be *b)
{
	while (b->timings)
		cuda_timing_drop(b, b->timings->ctx);
}

void cuda_kernel_timing(void *be, bool on)
{
	((struct cuda_be *)be)->timing = on;
}

uint64_t cuda_kernel_time(void *be, uint32_t contenders)
{
	struct cuda_be *b = be;
	uint64_t ns;

	b->contenders = contenders;
	for (struct cuda_timing *t = b->timings; t; t = t->next)
		harvest(b, t, contenders);
	ns = b->timed_ns;
	b->timed_ns = 0;
	return ns;
}

uint32_t cuda_kernel_pending(void *be)
{
	struct cuda_be *b = be;
	uint32_t n = 0;

	for (struct cuda_timing *t = b->timings; t; t = t->next)
		n += t->tail - t->head;
	return n;
}
