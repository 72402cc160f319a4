/* SPDX-License-Identifier: MIT */
/* uring.h - small io_uring helpers shared by conn.c, ctrl.c, loop.c and loop_conn.c. */
#ifndef VGPU_USERD_URING_H
#define VGPU_USERD_URING_H

#include <liburing.h>

#include "common/log.h"

/*
 * A free SQE, submitting what is queued when the SQ is full.  NULL only
 * when the kernel refuses to take more (the caller fails what it wanted).
 */
static inline struct io_uring_sqe *uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			log_err("io_uring submission queue full");
	}
	return sqe;
}

#endif
