// SPDX-License-Identifier: MIT
/*
 * test_nvml.c - vgpu's libnvidia-ml.so.1 (nvml/) over lib/'s libcuda.so.1
 * and its direct transport, against a spawned `vgpu-server --backend sim`:
 *   - before nvmlInit: UNINITIALIZED, and nvmlErrorString;
 *   - nvmlInit fails at once, with its own code, when libcuda.so.1 cannot
 *     be loaded, is no CUDA driver, or the server is unreachable
 *     (NVML_INIT_FLAG_NO_GPUS then gives an NVML without devices): each in
 *     a child process, since lib/ keeps its cuInit result for the process;
 *   - count, handles by index/UUID/PCI bus id, name, UUID format (and that
 *     it is the driver's cuDeviceGetUuid), PCI info (v3 and the shorter v2
 *     layout), compute capability, index, minor number, versions;
 *   - memory: total is cuDeviceTotalMem, free + used == total, and used
 *     grows and shrinks with a cuMemAlloc/cuMemFree of the test's own;
 *   - bad indices, handles, NULL pointers, short buffers, struct versions;
 *   - utilisation NOT_SUPPORTED, empty process lists, every other exported
 *     function NOT_SUPPORTED, every name of the symbol list exported;
 *   - memory queries from several threads at once;
 *   - init reference counting, and a lost server: GPU_IS_LOST, no hang.
 * Binaries from VGPU_BUILD_DIR; the library's exported names from
 * VGPU_NVML_SYMBOLS.
 */
#include "nvml/nvml_abi.h"

#include <cuda.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/spawn_server.h"

#define BIN(name)	VGPU_BUILD_DIR "/bin/" name
#define LIBCUDA_DIR	VGPU_BUILD_DIR "/lib"
#define SIM_MEM		(256ull << 20)

static struct spawned_server server;

static char self_path[4096];	/* this program, for the child scenarios */

static int start_server(void **state)
{
	if (spawn_server(&server, BIN("vgpu-server")))
		return -1;
	/* this process's libcuda (and so NVML) talks to it directly */
	setenv("VGPU_SERVER", server.hostport, 1);
	unsetenv("NVML_VGPU_LIBCUDA");
	return 0;
}

static int stop_server(void **state)
{
	stop_spawned_server(&server);
	return 0;
}

/* ---- scenarios run in a child process (a fresh libcuda) ---- */

/* Exit status: what nvmlInit returned; for "nogpus", 0 if the device count is 0. */
static int child_main(const char *what)
{
	unsigned int n = 99;
	nvmlReturn_t rc;

	if (!strcmp(what, "init"))
		return nvmlInit_v2();
	if (!strcmp(what, "nogpus")) {
		rc = nvmlInitWithFlags(NVML_INIT_FLAG_NO_GPUS);
		if (rc)
			return 100 + rc;
		rc = nvmlDeviceGetCount_v2(&n);
		return rc ? 150 + rc : n == 0 ? 0 : 200;
	}
	return 127;
}

/* Run a child scenario with env NAME=VALUE pairs (value NULL: unset); its status. */
static int run_child(const char *what, double *secs, ...)
{
	double t0 = now_s();
	pid_t pid = fork();
	int rc;

	assert_true(pid >= 0);
	if (!pid) {
		va_list ap;
		const char *name;

		quiet_stderr();
		va_start(ap, secs);
		while ((name = va_arg(ap, const char *))) {
			const char *value = va_arg(ap, const char *);

			if (value)
				setenv(name, value, 1);
			else
				unsetenv(name);
		}
		va_end(ap);
		execl(self_path, "test_nvml", "--child", what, (char *)NULL);
		_exit(126);
	}
	rc = wait_child(pid, 20);
	*secs = now_s() - t0;
	return rc;
}

/* 127.0.0.1:<a port nobody listens on> */
static void closed_port(char *out, size_t cap)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(out, cap, "127.0.0.1:%u", ntohs(a.sin_port));
}

/* ---- tests ---- */

static void test_before_init(void **state)
{
	unsigned int n;
	nvmlDevice_t d;
	char buf[80];
	int v;

	assert_int_equal(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(0, &d), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlDeviceGetHandleByUUID("GPU-x", &d), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlSystemGetDriverVersion(buf, sizeof(buf)), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlSystemGetCudaDriverVersion(&v), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlDeviceGetName(NULL, buf, sizeof(buf)), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlShutdown(), NVML_ERROR_UNINITIALIZED);
	/* nvmlErrorString needs no init */
	assert_string_equal(nvmlErrorString(NVML_SUCCESS), "Success");
	assert_string_equal(nvmlErrorString(NVML_ERROR_UNINITIALIZED), "Uninitialized");
	assert_string_equal(nvmlErrorString(NVML_ERROR_NOT_SUPPORTED), "Not Supported");
	assert_string_equal(nvmlErrorString(NVML_ERROR_LIBRARY_NOT_FOUND),
			    "NVML Shared Library Not Found");
	assert_string_equal(nvmlErrorString((nvmlReturn_t)12345), "Unknown Error");
	assert_string_equal(nvmlErrorString(NVML_ERROR_UNKNOWN), "Unknown Error");
}

static void test_init_no_libcuda(void **state)
{
	double secs;

	assert_int_equal(run_child("init", &secs, "NVML_VGPU_LIBCUDA",
				   "/nonexistent/libcuda.so.1", NULL),
			 NVML_ERROR_LIBRARY_NOT_FOUND);
	assert_true(secs < 10);
}

static void test_init_not_a_driver(void **state)
{
	double secs;

	/* a library that loads but is no CUDA driver */
	assert_int_equal(run_child("init", &secs, "NVML_VGPU_LIBCUDA", "libm.so.6", NULL),
			 NVML_ERROR_FUNCTION_NOT_FOUND);
}

static void test_init_server_unreachable(void **state)
{
	char hostport[64];
	double secs;

	closed_port(hostport, sizeof(hostport));
	assert_int_equal(run_child("init", &secs, "VGPU_SERVER", hostport,
				   "NVML_VGPU_LIBCUDA", LIBCUDA_DIR "/libcuda.so.1", NULL),
			 NVML_ERROR_GPU_IS_LOST);
	assert_true(secs < 10);
	/* NO_GPUS: an NVML without devices */
	assert_int_equal(run_child("nogpus", &secs, "VGPU_SERVER", hostport, NULL), 0);
	assert_true(secs < 10);
}

static void test_init_no_device_node(void **state)
{
	double secs;

	/* no VGPU_SERVER and no /dev/vgpuN: no driver */
	assert_int_equal(run_child("init", &secs, "VGPU_SERVER", NULL,
				   "VGPU_DEVICE", "/nonexistent/vgpu0", NULL),
			 NVML_ERROR_DRIVER_NOT_LOADED);
	assert_true(secs < 10);
}

static void test_init_count_handles(void **state)
{
	nvmlDevice_t d, d1;
	unsigned int n = 0, idx = 9;

	assert_int_equal(nvmlInit_v2(), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetCount_v2(&n), NVML_SUCCESS);
	assert_int_equal(n, 1);
	assert_int_equal(nvmlDeviceGetCount_v2(NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(0, &d), NVML_SUCCESS);
	assert_non_null(d);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(1, &d1), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(~0u, &d1), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(0, NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetIndex(d, &idx), NVML_SUCCESS);
	assert_int_equal(idx, 0);
	assert_int_equal(nvmlDeviceGetIndex(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetMinorNumber(d, &idx), NVML_SUCCESS);
	assert_int_equal(idx, 0);

	/* the unversioned (v1) symbols old callers link against */
	{
		nvmlReturn_t (*count_v1)(unsigned int *) = dlsym(RTLD_DEFAULT,
								  "nvmlDeviceGetCount");
		nvmlReturn_t (*handle_v1)(unsigned int, nvmlDevice_t *) =
			dlsym(RTLD_DEFAULT, "nvmlDeviceGetHandleByIndex");
		nvmlReturn_t (*init_v1)(void) = dlsym(RTLD_DEFAULT, "nvmlInit");

		assert_non_null(count_v1);
		assert_non_null(handle_v1);
		assert_non_null(init_v1);
		n = 0;
		assert_int_equal(count_v1(&n), NVML_SUCCESS);
		assert_int_equal(n, 1);
		assert_int_equal(handle_v1(0, &d1), NVML_SUCCESS);
		assert_ptr_equal(d1, d);
		assert_int_equal(handle_v1(1, &d1), NVML_ERROR_INVALID_ARGUMENT);
		assert_int_equal(init_v1(), NVML_SUCCESS);	/* a second reference */
		assert_int_equal(nvmlShutdown(), NVML_SUCCESS);
	}
}

static nvmlDevice_t dev0(void)
{
	nvmlDevice_t d = NULL;

	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(0, &d), NVML_SUCCESS);
	return d;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

static void test_name_uuid(void **state)
{
	nvmlDevice_t d = dev0(), d2;
	char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE], uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	char want[NVML_DEVICE_UUID_V2_BUFFER_SIZE], upper[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	CUuuid cu;
	const unsigned char *u = (const unsigned char *)cu.bytes;

	assert_int_equal(nvmlDeviceGetName(d, name, sizeof(name)), NVML_SUCCESS);
	assert_string_equal(name, "vgpu sim device");
	assert_int_equal(nvmlDeviceGetName(d, name, NVML_DEVICE_NAME_BUFFER_SIZE), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetName(d, name, 5), NVML_ERROR_INSUFFICIENT_SIZE);
	assert_int_equal(nvmlDeviceGetName(d, name, 15), NVML_ERROR_INSUFFICIENT_SIZE);
	assert_int_equal(nvmlDeviceGetName(d, name, 16), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetName(d, NULL, 64), NVML_ERROR_INVALID_ARGUMENT);

	/* GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, the driver's UUID */
	assert_int_equal(nvmlDeviceGetUUID(d, uuid, NVML_DEVICE_UUID_BUFFER_SIZE), NVML_SUCCESS);
	assert_int_equal(strlen(uuid), 40);
	assert_memory_equal(uuid, "GPU-", 4);
	assert_true(is_hex(uuid + 4, 8) && uuid[12] == '-' && is_hex(uuid + 13, 4) &&
		    uuid[17] == '-' && is_hex(uuid + 18, 4) && uuid[22] == '-' &&
		    is_hex(uuid + 23, 4) && uuid[27] == '-' && is_hex(uuid + 28, 12));
	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetUuid(&cu, 0), CUDA_SUCCESS);
	snprintf(want, sizeof(want),
		 "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
	assert_string_equal(uuid, want);
	assert_int_equal(nvmlDeviceGetUUID(d, uuid, 40), NVML_ERROR_INSUFFICIENT_SIZE);
	assert_int_equal(nvmlDeviceGetUUID(d, NULL, 80), NVML_ERROR_INVALID_ARGUMENT);

	/* by UUID: round trip, case-insensitively; unknown ones not found */
	assert_int_equal(nvmlDeviceGetHandleByUUID(want, &d2), NVML_SUCCESS);
	assert_ptr_equal(d2, d);
	for (size_t i = 0; i <= strlen(want); i++)
		upper[i] = (char)(want[i] >= 'a' && want[i] <= 'f' ? want[i] - 32 : want[i]);
	assert_int_equal(nvmlDeviceGetHandleByUUID(upper, &d2), NVML_SUCCESS);
	assert_ptr_equal(d2, d);
	assert_int_equal(nvmlDeviceGetHandleByUUID("GPU-00000000-0000-0000-0000-000000000000", &d2),
			 NVML_ERROR_NOT_FOUND);
	assert_int_equal(nvmlDeviceGetHandleByUUID("", &d2), NVML_ERROR_NOT_FOUND);
	assert_int_equal(nvmlDeviceGetHandleByUUID(NULL, &d2), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByUUID(want, NULL), NVML_ERROR_INVALID_ARGUMENT);
}

static void test_pci(void **state)
{
	nvmlDevice_t d = dev0(), d2;
	nvmlPciInfo_t pci;
	unsigned char v2[sizeof(nvmlPciInfo_t)];
	nvmlReturn_t (*pci_v2)(nvmlDevice_t, void *) = dlsym(RTLD_DEFAULT,
							      "nvmlDeviceGetPciInfo_v2");
	int dom, bus, dv;
	char want[32];

	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetAttribute(&dom, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, 0), 0);
	assert_int_equal(cuDeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, 0), 0);
	assert_int_equal(cuDeviceGetAttribute(&dv, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, 0), 0);
	snprintf(want, sizeof(want), "%08X:%02X:%02X.0", dom, bus, dv);

	memset(&pci, 0xaa, sizeof(pci));
	assert_int_equal(nvmlDeviceGetPciInfo_v3(d, &pci), NVML_SUCCESS);
	assert_string_equal(pci.busId, want);
	assert_int_equal(pci.domain, dom);
	assert_int_equal(pci.bus, bus);
	assert_int_equal(pci.device, dv);
	assert_int_equal(strlen(pci.busIdLegacy), 12);	/* "%04X:%02X:%02X.0" */
	assert_int_equal(nvmlDeviceGetPciInfo_v3(d, NULL), NVML_ERROR_INVALID_ARGUMENT);

	/* the v1/v2 layout ends after pciSubSystemId: nothing written past it */
	assert_non_null(pci_v2);
	memset(v2, 0xaa, sizeof(v2));
	assert_int_equal(pci_v2(d, v2), NVML_SUCCESS);
	assert_int_equal(strlen((char *)v2), 12);
	for (size_t i = offsetof(nvmlPciInfo_t, busId); i < sizeof(v2); i++)
		assert_int_equal(v2[i], 0xaa);

	/* by bus id: full, legacy and short forms; garbage refused */
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2(want, &d2), NVML_SUCCESS);
	assert_ptr_equal(d2, d);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2(pci.busIdLegacy, &d2), NVML_SUCCESS);
	assert_ptr_equal(d2, d);
	snprintf(want, sizeof(want), "%x:%x", bus, dv);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2(want, &d2), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2("0000:7f:1f.0", &d2),
			 bus == 0x7f && dv == 0x1f ? NVML_SUCCESS : NVML_ERROR_NOT_FOUND);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2("not a bus id", &d2),
			 NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2("0000:00:00.0junk", &d2),
			 NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2(NULL, &d2), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetHandleByPciBusId_v2(pci.busId, NULL),
			 NVML_ERROR_INVALID_ARGUMENT);
}

static void test_capability_versions(void **state)
{
	nvmlDevice_t d = dev0();
	int major = -1, minor = -1, cuv = 0, v = 0;
	char buf[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE], want[32];

	assert_int_equal(nvmlDeviceGetCudaComputeCapability(d, &major, &minor), NVML_SUCCESS);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0),
			 CUDA_SUCCESS);
	assert_int_equal(major, v);
	assert_int_equal(cuDeviceGetAttribute(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0),
			 CUDA_SUCCESS);
	assert_int_equal(minor, v);
	assert_int_equal(major, 9);	/* the sim poses as an H100-class part */
	assert_int_equal(nvmlDeviceGetCudaComputeCapability(d, NULL, &minor),
			 NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetCudaComputeCapability(d, &major, NULL),
			 NVML_ERROR_INVALID_ARGUMENT);

	assert_int_equal(cuDriverGetVersion(&cuv), CUDA_SUCCESS);
	assert_int_equal(nvmlSystemGetCudaDriverVersion(&v), NVML_SUCCESS);
	assert_int_equal(v, cuv);
	assert_int_equal(nvmlSystemGetCudaDriverVersion_v2(&v), NVML_SUCCESS);
	assert_int_equal(v, cuv);
	assert_int_equal(nvmlSystemGetCudaDriverVersion(NULL), NVML_ERROR_INVALID_ARGUMENT);

	snprintf(want, sizeof(want), "%d.%d", cuv / 1000, cuv % 1000 / 10);
	assert_int_equal(nvmlSystemGetDriverVersion(buf, sizeof(buf)), NVML_SUCCESS);
	assert_string_equal(buf, want);
	assert_int_equal(nvmlSystemGetDriverVersion(buf, 2), NVML_ERROR_INSUFFICIENT_SIZE);
	assert_int_equal(nvmlSystemGetDriverVersion(NULL, 80), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlSystemGetNVMLVersion(buf, sizeof(buf)), NVML_SUCCESS);
	snprintf(want, sizeof(want), "%d.%d.%d", cuv / 1000, cuv / 1000, cuv % 1000 / 10);
	assert_string_equal(buf, want);
	assert_int_equal(nvmlSystemGetNVMLVersion(buf, 1), NVML_ERROR_INSUFFICIENT_SIZE);
}

static void check_memory(nvmlDevice_t d, unsigned long long *used)
{
	nvmlMemory_t m;
	nvmlMemory_v2_t m2 = { .version = nvmlMemory_v2 };
	size_t total;

	assert_int_equal(nvmlDeviceGetMemoryInfo(d, &m), NVML_SUCCESS);
	assert_int_equal(cuDeviceTotalMem(&total, 0), CUDA_SUCCESS);
	assert_true(m.total == total);
	assert_true(m.total == SIM_MEM);
	assert_true(m.free + m.used == m.total);
	assert_int_equal(nvmlDeviceGetMemoryInfo_v2(d, &m2), NVML_SUCCESS);
	assert_int_equal(m2.version, nvmlMemory_v2);
	assert_true(m2.total == m.total && m2.free == m.free && m2.used == m.used);
	assert_true(m2.reserved == 0);
	*used = m.used;
}

static void test_memory(void **state)
{
	nvmlDevice_t d = dev0();
	unsigned long long used0, used1, used2;
	nvmlMemory_v2_t m2 = { .version = 1 };
	size_t f, t;
	CUcontext ctx;
	CUdeviceptr p;

	check_memory(d, &used0);

	/* an allocation of this process's own shows as used, and its free as free */
	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRetain(&ctx, 0), CUDA_SUCCESS);
	assert_int_equal(cuCtxPushCurrent(ctx), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&p, 64 << 20), CUDA_SUCCESS);
	check_memory(d, &used1);
	assert_true(used1 == used0 + (64 << 20));
	assert_int_equal(cuMemGetInfo(&f, &t), CUDA_SUCCESS);
	assert_true(t - f == used1);
	assert_int_equal(cuMemFree(p), CUDA_SUCCESS);
	check_memory(d, &used2);
	assert_true(used2 == used0);
	assert_int_equal(cuCtxPopCurrent(&ctx), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);

	/* NVML's own context use leaves the thread's context stack as it was */
	assert_int_equal(cuCtxGetCurrent(&ctx), CUDA_SUCCESS);
	assert_null(ctx);

	assert_int_equal(nvmlDeviceGetMemoryInfo(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetMemoryInfo_v2(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetMemoryInfo_v2(d, &m2), NVML_ERROR_ARGUMENT_VERSION_MISMATCH);
}

/* NVML is thread-safe: memory queries from several threads at once */
static void *query_loop(void *arg)
{
	nvmlDevice_t d = arg;
	nvmlMemory_t m;

	for (int i = 0; i < 25; i++) {
		if (nvmlDeviceGetMemoryInfo(d, &m) != NVML_SUCCESS || m.free + m.used != m.total ||
		    m.total != SIM_MEM)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	nvmlDevice_t d = dev0();
	pthread_t t[4];
	void *ret;

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, query_loop, d), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
}

static void test_utilization_processes(void **state)
{
	nvmlDevice_t d = dev0();
	nvmlUtilization_t u;
	nvmlProcessInfo_t infos[4];
	unsigned int n = 4;
	static const char *const names[] = {
		"nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetComputeRunningProcesses_v2",
		"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetGraphicsRunningProcesses",
		"nvmlDeviceGetGraphicsRunningProcesses_v2", "nvmlDeviceGetGraphicsRunningProcesses_v3",
	};

	/* the sim's busy share of the time since the last question: idle here */
	memset(&u, 0xff, sizeof(u));
	assert_int_equal(nvmlDeviceGetUtilizationRates(d, &u), NVML_SUCCESS);
	assert_true(u.gpu <= 100 && u.memory <= 100);
	assert_int_equal(nvmlDeviceGetUtilizationRates(d, NULL), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetUtilizationRates(NULL, &u), NVML_ERROR_INVALID_ARGUMENT);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		nvmlReturn_t (*f)(nvmlDevice_t, unsigned int *, void *) =
			dlsym(RTLD_DEFAULT, names[i]);

		assert_non_null(f);
		n = 4;
		assert_int_equal(f(d, &n, infos), NVML_SUCCESS);
		assert_int_equal(n, 0);
		n = 0;
		assert_int_equal(f(d, &n, NULL), NVML_SUCCESS);	/* size query */
		assert_int_equal(n, 0);
		assert_int_equal(f(d, NULL, infos), NVML_ERROR_INVALID_ARGUMENT);
	}
}

static void test_bad_handles(void **state)
{
	struct { char pad[256]; } fake;
	nvmlDevice_t bogus = (nvmlDevice_t)(void *)&fake;
	char buf[96];
	unsigned int i;
	nvmlMemory_t m;
	nvmlPciInfo_t pci;
	int a, b;

	assert_int_equal(nvmlDeviceGetName(NULL, buf, sizeof(buf)), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetName(bogus, buf, sizeof(buf)), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetUUID(bogus, buf, sizeof(buf)), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetIndex(bogus, &i), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetMinorNumber(NULL, &i), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetMemoryInfo(bogus, &m), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetPciInfo_v3(NULL, &pci), NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetCudaComputeCapability(bogus, &a, &b),
			 NVML_ERROR_INVALID_ARGUMENT);
	assert_int_equal(nvmlDeviceGetComputeRunningProcesses_v3(bogus, &i, NULL),
			 NVML_ERROR_INVALID_ARGUMENT);
}

/* Every exported name resolves; those not implemented answer NOT_SUPPORTED. */
static void test_exports_and_stubs(void **state)
{
	static const char *const unimplemented[] = {
		"nvmlDeviceGetPowerUsage", "nvmlDeviceGetTemperature", "nvmlDeviceGetClockInfo",
		"nvmlDeviceGetFanSpeed", "nvmlDeviceGetSerial", "nvmlDeviceGetBAR1MemoryInfo",
		"nvmlDeviceGetEccMode", "nvmlDeviceSetPersistenceMode", "nvmlEventSetCreate",
		"nvmlDeviceGetMigMode", "nvmlSystemGetProcessName", "nvmlDeviceGetP2PStatus",
		"nvmlUnitGetCount", "nvmlDeviceGetMPSComputeRunningProcesses_v3",
	};
	FILE *f = fopen(VGPU_NVML_SYMBOLS, "r");
	char line[256];
	int n = 0;

	for (size_t i = 0; i < sizeof(unimplemented) / sizeof(unimplemented[0]); i++) {
		/* any arguments: the stubs look at none */
		nvmlReturn_t (*fn)(void *, void *, void *, void *) =
			dlsym(RTLD_DEFAULT, unimplemented[i]);

		assert_non_null(fn);
		assert_int_equal(fn(NULL, NULL, NULL, NULL), NVML_ERROR_NOT_SUPPORTED);
	}
	assert_null(dlsym(RTLD_DEFAULT, "nvmlNoSuchFunctionAtAll"));

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		if (!dlsym(RTLD_DEFAULT, line))
			fail_msg("%s is not exported", line);
		n++;
	}
	fclose(f);
	assert_true(n >= 300);
	print_message("    %d NVML functions exported\n", n);
}

static void test_refcount(void **state)
{
	nvmlDevice_t d = dev0(), d2;
	unsigned int n;
	char name[64];

	/* one reference is held (test_init_count_handles); take another, drop both */
	assert_int_equal(nvmlInitWithFlags(0), NVML_SUCCESS);
	assert_int_equal(nvmlShutdown(), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetCount_v2(&n), NVML_SUCCESS);
	assert_int_equal(nvmlShutdown(), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetCount_v2(&n), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlDeviceGetName(d, name, sizeof(name)), NVML_ERROR_UNINITIALIZED);
	assert_int_equal(nvmlShutdown(), NVML_ERROR_UNINITIALIZED);
	/* init again: the same handles */
	assert_int_equal(nvmlInit_v2(), NVML_SUCCESS);
	assert_int_equal(nvmlDeviceGetHandleByIndex_v2(0, &d2), NVML_SUCCESS);
	assert_ptr_equal(d2, d);
	assert_int_equal(nvmlDeviceGetName(d, name, sizeof(name)), NVML_SUCCESS);
}

/* Last: the server dies; static facts still answer, memory says the GPU is lost. */
static void test_lost_server(void **state)
{
	nvmlDevice_t d = dev0();
	nvmlMemory_t m;
	char name[64];
	double t0;

	stop_server(state);
	t0 = now_s();
	assert_int_equal(nvmlDeviceGetMemoryInfo(d, &m), NVML_ERROR_GPU_IS_LOST);
	assert_true(now_s() - t0 < 10);
	assert_int_equal(nvmlDeviceGetName(d, name, sizeof(name)), NVML_SUCCESS);
	assert_int_equal(nvmlShutdown(), NVML_SUCCESS);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_init),
		cmocka_unit_test(test_init_no_libcuda),
		cmocka_unit_test(test_init_not_a_driver),
		cmocka_unit_test(test_init_server_unreachable),
		cmocka_unit_test(test_init_no_device_node),
		cmocka_unit_test(test_init_count_handles),
		cmocka_unit_test(test_name_uuid),
		cmocka_unit_test(test_pci),
		cmocka_unit_test(test_capability_versions),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_utilization_processes),
		cmocka_unit_test(test_bad_handles),
		cmocka_unit_test(test_exports_and_stubs),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_lost_server),
	};

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2]);
	if (!realpath(argv[0], self_path))
		snprintf(self_path, sizeof(self_path), "/proc/self/exe");
	return cmocka_run_group_tests_name("nvml", tests, start_server, stop_server);
}
