/* SPDX-License-Identifier: MIT */
/*
 * part_client.h - a raw-protocol client for the partition tests
 * (test_session_partition.c, test_partition_server.c): sessions served in
 * a thread over a socketpair or reached over TCP, and one helper per op
 * they need.  Each helper returns the reply's status; failures of the
 * transport itself fail the test.
 */
#ifndef VGPU_TESTS_PART_CLIENT_H
#define VGPU_TESTS_PART_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/proto.h"
#include "server/server.h"

#define MIB	(1ull << 20)

struct peer {
	int fd, sfd;
	pthread_t th;
	bool threaded;
	uint64_t next;
	const struct vgpu_server_config *cfg;
	uint64_t ctx;
	void *body;		/* the last reply's body, read through r */
	struct vgpu_rbuf r;
};

/* What LIST says about GPU 0 and about one partition (found: it was listed). */
struct listed {
	uint32_t ngpu, npart;
	char gpu_name[256];
	uint64_t total, free_b;
	uint32_t mem_pct, compute_pct;
	bool found;
	uint64_t limit, used;
	uint32_t compute, prio, sessions;
};

void hello(struct peer *p, uint32_t gpu);
/* A session of cfg in a thread over a socketpair, after HELLO for gpu. */
struct peer *start(const struct vgpu_server_config *cfg, uint32_t gpu);
/* Start serving p->sfd in a thread and say HELLO (p->fd, p->sfd, p->cfg set). */
void start_thread(struct peer *p, uint32_t gpu);
/* A session of a running server, after HELLO for gpu. */
struct peer *connect_tcp(const char *hostport, uint32_t gpu);
/* Close the client side (the session frees what it holds and ends) and free p. */
void finish(struct peer *p);

/* One request; its status.  The reply body is left in p->r; w is emptied. */
uint32_t call(struct peer *p, uint16_t op, struct vgpu_wbuf *w);
uint32_t create(struct peer *p, const char *name, uint32_t gpu, uint64_t bytes, uint32_t pct,
		uint32_t compute, uint32_t prio);
uint32_t resize(struct peer *p, const char *name, uint64_t bytes, uint32_t pct,
		uint32_t compute);
/* An op whose request is just a name (ATTACH, DELETE). */
uint32_t by_name(struct peer *p, uint16_t op, const char *name);
uint32_t attach(struct peer *p, const char *name, uint64_t *limit);
uint32_t list(struct peer *p, const char *name, struct listed *l);
/* CTX_CREATE on device 0 into p->ctx. */
uint32_t ctx_create(struct peer *p);
uint32_t mem_alloc(struct peer *p, uint64_t size, uint64_t *dptr);
uint32_t mem_free(struct peer *p, uint64_t dptr);
void mem_info(struct peer *p, uint64_t *free_b, uint64_t *total);
/* DEVICE_INFO's total memory of device 0. */
uint64_t dev_total(struct peer *p);

#endif
