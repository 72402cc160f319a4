// SPDX-License-Identifier: MIT
/*
 * cuda_util.c - how busy a GPU is, for GPU_UTILIZATION on the cuda
 * backend: NVIDIA's NVML on the GPU host (dlopen'ed when first asked,
 * optional: without it the answer is CUDA_ERROR_NOT_SUPPORTED), the
 * device found by its PCI address, which the driver and NVML agree on.
 * The figures are the physical GPU's over NVML's last sampling period
 * (between 1/6 s and 1 s), whoever ran on it.
 */
#include "server/cuda_be.h"
#include "nvml/nvml_abi.h"

#include <dlfcn.h>
#include <stdio.h>

static struct {
	int state;	/* 0: not tried, 1: loaded and initialised, -1: unavailable */
	nvmlReturn_t (*init)(void);
	nvmlReturn_t (*by_bus)(const char *, nvmlDevice_t *);
	nvmlReturn_t (*rates)(nvmlDevice_t, nvmlUtilization_t *);
} nv;

/* One session process asks from one thread: no lock needed. */
static bool nvml_ready(void)
{
	void *h;

	if (nv.state)
		return nv.state > 0;
	nv.state = -1;
	h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return false;
	nv.init = (nvmlReturn_t (*)(void))dlsym(h, "nvmlInit_v2");
	nv.by_bus = (nvmlReturn_t (*)(const char *, nvmlDevice_t *))
		dlsym(h, "nvmlDeviceGetHandleByPciBusId_v2");
	nv.rates = (nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t *))
		dlsym(h, "nvmlDeviceGetUtilizationRates");
	if (!nv.init || !nv.by_bus || !nv.rates || nv.init() != NVML_SUCCESS) {
		dlclose(h);
		return false;
	}
	nv.state = 1;
	return true;
}

CUresult cuda_utilization(void *be, int dev, unsigned int *gpu, unsigned int *mem)
{
	struct cuda_be *b = be;
	int domain = 0, bus = 0, device = 0;
	char busid[32];
	nvmlDevice_t h;
	nvmlUtilization_t u;
	CUdevice d;
	CUresult rc = b->f.DeviceGet(&d, dev);

	if (!rc)
		rc = b->f.DeviceGetAttribute(&domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, d);
	if (!rc)
		rc = b->f.DeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, d);
	if (!rc)
		rc = b->f.DeviceGetAttribute(&device, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, d);
	if (rc)
		return rc;
	if (!nvml_ready())
		return CUDA_ERROR_NOT_SUPPORTED;
	snprintf(busid, sizeof(busid), "%08x:%02x:%02x.0", domain, bus, device);
	if (nv.by_bus(busid, &h) != NVML_SUCCESS || nv.rates(h, &u) != NVML_SUCCESS)
		return CUDA_ERROR_NOT_SUPPORTED;
	*gpu = u.gpu > 100 ? 100 : u.gpu;
	*mem = u.memory > 100 ? 100 : u.memory;
	return CUDA_SUCCESS;
}
