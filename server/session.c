// SPDX-License-Identifier: MIT
/*
 * session.c - one client connection: HELLO, then one request at a time
 * through a dispatch table indexed by op, until GOODBYE, EOF or a protocol
 * error.  Anything the client cannot have meant (bad header, unknown op,
 * body that does not parse exactly, a first frame other than HELLO) ends
 * the session with a warning: guessing would desynchronise the stream.
 * At the end every object and allocation the session made is released.
 */
#include "server/session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SERVER_NAME	"vgpu-server 1"

/* The optional shared stats table (set in a forked session child only). */
static struct vgpu_stats_table *stats_tab;
static int stats_slot = -1;

void vgpu_session_attach_stats(struct vgpu_stats_table *t, int slot)
{
	stats_tab = t;
	stats_slot = slot;
}

static void stats_publish(struct session *s)
{
	struct vgpu_stats_slot *sl;

	if (!stats_tab || stats_slot < 0 || (uint32_t)stats_slot >= stats_tab->nslots)
		return;
	sl = &stats_tab->slots[stats_slot];
	__atomic_store_n(&sl->bytes_allocated, s->at.mem_bytes + s->vmm_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->allocations, s->at.mem_count + s->vmm_count, __ATOMIC_RELAXED);
}

void sess_stats(struct session *s, uint32_t *sessions, uint64_t *bytes, uint64_t *allocs)
{
	if (stats_tab) {
		stats_publish(s);
		vgpu_stats_sum(stats_tab, sessions, bytes, allocs);
		return;
	}
	*sessions = 1;
	*bytes = s->at.mem_bytes + s->vmm_bytes;
	*allocs = s->at.mem_count + s->vmm_count;
}

static const vgpu_op_fn op_table[VGPU_OP_MAX] = {
	[VGPU_OP_DEVICE_COUNT] = op_device_count,
	[VGPU_OP_DEVICE_INFO] = op_device_info,
	[VGPU_OP_CTX_CREATE] = op_ctx_create,
	[VGPU_OP_CTX_DESTROY] = op_ctx_destroy,
	[VGPU_OP_CTX_SYNC] = op_ctx_sync,
	[VGPU_OP_MEM_ALLOC] = op_mem_alloc,
	[VGPU_OP_MEM_FREE] = op_mem_free,
	[VGPU_OP_MEM_GET_INFO] = op_mem_get_info,
	[VGPU_OP_MEMCPY_HTOD] = op_memcpy_htod,
	[VGPU_OP_MEMCPY_DTOH] = op_memcpy_dtoh,
	[VGPU_OP_MEMCPY_DTOD] = op_memcpy_dtod,
	[VGPU_OP_MEMSET] = op_memset,
	[VGPU_OP_MODULE_LOAD] = op_module_load,
	[VGPU_OP_MODULE_UNLOAD] = op_module_unload,
	[VGPU_OP_MODULE_GET_FUNCTION] = op_module_get_function,
	[VGPU_OP_MODULE_GET_GLOBAL] = op_module_get_global,
	[VGPU_OP_LAUNCH] = op_launch,
	[VGPU_OP_STREAM_CREATE] = op_stream_create,
	[VGPU_OP_STREAM_SYNC] = op_stream_sync,
	[VGPU_OP_STREAM_DESTROY] = op_stream_destroy,
	[VGPU_OP_EVENT_CREATE] = op_event_create,
	[VGPU_OP_EVENT_RECORD] = op_event_record,
	[VGPU_OP_EVENT_SYNC] = op_event_sync,
	[VGPU_OP_EVENT_ELAPSED] = op_event_elapsed,
	[VGPU_OP_EVENT_DESTROY] = op_event_destroy,
	[VGPU_OP_SERVER_STATS] = op_server_stats,
	[VGPU_OP_STREAM_WAIT_EVENT] = op_stream_wait_event,
	[VGPU_OP_STREAM_QUERY] = op_stream_query,
	[VGPU_OP_EVENT_QUERY] = op_event_query,
	[VGPU_OP_FUNC_GET_ATTRIBUTE] = op_func_get_attribute,
	[VGPU_OP_FUNC_SET_ATTRIBUTE] = op_func_set_attribute,
	[VGPU_OP_OCCUPANCY_BLOCKS] = op_occupancy_blocks,
	[VGPU_OP_OCCUPANCY_DYN_SMEM] = op_occupancy_dyn_smem,
	[VGPU_OP_OCCUPANCY_CLUSTERS] = op_occupancy_clusters,
	[VGPU_OP_GPU_UTILIZATION] = op_gpu_utilization,
	[VGPU_OP_IMAGE_CHUNK] = op_image_chunk,
	[VGPU_OP_MODULE_LOAD_STAGED] = op_module_load_staged,
	[VGPU_OP_TEX_CREATE] = op_tex_create,
	[VGPU_OP_TEX_DESTROY] = op_tex_destroy,
	[VGPU_OP_VMM_GRANULARITY] = op_vmm_granularity,
	[VGPU_OP_VMM_CREATE] = op_vmm_create,
	[VGPU_OP_VMM_RELEASE] = op_vmm_release,
	[VGPU_OP_VMM_RESERVE] = op_vmm_reserve,
	[VGPU_OP_VMM_FREE_VA] = op_vmm_free_va,
	[VGPU_OP_VMM_MAP] = op_vmm_map,
	[VGPU_OP_VMM_UNMAP] = op_vmm_unmap,
	[VGPU_OP_VMM_SET_ACCESS] = op_vmm_set_access,
	[VGPU_OP_VMM_GET_ACCESS] = op_vmm_get_access,
	[VGPU_OP_VMM_HANDLE_INFO] = op_vmm_handle_info,
	[VGPU_OP_VMM_RETAIN] = op_vmm_retain,
	[VGPU_OP_POOL_DEVICE] = op_pool_device,
	[VGPU_OP_POOL_SET_CURRENT] = op_pool_set_current,
	[VGPU_OP_POOL_CREATE] = op_pool_create,
	[VGPU_OP_POOL_DESTROY] = op_pool_destroy,
	[VGPU_OP_POOL_ALLOC] = op_pool_alloc,
	[VGPU_OP_MEM_FREE_ASYNC] = op_mem_free_async,
	[VGPU_OP_POOL_SET_ATTR] = op_pool_set_attr,
	[VGPU_OP_POOL_GET_ATTR] = op_pool_get_attr,
	[VGPU_OP_POOL_TRIM] = op_pool_trim,
	[VGPU_OP_PARTITION_ATTACH] = op_partition_attach,
	[VGPU_OP_PARTITION_LIST] = op_partition_list,
	[VGPU_OP_PARTITION_CREATE] = op_partition_create,
	[VGPU_OP_PARTITION_RESIZE] = op_partition_resize,
	[VGPU_OP_PARTITION_DELETE] = op_partition_delete,
	/* HELLO and GOODBYE change the session's state: handled in handle_frame */
};

/* ---- helpers for the handlers ------------------------------------------ */

void *sess_ctx(struct session *s, uint64_t ctx)
{
	struct vgpu_handle *e = vgpu_handle_get(&s->h, ctx, VGPU_H_CTX);

	return e ? e->obj : NULL;
}

bool sess_stream(struct session *s, uint64_t id, void **stream)
{
	struct vgpu_handle *e;

	if (!id) {
		*stream = NULL;
		return true;
	}
	e = vgpu_handle_get(&s->h, id, VGPU_H_STREAM);
	if (!e)
		return false;
	*stream = e->obj;
	return true;
}

bool sess_ctx_stream(struct session *s, uint64_t ctx, uint64_t stream, void **c, void **st)
{
	*c = sess_ctx(s, ctx);
	return *c && sess_stream(s, stream, st);
}

int sess_reply_new_handle(struct session *s, struct vgpu_wbuf *w, int type, void *obj,
			  uint64_t parent, void *c, sess_obj_fn undo)
{
	uint64_t id = vgpu_handle_new(&s->h, type, obj, parent);

	if (!id) {
		undo(s->be, c, obj);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	vgpu_put_u64(w, id);
	return CUDA_SUCCESS;
}

int sess_ordinal(struct session *s, uint32_t ordinal)
{
	return ordinal < s->dev_count ? (int)(s->dev_base + ordinal) : -1;
}

bool sess_range_ok(struct session *s, uint64_t addr, uint64_t len)
{
	return !len || vgpu_at_range(&s->at, addr, len) != NULL;
}

/* ---- cleanup ----------------------------------------------------------- */

void sess_destroy_module(struct session *s, uint64_t id)
{
	struct vgpu_handle *m = vgpu_handle_get(&s->h, id, VGPU_H_MODULE);
	struct vgpu_handle *c;
	uint32_t pos = 0;
	uint64_t f;

	if (!m)
		return;
	while ((f = vgpu_handle_next(&s->h, &pos, VGPU_H_FUNC, id)))
		vgpu_handle_del(&s->h, f);
	c = vgpu_handle_get(&s->h, m->parent, VGPU_H_CTX);
	s->ops->module_unload(s->be, c ? c->obj : NULL, m->obj);
	vgpu_handle_del(&s->h, id);
}

void sess_destroy_child(struct session *s, uint64_t id, int type,
			CUresult (*destroy)(void *be, void *ctx, void *obj))
{
	struct vgpu_handle *e = vgpu_handle_get(&s->h, id, type);
	struct vgpu_handle *c;

	if (!e)
		return;
	c = vgpu_handle_get(&s->h, e->parent, VGPU_H_CTX);
	destroy(s->be, c ? c->obj : NULL, e->obj);
	vgpu_handle_del(&s->h, id);
}

void sess_destroy_stream(struct session *s, uint64_t id)
{
	sess_destroy_child(s, id, VGPU_H_STREAM, s->ops->stream_destroy);
}

void sess_destroy_event(struct session *s, uint64_t id)
{
	sess_destroy_child(s, id, VGPU_H_EVENT, s->ops->event_destroy);
}

/* Destroying a context releases what was made in it, as cuCtxDestroy does. */
void sess_destroy_ctx(struct session *s, uint64_t id)
{
	struct vgpu_handle *c = vgpu_handle_get(&s->h, id, VGPU_H_CTX);
	void *obj;
	uint32_t pos;
	uint64_t x;

	if (!c)
		return;
	obj = c->obj;
	pos = 0;
	while ((x = vgpu_handle_next(&s->h, &pos, VGPU_H_TEX, id)))
		sess_destroy_tex(s, x);
	pos = 0;
	while ((x = vgpu_handle_next(&s->h, &pos, VGPU_H_EVENT, id)))
		sess_destroy_event(s, x);
	pos = 0;
	while ((x = vgpu_handle_next(&s->h, &pos, VGPU_H_STREAM, id)))
		sess_destroy_stream(s, x);
	pos = 0;
	while ((x = vgpu_handle_next(&s->h, &pos, VGPU_H_MODULE, id)))
		sess_destroy_module(s, x);
	for (size_t i = 0; i < s->at.n;) {
		struct vgpu_alloc *a = &s->at.v[i];

		/* the backend removes the entry on success; skip it on failure */
		if ((a->kind == VGPU_ALLOC_MEM || a->kind == VGPU_ALLOC_POOL) && a->owner == obj &&
		    s->ops->mem_free(s->be, obj, a->base) == CUDA_SUCCESS)
			continue;
		i++;
	}
	s->ops->ctx_destroy(s->be, obj);
	vgpu_handle_del(&s->h, id);
}

static void session_cleanup(struct session *s)
{
	uint32_t pos = 0;
	uint64_t x;

	if (s->be) {
		/*
		 * pools and VMM objects belong to no context, as in the driver;
		 * gone before the contexts so no call runs without one (a pool's
		 * allocations still out are freed with their context)
		 */
		sess_pool_cleanup(s);
		sess_vmm_cleanup(s);
		while ((x = vgpu_handle_next(&s->h, &pos, VGPU_H_CTX, 0)))
			sess_destroy_ctx(s, x);
		s->ops->close(s->be);	/* drops whatever is left in the table */
		s->be = NULL;
	}
	/* everything is freed: the partition gets all of this session's bytes back */
	sess_part_detach(s);
	sess_stage_drop(s);
	stats_publish(s);
	vgpu_handles_fini(&s->h);
	vgpu_at_fini(&s->at);
}

/* ---- framing ----------------------------------------------------------- */

static int send_reply(struct session *s, const struct vgpu_frame_hdr *req, uint32_t status,
		      const struct vgpu_wbuf *w)
{
	struct vgpu_frame_hdr h = {
		.magic = VGPU_PROTO_MAGIC,
		.version = s->version,
		.op = req->op,
		.flags = VGPU_FRAME_F_RESP,
		.status = status,
		.id = req->id,
		.len = status || !w ? 0 : (uint32_t)w->len,
	};

	if (status == CUDA_SUCCESS && (req->flags & VGPU_FRAME_F_NOREPLY))
		return 0;
	return vgpu_frame_send(s->fd, &h, h.len ? w->buf : NULL);
}

/* HELLO: returns 0 when the session goes on, > 0 to end it cleanly, < 0 on error. */
static int do_hello(struct session *s, const struct vgpu_frame_hdr *h, struct vgpu_rbuf *r)
{
	struct vgpu_hello_req req;
	struct vgpu_hello_resp resp = { 0 };
	struct vgpu_wbuf w;
	CUresult rc;
	int count = 0, ret;

	if (vgpu_hello_req_get(r, &req)) {
		log_warn("session %u: malformed HELLO", s->id);
		return -EPROTO;
	}
	log_info("session %u: HELLO from \"%s\" versions %u-%u gpu %d", s->id, req.client,
		 req.min_version, req.max_version, (int)req.gpu);
	s->version = VGPU_PROTO_VERSION;
	if (req.min_version > VGPU_PROTO_VERSION || req.max_version < 1) {
		log_warn("session %u: no common protocol version", s->id);
		send_reply(s, h, CUDA_ERROR_NOT_SUPPORTED, NULL);
		return -EPROTO;
	}
	s->ops = vgpu_backend_get(s->cfg->backend);
	rc = s->ops ? s->ops->open(s->cfg, s->id, &s->at, &s->be) : CUDA_ERROR_NOT_SUPPORTED;
	if (rc == CUDA_SUCCESS)
		rc = s->ops->device_count(s->be, &count);
	if (rc == CUDA_SUCCESS && req.gpu != VGPU_GPU_ALL && req.gpu != VGPU_GPU_OF_PARTITION &&
	    req.gpu >= (uint32_t)count)
		rc = CUDA_ERROR_INVALID_DEVICE;
	if (rc != CUDA_SUCCESS) {
		log_warn("session %u: refusing HELLO: CUresult %d", s->id, (int)rc);
		send_reply(s, h, rc, NULL);
		return -ENODEV;
	}
	s->backend_gpus = (uint32_t)count;
	s->gpu_all = req.gpu == VGPU_GPU_ALL;
	s->gpu_of_part = req.gpu == VGPU_GPU_OF_PARTITION;
	s->dev_base = s->gpu_all || s->gpu_of_part ? 0 : req.gpu;
	/* a session waiting for its partition's GPU has none: device calls fail until then */
	s->dev_count = s->gpu_all ? (uint32_t)count : s->gpu_of_part ? 0 : 1;
	s->hello_done = true;
	sess_part_learn_gpus(s);

	resp.version = s->version;
	resp.backend = (uint16_t)s->ops->kind;
	resp.session = s->id;
	snprintf(resp.server, sizeof(resp.server), "%s (%s)", SERVER_NAME, s->ops->name);
	vgpu_wbuf_init(&w);
	vgpu_hello_resp_put(&w, &resp);
	ret = w.err ? -ENOMEM : send_reply(s, h, CUDA_SUCCESS, &w);
	vgpu_wbuf_free(&w);
	return ret;
}

/* One request: 0 to go on, > 0 to end cleanly (GOODBYE), < 0 to end on error. */
static int handle_frame(struct session *s, const struct vgpu_frame_hdr *h, const void *body)
{
	const char *name = vgpu_op_name(h->op);
	struct vgpu_rbuf r;
	struct vgpu_wbuf *w = &s->out;
	int rc, ret;

	if (h->flags & VGPU_FRAME_F_RESP || h->status) {
		log_warn("session %u: response flag or status in a request (op %u)", s->id, h->op);
		return -EPROTO;
	}
	vgpu_rbuf_init(&r, body, h->len);
	if (!s->hello_done) {
		if (h->op != VGPU_OP_HELLO) {
			log_warn("session %u: first frame is op %u, not HELLO", s->id, h->op);
			return -EPROTO;
		}
		return do_hello(s, h, &r);
	}
	if (h->op == VGPU_OP_HELLO) {
		log_warn("session %u: second HELLO", s->id);
		return -EPROTO;
	}
	if (h->op == VGPU_OP_GOODBYE) {
		if (h->len) {
			log_warn("session %u: GOODBYE with a body", s->id);
			return -EPROTO;
		}
		send_reply(s, h, CUDA_SUCCESS, NULL);
		log_info("session %u: GOODBYE", s->id);
		return 1;
	}
	if (h->op >= VGPU_OP_MAX || !op_table[h->op]) {
		log_warn("session %u: unknown op %u", s->id, h->op);
		return -EPROTO;
	}
	vgpu_wbuf_reset(w);
	rc = op_table[h->op](s, &r, w);
	if (rc < 0) {
		log_warn("session %u: malformed %s body (%u bytes)", s->id, name, h->len);
		return rc;
	}
	if (rc == CUDA_SUCCESS && w->err)
		rc = CUDA_ERROR_OUT_OF_MEMORY;
	log_debug("session %u: %s id %llu -> %d", s->id, name, (unsigned long long)h->id, rc);
	/* whatever the op freed, or failed to allocate, goes back to the partition */
	sess_part_settle(s);
	/* and the kernel time that completed is charged to it */
	sess_sched_harvest(s);
	stats_publish(s);
	ret = send_reply(s, h, (uint32_t)rc, w);
	if (ret)
		log_warn("session %u: sending %s reply: %s", s->id, name, strerror(-ret));
	return ret;
}

static uint64_t session_key(uint32_t id)
{
	uint64_t k = 0;
	struct timespec ts;

	if (getrandom(&k, sizeof(k), GRND_NONBLOCK) != sizeof(k)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		k = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
	}
	return k ^ ((uint64_t)id << 40);
}

int vgpu_session_serve(int fd, const struct vgpu_server_config *cfg, uint32_t session_id)
{
	struct session s = {
		.fd = fd, .id = session_id, .cfg = cfg, .version = VGPU_PROTO_VERSION,
		.part_rec = -1,
	};
	int ret;

	vgpu_at_init(&s.at);
	vgpu_handles_init(&s.h, session_key(session_id));
	for (;;) {
		struct vgpu_frame_hdr h;
		const char *why = NULL;
		const void *body = NULL;

		ret = vgpu_frame_recv_rx(fd, VGPU_PROTO_MAX_BODY, &h, &s.rx, &body, &why);
		if (ret == -ECONNRESET) {
			log_info("session %u: connection closed", s.id);
			ret = 0;
			break;
		}
		if (ret) {
			log_warn("session %u: bad frame: %s", s.id, why ? why : strerror(-ret));
			break;
		}
		ret = handle_frame(&s, &h, body);
		if (ret) {
			if (ret > 0)
				ret = 0;
			break;
		}
	}
	session_cleanup(&s);
	vgpu_rxbuf_free(&s.rx);
	vgpu_wbuf_free(&s.out);
	return ret;
}
