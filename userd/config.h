/* SPDX-License-Identifier: MIT */
/*
 * config.h - vgpud's configuration file (docs/VGPUD.md):
 *
 *   [daemon]
 *   log_level = error | warn | info | debug
 *   [vgpuN]                 one section per device that has a server
 *   server = host[:port]    "[v6addr][:port]" for IPv6; port defaults to 7070
 *   gpu = index | all       server GPU exposed as the channel's device 0
 *   partition = NAME        bind each channel's session to that partition
 *
 * Anything else (unknown section or key, a key twice, a bad value, a
 * section without server) is an error that names the file and line.
 */
#ifndef VGPU_USERD_CONFIG_H
#define VGPU_USERD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/partition.h"
#include "uapi/vgpu.h"

/* Same size as struct vgpu_ctrl_dev_config.server, NUL included. */
#define VGPUD_SERVER_LEN	64
#define VGPUD_DEFAULT_CONFIG	"/etc/vgpu/vgpud.conf"

struct vgpud_dev {
	bool present;			/* a [vgpuN] section exists */
	char server[VGPUD_SERVER_LEN];	/* normalised "host:port" / "[v6]:port" */
	char host[VGPUD_SERVER_LEN];	/* without brackets */
	char port[12];
	uint32_t gpu;			/* HELLO's gpu: index or VGPU_GPU_ALL */
	char partition[VGPU_PARTITION_NAME_MAX + 1];	/* PARTITION_ATTACH after HELLO; "": none */
	int line;			/* line of the section header */
	unsigned int keys_seen;		/* internal: duplicate detection */
};

struct vgpud_config {
	int log_level;			/* enum vgpu_log_level */
	unsigned int ndevs;		/* devices present */
	struct vgpud_dev dev[VGPU_MAX_DEVICES];
};

/* Defaults: log level info, no devices. */
void vgpud_config_init(struct vgpud_config *cfg);

/*
 * Load @path into @cfg (initialised here).  Returns 0, or -1 with a
 * message "path:line: what" (or "path: what") in @err.
 */
int vgpud_config_load(const char *path, struct vgpud_config *cfg, char *err, size_t errlen);

/*
 * Parse "host[:port]" or "[v6addr][:port]" into @d's server, host and port.
 * Returns 0, or -EINVAL with a reason in *why.
 */
int vgpud_parse_server(const char *s, struct vgpud_dev *d, const char **why);

#endif
