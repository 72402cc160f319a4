// SPDX-License-Identifier: MIT
/*
 * test_session_partition.c - partitions (ops 57-61) at the wire, sim
 * backend: sessions in threads share one partition table, as forked
 * sessions share the server's.  Administration and its errors, the attach
 * rules, the limit enforced across two sessions and across every
 * allocation path, MEM_GET_INFO/DEVICE_INFO as the partition shows them, a
 * live resize, malformed bodies, who may administer (the check itself, and
 * a session whose peer is this host's non-loopback address).
 * test_partition_server.c has the tests with processes.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/partition.h"
#include "server/server.h"
#include "tests/unit/part_client.h"

#define SIM_MEM	(64 * MIB)

/* One table and config per test, so tests do not see each other's partitions. */
struct fixture {
	struct vgpu_partitions parts;
	struct vgpu_server_config cfg;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	vgpu_log_init("test_session_partition", VGPU_LOG_ERR, 0);
	assert_int_equal(vgpu_part_table_create(&f->parts, 16), 0);
	f->cfg.backend = VGPU_BACKEND_SIM;
	f->cfg.sim_mem_bytes = SIM_MEM;
	f->cfg.parts = &f->parts;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vgpu_part_table_destroy(&f->parts);
	free(f);
	return 0;
}

static void test_admin(void **state)
{
	struct fixture *f = *state;
	struct peer *p = start(&f->cfg, VGPU_GPU_ALL);
	char name[64];
	struct listed l;

	/* names: 1-31 bytes of [A-Za-z0-9_.-] */
	assert_int_equal(create(p, "", 0, 0, 10, 10, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a b", 0, 0, 10, 10, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a/b", 0, 0, 10, 10, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "caf\xc3\xa9", 0, 0, 10, 10, 0), CUDA_ERROR_INVALID_VALUE);
	memset(name, 'x', 32);
	name[32] = '\0';
	assert_int_equal(create(p, name, 0, 0, 10, 10, 0), CUDA_ERROR_INVALID_VALUE);
	name[31] = '\0';
	assert_int_equal(create(p, name, 0, 0, 10, 10, 0), 0);
	assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, name), 0);
	/* the other fields */
	assert_int_equal(create(p, "a", 0, 0, 0, 10, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a", 0, 0, 101, 10, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a", 0, 0, 10, 0, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a", 0, 0, 10, 101, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a", 0, 0, 10, 10, 8), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(create(p, "a", 1, 0, 10, 10, 0), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(create(p, "a", 0, SIM_MEM + 1, 0, 10, 0), CUDA_ERROR_OUT_OF_MEMORY);

	assert_int_equal(create(p, "a", 0, 0, 55, 60, 7), 0);
	assert_int_equal(create(p, "a", 0, MIB, 0, 1, 0), CUDA_ERROR_INVALID_VALUE);	/* in use */
	/* over-commit: memory, then compute */
	assert_int_equal(create(p, "b", 0, 0, 46, 10, 0), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(create(p, "b", 0, 0, 10, 41, 0), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(create(p, "b", 0, 0, 45, 40, 2), 0);	/* exactly 100% of both */
	assert_int_equal(list(p, "a", &l), 0);
	assert_int_equal(l.ngpu, 1);
	assert_string_equal(l.gpu_name, "vgpu sim device");
	assert_int_equal(l.total, SIM_MEM);
	assert_int_equal(l.free_b, SIM_MEM - (SIM_MEM * 55 / 100 + SIM_MEM * 45 / 100));
	assert_int_equal(l.mem_pct, 100);
	assert_int_equal(l.compute_pct, 100);
	assert_int_equal(l.npart, 2);
	assert_true(l.found);
	assert_int_equal(l.limit, SIM_MEM * 55 / 100);
	assert_true(l.used == 0 && l.compute == 60 && l.prio == 7 && l.sessions == 0);

	/* split a's 55% into 35% + 20% */
	assert_int_equal(resize(p, "a", 0, 56, 0), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(resize(p, "a", 0, 0, 61), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(resize(p, "a", 0, 101, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(resize(p, "a", 0, 0, 101), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(resize(p, "nope", 0, 35, 0), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(resize(p, "a b", 0, 35, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(list(p, "a", &l), 0);
	assert_true(l.limit == SIM_MEM * 55 / 100 && l.compute == 60);	/* unchanged */
	assert_int_equal(resize(p, "a", 0, 35, 40), 0);
	assert_int_equal(create(p, "c", 0, 0, 20, 20, 0), 0);
	assert_int_equal(list(p, "a", &l), 0);
	assert_true(l.limit == SIM_MEM * 35 / 100 && l.compute == 40 && l.prio == 7);
	assert_true(l.mem_pct == 100 && l.compute_pct == 100 && l.npart == 3);
	assert_int_equal(resize(p, "c", 3 * MIB, 0, 0), 0);	/* bytes; compute kept */
	assert_int_equal(list(p, "c", &l), 0);
	assert_true(l.limit == 3 * MIB && l.compute == 20);

	assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, "nope"), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, ""), CUDA_ERROR_INVALID_VALUE);
	for (const char *n = "abc"; *n; n++) {
		char one[2] = { *n, 0 };

		assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, one), 0);
	}
	assert_int_equal(list(p, NULL, &l), 0);
	assert_true(l.npart == 0 && l.free_b == SIM_MEM && l.mem_pct == 0 && !l.compute_pct);

	/* at most 64 */
	for (int i = 0; i < VGPU_PART_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(create(p, name, 0, MIB / 2, 0, 1, 0), 0);
	}
	assert_int_equal(create(p, "one-more", 0, MIB / 2, 0, 1, 0), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(list(p, NULL, &l), 0);
	assert_int_equal(l.npart, VGPU_PART_MAX);
	finish(p);
}

static void test_attach_rules(void **state)
{
	struct fixture *f = *state;
	struct vgpu_server_config plain = { .backend = VGPU_BACKEND_SIM, .sim_mem_bytes = SIM_MEM };
	struct peer *p = start(&f->cfg, 0), *all, *q;
	uint64_t limit = 0, chunk;
	struct vgpu_wbuf w;
	struct listed l;

	assert_int_equal(create(p, "mine", 0, 8 * MIB, 0, 50, 1), 0);
	assert_int_equal(attach(p, "nope", &limit), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(attach(p, "bad name", &limit), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(attach(p, "mine", &limit), 0);
	assert_int_equal(limit, 8 * MIB);
	assert_int_equal(attach(p, "mine", &limit), CUDA_ERROR_ILLEGAL_STATE);	/* twice */
	assert_int_equal(list(p, "mine", &l), 0);
	assert_int_equal(l.sessions, 1);
	/* a session exposing every GPU cannot attach */
	all = start(&f->cfg, VGPU_GPU_ALL);
	assert_int_equal(attach(all, "mine", &limit), CUDA_ERROR_INVALID_DEVICE);
	finish(all);
	/* after a context, too late */
	q = start(&f->cfg, 0);
	assert_int_equal(ctx_create(q), 0);
	assert_int_equal(attach(q, "mine", &limit), CUDA_ERROR_ILLEGAL_STATE);
	finish(q);
	/* holding a VMM chunk (no context needed), too; released, fine */
	q = start(&f->cfg, 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 2 * MIB);
	assert_int_equal(call(q, VGPU_OP_VMM_CREATE, &w), 0);
	chunk = vgpu_get_u64(&q->r);
	assert_int_equal(attach(q, "mine", &limit), CUDA_ERROR_ILLEGAL_STATE);
	vgpu_put_u64(&w, chunk);
	assert_int_equal(call(q, VGPU_OP_VMM_RELEASE, &w), 0);
	vgpu_wbuf_free(&w);
	assert_int_equal(attach(q, "mine", &limit), 0);
	finish(q);
	/* deleting a partition in use */
	assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, "mine"), CUDA_ERROR_ILLEGAL_STATE);
	finish(p);
	q = start(&f->cfg, 0);
	assert_int_equal(list(q, "mine", &l), 0);
	assert_int_equal(l.sessions, 0);	/* the session ended: detached */
	assert_int_equal(by_name(q, VGPU_OP_PARTITION_DELETE, "mine"), 0);
	finish(q);
	/* a server without a partition table */
	q = start(&plain, 0);
	assert_int_equal(attach(q, "mine", &limit), CUDA_ERROR_NOT_SUPPORTED);
	assert_int_equal(list(q, NULL, &l), CUDA_ERROR_NOT_SUPPORTED);
	finish(q);
}

/* A partition of a GPU the session does not expose. */
static void test_attach_wrong_gpu(void **state)
{
	struct fixture *f = *state;
	const char *names[2] = { "gpu zero", "gpu one" };
	const uint64_t totals[2] = { SIM_MEM, 2 * SIM_MEM };
	struct peer *p;
	uint64_t limit;
	struct listed l;

	/* described before any session: the sim's one device does not overwrite it */
	assert_int_equal(vgpu_part_set_gpus(&f->parts, 2, names, totals), 0);
	p = start(&f->cfg, 0);
	assert_int_equal(create(p, "second", 1, 0, 50, 50, 0), 0);
	assert_int_equal(create(p, "third", 2, 0, 50, 50, 0), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(attach(p, "second", &limit), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(list(p, "second", &l), 0);
	assert_true(l.ngpu == 2 && l.total == SIM_MEM && !strcmp(l.gpu_name, "gpu zero"));
	assert_true(l.limit == SIM_MEM && l.sessions == 0);
	finish(p);
}

static uint32_t device_count(struct peer *p)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	assert_int_equal(call(p, VGPU_OP_DEVICE_COUNT, &w), 0);
	vgpu_wbuf_free(&w);
	return vgpu_get_u32(&p->r);
}

/*
 * HELLO with VGPU_GPU_OF_PARTITION: no device until PARTITION_ATTACH, then
 * the partition's GPU.  A partition on a GPU the backend lacks (a table
 * described by hand) is refused and leaves the session unattached.
 */
static void test_attach_gpu_of_partition(void **state)
{
	struct fixture *f = *state;
	const char *names[2] = { "gpu zero", "gpu one" };
	const uint64_t totals[2] = { SIM_MEM, 2 * SIM_MEM };
	struct peer *adm, *q;
	uint64_t limit;
	struct listed l;

	assert_int_equal(vgpu_part_set_gpus(&f->parts, 2, names, totals), 0);
	adm = start(&f->cfg, VGPU_GPU_ALL);
	assert_int_equal(create(adm, "first", 0, 4 * MIB, 0, 50, 0), 0);
	assert_int_equal(create(adm, "second", 1, 0, 50, 50, 0), 0);
	q = start(&f->cfg, VGPU_GPU_OF_PARTITION);
	assert_int_equal(device_count(q), 0);
	assert_int_equal(ctx_create(q), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(attach(q, "second", &limit), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(list(adm, "second", &l), 0);
	assert_int_equal(l.sessions, 0);
	assert_int_equal(attach(q, "nope", &limit), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(attach(q, "first", &limit), 0);
	assert_int_equal(limit, 4 * MIB);
	assert_int_equal(device_count(q), 1);
	assert_int_equal(dev_total(q), 4 * MIB);
	assert_int_equal(ctx_create(q), 0);
	assert_int_equal(mem_alloc(q, 5 * MIB, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(mem_alloc(q, 4 * MIB, NULL), 0);
	finish(q);
	finish(adm);
}

/* The limit holds for the sum of two sessions, on every allocation path. */
static void test_limit_two_sessions(void **state)
{
	struct fixture *f = *state;
	struct peer *adm = start(&f->cfg, VGPU_GPU_ALL);
	struct peer *a, *b;
	uint64_t limit, da = 0, db = 0, d2 = 0, free_b, total, chunk = 0;
	struct vgpu_wbuf w;
	struct listed l;

	assert_int_equal(create(adm, "shared", 0, 8 * MIB, 0, 50, 0), 0);
	a = start(&f->cfg, 0);
	b = start(&f->cfg, 0);
	assert_int_equal(attach(a, "shared", &limit), 0);
	assert_int_equal(attach(b, "shared", &limit), 0);
	assert_int_equal(ctx_create(a), 0);
	assert_int_equal(ctx_create(b), 0);
	assert_int_equal(dev_total(a), 8 * MIB);
	mem_info(a, &free_b, &total);
	assert_true(total == 8 * MIB && free_b == 8 * MIB);

	assert_int_equal(mem_alloc(a, 5 * MIB, &da), 0);
	assert_int_equal(mem_alloc(b, 4 * MIB, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(mem_alloc(b, 3 * MIB, &db), 0);
	assert_int_equal(mem_alloc(a, 1, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	mem_info(b, &free_b, &total);
	assert_true(total == 8 * MIB && free_b == 0);
	assert_int_equal(list(adm, "shared", &l), 0);
	assert_true(l.used == 8 * MIB && l.sessions == 2);
	/* the other paths: a VMM chunk (2 MiB granularity) and a pool allocation */
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 2 * MIB);
	assert_int_equal(call(a, VGPU_OP_VMM_CREATE, &w), CUDA_ERROR_OUT_OF_MEMORY);
	vgpu_put_u64(&w, a->ctx);
	vgpu_put_u64(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, MIB);
	assert_int_equal(call(a, VGPU_OP_POOL_ALLOC, &w), CUDA_ERROR_OUT_OF_MEMORY);

	/* a frees: b gets it, through each path in turn */
	assert_int_equal(mem_free(a, da), 0);
	assert_int_equal(list(adm, "shared", &l), 0);
	assert_int_equal(l.used, 3 * MIB);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 2 * MIB);
	assert_int_equal(call(b, VGPU_OP_VMM_CREATE, &w), 0);
	chunk = vgpu_get_u64(&b->r);
	vgpu_put_u64(&w, b->ctx);
	vgpu_put_u64(&w, 0);
	vgpu_put_u64(&w, 0);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, 3 * MIB);
	assert_int_equal(call(b, VGPU_OP_POOL_ALLOC, &w), 0);
	d2 = vgpu_get_u64(&b->r);
	assert_int_equal(mem_alloc(a, 1, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	mem_info(a, &free_b, &total);
	assert_true(total == 8 * MIB && free_b == 0);
	/* shrinking below what is used is refused and changes nothing */
	assert_int_equal(resize(adm, "shared", 7 * MIB, 0, 0), CUDA_ERROR_ILLEGAL_STATE);
	assert_int_equal(list(adm, "shared", &l), 0);
	assert_true(l.limit == 8 * MIB && l.used == 8 * MIB);
	/* give back: a chunk release, a stream-ordered free */
	vgpu_put_u64(&w, chunk);
	assert_int_equal(call(b, VGPU_OP_VMM_RELEASE, &w), 0);
	vgpu_put_u64(&w, b->ctx);
	vgpu_put_u64(&w, d2);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(b, VGPU_OP_MEM_FREE_ASYNC, &w), 0);
	vgpu_wbuf_free(&w);
	assert_int_equal(list(adm, "shared", &l), 0);
	assert_int_equal(l.used, 3 * MIB);
	assert_int_equal(by_name(adm, VGPU_OP_PARTITION_DELETE, "shared"),
			 CUDA_ERROR_ILLEGAL_STATE);
	finish(a);
	finish(b);	/* still holds db: the end of the session gives it back */
	assert_int_equal(list(adm, "shared", &l), 0);
	assert_true(l.used == 0 && l.sessions == 0);
	assert_int_equal(by_name(adm, VGPU_OP_PARTITION_DELETE, "shared"), 0);
	finish(adm);
	(void)db;
}

/* POOL_ALLOC of size from the current pool; its address (0 on failure) in *d. */
static uint32_t pool_alloc(struct peer *p, uint64_t pool, uint64_t size, uint64_t *d)
{
	struct vgpu_wbuf w;
	uint32_t rc;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, 0);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, 0);
	vgpu_put_u64(&w, size);
	rc = call(p, VGPU_OP_POOL_ALLOC, &w);
	*d = rc ? 0 : vgpu_get_u64(&p->r);
	vgpu_wbuf_free(&w);
	return rc;
}

static void pool_free(struct peer *p, uint64_t d)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, p->ctx);
	vgpu_put_u64(&w, d);
	vgpu_put_u64(&w, 0);
	assert_int_equal(call(p, VGPU_OP_MEM_FREE_ASYNC, &w), 0);
	vgpu_wbuf_free(&w);
}

/* A pool's attribute (POOL_SET_ATTR when set, else POOL_GET_ATTR's answer). */
static uint64_t pool_attr(struct peer *p, uint64_t pool, uint32_t attr, bool set, uint64_t v)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, pool);
	vgpu_put_u32(&w, attr);
	if (set)
		vgpu_put_u64(&w, v);
	assert_int_equal(call(p, set ? VGPU_OP_POOL_SET_ATTR : VGPU_OP_POOL_GET_ATTR, &w), 0);
	v = set ? v : vgpu_get_u64(&p->r);
	vgpu_wbuf_free(&w);
	return v;
}

/*
 * What a pool keeps after its allocations are freed (its release threshold
 * raised) is memory the session holds: it counts against the partition,
 * the pool's own allocations reuse it without a new charge, and another
 * allocation that would not fit gets room by trimming the caches - never
 * by holding more than the limit (the gap this closes: allocate the limit
 * from a pool, free it, allocate the limit again with MEM_ALLOC).
 */
static void test_pool_cache(void **state)
{
	struct fixture *f = *state;
	struct peer *adm = start(&f->cfg, VGPU_GPU_ALL);
	const uint32_t reserved = CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT;
	uint64_t limit, dflt, own, d, e, m;
	struct vgpu_wbuf w;
	struct listed l;
	struct peer *a;

	assert_int_equal(create(adm, "pooled", 0, 8 * MIB, 0, 50, 0), 0);
	a = start(&f->cfg, 0);
	assert_int_equal(attach(a, "pooled", &limit), 0);
	assert_int_equal(ctx_create(a), 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(a, VGPU_OP_POOL_DEVICE, &w), 0);
	dflt = vgpu_get_u64(&a->r);
	vgpu_put_u32(&w, 0);
	assert_int_equal(call(a, VGPU_OP_POOL_CREATE, &w), 0);
	own = vgpu_get_u64(&a->r);
	vgpu_wbuf_free(&w);
	pool_attr(a, dflt, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, true, UINT64_MAX);

	/* 6 MiB allocated and freed: the pool keeps them, and they count */
	assert_int_equal(pool_alloc(a, 0, 6 * MIB, &d), 0);
	pool_free(a, d);
	assert_int_equal(pool_attr(a, dflt, reserved, false, 0), 6 * MIB);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_int_equal(l.used, 6 * MIB);
	/* the pool's own allocations are served from it: 5 + 1 cached still 6 */
	assert_int_equal(pool_alloc(a, 0, 5 * MIB, &d), 0);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_int_equal(l.used, 6 * MIB);
	/* MEM_ALLOC of 3 MiB fits only once the cached 1 MiB is given back */
	assert_int_equal(mem_alloc(a, 3 * MIB, &m), 0);
	assert_int_equal(pool_attr(a, dflt, reserved, false, 0), 5 * MIB);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_int_equal(l.used, 8 * MIB);
	assert_int_equal(mem_alloc(a, 1, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(mem_free(a, m), 0);
	pool_free(a, d);

	/* the whole limit from the pool, freed, then the whole limit again elsewhere */
	assert_int_equal(pool_alloc(a, 0, 8 * MIB, &d), 0);
	pool_free(a, d);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_int_equal(l.used, 8 * MIB);
	assert_int_equal(mem_alloc(a, 8 * MIB, &m), 0);
	assert_int_equal(pool_attr(a, dflt, reserved, false, 0), 0);
	assert_int_equal(mem_free(a, m), 0);
	/* and from another pool: the default pool's cache makes way */
	assert_int_equal(pool_alloc(a, 0, 7 * MIB, &d), 0);
	pool_free(a, d);
	assert_int_equal(pool_alloc(a, own, 7 * MIB, &e), 0);
	assert_int_equal(pool_attr(a, dflt, reserved, false, 0), 0);
	assert_int_equal(pool_alloc(a, own, 2 * MIB, &d), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_int_equal(l.used, 7 * MIB);
	pool_free(a, e);
	finish(a);
	assert_int_equal(list(adm, "pooled", &l), 0);
	assert_true(l.used == 0 && l.sessions == 0);
	finish(adm);
}

/* A resize is seen at the next allocation; the neighbour is not touched. */
static void test_live_resize(void **state)
{
	struct fixture *f = *state;
	struct peer *adm = start(&f->cfg, VGPU_GPU_ALL);
	struct peer *x, *y;
	uint64_t limit, d, free_b, total;
	struct listed l;

	assert_int_equal(create(adm, "x", 0, 8 * MIB, 0, 30, 0), 0);
	assert_int_equal(create(adm, "y", 0, 8 * MIB, 0, 30, 0), 0);
	x = start(&f->cfg, 0);
	y = start(&f->cfg, 0);
	assert_int_equal(attach(x, "x", &limit), 0);
	assert_int_equal(attach(y, "y", &limit), 0);
	assert_int_equal(ctx_create(x), 0);
	assert_int_equal(ctx_create(y), 0);
	assert_int_equal(mem_alloc(x, 8 * MIB, &d), 0);
	assert_int_equal(mem_alloc(x, MIB, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	assert_int_equal(mem_alloc(y, 2 * MIB, NULL), 0);

	assert_int_equal(resize(adm, "x", 12 * MIB, 0, 50), 0);
	assert_int_equal(mem_alloc(x, 4 * MIB, NULL), 0);
	assert_int_equal(mem_alloc(x, 1, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	mem_info(x, &free_b, &total);
	assert_true(total == 12 * MIB && free_b == 0);
	assert_int_equal(dev_total(x), 12 * MIB);
	/* y: as before */
	assert_int_equal(dev_total(y), 8 * MIB);
	mem_info(y, &free_b, &total);
	assert_true(total == 8 * MIB && free_b == 6 * MIB);
	assert_int_equal(list(adm, "y", &l), 0);
	assert_true(l.limit == 8 * MIB && l.used == 2 * MIB && l.compute == 30);
	/* growing y past what is left of the GPU: over-commit */
	assert_int_equal(resize(adm, "y", SIM_MEM - 12 * MIB + 1, 0, 0),
			 CUDA_ERROR_OUT_OF_MEMORY);
	/* x frees, then shrinks */
	assert_int_equal(mem_free(x, d), 0);
	assert_int_equal(resize(adm, "x", 4 * MIB, 0, 0), 0);
	assert_int_equal(mem_alloc(x, 1, NULL), CUDA_ERROR_OUT_OF_MEMORY);
	finish(x);
	finish(y);
	finish(adm);
}

/* A body that does not parse ends the session, for each of the new ops. */
static void test_malformed(void **state)
{
	struct fixture *f = *state;
	char big[300];

	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (uint16_t op = VGPU_OP_PARTITION_ATTACH; op <= VGPU_OP_PARTITION_DELETE; op++) {
		for (int how = 0; how < 3; how++) {
			struct peer *p = start(&f->cfg, 0);
			struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC,
						    .version = VGPU_PROTO_VERSION, .op = op,
						    .id = 99 };
			struct vgpu_wbuf w;
			void *b = NULL;

			vgpu_wbuf_init(&w);
			if (how == 0) {
				vgpu_put_u8(&w, 'a');	/* short, or trailing for LIST */
				vgpu_put_u8(&w, 'b');
				vgpu_put_u8(&w, 'c');
			} else if (how == 1) {
				vgpu_put_str(&w, big);		/* a str over 255 bytes */
			} else {
				vgpu_put_str(&w, "ok");		/* trailing bytes */
				vgpu_put_bytes(&w, big, 64);
			}
			h.len = (uint32_t)w.len;
			assert_int_equal(vgpu_frame_send(p->fd, &h, w.buf), 0);
			assert_int_equal(vgpu_frame_recv(p->fd, VGPU_PROTO_MAX_BODY, &h, &b,
							 NULL), -ECONNRESET);
			vgpu_wbuf_free(&w);
			finish(p);
		}
	}
}

static void test_admin_peer(void **state)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	in.sin_addr.s_addr = htonl(0x7f000001);
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&in, sizeof(in), false));
	in.sin_addr.s_addr = htonl(0x7f0a0b0c);
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&in, sizeof(in), false));
	in.sin_addr.s_addr = htonl(0x0a000001);
	assert_false(vgpu_part_admin_ok((struct sockaddr *)&in, sizeof(in), false));
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&in, sizeof(in), true));
	assert_false(vgpu_part_admin_ok((struct sockaddr *)&in, 4, false));	/* short */
	in6.sin6_addr = in6addr_loopback;
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&in6, sizeof(in6), false));
	memcpy(in6.sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\1", 16);
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&in6, sizeof(in6), false));
	memcpy(in6.sin6_addr.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\1", 16);
	assert_false(vgpu_part_admin_ok((struct sockaddr *)&in6, sizeof(in6), false));
	memcpy(in6.sin6_addr.s6_addr, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	assert_false(vgpu_part_admin_ok((struct sockaddr *)&in6, sizeof(in6), false));
	assert_true(vgpu_part_admin_ok((struct sockaddr *)&un, sizeof(un), false));
	assert_false(vgpu_part_admin_ok(NULL, 0, false));
	assert_true(vgpu_part_admin_ok(NULL, 0, true));
}

/*
 * A session whose peer is this host's own non-loopback address: a remote
 * peer as far as the server can tell.  Skipped without such an address.
 */
static struct peer *start_remote(const struct vgpu_server_config *cfg)
{
	struct sockaddr_in sa = { 0 };
	socklen_t sl = sizeof(sa);
	struct ifaddrs *ifa, *i;
	struct peer *p;
	int lfd;

	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    (i->ifa_flags & IFF_UP) && !(i->ifa_flags & IFF_LOOPBACK)) {
			memcpy(&sa, i->ifa_addr, sizeof(sa));
			break;
		}
	}
	freeifaddrs(ifa);
	if (!sa.sin_family)
		return NULL;
	sa.sin_port = 0;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	p = calloc(1, sizeof(*p));
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	p->sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->sfd >= 0);
	close(lfd);
	p->cfg = cfg;
	start_thread(p, 0);
	return p;
}

static void test_admin_remote(void **state)
{
	struct fixture *f = *state;
	struct vgpu_server_config any = f->cfg;
	struct peer *p = start_remote(&f->cfg);
	uint64_t limit;
	struct listed l;

	if (!p) {
		print_message("no non-loopback IPv4 address: skipped\n");
		skip();
	}
	assert_int_equal(list(p, NULL, &l), CUDA_ERROR_NOT_PERMITTED);
	assert_int_equal(create(p, "r", 0, MIB, 0, 10, 0), CUDA_ERROR_NOT_PERMITTED);
	assert_int_equal(resize(p, "r", MIB, 0, 0), CUDA_ERROR_NOT_PERMITTED);
	assert_int_equal(by_name(p, VGPU_OP_PARTITION_DELETE, "r"), CUDA_ERROR_NOT_PERMITTED);
	assert_int_equal(attach(p, "r", &limit), CUDA_ERROR_NOT_FOUND);	/* not admin */
	finish(p);
	any.admin_any = true;
	p = start_remote(&any);
	assert_int_equal(create(p, "r", 0, MIB, 0, 10, 0), 0);
	assert_int_equal(list(p, "r", &l), 0);
	assert_true(l.found && l.limit == MIB);
	assert_int_equal(attach(p, "r", &limit), 0);
	finish(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_wrong_gpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_gpu_of_partition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_two_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test(test_admin_peer),
		cmocka_unit_test_setup_teardown(test_admin_remote, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
