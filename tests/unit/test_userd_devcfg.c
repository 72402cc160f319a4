// SPDX-License-Identifier: MIT
/*
 * test_userd_devcfg.c - what vgpud tells the module about each device
 * (userd/devcfg.c): the server at start and reload, and the partition's
 * limits from each successful PARTITION_ATTACH.  The module is faked:
 * the binary is linked with --wrap=ioctl, and VGPU_CTRL_IOC_DEV_CONFIG on
 * the fake control fd is recorded per device instead of reaching a kernel
 * (everything else goes to the real ioctl).  The loop test runs channels
 * through io_uring to sim sessions with a partition table, as
 * test_userd_loop does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "server/partition.h"
#include "tests/unit/test_userd.h"
#include "userd/chan.h"
#include "userd/config.h"
#include "userd/devcfg.h"
#include "userd/loop.h"

#define FAKE_FD		1000	/* never a real descriptor of this test */
#define NR_DEVS		4
#define WAIT_MS		5000

/* ---- the fake module ---------------------------------------------------- */

static struct vgpu_ctrl_dev_config fake_dev[NR_DEVS];
static int fake_calls;
static int fake_fail;		/* errno the next DEV_CONFIG fails with, or 0 */

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	struct vgpu_ctrl_dev_config *dc;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != FAKE_FD)
		return __real_ioctl(fd, req, arg);
	assert_true(req == VGPU_CTRL_IOC_DEV_CONFIG);
	dc = arg;
	/* the module's checks (kmod/vgpu_ctrl.c) */
	assert_true(dc->dev_index < NR_DEVS);
	assert_int_equal(dc->flags, 0);
	assert_int_equal(dc->reserved0, 0);
	assert_non_null(memchr(dc->server, '\0', sizeof(dc->server)));
	assert_true(dc->compute_share <= 100);
	fake_calls++;
	if (fake_fail) {
		errno = fake_fail;
		fake_fail = 0;
		return -1;
	}
	fake_dev[dc->dev_index] = *dc;
	return 0;
}

static void fake_reset(void)
{
	memset(fake_dev, 0xa5, sizeof(fake_dev));	/* "never told" */
	fake_calls = 0;
	fake_fail = 0;
}

static void assert_dev(uint32_t i, const char *server, uint64_t mem, uint32_t share)
{
	assert_string_equal(fake_dev[i].server, server);
	assert_true(fake_dev[i].mem_limit == mem);
	assert_int_equal(fake_dev[i].compute_share, share);
}

static void cfg_dev(struct vgpud_config *cfg, int dev, const char *server, const char *part)
{
	const char *why = NULL;

	cfg->dev[dev].present = true;
	assert_int_equal(vgpud_parse_server(server, &cfg->dev[dev], &why), 0);
	snprintf(cfg->dev[dev].partition, sizeof(cfg->dev[dev].partition), "%s", part);
	cfg->ndevs++;
}

/* ---- devcfg alone ------------------------------------------------------- */

/* Start: every device of the module told, configured or not; limits 0. */
static void test_devcfg_apply(void **state)
{
	struct vgpud_config cfg;
	struct devcfg dc;

	fake_reset();
	vgpud_config_init(&cfg);
	cfg_dev(&cfg, 0, "10.0.0.1:7070", "");
	cfg_dev(&cfg, 1, "10.0.0.2:7070", "tenant");
	cfg_dev(&cfg, 5, "10.0.0.3:7070", "");	/* more than the module has */
	devcfg_init(&dc, FAKE_FD, NR_DEVS);
	devcfg_apply(&dc, &cfg);
	assert_int_equal(fake_calls, NR_DEVS);
	assert_dev(0, "10.0.0.1:7070", 0, 0);
	assert_dev(1, "10.0.0.2:7070", 0, 0);
	assert_dev(2, "", 0, 0);
	assert_dev(3, "", 0, 0);
}

/*
 * An attach shows the limits, keeping the server; the same values again
 * cost no ioctl; a channel of another device, another server or another
 * partition (opened before a reload) changes nothing.
 */
static void test_devcfg_attached(void **state)
{
	struct vgpu_partition_attach_resp a = { .id = 3, .gpu = 0, .mem_limit = 64 << 20,
						.compute_share = 25, .priority = 2 };
	struct vgpud_config cfg;
	struct devcfg dc;

	fake_reset();
	vgpud_config_init(&cfg);
	cfg_dev(&cfg, 0, "10.0.0.1:7070", "");
	cfg_dev(&cfg, 1, "10.0.0.2:7070", "tenant");
	devcfg_init(&dc, FAKE_FD, NR_DEVS);
	devcfg_apply(&dc, &cfg);
	fake_calls = 0;

	assert_true(devcfg_attached(&dc, 1, "10.0.0.2:7070", "tenant", &a));
	assert_int_equal(fake_calls, 1);
	assert_dev(1, "10.0.0.2:7070", 64 << 20, 25);
	assert_dev(0, "10.0.0.1:7070", 0, 0);

	assert_false(devcfg_attached(&dc, 1, "10.0.0.2:7070", "tenant", &a));
	assert_int_equal(fake_calls, 1);

	a.mem_limit = 96 << 20;		/* resized live: the next attach brings it */
	assert_true(devcfg_attached(&dc, 1, "10.0.0.2:7070", "tenant", &a));
	assert_dev(1, "10.0.0.2:7070", 96 << 20, 25);
	a.compute_share = 40;
	assert_true(devcfg_attached(&dc, 1, "10.0.0.2:7070", "tenant", &a));
	assert_dev(1, "10.0.0.2:7070", 96 << 20, 40);
	assert_int_equal(fake_calls, 3);

	a.mem_limit = 1 << 20;
	assert_false(devcfg_attached(&dc, 1, "10.0.0.2:7070", "other", &a));
	assert_false(devcfg_attached(&dc, 1, "10.0.0.9:7070", "tenant", &a));
	assert_false(devcfg_attached(&dc, 2, "", "tenant", &a));		/* not configured */
	assert_false(devcfg_attached(&dc, NR_DEVS, "10.0.0.2:7070", "tenant", &a));
	assert_false(devcfg_attached(&dc, VGPU_MAX_DEVICES + 1, "x:1", "tenant", &a));
	assert_int_equal(fake_calls, 3);
	assert_dev(1, "10.0.0.2:7070", 96 << 20, 40);
}

/*
 * Reload: a device whose server and partition stay keeps its limits; one
 * whose partition went (or changed, or whose server changed) goes back to
 * 0; one no longer configured is cleared altogether.
 */
static void test_devcfg_reload(void **state)
{
	struct vgpu_partition_attach_resp a = { .mem_limit = 64 << 20, .compute_share = 25 };
	struct vgpud_config cfg, fresh;
	struct devcfg dc;

	fake_reset();
	vgpud_config_init(&cfg);
	for (int i = 0; i < NR_DEVS; i++)
		cfg_dev(&cfg, i, "10.0.0.2:7070", "tenant");
	devcfg_init(&dc, FAKE_FD, NR_DEVS);
	devcfg_apply(&dc, &cfg);
	for (int i = 0; i < NR_DEVS; i++)
		assert_true(devcfg_attached(&dc, i, "10.0.0.2:7070", "tenant", &a));

	vgpud_config_init(&fresh);
	cfg_dev(&fresh, 0, "10.0.0.2:7070", "tenant");	/* unchanged */
	cfg_dev(&fresh, 1, "10.0.0.2:7070", "");		/* partition removed */
	cfg_dev(&fresh, 2, "10.0.0.3:7070", "tenant");	/* another server */
	/* [vgpu3] removed */
	devcfg_apply(&dc, &fresh);
	assert_dev(0, "10.0.0.2:7070", 64 << 20, 25);
	assert_dev(1, "10.0.0.2:7070", 0, 0);
	assert_dev(2, "10.0.0.3:7070", 0, 0);
	assert_dev(3, "", 0, 0);

	/* a channel opened before the reload attaches late: ignored */
	assert_false(devcfg_attached(&dc, 2, "10.0.0.2:7070", "tenant", &a));
	assert_false(devcfg_attached(&dc, 1, "10.0.0.2:7070", "tenant", &a));
	assert_dev(2, "10.0.0.3:7070", 0, 0);
	/* a new channel under the new configuration */
	assert_true(devcfg_attached(&dc, 2, "10.0.0.3:7070", "tenant", &a));
	assert_dev(2, "10.0.0.3:7070", 64 << 20, 25);
}

/* A refused ioctl is logged and reported; nothing else breaks. */
static void test_devcfg_ioctl_fails(void **state)
{
	struct vgpu_partition_attach_resp a = { .mem_limit = 64 << 20, .compute_share = 25 };
	struct vgpud_config cfg;
	struct devcfg dc;

	fake_reset();
	vgpud_config_init(&cfg);
	cfg_dev(&cfg, 0, "10.0.0.2:7070", "tenant");
	devcfg_init(&dc, FAKE_FD, NR_DEVS);
	devcfg_apply(&dc, &cfg);
	fake_fail = EINVAL;
	assert_false(devcfg_attached(&dc, 0, "10.0.0.2:7070", "tenant", &a));
	assert_dev(0, "10.0.0.2:7070", 0, 0);
}

/* ---- through the loop --------------------------------------------------- */

#define RUN_UNTIL(l, cond)						\
	do {								\
		uint64_t end_ = now_ms() + WAIT_MS;			\
		while (!(cond)) {					\
			assert_true(now_ms() < end_);			\
			assert_true(loop_run_once(l, 10) >= 0);		\
		}							\
	} while (0)

static void open_chan(struct loop *l, struct tring *t, uint32_t id, uint32_t dev)
{
	tring_init(t, 8, 16, 4096, 0);
	assert_int_equal(loop_chan_add(l, id, dev, 1, t->map, &t->ri, 0, false), 0);
	RUN_UNTIL(l, chan_ready(loop_chan(l, id)) || chan_error(loop_chan(l, id)));
}

/*
 * vgpud's path end to end but for the kernel: channels of a device with a
 * partition attach through the loop, and each attach sets the device's
 * limits with DEV_CONFIG (server kept).  A resize on the server shows with
 * the next channel; a refused attach and a device without a partition
 * leave 0; a reload that removes the partition clears it.
 */
static void test_loop_attach_sets_limits(void **state)
{
	static const char *names[] = { "vgpu sim device" };
	static const uint64_t totals[] = { 256 << 20 };
	struct vgpu_partitions parts;
	struct vgpud_config cfg;
	struct tlisten ls;
	struct tring t[4];
	struct devcfg dc;
	struct loop *l;
	char server[32];
	uint32_t id;

	fake_reset();
	assert_int_equal(vgpu_part_table_create(&parts, 8), 0);
	assert_int_equal(vgpu_part_set_gpus(&parts, 1, names, totals), 0);
	assert_int_equal(vgpu_part_create(&parts, "tenant", 0, 64 << 20, 0, 25, 0, &id), 0);
	tserver_parts = &parts;
	tlisten_start(&ls, 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", ls.port);
	vgpud_config_init(&cfg);
	cfg_dev(&cfg, 0, server, "");
	cfg_dev(&cfg, 1, server, "tenant");
	cfg_dev(&cfg, 2, server, "nosuch");
	devcfg_init(&dc, FAKE_FD, NR_DEVS);
	devcfg_apply(&dc, &cfg);
	assert_int_equal(loop_init(&l, -1, -1, &cfg), 0);
	loop_set_devcfg(l, &dc);

	open_chan(l, &t[0], 10, 1);
	assert_true(chan_ready(loop_chan(l, 10)));
	assert_dev(1, server, 64 << 20, 25);
	open_chan(l, &t[1], 11, 0);
	open_chan(l, &t[2], 12, 2);
	assert_int_equal(chan_error(loop_chan(l, 12)), -ENOTCONN);
	assert_dev(0, server, 0, 0);
	assert_dev(2, server, 0, 0);

	/* vgpuctl resize: sysfs learns it from the next channel's attach */
	assert_int_equal(vgpu_part_resize(&parts, "tenant", 96 << 20, 0, 40), 0);
	assert_dev(1, server, 64 << 20, 25);
	open_chan(l, &t[3], 13, 1);
	assert_dev(1, server, 96 << 20, 40);

	/* SIGHUP without the partition */
	cfg.dev[1].partition[0] = '\0';
	devcfg_apply(&dc, &cfg);
	assert_dev(1, server, 0, 0);

	loop_free(l);
	for (int i = 0; i < 4; i++)
		tring_fini(&t[i]);
	tlisten_stop(&ls);
	tserver_parts = NULL;
	vgpu_part_table_destroy(&parts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devcfg_apply),
		cmocka_unit_test(test_devcfg_attached),
		cmocka_unit_test(test_devcfg_reload),
		cmocka_unit_test(test_devcfg_ioctl_fails),
		cmocka_unit_test(test_loop_attach_sets_limits),
	};

	vgpu_log_init("test_userd_devcfg",
		      getenv("VGPU_TEST_DEBUG") ? VGPU_LOG_DEBUG : VGPU_LOG_ERR, 0);
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
