// SPDX-License-Identifier: MIT
/*
 * sched.c - the compute scheduler (sched.h has the rules; docs/SERVER.md,
 * "Compute scheduling", what they guarantee).
 *
 * A session attached to a partition has its backend time every kernel
 * launch (the sim: the wall time of the kernel's run, which happens at the
 * call; cuda: events recorded around it on its stream, read back once
 * they completed).  After every request, and before each launch, the
 * session collects what completed since and charges it to its partition's
 * window in the shared table.  Before a launch it asks vgpu_sched_delay
 * and sleeps (nanosleep) for as long as that says, looking again after
 * each sleep: the other partitions' work goes on meanwhile and its own
 * completes, so the answer changes.  Kernels already launched are never
 * held back or preempted; only the next launch waits.
 */
#include "server/sched.h"

#include <errno.h>
#include <time.h>

#include "server/partition.h"
#include "server/session_int.h"

#define TAG_SHIFT	36
#define US_MAX		((1ull << TAG_SHIFT) - 1)
#define TAG_MASK	((1ull << (64 - TAG_SHIFT)) - 1)

uint64_t vgpu_sched_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tag_of(uint64_t epoch)
{
	return epoch & TAG_MASK;
}

void vgpu_sched_window_add(struct vgpu_sched_window *w, uint64_t now_ns, uint64_t us)
{
	uint64_t epoch = now_ns / VGPU_SCHED_BUCKET_NS;
	uint64_t *slot = &w->slot[epoch % VGPU_SCHED_BUCKETS];
	uint64_t old = __atomic_load_n(slot, __ATOMIC_RELAXED), n;

	if (us > US_MAX)
		us = US_MAX;
	do {
		if (old >> TAG_SHIFT == tag_of(epoch))
			n = old + ((old & US_MAX) > US_MAX - us ? US_MAX - (old & US_MAX) : us);
		else	/* the slot still holds an older bucket: this one starts empty */
			n = tag_of(epoch) << TAG_SHIFT | us;
	} while (!__atomic_compare_exchange_n(slot, &old, n, false, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

uint64_t vgpu_sched_window_sum(const struct vgpu_sched_window *w, uint64_t now_ns)
{
	uint64_t epoch = now_ns / VGPU_SCHED_BUCKET_NS, sum = 0;

	for (uint64_t k = 0; k < VGPU_SCHED_BUCKETS && k <= epoch; k++) {
		uint64_t v = __atomic_load_n(&w->slot[(epoch - k) % VGPU_SCHED_BUCKETS],
					     __ATOMIC_RELAXED);

		if (v >> TAG_SHIFT == tag_of(epoch - k))
			sum += v & US_MAX;
	}
	return sum;
}

uint64_t vgpu_sched_window_us(uint64_t now_ns)
{
	return ((VGPU_SCHED_BUCKETS - 1) * VGPU_SCHED_BUCKET_NS +
		now_ns % VGPU_SCHED_BUCKET_NS) / 1000;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * How far this partition is ahead of the one with use and share other_us,
 * other_share, beyond what it may lead by (lead, per 100% of share): the
 * microseconds the other must still use, times our share; 0 when none.
 */
static uint64_t excess(const struct vgpu_sched_load *l, uint64_t other_us, uint32_t other_share,
		       uint64_t lead)
{
	uint64_t mine = l->own_us * other_share;
	uint64_t theirs = other_us * l->share + lead * l->share * other_share / 100;

	return mine > theirs ? mine - theirs : 0;
}

uint64_t vgpu_sched_delay(const struct vgpu_sched_load *l, uint64_t now_ns)
{
	uint64_t over = 0, d;

	if (!l->share || l->share >= 100 || !l->contenders)
		return 0;
	/*
	 * Shares of what the partitions used, not of the window: a GPU shared
	 * by time-slicing is never 100% kernel time (context switches, launch
	 * gaps: 94% on an H100 with two tenants), and shares of the window
	 * gave the small partitions their whole share and the big one what
	 * was left (25% : 75% came out 1 : 2.70 on the H100; a 45% tenant
	 * lost 6% when its neighbour became two).  Compared crosswise, no
	 * division: own / share against the other's use / its share.
	 *
	 * A partition just ahead of one of no higher priority still goes, by
	 * up to about one of its kernels (slack_us, per 100% of share): held
	 * back at the least lead, it sleeps at least VGPU_SCHED_SLEEP_MIN_NS
	 * and relaunches late each time, and two near-equal shares came out
	 * 1 : 1.5 instead of 45 : 55 on the H100 (the GPU slices evenly
	 * between contexts with work).  Ahead of one of a higher priority it
	 * waits at once: that one leads by a kernel.  Never both of two: the
	 * one furthest behind (the higher priority when level) is ahead of
	 * nobody it must wait for.  (Counting the next kernel on each side
	 * made two level partitions wait for each other: the sim stalled.)
	 */
	if (l->behind_share)
		over = excess(l, l->behind_us, l->behind_share, l->slack_us);
	if (l->above_share) {
		/* both in the same unit: what the other must still use, times our share */
		uint64_t a = excess(l, l->above_us, l->above_share, 0);

		over = a > over ? a : over;
	}
	if (!over)
		return 0;
	/*
	 * When may it look again with a chance of another answer?  The one
	 * behind must use over / share / its share us more, at 1 us per us at
	 * best (rounded down to at least the minimum sleep); time also leaves
	 * the window at the next bucket boundary; and the others may stop
	 * wanting the GPU at any moment: never longer than
	 * VGPU_SCHED_SLEEP_MAX_NS.
	 */
	d = over / l->share * 1000;
	d = min_u64(d, VGPU_SCHED_BUCKET_NS - now_ns % VGPU_SCHED_BUCKET_NS);
	d = min_u64(d, VGPU_SCHED_SLEEP_MAX_NS);
	return d < VGPU_SCHED_SLEEP_MIN_NS ? VGPU_SCHED_SLEEP_MIN_NS : d;
}

/* ---- a session's side ---------------------------------------------------- */

/* Attached, and time-sliced (a spatial share needs no scheduling). */
static bool attached(const struct session *s)
{
	return s->part_rec >= 0;
}

static bool scheduled(const struct session *s)
{
	return attached(s) && !s->sched_spatial;
}

/* Its kernels' GPU time is collected: time-sliced, or spatial with a share cut since. */
static bool timed(const struct session *s)
{
	return scheduled(s) || (attached(s) && s->sched_spatial_timed);
}

void sess_sched_attach(struct session *s, uint32_t share)
{
	if (!attached(s))
		return;
	if (s->cfg->spatial && s->ops->compute_limit) {
		CUresult rc = s->ops->compute_limit(s->be, (int)s->dev_base, share);

		s->sched_spatial = rc == CUDA_SUCCESS && share && share < 100;
		if (rc)
			log_info("session %u: no spatial share on this GPU (CUresult %d, MPS not "
				 "running?): time-sliced", s->id, (int)rc);
		if (s->sched_spatial) {
			s->sched_spatial_share = share;
			return;	/* the GPU keeps it to its SMs: nothing to time, for now */
		}
	}
	if (s->ops->kernel_timing)
		s->ops->kernel_timing(s->be, true);
}

/* Timed launches of the session not completed yet (the sim has none: it runs them at the call). */
static uint32_t pending(struct session *s)
{
	return s->ops->kernel_pending ? s->ops->kernel_pending(s->be) : 0;
}

/*
 * Collect, charge, and tell the other partitions how much this session
 * wants the GPU: its kernels in flight, and the launch it holds back
 * (waiting: 1) if any.
 */
static void harvest(struct session *s, uint32_t waiting)
{
	struct vgpu_sched_load l = { 0 };
	uint64_t ns, now = vgpu_sched_now();

	if (!timed(s) || !s->ops->kernel_time)
		return;
	/*
	 * Who else wants the GPU matters to charging only with kernels of ours
	 * to collect, and to nothing after a request that launched none: the
	 * table is not read after every request.
	 */
	if (waiting || pending(s))
		vgpu_part_gpu_load(s->cfg->parts, s->part_rec, now, &l);
	/* side by side (spatial), a kernel's time is its own, however many others run */
	ns = s->ops->kernel_time(s->be, s->sched_spatial ? 0 : l.contenders);
	s->sched_kernel_ns += ns;	/* for the mean a launch takes: the slack */
	vgpu_part_set_demand(s->cfg->parts, s->part_rec, waiting + pending(s), now);
	ns += s->sched_carry_ns;
	/* the table counts microseconds; what is left over waits for the next kernel */
	s->sched_carry_ns = ns % 1000;
	if (ns >= 1000)
		vgpu_part_gpu_charge(s->cfg->parts, s->part_rec, ns / 1000, now);
}

void sess_sched_harvest(struct session *s)
{
	harvest(s, 0);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * A spatial session's SMs were set when it attached, and MPS cannot change
 * them in a live context.  When its partition's share is cut below that
 * while it runs (a resize, a split), it is held to the new share by duty
 * cycle instead: its partition's kernels may keep the GPU busy at most
 * share now / share at attach of the scheduler's window, so what it takes
 * from its SMs over time matches the smaller share.  A share raised above
 * the one at attach reaches the partition's next sessions only.
 */
static void spatial_launch(struct session *s)
{
	struct vgpu_sched_load l;
	uint64_t now = vgpu_sched_now(), start = now, allowed, d;

	for (;;) {
		harvest(s, 1);	/* nothing to collect until the share was first cut */
		vgpu_part_gpu_load(s->cfg->parts, s->part_rec, now, &l);
		if (!l.share || l.share >= s->sched_spatial_share)
			break;
		if (!s->sched_spatial_timed && s->ops->kernel_timing && s->ops->kernel_time) {
			log_info("session %u: share cut to %u%% below its SMs' %u%%: held by "
				 "duty cycle", s->id, l.share, s->sched_spatial_share);
			s->ops->kernel_timing(s->be, true);
			s->sched_spatial_timed = true;
		}
		allowed = vgpu_sched_window_us(now) * l.share / s->sched_spatial_share;
		if (l.own_us <= allowed || now - start >= VGPU_SCHED_WAIT_MAX_NS)
			break;
		/* at full speed it would use the excess again in excess * attach / now */
		d = (l.own_us - allowed) * 1000 * s->sched_spatial_share / l.share;
		sleep_ns(min_u64(d < VGPU_SCHED_SLEEP_MIN_NS ? VGPU_SCHED_SLEEP_MIN_NS : d,
				 VGPU_SCHED_SLEEP_MAX_NS));
		now = vgpu_sched_now();
	}
	s->sched_wait_ns += now - start;
}

void sess_sched_launch(struct session *s)
{
	struct vgpu_sched_load l;
	uint64_t start, now, d, slack;

	if (attached(s) && s->sched_spatial) {
		spatial_launch(s);
		return;
	}
	if (!scheduled(s))
		return;
	/* the launch about to go wants the GPU too, waiting or not (the next harvest ends it) */
	harvest(s, 1);
	/*
	 * The mean of recent kernels (halved every 1024 launches, so old ones
	 * fade; launches still running make it a little low), at most 100 ms:
	 * one long kernel must not buy a lead for many.
	 */
	if (s->sched_launches >= 1024) {
		s->sched_launches /= 2;
		s->sched_kernel_ns /= 2;
	}
	slack = s->sched_launches ? s->sched_kernel_ns / s->sched_launches / 1000 : 0;
	slack = min_u64(slack, VGPU_SCHED_SLACK_MAX_US);
	start = now = vgpu_sched_now();
	for (;;) {
		vgpu_part_gpu_load(s->cfg->parts, s->part_rec, now, &l);
		l.slack_us = slack;
		d = vgpu_sched_delay(&l, now);
		if (!d)
			break;
		/* bounded: the window forgets in half a second, so this is a safety net */
		if (now - start >= VGPU_SCHED_WAIT_MAX_NS) {
			log_debug("session %u: launching after %llu ms of throttling", s->id,
				  (unsigned long long)((now - start) / 1000000));
			break;
		}
		sleep_ns(min_u64(d, VGPU_SCHED_WAIT_MAX_NS - (now - start)));
		/* our own kernels may have finished meanwhile (cuda); still waiting */
		harvest(s, 1);
		now = vgpu_sched_now();
	}
	s->sched_wait_ns += now - start;
	s->sched_launches++;
}
