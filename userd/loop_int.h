/* SPDX-License-Identifier: MIT */
/*
 * loop_int.h - the event loop's state, shared by loop.c (rounds, kernel
 * events, channel table and life cycle, COMMIT, retry tick, reload) and
 * loop_conn.c (each channel's server connection: CONNECT, SEND, RECV).
 * Nothing else includes it: to everyone else struct loop is opaque (loop.h).
 */
#ifndef VGPU_USERD_LOOP_INT_H
#define VGPU_USERD_LOOP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userd/chan.h"
#include "userd/config.h"
#include "userd/conn.h"
#include "userd/loop.h"
#include "userd/uring.h"

#define LOOP_HASH	256

/*
 * Every SQE's user_data: a pointer (16-byte aligned, or NULL) with the
 * operation's type in the low four bits.
 */
enum ud_type {
	UD_FETCH = 1, UD_COMMIT, UD_TICK, UD_STOP, UD_IGNORE, UD_CONNECT, UD_SEND, UD_RECV,
	UD_RELOAD,
};
#define UD_TYPE_MASK	15ull

struct lchan {
	struct lchan *hnext;	/* hash chain (open channels only) */
	struct lchan *next;	/* every channel, zombies included */
	struct lchan *dnext;	/* touched this round */
	uint32_t id;
	uint32_t dev;
	char server[VGPUD_SERVER_LEN];	/* at open, for logs (the config may be reloaded) */
	struct chan *chan;
	void *map;
	size_t map_len;
	bool own_map;
	bool closed;
	bool dirty;
	unsigned int inflight;	/* CONNECT, SEND, RECV not yet completed */
	struct conn conn;
};

struct loop {
	struct io_uring ring;
	int ctrl_fd;
	int stop_fd;
	int reload_fd;			/* -1: no reload */
	void (*reload)(void *arg);
	void *reload_arg;
	const struct vgpud_config *cfg;
	struct devcfg *devcfg;		/* NULL: sysfs is not told of attaches */
	char host[64];
	struct lchan *hash[LOOP_HASH];
	struct lchan *all;
	struct lchan *dirty;
	unsigned int zombies;
	bool tick_armed;
	bool stop;
	int exit_code;
	struct __kernel_timespec tick;
	struct loop_stats st;
};

static inline uint64_t ud_make(const void *p, enum ud_type t)
{
	return (uint64_t)(uintptr_t)p | t;
}

/*
 * loop_conn.c: a channel's server connection.  Each SQE it queues counts
 * in lc->inflight; loop.c takes the count down as the completion comes
 * and hands only a live (not closed) channel's completions back here.
 */
/* Queue a connect to the current resolved address, or fail the channel. */
void loop_conn_start(struct loop *l, struct lchan *lc);
/* Close the socket, cancelling a connect in flight. */
void loop_conn_drop(struct loop *l, struct lchan *lc);
/* A CONNECT, SEND or RECV (@type) of a live channel completed with @res. */
void loop_conn_complete(struct loop *l, struct lchan *lc, enum ud_type type, int res);
/* After a batch: queue the next RECV and SEND, or drop a failed channel's socket. */
void loop_conn_service(struct loop *l, struct lchan *lc);

#endif
