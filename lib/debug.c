// SPDX-License-Identifier: MIT
/* debug.c - VGPU_DEBUG-gated messages on stderr. */
#include "lib/debug.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool vgpu_debug_enabled(void)
{
	static int enabled = -1;

	if (enabled < 0) {
		const char *v = getenv("VGPU_DEBUG");

		enabled = v && *v && strcmp(v, "0");
	}
	return enabled;
}

void vgpu_dbg(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!vgpu_debug_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "libcuda(vgpu)[%d/%d]: %s\n", (int)getpid(), (int)gettid(), line);
}

static int trace_mode(void)
{
	static int mode = -1;	/* 0 off, 1 all calls, 2 failures */

	if (mode < 0) {
		const char *v = getenv("VGPU_TRACE");

		mode = !v || !*v || !strcmp(v, "0") ? 0 : !strcmp(v, "err") ? 2 : 1;
	}
	return mode;
}

bool vgpu_trace_enabled(void)
{
	return trace_mode() != 0;
}

/* The generated wrappers (trace_gen.c) end here after each call. */
void vgpu_trace_call(const char *name, int rc)
{
	if (rc || trace_mode() == 1)
		fprintf(stderr, "libcuda(vgpu)[%d/%d]: trace %s -> %d\n", (int)getpid(),
			(int)gettid(), name, rc);
}

/* Every generated stub (entries_gen.c) ends here: say which one, once per call. */
int vgpu_unimplemented(const char *name)
{
	vgpu_dbg("%s: not implemented (CUDA_ERROR_NOT_SUPPORTED)", name);
	return 801;	/* CUDA_ERROR_NOT_SUPPORTED; debug.c does not include cuda.h */
}
