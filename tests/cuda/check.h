// check.h - the test programs' failure macros.  Define TEST_NAME (a string
// literal) before including; each program prints one "<name>: FAIL <what>"
// line and returns 1 from the calling function on the first failure.
#ifndef VGPU_TESTS_CUDA_CHECK_H
#define VGPU_TESTS_CUDA_CHECK_H

#include <cstdio>
#include <cuda_runtime.h>

#define FAIL(...)                                           \
	do {                                                \
		printf(TEST_NAME ": FAIL " __VA_ARGS__);    \
		printf("\n");                               \
		return 1;                                   \
	} while (0)
#define CHECK(call)                                                                   \
	do {                                                                          \
		cudaError_t e_ = (call);                                              \
		if (e_ != cudaSuccess)                                                \
			FAIL("%s: %s (%d)", #call, cudaGetErrorString(e_), (int)e_); \
	} while (0)

#endif
