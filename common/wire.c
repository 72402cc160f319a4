// SPDX-License-Identifier: MIT
/*
 * wire.c - frame header codec and the little-endian body writer/reader.
 * Every multi-byte field is assembled byte by byte, so the encoding is the
 * same on any host and no C struct layout ever reaches the wire.
 */
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[VGPU_OP_MAX] = {
#define VGPU_OP_NAME(name, val) [val] = #name,
	VGPU_OPS(VGPU_OP_NAME)
#undef VGPU_OP_NAME
};

const char *vgpu_op_name(unsigned int op)
{
	return op < VGPU_OP_MAX ? op_names[op] : NULL;
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, v);
	le32(p + 4, v >> 32);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Header layout: magic@0 version@4 op@6 flags@8 status@12 id@16 len@24 reserved@28 */
void vgpu_hdr_encode(const struct vgpu_frame_hdr *h, uint8_t out[VGPU_PROTO_HDR_SIZE])
{
	le32(out + 0, h->magic);
	le16(out + 4, h->version);
	le16(out + 6, h->op);
	le32(out + 8, h->flags);
	le32(out + 12, h->status);
	le64(out + 16, h->id);
	le32(out + 24, h->len);
	le32(out + 28, h->reserved);
}

int vgpu_hdr_decode(const uint8_t in[VGPU_PROTO_HDR_SIZE], uint32_t max_body,
		    struct vgpu_frame_hdr *h, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	h->magic = rd32(in + 0);
	h->version = rd16(in + 4);
	h->op = rd16(in + 6);
	h->flags = rd32(in + 8);
	h->status = rd32(in + 12);
	h->id = rd64(in + 16);
	h->len = rd32(in + 24);
	h->reserved = rd32(in + 28);

	if (h->magic != VGPU_PROTO_MAGIC) {
		*why = "bad magic";
		return -EPROTO;
	}
	if (h->version != VGPU_PROTO_VERSION && h->op != VGPU_OP_HELLO) {
		*why = "unsupported protocol version";
		return -EPROTO;
	}
	if (h->reserved != 0 || (h->flags & ~(VGPU_FRAME_F_RESP | VGPU_FRAME_F_NOREPLY))) {
		*why = "reserved header bits set";
		return -EPROTO;
	}
	if (h->len > max_body) {
		*why = "body too large";
		return -EMSGSIZE;
	}
	return 0;
}

/* ---- writer ------------------------------------------------------------ */

void vgpu_wbuf_init(struct vgpu_wbuf *w)
{
	memset(w, 0, sizeof(*w));
}

void vgpu_wbuf_init_fixed(struct vgpu_wbuf *w, void *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->fixed = true;
}

void vgpu_wbuf_free(struct vgpu_wbuf *w)
{
	if (!w->fixed)
		free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void vgpu_wbuf_reset(struct vgpu_wbuf *w)
{
	w->len = 0;
	w->err = false;
}

/* Make room for n more bytes; returns where they go or NULL (err set). */
static uint8_t *wbuf_room(struct vgpu_wbuf *w, size_t n)
{
	if (w->err)
		return NULL;
	if (n > VGPU_PROTO_MAX_BODY || w->len + n > VGPU_PROTO_MAX_BODY + (size_t)64) {
		w->err = true;
		return NULL;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *nb;

		if (w->fixed) {
			w->err = true;
			return NULL;
		}
		while (cap < w->len + n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = true;
			return NULL;
		}
		w->buf = nb;
		w->cap = cap;
	}
	w->len += n;
	return w->buf + w->len - n;
}

void vgpu_put_u8(struct vgpu_wbuf *w, uint8_t v)
{
	uint8_t *p = wbuf_room(w, 1);

	if (p)
		*p = v;
}

void vgpu_put_u16(struct vgpu_wbuf *w, uint16_t v)
{
	uint8_t *p = wbuf_room(w, 2);

	if (p)
		le16(p, v);
}

void vgpu_put_u32(struct vgpu_wbuf *w, uint32_t v)
{
	uint8_t *p = wbuf_room(w, 4);

	if (p)
		le32(p, v);
}

void vgpu_put_u64(struct vgpu_wbuf *w, uint64_t v)
{
	uint8_t *p = wbuf_room(w, 8);

	if (p)
		le64(p, v);
}

void vgpu_put_i32(struct vgpu_wbuf *w, int32_t v)
{
	vgpu_put_u32(w, (uint32_t)v);
}

void vgpu_put_f32(struct vgpu_wbuf *w, float v)
{
	uint32_t u;

	memcpy(&u, &v, sizeof(u));
	vgpu_put_u32(w, u);
}

void vgpu_put_raw(struct vgpu_wbuf *w, const void *p, size_t n)
{
	uint8_t *d = wbuf_room(w, n);

	if (d && n)
		memcpy(d, p, n);
}

void *vgpu_put_bytes_reserve(struct vgpu_wbuf *w, size_t n)
{
	if (n > VGPU_PROTO_MAX_BODY) {
		w->err = true;
		return NULL;
	}
	vgpu_put_u32(w, (uint32_t)n);
	return wbuf_room(w, n);
}

void vgpu_put_bytes(struct vgpu_wbuf *w, const void *p, size_t n)
{
	uint8_t *d = vgpu_put_bytes_reserve(w, n);

	if (d && n)
		memcpy(d, p, n);
}

void vgpu_put_str(struct vgpu_wbuf *w, const char *s)
{
	vgpu_put_bytes(w, s, s ? strlen(s) : 0);
}

/* ---- reader ------------------------------------------------------------ */

void vgpu_rbuf_init(struct vgpu_rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p ? len : 0;
	r->off = 0;
	r->err = false;
}

const void *vgpu_get_raw(struct vgpu_rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t vgpu_get_u8(struct vgpu_rbuf *r)
{
	const uint8_t *p = vgpu_get_raw(r, 1);

	return p ? *p : 0;
}

uint16_t vgpu_get_u16(struct vgpu_rbuf *r)
{
	const uint8_t *p = vgpu_get_raw(r, 2);

	return p ? rd16(p) : 0;
}

uint32_t vgpu_get_u32(struct vgpu_rbuf *r)
{
	const uint8_t *p = vgpu_get_raw(r, 4);

	return p ? rd32(p) : 0;
}

uint64_t vgpu_get_u64(struct vgpu_rbuf *r)
{
	const uint8_t *p = vgpu_get_raw(r, 8);

	return p ? rd64(p) : 0;
}

int32_t vgpu_get_i32(struct vgpu_rbuf *r)
{
	return (int32_t)vgpu_get_u32(r);
}

float vgpu_get_f32(struct vgpu_rbuf *r)
{
	uint32_t u = vgpu_get_u32(r);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

const void *vgpu_get_bytes(struct vgpu_rbuf *r, size_t *n)
{
	uint32_t len = vgpu_get_u32(r);
	const void *p = vgpu_get_raw(r, len);

	*n = p ? len : 0;
	return p;
}

char *vgpu_get_str(struct vgpu_rbuf *r, char *dst, size_t cap)
{
	size_t n;
	const char *p = vgpu_get_bytes(r, &n);

	if (!p || cap == 0 || n >= cap || memchr(p, '\0', n)) {
		r->err = true;
		if (cap)
			dst[0] = '\0';
		return NULL;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return dst;
}

bool vgpu_rbuf_done(const struct vgpu_rbuf *r)
{
	return !r->err && r->off == r->len;
}

/* ---- HELLO ------------------------------------------------------------- */

void vgpu_hello_req_put(struct vgpu_wbuf *w, const struct vgpu_hello_req *h)
{
	vgpu_put_u16(w, h->min_version);
	vgpu_put_u16(w, h->max_version);
	vgpu_put_u32(w, h->gpu);
	vgpu_put_u64(w, h->features);
	vgpu_put_str(w, h->client);
}

int vgpu_hello_req_get(struct vgpu_rbuf *r, struct vgpu_hello_req *h)
{
	h->min_version = vgpu_get_u16(r);
	h->max_version = vgpu_get_u16(r);
	h->gpu = vgpu_get_u32(r);
	h->features = vgpu_get_u64(r);
	vgpu_get_str(r, h->client, sizeof(h->client));
	if (!vgpu_rbuf_done(r) || h->min_version > h->max_version)
		return -EPROTO;
	return 0;
}

void vgpu_hello_resp_put(struct vgpu_wbuf *w, const struct vgpu_hello_resp *h)
{
	vgpu_put_u16(w, h->version);
	vgpu_put_u16(w, h->backend);
	vgpu_put_u32(w, h->session);
	vgpu_put_u64(w, h->features);
	vgpu_put_str(w, h->server);
}

int vgpu_hello_resp_get(struct vgpu_rbuf *r, struct vgpu_hello_resp *h)
{
	h->version = vgpu_get_u16(r);
	h->backend = vgpu_get_u16(r);
	h->session = vgpu_get_u32(r);
	h->features = vgpu_get_u64(r);
	vgpu_get_str(r, h->server, sizeof(h->server));
	return vgpu_rbuf_done(r) ? 0 : -EPROTO;
}
