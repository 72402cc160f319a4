// SPDX-License-Identifier: MIT
/*
 * modtest - the module's ABI from user space, in a guest with vgpu.ko
 * loaded (nr_devices >= 2) and no vgpud running.  This program plays both
 * sides: the daemon (control node, io_uring FETCH/COMMIT) and applications
 * (/dev/vgpuN), and checks every rule uapi/vgpu.h states, bad input first.
 * Prints "ok N - what" / "not ok N - what" (TAP) and exits non-zero on any
 * failure.  Built static (the guest has no libc of its own).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/vgpu.h"

static int n_test, n_fail;

#define CHECK(cond, ...) do {						\
	n_test++;							\
	if (cond) {							\
		printf("ok %d - ", n_test);				\
	} else {							\
		n_fail++;						\
		printf("not ok %d - (%s:%d, errno %d) ", n_test,	\
		       __FILE__, __LINE__, errno);			\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	fflush(stdout);							\
} while (0)

/* ioctl returning -errno */
static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

struct app {
	int fd;
	struct vgpu_setup s;
	uint8_t *ring;
};

static int app_open(struct app *a, int dev)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/vgpu%d", dev);
	memset(a, 0, sizeof(*a));
	a->fd = open(path, O_RDWR | O_CLOEXEC);
	return a->fd < 0 ? -errno : 0;
}

static int app_setup(struct app *a)
{
	memset(&a->s, 0, sizeof(a->s));
	a->s.api_version = VGPU_API_VERSION;
	a->s.features = VGPU_F_ALL;
	return xioctl(a->fd, VGPU_IOC_SETUP, &a->s);
}

static uint32_t *idx(uint8_t *ring, uint32_t off)
{
	return (uint32_t *)(ring + off);
}

/* ---- the daemon side: io_uring passthrough on the control node ------- */

static struct io_uring uring;

static void prep_cmd(int ctl, uint32_t op, uint32_t chan, uint32_t flags, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&uring);
	struct vgpu_uring_cmd c = { .chan_id = chan, .flags = flags };

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, ctl, NULL, 0, 0);
	sqe->cmd_op = op;
	memcpy(sqe->cmd, &c, sizeof(c));
	sqe->user_data = tag;
}

/* wait for the completion tagged @tag (others are not expected here) */
static int wait_tag(uint64_t tag, int timeout_ms, int *res)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000,
					.tv_nsec = (timeout_ms % 1000) * 1000000L };
	struct io_uring_cqe *cqe;
	int ret;

	io_uring_submit(&uring);
	ret = io_uring_wait_cqe_timeout(&uring, &cqe, &ts);
	if (ret)
		return ret;
	ret = cqe->user_data == tag ? 0 : -EBADMSG;
	*res = cqe->res;
	io_uring_cqe_seen(&uring, cqe);
	return ret;
}

static int fetch(int ctl, int timeout_ms, int *res)
{
	prep_cmd(ctl, VGPU_URING_CMD_FETCH, 0, 0, 1);
	return wait_tag(1, timeout_ms, res);
}

static int commit(int ctl, uint32_t chan)
{
	int res = 0, ret;

	prep_cmd(ctl, VGPU_URING_CMD_COMMIT, chan, 0, 2);
	ret = wait_tag(2, 1000, &res);
	return ret ? ret : res;
}

static int attach(int ctl)
{
	struct vgpu_ctrl_attach a = { .api_version = VGPU_API_VERSION, .features = VGPU_F_ALL };

	return xioctl(ctl, VGPU_CTRL_IOC_ATTACH, &a);
}

static long sysfs_num(int dev, const char *name)
{
	char path[96], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/vgpu%d/%s", dev, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtol(buf, NULL, 10);
}

static void test_bad_input(int ctl)
{
	struct vgpu_ctrl_attach a = { .api_version = VGPU_API_VERSION };
	struct vgpu_dev_info info;
	struct app app;
	int res;

	CHECK(open("/dev/vgpu-control", O_RDWR) < 0 && errno == EBUSY, "second control opener: EBUSY");
	CHECK(app_open(&app, 0) == 0, "open /dev/vgpu0");
	CHECK(xioctl(app.fd, VGPU_IOC_GET_INFO, &info) == 0 && info.api_version == VGPU_API_VERSION &&
	      info.state == VGPU_DEV_NO_DAEMON && info.index == 0, "GET_INFO before attach: no daemon");
	CHECK(app_setup(&app) == -ENOTCONN, "SETUP without a daemon: ENOTCONN");
	CHECK(xioctl(app.fd, VGPU_IOC_DOORBELL, NULL) == -EBADFD, "DOORBELL before SETUP: EBADFD");
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_DETACH, NULL) == -ENOTCONN, "DETACH before ATTACH: ENOTCONN");
	CHECK(fetch(ctl, 1000, &res) == 0 && res == -ENOTCONN, "FETCH before ATTACH: ENOTCONN");

	a.api_version = 99;
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_ATTACH, &a) == -EPROTO, "ATTACH wrong api version: EPROTO");
	a.api_version = VGPU_API_VERSION;
	a.reserved1[2] = 1;
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_ATTACH, &a) == -EINVAL, "ATTACH reserved set: EINVAL");
	CHECK(attach(ctl) == 0, "ATTACH");
	CHECK(attach(ctl) == -EBUSY, "second ATTACH: EBUSY");
	{
		FILE *f = fopen("/sys/class/misc/vgpu0/state", "r");
		char st[32] = "";

		if (f) {
			if (!fgets(st, sizeof(st), f))
				st[0] = 0;
			fclose(f);
		}
		CHECK(strcmp(st, "live\n") == 0, "sysfs state: live");
	}

	/* bad setup requests */
	memset(&app.s, 0, sizeof(app.s));
	app.s.api_version = VGPU_API_VERSION;
	app.s.sq_entries = 3;
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &app.s) == -EINVAL, "SETUP sq_entries 3: EINVAL");
	app.s.sq_entries = 1u << 20;
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &app.s) == -EINVAL, "SETUP sq_entries 1M: EINVAL");
	app.s.sq_entries = 0;
	app.s.data_size = 0xffffffffu;
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &app.s) == -EINVAL, "SETUP data_size 4G: EINVAL");
	app.s.data_size = 0;
	app.s.reserved1[0] = 7;
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &app.s) == -EINVAL, "SETUP reserved set: EINVAL");
	app.s.reserved1[0] = 0;
	app.s.api_version = 2;
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &app.s) == -EPROTO, "SETUP api version 2: EPROTO");
	CHECK(xioctl(app.fd, VGPU_IOC_SETUP, (void *)16) == -EFAULT, "SETUP bad pointer: EFAULT");
	CHECK(xioctl(app.fd, _IO(VGPU_IOC_MAGIC, 0x7f), NULL) == -ENOTTY, "unknown ioctl: ENOTTY");
	CHECK(mmap(NULL, 4096, PROT_READ, MAP_SHARED, app.fd, 0) == MAP_FAILED && errno == EBADFD,
	      "mmap before SETUP: EBADFD");
	close(app.fd);
	/* that channel never went LIVE: the daemon hears nothing of it */
	CHECK(fetch(ctl, 300, &res) == -ETIME, "no event for a channel never set up");
}

static void test_one_call(int ctl)
{
	struct vgpu_ctrl_chan_info ci = { 0 };
	struct vgpu_ring_info *ri;
	struct vgpu_sqe *sqe;
	struct vgpu_cqe *cqe;
	struct pollfd pfd;
	uint8_t *dring;
	struct app app;
	long db0 = sysfs_num(0, "doorbells"), cm0 = sysfs_num(0, "commits");
	int res, i;

	/* the parked FETCH from test_bad_input's timeout is still pending */
	CHECK(app_open(&app, 0) == 0 && app_setup(&app) == 0, "SETUP with a daemon");
	ri = &app.s.ring;
	CHECK(app.s.chan_id > 0 && ri->sq_entries == VGPU_SQ_ENTRIES_DEFAULT &&
	      ri->map_size >= ri->data_off + ri->data_size, "ring info published (chan %u)", app.s.chan_id);
	{
		struct vgpu_setup again = { .api_version = VGPU_API_VERSION };

		CHECK(xioctl(app.fd, VGPU_IOC_SETUP, &again) == -EBUSY, "second SETUP: EBUSY");
	}
	CHECK(mmap(NULL, ri->map_size - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, app.fd, 0) == MAP_FAILED &&
	      errno == EINVAL, "partial mmap: EINVAL");
	CHECK(mmap(NULL, ri->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, app.fd, 4096) == MAP_FAILED,
	      "mmap at another offset fails");
	CHECK(mmap(NULL, ri->map_size, PROT_READ | PROT_EXEC, MAP_SHARED, app.fd, 0) == MAP_FAILED,
	      "executable mmap fails");
	app.ring = mmap(NULL, ri->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, app.fd, 0);
	CHECK(app.ring != MAP_FAILED, "app maps its ring");

	/* the earlier parked fetch completes with OPEN */
	{
		struct io_uring_cqe *c;
		struct __kernel_timespec ts = { .tv_sec = 2 };

		res = 0;
		if (io_uring_wait_cqe_timeout(&uring, &c, &ts) == 0) {
			res = c->res;
			io_uring_cqe_seen(&uring, c);
		}
	}
	CHECK(VGPU_EVT_EVENTS(res) == VGPU_EVT_OPEN && VGPU_EVT_CHAN(res) == app.s.chan_id,
	      "parked FETCH completes with OPEN (res %#x)", res);

	ci.chan_id = app.s.chan_id;
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_CHAN_INFO, &ci) == 0 && ci.dev_index == 0 &&
	      ci.state == VGPU_CHAN_LIVE && ci.pid == getpid() && ci.ring.map_size == ri->map_size,
	      "CHAN_INFO describes the channel");
	ci.chan_id = 0xabcdef;
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_CHAN_INFO, &ci) == -ENOENT, "CHAN_INFO unknown: ENOENT");
	CHECK(mmap(NULL, ri->map_size, PROT_READ, MAP_SHARED, ctl, VGPU_CTRL_MMAP_CHAN(0xabcdef)) == MAP_FAILED &&
	      errno == ENOENT, "daemon mmap unknown channel: ENOENT");
	CHECK(mmap(NULL, ri->map_size, PROT_READ, MAP_SHARED, ctl,
		   VGPU_CTRL_MMAP_CHAN(app.s.chan_id) + 4096) == MAP_FAILED && errno == EINVAL,
	      "daemon mmap misaligned offset: EINVAL");
	dring = mmap(NULL, ri->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, ctl,
		     VGPU_CTRL_MMAP_CHAN(app.s.chan_id));
	CHECK(dring != MAP_FAILED, "daemon maps the channel's ring");
	if (app.ring == MAP_FAILED || dring == MAP_FAILED)
		return;

	/* app: 5 entries, one doorbell each; daemon: one DOORBELL event */
	for (i = 0; i < 5; i++) {
		sqe = (struct vgpu_sqe *)(app.ring + ri->sqes_off) + i;
		sqe->id = 100 + i;
		sqe->op = 3;
		__atomic_store_n(idx(app.ring, ri->sq_tail_off), i + 1, __ATOMIC_RELEASE);
		CHECK(xioctl(app.fd, VGPU_IOC_DOORBELL, NULL) == 0, "DOORBELL %d", i);
	}
	CHECK(fetch(ctl, 1000, &res) == 0 && res == VGPU_EVT(VGPU_EVT_DOORBELL, app.s.chan_id),
	      "doorbells coalesce into one DOORBELL event");
	CHECK(*idx(dring, ri->sq_tail_off) == 5 && ((struct vgpu_sqe *)(dring + ri->sqes_off))[4].id == 104,
	      "daemon sees the app's entries (shared memory)");
	CHECK(fetch(ctl, 200, &res) == -ETIME, "no further event");

	pfd.fd = app.fd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 0) == 0, "poll: nothing to read yet");
	/* daemon completes entry 3 first: out of order, matched by id */
	cqe = (struct vgpu_cqe *)(dring + ri->cqes_off);
	cqe->id = 103;
	cqe->res = 0;
	cqe->resp_len = 0;
	__atomic_store_n(idx(dring, ri->cq_tail_off), 1, __ATOMIC_RELEASE);
	CHECK(commit(ctl, app.s.chan_id) == 0, "COMMIT");
	CHECK(commit(ctl, 0xabcdef) == -ENOENT, "COMMIT unknown channel: ENOENT");
	CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN), "poll: POLLIN after COMMIT");
	{
		struct vgpu_wait w = { .timeout_ns = 1000000 };

		CHECK(xioctl(app.fd, VGPU_IOC_WAIT, &w) == 0, "WAIT returns at once with a CQE ready");
		__atomic_store_n(idx(app.ring, ri->cq_head_off), 1, __ATOMIC_RELEASE);
		CHECK(xioctl(app.fd, VGPU_IOC_WAIT, &w) == -ETIMEDOUT, "WAIT times out on an empty CQ");
		w.reserved = 1;
		CHECK(xioctl(app.fd, VGPU_IOC_WAIT, &w) == -EINVAL, "WAIT reserved set: EINVAL");
	}
	CHECK(sysfs_num(0, "doorbells") == db0 + 5 && sysfs_num(0, "commits") == cm0 + 1,
	      "sysfs counters: +5 doorbells, +1 commit");
	CHECK(sysfs_num(0, "channels") == 1, "sysfs: one open channel");

	/* a FETCH with garbage in its payload is refused */
	prep_cmd(ctl, VGPU_URING_CMD_FETCH, 0, 1, 9);
	CHECK(wait_tag(9, 1000, &res) == 0 && res == -EINVAL, "FETCH with flags set: EINVAL");
	prep_cmd(ctl, VGPU_URING_CMD_FETCH, 5, 0, 9);
	CHECK(wait_tag(9, 1000, &res) == 0 && res == -EINVAL, "FETCH with a channel id: EINVAL");
	prep_cmd(ctl, 0x1234, 0, 0, 9);
	CHECK(wait_tag(9, 1000, &res) == 0 && res == -EOPNOTSUPP, "unknown uring_cmd: EOPNOTSUPP");

	/* the app closes: CLOSE event; the daemon's mapping keeps the ring */
	munmap(app.ring, ri->map_size);
	close(app.fd);
	CHECK(fetch(ctl, 1000, &res) == 0 && res == VGPU_EVT(VGPU_EVT_CLOSE, app.s.chan_id),
	      "close() reports CLOSE");
	CHECK(*idx(dring, ri->sq_tail_off) == 5, "ring still readable after the app left");
	munmap(dring, ri->map_size);
	ci.chan_id = app.s.chan_id;
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_CHAN_INFO, &ci) == -ENOENT, "closed and unmapped: channel gone");
	CHECK(sysfs_num(0, "channels") == 0, "sysfs: no open channel");
}

static void test_mmap_owner(int ctl)
{
	struct app app;
	int res, st;
	pid_t pid;

	if (app_open(&app, 1) || app_setup(&app))
		return;
	fetch(ctl, 1000, &res);	/* OPEN */
	pid = fork();
	if (pid == 0) {
		/* another process holding the fd (inherited) may not map the ring */
		void *p = mmap(NULL, app.s.ring.map_size, PROT_READ, MAP_SHARED, app.fd, 0);

		_exit(p == MAP_FAILED && errno == EACCES ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process cannot map the channel: EACCES");
	close(app.fd);
	CHECK(fetch(ctl, 1000, &res) == 0 && res == VGPU_EVT(VGPU_EVT_CLOSE, app.s.chan_id),
	      "vgpu1 channel CLOSE");
}

static void test_detach(int ctl)
{
	struct pollfd pfd;
	struct app app;
	int res;

	CHECK(app_open(&app, 1) == 0 && app_setup(&app) == 0, "channel on vgpu1");
	CHECK(fetch(ctl, 1000, &res) == 0 && res == VGPU_EVT(VGPU_EVT_OPEN, app.s.chan_id), "OPEN on vgpu1");
	prep_cmd(ctl, VGPU_URING_CMD_FETCH, 0, 0, 1);
	io_uring_submit(&uring);	/* parked */
	CHECK(xioctl(ctl, VGPU_CTRL_IOC_DETACH, NULL) == 0, "DETACH");
	CHECK(wait_tag(1, 1000, &res) == 0 && res == -ESHUTDOWN, "parked FETCH fails: ESHUTDOWN");
	pfd.fd = app.fd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 1000) == 1 && (pfd.revents & (POLLERR | POLLHUP)), "app: POLLERR after detach");
	CHECK(xioctl(app.fd, VGPU_IOC_DOORBELL, NULL) == -EPIPE, "app: DOORBELL -EPIPE after detach");
	close(app.fd);
}

/* a daemon killed with FETCHes parked: the module notices, apps get errors */
static void test_daemon_killed(void)
{
	int pipefd[2], ctl, st;
	struct pollfd pfd;
	struct app app;
	char c;
	pid_t pid;
	struct timespec t0, t1;

	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		struct io_uring r;
		int fd = open("/dev/vgpu-control", O_RDWR);

		if (fd < 0 || attach(fd) || io_uring_queue_init(8, &r, 0))
			_exit(1);
		for (int i = 0; i < 4; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r);

			io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
			sqe->cmd_op = VGPU_URING_CMD_FETCH;
			memset(sqe->cmd, 0, 16);
		}
		io_uring_submit(&r);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	CHECK(read(pipefd[0], &c, 1) == 1, "child daemon attached with 4 parked FETCHes");
	close(pipefd[0]);
	CHECK(app_open(&app, 0) == 0 && app_setup(&app) == 0, "app channel with the child daemon");
	kill(pid, SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	waitpid(pid, &st, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(WIFSIGNALED(st), "killed daemon exits (in %ld ms)",
	      (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	pfd.fd = app.fd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 2000) == 1 && (pfd.revents & POLLERR), "app: POLLERR once the daemon is dead");
	close(app.fd);
	/* the dead daemon's file is released once io_uring has torn down */
	for (int i = 0; i < 50; i++) {
		ctl = open("/dev/vgpu-control", O_RDWR);
		if (ctl >= 0 || errno != EBUSY)
			break;
		usleep(100000);
	}
	CHECK(ctl >= 0 && attach(ctl) == 0, "a new daemon attaches after the old one died");
	if (ctl >= 0)
		close(ctl);
}

int main(void)
{
	int ctl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(io_uring_queue_init(16, &uring, 0) == 0, "io_uring");
	ctl = open("/dev/vgpu-control", O_RDWR | O_CLOEXEC);
	CHECK(ctl >= 0, "open /dev/vgpu-control");
	if (ctl < 0)
		return 1;
	test_bad_input(ctl);
	test_one_call(ctl);
	test_mmap_owner(ctl);
	test_detach(ctl);
	close(ctl);
	test_daemon_killed();
	printf("1..%d\n# modtest: %d failed\n", n_test, n_fail);
	return n_fail ? 1 : 0;
}
