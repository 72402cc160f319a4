/* SPDX-License-Identifier: MIT */
/*
 * driver.h - lib/'s internal interface: the objects behind the driver API's
 * handles, the state cuInit sets up, and the call helpers every entry point
 * uses.  Nothing here is exported: the version script (libcuda.map) exports
 * only cu* names.
 *
 * Handles (CUcontext, CUmodule, CUfunction, CUstream, CUevent) are small
 * malloc'ed structs that hold the server's u64 handle.  Every live one is in
 * a registry, so a stale or made-up handle is refused before it is
 * dereferenced.  Device pointers are the server's real addresses.
 */
#ifndef VGPU_LIB_DRIVER_H
#define VGPU_LIB_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <cuda.h>

#include "common/proto.h"
#include "lib/transport.h"

/* ---- objects and the handle registry (objects.c) ----------------------- */
enum vgpu_obj_type {
	VGPU_OBJ_CTX = 0x63747831,	/* "ctx1" */
	VGPU_OBJ_MODULE,
	VGPU_OBJ_FUNC,
	VGPU_OBJ_STREAM,
	VGPU_OBJ_EVENT,
	VGPU_OBJ_LIBRARY,
	VGPU_OBJ_KERNEL,
	VGPU_OBJ_GRAPH,
	VGPU_OBJ_GRAPH_NODE,
	VGPU_OBJ_GRAPH_EXEC,
};

struct vgpu_obj {
	uint32_t type;
	void *owner;		/* the context (or module) it dies with */
};

/*
 * Stream attributes that only tune performance (stream_attr.c): recorded
 * and answered back, not forwarded.  set: bit i when attribute i was set.
 */
struct vgpu_stream_attrs {
	uint32_t set;
	CUaccessPolicyWindow apw;
	CUsynchronizationPolicy sync;
	CUlaunchMemSyncDomainMap domain_map;
	CUlaunchMemSyncDomain domain;
};

struct CUctx_st {
	struct vgpu_obj o;
	uint64_t h;
	CUdevice dev;
	unsigned int flags;
	bool primary;
	/* false for a primary context between its last release (or reset) and the next retain */
	bool active;
	struct vgpu_cls_entry *cls;	/* context-local storage (ctx_local.c), its lock */
	uint64_t id;			/* cuCtxGetId: unique in the process */
	/* cuCtxSetLimit values (ctx_query.c); bit i of limit_set: limit i was set */
	uint32_t limit_set;
	size_t limit[CU_LIMIT_MAX];
	CUfunc_cache cache_config;
	struct vgpu_stream_attrs null_attrs;	/* of its default stream */
};

struct vgpu_param {
	uint32_t offset;
	uint32_t size;
};

struct CUfunc_st {
	struct vgpu_obj o;	/* owner: the module */
	uint64_t h;
	struct CUmod_st *mod;
	struct CUfunc_st *next;	/* in mod->funcs, under the module lock */
	char *name;
	uint32_t nparams;
	uint32_t buf_size;	/* last offset + size: the LAUNCH params length */
	struct vgpu_param *params;
};

struct CUmod_st {
	struct vgpu_obj o;	/* owner: the context */
	uint64_t h;
	struct CUctx_st *ctx;
	pthread_mutex_t lock;
	struct CUfunc_st *funcs;	/* functions looked up so far */
	struct CUlib_st *lib;		/* the library it was loaded for, or NULL */
};

/*
 * A library (cuLibrary*) belongs to no context, like the real driver's: it
 * keeps a copy of its image and is loaded as a module into the context
 * that needs it (at cuLibraryLoadData when one is current, else at first
 * use), again after that context was destroyed (a primary context reset).
 * A kernel (CUkernel) is a library's function by name; used as a CUfunction
 * it stands for that function in the current context (library.c).
 */
struct CUlib_st {
	struct vgpu_obj o;		/* no owner: outlives contexts */
	pthread_mutex_t lock;		/* mod, mod_ctx, mod_ctx_id, kernels */
	void *image;			/* the located image bytes, copied */
	size_t size;
	struct CUmod_st *mod;		/* loaded into mod_ctx while its id is mod_ctx_id */
	struct CUctx_st *mod_ctx;
	uint64_t mod_ctx_id;
	struct CUkern_st *kernels;	/* looked up so far */
};

struct CUkern_st {
	struct vgpu_obj o;		/* owner: the library */
	struct CUlib_st *lib;
	struct CUkern_st *next;		/* in lib->kernels */
	char *name;
};

struct CUstream_st {
	struct vgpu_obj o;
	uint64_t h;
	struct CUctx_st *ctx;
	unsigned int flags;
	int priority;
	struct vgpu_stream_attrs attrs;
	/* stream capture (graph.h; capture_lock): the capture and the nodes next work follows */
	struct vgpu_capture *cap;
	struct CUgraphNode_st **cap_deps;
	size_t cap_ndeps;
};

struct CUevent_st {
	struct vgpu_obj o;
	uint64_t h;
	struct CUctx_st *ctx;
	unsigned int flags;
	/* recorded in a capture (capture_lock): its id and the nodes a wait depends on */
	uint64_t cap_id;
	struct CUgraphNode_st **cap_deps;
	size_t cap_ndeps;
};

/* Add a live object (type and owner set); -ENOMEM on failure. */
int vgpu_obj_register(struct vgpu_obj *o);
void vgpu_obj_unregister(struct vgpu_obj *o);
/* Is p a live object of this type? */
bool vgpu_obj_valid(const void *p, uint32_t type);
/* Unregister every object owned by owner and hand each to fn (outside the lock). */
void vgpu_obj_sweep(const void *owner, void (*fn)(struct vgpu_obj *o));
/*
 * Free an unregistered object's memory (a module with its functions); the
 * server side is gone already or is destroyed by the caller.
 */
void vgpu_obj_free(struct vgpu_obj *o);
/*
 * Check an object argument: the error cuInit left, or INVALID_HANDLE when p
 * is not a live object of this type.
 */
CUresult vgpu_obj_arg(const void *p, uint32_t type);
/*
 * Unregister and free a live object after destroying it on the server with
 * op {u64 ctx, u64 h}; the server's answer.
 */
CUresult vgpu_obj_destroy(struct vgpu_obj *o, uint16_t op, const struct CUctx_st *c,
			  uint64_t h);

/* ---- driver state (init.c) --------------------------------------------- */
/*
 * Several servers: each transport is a link to one server session; the
 * application's devices are the links' devices in link order (init.c).
 * Everything made on a device (contexts and what lives in them, VMM
 * chunks, pools) is reached through that device's link.
 */
#define VGPU_MAX_LINKS		16
#define VGPU_MAX_DEVICES	256

struct vgpu_device {
	struct vgpu_transport *tp;	/* its link; constant after cuInit */
	uint32_t remote;		/* its index in that session */
	bool have_info;
	char name[256];
	CUuuid uuid;
	uint64_t total_mem;
	uint32_t driver_version;
	int32_t attr[CU_DEVICE_ATTRIBUTE_MAX];
	/* primary context (context.c's primary_lock); the handle, once made, lives on */
	struct CUctx_st *primary;
	int primary_refs;
	unsigned int primary_flags;
};

/* CUDA_SUCCESS once cuInit succeeded; its error or NOT_INITIALIZED otherwise. */
CUresult vgpu_initialized(void);
/* A valid device's link, and its index there (requests name that). */
struct vgpu_transport *vgpu_dev_tp(CUdevice dev);
uint32_t vgpu_dev_remote(CUdevice dev);
/* The application's device that is device @remote of link tp; -1 if none. */
CUdevice vgpu_dev_local(const struct vgpu_transport *tp, uint32_t remote);
/* How many links cuInit opened. */
int vgpu_links(void);
/* The device (info fetched on first use); NULL with *rc set if invalid. */
struct vgpu_device *vgpu_device(CUdevice dev, CUresult *rc);
void vgpu_device_lock(void);
void vgpu_device_unlock(void);

/* ---- calls (rpc.c) ----------------------------------------------------- */
/* A transport errno as a CUresult. */
CUresult vgpu_errno_to_cu(int err);
/* One call with gather/scatter bodies; the server's status, or the mapped transport error. */
CUresult vgpu_rpc(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq,
		  const struct iovec *resp, int nresp, size_t *resp_len);
/*
 * A request with no reply body, posted: not waited for (transport.h); the
 * status of an earlier posted request that failed, else CUDA_SUCCESS.
 */
CUresult vgpu_rpc_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req, int nreq);
/* The same with the body built in w (its error flag checked). */
CUresult vgpu_rpc_post_w(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w);
/*
 * One call with the body built in w (fixed buffer; its error flag is
 * checked) and the reply in buf[cap], parsed through *r on success.
 */
CUresult vgpu_rpc_buf(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w,
		      void *buf, size_t cap,
		      struct vgpu_rbuf *r);
/* Same, for replies that are one u64 (handles, pointers). */
CUresult vgpu_rpc_u64(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w, uint64_t *out);
/* Same, for replies that are one i32 (attributes, counts). */
CUresult vgpu_rpc_i32(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w, int32_t *out);
/* Same, for replies with no body. */
CUresult vgpu_rpc_void(struct vgpu_transport *t, uint16_t op, struct vgpu_wbuf *w);
/* An op whose request is {u64 ctx, u64 handle} and whose reply is empty. */
CUresult vgpu_rpc_ctx_handle(uint16_t op, const struct CUctx_st *c, uint64_t h);

/* A context's link. */
static inline struct vgpu_transport *vgpu_ctx_tp(const struct CUctx_st *c)
{
	return vgpu_dev_tp(c->dev);
}

/* ---- contexts (context.c), streams (stream.c) -------------------------- */
/* The calling thread's current context, checked; INVALID_CONTEXT if none. */
CUresult vgpu_ctx_current(struct CUctx_st **ctx);
/*
 * A context argument, or the current one when it is NULL; a destroyed one
 * is returned with CONTEXT_IS_DESTROYED.
 */
CUresult vgpu_ctx_arg(CUcontext c, struct CUctx_st **ctx);
/* Server handle of a stream argument (NULL, legacy and per-thread: 0). */
CUresult vgpu_stream_handle(CUstream s, uint64_t *h);
/* A stream's context and server handle (0: the default stream, of the current context). */
CUresult vgpu_stream_ctx(CUstream s, struct CUctx_st **c, uint64_t *h);

/* ---- known address ranges (ranges.c) ---------------------------------- */
struct vgpu_range {
	uint64_t base, size;
	struct CUctx_st *ctx;	/* the context it belongs to (device memory), or NULL */
	struct vgpu_transport *tp;	/* device memory: the link it lives behind */
	unsigned int flags;	/* host memory: the CU_MEMHOST* flags; device: 0 */
	bool registered;	/* host memory: cuMemHostRegister'ed, not allocated here */
	uint64_t id;		/* process-wide unique id (CU_POINTER_ATTRIBUTE_BUFFER_ID), set by vgpu_range_add */
	uint64_t view;		/* vgpu_host_views: the device view's address */
};

struct vgpu_ranges {
	pthread_mutex_t lock;
	struct vgpu_range *r;	/* sorted by base, disjoint */
	size_t n, cap;
};

extern struct vgpu_ranges vgpu_dev_ranges;	/* cuMemAlloc'ed device memory */
extern struct vgpu_ranges vgpu_host_ranges;	/* pinned (page-locked) host memory */
extern struct vgpu_ranges vgpu_va_ranges;	/* cuMemAddressReserve'd address space */
extern struct vgpu_ranges vgpu_host_views;	/* pinned host ranges with a device view */
/* VMM chunk handles (base: the handle, size 1), for their link */
extern struct vgpu_ranges vgpu_vmm_handles;

/* Add r with a new process-wide id (r->id is ignored); 0 or -1 (ENOMEM). */
int vgpu_range_add(struct vgpu_ranges *t, const struct vgpu_range *r);
/* Remove the range starting exactly at base; false if there is none. */
bool vgpu_range_del(struct vgpu_ranges *t, uint64_t base, struct vgpu_range *out);
/* The range containing addr; false if none does. */
bool vgpu_range_find(struct vgpu_ranges *t, uint64_t addr, struct vgpu_range *out);
/* Does any range intersect [base, base + size)? */
bool vgpu_range_overlaps(struct vgpu_ranges *t, uint64_t base, uint64_t size);
/* Forget every range of a destroyed context. */
void vgpu_range_drop_ctx(struct vgpu_ranges *t, const void *ctx);

/* ---- several servers in one process (multidev.c) ----------------------- */
/*
 * Each server chooses its own device addresses, and two may choose the
 * same: an allocation is kept apart from every address the process knows
 * (device memory and reservations of any server) by asking again while
 * holding the one that collided (at most VGPU_APART_TRIES times).
 */
#define VGPU_APART_TRIES	16

struct vgpu_alloc_op {
	struct vgpu_transport *tp;
	uint16_t op;			/* answered with the address, one u64 */
	struct vgpu_wbuf *req;		/* its request, sent again on each try */
	uint64_t size;
	/* give back an address that collided */
	void (*undo)(const struct vgpu_alloc_op *a, uint64_t addr);
	struct CUctx_st *ctx;		/* for undo */
	uint64_t stream;		/* for undo */
};

/* The server's answer, or OUT_OF_MEMORY when no address apart was given. */
CUresult vgpu_alloc_apart(const struct vgpu_alloc_op *a, uint64_t *addr);
/*
 * Route a call on device memory p made in context *c on its stream *sh:
 * memory of another server's device goes to the context it was allocated
 * in, on its null stream, once *sh's earlier work is done (stronger than
 * the stream order asked, as no stream can wait across servers).
 */
CUresult vgpu_route_ptr(CUdeviceptr p, struct CUctx_st **c, uint64_t *sh);
/*
 * A device-to-device copy between memory of two servers, relayed through
 * this process after stream sh of context c finished its earlier work;
 * complete on return.  *relayed false: both are behind one link.
 */
CUresult vgpu_relay_dtod(CUdeviceptr dst, CUdeviceptr src, size_t n, struct CUctx_st *c,
			 uint64_t sh, bool *relayed);
/* Synchronous copies in context c on its null stream (memory.c). */
CUresult vgpu_copy_dtoh_in(struct CUctx_st *c, void *dst, CUdeviceptr src, size_t n);
CUresult vgpu_copy_htod_in(struct CUctx_st *c, CUdeviceptr dst, const void *src, size_t n);

/* ---- modules (module.c) ----------------------------------------------- */
/* Load an image (any kind image.c knows) into context c. */
CUresult vgpu_module_load(struct CUctx_st *c, const void *image, struct CUmod_st **module);
/* A file's contents, NUL-terminated, malloc'ed into *image (FILE_NOT_FOUND, OUT_OF_MEMORY). */
CUresult vgpu_image_read(const char *fname, char **image);
/* A live module's function by name (the same handle for the same name). */
CUresult vgpu_module_get_function(struct CUmod_st *m, const char *name, struct CUfunc_st **f);
/*
 * A CUfunction argument: a function, or a kernel resolved to its function
 * in the current context (loading its library there if needed); the error
 * cuInit left, or INVALID_HANDLE (library.c).
 */
CUresult vgpu_func_arg(CUfunction f, struct CUfunc_st **out);

/*
 * Pack a launch's parameters (kernelParams, or the extra array's buffer)
 * into buf[f->buf_size] as f's parameter layout says (launch.c).
 */
CUresult vgpu_pack_params(const struct CUfunc_st *f, void **kernel_params, void **extra,
			  uint8_t *buf);

/* ---- images (image.c) -------------------------------------------------- */
/*
 * Locate the bytes of a module image the API passed by pointer: a fatbin
 * wrapper's fatbin, a fatbin, an ELF cubin, or NUL-terminated text (PTX,
 * sim).  Returns the start and sets *size, or NULL when it is none of those.
 */
const void *vgpu_image_locate(const void *image, size_t *size);
/* Under VGPU_DEBUG: the entries of a fatbin (kind, SM, compression). */
void vgpu_image_describe(const void *image, size_t size);

#endif
