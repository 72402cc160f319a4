/* SPDX-License-Identifier: MIT */
/*
 * prog.h - what the driver-API test programs share: checked calls, device
 * and context setup, and loading the kernels.
 *
 * The kernels come from argv[1] when it is given (a cubin or PTX file built
 * by nvcc from tests/progs/kernels/) and otherwise from a built-in image:
 * first a sim image ("//vgpu-sim ..."), and if the server refuses it as
 * CUDA_ERROR_INVALID_IMAGE (a real GPU behind it), hand-written PTX of the
 * same kernels.  Either way the module has saxpy, reduce_sum, fill_u32,
 * spin and the global sim_counter, with the sim's signatures.
 */
#ifndef VGPU_TESTS_PROG_H
#define VGPU_TESTS_PROG_H

#include <stdio.h>
#include <stdlib.h>
#include <cuda.h>

/* Name of a CUresult, for messages. */
const char *prog_err(CUresult rc);

/* Run a driver call; on failure print the error name and exit 1. */
#define CK(call)							\
	do {								\
		CUresult ck_rc_ = (call);				\
		if (ck_rc_ != CUDA_SUCCESS) {				\
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__,	\
				__LINE__, #call, prog_err(ck_rc_));	\
			printf("FAILED %s\n", prog_err(ck_rc_));	\
			exit(1);					\
		}							\
	} while (0)

/* cuInit, device 0, a new context made current; returns the device. */
CUdevice prog_setup(CUcontext *ctx);

/* Load the kernels from path (NULL: built-in image); exits on failure. */
CUmodule prog_load(const char *path);

#endif
