// SPDX-License-Identifier: MIT
/*
 * stat_main.c - vgpu-stat HOST:PORT: print a server's live totals as
 * "sessions=N bytes_allocated=B allocations=A".  The query is itself a
 * session, so it is subtracted from N.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "vgpu-stat: %s: %s\n", what, detail);
	return 1;
}

int main(int argc, char **argv)
{
	struct vgpu_hello_req req = { .min_version = 1, .max_version = VGPU_PROTO_VERSION,
				      .gpu = VGPU_GPU_ALL };
	struct vgpu_hello_resp resp;
	struct vgpu_frame_hdr h = { .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				    .op = VGPU_OP_SERVER_STATS, .id = 1 };
	struct vgpu_rbuf r;
	const char *why = NULL;
	void *body = NULL;
	uint32_t sessions;
	uint64_t bytes, allocs;
	int fd, ret;

	if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc == 2 ? stdout : stderr, "usage: vgpu-stat HOST:PORT\n");
		return argc == 2 ? 0 : 2;
	}
	fd = vgpu_tcp_connect(argv[1], 5000);
	if (fd < 0)
		return fail(argv[1], strerror(-fd));
	snprintf(req.client, sizeof(req.client), "vgpu-stat");
	ret = vgpu_client_hello(fd, &req, &resp, &why);
	if (ret)
		return fail("handshake", why ? why : strerror(-ret));
	ret = vgpu_frame_send(fd, &h, NULL);
	if (!ret)
		ret = vgpu_frame_recv(fd, 4096, &h, &body, &why);
	if (ret)
		return fail("SERVER_STATS", why ? why : strerror(-ret));
	if (h.op != VGPU_OP_SERVER_STATS || !(h.flags & VGPU_FRAME_F_RESP) || h.status) {
		fprintf(stderr, "vgpu-stat: SERVER_STATS failed (status %u)\n", h.status);
		return 1;
	}
	vgpu_rbuf_init(&r, body, h.len);
	sessions = vgpu_get_u32(&r);
	bytes = vgpu_get_u64(&r);
	allocs = vgpu_get_u64(&r);
	free(body);
	if (!vgpu_rbuf_done(&r))
		return fail("SERVER_STATS", "malformed reply");
	/* say goodbye without waiting for the answer */
	h = (struct vgpu_frame_hdr){ .magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
				     .op = VGPU_OP_GOODBYE, .flags = VGPU_FRAME_F_NOREPLY, .id = 2 };
	vgpu_frame_send(fd, &h, NULL);
	close(fd);
	printf("sessions=%u bytes_allocated=%llu allocations=%llu\n",
	       sessions ? sessions - 1 : 0, (unsigned long long)bytes, (unsigned long long)allocs);
	return 0;
}
