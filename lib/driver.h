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
};

struct vgpu_obj {
	uint32_t type;
	void *owner;		/* the context (or module) it dies with */
};

struct CUctx_st {
	struct vgpu_obj o;
	uint64_t h;
	CUdevice dev;
	unsigned int flags;
	bool primary;
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
};

struct CUstream_st {
	struct vgpu_obj o;
	uint64_t h;
	struct CUctx_st *ctx;
	unsigned int flags;
	int priority;
};

struct CUevent_st {
	struct vgpu_obj o;
	uint64_t h;
	struct CUctx_st *ctx;
	unsigned int flags;
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
struct vgpu_device {
	bool have_info;
	char name[256];
	CUuuid uuid;
	uint64_t total_mem;
	uint32_t driver_version;
	int32_t attr[CU_DEVICE_ATTRIBUTE_MAX];
	/* primary context, under the device lock */
	struct CUctx_st *primary;
	int primary_refs;
	unsigned int primary_flags;
};

/* CUDA_SUCCESS once cuInit succeeded; its error or NOT_INITIALIZED otherwise. */
CUresult vgpu_initialized(void);
struct vgpu_transport *vgpu_tp(void);
/* The device (info fetched on first use); NULL with *rc set if invalid. */
struct vgpu_device *vgpu_device(CUdevice dev, CUresult *rc);
void vgpu_device_lock(void);
void vgpu_device_unlock(void);

/* ---- calls (rpc.c) ----------------------------------------------------- */
/* A transport errno as a CUresult. */
CUresult vgpu_errno_to_cu(int err);
/* One call with gather/scatter bodies; the server's status, or the mapped transport error. */
CUresult vgpu_rpc(uint16_t op, const struct iovec *req, int nreq,
		  const struct iovec *resp, int nresp, size_t *resp_len);
/*
 * One call with the body built in w (fixed buffer; its error flag is
 * checked) and the reply in buf[cap], parsed through *r on success.
 */
CUresult vgpu_rpc_buf(uint16_t op, struct vgpu_wbuf *w, void *buf, size_t cap,
		      struct vgpu_rbuf *r);
/* Same, for replies that are one u64 (handles, pointers). */
CUresult vgpu_rpc_u64(uint16_t op, struct vgpu_wbuf *w, uint64_t *out);
/* Same, for replies with no body. */
CUresult vgpu_rpc_void(uint16_t op, struct vgpu_wbuf *w);
/* An op whose request is {u64 ctx, u64 handle} and whose reply is empty. */
CUresult vgpu_rpc_ctx_handle(uint16_t op, const struct CUctx_st *c, uint64_t h);

/* ---- contexts (context.c), streams (stream.c) -------------------------- */
/* The calling thread's current context, checked; INVALID_CONTEXT if none. */
CUresult vgpu_ctx_current(struct CUctx_st **ctx);
/* Server handle of a stream argument (NULL, legacy and per-thread: 0). */
CUresult vgpu_stream_handle(CUstream s, uint64_t *h);

/* ---- images (image.c) -------------------------------------------------- */
/*
 * Locate the bytes of a module image the API passed by pointer: a fatbin
 * wrapper's fatbin, a fatbin, an ELF cubin, or NUL-terminated text (PTX,
 * sim).  Returns the start and sets *size, or NULL when it is none of those.
 */
const void *vgpu_image_locate(const void *image, size_t *size);

#endif
