/* SPDX-License-Identifier: MIT */
/*
 * entries.h - the tables lib/gen_entries.py generates at build time:
 *
 *   $(BUILD)/lib/entries_gen.c  a NOT_SUPPORTED stub for every symbol of the
 *       toolkit's stub libcuda.so that lib/ does not implement, and the
 *       cuGetProcAddress table: per base name ("cuMemAlloc") its variants
 *       (cuMemAlloc, cuMemAlloc_v2, ...) with the CUDA version each appeared
 *       in (cudaTypedefs.h's PFN_<name>_v<version>) and its per-thread
 *       (_ptds / _ptsz) form.
 *   $(BUILD)/lib/errors_gen.c   every CUresult of cuda.h: name and text.
 *
 * Deliberately free of cuda.h, so the generated stubs can be defined
 * without prototypes clashing.
 */
#ifndef VGPU_LIB_ENTRIES_H
#define VGPU_LIB_ENTRIES_H

struct vgpu_proc_variant {
	int version;		/* CUDA version (1000 * major + 10 * minor) it appeared in */
	int pt_version;		/* the same for the per-thread form; 0: none */
	void *fn;
	void *fn_pt;		/* per-thread default stream form, or NULL */
};

struct vgpu_proc_entry {
	const char *name;	/* base name; the table is sorted by it (strcmp) */
	unsigned short first;	/* index of its first variant, oldest first */
	unsigned short count;
};

extern const struct vgpu_proc_entry vgpu_proc_entries[];
extern const unsigned int vgpu_proc_nentries;
extern const struct vgpu_proc_variant vgpu_proc_variants[];

/*
 * $(BUILD)/lib/trace_gen.c: for variant i, wrappers of fn and fn_pt that
 * report each call's result (NULL where there is none: a stub, or a
 * signature the generator cannot copy).  cuGetProcAddress hands them out
 * when VGPU_TRACE is set.
 */
struct vgpu_proc_trace {
	void *fn;
	void *fn_pt;
};

extern const struct vgpu_proc_trace vgpu_proc_traces[];

struct vgpu_error_name {
	int code;		/* sorted by code */
	const char *name;	/* "CUDA_ERROR_INVALID_VALUE" */
	const char *text;	/* from cuda.h's description */
};

extern const struct vgpu_error_name vgpu_error_names[];
extern const unsigned int vgpu_nerror_names;

#endif
