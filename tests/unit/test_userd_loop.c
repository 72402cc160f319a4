// SPDX-License-Identifier: MIT
/*
 * test_userd_loop.c - vgpud's io_uring loop (userd/loop.c, userd/conn.c)
 * on this host's io_uring: asynchronous connect with a linked timeout,
 * sendmsg/recv of frames over loopback TCP to sim sessions in threads, the
 * CQ-full retry tick, channel close with I/O in flight, and stopping.  The
 * kernel's part (FETCH/COMMIT on /dev/vgpu-control) is replaced by feeding
 * events with loop_handle_event(); COMMITs are only counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "server/partition.h"
#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/config.h"
#include "userd/ctrl.h"
#include "userd/loop.h"

#define WAIT_MS 5000

static void cfg_dev(struct vgpud_config *cfg, int dev, const char *server, uint32_t gpu)
{
	const char *why = NULL;

	cfg->dev[dev].present = true;
	assert_int_equal(vgpud_parse_server(server, &cfg->dev[dev], &why), 0);
	cfg->dev[dev].gpu = gpu;
	cfg->ndevs++;
}

static void cfg_local(struct vgpud_config *cfg, int dev, uint16_t port)
{
	char s[32];

	snprintf(s, sizeof(s), "127.0.0.1:%u", port);
	cfg_dev(cfg, dev, s, 0);
}

/* Publish the SQ tail and deliver a DOORBELL event. */
static void ring_doorbell(struct loop *l, struct tring *t, uint32_t id)
{
	tring_publish(t);
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_DOORBELL, id));
}

/* Run the loop until @want completions were reaped from @t. */
static void run_reap(struct loop *l, struct tring *t, struct vgpu_cqe *out, int want)
{
	uint64_t end = now_ms() + WAIT_MS;
	int got = 0;

	while (got < want) {
		assert_true(now_ms() < end);
		assert_true(loop_run_once(l, 10) >= 0);
		got += tring_reap(t, out + got, want - got);
	}
}

#define RUN_UNTIL(l, cond)						\
	do {								\
		uint64_t end_ = now_ms() + WAIT_MS;			\
		while (!(cond)) {					\
			assert_true(now_ms() < end_);			\
			assert_true(loop_run_once(l, 10) >= 0);		\
		}							\
	} while (0)

/* One request through the loop; returns its response area. */
static uint8_t *call(struct loop *l, struct tring *t, uint32_t chan, uint64_t id, uint16_t op,
		     struct vgpu_wbuf *w, uint32_t cap, struct vgpu_cqe *q)
{
	uint32_t off = tring_req(t, id, op, w, cap)->resp_off;

	if (w)
		vgpu_wbuf_free(w);
	ring_doorbell(l, t, chan);
	run_reap(l, t, q, 1);
	assert_true(q->id == id);
	return t->data + off;
}

/* A whole session through io_uring: connect, HELLO, 1 MiB each way, close. */
static void test_loop_roundtrip(void **state)
{
	const size_t big = 1 << 20;
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t;
	struct loop *l;
	struct vgpu_cqe q;
	struct vgpu_wbuf w;
	uint8_t *resp, *pattern = malloc(big);
	uint64_t ctx, dptr;

	tlisten_start(&ls, 0);
	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, ls.port);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t, 64, 128, 4 << 20, 0xffffff00u);
	assert_int_equal(loop_chan_add(l, 3, 0, 4321, t.map, &t.ri, 0, false), 0);
	assert_int_equal(loop_stats(l)->channels, 1);

	resp = call(l, &t, 3, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, 4);
	assert_int_equal(resp[0], 1);
	assert_true(chan_ready(loop_chan(l, 3)));

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	ctx = get_le64(call(l, &t, 3, 2, VGPU_OP_CTX_CREATE, &w, 8, &q));
	assert_int_equal(q.res, 0);
	wb_u64x2(&w, ctx, big);
	dptr = get_le64(call(l, &t, 3, 3, VGPU_OP_MEM_ALLOC, &w, 8, &q));
	assert_int_equal(q.res, 0);

	for (size_t i = 0; i < big; i++)
		pattern[i] = (uint8_t)(i * 131 + (i >> 12));
	wb_u64x2(&w, ctx, dptr);
	vgpu_put_u64(&w, 0);
	vgpu_put_bytes(&w, pattern, big);
	call(l, &t, 3, 4, VGPU_OP_MEMCPY_HTOD, &w, 0, &q);
	assert_int_equal(q.res, 0);

	wb_u64x2(&w, ctx, dptr);
	vgpu_put_u64(&w, big);
	vgpu_put_u64(&w, 0);
	resp = call(l, &t, 3, 5, VGPU_OP_MEMCPY_DTOH, &w, big + 4, &q);
	assert_int_equal(q.res, 0);
	assert_int_equal(q.resp_len, big + 4);
	assert_memory_equal(resp + 4, pattern, big);
	assert_true(loop_stats(l)->commits >= 5);

	/* the application closes: the socket goes, and with it the session */
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_CLOSE, 3));
	assert_null(loop_chan(l, 3));
	assert_int_equal(loop_stats(l)->channels, 0);
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 5);
	tlisten_stop(&ls);
	assert_int_equal(ls.nsessions, 1);
	assert_int_equal(ls.s[0].ret, 0);
	loop_free(l);
	tring_fini(&t);
	free(pattern);
}

/* A device without a server in the configuration: -ENOTCONN, at once. */
static void test_loop_unconfigured(void **state)
{
	struct vgpud_config cfg;
	struct tring t;
	struct loop *l;
	struct vgpu_cqe q[2];

	vgpud_config_init(&cfg);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	/* OPEN from the kernel needs the control device: refused, no channel */
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_OPEN, 9));
	assert_null(loop_chan(l, 9));

	tring_init(&t, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 9, 1, 1, t.map, &t.ri, 0, false), 0);
	tring_req(&t, 1, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_req(&t, 2, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t, 9);
	run_reap(l, &t, q, 2);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_int_equal(q[1].res, -ENOTCONN);
	assert_true(loop_stats(l)->commits >= 1);
	/* events for channels that do not exist are ignored */
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_DOORBELL | VGPU_EVT_CLOSE, 77));
	/* OPEN, DOORBELL and CLOSE in one event: handled in that order */
	tring_req(&t, 3, VGPU_OP_DEVICE_COUNT, NULL, 4);
	tring_publish(&t);
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_DOORBELL | VGPU_EVT_CLOSE, 9));
	assert_int_equal(tring_reap(&t, q, 2), 1);
	assert_int_equal(q[0].res, -ENOTCONN);
	assert_null(loop_chan(l, 9));
	loop_free(l);
	tring_fini(&t);
}

static uint16_t closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Nobody listening: the connect fails, so does every entry (-ENOTCONN). */
static void test_loop_connect_refused(void **state)
{
	struct vgpud_config cfg;
	struct tring t;
	struct loop *l;
	struct vgpu_cqe q[3];

	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, closed_port());
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 1, 0, 1, t.map, &t.ri, 0, false), 0);
	for (int i = 0; i < 3; i++)
		tring_req(&t, 10 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t, 1);
	run_reap(l, &t, q, 3);
	for (int i = 0; i < 3; i++) {
		assert_true(q[i].id == 10 + (uint64_t)i);
		assert_int_equal(q[i].res, -ENOTCONN);
	}
	assert_int_equal(chan_error(loop_chan(l, 1)), -ENOTCONN);
	loop_free(l);
	tring_fini(&t);
}

/* MEM_GET_INFO's total on a channel (a context first, with request ids id, id + 1). */
static uint64_t chan_total(struct loop *l, struct tring *t, uint32_t chan, uint64_t id)
{
	struct vgpu_cqe q;
	struct vgpu_wbuf w;
	uint8_t *resp;
	uint64_t ctx;

	vgpu_wbuf_init(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 0);
	ctx = get_le64(call(l, t, chan, id, VGPU_OP_CTX_CREATE, &w, 8, &q));
	assert_int_equal(q.res, 0);
	vgpu_wbuf_init(&w);
	vgpu_put_u64(&w, ctx);
	resp = call(l, t, chan, id + 1, VGPU_OP_MEM_GET_INFO, &w, 16, &q);
	assert_int_equal(q.res, 0);
	return get_le64(resp + 8);
}

/*
 * A device with `partition = NAME`: the loop's channels attach after HELLO
 * (the session then shows the partition's limit); an unknown partition
 * fails the channel with -ENOTCONN; a device without one sees the GPU.  A
 * reloaded configuration (SIGHUP replaces the table the loop reads) binds
 * the channels opened afterwards; open ones keep their session.
 */
static void test_loop_partition(void **state)
{
	static const char *names[] = { "vgpu sim device" };
	static const uint64_t totals[] = { 64 << 20 };
	struct vgpu_partitions parts;
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t[4];
	struct loop *l;
	struct vgpu_cqe q;
	uint32_t id;

	assert_int_equal(vgpu_part_table_create(&parts, 8), 0);
	assert_int_equal(vgpu_part_set_gpus(&parts, 1, names, totals), 0);
	assert_int_equal(vgpu_part_create(&parts, "p8", 0, 8 << 20, 0, 10, 0, &id), 0);
	tserver_parts = &parts;
	tlisten_start(&ls, 0);
	vgpud_config_init(&cfg);
	for (int dev = 0; dev < 3; dev++)
		cfg_local(&cfg, dev, ls.port);
	strcpy(cfg.dev[0].partition, "p8");
	strcpy(cfg.dev[1].partition, "nosuch");
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	for (int i = 0; i < 4; i++)
		tring_init(&t[i], 8, 16, 4096, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(loop_chan_add(l, 10 + i, i, 1, t[i].map, &t[i].ri, 0, false), 0);
	assert_true(chan_total(l, &t[0], 10, 1) == 8 << 20);
	assert_true(chan_total(l, &t[2], 12, 1) == 64 << 20);
	call(l, &t[1], 11, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, -ENOTCONN);

	/* the reload: vgpu2 gets the partition, for the channels opened from now on */
	strcpy(cfg.dev[2].partition, "p8");
	assert_int_equal(loop_chan_add(l, 13, 2, 1, t[3].map, &t[3].ri, 0, false), 0);
	assert_true(chan_total(l, &t[3], 13, 1) == 8 << 20);
	assert_true(chan_total(l, &t[2], 12, 3) == 64 << 20);

	loop_free(l);
	for (int i = 0; i < 4; i++)
		tring_fini(&t[i]);
	tlisten_stop(&ls);
	tserver_parts = NULL;
	vgpu_part_table_destroy(&parts);
}

/* "localhost" may resolve to ::1 first while the server is on 127.0.0.1 only. */
static void test_loop_connect_by_name(void **state)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t;
	struct loop *l;
	struct vgpu_cqe q;
	char s[32];

	if (getaddrinfo("localhost", "1", &hints, &ai)) {
		skip();
		return;
	}
	freeaddrinfo(ai);
	tlisten_start(&ls, 0);
	vgpud_config_init(&cfg);
	snprintf(s, sizeof(s), "localhost:%u", ls.port);
	cfg_dev(&cfg, 2, s, 0);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 5, 2, 1, t.map, &t.ri, 0, false), 0);
	call(l, &t, 5, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);
	loop_free(l);
	tlisten_stop(&ls);
	tring_fini(&t);
}

/* One server drops its session: only that channel fails. */
static void test_loop_server_lost(void **state)
{
	struct vgpud_config cfg;
	struct tlisten bad, good;
	struct tring t1, t2;
	struct loop *l;
	struct vgpu_cqe q[3];

	tlisten_start(&bad, 1);		/* HELLO, one frame, close */
	tlisten_start(&good, 0);
	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, bad.port);
	cfg_local(&cfg, 1, good.port);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t1, 8, 16, 4096, 0);
	tring_init(&t2, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 1, 0, 1, t1.map, &t1.ri, 0, false), 0);
	assert_int_equal(loop_chan_add(l, 2, 1, 1, t2.map, &t2.ri, 0, false), 0);
	assert_int_equal(loop_stats(l)->channels, 2);

	for (int i = 0; i < 3; i++)
		tring_req(&t1, 1 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t1, 1);
	call(l, &t2, 2, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, q);
	assert_int_equal(q[0].res, 0);
	run_reap(l, &t1, q, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(q[i].res, -ECONNRESET);
	assert_int_equal(chan_error(loop_chan(l, 1)), -ECONNRESET);
	/* later entries fail too; the other channel goes on */
	tring_req(&t1, 4, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t1, 1);
	run_reap(l, &t1, q, 1);
	assert_int_equal(q[0].res, -ECONNRESET);
	call(l, &t2, 2, 2, VGPU_OP_DEVICE_COUNT, NULL, 4, q);
	assert_int_equal(q[0].res, 0);
	assert_int_equal(chan_error(loop_chan(l, 2)), 0);
	loop_free(l);
	tlisten_stop(&bad);
	/* HELLO named us: vgpud/<host>/vgpuN/<pid> */
	assert_int_equal(strncmp(bad.s[0].client, "vgpud/", 6), 0);
	assert_non_null(strstr(bad.s[0].client, "/vgpu0/1"));
	tlisten_stop(&good);
	tring_fini(&t1);
	tring_fini(&t2);
}

/* The CQ is full and the application reaps without ringing: the tick delivers. */
static void test_loop_cq_full_tick(void **state)
{
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t;
	struct loop *l;
	struct chan *c;
	struct vgpu_cqe q[4];

	tlisten_start(&ls, 0);
	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, ls.port);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t, 4, 4, 4096, 0);
	assert_int_equal(loop_chan_add(l, 1, 0, 1, t.map, &t.ri, 0, false), 0);
	c = loop_chan(l, 1);
	for (int i = 0; i < 4; i++)
		tring_req(&t, 1 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t, 1);
	RUN_UNTIL(l, tring_cq_ready(&t) == 4);
	for (int i = 0; i < 4; i++)
		tring_req(&t, 5 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t, 1);
	RUN_UNTIL(l, chan_wants_retry(c) && chan_inflight(c) == 0);
	assert_int_equal(tring_reap(&t, q, 4), 4);
	for (int i = 0; i < 4; i++)
		assert_true(q[i].id == 1 + (uint64_t)i);
	/* no doorbell: only the retry tick can publish the held completions */
	run_reap(l, &t, q, 4);
	for (int i = 0; i < 4; i++)
		assert_true(q[i].id == 5 + (uint64_t)i);
	assert_false(chan_wants_retry(c));
	loop_free(l);
	tlisten_stop(&ls);
	tring_fini(&t);
}

/* Closing a channel with a connection and requests in flight. */
static void test_loop_close_in_flight(void **state)
{
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t;
	struct loop *l;

	tlisten_start(&ls, 1000);	/* reads, never answers */
	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, ls.port);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	tring_init(&t, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 1, 0, 1, t.map, &t.ri, 0, false), 0);
	for (int i = 0; i < 4; i++)
		tring_req(&t, 1 + i, VGPU_OP_DEVICE_COUNT, NULL, 4);
	ring_doorbell(l, &t, 1);
	RUN_UNTIL(l, chan_ready(loop_chan(l, 1)) && chan_inflight(loop_chan(l, 1)) == 4);
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 5);
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_CLOSE, 1));
	for (int i = 0; i < 10; i++)
		loop_run_once(l, 5);
	assert_int_equal(*t.cq_tail, 0);	/* the ring is left alone */
	/* the same id opened again is a new channel */
	assert_int_equal(loop_chan_add(l, 1, 0, 1, t.map, &t.ri, 0, false), 0);
	loop_free(l);		/* closes the second while it connects */
	tlisten_stop(&ls);
	assert_true(ls.nsessions >= 1);
	tring_fini(&t);
}

/* The stop eventfd (written by the signal handler) and FETCH errors end the loop. */
static void test_loop_stop(void **state)
{
	struct vgpud_config cfg;
	struct loop *l;
	uint64_t one = 1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	vgpud_config_init(&cfg);
	assert_int_equal(loop_init(&l, -1, efd, &cfg), 0);
	assert_false(loop_stopped(l));
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_stopped(l));
	loop_free(l);
	close(efd);

	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	loop_handle_event(l, -ESHUTDOWN);	/* detached */
	assert_true(loop_stopped(l));
	assert_int_equal(loop_run(l), 0);
	loop_free(l);

	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	loop_handle_event(l, -EINVAL);		/* a FETCH the kernel refuses */
	assert_int_equal(loop_run(l), 1);
	loop_free(l);
}

struct reload_probe {
	struct vgpud_config *cfg;
	uint16_t port;
	int calls;
};

/* what vgpud's SIGHUP handler does: replace device 1's server in place */
static void reload_cb(void *arg)
{
	struct reload_probe *p = arg;

	p->calls++;
	vgpud_config_init(p->cfg);
	cfg_local(p->cfg, 1, p->port);
}

/*
 * SIGHUP: the reload eventfd calls back from the loop, every time; a
 * channel opened before keeps its server, a channel opened after uses the
 * new configuration.
 */
static void test_loop_reload(void **state)
{
	struct vgpud_config cfg;
	struct reload_probe probe = { .cfg = &cfg };
	struct tlisten ls;
	struct tring t0, t1;
	struct loop *l;
	struct vgpu_cqe q;
	uint64_t one = 1;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	tlisten_start(&ls, 0);
	vgpud_config_init(&cfg);
	cfg_local(&cfg, 0, ls.port);		/* vgpu0 served, vgpu1 not */
	probe.port = ls.port;
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	loop_set_reload(l, efd, reload_cb, &probe);
	tring_init(&t0, 8, 16, 4096, 0);
	tring_init(&t1, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, 5, 0, 1, t0.map, &t0.ri, 0, false), 0);
	call(l, &t0, 5, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);

	/* the new configuration serves vgpu1 and no longer vgpu0 */
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	RUN_UNTIL(l, probe.calls == 1);
	assert_false(cfg.dev[0].present);
	call(l, &t0, 5, 2, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);		/* open channel: undisturbed */
	assert_int_equal(loop_chan_add(l, 6, 1, 2, t1.map, &t1.ri, 0, false), 0);
	call(l, &t1, 6, 1, VGPU_OP_DEVICE_COUNT, NULL, 4, &q);
	assert_int_equal(q.res, 0);		/* new channel on vgpu1: served */

	/* the eventfd is re-armed: a second SIGHUP reloads again */
	assert_int_equal(write(efd, &one, sizeof(one)), sizeof(one));
	RUN_UNTIL(l, probe.calls == 2);
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_CLOSE, 5));
	loop_handle_event(l, VGPU_EVT(VGPU_EVT_CLOSE, 6));
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 5);
	loop_free(l);
	tlisten_stop(&ls);
	assert_int_equal(ls.nsessions, 2);
	tring_fini(&t0);
	tring_fini(&t1);
	close(efd);
}

/* The uring_cmd SQE: plain 64 bytes, cmd_op at 8, struct vgpu_uring_cmd at 48. */
static void test_ctrl_prep_cmd(void **state)
{
	struct io_uring_sqe sqe;
	const uint8_t *b = (const uint8_t *)&sqe;
	struct vgpu_uring_cmd uc;
	uint32_t op;

	assert_int_equal(sizeof(sqe), 64);
	memset(&sqe, 0xff, sizeof(sqe));
	ctrl_prep_cmd(&sqe, 42, VGPU_URING_CMD_COMMIT, 0x123456);
	assert_int_equal(sqe.opcode, IORING_OP_URING_CMD);
	assert_int_equal(sqe.fd, 42);
	assert_int_equal(sqe.flags, 0);
	memcpy(&op, b + 8, 4);
	assert_int_equal(op, VGPU_URING_CMD_COMMIT);
	memcpy(&uc, b + 48, sizeof(uc));
	assert_int_equal(uc.chan_id, 0x123456);
	assert_int_equal(uc.flags, 0);
	assert_true(uc.reserved == 0);
	ctrl_prep_cmd(&sqe, 42, VGPU_URING_CMD_FETCH, 0);
	memcpy(&uc, b + 48, sizeof(uc));
	assert_int_equal(uc.chan_id, 0);
}

/*
 * The FETCH commands really go through io_uring.  On a file without
 * uring_cmd support they fail; /dev/null on newer kernels has a no-op
 * uring_cmd that completes with 0, an event-less result that no vgpu
 * kernel sends.  Either way the daemon stops with exit status 1 instead
 * of re-arming forever.
 */
static void fetch_on(int fd)
{
	struct vgpud_config cfg;
	struct loop *l;

	vgpud_config_init(&cfg);
	assert_int_equal(loop_init(&l, fd, -1, &cfg), 0);
	assert_int_equal(loop_run(l), 1);
	assert_true(loop_stats(l)->events >= 1);
	assert_true(loop_stats(l)->events <= LOOP_FETCHES);
	loop_free(l);
}

static void test_loop_fetch_unsupported(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int nfd = open("/dev/null", O_RDWR | O_CLOEXEC);

	assert_true(efd >= 0 && nfd >= 0);
	fetch_on(efd);
	fetch_on(nfd);
	close(efd);
	close(nfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_roundtrip),
		cmocka_unit_test(test_loop_unconfigured),
		cmocka_unit_test(test_loop_connect_refused),
		cmocka_unit_test(test_loop_connect_by_name),
		cmocka_unit_test(test_loop_partition),
		cmocka_unit_test(test_loop_server_lost),
		cmocka_unit_test(test_loop_cq_full_tick),
		cmocka_unit_test(test_loop_close_in_flight),
		cmocka_unit_test(test_loop_stop),
		cmocka_unit_test(test_loop_reload),
		cmocka_unit_test(test_ctrl_prep_cmd),
		cmocka_unit_test(test_loop_fetch_unsupported),
	};

	vgpu_log_init("test_userd_loop",
		      getenv("VGPU_TEST_DEBUG") ? VGPU_LOG_DEBUG : VGPU_LOG_ERR, 0);
	alarm(120);	/* a hang fails the run instead of blocking make unit */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
