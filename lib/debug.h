/* SPDX-License-Identifier: MIT */
/*
 * debug.h - lib/'s diagnostics.  A driver library must not write to the
 * application's stderr on its own: messages appear only when VGPU_DEBUG is
 * set in the environment (to anything but "0").
 */
#ifndef VGPU_LIB_DEBUG_H
#define VGPU_LIB_DEBUG_H

#include <stdbool.h>

bool vgpu_debug_enabled(void);
void vgpu_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * VGPU_TRACE=1: every driver call the runtime looked up through
 * cuGetProcAddress is reported with its result; VGPU_TRACE=err: only
 * those that failed.  Always on stderr (the point of setting it).
 */
bool vgpu_trace_enabled(void);
void vgpu_trace_call(const char *name, int rc);
/* What every generated stub returns (CUDA_ERROR_NOT_SUPPORTED), logged under VGPU_DEBUG. */
int vgpu_unimplemented(const char *name);

#endif
