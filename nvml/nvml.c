// SPDX-License-Identifier: MIT
/*
 * nvml.c - vgpu's libnvidia-ml.so.1: the common NVML queries, answered
 * through the CUDA driver API of the libcuda.so.1 that nvmlInit dlopens (in
 * a vgpu deployment, vgpu's own), so that a tool or framework asking NVML
 * sees the devices and the memory that vgpu grants.  docs/NVML.md.
 *
 * Static facts of each device (name, UUID, PCI location, compute
 * capability) are read once, at the first successful nvmlInit; memory is
 * asked of the driver at every query (cuMemGetInfo in the device's primary
 * context, retained for the query and released after it).  Init is
 * reference counted as NVML's is; handles stay valid pointers for the life
 * of the process, and answer NVML_ERROR_UNINITIALIZED while NVML is shut
 * down.  Every other NVML entry point is a generated stub (gen_stubs.py)
 * answering NVML_ERROR_NOT_SUPPORTED.
 */
#define NVML_NO_UNVERSIONED_FUNC_DEFS 1
#include "nvml/nvml_abi.h"

#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPORT __attribute__((visibility("default")))

/* the layouts callers compiled against (NVML API version 11 and later) */
_Static_assert(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t");
_Static_assert(offsetof(nvmlPciInfo_t, busId) == 36, "nvmlPciInfo_t.busId");
_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t");
_Static_assert(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t");
_Static_assert(offsetof(nvmlMemory_v2_t, used) == 32, "nvmlMemory_v2_t.used");
_Static_assert(sizeof(nvmlUtilization_t) == 8, "nvmlUtilization_t");
_Static_assert(sizeof(nvmlProcessInfo_t) == 24, "nvmlProcessInfo_t");
_Static_assert(NVML_ERROR_ARGUMENT_VERSION_MISMATCH == 25 && NVML_ERROR_UNKNOWN == 999,
	       "nvmlReturn_t");

/* the v1/v2 nvmlPciInfo_t: the v3 layout up to pciSubSystemId */
#define PCI_INFO_V1_SIZE	offsetof(nvmlPciInfo_t, busId)

/* ---- the driver API, resolved at nvmlInit ---- */

static struct {
	CUresult (*Init)(unsigned int);
	CUresult (*DriverGetVersion)(int *);
	CUresult (*DeviceGetCount)(int *);
	CUresult (*DeviceGet)(CUdevice *, int);
	CUresult (*DeviceGetName)(char *, int, CUdevice);
	CUresult (*DeviceGetUuid)(CUuuid *, CUdevice);
	CUresult (*DeviceTotalMem)(size_t *, CUdevice);
	CUresult (*DeviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
	CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
	CUresult (*DevicePrimaryCtxRelease)(CUdevice);
	CUresult (*CtxPushCurrent)(CUcontext);
	CUresult (*CtxPopCurrent)(CUcontext *);
	CUresult (*MemGetInfo)(size_t *, size_t *);
	/* vgpu's own (lib/utilization.c); NULL with NVIDIA's libcuda.so.1 */
	CUresult (*VgpuUtilization)(CUdevice, unsigned int *, unsigned int *);
} cu;

/* name in the driver, its offset in cu; alternatives after a '|' */
static const struct {
	const char *names;
	size_t off;
} cu_syms[] = {
#define SYM(field, names) { names, offsetof(__typeof__(cu), field) }
	SYM(Init, "cuInit"),
	SYM(DriverGetVersion, "cuDriverGetVersion"),
	SYM(DeviceGetCount, "cuDeviceGetCount"),
	SYM(DeviceGet, "cuDeviceGet"),
	SYM(DeviceGetName, "cuDeviceGetName"),
	SYM(DeviceGetUuid, "cuDeviceGetUuid_v2|cuDeviceGetUuid"),
	SYM(DeviceTotalMem, "cuDeviceTotalMem_v2"),
	SYM(DeviceGetAttribute, "cuDeviceGetAttribute"),
	SYM(DevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
	SYM(DevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2|cuDevicePrimaryCtxRelease"),
	SYM(CtxPushCurrent, "cuCtxPushCurrent_v2"),
	SYM(CtxPopCurrent, "cuCtxPopCurrent_v2"),
	SYM(MemGetInfo, "cuMemGetInfo_v2"),
#undef SYM
};

struct nvmlDevice_st {
	unsigned int index;
	CUdevice cu;
	char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE];
	char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	int cc_major, cc_minor;
	unsigned int pci_domain, pci_bus, pci_device;
};

static struct {
	pthread_mutex_t lock;		/* init and shutdown */
	unsigned int refs;		/* nvmlInit calls not yet shut down */
	void *libcuda;			/* kept once loaded: never unloaded under the app */
	int cuda_version;
	unsigned int ndev;
	struct nvmlDevice_st *devs;	/* filled once; never freed (handles stay valid) */
	bool have_devs;			/* devs and ndev set; store-release, load-acquire */
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void dbg(const char *fmt, ...)
{
	const char *e = getenv("VGPU_DEBUG");
	va_list ap;

	if (!e || !*e || !strcmp(e, "0"))
		return;
	va_start(ap, fmt);
	fputs("vgpu nvml: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* A CUresult of a query, as NVML reports it. */
static nvmlReturn_t from_cu(CUresult rc)
{
	switch (rc) {
	case CUDA_SUCCESS:
		return NVML_SUCCESS;
	case CUDA_ERROR_INVALID_VALUE:
	case CUDA_ERROR_INVALID_DEVICE:
		return NVML_ERROR_INVALID_ARGUMENT;
	case CUDA_ERROR_OUT_OF_MEMORY:
		return NVML_ERROR_MEMORY;
	case CUDA_ERROR_NOT_INITIALIZED:
	case CUDA_ERROR_DEINITIALIZED:
		return NVML_ERROR_UNINITIALIZED;
	case CUDA_ERROR_NO_DEVICE:
		return NVML_ERROR_DRIVER_NOT_LOADED;
	case CUDA_ERROR_NOT_SUPPORTED:
		return NVML_ERROR_NOT_SUPPORTED;
	case CUDA_ERROR_DEVICE_UNAVAILABLE:	/* vgpu: the server or the daemon is gone */
	case CUDA_ERROR_LAUNCH_FAILED:
	case CUDA_ERROR_ILLEGAL_ADDRESS:
		return NVML_ERROR_GPU_IS_LOST;
	default:
		return NVML_ERROR_UNKNOWN;
	}
}

static bool initialized(void)
{
	return __atomic_load_n(&st.refs, __ATOMIC_ACQUIRE) != 0;
}

/* Devices known (an init with NVML_INIT_FLAG_NO_GPUS may have found none). */
static bool have_devs(void)
{
	return __atomic_load_n(&st.have_devs, __ATOMIC_ACQUIRE);
}

static nvmlReturn_t load_libcuda(void)
{
	const char *path = getenv("NVML_VGPU_LIBCUDA");
	void *h;

	if (st.libcuda)
		return NVML_SUCCESS;
	if (!path || !*path)
		path = "libcuda.so.1";
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		dbg("cannot load %s: %s", path, dlerror());
		return NVML_ERROR_LIBRARY_NOT_FOUND;
	}
	for (size_t i = 0; i < sizeof(cu_syms) / sizeof(cu_syms[0]); i++) {
		char names[96], *save = NULL;
		void *f = NULL;

		snprintf(names, sizeof(names), "%s", cu_syms[i].names);
		for (char *n = strtok_r(names, "|", &save); n && !f; n = strtok_r(NULL, "|", &save))
			f = dlsym(h, n);
		if (!f) {
			dbg("%s has no %s", path, cu_syms[i].names);
			memset(&cu, 0, sizeof(cu));
			dlclose(h);
			return NVML_ERROR_FUNCTION_NOT_FOUND;
		}
		memcpy((char *)&cu + cu_syms[i].off, &f, sizeof(f));
	}
	cu.VgpuUtilization = (CUresult (*)(CUdevice, unsigned int *, unsigned int *))
		dlsym(h, "vgpuDeviceGetUtilization");
	st.libcuda = h;
	return NVML_SUCCESS;
}

static void format_uuid(char *out, size_t cap, const unsigned char *u)
{
	snprintf(out, cap,
		 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
}

static CUresult read_device(unsigned int i, struct nvmlDevice_st *d)
{
	CUuuid uuid;
	int v;
	CUresult rc;

	d->index = i;
	rc = cu.DeviceGet(&d->cu, (int)i);
	if (!rc)
		rc = cu.DeviceGetName(d->name, sizeof(d->name), d->cu);
	if (!rc)
		rc = cu.DeviceGetUuid(&uuid, d->cu);
	if (rc)
		return rc;
	format_uuid(d->uuid, sizeof(d->uuid), (const unsigned char *)uuid.bytes);
	rc = cu.DeviceGetAttribute(&d->cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d->cu);
	if (!rc)
		rc = cu.DeviceGetAttribute(&d->cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
					   d->cu);
	if (rc)
		return rc;
	/* PCI location as the driver reports it (0 where it reports none) */
	d->pci_domain = cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, d->cu) ? 0 : v;
	d->pci_bus = cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, d->cu) ? 0 : v;
	d->pci_device = cu.DeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, d->cu) ? 0 : v;
	return CUDA_SUCCESS;
}

/* The driver up and the device table filled; under st.lock. */
static nvmlReturn_t start(unsigned int flags)
{
	nvmlReturn_t ret = load_libcuda();
	CUresult rc;
	int n = 0;

	if (ret)
		return ret;
	if (have_devs())
		return NVML_SUCCESS;
	rc = cu.Init(0);
	if (!rc)
		rc = cu.DriverGetVersion(&st.cuda_version);
	if (!rc)
		rc = cu.DeviceGetCount(&n);
	if (rc) {
		dbg("the CUDA driver failed to start: CUresult %d%s", (int)rc,
		    rc == CUDA_ERROR_DEVICE_UNAVAILABLE ? " (vgpu: server or daemon unreachable)" :
		    rc == CUDA_ERROR_NO_DEVICE ? " (no device)" : "");
		if ((flags & NVML_INIT_FLAG_NO_GPUS) &&
		    (rc == CUDA_ERROR_NO_DEVICE || rc == CUDA_ERROR_DEVICE_UNAVAILABLE)) {
			/* an NVML without GPUs; later inits try the driver again */
			st.ndev = 0;
			return NVML_SUCCESS;
		}
		return rc == CUDA_ERROR_NO_DEVICE ? NVML_ERROR_DRIVER_NOT_LOADED : from_cu(rc);
	}
	if (n < 0)
		n = 0;
	st.devs = calloc(n ? (size_t)n : 1, sizeof(*st.devs));
	if (!st.devs)
		return NVML_ERROR_MEMORY;
	for (int i = 0; i < n; i++) {
		rc = read_device((unsigned int)i, &st.devs[i]);
		if (rc) {
			dbg("device %d: CUresult %d", i, (int)rc);
			free(st.devs);
			st.devs = NULL;
			return from_cu(rc);
		}
	}
	st.ndev = (unsigned int)n;
	__atomic_store_n(&st.have_devs, true, __ATOMIC_RELEASE);
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags)
{
	nvmlReturn_t ret;

	pthread_mutex_lock(&st.lock);
	ret = start(flags);
	if (!ret)
		__atomic_store_n(&st.refs, st.refs + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&st.lock);
	return ret;
}

EXPORT nvmlReturn_t nvmlInit_v2(void)
{
	return nvmlInitWithFlags(0);
}

EXPORT nvmlReturn_t nvmlInit(void)
{
	return nvmlInitWithFlags(0);
}

EXPORT nvmlReturn_t nvmlShutdown(void)
{
	nvmlReturn_t ret = NVML_SUCCESS;

	pthread_mutex_lock(&st.lock);
	if (!st.refs)
		ret = NVML_ERROR_UNINITIALIZED;
	else
		__atomic_store_n(&st.refs, st.refs - 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&st.lock);
	return ret;
}

/* NVML's own wording, by value */
static const char *const error_strings[] = {
	[0] = "Success",
	[1] = "Uninitialized",
	[2] = "Invalid Argument",
	[3] = "Not Supported",
	[4] = "Insufficient Permissions",
	[5] = "Already Initialized",
	[6] = "Not Found",
	[7] = "Insufficient Size",
	[8] = "Insufficient External Power",
	[9] = "Driver Not Loaded",
	[10] = "Timeout",
	[11] = "Interrupt Request Issue",
	[12] = "NVML Shared Library Not Found",
	[13] = "Function Not Found",
	[14] = "Corrupted infoROM",
	[15] = "GPU is lost",
	[16] = "GPU requires restart",
	[17] = "The operating system has blocked the request.",
	[18] = "RM has detected an NVML/RM version mismatch.",
	[19] = "In use by another client",
	[20] = "Insufficient Memory",
	[21] = "No data",
	[22] = "The requested vgpu operation is not available on target device, becasue ECC is enabled",
	[23] = "Insufficient resources",
	[24] = "Frequency not supported",
	[25] = "Argument version mismatch",
	[26] = "Deprecated",
	[27] = "Not ready",
	[28] = "GPU not found",
	[29] = "Invalid state",
	[30] = "Reset type not supported",
};

EXPORT const char *nvmlErrorString(nvmlReturn_t result)
{
	unsigned int r = (unsigned int)result;

	if (r < sizeof(error_strings) / sizeof(error_strings[0]) && error_strings[r])
		return error_strings[r];
	return "Unknown Error";
}

/* ---- system queries ---- */

static nvmlReturn_t put_str(char *buf, unsigned int len, const char *s)
{
	if (!buf)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (strlen(s) + 1 > len)
		return NVML_ERROR_INSUFFICIENT_SIZE;
	memcpy(buf, s, strlen(s) + 1);
	return NVML_SUCCESS;
}

/* "13.0" for CUDA 13.0: the driver that vgpu presents is the CUDA API it speaks */
static void driver_version(char *out, size_t cap)
{
	snprintf(out, cap, "%d.%d", NVML_CUDA_DRIVER_VERSION_MAJOR(st.cuda_version),
		 NVML_CUDA_DRIVER_VERSION_MINOR(st.cuda_version));
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
	char v[32];

	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	driver_version(v, sizeof(v));
	return put_str(version, length, v);
}

/* NVIDIA's form: the CUDA major, then the driver version */
EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
	char d[32], v[48];

	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	driver_version(d, sizeof(d));
	snprintf(v, sizeof(v), "%d.%s", NVML_CUDA_DRIVER_VERSION_MAJOR(st.cuda_version), d);
	return put_str(version, length, v);
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion)
{
	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!cudaDriverVersion)
		return NVML_ERROR_INVALID_ARGUMENT;
	*cudaDriverVersion = st.cuda_version;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion)
{
	return nvmlSystemGetCudaDriverVersion(cudaDriverVersion);
}

/* ---- device handles ---- */

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
{
	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!deviceCount)
		return NVML_ERROR_INVALID_ARGUMENT;
	*deviceCount = have_devs() ? st.ndev : 0;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *deviceCount)
{
	return nvmlDeviceGetCount_v2(deviceCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!device || !have_devs() || index >= st.ndev)
		return NVML_ERROR_INVALID_ARGUMENT;
	*device = &st.devs[index];
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device)
{
	return nvmlDeviceGetHandleByIndex_v2(index, device);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device)
{
	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!uuid || !device)
		return NVML_ERROR_INVALID_ARGUMENT;
	for (unsigned int i = 0; have_devs() && i < st.ndev; i++) {
		if (!strcasecmp(uuid, st.devs[i].uuid)) {
			*device = &st.devs[i];
			return NVML_SUCCESS;
		}
	}
	return NVML_ERROR_NOT_FOUND;
}

/* "[domain:]bus:device[.function]", hex; false if malformed */
static bool parse_bus_id(const char *s, unsigned int *dom, unsigned int *bus, unsigned int *dev)
{
	unsigned int a, b, c, fn = 0;
	int n = 0;

	if (sscanf(s, "%x:%x:%x%n", &a, &b, &c, &n) == 3) {
		*dom = a, *bus = b, *dev = c;
	} else if (n = 0, sscanf(s, "%x:%x%n", &b, &c, &n) == 2) {
		*dom = 0, *bus = b, *dev = c;
	} else {
		return false;
	}
	s += n;
	if (*s == '.') {
		int m = 0;

		if (sscanf(s + 1, "%x%n", &fn, &m) != 1)
			return false;
		s += 1 + m;
	}
	return *s == '\0' && fn == 0;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char *pciBusId, nvmlDevice_t *device)
{
	unsigned int dom, bus, dev;

	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!pciBusId || !device || !parse_bus_id(pciBusId, &dom, &bus, &dev))
		return NVML_ERROR_INVALID_ARGUMENT;
	for (unsigned int i = 0; have_devs() && i < st.ndev; i++) {
		const struct nvmlDevice_st *d = &st.devs[i];

		if (d->pci_domain == dom && d->pci_bus == bus && d->pci_device == dev) {
			*device = &st.devs[i];
			return NVML_SUCCESS;
		}
	}
	return NVML_ERROR_NOT_FOUND;
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char *pciBusId, nvmlDevice_t *device)
{
	return nvmlDeviceGetHandleByPciBusId_v2(pciBusId, device);
}

/* The device behind a handle of ours, or the reason there is none. */
static nvmlReturn_t dev_of(nvmlDevice_t h, struct nvmlDevice_st **d)
{
	if (!initialized())
		return NVML_ERROR_UNINITIALIZED;
	if (!h || !have_devs() || h < st.devs || h >= st.devs + st.ndev)
		return NVML_ERROR_INVALID_ARGUMENT;
	*d = h;
	return NVML_SUCCESS;
}

/* ---- device queries ---- */

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	return ret ? ret : put_str(name, length, d->name);
}

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	return ret ? ret : put_str(uuid, length, d->uuid);
}

EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!index)
		return NVML_ERROR_INVALID_ARGUMENT;
	*index = d->index;
	return NVML_SUCCESS;
}

/* vgpu has no /dev/nvidiaN: the minor number is the device's index */
EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int *minorNumber)
{
	return nvmlDeviceGetIndex(device, minorNumber);
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!major || !minor)
		return NVML_ERROR_INVALID_ARGUMENT;
	*major = d->cc_major;
	*minor = d->cc_minor;
	return NVML_SUCCESS;
}

static void fill_pci(const struct nvmlDevice_st *d, nvmlPciInfo_t *pci, bool v3)
{
	char legacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
	nvmlPciInfo_t p;

	memset(&p, 0, sizeof(p));
	p.domain = d->pci_domain;
	p.bus = d->pci_bus;
	p.device = d->pci_device;
	/* the driver API tells no PCI vendor/device ids: they read 0 */
	snprintf(p.busId, sizeof(p.busId), NVML_DEVICE_PCI_BUS_ID_FMT, d->pci_domain,
		 d->pci_bus, d->pci_device);
	if (v3) {
		snprintf(legacy, sizeof(legacy), NVML_DEVICE_PCI_BUS_ID_LEGACY_FMT,
			 d->pci_domain & 0xffff, d->pci_bus & 0xff, d->pci_device & 0xff);
		memcpy(p.busIdLegacy, legacy, sizeof(legacy));
		*pci = p;
	} else {
		/* v1/v2: the 16-byte busId is the first field, nothing after pciSubSystemId */
		snprintf(p.busIdLegacy, sizeof(p.busIdLegacy), NVML_DEVICE_PCI_BUS_ID_LEGACY_FMT,
			 d->pci_domain & 0xffff, d->pci_bus & 0xff, d->pci_device & 0xff);
		memcpy(pci, &p, PCI_INFO_V1_SIZE);
	}
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!pci)
		return NVML_ERROR_INVALID_ARGUMENT;
	fill_pci(d, pci, true);
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!pci)
		return NVML_ERROR_INVALID_ARGUMENT;
	fill_pci(d, pci, false);
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
	return nvmlDeviceGetPciInfo_v2(device, pci);
}

/* total: cuDeviceTotalMem (the partition); free: cuMemGetInfo in the primary context */
static nvmlReturn_t mem_info(struct nvmlDevice_st *d, unsigned long long *total,
			     unsigned long long *free_b)
{
	size_t t = 0, f = 0, ct = 0;
	CUcontext ctx, popped;
	CUresult rc;

	rc = cu.DeviceTotalMem(&t, d->cu);
	if (rc)
		return from_cu(rc);
	rc = cu.DevicePrimaryCtxRetain(&ctx, d->cu);
	if (rc)
		return from_cu(rc);
	rc = cu.CtxPushCurrent(ctx);
	if (!rc) {
		rc = cu.MemGetInfo(&f, &ct);
		cu.CtxPopCurrent(&popped);
	}
	cu.DevicePrimaryCtxRelease(d->cu);
	if (rc)
		return from_cu(rc);
	if (f > t)
		f = t;
	*total = t;
	*free_b = f;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory)
{
	unsigned long long t = 0, f = 0;
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!memory)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (memory->version != nvmlMemory_v2)
		return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
	ret = mem_info(d, &t, &f);
	if (ret)
		return ret;
	memory->total = t;
	memory->reserved = 0;	/* vgpu reserves nothing inside a partition */
	memory->free = f;
	memory->used = t - f;
	return NVML_SUCCESS;
}

/* The v2 answer without its reserved field. */
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
	nvmlMemory_v2_t m = { .version = nvmlMemory_v2 };
	nvmlReturn_t ret = nvmlDeviceGetMemoryInfo_v2(device, memory ? &m : NULL);

	if (ret)
		return ret;
	memory->total = m.total;
	memory->free = m.free;
	memory->used = m.used;
	return NVML_SUCCESS;
}

/*
 * What the server measures for the device (vgpu's vgpuDeviceGetUtilization:
 * docs/NVML.md); NOT_SUPPORTED over a libcuda.so.1 that has no such call.
 */
EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
						  nvmlUtilization_t *utilization)
{
	struct nvmlDevice_st *d;
	unsigned int gpu = 0, mem = 0;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!utilization)
		return NVML_ERROR_INVALID_ARGUMENT;
	if (!cu.VgpuUtilization)
		return NVML_ERROR_NOT_SUPPORTED;
	ret = from_cu(cu.VgpuUtilization(d->cu, &gpu, &mem));
	if (ret)
		return ret;
	utilization->gpu = gpu;
	utilization->memory = mem;
	return NVML_SUCCESS;
}

/* The processes of other tenants are not ours to see: the list is empty. */
static nvmlReturn_t no_processes(nvmlDevice_t device, unsigned int *infoCount)
{
	struct nvmlDevice_st *d;
	nvmlReturn_t ret = dev_of(device, &d);

	if (ret)
		return ret;
	if (!infoCount)
		return NVML_ERROR_INVALID_ARGUMENT;
	*infoCount = 0;
	return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
							    unsigned int *infoCount,
							    nvmlProcessInfo_t *infos)
{
	return no_processes(device, infoCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
							    unsigned int *infoCount,
							    nvmlProcessInfo_v2_t *infos)
{
	return no_processes(device, infoCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
							 unsigned int *infoCount,
							 nvmlProcessInfo_v1_t *infos)
{
	return no_processes(device, infoCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device,
							     unsigned int *infoCount,
							     nvmlProcessInfo_t *infos)
{
	return no_processes(device, infoCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device,
							     unsigned int *infoCount,
							     nvmlProcessInfo_v2_t *infos)
{
	return no_processes(device, infoCount);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device,
							  unsigned int *infoCount,
							  nvmlProcessInfo_v1_t *infos)
{
	return no_processes(device, infoCount);
}
