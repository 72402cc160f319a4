// SPDX-License-Identifier: MIT
/*
 * library.c - the context-independent module API of CUDA 12 (cuLibrary*,
 * cuKernel*), which the CUDA runtime uses for every kernel it launches: it
 * calls cuLibraryLoadData with its fatbin wrapper at the first launch,
 * cuLibraryGetKernel by mangled name, and passes the CUkernel to
 * cuLaunchKernel as a CUfunction.  It keeps both handles across
 * cudaDeviceReset, which destroys the primary context.
 *
 * So a library keeps a copy of its image and is loaded as a module into
 * the context that uses it, again when that context was destroyed and made
 * anew (struct CUlib_st); a kernel is a (library, name) pair resolved to
 * the function of the current context's module whenever it is used as a
 * function.  One module per library is tracked: a library used from a
 * second context is loaded there and the first context keeps its copy
 * until it dies.  Library and JIT options only tune loading, which happens
 * on the server: checked, then ignored (the library keeps its own copy of
 * the image even when the caller preserves it, as the driver may).  Also here: the other
 * function-handle queries (names, owning module, parameter layout, cache
 * configuration) and cuModuleGetLoadingMode.
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <stdlib.h>
#include <string.h>

/*
 * Library options: known ones only.  Neither needs a value here (the
 * preserved-binary flag has none; the host table is not used), so the
 * value array may be NULL, as cuBLASLt passes it.
 */
static bool lib_options_ok(const CUlibraryOption *opts, unsigned int n, bool from_file)
{
	if (n && !opts)
		return false;
	for (unsigned int i = 0; i < n; i++)
		if ((unsigned int)opts[i] >= CU_LIBRARY_NUM_OPTIONS ||
		    (from_file && opts[i] == CU_LIBRARY_BINARY_IS_PRESERVED))
			return false;
	return true;
}

/* The library's module in context c, loading it there if needed; under l->lock. */
static CUresult lib_module(struct CUlib_st *l, struct CUctx_st *c, struct CUmod_st **out)
{
	struct CUmod_st *m;
	CUresult rc;

	if (l->mod && l->mod_ctx == c && l->mod_ctx_id == c->id && c->active &&
	    vgpu_obj_valid(l->mod, VGPU_OBJ_MODULE)) {
		*out = l->mod;
		return CUDA_SUCCESS;
	}
	rc = vgpu_module_load(c, l->image, &m);
	if (rc)
		return rc;
	m->lib = l;
	l->mod = m;
	l->mod_ctx = c;
	l->mod_ctx_id = c->id;
	*out = m;
	return CUDA_SUCCESS;
}

/* The library's module in the current context. */
static CUresult lib_module_current(struct CUlib_st *l, struct CUmod_st **out)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	if (rc)
		return rc;
	pthread_mutex_lock(&l->lock);
	rc = lib_module(l, c, out);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

CUresult vgpu_func_arg(CUfunction f, struct CUfunc_st **out)
{
	struct CUkern_st *k = (struct CUkern_st *)f;
	struct CUmod_st *m;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (vgpu_obj_valid(f, VGPU_OBJ_FUNC)) {
		*out = f;
		return CUDA_SUCCESS;
	}
	if (!vgpu_obj_valid(k, VGPU_OBJ_KERNEL))
		return CUDA_ERROR_INVALID_HANDLE;
	rc = lib_module_current(k->lib, &m);
	return rc ? rc : vgpu_module_get_function(m, k->name, out);
}

static void lib_free(struct CUlib_st *l)
{
	struct CUkern_st *k, *next;

	for (k = l->kernels; k; k = next) {
		next = k->next;
		vgpu_obj_unregister(&k->o);
		free(k->name);
		k->o.type = 0;
		free(k);
	}
	pthread_mutex_destroy(&l->lock);
	free(l->image);
	l->o.type = 0;
	free(l);
}

CUresult cuLibraryLoadData(CUlibrary *library, const void *code, CUjit_option *jit_opts,
			   void **jit_vals, unsigned int njit, CUlibraryOption *lib_opts,
			   void **lib_vals, unsigned int nlib)
{
	struct CUctx_st *c;
	struct CUmod_st *m;
	struct CUlib_st *l;
	const void *bytes;
	size_t size;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!library || !code || (njit && (!jit_opts || !jit_vals)) ||
	    !lib_options_ok(lib_opts, nlib, false)) {
		vgpu_dbg("cuLibraryLoadData(%p, %p, %u jit options at %p/%p, %u options at %p, "
			 "first %d)", (void *)library, code, njit, (void *)jit_opts,
			 (void *)jit_vals, nlib, (void *)lib_opts,
			 nlib && lib_opts ? (int)lib_opts[0] : -1);
		return CUDA_ERROR_INVALID_VALUE;
	}
	bytes = vgpu_image_locate(code, &size);
	if (!bytes || size > UINT32_MAX) {
		vgpu_dbg("cuLibraryLoadData: no image at %p (starts %08x)", code,
			 *(const uint32_t *)code);
		return CUDA_ERROR_INVALID_IMAGE;
	}
	l = calloc(1, sizeof(*l));
	if (!l || !(l->image = malloc(size))) {
		free(l);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	memcpy(l->image, bytes, size);	/* image.c finds the same bytes in the copy */
	vgpu_image_describe(l->image, size);
	l->size = size;
	l->o.type = VGPU_OBJ_LIBRARY;
	pthread_mutex_init(&l->lock, NULL);
	/* with a context current, load now: a bad image fails here, as with the real driver */
	if (vgpu_ctx_current(&c) == CUDA_SUCCESS) {
		rc = lib_module(l, c, &m);
		if (rc) {
			vgpu_dbg("cuLibraryLoadData(%p): loading it in context %p: %d", code,
				 (void *)c, rc);
			lib_free(l);
			return rc;
		}
	}
	if (vgpu_obj_register(&l->o) < 0) {
		if (l->mod)
			cuModuleUnload(l->mod);
		lib_free(l);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	*library = l;
	return CUDA_SUCCESS;
}

CUresult cuLibraryLoadFromFile(CUlibrary *library, const char *fname, CUjit_option *jit_opts,
			       void **jit_vals, unsigned int njit, CUlibraryOption *lib_opts,
			       void **lib_vals, unsigned int nlib)
{
	char *image;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	/* the driver reads a file itself: there is no caller's copy to preserve */
	if (!lib_options_ok(lib_opts, nlib, true))
		return CUDA_ERROR_INVALID_VALUE;
	rc = vgpu_image_read(fname, &image);
	if (rc)
		return rc;
	rc = cuLibraryLoadData(library, image, jit_opts, jit_vals, njit, lib_opts, lib_vals, nlib);
	free(image);	/* the library has its own copy */
	return rc;
}

CUresult cuLibraryUnload(CUlibrary l)
{
	CUresult rc = vgpu_obj_arg(l, VGPU_OBJ_LIBRARY);

	if (rc)
		return rc;
	vgpu_obj_unregister(&l->o);
	/* the module, if its context still has it (a dead context took it along) */
	if (l->mod && vgpu_obj_valid(l->mod_ctx, VGPU_OBJ_CTX) && l->mod_ctx->id == l->mod_ctx_id &&
	    vgpu_obj_valid(l->mod, VGPU_OBJ_MODULE))
		rc = cuModuleUnload(l->mod);
	lib_free(l);
	return rc;
}

CUresult cuLibraryGetModule(CUmodule *mod, CUlibrary l)
{
	CUresult rc = vgpu_obj_arg(l, VGPU_OBJ_LIBRARY);

	if (rc)
		return rc;
	if (!mod)
		return CUDA_ERROR_INVALID_VALUE;
	return lib_module_current(l, mod);
}

CUresult cuLibraryGetKernel(CUkernel *kernel, CUlibrary l, const char *name)
{
	struct CUfunc_st *f;
	struct CUkern_st *k;
	struct CUmod_st *m;
	CUresult rc = vgpu_obj_arg(l, VGPU_OBJ_LIBRARY);

	if (rc)
		return rc;
	if (!kernel || !name)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&l->lock);
	for (k = l->kernels; k && strcmp(k->name, name); k = k->next)
		;
	if (k)
		goto out;
	/*
	 * With a context current the name must exist there (NOT_FOUND now, as
	 * the real driver says); without one it is checked at first use.
	 */
	{
		struct CUctx_st *c;

		if (vgpu_ctx_current(&c) == CUDA_SUCCESS) {
			rc = lib_module(l, c, &m);
			if (!rc)
				rc = vgpu_module_get_function(m, name, &f);
			if (rc) {
				vgpu_dbg("cuLibraryGetKernel(%p, %s): %d", (void *)l, name, rc);
				goto out;
			}
		}
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->name = strdup(name))) {
		free(k);
		k = NULL;
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	k->o.type = VGPU_OBJ_KERNEL;
	k->o.owner = l;
	k->lib = l;
	if (vgpu_obj_register(&k->o) < 0) {
		free(k->name);
		free(k);
		k = NULL;
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	k->next = l->kernels;
	l->kernels = k;
out:
	pthread_mutex_unlock(&l->lock);
	if (k)
		*kernel = k;
	return k ? CUDA_SUCCESS : rc;
}

CUresult cuLibraryGetGlobal(CUdeviceptr *dptr, size_t *bytes, CUlibrary l, const char *name)
{
	struct CUmod_st *m;
	CUresult rc = vgpu_obj_arg(l, VGPU_OBJ_LIBRARY);

	if (!rc)
		rc = lib_module_current(l, &m);
	return rc ? rc : cuModuleGetGlobal_v2(dptr, bytes, m, name);
}

CUresult cuKernelGetFunction(CUfunction *func, CUkernel kernel)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_obj_arg(kernel, VGPU_OBJ_KERNEL);

	if (rc)
		return rc;
	if (!func)
		return CUDA_ERROR_INVALID_VALUE;
	rc = vgpu_func_arg((CUfunction)kernel, &f);
	if (!rc)
		*func = f;
	return rc;
}

CUresult cuKernelGetLibrary(CUlibrary *lib, CUkernel kernel)
{
	CUresult rc = vgpu_obj_arg(kernel, VGPU_OBJ_KERNEL);

	if (rc)
		return rc;
	if (!lib)
		return CUDA_ERROR_INVALID_VALUE;
	*lib = kernel->lib;
	return CUDA_SUCCESS;
}

CUresult cuKernelGetName(const char **name, CUkernel kernel)
{
	CUresult rc = vgpu_obj_arg(kernel, VGPU_OBJ_KERNEL);

	if (rc)
		return rc;
	if (!name)
		return CUDA_ERROR_INVALID_VALUE;
	*name = kernel->name;
	return CUDA_SUCCESS;
}

CUresult cuFuncGetName(const char **name, CUfunction func)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!name)
		return CUDA_ERROR_INVALID_VALUE;
	*name = f->name;
	return CUDA_SUCCESS;
}

/* From the layout the server gave with the handle: no round trip. */
CUresult cuFuncGetParamInfo(CUfunction func, size_t index, size_t *offset, size_t *size)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (index >= f->nparams)
		return CUDA_ERROR_INVALID_VALUE;	/* also how callers find the count */
	if (offset)
		*offset = f->params[index].offset;
	if (size)
		*size = f->params[index].size;
	return CUDA_SUCCESS;
}

CUresult cuKernelGetParamInfo(CUkernel kernel, size_t index, size_t *offset, size_t *size)
{
	return cuFuncGetParamInfo((CUfunction)kernel, index, offset, size);
}

CUresult cuFuncGetModule(CUmodule *mod, CUfunction func)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!mod)
		return CUDA_ERROR_INVALID_VALUE;
	*mod = f->mod;
	return CUDA_SUCCESS;
}

/* A function (or kernel) handle is loaded as soon as it exists. */
CUresult cuFuncIsLoaded(CUfunctionLoadingState *state, CUfunction func)
{
	struct CUfunc_st *f;
	CUresult rc = vgpu_func_arg(func, &f);

	if (rc)
		return rc;
	if (!state)
		return CUDA_ERROR_INVALID_VALUE;
	*state = CU_FUNCTION_LOADING_STATE_LOADED;
	return CUDA_SUCCESS;
}

CUresult cuFuncLoad(CUfunction func)
{
	struct CUfunc_st *f;

	return vgpu_func_arg(func, &f);
}

/* Cache and shared-memory configurations are hints: accepted, not forwarded. */
CUresult cuFuncSetCacheConfig(CUfunction func, CUfunc_cache config)
{
	struct CUfunc_st *f;

	return vgpu_func_arg(func, &f);
}

CUresult cuKernelSetCacheConfig(CUkernel kernel, CUfunc_cache config, CUdevice dev)
{
	CUresult rc = vgpu_obj_arg(kernel, VGPU_OBJ_KERNEL);

	if (rc)
		return rc;
	return vgpu_device(dev, &rc) ? CUDA_SUCCESS : rc;
}

CUresult cuFuncSetSharedMemConfig(CUfunction func, CUsharedconfig config)
{
	struct CUfunc_st *f;

	return vgpu_func_arg(func, &f);
}

/*
 * Modules are loaded on the server as a whole when they are loaded here;
 * report lazy loading as the real driver does by default, eager when the
 * application asked for it the documented way.
 */
CUresult cuModuleGetLoadingMode(CUmoduleLoadingMode *mode)
{
	const char *env = getenv("CUDA_MODULE_LOADING");
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!mode)
		return CUDA_ERROR_INVALID_VALUE;
	*mode = env && !strcmp(env, "EAGER") ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
	return CUDA_SUCCESS;
}
