// SPDX-License-Identifier: MIT
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static struct {
	const char *ident;
	enum vgpu_log_level level;
	int use_syslog;
} lg = { "vgpu", VGPU_LOG_INFO, 0 };

static const char *const names[] = { "err", "warn", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void vgpu_log_init(const char *ident, enum vgpu_log_level level, int use_syslog)
{
	lg.ident = ident;
	lg.level = level;
	lg.use_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

void vgpu_log_set_level(enum vgpu_log_level level)
{
	lg.level = level;
}

int vgpu_log_parse_level(const char *s)
{
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s && !strcmp(s, names[i]))
			return (int)i;
	return -1;
}

void vgpu_log(enum vgpu_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > lg.level)
		return;
	va_start(ap, fmt);
	if (lg.use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		struct timespec ts;
		char line[1024];

		clock_gettime(CLOCK_REALTIME, &ts);
		vsnprintf(line, sizeof(line), fmt, ap);
		fprintf(stderr, "%lld.%03ld %s[%d] %s: %s\n", (long long)ts.tv_sec,
			ts.tv_nsec / 1000000, lg.ident, (int)getpid(), names[level], line);
	}
	va_end(ap);
}
