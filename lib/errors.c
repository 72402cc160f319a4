// SPDX-License-Identifier: MIT
/* errors.c - cuGetErrorName / cuGetErrorString from the table generated from cuda.h. */
#include "lib/driver.h"
#include "lib/entries.h"

#include <stdlib.h>

static int cmp_code(const void *key, const void *elem)
{
	int a = *(const int *)key, b = ((const struct vgpu_error_name *)elem)->code;

	return (a > b) - (a < b);
}

static const struct vgpu_error_name *find(CUresult error)
{
	int code = (int)error;

	return bsearch(&code, vgpu_error_names, vgpu_nerror_names, sizeof(vgpu_error_names[0]),
		       cmp_code);
}

CUresult cuGetErrorName(CUresult error, const char **str)
{
	const struct vgpu_error_name *e = find(error);

	if (!str)
		return CUDA_ERROR_INVALID_VALUE;
	*str = e ? e->name : NULL;
	return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult error, const char **str)
{
	const struct vgpu_error_name *e = find(error);

	if (!str)
		return CUDA_ERROR_INVALID_VALUE;
	*str = e ? e->text : NULL;
	return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
