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

/* The partition table sessions started from now on use (NULL: none). */
extern struct vgpu_partitions *tserver_parts;

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

/* ---- a channel moved by a poll() loop (test_userd_rig.c) ------------------
 * The test is the application (ring @t) and, for fake servers, the server
 * too (@peer, blocking with a 5 s receive timeout).  PUMP_UNTIL and the
 * pump/peer helpers assert with cmocka: include <cmocka.h> first.
 */
struct chan;

#define RIG_WAIT_MS 5000

struct rig {
	struct tring t;
	struct chan *c;
	int fd;			/* channel end, non-blocking */
	int peer;		/* fake server end, or -1 */
	struct tserver srv;	/* the real session, when @real */
	bool real;
};

/* A channel (id 5) on a new ring; @real: sim session, else a fake server. */
void rig_init(struct rig *r, bool real, uint32_t sq, uint32_t cq, uint32_t data,
	      uint32_t start, uint64_t features, uint32_t gpu);
void rig_fini(struct rig *r);
/* Publish the SQ tail and let the channel take the entries. */
void rig_doorbell(struct rig *r);
/* One round: send what is queued, take in what arrived, process. */
void pump_once(struct rig *r, int wait_ms);
/* Pump until @want completions were reaped into @out, then check no more came. */
void pump_reap(struct rig *r, struct vgpu_cqe *out, int want);
void pump_check_deadline(uint64_t end);
#define PUMP_UNTIL(r, cond)						\
	do {								\
		uint64_t end_ = now_ms() + RIG_WAIT_MS;			\
		while (!(cond)) {					\
			pump_check_deadline(end_);			\
			pump_once(r, 5);				\
		}							\
	} while (0)
/* Send everything queued (before the fake server reads synchronously). */
void flush_tx(struct rig *r);
/* The fake server: next frame; a reply; the HELLO exchange; @n requests. */
void peer_recv(struct rig *r, struct vgpu_frame_hdr *h, void **body);
void peer_send(struct rig *r, uint64_t id, uint16_t op, uint32_t status, const void *b,
	       uint32_t len);
void peer_hello(struct rig *r);
/* Take the HELLO and answer it, without waiting for the channel to be ready. */
void peer_hello_send(struct rig *r);
void peer_take(struct rig *r, int n, uint64_t *ids, uint16_t *ops, uint32_t *flags);

uint64_t get_le64(const uint8_t *p);
uint32_t get_le32(const uint8_t *p);

/* Build bodies */
void wb_u32(struct vgpu_wbuf *w, uint32_t a);
void wb_u64x2(struct vgpu_wbuf *w, uint64_t a, uint64_t b);

uint64_t now_ms(void);

#endif
