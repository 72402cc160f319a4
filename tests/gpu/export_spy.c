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
 * Built by tests/gpu/build_spy.sh, which adds a forwarding stub for every
 * other driver name; cuGetExportTable and cuGetProcAddress (through which
 * the runtime fetches everything) are answered by wrappers here.  Works for slots with at most six integer or
 * pointer arguments (x86-64 SysV), which covers what has been seen.
 */
#define _GNU_SOURCE
#include <cuda.h>
#undef cuGetProcAddress
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SLOTS	128
#define MAX_TABLES	8

/*
 * Slots are forwarded with twelve integer arguments: the last six are read
 * from the caller's stack whether it passed them or not (harmless reads),
 * so slots with up to twelve integer arguments keep working.
 */
typedef uint64_t (*slot_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
			    uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
#define ARGS12	uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f, \
		uint64_t g, uint64_t h, uint64_t i, uint64_t j, uint64_t k, uint64_t l
#define PASS12	a, b, c, d, e, f, g, h, i, j, k, l

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

/* A crash inside a spied slot: where, so a log ends with more than "Segmentation fault". */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uint64_t rip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	Dl_info di = { 0 };
	char msg[512];
	int n;

	dladdr((void *)(uintptr_t)rip, &di);
	n = snprintf(msg, sizeof(msg), "spy: signal %d at %#llx (%s+%#llx), address %p\n", sig,
		     (unsigned long long)rip, di.dli_fname ? di.dli_fname : "?",
		     (unsigned long long)(rip - (uint64_t)(uintptr_t)di.dli_fbase), si->si_addr);
	if (write(2, msg, n) < 0)
		_exit(128 + sig);
	_exit(128 + sig);
}

extern const char *const spy_fwd_names[];
extern void *spy_fwd[] __attribute__((visibility("hidden")));

__attribute__((constructor)) static void init(void)
{
	const char *path = getenv("VGPU_SPY_REAL");

	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	if (real_lib)
		return;
	sigaction(SIGSEGV, &sa, NULL);
	real_lib = dlopen(path ? path : "/usr/lib/x86_64-linux-gnu/libcuda.so.1", RTLD_NOW);
	if (!real_lib) {
		fprintf(stderr, "spy: %s\n", dlerror());
		abort();
	}
	/* the forwarding stubs of build_spy.sh: NVIDIA's function for each name */
	for (size_t i = 0; spy_fwd_names[i]; i++)
		spy_fwd[i] = dlsym(real_lib, spy_fwd_names[i]);
	real_gpa = (void *)dlsym(real_lib, "cuGetProcAddress_v2");
	real_gpa1 = (void *)dlsym(real_lib, "cuGetProcAddress");
	real_export = (void *)dlsym(real_lib, "cuGetExportTable");
}

/* n bytes at p into b, if readable (process_vm_readv fails instead of faulting). */
static int peek(uint64_t p, void *b, size_t n)
{
	struct iovec l = { b, n }, r = { (void *)(uintptr_t)p, n };

	return p >= 4096 && process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n;
}

/*
 * 64 bytes at p as words, and 32 bytes behind each word that points at
 * readable memory (structures of pointers show their shape).
 */
/* VGPU_SPY_DUMP=N: N bytes (up to 2048) at a pointer and at what an out-argument got */
static void hexdump(const char *what, int i, uint64_t p)
{
	const char *e = getenv("VGPU_SPY_DUMP");
	size_t n = e ? strtoul(e, NULL, 0) & ~7UL : 0;
	uint64_t w[256];

	if (n > sizeof(w))
		n = sizeof(w);
	while (n && !peek(p, w, n))	/* shorter until readable */
		n -= 8;
	if (!n)
		return;
	fprintf(stderr, "spy:     %s arg%d %zu bytes:", what, i, n);
	for (size_t k = 0; k < n / 8; k++)
		fprintf(stderr, "%s%016llx", k % 8 ? " " : "\nspy:       ", (unsigned long long)w[k]);
	fprintf(stderr, "\n");
}

static void dump(const char *when, int i, uint64_t p)
{
	uint64_t w[8], inner[4];

	if (!peek(p, w, sizeof(w)))
		return;
	fprintf(stderr, "spy:     %s arg%d:", when, i);
	for (int k = 0; k < 8; k++)
		fprintf(stderr, " %#llx", (unsigned long long)w[k]);
	fprintf(stderr, "\n");
	hexdump(when, i, p);
	if (when[0] == 'a')
		hexdump("after *", i, w[0]);
	for (int k = 0; k < 8; k++) {
		if (!peek(w[k], inner, sizeof(inner)))
			continue;
		fprintf(stderr, "spy:       [%d] -> %#llx %#llx %#llx %#llx\n", k,
			(unsigned long long)inner[0], (unsigned long long)inner[1],
			(unsigned long long)inner[2], (unsigned long long)inner[3]);
	}
}

static uint64_t call_slot(int t, int s, ARGS12)
{
	uint64_t args[6] = { a, b, c, d, e, f }, rv;

	fprintf(stderr, "spy: table %02x%02x%02x%02x slot %d (%#llx, %#llx, %#llx, %#llx, %#llx, "
		"%#llx)\n", spied[t].id[0], spied[t].id[1], spied[t].id[2], spied[t].id[3], s,
		(unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
		(unsigned long long)d, (unsigned long long)e, (unsigned long long)f);
	for (int i = 0; i < 6; i++)
		dump("before", i, args[i]);
	rv = ((slot_fn)spied[t].real[s])(PASS12);
	for (int i = 0; i < 6; i++)
		dump("after ", i, args[i]);
	fprintf(stderr, "spy:   -> %#llx\n", (unsigned long long)rv);
	return rv;
}

/* One trampoline per (table, slot): the table and slot are in its name. */
#define TR(t, s) \
	static uint64_t tr_##t##_##s(ARGS12) { return call_slot(t, s, PASS12); }
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

/*
 * Driver calls whose handles show up in slot arguments: logged with their
 * first four arguments and the word their first argument points at after
 * the call (the handle they return).  VGPU_SPY_CALLS=0 turns this off.
 */
static const char *const watched[] = {
	"cuLibraryLoadData", "cuLibraryGetKernel", "cuLibraryGetModule", "cuKernelGetFunction",
	"cuModuleLoadData", "cuModuleLoadFatBinary", "cuModuleGetFunction", "cuLibraryUnload",
	"cuModuleUnload", "cuLaunchKernel", "cuLaunchKernelEx", "cuCtxGetCurrent",
	"cuLibraryGetKernelCount", "cuLibraryEnumerateKernels", "cuKernelGetName",
	"cuKernelGetAttribute", "cuFuncGetAttribute", "cuKernelSetAttribute",
	"cuFuncSetAttribute", "cuLibraryLoadFromFile", "cuModuleLoadDataEx",
};
#define NWATCH	(sizeof(watched) / sizeof(watched[0]))
static slot_fn watched_real[NWATCH];

static uint64_t call_watched(int w, ARGS12)
{
	uint64_t rv = watched_real[w](PASS12), out = 0;

	peek(a, &out, sizeof(out));
	fprintf(stderr, "spy: %s(%#llx, %#llx, %#llx, %#llx) -> %llu, *arg0 %#llx\n", watched[w],
		(unsigned long long)a, (unsigned long long)b, (unsigned long long)c,
		(unsigned long long)d, (unsigned long long)rv, (unsigned long long)out);
	if (!strcmp(watched[w], "cuLibraryGetKernel") || !strcmp(watched[w], "cuModuleGetFunction"))
		fprintf(stderr, "spy:   name %.120s\n", (const char *)(uintptr_t)c);
	return rv;
}

#define TW(w) static uint64_t tw_##w(ARGS12) { return call_watched(w, PASS12); }
TW(0) TW(1) TW(2) TW(3) TW(4) TW(5) TW(6) TW(7) TW(8) TW(9) TW(10) TW(11) TW(12) TW(13)
TW(14) TW(15) TW(16) TW(17) TW(18) TW(19) TW(20)
static const slot_fn watch_tramp[] = {
	tw_0, tw_1, tw_2, tw_3, tw_4, tw_5, tw_6, tw_7, tw_8, tw_9, tw_10, tw_11, tw_12,
	tw_13, tw_14, tw_15, tw_16, tw_17, tw_18, tw_19, tw_20,
};
_Static_assert(sizeof(watch_tramp) / sizeof(watch_tramp[0]) == NWATCH, "one per name");

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

CUresult cuGetExportTable(const void **table, const CUuuid *uid)
{
	return spy_export(table, uid);
}

CUresult cuGetProcAddress(const char *sym, void **pfn, int ver, cuuint64_t flags);
CUresult cuGetProcAddress_v2(const char *sym, void **pfn, int ver, cuuint64_t flags,
			     CUdriverProcAddressQueryResult *st);

static void replace(const char *sym, void **pfn)
{
	const char *calls = getenv("VGPU_SPY_CALLS");

	if (!strcmp(sym, "cuGetExportTable")) {
		*pfn = (void *)spy_export;
		return;
	}
	for (size_t w = 0; w < NWATCH && !(calls && !strcmp(calls, "0")); w++) {
		if (!strcmp(sym, watched[w])) {
			watched_real[w] = (slot_fn)*pfn;	/* same for every version asked */
			*pfn = (void *)watch_tramp[w];
			return;
		}
	}
	if (0)
		;
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
