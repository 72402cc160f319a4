// SPDX-License-Identifier: MIT
/*
 * procaddr.c - cuGetProcAddress, the way the CUDA runtime finds every entry
 * point but this one.  A request is (base name, cudaVersion, flags): the
 * newest variant of the name that existed at cudaVersion answers, in its
 * per-thread-default-stream form when the flags ask for it and there is one
 * (the generated table in entries_gen.c holds the mapping).
 * (cuGetExportTable, the other way the runtime reaches the driver: export.c)
 */
#include "lib/driver.h"
#include "lib/debug.h"
#include "lib/entries.h"

#include <stdlib.h>
#include <string.h>

#undef cuGetProcAddress
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags);

static int cmp_entry(const void *key, const void *elem)
{
	return strcmp(key, ((const struct vgpu_proc_entry *)elem)->name);
}

static CUdriverProcAddressQueryResult lookup(const char *symbol, int cuda_version,
					     cuuint64_t flags, void **pfn)
{
	const struct vgpu_proc_entry *e;
	const struct vgpu_proc_variant *v = NULL;

	*pfn = NULL;
	e = bsearch(symbol, vgpu_proc_entries, vgpu_proc_nentries, sizeof(*e), cmp_entry);
	if (!e)
		return CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
	for (unsigned int i = 0; i < e->count; i++) {
		const struct vgpu_proc_variant *c = &vgpu_proc_variants[e->first + i];

		if (c->version <= cuda_version)
			v = c;
	}
	if (!v)
		return CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
	if ((flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) && v->fn_pt &&
	    v->pt_version <= cuda_version)
		*pfn = vgpu_trace_enabled() && vgpu_proc_traces[v - vgpu_proc_variants].fn_pt ?
		       vgpu_proc_traces[v - vgpu_proc_variants].fn_pt : v->fn_pt;
	else
		*pfn = vgpu_trace_enabled() && vgpu_proc_traces[v - vgpu_proc_variants].fn ?
		       vgpu_proc_traces[v - vgpu_proc_variants].fn : v->fn;
	return CU_GET_PROC_ADDRESS_SUCCESS;
}

/*
 * Not found and too old a version both answer CUDA_SUCCESS with a NULL
 * pointer and the reason in symbolStatus, as the real driver does.
 */
CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cuda_version,
			     cuuint64_t flags, CUdriverProcAddressQueryResult *status)
{
	CUdriverProcAddressQueryResult st;

	if (!symbol || !pfn)
		return CUDA_ERROR_INVALID_VALUE;
	st = lookup(symbol, cuda_version, flags, pfn);
	if (st != CU_GET_PROC_ADDRESS_SUCCESS)
		vgpu_dbg("cuGetProcAddress(%s, %d, %#llx): %s", symbol, cuda_version,
			 (unsigned long long)flags,
			 st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND ? "not found" : "too old a version");
	if (status)
		*status = st;
	return CUDA_SUCCESS;
}

/* The 11.3 form has no status: a failed look-up is CUDA_ERROR_NOT_FOUND. */
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cuda_version, cuuint64_t flags)
{
	if (!symbol || !pfn)
		return CUDA_ERROR_INVALID_VALUE;
	if (lookup(symbol, cuda_version, flags, pfn) != CU_GET_PROC_ADDRESS_SUCCESS)
		return CUDA_ERROR_NOT_FOUND;
	return CUDA_SUCCESS;
}
