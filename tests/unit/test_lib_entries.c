// SPDX-License-Identifier: MIT
/*
 * test_lib_entries.c - lib/'s entry-point surface, no server needed:
 *   - nm -D of libcuda.so.1 lists exactly the toolkit stub's 637 symbols and
 *     vgpuDeviceGetUtilization;
 *   - every unimplemented one, called through dlsym, is NOT_SUPPORTED;
 *   - cuGetProcAddress maps base names to variants by version and flags;
 *   - cuGetErrorName / cuGetErrorString;
 *   - the image-size parser (lib/image.c, compiled into this test) on
 *     hand-built ELF, fatbin, fatbin-wrapper and text images.
 * Paths come from the build: VGPU_LIBCUDA, VGPU_STUB_LIST, VGPU_UNIMPL_LIST.
 */
#include <dlfcn.h>
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cuda.h>

#undef cuGetProcAddress
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags);

/* lib/image.c, linked in from its object */
const void *vgpu_image_locate(const void *image, size_t *size);

struct names {
	char **v;
	size_t n;
};

static void read_names(FILE *f, struct names *out)
{
	char line[512];

	out->v = NULL;
	out->n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		assert_non_null(out->v);
		out->v[out->n++] = strdup(line);
	}
}

static void read_list(const char *path, struct names *out)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	read_names(f, out);
	fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

static void test_exports(void **state)
{
	struct names stub, ours;
	FILE *p;

	read_list(VGPU_STUB_LIST, &stub);
	assert_int_equal(stub.n, 637);
	p = popen("nm -D --defined-only --format=just-symbols " VGPU_LIBCUDA, "r");
	assert_non_null(p);
	read_names(p, &ours);
	assert_int_equal(pclose(p), 0);
	/* vgpu's one own export (for our NVML), then exactly the stub's names */
	qsort(ours.v, ours.n, sizeof(*ours.v), cmp_str);
	assert_true(ours.n > 0);
	assert_string_equal(ours.v[ours.n - 1], "vgpuDeviceGetUtilization");
	free(ours.v[--ours.n]);
	qsort(stub.v, stub.n, sizeof(*stub.v), cmp_str);
	/* nothing missing, nothing of ours leaking */
	for (size_t i = 0; i < stub.n && i < ours.n; i++)
		if (strcmp(stub.v[i], ours.v[i]))
			fail_msg("export %zu: stub has %s, we have %s", i, stub.v[i], ours.v[i]);
	assert_int_equal(ours.n, stub.n);
	free_names(&stub);
	free_names(&ours);
}

static void test_stubs_not_supported(void **state)
{
	struct names un;
	void *lib = dlopen(VGPU_LIBCUDA, RTLD_NOW | RTLD_NOLOAD);

	assert_non_null(lib);
	read_list(VGPU_UNIMPL_LIST, &un);
	assert_true(un.n > 100);	/* the list was read (338 in CUDA 13.0 today) */
	for (size_t i = 0; i < un.n; i++) {
		CUresult (*fn)(void) = (CUresult (*)(void))dlsym(lib, un.v[i]);

		if (!fn)
			fail_msg("%s is not exported", un.v[i]);
		if (fn() != CUDA_ERROR_NOT_SUPPORTED)
			fail_msg("%s did not return CUDA_ERROR_NOT_SUPPORTED", un.v[i]);
	}
	free_names(&un);
	dlclose(lib);
	/* and a few through their prototypes */
	{
		CUarray arr;
		CUDA_ARRAY_DESCRIPTOR ad = { 0 };
		CUmemPoolPtrExportData ed;
		CUlinkState ls;

		assert_int_equal(cuArrayCreate(&arr, &ad), CUDA_ERROR_NOT_SUPPORTED);
		assert_int_equal(cuMemPoolExportPointer(&ed, 0), CUDA_ERROR_NOT_SUPPORTED);
		assert_int_equal(cuLinkCreate(0, NULL, NULL, &ls), CUDA_ERROR_NOT_SUPPORTED);
	}
}

static void *sym(const char *name)
{
	void *p = dlsym(RTLD_DEFAULT, name);

	assert_non_null(p);
	return p;
}

static void *proc(const char *name, int version, cuuint64_t flags,
		  CUdriverProcAddressQueryResult want)
{
	CUdriverProcAddressQueryResult st = -1;
	void *fn = (void *)1;

	assert_int_equal(cuGetProcAddress_v2(name, &fn, version, flags, &st), CUDA_SUCCESS);
	if (st != want)
		fail_msg("%s@%d flags %llu: status %d, want %d", name, version,
			 (unsigned long long)flags, st, want);
	if (want != CU_GET_PROC_ADDRESS_SUCCESS)
		assert_null(fn);
	return fn;
}

static void test_proc_address(void **state)
{
	const cuuint64_t pt = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
	const CUdriverProcAddressQueryResult ok = CU_GET_PROC_ADDRESS_SUCCESS;
	void *fn;

	/* _v2 variants by version */
	assert_ptr_equal(proc("cuMemAlloc", 13000, 0, ok), sym("cuMemAlloc_v2"));
	assert_ptr_equal(proc("cuMemAlloc", 3020, 0, ok), sym("cuMemAlloc_v2"));
	assert_ptr_equal(proc("cuMemAlloc", 3010, 0, ok), sym("cuMemAlloc"));
	proc("cuMemAlloc", 1000, 0, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
	assert_ptr_equal(proc("cuCtxCreate", 13000, 0, ok), sym("cuCtxCreate_v4"));
	assert_ptr_equal(proc("cuCtxCreate", 11040, 0, ok), sym("cuCtxCreate_v3"));
	assert_ptr_equal(proc("cuCtxSynchronize", 12000, 0, ok), sym("cuCtxSynchronize"));
	assert_ptr_equal(proc("cuCtxSynchronize", 13000, 0, ok), sym("cuCtxSynchronize_v2"));
	assert_ptr_equal(proc("cuGetProcAddress", 12000, 0, ok), sym("cuGetProcAddress_v2"));
	assert_ptr_equal(proc("cuGetProcAddress", 11030, 0, ok), sym("cuGetProcAddress"));
	assert_ptr_equal(proc("cuInit", 13000, 0, ok), sym("cuInit"));

	/* per-thread default stream forms only when asked for */
	assert_ptr_equal(proc("cuMemcpyHtoD", 3020, 0, ok), sym("cuMemcpyHtoD_v2"));
	assert_ptr_equal(proc("cuMemcpyHtoD", 13000, pt, ok), sym("cuMemcpyHtoD_v2_ptds"));
	assert_ptr_equal(proc("cuMemcpyHtoDAsync", 13000, pt, ok),
			 sym("cuMemcpyHtoDAsync_v2_ptsz"));
	assert_ptr_equal(proc("cuLaunchKernel", 13000, pt, ok), sym("cuLaunchKernel_ptsz"));
	assert_ptr_equal(proc("cuLaunchKernel", 13000, CU_GET_PROC_ADDRESS_LEGACY_STREAM, ok),
			 sym("cuLaunchKernel"));
	/* no per-thread form: the legacy one */
	assert_ptr_equal(proc("cuMemAlloc", 13000, pt, ok), sym("cuMemAlloc_v2"));
	/* the per-thread form appeared in 7.0 */
	assert_ptr_equal(proc("cuMemcpyHtoD", 6050, pt, ok), sym("cuMemcpyHtoD_v2"));
	/* names no typedef describes still resolve */
	assert_non_null(proc("cuProfilerStart", 13000, 0, ok));

	/* unknown: success, NULL, SYMBOL_NOT_FOUND; the 11.3 form says NOT_FOUND */
	proc("noSuchFunction", 13000, 0, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
	proc("", 13000, 0, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
	proc("cuMemAlloc_v2", 13000, 0, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
	assert_int_equal(cuGetProcAddress_v2("noSuchFunction", &fn, 13000, 0, NULL), CUDA_SUCCESS);
	assert_null(fn);
	assert_int_equal(cuGetProcAddress("noSuchFunction", &fn, 13000, 0), CUDA_ERROR_NOT_FOUND);
	assert_int_equal(cuGetProcAddress("cuMemAlloc", &fn, 13000, 0), CUDA_SUCCESS);
	assert_ptr_equal(fn, sym("cuMemAlloc_v2"));
	assert_int_equal(cuGetProcAddress_v2(NULL, &fn, 13000, 0, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGetProcAddress_v2("cuInit", NULL, 13000, 0, NULL),
			 CUDA_ERROR_INVALID_VALUE);

	/* an unimplemented entry point resolves to its stub */
	fn = proc("cuArrayCreate", 13000, 0, ok);
	assert_int_equal(((CUresult (*)(CUarray *, const CUDA_ARRAY_DESCRIPTOR *))fn)(NULL, NULL),
			 CUDA_ERROR_NOT_SUPPORTED);
}

/*
 * VGPU_TRACE: what cuGetProcAddress hands out reports each call.  In a
 * child, before anything here looked up a name (the setting is read once).
 */
static void test_trace(void **state)
{
	int fds[2], status, version = 0;
	char out[512] = "";
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		CUresult (*get_version)(int *);
		CUresult (*get_count)(int *);
		void *fn;

		dup2(fds[1], 2);
		setenv("VGPU_TRACE", "1", 1);
		if (cuGetProcAddress_v2("cuDriverGetVersion", &fn, 13000, 0, NULL))
			_exit(2);
		get_version = (CUresult (*)(int *))fn;
		if (get_version(&version) || !version || fn == sym("cuDriverGetVersion"))
			_exit(3);
		if (cuGetProcAddress_v2("cuDeviceGetCount", &fn, 13000, 0, NULL))
			_exit(4);
		get_count = (CUresult (*)(int *))fn;
		get_count(NULL);	/* not initialised: an error, reported */
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "trace cuDriverGetVersion -> 0"));
	assert_non_null(strstr(out, "trace cuDeviceGetCount -> 3"));	/* NOT_INITIALIZED */
}

static void test_error_names(void **state)
{
	const char *s = NULL;

	assert_int_equal(cuGetErrorName(CUDA_SUCCESS, &s), CUDA_SUCCESS);
	assert_string_equal(s, "CUDA_SUCCESS");
	assert_int_equal(cuGetErrorName(CUDA_ERROR_DEVICE_UNAVAILABLE, &s), CUDA_SUCCESS);
	assert_string_equal(s, "CUDA_ERROR_DEVICE_UNAVAILABLE");
	assert_int_equal(cuGetErrorName(CUDA_ERROR_UNKNOWN, &s), CUDA_SUCCESS);
	assert_string_equal(s, "CUDA_ERROR_UNKNOWN");
	assert_int_equal(cuGetErrorString(CUDA_ERROR_INVALID_VALUE, &s), CUDA_SUCCESS);
	assert_non_null(strstr(s, "parameters"));
	assert_int_equal(cuGetErrorName((CUresult)4242, &s), CUDA_ERROR_INVALID_VALUE);
	assert_null(s);
	assert_int_equal(cuGetErrorString((CUresult)4242, &s), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuGetErrorName(CUDA_SUCCESS, NULL), CUDA_ERROR_INVALID_VALUE);
}

/* ---- image sizes ------------------------------------------------------- */

/* An ELF64 cubin-like image: header, 3 sections, 1 segment, tables at the end. */
static size_t build_elf(uint8_t *buf, size_t cap, uint64_t *want)
{
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
				       ELFDATA2LSB, EV_CURRENT },
			  .e_type = ET_EXEC, .e_machine = 190 /* EM_CUDA */,
			  .e_version = EV_CURRENT, .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1,
			  .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 4 };
	Elf64_Shdr sh[4] = {
		{ 0 },
		{ .sh_type = SHT_PROGBITS, .sh_offset = 0x100, .sh_size = 0x80 },
		{ .sh_type = SHT_NOBITS, .sh_offset = 0x4000, .sh_size = 0x10000 },
		{ .sh_type = SHT_STRTAB, .sh_offset = 0x180, .sh_size = 0x33 },
	};
	Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0x100, .p_filesz = 0x80 };

	eh.e_phoff = 0x1b8;
	eh.e_shoff = eh.e_phoff + sizeof(ph);
	assert_true(eh.e_shoff + sizeof(sh) <= cap);
	memset(buf, 0, cap);
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + eh.e_phoff, &ph, sizeof(ph));
	memcpy(buf + eh.e_shoff, sh, sizeof(sh));
	*want = eh.e_shoff + sizeof(sh);	/* NOBITS occupies no file space */
	return *want;
}

static void test_image_sizes(void **state)
{
	static const char ptx[] = ".version 8.0\n.target sm_90\n";
	uint8_t elf[2048], fat[64 + 1000];
	uint64_t want;
	size_t size = 0;
	struct { int magic, version; const void *data, *name; } wrapper;
	uint32_t magic = 0xba55ed50u;
	uint16_t version = 1, hsize = 64;
	uint64_t fsize = 1000;

	/* text: up to and including the NUL */
	assert_ptr_equal(vgpu_image_locate(ptx, &size), ptx);
	assert_int_equal(size, sizeof(ptx));
	assert_ptr_equal(vgpu_image_locate("//vgpu-sim\n", &size), "//vgpu-sim\n");
	assert_int_equal(size, 12);
	assert_null(vgpu_image_locate("", &size));
	assert_null(vgpu_image_locate(NULL, &size));
	/* short strings that begin like a magic are still text */
	assert_non_null(vgpu_image_locate("P", &size));
	assert_int_equal(size, 2);
	assert_non_null(vgpu_image_locate("\x7f" "EL", &size));
	assert_int_equal(size, 4);

	/* ELF: the furthest of headers, tables and section contents */
	build_elf(elf, sizeof(elf), &want);
	assert_ptr_equal(vgpu_image_locate(elf, &size), elf);
	assert_int_equal(size, want);
	/* a section whose contents end last decides */
	{
		Elf64_Ehdr eh;
		Elf64_Shdr sh;

		memcpy(&eh, elf, sizeof(eh));
		memcpy(&sh, elf + eh.e_shoff + 3 * sizeof(sh), sizeof(sh));
		sh.sh_offset = 0x700;
		sh.sh_size = 0x11;
		memcpy(elf + eh.e_shoff + 3 * sizeof(sh), &sh, sizeof(sh));
		assert_non_null(vgpu_image_locate(elf, &size));
		assert_int_equal(size, 0x711);
		/* garbage tables are refused, not followed */
		eh.e_shentsize = 8;
		memcpy(elf, &eh, sizeof(eh));
		assert_null(vgpu_image_locate(elf, &size));
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shoff = 1ull << 40;
		memcpy(elf, &eh, sizeof(eh));
		assert_null(vgpu_image_locate(elf, &size));
		/* 32-bit ELF is not a cubin */
		build_elf(elf, sizeof(elf), &want);
		elf[EI_CLASS] = ELFCLASS32;
		assert_null(vgpu_image_locate(elf, &size));
	}

	/* fatbin: header size + fat size */
	memset(fat, 0, sizeof(fat));
	memcpy(fat, &magic, 4);
	memcpy(fat + 4, &version, 2);
	memcpy(fat + 6, &hsize, 2);
	memcpy(fat + 8, &fsize, 8);
	assert_ptr_equal(vgpu_image_locate(fat, &size), fat);
	assert_int_equal(size, 64 + 1000);
	/* the wrapper points at it: the fatbin is what gets sent */
	wrapper.magic = 0x466243b1;
	wrapper.version = 1;
	wrapper.data = fat;
	wrapper.name = NULL;
	assert_ptr_equal(vgpu_image_locate(&wrapper, &size), fat);
	assert_int_equal(size, 64 + 1000);
	wrapper.data = ptx;	/* a wrapper must lead to a fatbin */
	assert_null(vgpu_image_locate(&wrapper, &size));
	hsize = 4;		/* a header shorter than itself */
	memcpy(fat + 6, &hsize, 2);
	assert_null(vgpu_image_locate(fat, &size));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace),	/* first: no look-up before it */
		cmocka_unit_test(test_exports),
		cmocka_unit_test(test_stubs_not_supported),
		cmocka_unit_test(test_proc_address),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_image_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
