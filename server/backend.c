// SPDX-License-Identifier: MIT
/* backend.c - pick a backend by its VGPU_BACKEND_* number. */
#include "server/backend.h"

const struct vgpu_backend_ops *vgpu_backend_get(int kind)
{
	switch (kind) {
	case VGPU_BACKEND_SIM:
		return &vgpu_backend_sim;
	case VGPU_BACKEND_CUDA:
		return &vgpu_backend_cuda;
	default:
		return NULL;
	}
}
