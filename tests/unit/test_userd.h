/* SPDX-License-Identifier: MIT */
/*
 * test_userd.h - helpers shared by vgpud's unit tests: a channel ring in
 * anonymous memory laid out per a made-up struct vgpu_ring_info (the test
 * plays the application), and vgpu_session_serve with the sim backend in a
 * thread, on a socketpair or behind a loopback TCP listener.
 */
#ifndef VGPU_TEST_USERD_H
#define VGPU_TEST_USERD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "server/server.h"
#include "uapi/vgpu.h"

struct tring {
	uint8_t *map;
	size_t len;
	struct vgpu_ring_info ri;
	uint32_t *sq_head, *sq_tail, *cq_head, *cq_tail;
	struct vgpu_sqe *sqes;
	struct vgpu_cqe *cqes;
	uint8_t *data;
	uint32_t tail;		/* the application's SQ tail, published by tring_publish */
	uint32_t data_next;	/* bump allocator in the data area */
};

/* All four indices start at @start (to test u32 wrap-around). */
void tring_init(struct tring *t, uint32_t sq_entries, uint32_t cq_entries, uint32_t data_size,
		uint32_t start);
void tring_fini(struct tring *t);
/* @n bytes of the data area (8-aligned), wrapping to 0 when full. */
uint32_t tring_alloc(struct tring *t, uint32_t n);
/* Copy @len bytes into the data area; returns the offset. */
uint32_t tring_put(struct tring *t, const void *p, uint32_t len);
/* Write an SQE at the private tail (not yet visible). */
void tring_sqe(struct tring *t, const struct vgpu_sqe *e);
/* Simple request: body @w (may be NULL) copied in, a response area of @cap bytes. */
struct vgpu_sqe *tring_req(struct tring *t, uint64_t id, uint16_t op, const struct vgpu_wbuf *w,
			   uint32_t cap);
/* Store-release the SQ tail. */
void tring_publish(struct tring *t);
/* Completions published and not yet reaped. */
uint32_t tring_cq_ready(const struct tring *t);
/* Take up to @max completions, advancing cq_head. */
int tring_reap(struct tring *t, struct vgpu_cqe *out, int max);

/* A session of the sim backend in a thread. */
struct tserver {
	int sfd;
	int ret;
	char client[64];	/* HELLO's client name (scripted sessions only) */
	pthread_t th;
	struct vgpu_server_config cfg;
};

/* Serve one end of a new socketpair; returns the other end. */
int tserver_start(struct tserver *s);
/* Wait for the session to end; returns vgpu_session_serve's result. */
int tserver_join(struct tserver *s);

/* A loopback TCP listener whose connections are each served by a session thread. */
#define TLISTEN_MAX 8
struct tlisten {
	int lfd;
	uint16_t port;
	pthread_t th;
	int nsessions;
	struct tserver s[TLISTEN_MAX];
	/* scripted instead of real: after HELLO, read this many frames and close */
	int drop_after;
};

void tlisten_start(struct tlisten *l, int drop_after);
/* Stop accepting and join every session (they end when their client closes). */
void tlisten_stop(struct tlisten *l);

/* Build bodies */
void wb_u32(struct vgpu_wbuf *w, uint32_t a);
void wb_u64x2(struct vgpu_wbuf *w, uint64_t a, uint64_t b);

uint64_t now_ms(void);

#endif
