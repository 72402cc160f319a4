// SPDX-License-Identifier: MIT
/*
 * main.c - vgpud: options, configuration, attaching to /dev/vgpu-control,
 * signals, and the event loop (docs/VGPUD.md).
 *
 *   vgpud [-f] [-c CONFIG] [-v]
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "userd/config.h"
#include "userd/ctrl.h"
#include "userd/devcfg.h"
#include "userd/loop.h"

static int stop_fd = -1;
static int reload_fd = -1;

static void on_signal(int sig)
{
	uint64_t one = 1;
	int saved = errno;

	if (write(sig == SIGHUP ? reload_fd : stop_fd, &one, sizeof(one)) < 0) {
		/* nothing to do: the eventfd is already readable */
	}
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vgpud [-f] [-c CONFIG] [-v]\n"
		   "  -f         stay in the foreground, log to stderr (default: daemonise, syslog)\n"
		   "  -c CONFIG  configuration file (default %s)\n"
		   "  -v         log at debug level\n", VGPUD_DEFAULT_CONFIG);
}

struct reload_ctx {
	const char *path;
	struct vgpud_config *cfg;
	struct devcfg *devcfg;
	bool verbose;
};

/*
 * SIGHUP: re-read the configuration.  A bad file changes nothing (the
 * error is logged); a good one replaces the device map and the kernel's
 * view of it (sysfs; a device keeps its limits only while its server and
 * partition stay), without touching open channels.
 */
static void reload_config(void *arg)
{
	struct reload_ctx *rc = arg;
	struct vgpud_config *fresh = malloc(sizeof(*fresh));
	char err[320];

	if (!fresh) {
		log_err("reload: out of memory");
		return;
	}
	if (vgpud_config_load(rc->path, fresh, err, sizeof(err))) {
		log_err("reload: %s; keeping the running configuration", err);
		free(fresh);
		return;
	}
	*rc->cfg = *fresh;
	free(fresh);
	vgpu_log_set_level(rc->verbose ? VGPU_LOG_DEBUG : rc->cfg->log_level);
	log_info("reload: %s: %u device(s); open channels keep their server", rc->path,
		 rc->cfg->ndevs);
	devcfg_apply(rc->devcfg, rc->cfg);
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	reload_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_fd < 0 || reload_fd < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = VGPUD_DEFAULT_CONFIG;
	bool foreground = false, verbose = false;
	static struct devcfg devcfg;
	struct vgpud_config cfg;
	uint32_t nr_devices = 0;
	uint64_t features = 0;
	struct loop *l = NULL;
	char err[320];
	int opt, ctrl_fd, ret, rc;

	while ((opt = getopt(argc, argv, "fc:vh")) != -1) {
		switch (opt) {
		case 'f': foreground = true; break;
		case 'c': path = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	vgpu_log_init("vgpud", VGPU_LOG_INFO, 0);
	if (vgpud_config_load(path, &cfg, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	if (!cfg.ndevs)
		log_warn("%s configures no device: every channel will fail", path);
	if (!foreground) {
		if (daemon(0, 0)) {
			log_err("daemon: %s", strerror(errno));
			return 1;
		}
		vgpu_log_init("vgpud", verbose ? VGPU_LOG_DEBUG : cfg.log_level, 1);
	} else {
		vgpu_log_set_level(verbose ? VGPU_LOG_DEBUG : cfg.log_level);
	}
	ret = setup_signals();
	if (ret) {
		log_err("signals: %s", strerror(-ret));
		return 1;
	}
	ctrl_fd = ctrl_open(CTRL_PATH);
	if (ctrl_fd < 0) {
		log_err("cannot open %s: %s (is vgpu.ko loaded?)", CTRL_PATH, strerror(-ctrl_fd));
		return 1;
	}
	ret = ctrl_attach(ctrl_fd, &features, &nr_devices);
	if (ret) {
		log_err("VGPU_CTRL_IOC_ATTACH: %s%s", strerror(-ret),
			ret == -EBUSY ? " (another vgpud is attached)" : "");
		close(ctrl_fd);
		return 1;
	}
	log_info("attached: %u devices, features %#llx", nr_devices, (unsigned long long)features);
	devcfg_init(&devcfg, ctrl_fd, nr_devices);
	devcfg_apply(&devcfg, &cfg);

	ret = loop_init(&l, ctrl_fd, stop_fd, &cfg);
	if (ret) {
		log_err("io_uring: %s", strerror(-ret));
		ctrl_detach(ctrl_fd);
		close(ctrl_fd);
		return 1;
	}
	struct reload_ctx rctx = { path, &cfg, &devcfg, verbose };

	loop_set_reload(l, reload_fd, reload_config, &rctx);
	loop_set_devcfg(l, &devcfg);
	rc = loop_run(l);
	ret = ctrl_detach(ctrl_fd);	/* parked FETCHes complete with -ESHUTDOWN */
	if (ret && ret != -ENOTCONN)	/* -ENOTCONN: the kernel detached us already */
		log_warn("VGPU_CTRL_IOC_DETACH: %s", strerror(-ret));
	loop_free(l);
	close(ctrl_fd);
	log_info("exiting (%d)", rc);
	return rc;
}
