// vmm_drv.cu - the driver API's virtual memory management on the runtime's
// primary context (cudaFree(0) first): cuMemGetAllocationGranularity, two
// physical chunks from cuMemCreate mapped (cuMemMap) side by side into one
// cuMemAddressReserve range, cuMemSetAccess, a <<<>>> kernel writing across
// both halves, read back with cudaMemcpy and cuMemcpyDtoH; the second chunk
// mapped alone at a second address must show the upper half's data; then
// cuMemUnmap, cuMemRelease, cuMemAddressFree.  Built with -lcuda (the stub).
// Prints "vmm_drv: OK ..." or "vmm_drv: FAIL <what>".
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cuda.h>
#include <cuda_runtime.h>

#define TEST_NAME "vmm_drv"
#include "check.h"

#define CHECK_CU(call)                                                            \
	do {                                                                      \
		CUresult r_ = (call);                                             \
		if (r_ != CUDA_SUCCESS) {                                         \
			const char *name_ = NULL;                                 \
			cuGetErrorName(r_, &name_);                               \
			FAIL("%s: %s (%d)", #call, name_ ? name_ : "?", (int)r_); \
		}                                                                 \
	} while (0)

__global__ void pattern(unsigned *p, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = (unsigned)(i * 2654435761u) ^ 0x5a5a5a5au;
}

static unsigned want(size_t i)
{
	return (unsigned)(i * 2654435761u) ^ 0x5a5a5a5au;
}

int main(void)
{
	int ordinal, supported = 0;
	CUdevice dev;
	CUcontext ctx = NULL;
	CUmemAllocationProp prop = {};
	CUmemAccessDesc access = {};
	CUmemGenericAllocationHandle chunk[2];
	CUdeviceptr base, alias;
	size_t gran = 0, size, n;

	CHECK(cudaFree(0));
	CHECK(cudaGetDevice(&ordinal));
	CHECK_CU(cuCtxGetCurrent(&ctx));
	if (!ctx)
		FAIL("no current context after cudaFree(0)");
	CHECK_CU(cuDeviceGet(&dev, ordinal));
	CHECK_CU(cuDeviceGetAttribute(
		&supported, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, dev));
	if (!supported)
		FAIL("CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED is 0");

	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = dev;
	CHECK_CU(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	if (gran == 0)
		FAIL("allocation granularity 0");
	size = gran;
	n = 2 * size / sizeof(unsigned);
	CHECK_CU(cuMemCreate(&chunk[0], size, &prop, 0));
	CHECK_CU(cuMemCreate(&chunk[1], size, &prop, 0));
	CHECK_CU(cuMemAddressReserve(&base, 2 * size, 0, 0, 0));
	CHECK_CU(cuMemMap(base, size, 0, chunk[0], 0));
	CHECK_CU(cuMemMap(base + size, size, 0, chunk[1], 0));
	access.location = prop.location;
	access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	CHECK_CU(cuMemSetAccess(base, 2 * size, &access, 1));

	pattern<<<(unsigned)((n + 255) / 256), 256>>>((unsigned *)base, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());

	std::vector<unsigned> h(n), h2(n / 2);
	CHECK(cudaMemcpy(h.data(), (void *)base, 2 * size, cudaMemcpyDeviceToHost));
	for (size_t i = 0; i < n; i++)
		if (h[i] != want(i))
			FAIL("runtime copy: word %zu = %#x, want %#x", i, h[i], want(i));
	CHECK_CU(cuMemcpyDtoH(h2.data(), base + size, size));
	for (size_t i = 0; i < n / 2; i++)
		if (h2[i] != want(n / 2 + i))
			FAIL("cuMemcpyDtoH of the upper half: word %zu = %#x", i, h2[i]);

	/* the second physical chunk alone, at another address */
	CHECK_CU(cuMemAddressReserve(&alias, size, 0, 0, 0));
	CHECK_CU(cuMemMap(alias, size, 0, chunk[1], 0));
	CHECK_CU(cuMemSetAccess(alias, size, &access, 1));
	CHECK_CU(cuMemcpyDtoH(h2.data(), alias, size));
	for (size_t i = 0; i < n / 2; i++)
		if (h2[i] != want(n / 2 + i))
			FAIL("chunk 1 mapped alone: word %zu = %#x, want %#x", i, h2[i],
			     want(n / 2 + i));
	CHECK_CU(cuMemUnmap(alias, size));
	CHECK_CU(cuMemAddressFree(alias, size));

	CHECK_CU(cuMemUnmap(base, 2 * size));
	CHECK_CU(cuMemRelease(chunk[0]));
	CHECK_CU(cuMemRelease(chunk[1]));
	CHECK_CU(cuMemAddressFree(base, 2 * size));
	CHECK(cudaDeviceSynchronize());
	printf("vmm_drv: OK (2 chunks of %zu bytes in one range)\n", size);
	return 0;
}
