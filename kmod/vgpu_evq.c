// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_evq.c - the daemon's event queue: channels with pending events on
 * one side, parked FETCH commands on the other.
 *
 * A channel is queued at most once however many doorbells it gets: events
 * are bits, so a burst of doorbells costs the daemon one wake-up, and the
 * daemon then drains every SQE the ring holds.  No allocation, no sleeping;
 * reference counting of the channels is the caller's business (the
 * functions say when a reference moves), so KUnit drives this directly.
 */
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/spinlock.h>

#include "vgpu_internal.h"

void vgpu_evq_init(struct vgpu_evq *q)
{
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->chans);
	INIT_LIST_HEAD(&q->fetches);
	q->shutdown = true;	/* until a daemon attaches */
}

/* evq.lock held: take every pending event of @n */
static int vgpu_evq_take(struct vgpu_evq_node *n)
{
	int res = VGPU_EVT(n->events, n->id);

	n->events = 0;
	return res;
}

struct vgpu_fetch *vgpu_evq_post(struct vgpu_evq *q, struct vgpu_evq_node *n, u32 events,
				 bool *queued_now)
{
	struct vgpu_fetch *f = NULL;

	*queued_now = false;
	spin_lock(&q->lock);
	if (q->shutdown)
		goto out_unlock;
	n->events |= events;
	if (n->queued)
		goto out_unlock;	/* already waiting for a fetch */
	f = list_first_entry_or_null(&q->fetches, struct vgpu_fetch, node);
	if (f) {
		list_del_init(&f->node);
		f->res = vgpu_evq_take(n);
	} else {
		list_add_tail(&n->node, &q->chans);
		n->queued = true;
		*queued_now = true;
	}
out_unlock:
	spin_unlock(&q->lock);
	return f;
}

int vgpu_evq_fetch(struct vgpu_evq *q, struct vgpu_fetch *f, struct vgpu_evq_node **dequeued)
{
	struct vgpu_evq_node *n;
	int res;

	*dequeued = NULL;
	spin_lock(&q->lock);
	if (q->shutdown) {
		res = -ESHUTDOWN;
		goto out_unlock;
	}
	n = list_first_entry_or_null(&q->chans, struct vgpu_evq_node, node);
	if (n) {
		list_del_init(&n->node);
		n->queued = false;
		res = vgpu_evq_take(n);
		*dequeued = n;
	} else {
		list_add_tail(&f->node, &q->fetches);
		res = -EIOCBQUEUED;
	}
out_unlock:
	spin_unlock(&q->lock);
	return res;
}

void vgpu_evq_shutdown(struct vgpu_evq *q, struct list_head *fetches, struct list_head *nodes)
{
	struct vgpu_evq_node *n, *tmp;
	struct vgpu_fetch *f;

	spin_lock(&q->lock);
	q->shutdown = true;
	list_for_each_entry(f, &q->fetches, node)
		f->res = -ESHUTDOWN;
	list_splice_tail_init(&q->fetches, fetches);
	list_for_each_entry_safe(n, tmp, &q->chans, node) {
		n->queued = false;
		n->events = 0;
	}
	list_splice_tail_init(&q->chans, nodes);
	spin_unlock(&q->lock);
}

void vgpu_evq_reopen(struct vgpu_evq *q)
{
	spin_lock(&q->lock);
	q->shutdown = false;
	spin_unlock(&q->lock);
}
