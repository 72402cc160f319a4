/* SPDX-License-Identifier: MIT */
/*
 * loop.h - vgpud's event loop: one io_uring for everything.
 *
 *   FETCH    several uring_cmds parked on /dev/vgpu-control; each completes
 *            with one channel's events (OPEN, DOORBELL, CLOSE) and is re-armed
 *   CONNECT  a channel's server connection, with a linked timeout
 *   SEND     a channel's queued frames (one sendmsg in flight per channel)
 *   RECV     a channel's reply bytes (one recv in flight per channel)
 *   COMMIT   after a batch, one uring_cmd per channel that got completions
 *   TICK     a short timeout while some channel holds completions back (CQ full)
 *   STOP     a poll on an eventfd that the signal handler writes
 *
 * Single-threaded, no locks.  Without a control fd (ctrl_fd < 0, as in the
 * unit tests) there are no FETCH/COMMIT commands: channels are added with
 * loop_chan_add() and events fed with loop_handle_event(); COMMITs are
 * only counted.
 */
#ifndef VGPU_USERD_LOOP_H
#define VGPU_USERD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "uapi/vgpu.h"
#include "userd/chan.h"
#include "userd/config.h"

#define LOOP_FETCHES	4

struct loop;

struct loop_stats {
	uint64_t events;	/* FETCH results handled */
	uint64_t commits;	/* COMMITs issued (counted only without a control fd) */
	unsigned int channels;	/* open channels */
};

/*
 * @ctrl_fd: the attached control fd, or -1; @stop_fd: an eventfd whose
 * readability stops the loop, or -1.  @cfg must outlive the loop.
 */
int loop_init(struct loop **out, int ctrl_fd, int stop_fd, const struct vgpud_config *cfg);
/*
 * Call @fn(@arg) from the loop each time the eventfd @reload_fd becomes
 * readable (vgpud: SIGHUP).  @fn may change the configuration passed to
 * loop_init in place: channels opened afterwards use the new one.
 */
void loop_set_reload(struct loop *l, int reload_fd, void (*fn)(void *arg), void *arg);
/* Tell @dc the limits each channel's PARTITION_ATTACH brings (sysfs). */
struct devcfg;
void loop_set_devcfg(struct loop *l, struct devcfg *dc);
/* Close every channel (sockets, mappings), wait for what is in flight, free. */
void loop_free(struct loop *l);

/* Run until detached or stopped: 0, or 1 after a fatal error. */
int loop_run(struct loop *l);
/* One round: submit, wait up to @timeout_ms (-1: forever) for completions,
 * handle them.  Returns how many were handled, or -errno. */
int loop_run_once(struct loop *l, int timeout_ms);
bool loop_stopped(const struct loop *l);

/* A FETCH result: VGPU_EVT(events, chan_id) or a negative errno. */
void loop_handle_event(struct loop *l, int res);

/*
 * A new channel on a ring mapped at @map (laid out per @ri, already
 * checked) for /dev/vgpu@dev opened by @pid: connects to the device's
 * server, or fails every entry with -ENOTCONN when the device has none.
 * @own_map: munmap the ring (info->map_size bytes) when the channel closes.
 */
int loop_chan_add(struct loop *l, uint32_t id, uint32_t dev, int pid, void *map,
		  const struct vgpu_ring_info *ri, uint64_t features, bool own_map);
/* The channel with this id (tests look at its state), or NULL. */
struct chan *loop_chan(struct loop *l, uint32_t id);
const struct loop_stats *loop_stats(const struct loop *l);

#endif
