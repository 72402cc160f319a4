/* SPDX-License-Identifier: MIT */
/* lib_server.h - an in-process sim server for lib/'s tests (lib_server.c). */
#ifndef VGPU_TESTS_LIB_SERVER_H
#define VGPU_TESTS_LIB_SERVER_H

#include <cuda.h>

#define SIM_IMAGE	"//vgpu-sim lib test\n"

/* cmocka group setup: start the server, point VGPU_SERVER at it. 0 or -1. */
int lib_server_start(void **state);
/* Retain device 0's primary context and make it current; release it again. */
CUcontext make_ctx(void);
void drop_ctx(void);

#endif
