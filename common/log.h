/* SPDX-License-Identifier: MIT */
/* log.h - leveled logging to stderr or syslog, shared by vgpud and vgpu-server. */
#ifndef VGPU_COMMON_LOG_H
#define VGPU_COMMON_LOG_H

enum vgpu_log_level { VGPU_LOG_ERR, VGPU_LOG_WARN, VGPU_LOG_INFO, VGPU_LOG_DEBUG };

/* @ident: program name; @use_syslog: syslog instead of stderr. */
void vgpu_log_init(const char *ident, enum vgpu_log_level level, int use_syslog);
void vgpu_log_set_level(enum vgpu_log_level level);
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int vgpu_log_parse_level(const char *s);
void vgpu_log(enum vgpu_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	vgpu_log(VGPU_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	vgpu_log(VGPU_LOG_WARN, __VA_ARGS__)
#define log_info(...)	vgpu_log(VGPU_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	vgpu_log(VGPU_LOG_DEBUG, __VA_ARGS__)

#endif
