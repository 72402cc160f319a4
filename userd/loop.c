// SPDX-License-Identifier: MIT
/*
 * loop.c - vgpud's io_uring event loop (see loop.h).
 *
 * Every SQE's user_data names the operation and, for a channel's own
 * CONNECT, SEND and RECV, the channel's struct lchan (loop_int.h), which
 * lives until its last operation has completed: a closed channel whose
 * operations are still in flight is a "zombie", freed after the batch in
 * which its count drops to zero.  Those three operations themselves, the
 * server connection's side, are loop_conn.c's.
 *
 * One round: wait for completions, handle them all (kernel events in the
 * order they came; a channel's OPEN, DOORBELL and CLOSE in that order),
 * then for each channel touched: drop its connection if it failed, or
 * queue its next send and recv; COMMIT if it published completions.
 */
#include "userd/loop_int.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "userd/ctrl.h"
#include "userd/devcfg.h"

#define LOOP_SQ_ENTRIES	256
#define RETRY_NS	(2 * 1000 * 1000)	/* CQ-full retry period */
#define DRAIN_MS	1000			/* at exit, wait this long for sockets */

/* ---- channel table ------------------------------------------------------ */

static struct lchan **hash_slot(struct loop *l, uint32_t id)
{
	return &l->hash[(id * 2654435761u) >> 24 & (LOOP_HASH - 1)];
}

static struct lchan *find(struct loop *l, uint32_t id)
{
	struct lchan *lc = *hash_slot(l, id);

	while (lc && lc->id != id)
		lc = lc->hnext;
	return lc;
}

static void hash_remove(struct loop *l, struct lchan *lc)
{
	struct lchan **pp = hash_slot(l, lc->id);

	while (*pp && *pp != lc)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = lc->hnext;
}

static void mark_dirty(struct loop *l, struct lchan *lc)
{
	if (lc->dirty)
		return;
	lc->dirty = true;
	lc->dnext = l->dirty;
	l->dirty = lc;
}

/* ---- kernel commands ---------------------------------------------------- */

static void arm_fetch(struct loop *l)
{
	struct io_uring_sqe *sqe = uring_sqe(&l->ring);

	if (!sqe) {
		l->stop = true;
		l->exit_code = 1;
		return;
	}
	ctrl_prep_cmd(sqe, l->ctrl_fd, VGPU_URING_CMD_FETCH, 0);
	io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_FETCH));
}

static void commit(struct loop *l, uint32_t id)
{
	struct io_uring_sqe *sqe;

	l->st.commits++;
	if (l->ctrl_fd < 0)
		return;
	sqe = uring_sqe(&l->ring);
	if (!sqe)
		return;		/* the application's next wait or poll sees the CQEs anyway */
	ctrl_prep_cmd(sqe, l->ctrl_fd, VGPU_URING_CMD_COMMIT, id);
	io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_COMMIT));
}

/* ---- channel life cycle ------------------------------------------------- */

int loop_chan_add(struct loop *l, uint32_t id, uint32_t dev, int pid, void *map,
		  const struct vgpu_ring_info *ri, uint64_t features, bool own_map)
{
	const struct vgpud_dev *d = dev < VGPU_MAX_DEVICES && l->cfg->dev[dev].present ?
				    &l->cfg->dev[dev] : NULL;
	struct vgpu_hello_req hello;
	const char *why = NULL;
	struct lchan *lc;
	void *mem = NULL;
	int ret;

	if (find(l, id)) {
		log_warn("chan %u: opened again; dropping the old one", id);
		loop_handle_event(l, VGPU_EVT(VGPU_EVT_CLOSE, id));
	}
	if (posix_memalign(&mem, 16, sizeof(*lc)))
		mem = NULL;
	lc = mem;
	if (lc) {
		memset(lc, 0, offsetof(struct lchan, conn));
		lc->chan = chan_new(id, map, ri, features);
	}
	if (!lc || !lc->chan) {
		log_err("chan %u: out of memory", id);
		free(lc);
		if (own_map)
			munmap(map, ri->map_size);
		return -ENOMEM;
	}
	conn_init(&lc->conn);
	lc->id = id;
	lc->dev = dev;
	lc->map = map;
	lc->map_len = ri->map_size;
	lc->own_map = own_map;
	snprintf(lc->server, sizeof(lc->server), "%s", d ? d->server : "(none)");
	lc->hnext = *hash_slot(l, id);
	*hash_slot(l, id) = lc;
	lc->next = l->all;
	l->all = lc;
	l->st.channels++;
	mark_dirty(l, lc);

	if (!d) {
		log_warn("chan %u: /dev/vgpu%u (pid %d) has no server in the configuration", id,
			 dev, pid);
		chan_fail(lc->chan, -ENOTCONN);
		return 0;
	}
	log_info("chan %u: /dev/vgpu%u pid %d -> %s gpu %d%s%s", id, dev, pid, d->server,
		 (int)d->gpu, d->partition[0] ? " partition " : "", d->partition);
	chan_hello_req(&hello, l->host, dev, pid, d->gpu);
	if (chan_start(lc->chan, &hello) ||
	    (d->partition[0] && chan_attach(lc->chan, d->partition))) {
		chan_fail(lc->chan, -ENOTCONN);
		return 0;
	}
	ret = conn_resolve(&lc->conn, d->host, d->port, &why);
	if (ret) {
		log_warn("chan %u: cannot resolve %s: %s", id, d->host, why);
		chan_fail(lc->chan, -ENOTCONN);
		return 0;
	}
	loop_conn_start(l, lc);
	return 0;
}

static void open_from_kernel(struct loop *l, uint32_t id)
{
	struct vgpu_ctrl_chan_info info;
	const char *why = "";
	void *map;
	int ret;

	if (l->ctrl_fd < 0) {
		log_warn("chan %u: OPEN without a control device", id);
		return;
	}
	ret = ctrl_chan_map(l->ctrl_fd, id, &info, &map, &why);
	if (ret) {
		log_err("chan %u: cannot take the channel: %s (%s)", id, why, strerror(-ret));
		return;
	}
	loop_chan_add(l, id, info.dev_index, info.pid, map, &info.ring, info.features, true);
}

static void close_chan(struct loop *l, struct lchan *lc)
{
	const struct chan_stats *st = chan_stats(lc->chan);

	log_info("chan %u: closed after %llu requests", lc->id,
		 (unsigned long long)st->frames_sent);
	chan_close(lc->chan);
	loop_conn_drop(l, lc);
	if (lc->own_map && lc->map)
		munmap(lc->map, lc->map_len);
	lc->map = NULL;
	hash_remove(l, lc);
	lc->closed = true;
	l->zombies++;
	l->st.channels--;
}

void loop_handle_event(struct loop *l, int res)
{
	uint32_t ev, id;
	struct lchan *lc;

	l->st.events++;
	if (res < 0) {
		if (res == -ESHUTDOWN) {
			log_info("detached from the kernel");
			l->stop = true;
		} else if (res != -EINTR && res != -EAGAIN) {
			log_err("FETCH failed: %s", strerror(-res));
			l->stop = true;
			l->exit_code = 1;
		}
		return;
	}
	ev = VGPU_EVT_EVENTS(res);
	id = VGPU_EVT_CHAN(res);
	if (!(ev & (VGPU_EVT_OPEN | VGPU_EVT_DOORBELL | VGPU_EVT_CLOSE))) {
		/* FETCH parks until there is an event: this is not our ABI */
		log_err("FETCH completed with no known event (%#x): wrong control device?",
			(unsigned int)res);
		l->stop = true;
		l->exit_code = 1;
		return;
	}
	log_debug("chan %u: events%s%s%s", id, ev & VGPU_EVT_OPEN ? " OPEN" : "",
		  ev & VGPU_EVT_DOORBELL ? " DOORBELL" : "", ev & VGPU_EVT_CLOSE ? " CLOSE" : "");
	if (ev & VGPU_EVT_OPEN)
		open_from_kernel(l, id);
	if (ev & VGPU_EVT_DOORBELL) {
		lc = find(l, id);
		if (lc) {
			chan_process(lc->chan);
			mark_dirty(l, lc);
		} else {
			log_debug("chan %u: doorbell on an unknown channel", id);
		}
	}
	if (ev & VGPU_EVT_CLOSE) {
		lc = find(l, id);
		if (lc)
			close_chan(l, lc);
		else
			log_debug("chan %u: CLOSE of an unknown channel", id);
	}
}

/* ---- the round ---------------------------------------------------------- */

static void on_tick(struct loop *l)
{
	l->tick_armed = false;
	for (struct lchan *lc = l->all; lc; lc = lc->next) {
		if (!lc->closed && chan_wants_retry(lc->chan)) {
			chan_process(lc->chan);
			mark_dirty(l, lc);
		}
	}
}

static void arm_reload(struct loop *l)
{
	struct io_uring_sqe *sqe = uring_sqe(&l->ring);

	io_uring_prep_poll_add(sqe, l->reload_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_RELOAD));
}

/*
 * The reload eventfd fired (SIGHUP): drain it and let the owner re-read
 * the configuration.  Open channels keep their server connection; only
 * channels opened afterwards see the new mapping.
 */
static void on_reload(struct loop *l, int res)
{
	uint64_t n;

	if (res < 0) {
		log_warn("reload poll: %s", strerror(-res));
		return;
	}
	if (read(l->reload_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("reload eventfd: %s", strerror(errno));
	if (l->reload)
		l->reload(l->reload_arg);
	if (!l->stop)
		arm_reload(l);
}

void loop_set_reload(struct loop *l, int reload_fd, void (*fn)(void *arg), void *arg)
{
	l->reload_fd = reload_fd;
	l->reload = fn;
	l->reload_arg = arg;
	if (reload_fd >= 0) {
		arm_reload(l);
		io_uring_submit(&l->ring);
	}
}

void loop_set_devcfg(struct loop *l, struct devcfg *dc)
{
	l->devcfg = dc;
}

static void dispatch(struct loop *l, uint64_t ud, int res)
{
	struct lchan *lc = (struct lchan *)(uintptr_t)(ud & ~UD_TYPE_MASK);
	enum ud_type type = (enum ud_type)(ud & UD_TYPE_MASK);

	switch (type) {
	case UD_FETCH:
		if (l->stop)
			return;		/* exiting: no new channels */
		loop_handle_event(l, res);
		if (!l->stop)
			arm_fetch(l);
		return;
	case UD_COMMIT:
		if (res < 0 && res != -ENOENT)
			log_warn("COMMIT failed: %s", strerror(-res));
		return;
	case UD_TICK:
		on_tick(l);
		return;
	case UD_STOP:
		log_info("stopping");
		l->stop = true;
		return;
	case UD_RELOAD:
		on_reload(l, res);
		return;
	case UD_IGNORE:
		return;
	case UD_CONNECT:
	case UD_SEND:
	case UD_RECV:
		break;
	}
	lc->inflight--;
	if (lc->closed) {
		if (type == UD_SEND)
			chan_tx_done(lc->chan, 0);	/* lets the frames go */
		return;
	}
	loop_conn_complete(l, lc, type, res);
	mark_dirty(l, lc);
}

/* Queue the next I/O of a touched channel; COMMIT its completions; show a new attach. */
static void service(struct loop *l, struct lchan *lc)
{
	struct chan *c = lc->chan;
	struct vgpu_partition_attach_resp pa;
	const char *part = chan_take_attached(c, &pa);

	if (part && l->devcfg)
		devcfg_attached(l->devcfg, lc->dev, lc->server, part, &pa);
	loop_conn_service(l, lc);
	if (chan_take_commit(c))
		commit(l, lc->id);
}

static void reap_zombies(struct loop *l)
{
	struct lchan **pp = &l->all;

	while (*pp) {
		struct lchan *lc = *pp;

		if (lc->closed && !lc->inflight && !lc->dirty) {
			*pp = lc->next;
			chan_free(lc->chan);
			free(lc);
			l->zombies--;
		} else {
			pp = &lc->next;
		}
	}
}

static void after_batch(struct loop *l)
{
	bool retry = false;
	struct lchan *lc;

	while ((lc = l->dirty)) {
		l->dirty = lc->dnext;
		lc->dirty = false;
		if (!lc->closed)
			service(l, lc);
	}
	if (l->zombies)
		reap_zombies(l);
	for (lc = l->all; lc && !retry; lc = lc->next)
		retry = !lc->closed && chan_wants_retry(lc->chan);
	if (retry && !l->tick_armed) {
		struct io_uring_sqe *sqe = uring_sqe(&l->ring);

		if (sqe) {
			l->tick.tv_sec = 0;
			l->tick.tv_nsec = RETRY_NS;
			io_uring_prep_timeout(sqe, &l->tick, 0, 0);
			io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_TICK));
			l->tick_armed = true;
		}
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct io_uring_cqe *cqes[64], *cqe;
	int ret, total = 0;
	unsigned int n;

	if (l->dirty)		/* touched from outside a round (tests feed events) */
		after_batch(l);
	if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(&l->ring, 1);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};

		ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
	}
	if (ret < 0 && ret != -ETIME && ret != -EINTR)
		return ret;
	while ((n = io_uring_peek_batch_cqe(&l->ring, cqes, 64))) {
		struct { uint64_t ud; int res; } ev[64];

		for (unsigned int i = 0; i < n; i++) {
			ev[i].ud = cqes[i]->user_data;
			ev[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&l->ring, n);
		for (unsigned int i = 0; i < n; i++)
			dispatch(l, ev[i].ud, ev[i].res);
		total += n;
	}
	after_batch(l);
	return total;
}

int loop_run(struct loop *l)
{
	while (!l->stop) {
		int ret = loop_run_once(l, -1);

		if (ret < 0) {
			log_err("io_uring: %s", strerror(-ret));
			return 1;
		}
	}
	return l->exit_code;
}

bool loop_stopped(const struct loop *l)
{
	return l->stop;
}

/* ---- setup and teardown ------------------------------------------------- */

int loop_init(struct loop **out, int ctrl_fd, int stop_fd, const struct vgpud_config *cfg)
{
	struct loop *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	/* plain 64-byte SQEs, no SQPOLL / DEFER_TASKRUN / SINGLE_ISSUER */
	ret = io_uring_queue_init(LOOP_SQ_ENTRIES, &l->ring, 0);
	if (ret) {
		free(l);
		return ret;
	}
	l->ctrl_fd = ctrl_fd;
	l->stop_fd = stop_fd;
	l->reload_fd = -1;
	l->cfg = cfg;
	if (gethostname(l->host, sizeof(l->host) - 1))
		snprintf(l->host, sizeof(l->host), "unknown");
	if (ctrl_fd >= 0)
		for (int i = 0; i < LOOP_FETCHES; i++)
			arm_fetch(l);
	if (stop_fd >= 0) {
		struct io_uring_sqe *sqe = uring_sqe(&l->ring);

		io_uring_prep_poll_add(sqe, stop_fd, POLLIN);
		io_uring_sqe_set_data64(sqe, ud_make(NULL, UD_STOP));
	}
	io_uring_submit(&l->ring);
	*out = l;
	return 0;
}

void loop_free(struct loop *l)
{
	struct timespec t0, t;

	if (!l)
		return;
	for (struct lchan *lc = l->all; lc; lc = lc->next)
		if (!lc->closed)
			close_chan(l, lc);
	/* shut sockets wake their recv and send: let them complete */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	l->stop = true;
	while (l->zombies) {
		reap_zombies(l);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!l->zombies || (t.tv_sec - t0.tv_sec) * 1000 +
				   (t.tv_nsec - t0.tv_nsec) / 1000000 > DRAIN_MS)
			break;
		if (loop_run_once(l, 100) < 0)
			break;
	}
	io_uring_queue_exit(&l->ring);
	while (l->all) {
		struct lchan *lc = l->all;

		l->all = lc->next;
		chan_free(lc->chan);
		free(lc);
	}
	free(l);
}

struct chan *loop_chan(struct loop *l, uint32_t id)
{
	struct lchan *lc = find(l, id);

	return lc ? lc->chan : NULL;
}

const struct loop_stats *loop_stats(const struct loop *l)
{
	return &l->st;
}
