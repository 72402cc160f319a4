// SPDX-License-Identifier: MIT
/*
 * init.c - cuInit and the device queries.  cuInit opens the transports
 * (one per server or device node: several give the application devices
 * of several servers) and asks each for its device count, once per
 * process; its result is kept, as the real driver keeps it.  Each
 * device's DEVICE_INFO (name, UUID, memory, every attribute) is fetched
 * on first use and answered locally after.
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_INFO_CAP	(64u << 10)

static struct {
	pthread_mutex_t lock;	/* init, device info, primary contexts */
	bool done;		/* written under lock, read with acquire */
	CUresult rc;
	/* set by cuInit before it publishes done, constant after */
	int ntp;
	struct vgpu_transport *tps[VGPU_MAX_LINKS];
	int ndev;
	struct vgpu_device *devs;
} drv = { .lock = PTHREAD_MUTEX_INITIALIZER };

CUresult vgpu_initialized(void)
{
	if (!__atomic_load_n(&drv.done, __ATOMIC_ACQUIRE))
		return CUDA_ERROR_NOT_INITIALIZED;
	return drv.rc;
}

struct vgpu_transport *vgpu_dev_tp(CUdevice dev)
{
	return drv.devs[dev].tp;
}

uint32_t vgpu_dev_remote(CUdevice dev)
{
	return drv.devs[dev].remote;
}

CUdevice vgpu_dev_local(const struct vgpu_transport *tp, uint32_t remote)
{
	for (int i = 0; i < drv.ndev; i++)
		if (drv.devs[i].tp == tp && drv.devs[i].remote == remote)
			return i;
	return -1;
}

int vgpu_links(void)
{
	return drv.ntp;
}

void vgpu_device_lock(void)
{
	pthread_mutex_lock(&drv.lock);
}

void vgpu_device_unlock(void)
{
	pthread_mutex_unlock(&drv.lock);
}

/* How many devices the server behind tp exposes to this session. */
static CUresult device_count(struct vgpu_transport *tp, uint32_t *count)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t buf[4];
	CUresult rc;

	vgpu_wbuf_init_fixed(&w, NULL, 0);
	rc = vgpu_rpc_buf(tp, VGPU_OP_DEVICE_COUNT, &w, buf, sizeof(buf), &r);
	if (rc)
		return rc;
	*count = vgpu_get_u32(&r);
	return vgpu_rbuf_done(&r) ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
}

/*
 * Open every server (or device node) the environment names; the
 * application's devices are theirs in that order: link 0's devices
 * 0..k0-1, then link 1's, and so on.
 */
static CUresult open_links(void)
{
	uint32_t counts[VGPU_MAX_LINKS], total = 0;
	CUresult rc;
	int err = 0, n, d = 0;

	n = vgpu_transport_open_all(drv.tps, VGPU_MAX_LINKS, &err);
	if (n < 0 && err > 0)
		return (CUresult)err;	/* the server's answer (VGPU_PARTITION) */
	if (n < 0) {
		/* no node at all: no device; a node or server that fails: unavailable */
		if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
			return CUDA_ERROR_NO_DEVICE;
		if (err == -EINVAL || err == -E2BIG)
			return CUDA_ERROR_INVALID_VALUE;
		return CUDA_ERROR_DEVICE_UNAVAILABLE;
	}
	drv.ntp = n;
	for (int i = 0; i < n; i++) {
		rc = device_count(drv.tps[i], &counts[i]);
		if (rc)
			return rc;
		if (counts[i] > VGPU_MAX_DEVICES - total)
			return CUDA_ERROR_UNKNOWN;
		total += counts[i];
	}
	if (!total)
		return CUDA_ERROR_NO_DEVICE;
	drv.devs = calloc(total, sizeof(*drv.devs));
	if (!drv.devs)
		return CUDA_ERROR_OUT_OF_MEMORY;
	for (int i = 0; i < n; i++)
		for (uint32_t k = 0; k < counts[i]; k++, d++) {
			drv.devs[d].tp = drv.tps[i];
			drv.devs[d].remote = k;
		}
	drv.ndev = (int)total;
	return CUDA_SUCCESS;
}

CUresult cuInit(unsigned int flags)
{
	CUresult rc;

	if (flags)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&drv.lock);
	if (!drv.done) {
		drv.rc = open_links();
		if (drv.rc) {
			vgpu_dbg("cuInit failed: %d", drv.rc);
			for (int i = 0; i < drv.ntp; i++)
				vgpu_transport_close(drv.tps[i]);
			drv.ntp = 0;
			drv.ndev = 0;
			free(drv.devs);
			drv.devs = NULL;
		}
		__atomic_store_n(&drv.done, true, __ATOMIC_RELEASE);
	}
	rc = drv.rc;
	pthread_mutex_unlock(&drv.lock);
	return rc;
}

CUresult cuDriverGetVersion(int *version)
{
	if (!version)
		return CUDA_ERROR_INVALID_VALUE;
	*version = CUDA_VERSION;	/* the API this library implements */
	return CUDA_SUCCESS;
}

/*
 * What the GPU can do but an application cannot have through vgpu: shareable
 * handles and IPC, host memory mapped into the device, managed and pageable
 * memory, DMA-BUF/RDMA, external semaphores.  Reported as absent, so that
 * programs and libraries asking first take another path (PyTorch's
 * expandable segments ask for file-descriptor handles when they are
 * supported; the calls themselves answer CUDA_ERROR_NOT_SUPPORTED).
 */
static const CUdevice_attribute not_through_vgpu[] = {
	CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY,
	CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY,
	CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS,
	CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST,
	CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS,
	CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES,
	CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM,
	CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_HANDLE_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_KMT_HANDLE_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES,
	CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WITH_CUDA_VMM_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HOST_ALLOC_DMA_BUF_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_GENERIC_COMPRESSION_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HOST_MEMORY_POOLS_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HOST_NUMA_MEMORY_POOLS_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HOST_NUMA_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_HOST_NUMA_MULTINODE_IPC_SUPPORTED,
	CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS,
	CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR,
};

static CUresult fetch_info(struct vgpu_device *d)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t req[4];
	const void *uuid;
	size_t uuid_len;
	uint32_t n;
	void *buf = malloc(DEVICE_INFO_CAP);
	CUresult rc;

	if (!buf)
		return CUDA_ERROR_OUT_OF_MEMORY;
	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u32(&w, d->remote);
	rc = vgpu_rpc_buf(d->tp, VGPU_OP_DEVICE_INFO, &w, buf, DEVICE_INFO_CAP, &r);
	if (rc)
		goto out;
	vgpu_get_str(&r, d->name, sizeof(d->name));
	uuid = vgpu_get_bytes(&r, &uuid_len);
	d->total_mem = vgpu_get_u64(&r);
	d->driver_version = vgpu_get_u32(&r);
	n = vgpu_get_u32(&r);
	memset(d->attr, 0, sizeof(d->attr));
	for (uint32_t i = 0; i < n && !r.err; i++) {
		int32_t v = vgpu_get_i32(&r);

		if (i < CU_DEVICE_ATTRIBUTE_MAX)
			d->attr[i] = v;
	}
	if (!vgpu_rbuf_done(&r) || uuid_len != sizeof(d->uuid.bytes)) {
		rc = CUDA_ERROR_UNKNOWN;
		goto out;
	}
	memcpy(d->uuid.bytes, uuid, sizeof(d->uuid.bytes));
	for (size_t i = 0; i < sizeof(not_through_vgpu) / sizeof(not_through_vgpu[0]); i++)
		d->attr[not_through_vgpu[i]] = 0;
	d->have_info = true;
out:
	free(buf);
	return rc;
}

struct vgpu_device *vgpu_device(CUdevice dev, CUresult *rc)
{
	struct vgpu_device *d;

	*rc = vgpu_initialized();
	if (*rc)
		return NULL;
	if (dev < 0 || dev >= drv.ndev) {
		*rc = CUDA_ERROR_INVALID_DEVICE;
		return NULL;
	}
	d = &drv.devs[dev];
	pthread_mutex_lock(&drv.lock);
	if (!d->have_info)
		*rc = fetch_info(d);
	pthread_mutex_unlock(&drv.lock);
	return *rc ? NULL : d;
}

CUresult cuDeviceGetCount(int *count)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!count)
		return CUDA_ERROR_INVALID_VALUE;
	*count = drv.ndev;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!device)
		return CUDA_ERROR_INVALID_VALUE;
	if (ordinal < 0 || ordinal >= drv.ndev)
		return CUDA_ERROR_INVALID_DEVICE;
	*device = ordinal;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!name || len <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(name, (size_t)len, "%s", d->name);
	return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!bytes)
		return CUDA_ERROR_INVALID_VALUE;
	*bytes = d->total_mem;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!pi || (int)attrib <= 0 || attrib >= CU_DEVICE_ATTRIBUTE_MAX)
		return CUDA_ERROR_INVALID_VALUE;
	*pi = d->attr[attrib];
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetUuid_v2(CUuuid *uuid, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!uuid)
		return CUDA_ERROR_INVALID_VALUE;
	*uuid = d->uuid;
	return CUDA_SUCCESS;
}

/* ---- derived device queries -------------------------------------------- */

CUresult cuDeviceGetPCIBusId(char *bus_id, int len, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!bus_id || len <= 0)
		return CUDA_ERROR_INVALID_VALUE;
	snprintf(bus_id, (size_t)len, "%08x:%02x:%02x.0",
		 (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID],
		 (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_BUS_ID],
		 (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID]);
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetByPCIBusId(CUdevice *dev, const char *bus_id)
{
	unsigned int dom = 0, bus, slot;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!dev || !bus_id)
		return CUDA_ERROR_INVALID_VALUE;
	/* "domain:bus:device.function" or "bus:device.function", hex */
	if (sscanf(bus_id, "%x:%x:%x", &dom, &bus, &slot) != 3) {
		dom = 0;
		if (sscanf(bus_id, "%x:%x", &bus, &slot) != 2)
			return CUDA_ERROR_INVALID_VALUE;
	}
	for (int i = 0; i < drv.ndev; i++) {
		struct vgpu_device *d = vgpu_device(i, &rc);

		if (!d)
			return rc;
		if ((unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID] == dom &&
		    (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_BUS_ID] == bus &&
		    (unsigned int)d->attr[CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID] == slot) {
			*dev = i;
			return CUDA_SUCCESS;
		}
	}
	return CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);

	if (!d)
		return rc;
	if (!major || !minor)
		return CUDA_ERROR_INVALID_VALUE;
	*major = d->attr[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR];
	*minor = d->attr[CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR];
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetProperties(CUdevprop *p, CUdevice dev)
{
	CUresult rc;
	struct vgpu_device *d = vgpu_device(dev, &rc);
	const int32_t *a;

	if (!d)
		return rc;
	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	a = d->attr;
	p->maxThreadsPerBlock = a[CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK];
	p->maxThreadsDim[0] = a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X];
	p->maxThreadsDim[1] = a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y];
	p->maxThreadsDim[2] = a[CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z];
	p->maxGridSize[0] = a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X];
	p->maxGridSize[1] = a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y];
	p->maxGridSize[2] = a[CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z];
	p->sharedMemPerBlock = a[CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK];
	p->totalConstantMemory = a[CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY];
	p->SIMDWidth = a[CU_DEVICE_ATTRIBUTE_WARP_SIZE];
	p->memPitch = a[CU_DEVICE_ATTRIBUTE_MAX_PITCH];
	p->regsPerBlock = a[CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK];
	p->clockRate = a[CU_DEVICE_ATTRIBUTE_CLOCK_RATE];
	p->textureAlign = a[CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT];
	return CUDA_SUCCESS;
}

/* Devices of one session cannot reach each other's memory directly (yet). */
CUresult cuDeviceCanAccessPeer(int *can, CUdevice dev, CUdevice peer)
{
	CUresult rc;

	if (!vgpu_device(dev, &rc) || !vgpu_device(peer, &rc))
		return rc;
	if (!can)
		return CUDA_ERROR_INVALID_VALUE;
	*can = 0;
	return CUDA_SUCCESS;
}

CUresult cuDeviceGetP2PAttribute(int *value, CUdevice_P2PAttribute attrib, CUdevice src,
				 CUdevice dst)
{
	CUresult rc;

	if (!vgpu_device(src, &rc) || !vgpu_device(dst, &rc))
		return rc;
	if (!value || src == dst)
		return CUDA_ERROR_INVALID_DEVICE;
	*value = 0;
	return CUDA_SUCCESS;
}
