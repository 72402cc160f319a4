// SPDX-License-Identifier: MIT
/*
 * test_lib_export.c - what the CUDA runtime needs of libcuda.so.1 beyond
 * the public driver API, and the calls its bootstrap makes, against an
 * in-process sim server (lib_server.c):
 *   - cuGetExportTable: known and unknown ids, size words, every slot
 *     callable, the integrity hash (known answers derived with an
 *     independent HMAC-MD2, and the slot against the same inputs),
 *     context-local storage and its destructors;
 *   - cuLibrary* / cuKernel*: a CUkernel launched as a CUfunction;
 *   - function attributes, occupancy, cuLaunchKernelEx (test_lib_launch.c: more).
 * (The runtime's other calls: test_lib_runtime.c.)
 * lib/integrity.c is compiled in (its symbols are hidden in the library).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#include "lib/export.h"
#include "tests/unit/lib_server.h"

static const uint8_t ID_CUDART[16] = { 0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a,
				       0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9 };
static const uint8_t ID_HOOKS[16] = { 0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74,
				      0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66 };
static const uint8_t ID_TLS[16] = { 0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47,
				    0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc };
static const uint8_t ID_CLS[16] = { 0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11,
				    0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93 };
static const uint8_t ID_CHECKS[16] = { 0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43,
				       0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e };
static const uint8_t ID_INTEGRITY[16] = { 0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b,
					  0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2 };
static const uint8_t ID_CTXID[16] = { 0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48,
				      0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2 };
static const uint8_t ID_T1734[16] = { 0x17, 0x34, 0xdc, 0x26, 0x80, 0x0d, 0x47, 0x45,
				      0x87, 0x26, 0xc0, 0xf1, 0xe7, 0xdd, 0x8b, 0xca };
static const uint8_t ID_T6E16[16] = { 0x6e, 0x16, 0x3f, 0xbe, 0xb9, 0x58, 0x44, 0x4d,
				      0x83, 0x5c, 0xe1, 0x82, 0xaf, 0xf1, 0x99, 0x1e };
static const uint8_t ID_MULTI[16] = { 0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e,
				      0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9 };

/* ---- export tables ------------------------------------------------------ */

static const void *const *table(const uint8_t id[16])
{
	CUuuid u;
	const void *t = NULL;

	memcpy(u.bytes, id, 16);
	assert_int_equal(cuGetExportTable(&t, &u), CUDA_SUCCESS);
	assert_non_null(t);
	return t;
}

static void test_tables(void **state)
{
	static const struct { const uint8_t *id; size_t size; } sized[] = {
		{ ID_CUDART, 0x68 }, { ID_HOOKS, 0x38 }, { ID_TLS, 0x18 },
		{ ID_CHECKS, 0x78 }, { ID_INTEGRITY, 0x18 }, { ID_CTXID, 0x2e8 },
		{ ID_T1734, 0x88 }, { ID_T6E16, 0x100 },
	};
	CUuuid u = { { 0 } };
	const void *t = (void *)1;

	for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++) {
		const void *const *tab = table(sized[i].id);

		/* slot 0 is the byte size, every other slot a function */
		assert_int_equal((uintptr_t)tab[0], sized[i].size);
		for (size_t s = 1; s < sized[i].size / sizeof(void *); s++)
			assert_non_null(tab[s]);
	}
	/* context-local storage has no size word: slot 0 is already a function */
	assert_non_null(table(ID_CLS)[0]);

	/* unknown ids, and the two the runtime does without */
	assert_int_equal(cuGetExportTable(&t, &u), CUDA_ERROR_INVALID_VALUE);
	assert_null(t);
	memcpy(u.bytes, ID_MULTI, 16);
	assert_int_equal(cuGetExportTable(&t, &u), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGetExportTable(NULL, &u), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGetExportTable(&t, NULL), CUDA_ERROR_INVALID_VALUE);
}

static void test_unknown_slots(void **state)
{
	CUresult (*stub)(void);

	/* slots of unknown meaning are callable and refuse */
	stub = (CUresult (*)(void))table(ID_CUDART)[7];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_TLS)[1];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_CTXID)[3];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_CTXID)[92];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_CHECKS)[14];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_T1734)[13];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_T6E16)[7];
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	/* research aid: VGPU_SLOT_ANSWER makes named ones answer a value instead */
	setenv("VGPU_SLOT_ANSWER", "t6e16:17=3,t1734:13=0x1", 1);
	stub = (CUresult (*)(void))table(ID_T1734)[13];
	assert_int_equal(stub(), 1);
	stub = (CUresult (*)(void))table(ID_T6E16)[7];	/* t6e16:17 is not t6e16:7 */
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
	stub = (CUresult (*)(void))table(ID_T6E16)[17];
	assert_int_equal(stub(), 3);
	unsetenv("VGPU_SLOT_ANSWER");
	assert_int_equal(stub(), CUDA_ERROR_NOT_SUPPORTED);
}

/* Tool hooks the libraries call: answered as NVIDIA's driver does with no tool attached. */
static void test_tool_hooks(void **state)
{
	typedef CUresult (*notify_fn)(CUcontext, const void *, const void *, uint64_t, uint64_t);
	typedef CUresult (*subscribe_fn)(void **, void **, const void *, uint64_t, uint64_t);
	uint64_t record[6] = { 0 }, lt_table[17] = { 0x88 };
	void *h0 = NULL, *h1 = NULL, *h0b = NULL, *h1b = NULL;

	assert_int_equal(((notify_fn)table(ID_CTXID)[51])(NULL, NULL, record, 0, 0x30),
			 CUDA_SUCCESS);
	assert_int_equal(((notify_fn)table(ID_CTXID)[39])(NULL, NULL, record, 0, 0x30),
			 CUDA_SUCCESS);
	assert_int_equal(((subscribe_fn)table(ID_T1734)[4])(&h0, &h1, lt_table, 0, 0x30),
			 CUDA_SUCCESS);
	assert_non_null(h0);
	assert_non_null(h1);
	assert_ptr_not_equal(h0, h1);
	assert_int_equal(((subscribe_fn)table(ID_T1734)[4])(&h0b, &h1b, lt_table, 0, 0x30),
			 CUDA_SUCCESS);
	assert_ptr_equal(h0b, h0);	/* kept, not allocated per call */
}

static void test_hooks_and_checks(void **state)
{
	void (*buf)(void **, size_t *);
	CUresult (*check)(CUcontext, uint32_t *, const void **);
	uint32_t (*global)(void);
	void *p1 = NULL, *p2 = NULL;
	size_t n1 = 0, n2 = 0;
	uint32_t r = 7;

	buf = (void (*)(void **, size_t *))table(ID_HOOKS)[2];
	buf(&p1, &n1);
	buf = (void (*)(void **, size_t *))table(ID_HOOKS)[6];
	buf(&p2, &n2);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_ptr_not_equal(p1, p2);
	assert_true(n1 >= 1024 && n2 >= 14);
	memset(p1, 0xab, n1);	/* the runtime writes them */
	memset(p2, 0xab, n2);

	check = (CUresult (*)(CUcontext, uint32_t *, const void **))table(ID_CHECKS)[2];
	assert_int_equal(check(NULL, &r, NULL), CUDA_SUCCESS);
	assert_int_equal(r, 0);
	global = (uint32_t (*)(void))table(ID_CHECKS)[3];
	assert_int_equal(global(), 0);
}

/* Known answers from an independent HMAC-MD2 (RFC 1319 + RFC 2104) in Python. */
static void test_integrity_known_answers(void **state)
{
	static const uint32_t u1[4] = { 0x8a2bfe9a, 0x382d25ac, 0xc5ae37ea, 0x5f32716d };
	struct vgpu_integrity_in in1 = { 0x2f30, 12082, 0x002fa423, 0xf79c1000,
					 0x00007ffff6958240ull, 0x00007ffff6958220ull,
					 0x00007ffff2aaf4a0ull, 0x682b9cee };
	struct vgpu_integrity_in in2 = { 13000, 13002, 4242, 0xdeadbeef, 0x7f0000001000ull,
					 0x7f0000002000ull, 0x7f0000003000ull, 1700000000 };
	struct vgpu_integrity_in in3 = { 13000, 13005, 1, 2, 3, 4, 5, 6 };
	struct vgpu_hash_dev d1 = { .pci_domain = 0, .pci_bus = 2, .pci_device = 0 };
	struct vgpu_hash_dev d2[2] = { { .pci_bus = 0x19 },
				       { .pci_domain = 1, .pci_bus = 0xc1, .pci_device = 3 } };
	uint8_t md[16];
	uint64_t h[2];

	/* RFC 1319's test suite */
	vgpu_md2("", 0, md);
	assert_memory_equal(md, "\x83\x50\xe5\xa3\xe2\x4c\x15\x3d\xf2\x27\x5c\x9f\x80\x69\x27\x73",
			    16);
	vgpu_md2("abc", 3, md);
	assert_memory_equal(md, "\xda\x85\x3b\x0d\x3f\x88\xd9\x9b\x30\x28\x3a\x69\xe6\xde\xd6\xbb",
			    16);

	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 4; b++)
			d1.uuid[4 * i + b] = (uint8_t)(u1[i] >> (8 * b));
	vgpu_integrity_hash(&in1, &d1, 1, h);
	assert_true(h[0] == 0xf7ce26b071a14844ull && h[1] == 0xdd021b05393e8c6cull);

	for (int i = 0; i < 16; i++) {
		d2[0].uuid[i] = (uint8_t)i;
		d2[1].uuid[i] = (uint8_t)(16 + i);
	}
	vgpu_integrity_hash(&in2, d2, 2, h);
	assert_true(h[0] == 0x0476ff30ba296eebull && h[1] == 0x632719a64bc865c3ull);
	vgpu_integrity_hash(&in3, NULL, 0, h);
	assert_true(h[0] == 0xa8943c2d935c86b3ull && h[1] == 0x571944298fb69ec2ull);

	/* runtime versions ending in 0 and 1 have fixed answers */
	in3.runtime_version = 13000;
	vgpu_integrity_hash(&in3, NULL, 0, h);
	assert_true(h[0] == 0x3341181c03cb675cull && h[1] == 0x8ed383aa1f4cd1e8ull);
	in3.runtime_version = 12091;
	vgpu_integrity_hash(&in3, NULL, 0, h);
	assert_true(h[0] == 0x1841181c03cb675cull && h[1] == 0x8ed383aa1f4cd1e8ull);
}

static void test_integrity_slot(void **state)
{
	CUresult (*check)(uint32_t, uint64_t, uint64_t *);
	const void *const *itab = table(ID_INTEGRITY);
	struct vgpu_hash_dev devs[4];
	struct vgpu_integrity_in in;
	uint64_t got[2] = { 0 }, want[2];
	int n, drv;

	check = (CUresult (*)(uint32_t, uint64_t, uint64_t *))itab[1];
	/* before cuInit there are no devices to hash */
	assert_int_equal(check(13002, 1700000000, got), CUDA_ERROR_NOT_INITIALIZED);

	assert_int_equal(cuInit(0), CUDA_SUCCESS);
	assert_int_equal(check(13002, 1700000000, got), CUDA_SUCCESS);
	assert_int_equal(cuDriverGetVersion(&drv), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetCount(&n), CUDA_SUCCESS);
	assert_true(n >= 1 && n <= 4);
	for (int i = 0; i < n; i++) {
		CUuuid u;

		assert_int_equal(cuDeviceGetUuid(&u, i), CUDA_SUCCESS);
		memcpy(devs[i].uuid, u.bytes, 16);
		cuDeviceGetAttribute(&devs[i].pci_domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, i);
		cuDeviceGetAttribute(&devs[i].pci_bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, i);
		cuDeviceGetAttribute(&devs[i].pci_device, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, i);
	}
	in = (struct vgpu_integrity_in){
		.driver_version = (uint32_t)drv, .runtime_version = 13002,
		.pid = (uint32_t)getpid(), .thread = (uint32_t)(uintptr_t)pthread_self(),
		.cudart_table = (uintptr_t)table(ID_CUDART), .integrity_table = (uintptr_t)itab,
		.integrity_fn = (uintptr_t)itab[1], .unix_seconds = 1700000000,
	};
	vgpu_integrity_hash(&in, devs, (unsigned int)n, want);
	assert_true(got[0] == want[0] && got[1] == want[1]);
	assert_int_equal(check(13002, 1700000000, NULL), CUDA_ERROR_INVALID_VALUE);
}

/* ---- context-local storage and the runtime's primary-context slot ------ */

static int dtor_calls;
static void *dtor_value;

static void cls_dtor(CUcontext ctx, void *key, void *value)
{
	CUcontext cur;

	dtor_calls++;
	dtor_value = value;
	/* the context still works while its destructors run */
	assert_int_equal(cuCtxGetCurrent(&cur), CUDA_SUCCESS);
	assert_non_null(ctx);
}

static void test_primary_and_cls(void **state)
{
	CUresult (*primary)(CUcontext *, CUdevice);
	CUresult (*put)(CUcontext, void *, void *, vgpu_cls_dtor);
	CUresult (*del)(CUcontext, void *);
	CUresult (*get)(void **, CUcontext, void *);
	const void *const *cls = table(ID_CLS);
	CUcontext c, c2;
	void *v = NULL;
	int key1, key2, active;
	unsigned int flags;

	primary = (CUresult (*)(CUcontext *, CUdevice))table(ID_CUDART)[2];
	put = (CUresult (*)(CUcontext, void *, void *, vgpu_cls_dtor))cls[0];
	del = (CUresult (*)(CUcontext, void *))cls[1];
	get = (CUresult (*)(void **, CUcontext, void *))cls[2];

	assert_int_equal(primary(&c, 0), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxRetain(&c2, 0), CUDA_SUCCESS);
	assert_ptr_equal(c, c2);
	assert_int_equal(cuCtxSetCurrent(c), CUDA_SUCCESS);

	assert_int_equal(get(&v, c, &key1), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(put(c, &key1, (void *)0x1111, cls_dtor), CUDA_SUCCESS);
	assert_int_equal(put(NULL, &key2, (void *)0x2222, NULL), CUDA_SUCCESS);	/* current */
	assert_int_equal(get(&v, c, &key1), CUDA_SUCCESS);
	assert_ptr_equal(v, (void *)0x1111);
	assert_int_equal(put(c, &key1, (void *)0x3333, cls_dtor), CUDA_SUCCESS);	/* replace */
	assert_int_equal(get(&v, NULL, &key1), CUDA_SUCCESS);
	assert_ptr_equal(v, (void *)0x3333);
	assert_int_equal(del(c, &key2), CUDA_SUCCESS);
	assert_int_equal(get(&v, c, &key2), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(del(c, &key2), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(get(&v, (CUcontext)&key1, &key1), CUDA_ERROR_INVALID_CONTEXT);

	/* two references: the first release keeps it, the last runs the destructor */
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
	assert_int_equal(dtor_calls, 0);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 1);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_SUCCESS);
	assert_int_equal(dtor_calls, 1);
	assert_ptr_equal(dtor_value, (void *)0x3333);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 0);
	assert_int_equal(get(&v, c, &key1), CUDA_ERROR_CONTEXT_IS_DESTROYED);

	/* the handle outlives the context, as the runtime expects across cudaDeviceReset */
	assert_int_equal(cuCtxSetCurrent(c), CUDA_SUCCESS);
	assert_int_equal(cuCtxSynchronize(), CUDA_ERROR_CONTEXT_IS_DESTROYED);
	assert_int_equal(primary(&c2, 0), CUDA_SUCCESS);
	assert_ptr_equal(c2, c);
	assert_int_equal(cuCtxSynchronize(), CUDA_SUCCESS);
	assert_int_equal(put(c, &key1, (void *)0x4444, cls_dtor), CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxReset(0), CUDA_SUCCESS);
	assert_int_equal(dtor_calls, 2);
	assert_ptr_equal(dtor_value, (void *)0x4444);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 0);
	assert_int_equal(cuDevicePrimaryCtxRelease(0), CUDA_ERROR_INVALID_CONTEXT);
	cuCtxSetCurrent(NULL);
}

/* TOOLS_TLS [2] and CONTEXT_IDENTITY [4]: what cuBLAS/cuBLASLt key their state by. */
static void test_tls_and_context_id(void **state)
{
	CUresult (*current)(CUcontext *) =
		(CUresult (*)(CUcontext *))table(ID_TLS)[2];
	CUresult (*ctx_id)(CUcontext, unsigned long long *) =
		(CUresult (*)(CUcontext, unsigned long long *))table(ID_CTXID)[4];
	CUcontext a, b, cur = (CUcontext)1;
	unsigned long long ida = 0, idb = 0, id;

	assert_int_equal(cuCtxSetCurrent(NULL), CUDA_SUCCESS);
	assert_int_equal(current(&cur), CUDA_SUCCESS);
	assert_null(cur);
	assert_int_equal(cuCtxCreate(&a, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuCtxCreate(&b, NULL, 0, 0), CUDA_SUCCESS);
	assert_int_equal(current(&cur), CUDA_SUCCESS);
	assert_ptr_equal(cur, b);

	assert_int_equal(ctx_id(a, &ida), CUDA_SUCCESS);
	assert_int_equal(ctx_id(b, &idb), CUDA_SUCCESS);
	assert_int_not_equal(ida, idb);
	assert_int_equal(cuCtxGetId(a, &id), CUDA_SUCCESS);
	assert_int_equal(id, ida);
	assert_int_equal(ctx_id(NULL, &id), CUDA_SUCCESS);	/* the current one */
	assert_int_equal(id, idb);
	assert_int_equal(ctx_id(a, NULL), CUDA_ERROR_INVALID_VALUE);

	assert_int_equal(cuCtxDestroy(b), CUDA_SUCCESS);
	assert_int_equal(cuCtxDestroy(a), CUDA_SUCCESS);
	assert_int_equal(ctx_id(a, &id), CUDA_ERROR_INVALID_CONTEXT);
	cuCtxSetCurrent(NULL);
}

/* ---- libraries and kernels ---------------------------------------------- */

static void test_library(void **state)
{
	enum { N = 4096 };
	float x[N], y[N], a = 2.0f;
	CUlibrary lib, lib2;
	CUkernel k, k2;
	CUfunction f;
	CUmodule m;
	CUdeviceptr dx, dy, g;
	size_t gsize, poff = 0, psize = 0;
	char path[] = "/tmp/test_lib_export.XXXXXX";
	FILE *fp;
	int fd;
	const char *name;
	int n = N, active;
	unsigned int flags;
	void *params[] = { &a, &dx, &dy, &n };
	CUmoduleLoadingMode mode;
	CUlibraryOption preserved = CU_LIBRARY_BINARY_IS_PRESERVED;
	CUlibraryOption unknown = CU_LIBRARY_NUM_OPTIONS;

	make_ctx();
	assert_int_equal(cuModuleGetLoadingMode(&mode), CUDA_SUCCESS);
	assert_int_equal(mode, CU_MODULE_LAZY_LOADING);
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "saxpy"), CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetKernel(&k2, lib, "saxpy"), CUDA_SUCCESS);
	assert_ptr_equal(k, k2);
	assert_int_equal(cuLibraryGetKernel(&k2, lib, "nope"), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(cuKernelGetFunction(&f, k), CUDA_SUCCESS);
	assert_ptr_not_equal(f, (CUfunction)k);	/* the kernel's function in this context */
	assert_int_equal(cuFuncGetName(&name, (CUfunction)k), CUDA_SUCCESS);
	assert_string_equal(name, "saxpy");
	assert_int_equal(cuKernelGetName(&name, k), CUDA_SUCCESS);
	assert_string_equal(name, "saxpy");
	assert_int_equal(cuKernelGetLibrary(&lib2, k), CUDA_SUCCESS);
	assert_ptr_equal(lib2, lib);
	assert_int_equal(cuLibraryGetModule(&m, lib), CUDA_SUCCESS);
	assert_int_equal(cuFuncGetModule(&m, f), CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetGlobal(&g, &gsize, lib, "sim_counter"), CUDA_SUCCESS);
	assert_int_equal(gsize, 4);
	/* the parameter layout, from the handle (saxpy: a 0/4, x 8/8, y 16/8, n 24/4) */
	assert_int_equal(cuKernelGetParamInfo(k, 1, &poff, &psize), CUDA_SUCCESS);
	assert_true(poff == 8 && psize == 8);
	assert_int_equal(cuFuncGetParamInfo(f, 3, &poff, &psize), CUDA_SUCCESS);
	assert_true(poff == 24 && psize == 4);
	assert_int_equal(cuFuncGetParamInfo(f, 4, &poff, &psize), CUDA_ERROR_INVALID_VALUE);

	for (int i = 0; i < N; i++) {
		x[i] = (float)i;
		y[i] = 1.0f;
	}
	assert_int_equal(cuMemAlloc(&dx, sizeof(x)), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&dy, sizeof(y)), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(dx, x, sizeof(x)), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(dy, y, sizeof(y)), CUDA_SUCCESS);
	/* what the runtime does: the CUkernel passed as the CUfunction */
	assert_int_equal(cuLaunchKernel((CUfunction)k, N / 256, 1, 1, 256, 1, 1, 0, NULL, params,
					NULL), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(y, dy, sizeof(y)), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_true(y[i] == 2.0f * (float)i + 1.0f);

	/*
	 * cudaDeviceReset: the primary context goes, the library and kernel
	 * handles stay; the next launch loads the library into the new context
	 */
	assert_int_equal(cuDevicePrimaryCtxReset(0), CUDA_SUCCESS);
	assert_int_equal(cuFuncGetName(&name, f), CUDA_ERROR_INVALID_HANDLE);	/* went with it */
	make_ctx();
	assert_int_equal(cuMemAlloc(&dx, sizeof(x)), CUDA_SUCCESS);
	assert_int_equal(cuMemAlloc(&dy, sizeof(y)), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(dx, x, sizeof(x)), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32(dy, 0, N), CUDA_SUCCESS);
	assert_int_equal(cuLaunchKernel((CUfunction)k, N / 256, 1, 1, 256, 1, 1, 0, NULL, params,
					NULL), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(y, dy, sizeof(y)), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_true(y[i] == 2.0f * (float)i);
	assert_int_equal(cuLibraryGetGlobal(&g, &gsize, lib, "sim_counter"), CUDA_SUCCESS);

	assert_int_equal(cuLibraryUnload(lib), CUDA_SUCCESS);
	assert_int_equal(cuKernelGetFunction(&f, k), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuLaunchKernel((CUfunction)k, 1, 1, 1, 1, 1, 1, 0, NULL, params, NULL),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuLibraryUnload(lib), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuLibraryLoadData(&lib, "not an image\x7f", NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_ERROR_INVALID_IMAGE);
	/* options: a preserved binary needs no value (cuBLASLt passes no value array) */
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, &preserved, NULL, 1),
			 CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "saxpy"), CUDA_SUCCESS);
	assert_int_equal(cuLibraryUnload(lib), CUDA_SUCCESS);
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, &unknown, NULL, 1),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, NULL, NULL, 1),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemFree(dx), CUDA_SUCCESS);
	assert_int_equal(cuMemFree(dy), CUDA_SUCCESS);

	/* from a file */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(SIM_IMAGE, fp);
	fclose(fp);
	assert_int_equal(cuLibraryLoadFromFile(&lib, path, NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "fill_u32"), CUDA_SUCCESS);
	assert_int_equal(cuLibraryUnload(lib), CUDA_SUCCESS);
	/* a file has no caller's copy to preserve */
	assert_int_equal(cuLibraryLoadFromFile(&lib, path, NULL, NULL, 0, &preserved, NULL, 1),
			 CUDA_ERROR_INVALID_VALUE);
	unlink(path);
	assert_int_equal(cuLibraryLoadFromFile(&lib, path, NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_ERROR_FILE_NOT_FOUND);
	drop_ctx();

	/* with no current context a library loads nowhere until a context uses it */
	assert_int_equal(cuLibraryLoadData(&lib, SIM_IMAGE, NULL, NULL, 0, NULL, NULL, 0),
			 CUDA_SUCCESS);
	assert_int_equal(cuDevicePrimaryCtxGetState(0, &flags, &active), CUDA_SUCCESS);
	assert_int_equal(active, 0);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "nope"), CUDA_SUCCESS);	/* checked at use */
	assert_int_equal(cuKernelGetFunction(&f, k), CUDA_ERROR_INVALID_CONTEXT);
	make_ctx();
	assert_int_equal(cuKernelGetFunction(&f, k), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(cuLibraryGetKernel(&k, lib, "saxpy"), CUDA_SUCCESS);
	assert_int_equal(cuKernelGetFunction(&f, k), CUDA_SUCCESS);
	assert_int_equal(cuLibraryGetModule(&m, lib), CUDA_SUCCESS);
	drop_ctx();
	/* its context died first: the unload has nothing left to unload on the server */
	assert_int_equal(cuLibraryUnload(lib), CUDA_SUCCESS);
	assert_int_equal(cuKernelGetName(&name, k), CUDA_ERROR_INVALID_HANDLE);
}

static void test_attributes_and_occupancy(void **state)
{
	CUmodule m;
	CUfunction f;
	CUlaunchConfig cfg = { 1, 1, 1, 32, 1, 1, 0, NULL, NULL, 0 };
	CUlaunchAttribute attr = { .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION };
	int v = 0, blocks = 0, grid = 0, bs = 0, ms = 1;
	size_t smem = 0;
	void *params[] = { &ms };

	make_ctx();
	assert_int_equal(cuModuleLoadData(&m, SIM_IMAGE), CUDA_SUCCESS);
	assert_int_equal(cuModuleGetFunction(&f, m, "spin"), CUDA_SUCCESS);
	assert_int_equal(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, f),
			 CUDA_SUCCESS);
	assert_int_equal(v, 1024);
	assert_int_equal(cuFuncGetAttribute(&v, CU_FUNC_ATTRIBUTE_NUM_REGS, f), CUDA_SUCCESS);
	assert_int_equal(v, 32);
	assert_int_equal(cuFuncGetAttribute(&v, (CUfunction_attribute)999, f),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
					    16384), CUDA_SUCCESS);
	assert_int_equal(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_NUM_REGS, 8),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuKernelGetAttribute(&v, CU_FUNC_ATTRIBUTE_BINARY_VERSION, (CUkernel)f, 0),
			 CUDA_SUCCESS);
	assert_int_equal(v, 90);
	assert_int_equal(cuKernelGetAttribute(&v, CU_FUNC_ATTRIBUTE_BINARY_VERSION, (CUkernel)f, 5),
			 CUDA_ERROR_INVALID_DEVICE);

	/* the sim's model: 2048 threads and 32 blocks per SM, 228 KiB shared */
	assert_int_equal(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 256, 0),
			 CUDA_SUCCESS);
	assert_int_equal(blocks, 8);
	assert_int_equal(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 32, 0),
			 CUDA_SUCCESS);
	assert_int_equal(blocks, 32);
	assert_int_equal(cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&blocks, f, 128,
									      40960, 0),
			 CUDA_SUCCESS);
	assert_int_equal(blocks, 5);
	assert_int_equal(cuOccupancyAvailableDynamicSMemPerBlock(&smem, f, 4, 256), CUDA_SUCCESS);
	assert_int_equal(smem, 48 * 1024);
	assert_int_equal(cuOccupancyMaxPotentialBlockSize(&grid, &bs, f, NULL, 0, 0),
			 CUDA_SUCCESS);
	assert_int_equal(bs, 1024);
	assert_true(grid > 0);
	assert_int_equal(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 0, 0),
			 CUDA_ERROR_INVALID_VALUE);

	/* clusters: the sim holds 8 blocks of 256 per SM on 132 SMs, clusters of up to 8 */
	cfg.blockDimX = 256;
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, &cfg), CUDA_SUCCESS);
	assert_int_equal(v, 8 * 132);
	attr.value.clusterDim.x = 2;
	attr.value.clusterDim.y = 2;
	attr.value.clusterDim.z = 1;
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, &cfg), CUDA_SUCCESS);
	assert_int_equal(v, 8 * 132 / 4);
	assert_int_equal(cuOccupancyMaxPotentialClusterSize(&v, f, &cfg), CUDA_SUCCESS);
	assert_int_equal(v, 8);
	attr.value.clusterDim.x = 16;
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, &cfg), CUDA_SUCCESS);
	assert_int_equal(v, 0);
	attr.value.clusterDim.y = 0;	/* half a cluster */
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, &cfg), CUDA_ERROR_INVALID_VALUE);
	cfg.blockDimX = 2048;
	cfg.numAttrs = 0;
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, &cfg), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuOccupancyMaxActiveClusters(&v, f, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuOccupancyMaxActiveClusters(NULL, f, &cfg), CUDA_ERROR_INVALID_VALUE);
	cfg.blockDimX = 32;
	cfg.attrs = NULL;

	/* cuLaunchKernelEx: plain, then a cluster of 2 on a grid of 1 (test_lib_launch: more) */
	assert_int_equal(cuLaunchKernelEx(&cfg, f, params, NULL), CUDA_SUCCESS);
	attr.value.clusterDim.x = 2;
	attr.value.clusterDim.y = 1;
	attr.value.clusterDim.z = 1;
	cfg.attrs = &attr;
	cfg.numAttrs = 1;
	assert_int_equal(cuLaunchKernelEx(&cfg, f, params, NULL), CUDA_ERROR_INVALID_VALUE);
	attr.value.clusterDim.x = 1;
	assert_int_equal(cuLaunchKernelEx(&cfg, f, params, NULL), CUDA_SUCCESS);
	assert_int_equal(cuLaunchKernelEx(NULL, f, params, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuModuleUnload(m), CUDA_SUCCESS);
	drop_ctx();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_unknown_slots),
		cmocka_unit_test(test_tool_hooks),
		cmocka_unit_test(test_hooks_and_checks),
		cmocka_unit_test(test_integrity_known_answers),
		cmocka_unit_test(test_integrity_slot),	/* calls cuInit */
		cmocka_unit_test(test_primary_and_cls),
		cmocka_unit_test(test_tls_and_context_id),
		cmocka_unit_test(test_library),
		cmocka_unit_test(test_attributes_and_occupancy),
	};

	return cmocka_run_group_tests(tests, lib_server_start, NULL);
}
