// SPDX-License-Identifier: MIT
/*
 * test_lib_vmm.c - virtual memory management and memory pools against an
 * in-process sim server (lib_server.c): granularity, chunks mapped back to
 * back and copied across, aliasing, access, unmapping, the driver's rules
 * on bad input, release while mapped, retained handles; default and
 * created pools, their attributes, trimming and destruction.  The sim's
 * free memory (cuMemGetInfo) shows what the server holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cuda.h>

#include "tests/unit/lib_server.h"

#define MIB	(1ull << 20)

static CUmemAllocationProp dev_prop(void)
{
	CUmemAllocationProp p;

	memset(&p, 0, sizeof(p));
	p.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	p.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	p.location.id = 0;
	return p;
}

static size_t free_mem(void)
{
	size_t f = 0, t = 0;

	assert_int_equal(cuMemGetInfo(&f, &t), CUDA_SUCCESS);
	return f;
}

static void test_granularity(void **state)
{
	CUmemAllocationProp p = dev_prop();
	CUmemGenericAllocationHandle h;
	size_t g = 0;

	make_ctx();
	assert_int_equal(cuMemGetAllocationGranularity(&g, &p, CU_MEM_ALLOC_GRANULARITY_MINIMUM),
			 CUDA_SUCCESS);
	assert_int_equal(g, 2 * MIB);
	assert_int_equal(cuMemGetAllocationGranularity(&g, &p,
						       CU_MEM_ALLOC_GRANULARITY_RECOMMENDED),
			 CUDA_SUCCESS);
	assert_int_equal(g, 2 * MIB);
	assert_int_equal(cuMemGetAllocationGranularity(&g, &p, 7), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemGetAllocationGranularity(NULL, &p, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemGetAllocationGranularity(&g, NULL, 0), CUDA_ERROR_INVALID_VALUE);

	/* what the server cannot give is refused as the driver refuses it */
	p.type = CU_MEM_ALLOCATION_TYPE_INVALID;
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 0), CUDA_ERROR_INVALID_VALUE);
	p = dev_prop();
	p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_FABRIC;
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 0), CUDA_ERROR_NOT_SUPPORTED);
	/* a descriptor may be asked for (PyTorch does): the chunk is made, its export refused */
	p.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 0), CUDA_SUCCESS);
	{
		int fd = -1;

		assert_int_equal(cuMemExportToShareableHandle(&fd, h,
				 CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0),
				 CUDA_ERROR_NOT_SUPPORTED);
	}
	assert_int_equal(cuMemRelease(h), CUDA_SUCCESS);
	p = dev_prop();
	p.location.type = CU_MEM_LOCATION_TYPE_HOST;
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 0), CUDA_ERROR_NOT_SUPPORTED);
	p = dev_prop();
	p.location.id = 5;
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 0), CUDA_ERROR_INVALID_DEVICE);
	p = dev_prop();
	assert_int_equal(cuMemCreate(&h, 2 * MIB + 4096, &p, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemCreate(&h, 2 * MIB, &p, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemCreate(&h, 0, &p, 0), CUDA_ERROR_INVALID_VALUE);
	drop_ctx();
}

static void fill(uint32_t *v, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		v[i] = seed + (uint32_t)i * 2654435761u;
}

static void test_map_and_copy(void **state)
{
	enum { N = 1 << 16 };	/* 256 KiB of u32, straddling the chunk boundary */
	const size_t G = 2 * MIB;
	CUmemAllocationProp p = dev_prop();
	CUmemAccessDesc rw = { .location = { CU_MEM_LOCATION_TYPE_DEVICE, 0 },
			       .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUmemLocation loc = { CU_MEM_LOCATION_TYPE_DEVICE, 0 };
	CUmemGenericAllocationHandle a, b, c;
	CUdeviceptr base, mid, d2;
	unsigned long long fl = 9;
	unsigned int type = 0;
	uint32_t *in = malloc(N * 4), *out = malloc(N * 4);
	size_t before;

	make_ctx();
	before = free_mem();
	assert_int_equal(cuMemCreate(&a, G, &p, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemCreate(&b, G, &p, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemCreate(&c, 2 * G, &p, 0), CUDA_SUCCESS);
	assert_int_equal(free_mem(), before - 4 * G);
	assert_int_equal(cuMemAddressReserve(&base, 8 * G, 0, 0, 0), CUDA_SUCCESS);
	assert_int_equal(base % G, 0);
	assert_int_equal(cuMemMap(base, G, 0, a, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemMap(base + G, G, 0, b, 0), CUDA_SUCCESS);
	mid = base + G - N * 2;

	/* mapped is device memory, but not accessible before cuMemSetAccess */
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, base + 10),
			 CUDA_SUCCESS);
	assert_int_equal(type, CU_MEMORYTYPE_DEVICE);
	fill(in, N, 1);
	assert_int_equal(cuMemcpyHtoD(base, in, 64), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemGetAccess(&fl, &loc, base), CUDA_SUCCESS);
	assert_int_equal(fl, CU_MEM_ACCESS_FLAGS_PROT_NONE);
	assert_int_equal(cuMemSetAccess(base, 2 * G, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemGetAccess(&fl, &loc, base + G + 5), CUDA_SUCCESS);
	assert_int_equal(fl, CU_MEM_ACCESS_FLAGS_PROT_READWRITE);

	/* a copy across the two chunks, and back */
	assert_int_equal(cuMemcpyHtoD(mid, in, N * 4), CUDA_SUCCESS);
	memset(out, 0, N * 4);
	assert_int_equal(cuMemcpyDtoH(out, mid, N * 4), CUDA_SUCCESS);
	assert_memory_equal(out, in, N * 4);
	/* each chunk holds its half: map a again elsewhere and look (aliasing) */
	assert_int_equal(cuMemMap(base + 4 * G, G, 0, a, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemSetAccess(base + 4 * G, G, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, base + 5 * G - N * 2, N * 2), CUDA_SUCCESS);
	assert_memory_equal(out, in, N * 2);
	/* not contiguous with the first two mappings: a copy across the hole fails */
	assert_int_equal(cuMemcpyDtoH(out, base + 2 * G - 8, 16), CUDA_ERROR_INVALID_VALUE);

	/* memset across the boundary, seen through the alias too */
	assert_int_equal(cuMemsetD32(mid, 0xabcd1234u, N), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, mid, N * 4), CUDA_SUCCESS);
	for (int i = 0; i < N; i++)
		assert_int_equal(out[i], 0xabcd1234u);
	assert_int_equal(cuMemcpyDtoH(out, base + 5 * G - 4, 4), CUDA_SUCCESS);
	assert_int_equal(out[0], 0xabcd1234u);

	/* a mapping at an offset into a chunk */
	assert_int_equal(cuMemMap(base + 6 * G, G, G, c, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemMap(base + 7 * G, G, 0, c, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemSetAccess(base + 6 * G, 2 * G, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyHtoD(base + 6 * G, in, 64), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, base + 7 * G + G, 64), CUDA_ERROR_INVALID_VALUE);
	/* a DtoD between mappings */
	assert_int_equal(cuMemcpyDtoD(base + 7 * G, base + 6 * G, 64), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, base + 7 * G, 64), CUDA_SUCCESS);
	assert_memory_equal(out, in, 64);

	/* unmapping takes the memory away */
	assert_int_equal(cuMemUnmap(base + G, G), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, base + G, 4), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemsetD8(base + G, 0, 4), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, base + G),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemGetAccess(&fl, &loc, base + G), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemcpyDtoH(out, base, 4), CUDA_SUCCESS);
	/* b is unmapped but held: mapped again, its bytes are still there */
	assert_int_equal(cuMemMap(base + G, G, 0, b, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemSetAccess(base + G, G, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, base + G, 4), CUDA_SUCCESS);
	assert_int_equal(out[0], 0xabcd1234u);

	/* a second reservation, then everything back */
	assert_int_equal(cuMemAddressReserve(&d2, 2 * G, 0, 0, 0), CUDA_SUCCESS);
	assert_true(d2 >= base + 8 * G || d2 + 2 * G <= base);
	assert_int_equal(cuMemAddressFree(d2, 2 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemUnmap(base, 2 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemUnmap(base + 4 * G, G), CUDA_SUCCESS);
	assert_int_equal(cuMemUnmap(base + 6 * G, 2 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemAddressFree(base, 8 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(a), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(b), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(c), CUDA_SUCCESS);
	assert_int_equal(free_mem(), before);
	free(in);
	free(out);
	drop_ctx();
}

static void test_bad_input(void **state)
{
	const size_t G = 2 * MIB;
	CUmemAllocationProp p = dev_prop();
	CUmemAccessDesc rw = { .location = { CU_MEM_LOCATION_TYPE_DEVICE, 0 },
			       .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUmemAccessDesc bad = rw;
	CUmemGenericAllocationHandle a, b;
	CUdeviceptr base, other;

	make_ctx();
	assert_int_equal(cuMemCreate(&a, 2 * G, &p, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemAddressReserve(&base, 4 * G, 0, 0, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemAddressReserve(&other, G + 1, 0, 0, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAddressReserve(&other, G, 3 * G, 0, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAddressReserve(&other, G, 0, 0, 1), CUDA_ERROR_INVALID_VALUE);

	/* sizes, addresses and offsets: multiples of the granularity, inside the chunk */
	assert_int_equal(cuMemMap(base, G + 4096, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base + 4096, G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base, G, 4096, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base, 2 * G, G, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base, 4 * G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base, G, 0, a, 1), CUDA_ERROR_INVALID_VALUE);
	/* outside any reservation, or running off its end */
	assert_int_equal(cuMemMap(base + 8 * G, G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base + 3 * G, 2 * G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	/* unknown handles */
	assert_int_equal(cuMemMap(base, G, 0, a ^ 0x5a5a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemRelease(0x1234), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemGetAllocationPropertiesFromHandle(&p, 0x1234),
			 CUDA_ERROR_INVALID_VALUE);

	/* mapping over a mapping */
	assert_int_equal(cuMemMap(base, 2 * G, 0, a, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemMap(base + G, G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemMap(base, G, 0, a, 0), CUDA_ERROR_INVALID_VALUE);
	/* access and unmapping take whole mappings */
	assert_int_equal(cuMemSetAccess(base, G, &rw, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemSetAccess(base, 3 * G, &rw, 1), CUDA_ERROR_INVALID_VALUE);
	bad.flags = 2;
	assert_int_equal(cuMemSetAccess(base, 2 * G, &bad, 1), CUDA_ERROR_INVALID_VALUE);
	bad = rw;
	bad.location.id = 3;
	assert_int_equal(cuMemSetAccess(base, 2 * G, &bad, 1), CUDA_ERROR_INVALID_DEVICE);
	bad = rw;
	bad.location.type = CU_MEM_LOCATION_TYPE_HOST;
	assert_int_equal(cuMemSetAccess(base, 2 * G, &bad, 1), CUDA_ERROR_NOT_SUPPORTED);
	assert_int_equal(cuMemSetAccess(base, 2 * G, NULL, 1), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemUnmap(base, G), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemUnmap(base + 2 * G, G), CUDA_ERROR_INVALID_VALUE);
	/* a reservation in use, or named by the wrong size, stays */
	assert_int_equal(cuMemAddressFree(base, 4 * G), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAddressFree(base, 2 * G), CUDA_ERROR_INVALID_VALUE);

	/* the driver's release semantics: the memory lives until unmapped */
	assert_int_equal(cuMemSetAccess(base, 2 * G, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32(base, 77, 16), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(a), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(a), CUDA_ERROR_INVALID_VALUE);
	{
		uint32_t v = 0;

		assert_int_equal(cuMemcpyDtoH(&v, base + 60, 4), CUDA_SUCCESS);
		assert_int_equal(v, 77);
	}
	/* the handle comes back from an address, with its properties */
	assert_int_equal(cuMemRetainAllocationHandle(&b, (void *)(uintptr_t)(base + G)),
			 CUDA_SUCCESS);
	memset(&p, 0xff, sizeof(p));
	assert_int_equal(cuMemGetAllocationPropertiesFromHandle(&p, b), CUDA_SUCCESS);
	assert_int_equal(p.type, CU_MEM_ALLOCATION_TYPE_PINNED);
	assert_int_equal(p.location.type, CU_MEM_LOCATION_TYPE_DEVICE);
	assert_int_equal(p.location.id, 0);
	assert_int_equal(p.requestedHandleTypes, CU_MEM_HANDLE_TYPE_NONE);
	assert_int_equal(cuMemRetainAllocationHandle(&b, (void *)(uintptr_t)(base + 3 * G)),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemRelease(b), CUDA_SUCCESS);
	assert_int_equal(cuMemUnmap(base, 2 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemRelease(b), CUDA_ERROR_INVALID_VALUE);	/* gone now */
	assert_int_equal(cuMemAddressFree(base, 4 * G), CUDA_SUCCESS);
	assert_int_equal(cuMemAddressFree(base, 4 * G), CUDA_ERROR_INVALID_VALUE);
	drop_ctx();
}

static cuuint64_t attr(CUmemoryPool pool, CUmemPool_attribute a)
{
	cuuint64_t v = 12345;

	assert_int_equal(cuMemPoolGetAttribute(pool, a, &v), CUDA_SUCCESS);
	return v;
}

static void test_default_pool(void **state)
{
	CUmemoryPool dp, cur;
	CUstream s;
	CUdeviceptr d, e;
	cuuint64_t v;
	int flag = 5;
	size_t before;

	make_ctx();
	before = free_mem();
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetDefaultMemPool(&dp, 0), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetMemPool(&cur, 0), CUDA_SUCCESS);
	assert_ptr_equal(cur, dp);
	assert_int_equal(cuDeviceGetDefaultMemPool(&cur, 3), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD), 0);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 0);

	assert_int_equal(cuMemAllocAsync(&d, MIB, s), CUDA_SUCCESS);
	assert_int_equal(cuMemAllocAsync(&e, 3 * MIB, NULL), CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 4 * MIB);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 4 * MIB);
	assert_int_equal(free_mem(), before - 4 * MIB);
	assert_int_equal(cuMemsetD8Async(d, 1, MIB, s), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_ERROR_INVALID_VALUE);
	/* threshold 0: freed memory goes back at once */
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 3 * MIB);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 3 * MIB);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_HIGH), 4 * MIB);

	/* a threshold keeps freed memory in the pool, trimming gives it back */
	v = 8 * MIB;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &v),
			 CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD), 8 * MIB);
	assert_int_equal(cuMemFree(e), CUDA_SUCCESS);	/* cuMemFree takes pool memory too */
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 0);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 3 * MIB);
	assert_int_equal(cuMemAllocAsync(&d, 2 * MIB, s), CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 3 * MIB);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_SUCCESS);
	assert_int_equal(cuMemPoolTrimTo(dp, MIB), CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), MIB);
	assert_int_equal(cuMemPoolTrimTo(dp, 0), CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT), 0);

	/* high marks reset only to the current value; reuse flags are on/off */
	v = 0;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_USED_MEM_HIGH, &v), CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_HIGH), 0);
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH, &v),
			 CUDA_SUCCESS);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH), 0);
	v = 5;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_USED_MEM_HIGH, &v),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT, &v),
			 CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemPoolGetAttribute(dp, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC, &flag),
			 CUDA_SUCCESS);
	assert_int_equal(flag, 1);
	flag = 0;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC, &flag),
			 CUDA_SUCCESS);
	flag = 7;
	assert_int_equal(cuMemPoolGetAttribute(dp, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC, &flag),
			 CUDA_SUCCESS);
	assert_int_equal(flag, 0);
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC, &flag),
			 CUDA_SUCCESS);
	flag = 1;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC, &flag),
			 CUDA_SUCCESS);
	assert_int_equal(cuMemPoolGetAttribute(dp, (CUmemPool_attribute)99, &v),
			 CUDA_ERROR_INVALID_VALUE);
	v = 0;
	assert_int_equal(cuMemPoolSetAttribute(dp, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &v),
			 CUDA_SUCCESS);
	/* the default pool is not destroyed */
	assert_int_equal(cuMemPoolDestroy(dp), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(free_mem(), before);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	drop_ctx();
}

static void test_created_pool(void **state)
{
	CUmemPoolProps pp = { .allocType = CU_MEM_ALLOCATION_TYPE_PINNED,
			      .location = { CU_MEM_LOCATION_TYPE_DEVICE, 0 } };
	CUmemAccessDesc rw = { .location = { CU_MEM_LOCATION_TYPE_DEVICE, 0 },
			       .flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE };
	CUmemLocation loc = { CU_MEM_LOCATION_TYPE_DEVICE, 0 };
	CUmemAccess_flags af = 0;
	CUmemoryPool dp, p, q, cur;
	CUstream s;
	CUdeviceptr d, e, f;
	uint32_t in[64], out[64];
	size_t before;

	make_ctx();
	before = free_mem();
	assert_int_equal(cuStreamCreate(&s, 0), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetDefaultMemPool(&dp, 0), CUDA_SUCCESS);
	assert_int_equal(cuMemPoolCreate(&p, &pp), CUDA_SUCCESS);
	assert_ptr_not_equal(p, dp);
	assert_int_equal(cuMemPoolSetAccess(p, &rw, 1), CUDA_SUCCESS);
	assert_int_equal(cuMemPoolGetAccess(&af, p, &loc), CUDA_SUCCESS);
	assert_int_equal(af, CU_MEM_ACCESS_FLAGS_PROT_READWRITE);
	rw.location.id = 2;
	assert_int_equal(cuMemPoolSetAccess(p, &rw, 1), CUDA_ERROR_INVALID_DEVICE);

	assert_int_equal(cuMemAllocFromPoolAsync(&d, 3 * MIB, p, s), CUDA_SUCCESS);
	fill(in, 64, 9);
	assert_int_equal(cuMemcpyHtoDAsync(d + 100, in, sizeof(in), s), CUDA_SUCCESS);
	assert_int_equal(cuMemcpyDtoH(out, d + 100, sizeof(out)), CUDA_SUCCESS);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(attr(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 3 * MIB);
	assert_int_equal(attr(dp, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 0);

	/* the current pool serves cuMemAllocAsync */
	assert_int_equal(cuDeviceSetMemPool(0, p), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetMemPool(&cur, 0), CUDA_SUCCESS);
	assert_ptr_equal(cur, p);
	assert_int_equal(cuMemAllocAsync(&e, MIB, s), CUDA_SUCCESS);
	assert_int_equal(attr(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 4 * MIB);
	assert_int_equal(cuMemFreeAsync(e, s), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeAsync(d, s), CUDA_SUCCESS);
	assert_int_equal(attr(p, CU_MEMPOOL_ATTR_USED_MEM_CURRENT), 0);
	assert_int_equal(attr(p, CU_MEMPOOL_ATTR_USED_MEM_HIGH), 4 * MIB);
	assert_int_equal(attr(p, CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH), 4 * MIB);

	/* destroying the current pool makes the default one current again */
	assert_int_equal(cuMemPoolDestroy(p), CUDA_SUCCESS);
	assert_int_equal(cuDeviceGetMemPool(&cur, 0), CUDA_SUCCESS);
	assert_ptr_equal(cur, dp);
	assert_int_equal(cuMemPoolDestroy(p), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuMemAllocFromPoolAsync(&d, MIB, p, s), CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(cuDeviceSetMemPool(0, p), CUDA_ERROR_INVALID_HANDLE);

	/* a pool destroyed with an allocation out: the allocation stays usable */
	assert_int_equal(cuMemPoolCreate(&q, &pp), CUDA_SUCCESS);
	assert_int_equal(cuMemAllocFromPoolAsync(&f, MIB, q, s), CUDA_SUCCESS);
	assert_int_equal(cuMemPoolDestroy(q), CUDA_SUCCESS);
	assert_int_equal(cuMemsetD32(f, 3, 16), CUDA_SUCCESS);
	assert_int_equal(cuMemFreeAsync(f, NULL), CUDA_SUCCESS);

	/* what the server cannot give */
	pp.handleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	assert_int_equal(cuMemPoolCreate(&q, &pp), CUDA_ERROR_NOT_SUPPORTED);
	pp.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
	pp.location.type = CU_MEM_LOCATION_TYPE_HOST;
	assert_int_equal(cuMemPoolCreate(&q, &pp), CUDA_ERROR_NOT_SUPPORTED);
	pp.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	pp.location.id = 4;
	assert_int_equal(cuMemPoolCreate(&q, &pp), CUDA_ERROR_INVALID_DEVICE);
	assert_int_equal(cuMemPoolCreate(&q, NULL), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAllocFromPoolAsync(&d, 0, dp, s), CUDA_ERROR_INVALID_VALUE);
	assert_int_equal(cuMemAllocFromPoolAsync(&d, 64, (CUmemoryPool)&pp, s),
			 CUDA_ERROR_INVALID_HANDLE);
	assert_int_equal(free_mem(), before);
	assert_int_equal(cuStreamDestroy(s), CUDA_SUCCESS);
	drop_ctx();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_granularity),
		cmocka_unit_test(test_map_and_copy),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_default_pool),
		cmocka_unit_test(test_created_pool),
	};

	return cmocka_run_group_tests(tests, lib_server_start, NULL);
}
