// SPDX-License-Identifier: MIT
/*
 * export.c - cuGetExportTable: the private tables the CUDA runtime (and
 * every library that embeds one, cuBLAS, cuBLASLt...) asks the driver for
 * by 16-byte id.  They are the runtime's bookkeeping with the driver in
 * its own process (they take and return client pointers), so they are
 * served here, never forwarded.
 *
 * A table is an array of pointers; slot 0 holds the table's size in bytes
 * (the real driver's sizes, which the runtime checks), except for
 * context-local storage, which has no size word.  What each slot does is
 * known from public reverse-engineering (ZLUDA's dark_api); slots whose
 * meaning is unknown answer CUDA_ERROR_NOT_SUPPORTED and say so under
 * VGPU_DEBUG.  Ids the library does not serve answer
 * CUDA_ERROR_INVALID_VALUE, as the real driver does for unknown ids; among
 * them f8cff951... (CUDA 13's multi-table, which the runtime does without).
 */
#include "lib/driver.h"
#include "lib/debug.h"
#include "lib/export.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define SLOT(f)		((const void *)(f))
#define SIZE_WORD(n)	((const void *)(uintptr_t)((n) * sizeof(void *)))

/*
 * Research only: VGPU_SLOT_ANSWER="t1734:15=0,t6e16:3=1" makes those unknown
 * slots answer that value instead of refusing, to learn what a library does
 * next (docs/LIBCUDA.md).  Never needed to run a program.
 */
static CUresult research_answer(const char *table, int slot, CUresult dflt)
{
	const char *e = getenv("VGPU_SLOT_ANSWER");
	char key[32];
	const char *p;

	if (!e)
		return dflt;
	snprintf(key, sizeof(key), "%s:%d=", table, slot);
	for (p = strstr(e, key); p; p = strstr(p + 1, key))
		if (p == e || p[-1] == ',')
			return (CUresult)strtol(p + strlen(key), NULL, 0);
	return dflt;
}

/* Under VGPU_DEBUG: what an unknown slot's argument is (one of our handles, memory). */
static void describe_arg(int i, uint64_t v)
{
	static const struct { uint32_t type; const char *name; } kinds[] = {
		{ VGPU_OBJ_CTX, "context" }, { VGPU_OBJ_MODULE, "module" },
		{ VGPU_OBJ_FUNC, "function" }, { VGPU_OBJ_STREAM, "stream" },
		{ VGPU_OBJ_EVENT, "event" }, { VGPU_OBJ_LIBRARY, "library" },
		{ VGPU_OBJ_KERNEL, "kernel" },
	};
	uint8_t b[48];
	char hex[3 * sizeof(b) + 1];
	struct iovec l = { b, sizeof(b) }, r = { (void *)(uintptr_t)v, sizeof(b) };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (vgpu_obj_valid((void *)(uintptr_t)v, kinds[k].type)) {
			vgpu_dbg("  arg%d is a %s", i, kinds[k].name);
			return;
		}
	}
	/* process_vm_readv fails instead of faulting on an address that is not memory */
	if (v < 4096 || process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)sizeof(b))
		return;
	for (size_t k = 0; k < sizeof(b); k++)
		sprintf(hex + 3 * k, "%02x ", b[k]);
	vgpu_dbg("  arg%d -> %s", i, hex);
}

/*
 * A slot of unknown meaning: refuse, and under VGPU_DEBUG say which slot it
 * was and what the first six integer arguments held (x86-64 passes them in
 * registers, so reading six is harmless whatever the real signature), the
 * way to learn what a new table is for.
 */
static CUresult slot_unimpl(const char *table, int slot, uint64_t a, uint64_t b, uint64_t c,
			    uint64_t d, uint64_t e, uint64_t f)
{
	const uint64_t args[6] = { a, b, c, d, e, f };

	vgpu_dbg("export table %s slot %d: not implemented (CUDA_ERROR_NOT_SUPPORTED); args "
		 "%#llx %#llx %#llx %#llx %#llx %#llx", table, slot, (unsigned long long)a,
		 (unsigned long long)b, (unsigned long long)c, (unsigned long long)d,
		 (unsigned long long)e, (unsigned long long)f);
	for (int i = 0; vgpu_debug_enabled() && i < 6; i++)
		describe_arg(i, args[i]);
	return research_answer(table, slot, CUDA_ERROR_NOT_SUPPORTED);
}

/* A do-nothing slot that says which one it is. */
#define STUB(tab, n) \
	static CUresult tab##_##n(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, \
				  uint64_t f) \
	{ return slot_unimpl(#tab, n, a, b, c, d, e, f); }

/* ---- 6bd5fb6c: CUDART_INTERFACE ---------------------------------------- */

/* [1], [6]: a module from a fatbin wrapper; [8]: from a fatbin. */
static CUresult cudart_module_from_wrapper(CUmodule *mod, const void *wrapper)
{
	return cuModuleLoadData(mod, wrapper);
}

static CUresult cudart_module_from_wrapper_ext(CUmodule *mod, const void *wrapper, void *a3,
					       void *a4, unsigned int a5)
{
	return cuModuleLoadData(mod, wrapper);
}

static CUresult cudart_module_from_fatbin_ext(const void *fatbin, CUmodule *mod, void *a3,
					      void *a4, unsigned int a5)
{
	return cuModuleLoadData(mod, fatbin);
}

/* [2]: the device's primary context, retained (the runtime releases it at exit). */
static CUresult cudart_primary_ctx(CUcontext *pctx, CUdevice dev)
{
	return cuDevicePrimaryCtxRetain(pctx, dev);
}

STUB(cudart, 3) STUB(cudart, 4) STUB(cudart, 5) STUB(cudart, 7) STUB(cudart, 9)
STUB(cudart, 10) STUB(cudart, 11) STUB(cudart, 12)

static const void *const cudart_table[13] = {
	SIZE_WORD(13), SLOT(cudart_module_from_wrapper), SLOT(cudart_primary_ctx),
	SLOT(cudart_3), SLOT(cudart_4), SLOT(cudart_5), SLOT(cudart_module_from_wrapper_ext),
	SLOT(cudart_7), SLOT(cudart_module_from_fatbin_ext), SLOT(cudart_9), SLOT(cudart_10),
	SLOT(cudart_11), SLOT(cudart_12),
};

/* ---- a094798c: TOOLS_RUNTIME_CALLBACK_HOOKS ---------------------------- */

/*
 * [2] and [6] hand the runtime buffers of the driver's for its callback
 * bookkeeping; it reads and writes them.  Sizes as reported by the real
 * driver's counterparts, with room to spare behind them.
 */
static uint64_t hooks_buf1[1024], hooks_buf2[64];

static void hooks_buffer1(void **ptr, size_t *size)
{
	*ptr = hooks_buf1;
	*size = 1024;
}

static void hooks_buffer2(void **ptr, size_t *size)
{
	*ptr = hooks_buf2;
	*size = 14;
}

STUB(hooks, 1) STUB(hooks, 3) STUB(hooks, 4) STUB(hooks, 5)

static const void *const hooks_table[7] = {
	SIZE_WORD(7), SLOT(hooks_1), SLOT(hooks_buffer1), SLOT(hooks_3), SLOT(hooks_4),
	SLOT(hooks_5), SLOT(hooks_buffer2),
};

/* ---- 42d85a81: TOOLS_TLS ------------------------------------------------ */

STUB(tools_tls, 1)

/* [2]: the calling thread's current context (cuBLASLt keys its kernels by it). */
static CUresult tools_tls_current(CUcontext *pctx)
{
	return cuCtxGetCurrent(pctx);
}

static const void *const tools_tls_table[3] = {
	SIZE_WORD(3), SLOT(tools_tls_1), SLOT(tools_tls_current),
};

/* ---- 21318c60: context identity ----------------------------------------- */

/*
 * 93 slots (the real driver's 0x2e8 bytes); cuBLAS uses [4], a context's
 * unique id (cuCtxGetId's answer), to key its per-context state; without
 * it every cublas call fails with CUBLAS_STATUS_INTERNAL_ERROR.  The other
 * slots are unknown: each stub says which it is.
 */
#define CTXID_SLOTS	93

static CUresult ctxid_context_id(CUcontext ctx, unsigned long long *id)
{
	return cuCtxGetId(ctx, id);
}

/*
 * [51]: cuBLAS calls it around its API calls as (context, stream, &record,
 * 0, 0x30) with a 0x30-byte record {its entry point, ..., the stream, ...,
 * 0x13c} - a tools (profiler) notification.  NVIDIA's driver with no tool
 * attached returns 0 and neither calls nor changes anything (measured with
 * tests/gpu/export_probe on an H100): so does this one.
 */
static CUresult ctxid_tools_notify(CUcontext ctx, CUstream s, const void *record,
				   uint64_t flags, uint64_t size)
{
	return CUDA_SUCCESS;
}

/*
 * [39]: cuBLAS's other notification, (context, its 3-word table {0x18, fn,
 * fn}, &record {stream, context, ...}, 0, 0x30); likewise 0 and no effect
 * from NVIDIA's driver with no tool attached.
 */
static CUresult ctxid_tools_notify2(CUcontext ctx, const void *table, const void *record,
				    uint64_t flags, uint64_t size)
{
	return CUDA_SUCCESS;
}

STUB(ctxid, 1) STUB(ctxid, 2) STUB(ctxid, 3) STUB(ctxid, 5) STUB(ctxid, 6) STUB(ctxid, 7)
STUB(ctxid, 8) STUB(ctxid, 9) STUB(ctxid, 10) STUB(ctxid, 11) STUB(ctxid, 12)
STUB(ctxid, 13) STUB(ctxid, 14) STUB(ctxid, 15) STUB(ctxid, 16) STUB(ctxid, 17)
STUB(ctxid, 18) STUB(ctxid, 19) STUB(ctxid, 20) STUB(ctxid, 21) STUB(ctxid, 22)
STUB(ctxid, 23) STUB(ctxid, 24) STUB(ctxid, 25) STUB(ctxid, 26) STUB(ctxid, 27)
STUB(ctxid, 28) STUB(ctxid, 29) STUB(ctxid, 30) STUB(ctxid, 31) STUB(ctxid, 32)
STUB(ctxid, 33) STUB(ctxid, 34) STUB(ctxid, 35) STUB(ctxid, 36) STUB(ctxid, 37)
STUB(ctxid, 38) STUB(ctxid, 40) STUB(ctxid, 41) STUB(ctxid, 42)
STUB(ctxid, 43) STUB(ctxid, 44) STUB(ctxid, 45) STUB(ctxid, 46) STUB(ctxid, 47)
STUB(ctxid, 48) STUB(ctxid, 49) STUB(ctxid, 50) STUB(ctxid, 52)
STUB(ctxid, 53) STUB(ctxid, 54) STUB(ctxid, 55) STUB(ctxid, 56) STUB(ctxid, 57)
STUB(ctxid, 58) STUB(ctxid, 59) STUB(ctxid, 60) STUB(ctxid, 61) STUB(ctxid, 62)
STUB(ctxid, 63) STUB(ctxid, 64) STUB(ctxid, 65) STUB(ctxid, 66) STUB(ctxid, 67)
STUB(ctxid, 68) STUB(ctxid, 69) STUB(ctxid, 70) STUB(ctxid, 71) STUB(ctxid, 72)
STUB(ctxid, 73) STUB(ctxid, 74) STUB(ctxid, 75) STUB(ctxid, 76) STUB(ctxid, 77)
STUB(ctxid, 78) STUB(ctxid, 79) STUB(ctxid, 80) STUB(ctxid, 81) STUB(ctxid, 82)
STUB(ctxid, 83) STUB(ctxid, 84) STUB(ctxid, 85) STUB(ctxid, 86) STUB(ctxid, 87)
STUB(ctxid, 88) STUB(ctxid, 89) STUB(ctxid, 90) STUB(ctxid, 91) STUB(ctxid, 92)

static const void *const ctxid_table[CTXID_SLOTS] = {
	SIZE_WORD(CTXID_SLOTS),
	SLOT(ctxid_1), SLOT(ctxid_2), SLOT(ctxid_3), SLOT(ctxid_context_id), SLOT(ctxid_5),
	SLOT(ctxid_6), SLOT(ctxid_7), SLOT(ctxid_8), SLOT(ctxid_9), SLOT(ctxid_10),
	SLOT(ctxid_11), SLOT(ctxid_12), SLOT(ctxid_13), SLOT(ctxid_14), SLOT(ctxid_15),
	SLOT(ctxid_16), SLOT(ctxid_17), SLOT(ctxid_18), SLOT(ctxid_19), SLOT(ctxid_20),
	SLOT(ctxid_21), SLOT(ctxid_22), SLOT(ctxid_23), SLOT(ctxid_24), SLOT(ctxid_25),
	SLOT(ctxid_26), SLOT(ctxid_27), SLOT(ctxid_28), SLOT(ctxid_29), SLOT(ctxid_30),
	SLOT(ctxid_31), SLOT(ctxid_32), SLOT(ctxid_33), SLOT(ctxid_34), SLOT(ctxid_35),
	SLOT(ctxid_36), SLOT(ctxid_37), SLOT(ctxid_38), SLOT(ctxid_tools_notify2), SLOT(ctxid_40),
	SLOT(ctxid_41), SLOT(ctxid_42), SLOT(ctxid_43), SLOT(ctxid_44), SLOT(ctxid_45),
	SLOT(ctxid_46), SLOT(ctxid_47), SLOT(ctxid_48), SLOT(ctxid_49), SLOT(ctxid_50),
	SLOT(ctxid_tools_notify), SLOT(ctxid_52), SLOT(ctxid_53), SLOT(ctxid_54), SLOT(ctxid_55),
	SLOT(ctxid_56), SLOT(ctxid_57), SLOT(ctxid_58), SLOT(ctxid_59), SLOT(ctxid_60),
	SLOT(ctxid_61), SLOT(ctxid_62), SLOT(ctxid_63), SLOT(ctxid_64), SLOT(ctxid_65),
	SLOT(ctxid_66), SLOT(ctxid_67), SLOT(ctxid_68), SLOT(ctxid_69), SLOT(ctxid_70),
	SLOT(ctxid_71), SLOT(ctxid_72), SLOT(ctxid_73), SLOT(ctxid_74), SLOT(ctxid_75),
	SLOT(ctxid_76), SLOT(ctxid_77), SLOT(ctxid_78), SLOT(ctxid_79), SLOT(ctxid_80),
	SLOT(ctxid_81), SLOT(ctxid_82), SLOT(ctxid_83), SLOT(ctxid_84), SLOT(ctxid_85),
	SLOT(ctxid_86), SLOT(ctxid_87), SLOT(ctxid_88), SLOT(ctxid_89), SLOT(ctxid_90),
	SLOT(ctxid_91), SLOT(ctxid_92),
};

/* ---- c693336e: CONTEXT_LOCAL_STORAGE (no size word) -------------------- */

STUB(cls, 3)

static const void *const cls_table[4] = {
	SLOT(vgpu_cls_put), SLOT(vgpu_cls_delete), SLOT(vgpu_cls_get), SLOT(cls_3),
};

/* ---- 263e8860: context checks ------------------------------------------ */

/* [2]: a check on a context the runtime is about to use: nothing to report. */
static CUresult checks_context(CUcontext ctx, uint32_t *result, const void **result2)
{
	if (result)
		*result = 0;
	return CUDA_SUCCESS;
}

/* [3]: a process-wide flag, never set. */
static uint32_t checks_global(void)
{
	return 0;
}

STUB(checks, 1) STUB(checks, 4) STUB(checks, 5) STUB(checks, 6) STUB(checks, 7)
STUB(checks, 8) STUB(checks, 9) STUB(checks, 10) STUB(checks, 11) STUB(checks, 12)
STUB(checks, 13) STUB(checks, 14)

static const void *const checks_table[15] = {
	SIZE_WORD(15), SLOT(checks_1), SLOT(checks_context), SLOT(checks_global),
	SLOT(checks_4), SLOT(checks_5), SLOT(checks_6), SLOT(checks_7), SLOT(checks_8),
	SLOT(checks_9), SLOT(checks_10), SLOT(checks_11), SLOT(checks_12), SLOT(checks_13),
	SLOT(checks_14),
};

/* ---- d4082055: INTEGRITY_CHECK ----------------------------------------- */

static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t result[2]);

STUB(integrity, 2)

static const void *const integrity_table[3] = {
	SIZE_WORD(3), SLOT(integrity_check), SLOT(integrity_2),
};

#define MAX_HASH_DEVS	64

/* [1]: the keyed hash the runtime checks its driver with (integrity.c). */
static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t result[2])
{
	struct vgpu_hash_dev devs[MAX_HASH_DEVS];
	struct vgpu_integrity_in in = {
		.runtime_version = version,
		.pid = (uint32_t)getpid(),
		.thread = (uint32_t)(uintptr_t)pthread_self(),
		.cudart_table = (uintptr_t)cudart_table,
		.integrity_table = (uintptr_t)integrity_table,
		.integrity_fn = (uintptr_t)integrity_table[1],
		.unix_seconds = unix_seconds,
	};
	int drv_version, n;
	CUresult rc;

	vgpu_dbg("integrity check: runtime %u", version);
	if (!result)
		return CUDA_ERROR_INVALID_VALUE;
	rc = cuDriverGetVersion(&drv_version);
	if (!rc)
		rc = cuDeviceGetCount(&n);
	if (rc)
		return rc;
	in.driver_version = (uint32_t)drv_version;
	if (n > MAX_HASH_DEVS)
		n = MAX_HASH_DEVS;
	for (int i = 0; i < n; i++) {
		CUuuid uuid;

		rc = cuDeviceGetUuid_v2(&uuid, i);
		if (!rc)
			rc = cuDeviceGetAttribute(&devs[i].pci_domain,
						  CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, i);
		if (!rc)
			rc = cuDeviceGetAttribute(&devs[i].pci_bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID,
						  i);
		if (!rc)
			rc = cuDeviceGetAttribute(&devs[i].pci_device,
						  CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, i);
		if (rc)
			return rc;
		memcpy(devs[i].uuid, uuid.bytes, sizeof(devs[i].uuid));
	}
	vgpu_integrity_hash(&in, devs, (unsigned int)n, result);
	return CUDA_SUCCESS;
}

/* ---- 1734dc26: asked for by cuBLASLt (0x88 bytes) ------------------------ */

/*
 * Refusing the table makes cuBLASLt crash; its other slots refuse (and log
 * their arguments under VGPU_DEBUG).
 *
 * [4]: cuBLASLt calls it as (&h0, &h1, its own 17-slot table of functions,
 * 0, 0x30): a tools subscription.  NVIDIA's driver with no tool attached
 * returns 0, calls none of the functions and hands back two pointers to
 * its own objects (tests/gpu/export_probe, H100).  The library only keeps
 * them; ours are two small zeroed blocks that live as long as the process.
 */
static CUresult t1734_subscribe(void **h0, void **h1, const void *table, uint64_t flags,
				uint64_t size)
{
	/*
	 * The 64 bytes each that NVIDIA's driver hands back (the same in every
	 * run, tests/gpu/export_spy).  cuBLASLt reads them: with zeroed blocks
	 * its next call was slot 13 (&a[6], &b[6], 3, 0, &record, 0x41); with
	 * these it is slot 13 (a, b, 3, 2, &record, 5), NVIDIA's arguments to
	 * its slot 15 (which tests/gpu/export_spy cannot follow: the driver
	 * faults when called through a trampoline).
	 */
	static uint64_t handles[2][8] = {
		{ 0x0706050403020100, 0x0706050403020100, 0x0706050403020100,
		  0x0706050403020100, 0x0107060504030201, 0x0201070605040302,
		  0x0302010706050403, 0x0e0b070607060504 },
		{ 0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303,
		  0x0504040404040404, 0x0606050505050505, 0x0707070606060606,
		  0x0000080807070707 },
	};

	if (h0)
		*h0 = handles[0];
	if (h1)
		*h1 = handles[1];
	return CUDA_SUCCESS;
}

STUB(t1734, 1) STUB(t1734, 2) STUB(t1734, 3) STUB(t1734, 5) STUB(t1734, 6)
STUB(t1734, 7) STUB(t1734, 8) STUB(t1734, 9) STUB(t1734, 10) STUB(t1734, 11)
STUB(t1734, 12) STUB(t1734, 13) STUB(t1734, 14) STUB(t1734, 15) STUB(t1734, 16)

static const void *const t1734_table[17] = {
	SIZE_WORD(17), SLOT(t1734_1), SLOT(t1734_2), SLOT(t1734_3), SLOT(t1734_subscribe),
	SLOT(t1734_5), SLOT(t1734_6), SLOT(t1734_7), SLOT(t1734_8), SLOT(t1734_9),
	SLOT(t1734_10), SLOT(t1734_11), SLOT(t1734_12), SLOT(t1734_13), SLOT(t1734_14),
	SLOT(t1734_15), SLOT(t1734_16),
};

/* ---- 6e163fbe: asked for by cuFFT; size and meaning unknown ----------- */

/*
 * Refused, cuFFT plans fail (CUFFT_INTERNAL_ERROR).  What is known of [7],
 * the slot cuFFT calls (docs/LIBCUDA.md): once per kernel module a plan
 * prepares, (context, its module record, a callback "*(a) = b", &out, the
 * same record, its table of nvJitLink/NVRTC entry points); NVIDIA's driver
 * answers 1 and a pointer to an object of its own.  Answering 1 with an
 * empty object (VGPU_SLOT_ANSWER=t6e16:7=1 does) gets the plan made and its
 * execution failing, so the object matters; until its contents are known,
 * refusing is the honest answer.
 */
STUB(t6e16, 1) STUB(t6e16, 2) STUB(t6e16, 3) STUB(t6e16, 4) STUB(t6e16, 5) STUB(t6e16, 6)
STUB(t6e16, 7) STUB(t6e16, 8) STUB(t6e16, 9) STUB(t6e16, 10) STUB(t6e16, 11)
STUB(t6e16, 12) STUB(t6e16, 13) STUB(t6e16, 14) STUB(t6e16, 15) STUB(t6e16, 16)
STUB(t6e16, 17) STUB(t6e16, 18) STUB(t6e16, 19) STUB(t6e16, 20) STUB(t6e16, 21)
STUB(t6e16, 22) STUB(t6e16, 23) STUB(t6e16, 24) STUB(t6e16, 25) STUB(t6e16, 26)
STUB(t6e16, 27) STUB(t6e16, 28) STUB(t6e16, 29) STUB(t6e16, 30) STUB(t6e16, 31)

static const void *const t6e16_table[32] = {
	SIZE_WORD(32), SLOT(t6e16_1), SLOT(t6e16_2), SLOT(t6e16_3), SLOT(t6e16_4),
	SLOT(t6e16_5), SLOT(t6e16_6), SLOT(t6e16_7), SLOT(t6e16_8), SLOT(t6e16_9),
	SLOT(t6e16_10), SLOT(t6e16_11), SLOT(t6e16_12), SLOT(t6e16_13), SLOT(t6e16_14),
	SLOT(t6e16_15), SLOT(t6e16_16), SLOT(t6e16_17), SLOT(t6e16_18), SLOT(t6e16_19),
	SLOT(t6e16_20), SLOT(t6e16_21), SLOT(t6e16_22), SLOT(t6e16_23), SLOT(t6e16_24),
	SLOT(t6e16_25), SLOT(t6e16_26), SLOT(t6e16_27), SLOT(t6e16_28), SLOT(t6e16_29),
	SLOT(t6e16_30), SLOT(t6e16_31),
};

/* ---- the id -> table map ----------------------------------------------- */

static const struct {
	uint8_t id[16];
	const char *name;
	const void *const *table;
} tables[] = {
	{ { 0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a,
	    0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9 }, "CUDART_INTERFACE", cudart_table },
	{ { 0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74,
	    0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66 }, "TOOLS_RUNTIME_CALLBACK_HOOKS",
	  hooks_table },
	{ { 0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47,
	    0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc }, "TOOLS_TLS", tools_tls_table },
	{ { 0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11,
	    0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93 }, "CONTEXT_LOCAL_STORAGE", cls_table },
	{ { 0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43,
	    0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e }, "CONTEXT_CHECKS", checks_table },
	{ { 0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b,
	    0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2 }, "INTEGRITY_CHECK", integrity_table },
	{ { 0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48,
	    0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2 }, "CONTEXT_IDENTITY", ctxid_table },
	{ { 0x17, 0x34, 0xdc, 0x26, 0x80, 0x0d, 0x47, 0x45,
	    0x87, 0x26, 0xc0, 0xf1, 0xe7, 0xdd, 0x8b, 0xca }, "T1734DC26", t1734_table },
	{ { 0x6e, 0x16, 0x3f, 0xbe, 0xb9, 0x58, 0x44, 0x4d,
	    0x83, 0x5c, 0xe1, 0x82, 0xaf, 0xf1, 0x99, 0x1e }, "T6E163FBE", t6e16_table },
};

CUresult cuGetExportTable(const void **table, const CUuuid *id)
{
	const uint8_t *b;

	if (!table || !id)
		return CUDA_ERROR_INVALID_VALUE;
	b = (const uint8_t *)id->bytes;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (!memcmp(b, tables[i].id, 16)) {
			vgpu_dbg("cuGetExportTable: %s", tables[i].name);
			*table = tables[i].table;
			return CUDA_SUCCESS;
		}
	}
	vgpu_dbg("cuGetExportTable: %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x: unknown (CUDA_ERROR_INVALID_VALUE)",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	*table = NULL;
	return CUDA_ERROR_INVALID_VALUE;
}
