// SPDX-License-Identifier: MIT
/*
 * utilization.c - vgpu's one entry point outside the driver API: how busy
 * a device is, as the server measures it (GPU_UTILIZATION).  Our
 * libnvidia-ml.so.1 (nvml/) finds it with dlsym and answers
 * nvmlDeviceGetUtilizationRates with it; against NVIDIA's libcuda.so.1 the
 * symbol is absent and NVML says NOT_SUPPORTED.  Exported by the version
 * script (libcuda.map) besides the cu* names.
 */
#include "lib/driver.h"

CUresult vgpuDeviceGetUtilization(CUdevice dev, unsigned int *gpu_pct, unsigned int *mem_pct);

/*
 * gpu_pct: percent of the last sampling period in which a kernel of the
 * device ran; mem_pct: percent in which device memory was read or written
 * (docs/PROTOCOL.md, GPU_UTILIZATION).
 */
CUresult vgpuDeviceGetUtilization(CUdevice dev, unsigned int *gpu_pct, unsigned int *mem_pct)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[4], buf[8];
	uint32_t g, m;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!gpu_pct || !mem_pct)
		return CUDA_ERROR_INVALID_VALUE;
	if (!vgpu_device(dev, &rc))
		return rc;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, vgpu_dev_remote(dev));
	rc = vgpu_rpc_buf(vgpu_dev_tp(dev), VGPU_OP_GPU_UTILIZATION, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	g = vgpu_get_u32(&r);
	m = vgpu_get_u32(&r);
	if (!vgpu_rbuf_done(&r) || g > 100 || m > 100)
		return CUDA_ERROR_UNKNOWN;
	*gpu_pct = g;
	*mem_pct = m;
	return CUDA_SUCCESS;
}
