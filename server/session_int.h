/* SPDX-License-Identifier: MIT */
/*
 * session_int.h - one session's state and the op handlers' interface,
 * shared by session.c (loop, handshake, dispatch, cleanup) and the
 * ops_*.c files (one handler per op).
 *
 * A handler parses its request with vgpu_rbuf, returns -EPROTO when the
 * body does not parse exactly (the session then closes), otherwise runs
 * the op and returns a CUresult (>= 0); on CUDA_SUCCESS its response body
 * is in w, on any other status the body is dropped.
 */
#ifndef VGPU_SERVER_SESSION_INT_H
#define VGPU_SERVER_SESSION_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/log.h"
#include "common/proto.h"
#include "server/alloc_table.h"
#include "server/backend.h"
#include "server/handles.h"
#include "server/server.h"

struct session {
	int fd;
	uint32_t id;
	const struct vgpu_server_config *cfg;
	const struct vgpu_backend_ops *ops;
	void *be;			/* backend instance, after HELLO */
	struct vgpu_alloc_table at;
	struct vgpu_handles h;
	uint16_t version;		/* negotiated in HELLO */
	bool hello_done;
	uint32_t dev_base;		/* backend ordinal of client device 0 */
	uint32_t dev_count;		/* devices the client sees */
	uint32_t backend_gpus;		/* devices the backend has */
	bool gpu_all;			/* HELLO asked for every GPU (VGPU_GPU_ALL) */
	bool gpu_of_part;		/* VGPU_GPU_OF_PARTITION, not attached yet: no device */
	/* VMM state (ops_vmm.c) and pools (ops_pool.c), made at first use */
	struct sess_vmm *vmm;
	struct sess_pools *pools;
	uint64_t vmm_bytes;		/* physical chunks alive: counted in stats */
	uint64_t vmm_count;
	/* partition binding (ops_partition.c) */
	int part_rec;			/* record in cfg->parts, -1: not attached */
	bool ctx_made;			/* a CTX_CREATE succeeded: too late to attach */
	/* compute scheduling (sched.c), while attached */
	uint64_t sched_carry_ns;	/* kernel time not yet charged (under 1 us) */
	uint64_t sched_kernel_ns;	/* all kernel time collected, and */
	uint64_t sched_launches;	/* the launches let go: their mean */
	uint64_t sched_wait_ns;		/* time its launches were held back */
	bool sched_spatial;		/* its share is SMs of its own (--spatial) */
	uint32_t sched_spatial_share;	/* the share its SMs were set for, at attach */
	bool sched_spatial_timed;	/* share cut below that since: kernels timed */
	/* a module image arriving in pieces (IMAGE_CHUNK, ops_module.c) */
	uint8_t *stage;
	uint64_t stage_total, stage_have;
	/* kept across frames so large copies do not fault in fresh pages */
	struct vgpu_rxbuf rx;
	struct vgpu_wbuf out;
};

typedef int (*vgpu_op_fn)(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

/* Parse check every handler makes before acting. */
#define REQ_DONE(r)					\
	do {						\
		if (!vgpu_rbuf_done(r))			\
			return -EPROTO;			\
	} while (0)

/* Backend context object of a ctx handle, or NULL. */
void *sess_ctx(struct session *s, uint64_t ctx);
/* Stream handle -> backend stream (0 -> NULL, the default stream); false if unknown. */
bool sess_stream(struct session *s, uint64_t id, void **stream);
/* Both of a request's ctx and stream handles; false if either is unknown. */
bool sess_ctx_stream(struct session *s, uint64_t ctx, uint64_t stream, void **c, void **st);
/* A backend call on an object of a context (sync, query, destroy, ...). */
typedef CUresult (*sess_obj_fn)(void *be, void *ctx, void *obj);
/*
 * Publish a new backend object @obj of context @c as a handle of @type
 * under @parent and put its id in the reply; when no handle can be made,
 * @undo destroys the object.  Returns the CUresult for the reply.
 */
int sess_reply_new_handle(struct session *s, struct vgpu_wbuf *w, int type, void *obj,
			  uint64_t parent, void *c, sess_obj_fn undo);
/* Client device ordinal -> backend ordinal, or -1. */
int sess_ordinal(struct session *s, uint32_t ordinal);
/* Is [addr, addr+len) inside one of the session's ranges (len 0: always)? */
bool sess_range_ok(struct session *s, uint64_t addr, uint64_t len);

/* Destroy a handle and everything under it (functions of a module, all of a ctx). */
void sess_destroy_module(struct session *s, uint64_t id);
void sess_destroy_stream(struct session *s, uint64_t id);
void sess_destroy_event(struct session *s, uint64_t id);
void sess_destroy_ctx(struct session *s, uint64_t id);
void sess_destroy_tex(struct session *s, uint64_t id);	/* ops_tex.c */
/* A handle of type made in a context: the backend's destroy, then the handle. */
void sess_destroy_child(struct session *s, uint64_t id, int type,
			CUresult (*destroy)(void *be, void *ctx, void *obj));

/* Free every mapping, reservation and chunk (ops_vmm.c); every created pool (ops_pool.c). */
void sess_vmm_cleanup(struct session *s);
void sess_pool_cleanup(struct session *s);
/*
 * Bytes the session's pools keep beyond their live allocations (their
 * cache): all pools', or pool handle only's; trim: give every pool's cache
 * back to the device, true if there was any (ops_pool.c).
 */
uint64_t sess_pools_cached(struct session *s, uint64_t only);
bool sess_pools_trim(struct session *s);

/*
 * Partition accounting (ops_partition.c); all no-ops for a session that is
 * not attached.  charge: before an allocation of n bytes, CUDA_SUCCESS or
 * CUDA_ERROR_OUT_OF_MEMORY (the session's pool caches are trimmed first
 * if that makes room); charge_pool: the same for n bytes from pool handle
 * pool, whose cache serves part of them.  settle: after each request,
 * make the charge match what the session holds (gives back failed and
 * freed bytes); fits: settle, and whether what it holds fits the limit.
 * mem_info / total: MEM_GET_INFO and DEVICE_INFO as the partition shows them.
 */
CUresult sess_part_charge(struct session *s, uint64_t n);
CUresult sess_part_charge_pool(struct session *s, uint64_t n, uint64_t pool);
void sess_part_settle(struct session *s);
bool sess_part_fits(struct session *s);
void sess_part_detach(struct session *s);
void sess_part_mem_info(struct session *s, uint64_t *free_b, uint64_t *total);
uint64_t sess_part_total(struct session *s, int dev, uint64_t total);
/* After HELLO: describe the GPUs in the partition table if nobody has yet. */
void sess_part_learn_gpus(struct session *s);

/*
 * Compute scheduling (sched.c); no-ops for a session that is not attached.
 * attach: after PARTITION_ATTACH, have the backend time launches.  launch:
 * before each LAUNCH, sleep while the partition is over its share.
 * harvest: after each request, charge the kernel time that completed.
 */
void sess_sched_attach(struct session *s, uint32_t share);
void sess_sched_launch(struct session *s);
void sess_sched_harvest(struct session *s);

/* SERVER_STATS totals: the shared table's sums, or this session alone. */
void sess_stats(struct session *s, uint32_t *sessions, uint64_t *bytes, uint64_t *allocs);

/* Handlers, by file. */
int op_device_count(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_device_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_ctx_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_ctx_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_ctx_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_server_stats(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_mem_alloc(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_mem_free(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_mem_get_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_memcpy_htod(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_memcpy_dtoh(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_memcpy_dtod(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_memset(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_module_load(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_image_chunk(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_tex_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_tex_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_module_load_staged(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
/* Drop a module image staged by IMAGE_CHUNK (ops_module.c). */
void sess_stage_drop(struct session *s);
int op_module_unload(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_module_get_function(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_module_get_global(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_launch(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_stream_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_stream_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_stream_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_record(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_sync(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_elapsed(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_stream_wait_event(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_stream_query(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_event_query(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_func_get_attribute(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_func_set_attribute(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_occupancy_blocks(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_occupancy_dyn_smem(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_occupancy_clusters(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_gpu_utilization(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_vmm_granularity(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_release(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_reserve(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_free_va(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_map(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_unmap(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_set_access(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_get_access(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_handle_info(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_vmm_retain(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_pool_device(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_set_current(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_destroy(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_alloc(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_mem_free_async(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_set_attr(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_get_attr(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_pool_trim(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

int op_partition_attach(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_partition_list(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_partition_create(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_partition_resize(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);
int op_partition_delete(struct session *s, struct vgpu_rbuf *r, struct vgpu_wbuf *w);

#endif
