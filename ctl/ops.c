// SPDX-License-Identifier: MIT
/*
 * ops.c - vgpuctl's side of a server session (see ops.h): connect, HELLO,
 * the partition ops 57-61 one frame at a time, GOODBYE; a refusal is
 * printed by name with what it means for partitions.
 */
#include "ctl/ops.h"
#include "ctl/ctl.h"

#include <cuda.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CONNECT_MS	5000
#define REPLY_S		10	/* default of $VGPUCTL_TIMEOUT */
#define REPLY_MAX	(1u << 20)	/* LIST of 64 partitions is a few KiB */

/* What a refusal means for the partition ops (PROTOCOL.md). */
static const char *hint(uint16_t op, uint32_t status)
{
	switch (status) {
	case CUDA_ERROR_NOT_PERMITTED:
		return "administration is accepted only from the server's own host "
		       "(or a server run with --admin-any)";
	case CUDA_ERROR_NOT_FOUND:
		return "no partition of that name";
	case CUDA_ERROR_OUT_OF_MEMORY:
		return "the GPU's partitions would grant more than 100% of its memory or compute";
	case CUDA_ERROR_INVALID_DEVICE:
		return "the server has no such GPU";
	case CUDA_ERROR_ILLEGAL_STATE:
		return op == VGPU_OP_PARTITION_DELETE ? "sessions are attached to it" :
		       "its sessions use more memory than the new limit";
	case CUDA_ERROR_INVALID_VALUE:
		return op == VGPU_OP_PARTITION_CREATE ? "the name is in use, or a value is out of range" :
		       "a value is out of range";
	case CUDA_ERROR_NOT_SUPPORTED:
		return "the server does not know partitions (too old?)";
	default:
		return NULL;
	}
}

void ctl_report(const char *what, uint16_t op, uint32_t status)
{
	const char *h = hint(op, status);
	char buf[32];

	fprintf(stderr, "vgpuctl: %s: %s%s%s\n", what, ctl_cu_name(status, buf, sizeof(buf)),
		h ? ": " : "", h ? h : "");
}

/*
 * A server that accepts and then says nothing must not hang vgpuctl (a
 * pool's list would never get to the others): every send and receive
 * gives up after $VGPUCTL_TIMEOUT seconds (1-3600, default 10).
 */
static void set_timeouts(int fd)
{
	const char *env = getenv("VGPUCTL_TIMEOUT");
	struct timeval tv = { .tv_sec = REPLY_S };
	uint32_t sec;

	if (env && !ctl_parse_uint(env, 1, 3600, &sec))
		tv.tv_sec = sec;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int ctl_connect(struct ctl_conn *cn, const char *server)
{
	struct vgpu_hello_req req = { .min_version = VGPU_PROTO_VERSION,
				      .max_version = VGPU_PROTO_VERSION, .gpu = VGPU_GPU_ALL };
	struct vgpu_hello_resp resp;
	const char *why = NULL;
	int ret;

	cn->server = server;
	cn->next_id = 1;
	cn->fd = vgpu_tcp_connect(server, CONNECT_MS);
	if (cn->fd < 0) {
		fprintf(stderr, "vgpuctl: cannot connect to %s: %s\n", server, strerror(-cn->fd));
		return -1;
	}
	set_timeouts(cn->fd);
	snprintf(req.client, sizeof(req.client), "vgpuctl pid %d", (int)getpid());
	ret = vgpu_client_hello(cn->fd, &req, &resp, &why);
	if (ret) {
		fprintf(stderr, "vgpuctl: handshake with %s failed: %s\n", server,
			why ? why : strerror(-ret));
		close(cn->fd);
		return -1;
	}
	return 0;
}

void ctl_disconnect(struct ctl_conn *cn)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = VGPU_OP_GOODBYE, .flags = VGPU_FRAME_F_NOREPLY,
				    .id = cn->next_id++ };

	vgpu_frame_send(cn->fd, &h, NULL);	/* not waiting for the answer */
	close(cn->fd);
}

/*
 * One op: 0 with the server's CUresult in *status and the body (malloc'ed,
 * *len bytes) in *body; -1 after a transport or protocol failure (printed).
 */
static int call(struct ctl_conn *cn, uint16_t op, const struct vgpu_wbuf *w, uint32_t *status,
		void **body, uint32_t *len)
{
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = op, .id = cn->next_id++ };
	uint64_t id = h.id;
	const char *why = NULL;
	int ret;

	if (w->err) {
		fprintf(stderr, "vgpuctl: out of memory\n");
		return -1;
	}
	h.len = (uint32_t)w->len;
	*body = NULL;
	ret = vgpu_frame_send(cn->fd, &h, w->buf);
	if (!ret)
		ret = vgpu_frame_recv(cn->fd, REPLY_MAX, &h, body, &why);
	if (!ret && (!(h.flags & VGPU_FRAME_F_RESP) || h.id != id || h.op != op ||
		     (h.status && h.len))) {
		why = "reply does not match the request";
		ret = -EPROTO;
	}
	if (ret) {
		fprintf(stderr, "vgpuctl: %s with %s: %s\n", vgpu_op_name(op), cn->server,
			ret == -ECONNRESET ?
			"the server closed the connection (as one without partitions does)" :
			why ? why : strerror(-ret));
		free(*body);
		*body = NULL;
		return -1;
	}
	*status = h.status;
	*len = h.len;
	return 0;
}

/* An op whose success has no body (RESIZE, DELETE): 0, a CUresult, or -1. */
static int call_empty(struct ctl_conn *cn, uint16_t op, const struct vgpu_wbuf *w)
{
	uint32_t status, len;
	void *body;

	if (call(cn, op, w, &status, &body, &len))
		return -1;
	free(body);
	if (!status && len) {
		fprintf(stderr, "vgpuctl: %s: malformed reply\n", vgpu_op_name(op));
		return -1;
	}
	return (int)status;
}

int ctl_op_list(struct ctl_conn *cn, struct vgpu_partition_list *l)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint32_t status, len;
	void *body;
	int ret;

	vgpu_wbuf_init(&w);
	ret = call(cn, VGPU_OP_PARTITION_LIST, &w, &status, &body, &len);
	vgpu_wbuf_free(&w);
	if (ret)
		return -1;
	if (status) {
		free(body);
		ctl_report("list", VGPU_OP_PARTITION_LIST, status);
		return -1;
	}
	vgpu_rbuf_init(&r, body, len);
	ret = vgpu_partition_list_get(&r, l);
	free(body);
	if (ret) {
		fprintf(stderr, "vgpuctl: PARTITION_LIST: malformed reply (%s)\n", strerror(-ret));
		return -1;
	}
	return 0;
}

int ctl_op_create(struct ctl_conn *cn, const struct vgpu_partition_create_req *c, uint32_t *id)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint32_t status, len;
	void *body;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_create_req_put(&w, c);
	ret = call(cn, VGPU_OP_PARTITION_CREATE, &w, &status, &body, &len);
	vgpu_wbuf_free(&w);
	if (ret)
		return -1;
	if (status)
		return (int)status;
	vgpu_rbuf_init(&r, body, len);
	*id = vgpu_get_u32(&r);
	free(body);
	if (!vgpu_rbuf_done(&r)) {
		fprintf(stderr, "vgpuctl: PARTITION_CREATE: malformed reply\n");
		return -1;
	}
	return 0;
}

int ctl_op_resize(struct ctl_conn *cn, const struct vgpu_partition_resize_req *q)
{
	struct vgpu_wbuf w;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_resize_req_put(&w, q);
	ret = call_empty(cn, VGPU_OP_PARTITION_RESIZE, &w);
	vgpu_wbuf_free(&w);
	return ret;
}

int ctl_op_delete(struct ctl_conn *cn, const char *name)
{
	struct vgpu_wbuf w;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, name);
	ret = call_empty(cn, VGPU_OP_PARTITION_DELETE, &w);
	vgpu_wbuf_free(&w);
	return ret;
}

