// SPDX-License-Identifier: MIT
/*
 * handshake.c - bringing a channel's server session up (see chan.h).
 *
 * HELLO is the channel's first frame (id 0), queued while the connect is
 * still in flight; requests may queue behind it at once, so nothing waits
 * on a slow server.  The first reply must be HELLO's; a refused or
 * malformed one fails the channel with -ENOTCONN, as does a connection
 * that could not be made or ended before it.
 *
 * A channel of a device with a partition (vgpud.conf) sends
 * PARTITION_ATTACH right behind HELLO and takes no entry off the SQ until
 * it is answered: no request of the application may run on a session that
 * is not yet bound.  A refused attach fails the channel like a refused
 * HELLO (-ENOTCONN).
 *
 * The replies' bytes are reassembled by chan_rx() (chan.c), which hands
 * the headers and the bodies of these two replies to this file.
 */
#include "userd/chan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define HELLO_MAX_BODY	4096
#define CU_NOT_FOUND	500	/* CUDA_ERROR_NOT_FOUND (userd has no cuda.h) */

/* ---- sending ------------------------------------------------------------ */

/* Queue a frame of vgpud's own (HELLO, PARTITION_ATTACH) with the body in @w (freed). */
static int queue_own(struct chan *c, uint16_t op, uint64_t id, struct vgpu_wbuf *w)
{
	struct vgpu_frame_hdr h = {
		.magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION, .op = op, .id = id,
		.len = (uint32_t)w->len,
	};
	struct txframe *f = w->err ? NULL : malloc(sizeof(*f) + HDR_SIZE + w->len);

	if (f) {
		vgpu_hdr_encode(&h, f->data);
		memcpy(f->data + HDR_SIZE, w->buf, w->len);
		f->len = HDR_SIZE + w->len;
		chan_tx_push(c, f);
	}
	vgpu_wbuf_free(w);
	return f ? 0 : -ENOMEM;
}

void chan_hello_req(struct vgpu_hello_req *h, const char *host, uint32_t dev, int pid,
		    uint32_t gpu)
{
	char suffix[32];
	int room;

	memset(h, 0, sizeof(*h));
	h->min_version = VGPU_PROTO_VERSION;
	h->max_version = VGPU_PROTO_VERSION;
	h->gpu = gpu;
	snprintf(suffix, sizeof(suffix), "/vgpu%u/%d", dev, pid);
	room = (int)sizeof(h->client) - 1 - (int)strlen("vgpud/") - (int)strlen(suffix);
	snprintf(h->client, sizeof(h->client), "vgpud/%.*s%s", room > 0 ? room : 0, host, suffix);
}

int chan_start(struct chan *c, const struct vgpu_hello_req *hello)
{
	struct vgpu_wbuf w;

	vgpu_wbuf_init(&w);
	vgpu_hello_req_put(&w, hello);
	return queue_own(c, VGPU_OP_HELLO, 0, &w);
}

int chan_attach(struct chan *c, const char *partition)
{
	struct vgpu_wbuf w;
	int ret;

	if (!vgpu_partition_name_ok(partition))
		return -EINVAL;
	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, partition);
	ret = queue_own(c, VGPU_OP_PARTITION_ATTACH, c->next_fid, &w);
	if (ret)
		return ret;
	c->attach_fid = c->next_fid++;
	snprintf(c->partition, sizeof(c->partition), "%s", partition);
	c->attaching = true;
	return 0;
}

/* ---- the replies -------------------------------------------------------- */

void handshake_hello_header(struct chan *c)
{
	const struct vgpu_frame_hdr *h = &c->rh;

	if (h->op != VGPU_OP_HELLO || h->id != 0)
		return chan_malformed(c, "first reply is not HELLO");
	if (h->status) {
		log_warn("chan %u: server refused the session (CUresult %u)", c->id, h->status);
		return chan_fail(c, -ENOTCONN);
	}
	if (h->len > HELLO_MAX_BODY)
		return chan_malformed(c, "HELLO reply too large");
	c->hello_buf = malloc(h->len ? h->len : 1);
	if (!c->hello_buf)
		return chan_fail(c, -ENOTCONN);
	c->rx_state = RX_HELLO;
}

static void hello_finish(struct chan *c)
{
	struct vgpu_hello_resp resp;
	struct vgpu_rbuf r;
	int ret;

	vgpu_rbuf_init(&r, c->hello_buf, c->rh.len);
	ret = vgpu_hello_resp_get(&r, &resp);
	free(c->hello_buf);
	c->hello_buf = NULL;
	if (ret)
		return chan_malformed(c, "malformed HELLO reply");
	if (resp.version != VGPU_PROTO_VERSION)
		return chan_malformed(c, "server chose an unsupported protocol version");
	c->hello_done = true;
	log_info("chan %u: session %u on \"%s\" (%s backend)", c->id, resp.session, resp.server,
		 resp.backend == VGPU_BACKEND_CUDA ? "cuda" :
		 resp.backend == VGPU_BACKEND_SIM ? "sim" : "unknown");
}

void handshake_attach_header(struct chan *c)
{
	const struct vgpu_frame_hdr *h = &c->rh;

	if (h->op != VGPU_OP_PARTITION_ATTACH || h->id != c->attach_fid)
		return chan_malformed(c, "expected the reply to PARTITION_ATTACH");
	if (h->status) {
		log_warn("chan %u: server refused partition %s (CUresult %u%s)", c->id, c->partition,
			 h->status, h->status == CU_NOT_FOUND ? ": no such partition" : "");
		return chan_fail(c, -ENOTCONN);
	}
	if (h->len > HELLO_MAX_BODY)
		return chan_malformed(c, "PARTITION_ATTACH reply too large");
	c->hello_buf = malloc(h->len ? h->len : 1);
	if (!c->hello_buf)
		return chan_fail(c, -ENOTCONN);
	c->rx_state = RX_HELLO;
}

static void attach_finish(struct chan *c)
{
	struct vgpu_partition_attach_resp info;
	struct vgpu_rbuf r;
	int ret;

	vgpu_rbuf_init(&r, c->hello_buf, c->rh.len);
	ret = vgpu_partition_attach_resp_get(&r, &info);
	free(c->hello_buf);
	c->hello_buf = NULL;
	if (ret)
		return chan_malformed(c, "malformed PARTITION_ATTACH reply");
	c->attaching = false;
	c->attached = info;
	c->attach_new = true;
	log_info("chan %u: attached to partition %s (id %u, gpu %u, %llu MiB, compute %u%%)",
		 c->id, c->partition, info.id, info.gpu,
		 (unsigned long long)(info.mem_limit >> 20), info.compute_share);
}

void handshake_body_done(struct chan *c)
{
	/* HELLO is answered before anything else, so once it is done this is the attach */
	if (c->hello_done)
		attach_finish(c);
	else
		hello_finish(c);
}

/* ---- the connection ----------------------------------------------------- */

void chan_conn_lost(struct chan *c)
{
	chan_fail(c, chan_ready(c) ? -ECONNRESET : -ENOTCONN);
}

bool chan_ready(const struct chan *c)
{
	return c->hello_done && !c->attaching;
}

const char *chan_take_attached(struct chan *c, struct vgpu_partition_attach_resp *a)
{
	if (!c->attach_new)
		return NULL;
	c->attach_new = false;
	*a = c->attached;
	return c->partition;
}
