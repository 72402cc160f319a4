// SPDX-License-Identifier: MIT
/*
 * export_spy.c - a research aid for the GPU machine: a libcuda.so.1 that
 * forwards to NVIDIA's (VGPU_SPY_REAL, default the usual path) and logs
 * what the CUDA runtime and NVIDIA's libraries do with the private export
 * tables: every cuGetExportTable id, and, for the tables named in
 * VGPU_SPY_TABLES (first 4 id bytes in hex, comma-separated; default the
 * ones lib/export.c does not know well), every slot call with its first
 * six integer arguments, 32 bytes behind each argument that points at
 * readable memory before and after the call, and the result.
 *
 *   LD_LIBRARY_PATH=DIR_WITH_THIS_AS_libcuda.so.1 program 2>spy.log
 *
 * The runtime fetches everything through cuGetProcAddress, so that is all
 * this library exports; cuGetExportTable and cuGetProcAddress itself are
 * answered by wrappers.  Works for slots with at most six integer or
 * pointer arguments (x86-64 SysV), which covers what has been seen.
 */
#define _GNU_SOURCE
#include <cuda.h>
#undef cuGetProcAddress
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SLOTS	128
#define MAX_TABLES	8

typedef uint64_t (*slot_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static void *real_lib;
static CUresult (*real_gpa)(const char *, void **, int, cuuint64_t,
			    CUdriverProcAddressQueryResult *);
static CUresult (*real_gpa1)(const char *, void **, int, cuuint64_t);
static CUresult (*real_export)(const void **, const CUuuid *);
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct spied {
	uint8_t id[16];
	const void *const *real;
	const void *copy[MAX_SLOTS];
	size_t n;
} spied[MAX_TABLES];
static int nspied;

static void init(void)
{
	const char *path = getenv("VGPU_SPY_REAL");

	if (real_lib)
		return;
	real_lib = dlopen(path ? path : "/usr/lib/x86_64-linux-gnu/libcuda.so.1", RTLD_NOW);
	if (!real_lib) {
		fprintf(stderr, "spy: %s\n", dlerror());
		abort();
	}
	real_gpa = (void *)dlsym(real_lib, "cuGetProcAddress_v2");
	real_gpa1 = (void *)dlsym(real_lib, "cuGetProcAddress");
	real_export = (void *)dlsym(real_lib, "cuGetExportTable");
}

/* Up to 32 bytes at p, if readable (process_vm_readv fails instead of faulting). */
static void dump(const char *when, int i, uint64_t p)
{
	uint8_t b[32];
	struct iovec l = { b, sizeof(b) }, r = { (void *)(uintptr_t)p, sizeof(b) };
	char hex[3 * sizeof(b) + 1];

	if (p < 4096 || process_vm_readv(getpid(), &l, 1, &r, 1, 0) != sizeof(b))
		return;
	for (size_t k = 0; k < sizeof(b); k++)
		sprintf(hex + 3 * k, "%02x ", b[k]);
	fprintf(stderr, "spy:     %s arg%d -> %s\n", when, i, hex);
}

static uint64_t call_slot(int t, int s, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			  uint64_t e, uint64_t f)
{
	uint64_t args[6] = { a, b, c, d, e, f }, rv;

	fprintf(stderr, "spy: table %02x%02x%02x%02x slot %d (%#llx, %#llx, %#llx, %#llx, %#llx, "
		"%#llx)\n", spied[t].id[0], spied[t].id[1], spied[t].id[2], spied[t].id[3], s,
		(unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
		(unsigned long long)d, (unsigned long long)e, (unsigned long long)f);
	for (int i = 0; i < 6; i++)
		dump("before", i, args[i]);
	rv = ((slot_fn)spied[t].real[s])(a, b, c, d, e, f);
	for (int i = 0; i < 6; i++)
		dump("after ", i, args[i]);
	fprintf(stderr, "spy:   -> %#llx\n", (unsigned long long)rv);
	return rv;
}

/* One trampoline per (table, slot): the table and slot are in its name. */
#define TR(t, s) \
	static uint64_t tr_##t##_##s(uint64_t a, uint64_t b, uint64_t c, uint64_t d, \
				     uint64_t e, uint64_t f) \
	{ return call_slot(t, s, a, b, c, d, e, f); }
#define TR8(t, s) TR(t, s##0) TR(t, s##1) TR(t, s##2) TR(t, s##3) TR(t, s##4) TR(t, s##5) \
	TR(t, s##6) TR(t, s##7)
#define TRT(t) TR8(t, 0) TR8(t, 1) TR8(t, 2) TR8(t, 3) TR8(t, 4) TR8(t, 5) TR8(t, 6) \
	TR8(t, 7) TR8(t, 8) TR8(t, 9) TR8(t, 10) TR8(t, 11) TR8(t, 12) TR8(t, 13) TR8(t, 14) \
	TR8(t, 15)
TRT(0) TRT(1) TRT(2) TRT(3)
#define TA8(t, s) tr_##t##_##s##0, tr_##t##_##s##1, tr_##t##_##s##2, tr_##t##_##s##3, \
	tr_##t##_##s##4, tr_##t##_##s##5, tr_##t##_##s##6, tr_##t##_##s##7
#define TAT(t) { TA8(t, 0), TA8(t, 1), TA8(t, 2), TA8(t, 3), TA8(t, 4), TA8(t, 5), TA8(t, 6), \
	TA8(t, 7), TA8(t, 8), TA8(t, 9), TA8(t, 10), TA8(t, 11), TA8(t, 12), TA8(t, 13), \
	TA8(t, 14), TA8(t, 15) }
static const slot_fn tramp[4][MAX_SLOTS] = { TAT(0), TAT(1), TAT(2), TAT(3) };

static int wanted(const uint8_t *id)
{
	const char *want = getenv("VGPU_SPY_TABLES");
	char key[9];

	snprintf(key, sizeof(key), "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
	if (!want)
		want = "21318c60,1734dc26";
	return strstr(want, key) != NULL;
}

static CUresult spy_export(const void **table, const CUuuid *uid)
{
	const uint8_t *id = (const uint8_t *)uid->bytes;
	CUresult rc = real_export(table, uid);
	size_t n;

	fprintf(stderr, "spy: cuGetExportTable %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x%02x%02x%02x%02x -> %d, slot0 %#llx\n", id[0], id[1], id[2], id[3],
		id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14],
		id[15], rc, rc ? 0ULL : (unsigned long long)(uintptr_t)((void **)*table)[0]);
	if (!rc) {
		/* the first slots' words and what they point at: tables of tables show up */
		const uint64_t *w = (const uint64_t *)*table;

		for (int i = 0; i < 4; i++) {
			fprintf(stderr, "spy:   word %d = %#llx\n", i, (unsigned long long)w[i]);
			dump("   at", i, w[i]);
		}
	}
	if (rc || !wanted(id))
		return rc;
	pthread_mutex_lock(&lock);
	for (int t = 0; t < nspied; t++) {
		if (!memcmp(spied[t].id, id, 16)) {
			*table = spied[t].copy;
			goto out;
		}
	}
	if (nspied == 4)
		goto out;
	n = (uintptr_t)((void **)*table)[0] / sizeof(void *);
	if (n < 2 || n > MAX_SLOTS)
		n = 16;	/* no size word: spy on the first 16 */
	memcpy(spied[nspied].id, id, 16);
	spied[nspied].real = *table;
	spied[nspied].n = n;
	spied[nspied].copy[0] = ((void **)*table)[0];
	for (size_t s = 1; s < n; s++)
		spied[nspied].copy[s] = (const void *)tramp[nspied][s];
	*table = spied[nspied++].copy;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

CUresult cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags);
CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
			     CUdriverProcAddressQueryResult *st);

static void replace(const char *sym, void **pfn)
{
	if (!strcmp(sym, "cuGetExportTable"))
		*pfn = (void *)spy_export;
	else if (*pfn == (void *)real_gpa)
		*pfn = (void *)cuGetProcAddress_v2;
	else if (*pfn == (void *)real_gpa1)
		*pfn = (void *)cuGetProcAddress;
}

CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
			     CUdriverProcAddressQueryResult *st)
{
	CUresult rc;

	init();
	rc = real_gpa(sym, pfn, ver, flags, st);
	if (!rc && sym && pfn && *pfn)
		replace(sym, pfn);
	return rc;
}

CUresult cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags)
{
	CUresult rc;

	init();
	rc = real_gpa1(sym, pfn, ver, flags);
	if (!rc && sym && pfn && *pfn)
		replace(sym, pfn);
	return rc;
}
