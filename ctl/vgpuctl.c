// SPDX-License-Identifier: MIT
/*
 * vgpuctl.c - vgpuctl: list, create, resize, split and delete a server's
 * partitions (docs/PROTOCOL.md ops 57-61; the command line is args.c's).
 *
 * Each command is one session: connect, HELLO, its op(s), GOODBYE.  A
 * refused op prints the server's CUresult by name, with what it means for
 * partitions, and the exit status is 1 (2 for a bad command line).
 */
#include "ctl/ctl.h"

#include <cuda.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_MS	5000
#define REPLY_MAX	(1u << 20)	/* LIST of 64 partitions is a few KiB */

struct ctl_conn {
	int fd;
	uint64_t next_id;
	const char *server;
};

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

static void report(const char *what, uint16_t op, uint32_t status)
{
	const char *h = hint(op, status);
	char buf[32];

	fprintf(stderr, "vgpuctl: %s: %s%s%s\n", what, ctl_cu_name(status, buf, sizeof(buf)),
		h ? ": " : "", h ? h : "");
}

static int ctl_connect(struct ctl_conn *cn, const char *server)
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

static void ctl_disconnect(struct ctl_conn *cn)
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

static int op_list(struct ctl_conn *cn, struct vgpu_partition_list *l)
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
		report("list", VGPU_OP_PARTITION_LIST, status);
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

static int op_create(struct ctl_conn *cn, const struct vgpu_partition_create_req *c, uint32_t *id)
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

static int op_resize(struct ctl_conn *cn, const struct vgpu_partition_resize_req *q)
{
	struct vgpu_wbuf w;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_resize_req_put(&w, q);
	ret = call_empty(cn, VGPU_OP_PARTITION_RESIZE, &w);
	vgpu_wbuf_free(&w);
	return ret;
}

static int op_delete(struct ctl_conn *cn, const char *name)
{
	struct vgpu_wbuf w;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, name);
	ret = call_empty(cn, VGPU_OP_PARTITION_DELETE, &w);
	vgpu_wbuf_free(&w);
	return ret;
}

/* ---- output ------------------------------------------------------------ */

static void print_mem(char *buf, size_t cap, const struct ctl_mem *m)
{
	if (m->pct)
		snprintf(buf, cap, "%u%%", m->pct);
	else if (m->bytes & ((1u << 20) - 1))
		snprintf(buf, cap, "%llu bytes", (unsigned long long)m->bytes);
	else
		snprintf(buf, cap, "%llu MiB", ctl_mib(m->bytes));
}

/* ---- commands ---------------------------------------------------------- */

static int cmd_list(struct ctl_conn *cn)
{
	struct vgpu_partition_list l;

	if (op_list(cn, &l))
		return 1;
	ctl_print_list(stdout, &l);
	vgpu_partition_list_free(&l);
	return 0;
}

static int cmd_create(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	struct vgpu_partition_create_req q = { .gpu = c->gpu, .mem_bytes = c->mem.bytes,
				      .mem_pct = c->mem.pct, .compute_share = c->compute,
				      .priority = c->priority };
	char what[64], mem[32];
	uint32_t id = 0;
	int ret;

	memcpy(q.name, c->name, sizeof(q.name));
	ret = op_create(cn, &q, &id);
	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "create %s", c->name);
	if (ret) {
		report(what, VGPU_OP_PARTITION_CREATE, (uint32_t)ret);
		return 1;
	}
	print_mem(mem, sizeof(mem), &c->mem);
	printf("created partition %s (id %u) on GPU %u: memory %s, compute %u%%, priority %u\n",
	       c->name, id, c->gpu, mem, c->compute, c->priority);
	return 0;
}

static int cmd_resize(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	struct vgpu_partition_resize_req q = { .mem_bytes = c->mem.bytes, .mem_pct = c->mem.pct,
				      .compute_share = c->compute };
	char what[64], mem[32];
	int ret;

	memcpy(q.name, c->name, sizeof(q.name));
	ret = op_resize(cn, &q);
	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "resize %s", c->name);
	if (ret) {
		report(what, VGPU_OP_PARTITION_RESIZE, (uint32_t)ret);
		return 1;
	}
	printf("resized partition %s:", c->name);
	if (c->has_mem) {
		print_mem(mem, sizeof(mem), &c->mem);
		printf(" memory %s", mem);
	}
	if (c->has_compute)
		printf(" compute %u%%", c->compute);
	printf("\n");
	return 0;
}

static int cmd_delete(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	char what[64];
	int ret = op_delete(cn, c->name);

	if (ret < 0)
		return 1;
	snprintf(what, sizeof(what), "delete %s", c->name);
	if (ret) {
		report(what, VGPU_OP_PARTITION_DELETE, (uint32_t)ret);
		return 1;
	}
	printf("deleted partition %s\n", c->name);
	return 0;
}

/*
 * split: RESIZE NAME down by the new partition's share, then CREATE NEWNAME
 * with it on the same GPU and at NAME's priority.  Without --compute-new
 * the compute share moves in proportion to the memory.  A failed CREATE
 * gives NAME its old size back.
 */
static int cmd_split(struct ctl_conn *cn, const struct ctl_cmd *c)
{
	const struct vgpu_partition_list_entry *p = NULL;
	const struct vgpu_partition_list_gpu *g;
	struct vgpu_partition_resize_req q = { 0 };
	struct vgpu_partition_create_req n = { 0 };
	struct vgpu_partition_list l;
	uint64_t bytes;
	uint32_t share, id = 0;
	char what[96];
	int ret, status = 1;

	if (op_list(cn, &l))
		return 1;
	for (uint32_t i = 0; i < l.npart; i++)
		if (!strcmp(l.parts[i].name, c->name))
			p = &l.parts[i];
	if (!p) {
		fprintf(stderr, "vgpuctl: split: no partition %s\n", c->name);
		goto out;
	}
	g = ctl_find_gpu(&l, p->gpu);
	if (c->mem.pct && !g) {
		fprintf(stderr, "vgpuctl: split: the server did not list GPU %u of %s\n", p->gpu,
			c->name);
		goto out;
	}
	bytes = c->mem.pct ? g->total_mem / 100 * c->mem.pct +
			     g->total_mem % 100 * c->mem.pct / 100 : c->mem.bytes;
	if (!bytes || bytes >= p->mem_limit) {
		fprintf(stderr, "vgpuctl: split: %s has %llu MiB; it cannot give %llu MiB and keep some\n",
			c->name, ctl_mib(p->mem_limit), ctl_mib(bytes));
		goto out;
	}
	share = c->has_compute ? c->compute :
		(uint32_t)(((uint64_t)p->compute_share * bytes + p->mem_limit / 2) / p->mem_limit);
	if (!share)
		share = 1;
	if (share >= p->compute_share) {
		fprintf(stderr, "vgpuctl: split: %s has %u%% compute; it cannot give %u%% and keep some%s\n",
			c->name, p->compute_share, share,
			c->has_compute ? "" : " (give --compute-new)");
		goto out;
	}

	memcpy(q.name, p->name, sizeof(q.name));
	q.mem_bytes = p->mem_limit - bytes;
	q.compute_share = p->compute_share - share;
	ret = op_resize(cn, &q);
	if (ret) {
		snprintf(what, sizeof(what), "split: step 1 of 2 (shrink %s) failed; nothing changed",
			 c->name);
		if (ret > 0)
			report(what, VGPU_OP_PARTITION_RESIZE, (uint32_t)ret);
		else
			fprintf(stderr, "vgpuctl: %s\n", what);
		goto out;
	}

	memcpy(n.name, c->newname, sizeof(n.name));
	n.gpu = p->gpu;
	n.mem_bytes = bytes;
	n.compute_share = share;
	n.priority = p->priority;
	ret = op_create(cn, &n, &id);
	if (ret) {
		snprintf(what, sizeof(what), "split: step 2 of 2 (create %s) failed", c->newname);
		if (ret > 0)
			report(what, VGPU_OP_PARTITION_CREATE, (uint32_t)ret);
		else
			fprintf(stderr, "vgpuctl: %s\n", what);
		q.mem_bytes = p->mem_limit;
		q.compute_share = p->compute_share;
		if (ret > 0 && !op_resize(cn, &q))
			fprintf(stderr, "vgpuctl: split: %s has its old size back\n", c->name);
		else
			fprintf(stderr, "vgpuctl: split: %s stays shrunk to %llu MiB, %u%% compute; "
				"restore it with: vgpuctl resize %s --mem %lluM --compute %u\n",
				c->name, ctl_mib(p->mem_limit - bytes), p->compute_share - share,
				c->name, ctl_mib(p->mem_limit), p->compute_share);
		goto out;
	}
	printf("split %s: it keeps %llu MiB and %u%% compute; new partition %s (id %u) on GPU %u "
	       "has %llu MiB and %u%% compute\n", c->name, ctl_mib(p->mem_limit - bytes),
	       p->compute_share - share, c->newname, id, p->gpu, ctl_mib(bytes), share);
	status = 0;
out:
	vgpu_partition_list_free(&l);
	return status;
}

int main(int argc, char **argv)
{
	struct ctl_conn cn;
	struct ctl_cmd c;
	char err[160];
	int status;

	if (ctl_parse_args(argc, argv, getenv("VGPU_SERVER"), &c, err, sizeof(err))) {
		fprintf(stderr, "vgpuctl: %s\n", err);
		ctl_usage(stderr);
		return 2;
	}
	if (c.verb == CTL_HELP) {
		ctl_usage(stdout);
		return 0;
	}
	if (ctl_connect(&cn, c.server))
		return 1;
	switch (c.verb) {
	case CTL_LIST: status = cmd_list(&cn); break;
	case CTL_CREATE: status = cmd_create(&cn, &c); break;
	case CTL_RESIZE: status = cmd_resize(&cn, &c); break;
	case CTL_SPLIT: status = cmd_split(&cn, &c); break;
	default: status = cmd_delete(&cn, &c); break;
	}
	ctl_disconnect(&cn);
	return status;
}
