/* SPDX-License-Identifier: MIT */
/*
 * session_client.h - a raw-protocol client for the session tests
 * (test_session.c, test_session_flow.c, test_session_server.c): a sim
 * session served in a thread over a socketpair, request/reply frames, and
 * one helper per op they share (session_client.c).  Failures of the
 * transport, and of ops expected to succeed, fail the test.
 *
 * Its names match part_client.h's: a test links one of the two, never both.
 */
#ifndef VGPU_TESTS_SESSION_CLIENT_H
#define VGPU_TESTS_SESSION_CLIENT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "server/server.h"

struct peer {
	int fd;		/* client end */
	int sfd;	/* session end */
	uint32_t id;
	int ret;
	pthread_t th;
	uint64_t next;
	struct vgpu_server_config cfg;
};

/* Session id in a thread over a socketpair (sim backend, 1M), before HELLO. */
struct peer *start(uint32_t id);
/* Close our end, wait for the session; returns vgpu_session_serve's result. */
int finish(struct peer *p);
/* After the session closed its end: our next read sees EOF. */
void assert_closed(struct peer *p);

void send_req(struct peer *p, uint16_t op, uint32_t flags, const struct vgpu_wbuf *w);
/* One request/response; returns status, body in *r (backed by *mem, freed by caller). */
uint32_t rpc(struct peer *p, uint16_t op, const struct vgpu_wbuf *w, struct vgpu_rbuf *r,
	     void **mem);
/* rpc for ops whose reply carries nothing (or that we ignore); w is emptied. */
uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w);
/* rpc whose reply is a single u64 (its status must be want); w is emptied. */
uint64_t call_u64(struct peer *p, uint16_t op, struct vgpu_wbuf *w, uint32_t want);

/* HELLO for every GPU; the session must be p->id's, on the sim backend. */
void hello(struct peer *p);
/* CTX_CREATE on device 0; the context's handle. */
uint64_t ctx_create(struct peer *p);
uint64_t mem_alloc(struct peer *p, uint64_t ctx, uint64_t size);
uint32_t htod(struct peer *p, uint64_t ctx, uint64_t dst, const void *d, size_t n);
uint32_t dtoh(struct peer *p, uint64_t ctx, uint64_t src, void *d, size_t n);
/* SERVER_STATS: sessions, bytes allocated, allocations. */
void stats(struct peer *p, uint32_t *s, uint64_t *b, uint64_t *a);

#endif
