// SPDX-License-Identifier: MIT
/* devcfg.c - the devices' server and partition limits in sysfs (see devcfg.h). */
#include "userd/devcfg.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "userd/ctrl.h"

void devcfg_init(struct devcfg *dc, int ctrl_fd, uint32_t nr_devices)
{
	memset(dc, 0, sizeof(*dc));
	dc->ctrl_fd = ctrl_fd;
	dc->nr_devices = nr_devices < VGPU_MAX_DEVICES ? nr_devices : VGPU_MAX_DEVICES;
}

static int tell(struct devcfg *dc, uint32_t i)
{
	const struct devcfg_dev *s = &dc->dev[i];
	int ret = ctrl_dev_config(dc->ctrl_fd, i, s->server, s->mem_limit, s->compute_share);

	if (ret)
		log_warn("vgpu%u: VGPU_CTRL_IOC_DEV_CONFIG: %s", i, strerror(-ret));
	return ret;
}

void devcfg_apply(struct devcfg *dc, const struct vgpud_config *cfg)
{
	for (uint32_t i = 0; i < VGPU_MAX_DEVICES; i++) {
		const struct vgpud_dev *d = &cfg->dev[i];
		struct devcfg_dev *s = &dc->dev[i];

		if (d->present && i >= dc->nr_devices) {
			log_warn("[vgpu%u] is configured but the module has only %u devices", i,
				 dc->nr_devices);
			continue;
		}
		if (i >= dc->nr_devices)
			continue;
		if (!d->present) {
			/* not (or no longer) configured: clear what sysfs shows */
			memset(s, 0, sizeof(*s));
			tell(dc, i);
			log_info("vgpu%u: not configured; its channels fail with ENOTCONN", i);
			continue;
		}
		if (strcmp(s->server, d->server) || strcmp(s->partition, d->partition) ||
		    !d->partition[0]) {
			/* the old limits belong to another partition (or none) */
			s->mem_limit = 0;
			s->compute_share = 0;
		}
		snprintf(s->server, sizeof(s->server), "%s", d->server);
		snprintf(s->partition, sizeof(s->partition), "%s", d->partition);
		if (!tell(dc, i))
			log_info("vgpu%u: server %s, gpu %d%s%s", i, d->server, (int)d->gpu,
				 d->partition[0] ? ", partition " : "", d->partition);
	}
}

bool devcfg_attached(struct devcfg *dc, uint32_t dev, const char *server,
		     const char *partition, const struct vgpu_partition_attach_resp *a)
{
	struct devcfg_dev *s;

	if (dev >= dc->nr_devices)
		return false;
	s = &dc->dev[dev];
	if (!s->server[0] || strcmp(s->server, server) || strcmp(s->partition, partition))
		return false;	/* opened under an older configuration */
	if (s->mem_limit == a->mem_limit && s->compute_share == a->compute_share)
		return false;
	s->mem_limit = a->mem_limit;
	s->compute_share = a->compute_share;
	if (tell(dc, dev)) {
		/* not shown: the next attach tries again */
		s->mem_limit = 0;
		s->compute_share = 0;
		return false;
	}
	log_info("vgpu%u: partition %s: %llu MiB, compute %u%% (as of this attach)", dev,
		 partition, (unsigned long long)(a->mem_limit >> 20), a->compute_share);
	return true;
}
