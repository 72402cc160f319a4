// SPDX-License-Identifier: MIT
/*
 * ops_util.c - GPU_UTILIZATION: how busy one of the session's devices is,
 * from the backend (NVIDIA's NVML on a cuda server, the session's own busy
 * time on the sim).  What vgpu's libnvidia-ml.so.1 reports as
 * nvmlDeviceGetUtilizationRates.
 */
#include "server/session_int.h"

int op_gpu_utilization(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w)
{
	uint32_t ordinal = vgpu_get_u32(r);
	unsigned int gpu = 0, mem = 0;
	int dev, rc;

	REQ_DONE(r);
	dev = sess_ordinal(s, ordinal);
	if (dev < 0)
		return CUDA_ERROR_INVALID_DEVICE;
	rc = s->ops->utilization(s->be, dev, &gpu, &mem);
	if (rc == CUDA_SUCCESS) {
		vgpu_put_u32(w, gpu > 100 ? 100 : gpu);
		vgpu_put_u32(w, mem > 100 ? 100 : mem);
	}
	return rc;
}
