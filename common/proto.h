/* SPDX-License-Identifier: MIT */
/*
 * proto.h - vgpu's wire protocol between a client (vgpud, or lib/'s direct
 * TCP transport) and vgpu-server.  docs/PROTOCOL.md is the prose version.
 *
 * Every message is a frame: a 32-byte little-endian header followed by
 * `len` bytes of body.  Requests and responses share the header; a
 * response has VGPU_FRAME_F_RESP set, echoes the request's id and op, and
 * carries a CUresult in `status`.  Bodies are sequences of little-endian
 * fixed-width fields, byte strings (u32 length + bytes) and strings
 * (u32 length + bytes, no NUL), in the order docs/PROTOCOL.md lists them;
 * they are built and parsed with struct vgpu_wbuf / struct vgpu_rbuf, never
 * by copying C structs.
 *
 * The first frame on a connection is HELLO in both directions; anything
 * else, a bad magic, a version outside the negotiated one or a body over
 * VGPU_PROTO_MAX_BODY closes the connection.
 */
#ifndef VGPU_COMMON_PROTO_H
#define VGPU_COMMON_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define VGPU_PROTO_MAGIC	0x55504756u	/* "VGPU" as little-endian bytes */
#define VGPU_PROTO_VERSION	1
#define VGPU_PROTO_HDR_SIZE	32
#define VGPU_PROTO_MAX_BODY	(64u << 20)
#define VGPU_PROTO_DEFAULT_PORT	7070

/* Header flags */
#define VGPU_FRAME_F_RESP	(1u << 0)	/* a response */
#define VGPU_FRAME_F_NOREPLY	(1u << 1)	/* reply only on error */

/* Backends, reported in HELLO. */
#define VGPU_BACKEND_CUDA	1
#define VGPU_BACKEND_SIM	2

/*
 * The largest module image IMAGE_CHUNK stages (docs/PROTOCOL.md): images
 * too large for one frame or one ring data area arrive in pieces.
 */
#define VGPU_IMAGE_MAX		(1u << 30)

/* HELLO's gpu field: expose every GPU of the server. */
#define VGPU_GPU_ALL		0xffffffffu
/*
 * HELLO's gpu field: expose the GPU of the partition that PARTITION_ATTACH
 * names next; the session has no device until then.
 */
#define VGPU_GPU_OF_PARTITION	0xfffffffeu

/*
 * LAUNCH's flags (docs/PROTOCOL.md): a cooperative grid (all blocks
 * resident at once, as cuLaunchCooperativeKernel); thread-block clusters,
 * whose three u32 dimensions then follow the parameter bytes.  A server
 * answers other bits with CUDA_ERROR_NOT_SUPPORTED.
 */
#define VGPU_LAUNCH_F_COOPERATIVE	(1u << 0)
#define VGPU_LAUNCH_F_CLUSTER		(1u << 1)
#define VGPU_LAUNCH_F_ALL		(VGPU_LAUNCH_F_COOPERATIVE | VGPU_LAUNCH_F_CLUSTER)

/*
 * Op codes.  X(name, value).  Request and response bodies: PROTOCOL.md.
 * Values are part of the protocol: never renumber, only append.
 */
#define VGPU_OPS(X)			\
	X(HELLO,		1)	\
	X(GOODBYE,		2)	\
	X(DEVICE_COUNT,		3)	\
	X(DEVICE_INFO,		4)	\
	X(CTX_CREATE,		5)	\
	X(CTX_DESTROY,		6)	\
	X(CTX_SYNC,		7)	\
	X(MEM_ALLOC,		8)	\
	X(MEM_FREE,		9)	\
	X(MEM_GET_INFO,		10)	\
	X(MEMCPY_HTOD,		11)	\
	X(MEMCPY_DTOH,		12)	\
	X(MEMCPY_DTOD,		13)	\
	X(MEMSET,		14)	\
	X(MODULE_LOAD,		15)	\
	X(MODULE_UNLOAD,	16)	\
	X(MODULE_GET_FUNCTION,	17)	\
	X(MODULE_GET_GLOBAL,	18)	\
	X(LAUNCH,		19)	\
	X(STREAM_CREATE,	20)	\
	X(STREAM_SYNC,		21)	\
	X(STREAM_DESTROY,	22)	\
	X(EVENT_CREATE,		23)	\
	X(EVENT_RECORD,		24)	\
	X(EVENT_SYNC,		25)	\
	X(EVENT_ELAPSED,	26)	\
	X(EVENT_DESTROY,	27)	\
	X(SERVER_STATS,		28)	\
	X(FUNC_GET_ATTRIBUTE,	29)	\
	X(FUNC_SET_ATTRIBUTE,	30)	\
	X(OCCUPANCY_BLOCKS,	31)	\
	X(OCCUPANCY_DYN_SMEM,	32)	\
	X(STREAM_WAIT_EVENT,	33)	\
	X(STREAM_QUERY,		34)	\
	X(EVENT_QUERY,		35)	\
	X(VMM_GRANULARITY,	36)	\
	X(VMM_CREATE,		37)	\
	X(VMM_RELEASE,		38)	\
	X(VMM_RESERVE,		39)	\
	X(VMM_FREE_VA,		40)	\
	X(VMM_MAP,		41)	\
	X(VMM_UNMAP,		42)	\
	X(VMM_SET_ACCESS,	43)	\
	X(VMM_GET_ACCESS,	44)	\
	X(VMM_HANDLE_INFO,	45)	\
	X(VMM_RETAIN,		46)	\
	X(POOL_DEVICE,		47)	\
	X(POOL_SET_CURRENT,	48)	\
	X(POOL_CREATE,		49)	\
	X(POOL_DESTROY,		50)	\
	X(POOL_ALLOC,		51)	\
	X(MEM_FREE_ASYNC,	52)	\
	X(POOL_SET_ATTR,	53)	\
	X(POOL_GET_ATTR,	54)	\
	X(POOL_TRIM,		55)	\
	X(OCCUPANCY_CLUSTERS,	56)	\
	X(PARTITION_ATTACH,	57)	\
	X(PARTITION_LIST,	58)	\
	X(PARTITION_CREATE,	59)	\
	X(PARTITION_RESIZE,	60)	\
	X(PARTITION_DELETE,	61)	\
	X(GPU_UTILIZATION,	62)	\
	X(IMAGE_CHUNK,		63)	\
	X(MODULE_LOAD_STAGED,	64)	\
	X(TEX_CREATE,		65)	\
	X(TEX_DESTROY,		66)

enum vgpu_op {
#define VGPU_OP_ENUM(name, val) VGPU_OP_##name = val,
	VGPU_OPS(VGPU_OP_ENUM)
#undef VGPU_OP_ENUM
	VGPU_OP_MAX
};

/* Name of an op ("MEM_ALLOC"), or NULL if unknown. */
const char *vgpu_op_name(unsigned int op);

/* Decoded frame header (host order). */
struct vgpu_frame_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t flags;
	uint32_t status;	/* CUresult in responses, 0 in requests */
	uint64_t id;
	uint32_t len;		/* body bytes that follow */
	uint32_t reserved;	/* must be zero */
};

/* Encode @h into 32 bytes at @out. */
void vgpu_hdr_encode(const struct vgpu_frame_hdr *h, uint8_t out[VGPU_PROTO_HDR_SIZE]);
/*
 * Decode and validate 32 bytes: magic, version (== VGPU_PROTO_VERSION, or
 * any version when the op is HELLO), reserved == 0, len <= max_body.
 * Returns 0 or -EPROTO / -EMSGSIZE; @why (may be NULL) gets a reason.
 */
int vgpu_hdr_decode(const uint8_t in[VGPU_PROTO_HDR_SIZE], uint32_t max_body,
		    struct vgpu_frame_hdr *h, const char **why);

/* ---- body writer: grows on demand; errors are sticky ------------------ */
struct vgpu_wbuf {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool fixed;	/* buffer not owned: fail instead of growing */
	bool err;	/* out of memory / space */
};

void vgpu_wbuf_init(struct vgpu_wbuf *w);			/* growable */
void vgpu_wbuf_init_fixed(struct vgpu_wbuf *w, void *buf, size_t cap);
void vgpu_wbuf_free(struct vgpu_wbuf *w);
/* Empty a growable writer for reuse, keeping its buffer (no new page faults). */
void vgpu_wbuf_reset(struct vgpu_wbuf *w);
void vgpu_put_u8(struct vgpu_wbuf *w, uint8_t v);
void vgpu_put_u16(struct vgpu_wbuf *w, uint16_t v);
void vgpu_put_u32(struct vgpu_wbuf *w, uint32_t v);
void vgpu_put_u64(struct vgpu_wbuf *w, uint64_t v);
void vgpu_put_i32(struct vgpu_wbuf *w, int32_t v);
void vgpu_put_f32(struct vgpu_wbuf *w, float v);
void vgpu_put_raw(struct vgpu_wbuf *w, const void *p, size_t n);	/* no length */
void vgpu_put_bytes(struct vgpu_wbuf *w, const void *p, size_t n);	/* u32 len + bytes */
void vgpu_put_str(struct vgpu_wbuf *w, const char *s);		/* u32 len + bytes */
/* Reserve n bytes (u32 len + n uninitialised bytes); returns where to write them. */
void *vgpu_put_bytes_reserve(struct vgpu_wbuf *w, size_t n);

/* ---- body reader: bounds-checked; errors are sticky -------------------- */
struct vgpu_rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;	/* read past the end or bad length */
};

void vgpu_rbuf_init(struct vgpu_rbuf *r, const void *p, size_t len);
uint8_t vgpu_get_u8(struct vgpu_rbuf *r);
uint16_t vgpu_get_u16(struct vgpu_rbuf *r);
uint32_t vgpu_get_u32(struct vgpu_rbuf *r);
uint64_t vgpu_get_u64(struct vgpu_rbuf *r);
int32_t vgpu_get_i32(struct vgpu_rbuf *r);
float vgpu_get_f32(struct vgpu_rbuf *r);
/* Raw n bytes; pointer into the buffer or NULL (and err set). */
const void *vgpu_get_raw(struct vgpu_rbuf *r, size_t n);
/* u32 length + bytes; returns a pointer into the buffer, length in *n. */
const void *vgpu_get_bytes(struct vgpu_rbuf *r, size_t *n);
/* u32 length + bytes copied into dst (NUL-terminated, at most cap-1 bytes;
 * longer or embedded-NUL strings set err). Returns dst or NULL. */
char *vgpu_get_str(struct vgpu_rbuf *r, char *dst, size_t cap);
/* True when the whole body was consumed without error. */
bool vgpu_rbuf_done(const struct vgpu_rbuf *r);

/* ---- blocking frame I/O on a stream socket ----------------------------- */
/*
 * Send header + body (writev, handles partial writes and EINTR).
 * Returns 0 or -errno.
 */
int vgpu_frame_send(int fd, const struct vgpu_frame_hdr *h, const void *body);
/*
 * Receive one frame.  *body is malloc'ed (len bytes, NULL when len == 0);
 * caller frees.  Returns 0, -ECONNRESET on EOF, -EPROTO/-EMSGSIZE on a bad
 * header (reason in *why), or -errno.
 */
int vgpu_frame_recv(int fd, uint32_t max_body, struct vgpu_frame_hdr *h,
		    void **body, const char **why);
/*
 * The same into a receive buffer kept across frames: a session moving
 * 16 MiB chunks would otherwise fault in fresh pages for every frame.
 * *body points into rx (valid until the next call); free with
 * vgpu_rxbuf_free().
 */
struct vgpu_rxbuf {
	void *buf;
	size_t cap;
};
int vgpu_frame_recv_rx(int fd, uint32_t max_body, struct vgpu_frame_hdr *h,
		       struct vgpu_rxbuf *rx, const void **body, const char **why);
void vgpu_rxbuf_free(struct vgpu_rxbuf *rx);

/* ---- HELLO ------------------------------------------------------------- */
struct vgpu_hello_req {
	uint16_t min_version;
	uint16_t max_version;
	uint32_t gpu;		/* server GPU exposed as device 0, VGPU_GPU_ALL or _OF_PARTITION */
	uint64_t features;	/* none defined yet: 0 */
	char client[64];	/* free-form name for the server's log */
};

struct vgpu_hello_resp {
	uint16_t version;
	uint16_t backend;	/* VGPU_BACKEND_* */
	uint32_t session;	/* server's session number, for logs */
	uint64_t features;
	char server[64];	/* free-form server name/version */
};

void vgpu_hello_req_put(struct vgpu_wbuf *w, const struct vgpu_hello_req *h);
int vgpu_hello_req_get(struct vgpu_rbuf *r, struct vgpu_hello_req *h);
void vgpu_hello_resp_put(struct vgpu_wbuf *w, const struct vgpu_hello_resp *h);
int vgpu_hello_resp_get(struct vgpu_rbuf *r, struct vgpu_hello_resp *h);

struct iovec;

/*
 * Drop n written bytes from the front of iov[cnt]: *iov moves to the first
 * iovec not fully written, which is trimmed.  Returns the iovecs left.
 */
int vgpu_iov_advance(struct iovec **iov, int cnt, size_t n);
/* Read exactly len bytes; -ECONNRESET at end of file, or -errno. */
int vgpu_read_all(int fd, void *buf, size_t len);

/*
 * Client side of the handshake on a connected socket: sends HELLO (id 0),
 * waits for the reply.  Returns 0, -EPROTO (bad/unsupported reply, reason
 * in *why), or -errno.
 */
int vgpu_client_hello(int fd, const struct vgpu_hello_req *req,
		      struct vgpu_hello_resp *resp, const char **why);

/*
 * Connect a TCP socket to "host:port" (port defaults to
 * VGPU_PROTO_DEFAULT_PORT), with TCP_NODELAY and keepalive / user-timeout
 * set so a dead server is noticed.  Returns fd or -errno.
 */
int vgpu_tcp_connect(const char *hostport, int timeout_ms);
/* Set TCP_NODELAY, keepalive and TCP_USER_TIMEOUT on a connected socket. */
void vgpu_tcp_tune(int fd);

#endif /* VGPU_COMMON_PROTO_H */
