// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_kunit.c - KUnit tests of the ring layout, the setup checks and the
 * event queue.  Built into vgpu.ko when the kernel has KUnit; they run
 * when the module loads (tests/kunit boots such a kernel in QEMU).
 */
#include <kunit/test.h>
#include <linux/mm.h>

#include "vgpu_internal.h"

/* ---- ring layout -------------------------------------------------------- */

static void vgpu_test_layout_defaults(struct kunit *test)
{
	struct vgpu_ring_info info;

	KUNIT_ASSERT_EQ(test, vgpu_ring_layout(0, 0, &info), 0);
	KUNIT_EXPECT_EQ(test, info.sq_entries, VGPU_SQ_ENTRIES_DEFAULT);
	KUNIT_EXPECT_EQ(test, info.cq_entries, 2 * VGPU_SQ_ENTRIES_DEFAULT);
	KUNIT_EXPECT_EQ(test, info.data_size, VGPU_DATA_SIZE_DEFAULT);
	KUNIT_EXPECT_EQ(test, info.map_size, (u64)info.data_off + info.data_size);
}

/* every region inside the mapping, aligned, and no two overlap */
static void vgpu_check_layout(struct kunit *test, const struct vgpu_ring_info *i)
{
	u64 sq_end = (u64)i->sqes_off + (u64)i->sq_entries * sizeof(struct vgpu_sqe);
	u64 cq_end = (u64)i->cqes_off + (u64)i->cq_entries * sizeof(struct vgpu_cqe);
	u32 idx[] = { i->sq_head_off, i->sq_tail_off, i->cq_head_off, i->cq_tail_off };
	int a, b;

	for (a = 0; a < ARRAY_SIZE(idx); a++) {
		KUNIT_EXPECT_EQ(test, idx[a] % 64, 0U);
		KUNIT_EXPECT_LT(test, (u64)idx[a] + 4, (u64)i->sqes_off + 1);
		for (b = a + 1; b < ARRAY_SIZE(idx); b++)
			KUNIT_EXPECT_NE(test, idx[a], idx[b]);
	}
	KUNIT_EXPECT_EQ(test, i->sqes_off % 32, 0U);
	KUNIT_EXPECT_EQ(test, i->cqes_off % 16, 0U);
	KUNIT_EXPECT_LE(test, sq_end, (u64)i->cqes_off);
	KUNIT_EXPECT_LE(test, cq_end, (u64)i->data_off);
	KUNIT_EXPECT_EQ(test, i->data_off % PAGE_SIZE, 0U);
	KUNIT_EXPECT_EQ(test, i->map_size % PAGE_SIZE, 0ULL);
	KUNIT_EXPECT_EQ(test, (u64)i->data_off + i->data_size, i->map_size);
	KUNIT_EXPECT_EQ(test, i->reserved0, 0U);
	KUNIT_EXPECT_EQ(test, i->reserved1, 0U);
	KUNIT_EXPECT_EQ(test, i->reserved2, 0ULL);
}

static void vgpu_test_layout_sizes(struct kunit *test)
{
	static const u32 entries[] = { 1, 2, 64, 128, 1024, VGPU_SQ_ENTRIES_MAX };
	static const u32 sizes[] = { PAGE_SIZE, PAGE_SIZE + 1, 1 << 20, VGPU_DATA_SIZE_MAX };
	struct vgpu_ring_info info;
	int e, s;

	for (e = 0; e < ARRAY_SIZE(entries); e++)
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			KUNIT_ASSERT_EQ(test, vgpu_ring_layout(entries[e], sizes[s], &info), 0);
			KUNIT_EXPECT_EQ(test, info.sq_entries, entries[e]);
			KUNIT_EXPECT_GE(test, info.data_size, sizes[s]);
			vgpu_check_layout(test, &info);
		}
}

static void vgpu_test_layout_rejects(struct kunit *test)
{
	struct vgpu_ring_info info;

	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(3, 0, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(VGPU_SQ_ENTRIES_MAX * 2, 0, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(0x80000000u, 0, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(64, VGPU_DATA_SIZE_MAX + 1, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(64, 100, &info), -EINVAL);
	KUNIT_EXPECT_EQ(test, vgpu_ring_layout(64, 0xffffffffu, &info), -EINVAL);
}

static void vgpu_test_setup_check(struct kunit *test)
{
	struct vgpu_setup s = { .api_version = VGPU_API_VERSION };

	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), 0);
	s.api_version = VGPU_API_VERSION + 1;
	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), -EPROTO);
	s.api_version = VGPU_API_VERSION;
	s.flags = 1;
	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), -EINVAL);
	s.flags = 0;
	s.reserved0 = 1;
	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), -EINVAL);
	s.reserved0 = 0;
	s.reserved1[3] = 1;
	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), -EINVAL);
	s.reserved1[3] = 0;
	s.ring.map_size = 4096;		/* an output field passed non-zero */
	KUNIT_EXPECT_EQ(test, vgpu_setup_check(&s), -EINVAL);
}

static void vgpu_test_cq_ready_wraps(struct kunit *test)
{
	struct vgpu_ring_info info;
	u32 *ring;

	KUNIT_ASSERT_EQ(test, vgpu_ring_layout(1, PAGE_SIZE, &info), 0);
	ring = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ring);
	ring[info.cq_head_off / 4] = 0xfffffffeu;
	ring[info.cq_tail_off / 4] = 0xfffffffeu;
	KUNIT_EXPECT_EQ(test, vgpu_ring_cq_ready(ring, &info), 0U);
	ring[info.cq_tail_off / 4] = 1;	/* wrapped: 3 entries ready */
	KUNIT_EXPECT_EQ(test, vgpu_ring_cq_ready(ring, &info), 3U);
}

/* ---- event queue -------------------------------------------------------- */

struct vgpu_evq_fixture {
	struct vgpu_evq q;
	struct vgpu_evq_node n[3];
	struct vgpu_fetch f[3];
};

static int vgpu_evq_test_init(struct kunit *test)
{
	struct vgpu_evq_fixture *x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	int i;

	if (!x)
		return -ENOMEM;
	vgpu_evq_init(&x->q);
	vgpu_evq_reopen(&x->q);
	for (i = 0; i < ARRAY_SIZE(x->n); i++) {
		INIT_LIST_HEAD(&x->n[i].node);
		x->n[i].id = 10 + i;
		INIT_LIST_HEAD(&x->f[i].node);
	}
	test->priv = x;
	return 0;
}

static void vgpu_test_evq_coalesce(struct kunit *test)
{
	struct vgpu_evq_fixture *x = test->priv;
	struct vgpu_evq_node *deq;
	bool queued;
	int i, res;

	/* OPEN then a burst of doorbells: queued once, one result */
	KUNIT_EXPECT_NULL(test, vgpu_evq_post(&x->q, &x->n[0], VGPU_EVT_OPEN, &queued));
	KUNIT_EXPECT_TRUE(test, queued);
	for (i = 0; i < 100; i++) {
		KUNIT_EXPECT_NULL(test, vgpu_evq_post(&x->q, &x->n[0], VGPU_EVT_DOORBELL, &queued));
		KUNIT_EXPECT_FALSE(test, queued);
	}
	res = vgpu_evq_fetch(&x->q, &x->f[0], &deq);
	KUNIT_EXPECT_PTR_EQ(test, deq, &x->n[0]);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_EVENTS(res), VGPU_EVT_OPEN | VGPU_EVT_DOORBELL);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_CHAN(res), 10U);
	/* nothing left: the next fetch parks */
	KUNIT_EXPECT_EQ(test, vgpu_evq_fetch(&x->q, &x->f[1], &deq), -EIOCBQUEUED);
	KUNIT_EXPECT_NULL(test, deq);
}

static void vgpu_test_evq_fifo(struct kunit *test)
{
	struct vgpu_evq_fixture *x = test->priv;
	struct vgpu_evq_node *deq;
	bool queued;
	int res;

	vgpu_evq_post(&x->q, &x->n[2], VGPU_EVT_DOORBELL, &queued);
	vgpu_evq_post(&x->q, &x->n[0], VGPU_EVT_DOORBELL, &queued);
	vgpu_evq_post(&x->q, &x->n[1], VGPU_EVT_CLOSE, &queued);
	res = vgpu_evq_fetch(&x->q, &x->f[0], &deq);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_CHAN(res), 12U);
	res = vgpu_evq_fetch(&x->q, &x->f[0], &deq);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_CHAN(res), 10U);
	res = vgpu_evq_fetch(&x->q, &x->f[0], &deq);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_CHAN(res), 11U);
	KUNIT_EXPECT_EQ(test, VGPU_EVT_EVENTS(res), VGPU_EVT_CLOSE);
}

static void vgpu_test_evq_parked(struct kunit *test)
{
	struct vgpu_evq_fixture *x = test->priv;
	struct vgpu_evq_node *deq;
	struct vgpu_fetch *f;
	bool queued;

	/* two fetches park; events go to them in order, no queueing */
	KUNIT_EXPECT_EQ(test, vgpu_evq_fetch(&x->q, &x->f[0], &deq), -EIOCBQUEUED);
	KUNIT_EXPECT_EQ(test, vgpu_evq_fetch(&x->q, &x->f[1], &deq), -EIOCBQUEUED);
	f = vgpu_evq_post(&x->q, &x->n[1], VGPU_EVT_DOORBELL, &queued);
	KUNIT_EXPECT_PTR_EQ(test, f, &x->f[0]);
	KUNIT_EXPECT_FALSE(test, queued);
	KUNIT_EXPECT_EQ(test, f->res, VGPU_EVT(VGPU_EVT_DOORBELL, 11));
	f = vgpu_evq_post(&x->q, &x->n[1], VGPU_EVT_DOORBELL, &queued);
	KUNIT_EXPECT_PTR_EQ(test, f, &x->f[1]);
	/* no fetch left: the third event queues */
	KUNIT_EXPECT_NULL(test, vgpu_evq_post(&x->q, &x->n[1], VGPU_EVT_CLOSE, &queued));
	KUNIT_EXPECT_TRUE(test, queued);
}

static void vgpu_test_evq_shutdown(struct kunit *test)
{
	struct vgpu_evq_fixture *x = test->priv;
	struct vgpu_evq_node *deq;
	LIST_HEAD(fetches);
	LIST_HEAD(nodes);
	bool queued;

	KUNIT_EXPECT_EQ(test, vgpu_evq_fetch(&x->q, &x->f[0], &deq), -EIOCBQUEUED);
	vgpu_evq_shutdown(&x->q, &fetches, &nodes);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&fetches), 1);
	KUNIT_EXPECT_EQ(test, x->f[0].res, -ESHUTDOWN);
	KUNIT_EXPECT_TRUE(test, list_empty(&nodes));

	/* after shutdown nothing queues and fetches fail at once */
	KUNIT_EXPECT_NULL(test, vgpu_evq_post(&x->q, &x->n[0], VGPU_EVT_DOORBELL, &queued));
	KUNIT_EXPECT_FALSE(test, queued);
	KUNIT_EXPECT_EQ(test, vgpu_evq_fetch(&x->q, &x->f[1], &deq), -ESHUTDOWN);

	/* queued nodes are handed back, with their events dropped */
	vgpu_evq_reopen(&x->q);
	vgpu_evq_post(&x->q, &x->n[1], VGPU_EVT_OPEN, &queued);
	KUNIT_EXPECT_TRUE(test, queued);
	INIT_LIST_HEAD(&fetches);
	vgpu_evq_shutdown(&x->q, &fetches, &nodes);
	KUNIT_EXPECT_EQ(test, list_count_nodes(&nodes), 1);
	KUNIT_EXPECT_FALSE(test, x->n[1].queued);
	KUNIT_EXPECT_EQ(test, x->n[1].events, 0U);
}

static struct kunit_case vgpu_ring_cases[] = {
	KUNIT_CASE(vgpu_test_layout_defaults),
	KUNIT_CASE(vgpu_test_layout_sizes),
	KUNIT_CASE(vgpu_test_layout_rejects),
	KUNIT_CASE(vgpu_test_setup_check),
	KUNIT_CASE(vgpu_test_cq_ready_wraps),
	{}
};

static struct kunit_suite vgpu_ring_suite = {
	.name = "vgpu_ring",
	.test_cases = vgpu_ring_cases,
};

static struct kunit_case vgpu_evq_cases[] = {
	KUNIT_CASE(vgpu_test_evq_coalesce),
	KUNIT_CASE(vgpu_test_evq_fifo),
	KUNIT_CASE(vgpu_test_evq_parked),
	KUNIT_CASE(vgpu_test_evq_shutdown),
	{}
};

static struct kunit_suite vgpu_evq_suite = {
	.name = "vgpu_evq",
	.init = vgpu_evq_test_init,
	.test_cases = vgpu_evq_cases,
};

kunit_test_suites(&vgpu_ring_suite, &vgpu_evq_suite);
