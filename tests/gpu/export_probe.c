// SPDX-License-Identifier: MIT
/*
 * export_probe.c - a research aid for the GPU machine: asks NVIDIA's
 * libcuda.so.1 for private export tables and calls chosen slots with
 * chosen argument patterns (one call per run: a wrong guess may crash,
 * and CUDA does not survive fork), printing the result and what the slot
 * wrote.  What lib/export.c
 * serves is checked against these answers.
 *
 *   export_probe TABLE_ID_PREFIX SLOT PATTERN...
 *     PATTERN: c = the current context, p = pointer to a 64-byte buffer
 *              (0xcc-filled), d = device 0, 0/1 = that integer
 *   export_probe list ID_PREFIX...   sizes and first words of tables
 */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *name; uint8_t id[16]; } known[] = {
	{ "21318c60", { 0x21, 0x31, 0x8c, 0x60, 0x97, 0x14, 0x32, 0x48,
			0x8c, 0xa6, 0x41, 0xff, 0x73, 0x24, 0xc8, 0xf2 } },
	{ "1734dc26", { 0x17, 0x34, 0xdc, 0x26, 0x80, 0x0d, 0x47, 0x45,
			0x87, 0x26, 0xc0, 0xf1, 0xe7, 0xdd, 0x8b, 0xca } },
	{ "f8cff951", { 0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e,
			0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9 } },
	{ "6e163fbe", { 0x6e, 0x16, 0x3f, 0xbe, 0xb9, 0x58, 0x44, 0x4d,
			0x83, 0x5c, 0xe1, 0x82, 0xaf, 0xf1, 0x99, 0x1e } },
	{ "42d85a81", { 0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47,
			0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc } },
};

#define CK(x) do { CUresult r_ = (x); if (r_) { printf("%s: %d\n", #x, r_); exit(1); } } while (0)

static const void *const *get_table(const char *name)
{
	const void *t = NULL;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (!strcmp(known[i].name, name)) {
			CUresult rc = cuGetExportTable(&t, (const CUuuid *)known[i].id);

			printf("table %s: %d\n", name, rc);
			return rc ? NULL : t;
		}
	}
	printf("table %s: not in the list\n", name);
	return NULL;
}

typedef uint64_t (*fn6)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static int cb_calls;

/* Stands in for a function pointer a library hands the driver: says how it was called. */
static uint64_t probe_cb(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
	cb_calls++;
	printf("  callback(%#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n", (unsigned long long)a,
	       (unsigned long long)b, (unsigned long long)c, (unsigned long long)d,
	       (unsigned long long)e, (unsigned long long)f);
	return 0;
}

/*
 * cuBLAS calls context-identity slot 51 as (context, stream, &desc, 0,
 * 0x30) where desc is 0x30 bytes: {code pointer, stack pointer, the stream,
 * heap pointer, stack pointer, 0x13c}.  Call it the same way with our own
 * function in the first field and see whether, when and how it runs.
 */
static void probe_slot51(const void *const *t, CUcontext ctx)
{
	uint64_t ud[8] = { 0x1111, 0x2222 }, heap[8] = { 0x3333 }, desc[6];
	CUstream s;
	uint64_t rv;

	CK(cuStreamCreate(&s, 0));
	desc[0] = (uintptr_t)probe_cb;
	desc[1] = (uintptr_t)ud;
	desc[2] = (uintptr_t)s;
	desc[3] = (uintptr_t)heap;
	desc[4] = (uintptr_t)(ud + 4);
	desc[5] = 0x13c;
	printf("ud %p heap %p stream %p\n", (void *)ud, (void *)heap, (void *)s);
	rv = ((fn6)t[51])((uintptr_t)ctx, (uintptr_t)s, (uintptr_t)desc, 0, 0x30, 0);
	printf("slot 51 -> %#llx, callback ran %d times\n", (unsigned long long)rv, cb_calls);
	CK(cuStreamSynchronize(s));
	printf("after sync: callback ran %d times; ud %#llx %#llx %#llx heap %#llx\n", cb_calls,
	       (unsigned long long)ud[0], (unsigned long long)ud[1], (unsigned long long)ud[4],
	       (unsigned long long)heap[0]);
	for (int i = 0; i < 6; i++)
		printf("  desc[%d] = %#llx\n", i, (unsigned long long)desc[i]);
}

int main(int argc, char **argv)
{
	CUcontext ctx;
	CUdevice dev;
	unsigned long long id = 0;

	if (argc < 3)
		return 2;
	CK(cuInit(0));
	CK(cuDeviceGet(&dev, 0));
	CK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CK(cuCtxSetCurrent(ctx));
	CK(cuCtxGetId(ctx, &id));
	printf("context %p id %llu\n", (void *)ctx, id);
	if (!strcmp(argv[1], "slot39")) {
		/* cuBLAS: (context, its 3-word table {0x18, fn, fn}, &record, 0, 0x30) */
		const void *const *t = get_table("21318c60");
		uint64_t tbl[3] = { 0x18, (uintptr_t)probe_cb, (uintptr_t)probe_cb };
		uint64_t rec[6], rv;
		CUstream s;

		CK(cuStreamCreate(&s, 0));
		rec[0] = (uintptr_t)s;
		rec[1] = (uintptr_t)ctx;
		rec[2] = (uintptr_t)probe_cb;
		rec[3] = (uintptr_t)tbl;
		rec[4] = (uintptr_t)s;
		rec[5] = (uintptr_t)tbl;
		if (!t)
			return 1;
		rv = ((fn6)t[39])((uintptr_t)ctx, (uintptr_t)tbl, (uintptr_t)rec, 0, 0x30, 0);
		printf("slot 39 -> %#llx, callbacks %d\n", (unsigned long long)rv, cb_calls);
		CK(cuStreamSynchronize(s));
		printf("after sync: callbacks %d; rec %#llx %#llx %#llx\n", cb_calls,
		       (unsigned long long)rec[0], (unsigned long long)rec[1],
		       (unsigned long long)rec[2]);
		return 0;
	}
	if (!strcmp(argv[1], "t1734s13")) {
		/* cuBLASLt at its first matmul: (&a[6], &b[6], 3, 0, &rec, 0x41) */
		const void *const *t = get_table("1734dc26");
		uint64_t a6[8] = { 0 }, b6[8] = { 0 }, rec[8] = { 0 }, rv;
		uint8_t key[8] = { 0x3a, 0x0a, 0x5b, 0xe5, 0x04, 0xfb, 0x3c, 0x31 };

		rec[0] = 1;
		rec[1] = (uintptr_t)b6;
		memcpy((uint8_t *)rec + 33, key, sizeof(key));
		if (!t)
			return 1;
		rv = ((fn6)t[13])((uintptr_t)a6, (uintptr_t)b6, 3, 0, (uintptr_t)rec, 0x41);
		printf("t1734 slot 13 -> %#llx\n", (unsigned long long)rv);
		for (int i = 0; i < 6; i++)
			printf("  a[%d] %#llx b[%d] %#llx rec[%d] %#llx\n", i,
			       (unsigned long long)a6[i], i, (unsigned long long)b6[i], i,
			       (unsigned long long)rec[i]);
		return 0;
	}
	if (!strcmp(argv[1], "t1734")) {
		/* cuBLASLt: slot 4 (&out0, &out1, its own 17-slot table, 0, 0x30) */
		const void *const *t = get_table("1734dc26");
		uint64_t tbl[17], out0[8], out1[8];
		uint64_t rv;

		memset(out0, 0xcc, sizeof(out0));
		memset(out1, 0xcc, sizeof(out1));
		tbl[0] = 0x88;
		for (int i = 1; i < 17; i++)
			tbl[i] = (uintptr_t)probe_cb;
		if (!t)
			return 1;
		rv = ((fn6)t[4])((uintptr_t)out0, (uintptr_t)out1, (uintptr_t)tbl, 0, 0x30, 0);
		printf("t1734 slot 4 -> %#llx, callbacks %d\n", (unsigned long long)rv, cb_calls);
		for (int i = 0; i < 4; i++)
			printf("  out0[%d] %#llx out1[%d] %#llx\n", i, (unsigned long long)out0[i], i,
			       (unsigned long long)out1[i]);
		CK(cuCtxSynchronize());
		printf("after sync: callbacks %d\n", cb_calls);
		return 0;
	}
	if (!strcmp(argv[1], "slot51")) {
		const void *const *t = get_table("21318c60");

		if (t)
			probe_slot51(t, ctx);
		return 0;
	}
	if (!strcmp(argv[1], "list")) {
		for (int i = 2; i < argc; i++) {
			const uint64_t *t = (const uint64_t *)get_table(argv[i]);

			for (int w = 0; t && w < 6; w++)
				printf("  word %d = %#llx\n", w, (unsigned long long)t[w]);
		}
		return 0;
	}
	{
		const void *const *t = get_table(argv[1]);
		int slot = atoi(argv[2]);
		uint64_t a[6] = { 0 };
		uint8_t buf[6][64];

		if (!t)
			return 1;
		memset(buf, 0xcc, sizeof(buf));
		for (int i = 3; i < argc && i < 9; i++) {
			switch (argv[i][0]) {
			case 'c': a[i - 3] = (uintptr_t)ctx; break;
			case 'p': a[i - 3] = (uintptr_t)buf[i - 3]; break;
			case 'd': a[i - 3] = (uint64_t)dev; break;
			default: a[i - 3] = strtoull(argv[i], NULL, 0); break;
			}
		}
		fflush(stdout);
		{
			uint64_t rv = ((fn6)t[slot])(a[0], a[1], a[2], a[3], a[4], a[5]);

			printf("slot %d -> %#llx\n", slot, (unsigned long long)rv);
			for (int i = 3; i < argc && i < 9; i++) {
				if (argv[i][0] != 'p')
					continue;
				printf("  arg%d:", i - 3);
				for (int k = 0; k < 64; k++)
					printf(" %02x", buf[i - 3][k]);
				printf("\n");
			}
		}
	}
	return 0;
}
