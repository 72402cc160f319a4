/* SPDX-License-Identifier: MIT */
/*
 * export.h - the CUDA runtime's private interface to the driver
 * (cuGetExportTable, export.c), the integrity hash it checks
 * (integrity.c) and context-local storage (ctx_local.c).  Internal to lib/;
 * the unit tests compile integrity.c in to check the hash.
 */
#ifndef VGPU_LIB_EXPORT_H
#define VGPU_LIB_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <cuda.h>

/* ---- integrity hash (integrity.c) -------------------------------------- */
struct vgpu_integrity_in {
	uint32_t driver_version;	/* what cuDriverGetVersion reports */
	uint32_t runtime_version;	/* the runtime's argument */
	uint32_t pid;
	uint32_t thread;		/* pthread_self(), low 32 bits */
	uint64_t cudart_table;		/* address of the CUDART_INTERFACE table handed out */
	uint64_t integrity_table;	/* address of the integrity table handed out */
	uint64_t integrity_fn;		/* its slot 1 */
	uint64_t unix_seconds;		/* the runtime's argument */
};

struct vgpu_hash_dev {
	uint8_t uuid[16];
	int32_t pci_domain, pci_bus, pci_device;
};

/* RFC 1319 MD2 of len bytes. */
void vgpu_md2(const void *p, size_t len, uint8_t out[16]);
/* The runtime's expected answer for these inputs and devices. */
void vgpu_integrity_hash(const struct vgpu_integrity_in *in, const struct vgpu_hash_dev *devs,
			 unsigned int ndev, uint64_t out[2]);

/* ---- context-local storage (ctx_local.c) ------------------------------- */
typedef void (*vgpu_cls_dtor)(CUcontext ctx, void *key, void *value);

/* ctx NULL: the current context.  put replaces the value of an existing key. */
CUresult vgpu_cls_put(CUcontext ctx, void *key, void *value, vgpu_cls_dtor dtor);
CUresult vgpu_cls_delete(CUcontext ctx, void *key);
/* CUDA_ERROR_INVALID_HANDLE when the key has no value in that context. */
CUresult vgpu_cls_get(void **value, CUcontext ctx, void *key);
/* The context is being destroyed: call and drop every entry's destructor. */
void vgpu_cls_release(CUcontext ctx);

#endif
