// SPDX-License-Identifier: MIT
/* prog.c - shared helpers of the driver-API test programs (see prog.h). */
#include "tests/progs/prog.h"
#include "server/sim_ptx.h"

#include <string.h>

static const char sim_image[] = "//vgpu-sim tests/progs\n";

static const char ptx_image[] = VGPU_SIM_KERNELS_PTX;

const char *prog_err(CUresult rc)
{
	const char *name = NULL;

	if (cuGetErrorName(rc, &name) != CUDA_SUCCESS || !name)
		return "unknown CUresult";
	return name;
}

CUdevice prog_setup(CUcontext *ctx)
{
	CUdevice dev;

	CK(cuInit(0));
	CK(cuDeviceGet(&dev, 0));
	CK(cuCtxCreate(ctx, NULL, 0, dev));
	return dev;
}

/* The whole file plus a NUL, so PTX text is terminated. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		perror(path);
		exit(1);
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

CUmodule prog_load(const char *path)
{
	CUmodule mod;
	CUresult rc;

	if (path) {
		char *image = read_file(path);

		CK(cuModuleLoadData(&mod, image));
		free(image);
		return mod;
	}
	rc = cuModuleLoadData(&mod, sim_image);
	if (rc == CUDA_ERROR_INVALID_IMAGE)
		rc = cuModuleLoadData(&mod, ptx_image);	/* a real GPU */
	CK(rc);
	return mod;
}
