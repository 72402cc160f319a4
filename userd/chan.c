// SPDX-License-Identifier: MIT
/*
 * chan.c - one channel's request bookkeeping (see chan.h).
 *
 * State kept per channel:
 *   pending   entries sent to the server, ordered by frame id (an array
 *             used as a queue; answered entries become holes that are
 *             trimmed from the front), found by binary search;
 *   held      completions not yet published because the CQ was full;
 *   tx        framed requests not yet sent (each frame its own buffer, so a
 *             send in flight never sees them move);
 *   rx        the reply being reassembled; its body goes straight to the
 *             entry's resp_off, or is skipped (a handshake reply's goes to
 *             hello_buf).
 *
 * NOREPLY entries get a reply only when they fail, so they cannot be
 * retired by their own reply.  The server answers a session's frames in
 * order, so any reply retires every NOREPLY entry sent before it; and
 * every CHAN_NOREPLY_SYNC-th NOREPLY entry in a row is sent as a normal
 * request whose success reply is swallowed ("quiet"), so unconfirmed
 * entries stay bounded even when the application never synchronises.
 *
 * The handshake (HELLO, PARTITION_ATTACH) is handshake.c's: this file only
 * holds entries back while the attach is unanswered, and hands the headers
 * and bodies of those replies over to it.
 */
#include "userd/chan_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* ---- held-back completions ---------------------------------------------- */

static void post(struct chan *c, uint64_t id, int32_t res, uint32_t len)
{
	if (c->held_count == c->held_cap) {
		uint32_t ncap = c->held_cap ? c->held_cap * 2 : 16;
		struct vgpu_cqe *n = malloc(ncap * sizeof(*n));

		if (!n) {
			log_err("chan %u: out of memory: completion of id %llu lost", c->id,
				(unsigned long long)id);
			return;
		}
		for (uint32_t i = 0; i < c->held_count; i++)
			n[i] = c->held[(c->held_first + i) & (c->held_cap - 1)];
		free(c->held);
		c->held = n;
		c->held_first = 0;
		c->held_cap = ncap;
	}
	c->held[(c->held_first + c->held_count++) & (c->held_cap - 1)] =
		(struct vgpu_cqe){ .id = id, .res = res, .resp_len = len };
}

/* Publish as many held completions as the CQ has room for. */
static void flush_cq(struct chan *c)
{
	struct ring *r = &c->ring;
	uint32_t used, n = 0;

	if (c->closed || !c->held_count)
		return;
	used = c->cq_tail - ring_load(r->cq_head);
	if (used > r->cq_entries) {
		if (!c->cq_bad_logged)
			log_warn("chan %u: cq_head is %u behind cq_tail (CQ has %u): holding completions",
				 c->id, used, r->cq_entries);
		c->cq_bad_logged = true;
		return;
	}
	while (c->held_count && used < r->cq_entries) {
		ring_write_cqe(r, c->cq_tail, &c->held[c->held_first]);
		c->held_first = (c->held_first + 1) & (c->held_cap - 1);
		c->held_count--;
		c->cq_tail++;
		used++;
		n++;
	}
	if (n) {
		ring_store(r->cq_tail, c->cq_tail);
		c->commit = true;
		c->st.cqes += n;
	}
}

/* ---- pending queue ------------------------------------------------------ */

static int pend_push(struct chan *c, const struct pend *p)
{
	if (c->pv_tail == c->pv_cap) {
		if (c->pv_head >= c->pv_cap / 2 && c->pv_head) {
			memmove(c->pv, c->pv + c->pv_head,
				(c->pv_tail - c->pv_head) * sizeof(*c->pv));
			c->pv_tail -= c->pv_head;
			c->pv_head = 0;
		} else {
			size_t ncap = c->pv_cap ? c->pv_cap * 2 : 64;
			struct pend *n = realloc(c->pv, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			c->pv = n;
			c->pv_cap = ncap;
		}
	}
	c->pv[c->pv_tail++] = *p;
	switch (p->kind) {
	case PEND_REPLY: c->n_reply++; break;
	case PEND_NOREPLY: c->n_noreply++; break;
	case PEND_QUIET: c->n_quiet++; break;
	}
	return 0;
}

static struct pend *pend_find(struct chan *c, uint64_t fid)
{
	size_t lo = c->pv_head, hi = c->pv_tail;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->pv[mid].fid < fid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->pv_tail && c->pv[lo].fid == fid && c->pv[lo].kind != PEND_DONE)
		return &c->pv[lo];
	return NULL;
}

/* Make @p a hole (the caller trims). */
static void pend_retire(struct chan *c, struct pend *p)
{
	switch (p->kind) {
	case PEND_REPLY: c->n_reply--; break;
	case PEND_NOREPLY: c->n_noreply--; break;
	case PEND_QUIET: c->n_quiet--; break;
	}
	p->kind = PEND_DONE;
}

static void pend_trim(struct chan *c)
{
	while (c->pv_head < c->pv_tail && c->pv[c->pv_head].kind == PEND_DONE)
		c->pv_head++;
	if (c->pv_head == c->pv_tail)
		c->pv_head = c->pv_tail = 0;
}

/* A reply to @fid arrived: every NOREPLY frame sent before it succeeded. */
static void retire_noreply(struct chan *c, uint64_t fid)
{
	for (size_t i = c->pv_head; c->n_noreply && i < c->pv_tail && c->pv[i].fid < fid; i++)
		if (c->pv[i].kind == PEND_NOREPLY)
			pend_retire(c, &c->pv[i]);
	pend_trim(c);
}

/* ---- transmit ----------------------------------------------------------- */

static void tx_drop_all(struct chan *c)
{
	while (c->tx_head) {
		struct txframe *f = c->tx_head;

		c->tx_head = f->next;
		free(f);
	}
	c->tx_tailp = &c->tx_head;
	c->tx_off = 0;
	c->tx_bytes = 0;
}

void chan_tx_push(struct chan *c, struct txframe *f)
{
	f->next = NULL;
	*c->tx_tailp = f;
	c->tx_tailp = &f->next;
	c->tx_bytes += f->len;
}

int chan_tx_iov(struct chan *c, struct iovec *iov, int max)
{
	size_t off = c->tx_off;
	int n = 0;

	if (c->err || c->closed)
		return 0;
	for (struct txframe *f = c->tx_head; f && n < max; f = f->next, n++) {
		iov[n].iov_base = f->data + off;
		iov[n].iov_len = f->len - off;
		off = 0;
	}
	if (n)
		c->tx_busy = true;
	return n;
}

void chan_tx_done(struct chan *c, size_t sent)
{
	c->tx_busy = false;
	if (c->err || c->closed || sent > c->tx_bytes) {
		tx_drop_all(c);
		return;
	}
	c->tx_bytes -= sent;
	while (sent) {
		struct txframe *f = c->tx_head;
		size_t rem = f->len - c->tx_off;

		if (sent < rem) {
			c->tx_off += sent;
			break;
		}
		sent -= rem;
		c->tx_head = f->next;
		c->tx_off = 0;
		free(f);
	}
	if (!c->tx_head)
		c->tx_tailp = &c->tx_head;
}

/* ---- submission --------------------------------------------------------- */

/* Consumption pauses while completions owed, unsent bytes or unconfirmed
 * NOREPLY entries reach their bound; it resumes on the next process call. */
static bool blocked(const struct chan *c)
{
	/* a failed channel still takes entries: each completes with its error */
	return (c->attaching && !c->err) ||
	       c->n_reply + c->held_count >= c->ring.cq_entries || c->tx_bytes >= CHAN_TX_HIGH ||
	       c->n_noreply + c->n_quiet >= CHAN_NOREPLY_MAX;
}

/* One entry, already copied out of the ring. */
static void take_sqe(struct chan *c, const struct vgpu_sqe *e)
{
	struct vgpu_frame_hdr h = {
		.magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
		.op = e->op, .len = e->req_len,
	};
	struct pend p = {
		.sqe_id = e->id, .op = e->op, .resp_off = e->resp_off, .resp_cap = e->resp_cap,
		.kind = PEND_REPLY,
	};
	const char *why = NULL;
	struct txframe *f;

	if (ring_sqe_check(e, c->ring.data_size, c->features, &why)) {
		log_debug("chan %u: entry id %llu refused: %s", c->id, (unsigned long long)e->id,
			  why);
		c->st.invalid++;
		post(c, e->id, -EINVAL, 0);
		return;
	}
	if (c->err) {
		post(c, e->id, c->err, 0);
		return;
	}
	if (e->flags & VGPU_SQE_F_NOREPLY)
		p.kind = c->noreply_run + 1 >= CHAN_NOREPLY_SYNC ? PEND_QUIET : PEND_NOREPLY;
	f = malloc(sizeof(*f) + HDR_SIZE + e->req_len);
	p.fid = c->next_fid;
	if (!f || pend_push(c, &p)) {
		free(f);
		log_err("chan %u: out of memory for entry id %llu", c->id, (unsigned long long)e->id);
		post(c, e->id, -ENOMEM, 0);
		return;
	}
	c->next_fid++;
	if (p.kind == PEND_NOREPLY) {
		h.flags = VGPU_FRAME_F_NOREPLY;
		c->noreply_run++;
	} else {
		c->noreply_run = 0;
	}
	h.id = p.fid;
	vgpu_hdr_encode(&h, f->data);
	memcpy(f->data + HDR_SIZE, c->ring.data + e->req_off, e->req_len);
	f->len = HDR_SIZE + e->req_len;
	chan_tx_push(c, f);
	c->st.frames_sent++;
}

static void consume(struct chan *c)
{
	struct ring *r = &c->ring;
	uint32_t n = ring_load(r->sq_tail) - c->sq_head;
	uint32_t taken = 0;

	if (n > r->sq_entries) {
		if (!c->sq_bad_logged)
			log_warn("chan %u: sq_tail is %u entries ahead of sq_head (SQ has %u): corrupt ring",
				 c->id, n, r->sq_entries);
		c->sq_bad_logged = true;
		chan_fail(c, -EINVAL);
		return;
	}
	while (taken < n && !blocked(c)) {
		struct vgpu_sqe e;

		ring_read_sqe(r, c->sq_head + taken, &e);
		taken++;
		take_sqe(c, &e);
	}
	if (taken) {
		c->sq_head += taken;
		ring_store(r->sq_head, c->sq_head);
	}
}

void chan_process(struct chan *c)
{
	if (c->closed)
		return;
	flush_cq(c);
	consume(c);
	flush_cq(c);
}

/* ---- receive ------------------------------------------------------------ */

void chan_malformed(struct chan *c, const char *why)
{
	log_warn("chan %u: malformed reply from the server: %s", c->id, why);
	chan_fail(c, chan_ready(c) ? -EPROTO : -ENOTCONN);
}

/* A reply's header is complete: match it to its entry. */
static void on_header(struct chan *c)
{
	struct vgpu_frame_hdr *h = &c->rh;
	const char *why = "bad header";
	struct pend *p;

	if (vgpu_hdr_decode(c->hdr, VGPU_PROTO_MAX_BODY, h, &why))
		return chan_malformed(c, why);
	if (!(h->flags & VGPU_FRAME_F_RESP))
		return chan_malformed(c, "not a response");
	c->body_got = 0;
	if (!c->hello_done)
		return handshake_hello_header(c);
	if (h->op == VGPU_OP_HELLO)
		return chan_malformed(c, "a second HELLO");
	if (c->attaching)
		return handshake_attach_header(c);
	if (h->status > INT32_MAX)
		return chan_malformed(c, "status out of range");
	if (h->status && h->len)
		return chan_malformed(c, "error reply with a body");
	p = pend_find(c, h->id);
	if (!p)
		return chan_malformed(c, "reply to an unknown id");
	if (p->op != h->op)
		return chan_malformed(c, "reply op differs from the request's");
	c->rx = *p;
	pend_retire(c, p);
	retire_noreply(c, h->id);
	c->st.replies++;
	c->rx_res = (int32_t)h->status;
	if (c->rx.kind == PEND_REPLY) {
		c->rx_post = true;
		if (h->len > c->rx.resp_cap) {
			c->rx_res = -EMSGSIZE;
			c->rx_state = RX_SKIP;
		} else {
			c->rx_state = RX_BODY;
		}
	} else {
		c->rx_post = h->status != 0;	/* NOREPLY: a completion only on error */
		c->rx_state = RX_SKIP;
	}
}

static void end_frame(struct chan *c)
{
	if (c->rx_state == RX_HELLO)
		handshake_body_done(c);
	else if (c->rx_post)
		post(c, c->rx.sqe_id, c->rx_res, c->rx_state == RX_BODY ? c->rh.len : 0);
	c->rx_post = false;
	if (!c->err)
		c->rx_state = RX_HDR;
}

int chan_rx(struct chan *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len && !c->err && !c->closed) {
		size_t k;

		if (c->rx_state == RX_HDR) {
			k = HDR_SIZE - c->hdr_got < len ? HDR_SIZE - c->hdr_got : len;
			memcpy(c->hdr + c->hdr_got, p, k);
			c->hdr_got += k;
			p += k;
			len -= k;
			if (c->hdr_got < HDR_SIZE)
				break;
			c->hdr_got = 0;
			on_header(c);
			if (c->err || c->rh.len)
				continue;
		} else {
			k = c->rh.len - c->body_got < len ? c->rh.len - c->body_got : len;
			if (c->rx_state == RX_BODY)
				memcpy(c->ring.data + c->rx.resp_off + c->body_got, p, k);
			else if (c->rx_state == RX_HELLO)
				memcpy(c->hello_buf + c->body_got, p, k);
			c->body_got += k;
			p += k;
			len -= k;
			if (c->body_got < c->rh.len)
				continue;
		}
		end_frame(c);
	}
	flush_cq(c);
	return c->err;
}

/* ---- life cycle --------------------------------------------------------- */

struct chan *chan_new(uint32_t id, void *map, const struct vgpu_ring_info *ri,
		      uint64_t features)
{
	struct chan *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = id;
	c->features = features;
	ring_init(&c->ring, map, ri);
	c->sq_head = ring_load(c->ring.sq_head);
	c->cq_tail = ring_load(c->ring.cq_tail);
	c->next_fid = 1;
	c->tx_tailp = &c->tx_head;
	return c;
}

void chan_fail(struct chan *c, int err)
{
	unsigned int n = chan_inflight(c);

	if (c->closed || c->err)
		return;
	c->err = err;
	log_warn("chan %u: failed (%s); %u entries outstanding", c->id, strerror(-err), n);
	/* a reply half received: its entry is no longer in the queue */
	if ((c->rx_state == RX_BODY || c->rx_state == RX_SKIP) &&
	    (c->rx.kind == PEND_REPLY || c->rx_post))
		post(c, c->rx.sqe_id, err, 0);
	for (size_t i = c->pv_head; i < c->pv_tail; i++)
		if (c->pv[i].kind != PEND_DONE)
			post(c, c->pv[i].sqe_id, err, 0);
	c->pv_head = c->pv_tail = 0;
	c->n_reply = c->n_noreply = c->n_quiet = 0;
	c->rx_state = RX_HDR;
	c->rx_post = false;
	free(c->hello_buf);
	c->hello_buf = NULL;
	if (!c->tx_busy)
		tx_drop_all(c);
	flush_cq(c);
}

void chan_close(struct chan *c)
{
	c->closed = true;
	free(c->pv);
	c->pv = NULL;
	c->pv_head = c->pv_tail = c->pv_cap = 0;
	c->n_reply = c->n_noreply = c->n_quiet = 0;
	free(c->held);
	c->held = NULL;
	c->held_count = c->held_cap = c->held_first = 0;
	free(c->hello_buf);
	c->hello_buf = NULL;
	if (!c->tx_busy)
		tx_drop_all(c);
}

void chan_free(struct chan *c)
{
	if (!c)
		return;
	chan_close(c);
	tx_drop_all(c);
	free(c);
}

/* ---- queries ------------------------------------------------------------ */

int chan_error(const struct chan *c)
{
	return c->err;
}

bool chan_take_commit(struct chan *c)
{
	bool v = c->commit;

	c->commit = false;
	return v;
}

bool chan_wants_retry(const struct chan *c)
{
	return !c->closed && c->held_count;
}

unsigned int chan_inflight(const struct chan *c)
{
	return c->n_reply + c->n_noreply + c->n_quiet;
}

uint32_t chan_id(const struct chan *c)
{
	return c->id;
}

const struct chan_stats *chan_stats(const struct chan *c)
{
	return &c->st;
}
