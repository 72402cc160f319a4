// SPDX-License-Identifier: MIT
/* test_wire.c - the protocol codec (common/wire.c, common/netio.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/proto.h"

static struct vgpu_frame_hdr sample_hdr(void)
{
	return (struct vgpu_frame_hdr){
		.magic = VGPU_PROTO_MAGIC, .version = VGPU_PROTO_VERSION,
		.op = VGPU_OP_MEMCPY_DTOH, .flags = VGPU_FRAME_F_RESP, .status = 0x11223344,
		.id = 0x0102030405060708ull, .len = 0x00abcdef & 0xffff, .reserved = 0,
	};
}

static void test_hdr_layout(void **state)
{
	struct vgpu_frame_hdr h = sample_hdr(), d;
	uint8_t b[VGPU_PROTO_HDR_SIZE];
	static const uint8_t magic[4] = { 'V', 'G', 'P', 'U' };

	vgpu_hdr_encode(&h, b);
	assert_memory_equal(b, magic, 4);
	assert_int_equal(b[4], VGPU_PROTO_VERSION);
	assert_int_equal(b[5], 0);
	assert_int_equal(b[6], VGPU_OP_MEMCPY_DTOH);
	assert_int_equal(b[7], 0);
	assert_int_equal(b[8], 1);
	assert_int_equal(b[9] | b[10] | b[11], 0);
	assert_int_equal(b[12], 0x44);
	assert_int_equal(b[13], 0x33);
	assert_int_equal(b[14], 0x22);
	assert_int_equal(b[15], 0x11);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[16 + i], 8 - i);
	assert_int_equal(b[24], h.len & 0xff);
	assert_int_equal(b[25], (h.len >> 8) & 0xff);
	assert_int_equal(b[26] | b[27], 0);
	assert_int_equal(b[28] | b[29] | b[30] | b[31], 0);

	assert_int_equal(vgpu_hdr_decode(b, VGPU_PROTO_MAX_BODY, &d, NULL), 0);
	assert_memory_equal(&h, &d, sizeof(h));
}

static int decode_mod(size_t off, uint8_t val, uint32_t max_body, const char **why)
{
	struct vgpu_frame_hdr h = sample_hdr(), d;
	uint8_t b[VGPU_PROTO_HDR_SIZE];

	vgpu_hdr_encode(&h, b);
	b[off] = val;
	return vgpu_hdr_decode(b, max_body, &d, why);
}

static void test_hdr_rejects(void **state)
{
	const char *why = NULL;
	struct vgpu_frame_hdr h = sample_hdr(), d;
	uint8_t b[VGPU_PROTO_HDR_SIZE];

	assert_int_equal(decode_mod(0, 'X', VGPU_PROTO_MAX_BODY, &why), -EPROTO);
	assert_non_null(why);
	assert_int_equal(decode_mod(28, 1, VGPU_PROTO_MAX_BODY, NULL), -EPROTO);	/* reserved */
	assert_int_equal(decode_mod(31, 0x80, VGPU_PROTO_MAX_BODY, NULL), -EPROTO);
	assert_int_equal(decode_mod(8, 4, VGPU_PROTO_MAX_BODY, NULL), -EPROTO);	/* flag bit 2 */
	assert_int_equal(decode_mod(11, 0x80, VGPU_PROTO_MAX_BODY, NULL), -EPROTO);
	assert_int_equal(decode_mod(4, 9, VGPU_PROTO_MAX_BODY, NULL), -EPROTO);	/* version */
	assert_int_equal(decode_mod(8, 2, VGPU_PROTO_MAX_BODY, NULL), 0);	/* NOREPLY ok */

	/* oversize: len just above the limit */
	h.len = VGPU_PROTO_MAX_BODY + 1;
	vgpu_hdr_encode(&h, b);
	assert_int_equal(vgpu_hdr_decode(b, VGPU_PROTO_MAX_BODY, &d, &why), -EMSGSIZE);
	h.len = VGPU_PROTO_MAX_BODY;
	vgpu_hdr_encode(&h, b);
	assert_int_equal(vgpu_hdr_decode(b, VGPU_PROTO_MAX_BODY, &d, NULL), 0);
	assert_int_equal(vgpu_hdr_decode(b, 100, &d, NULL), -EMSGSIZE);

	/* HELLO may carry any version */
	h = sample_hdr();
	h.op = VGPU_OP_HELLO;
	h.version = 77;
	vgpu_hdr_encode(&h, b);
	assert_int_equal(vgpu_hdr_decode(b, VGPU_PROTO_MAX_BODY, &d, NULL), 0);
	assert_int_equal(d.version, 77);
}

static void test_hdr_garbage(void **state)
{
	struct vgpu_frame_hdr d;
	uint8_t b[VGPU_PROTO_HDR_SIZE];
	unsigned int seed = 12345;
	int accepted = 0;

	for (int i = 0; i < 10000; i++) {
		for (size_t j = 0; j < sizeof(b); j++)
			b[j] = (uint8_t)rand_r(&seed);
		accepted += vgpu_hdr_decode(b, VGPU_PROTO_MAX_BODY, &d, NULL) == 0;
	}
	assert_int_equal(accepted, 0);	/* a random magic never matches in practice */
}

static void test_body_le(void **state)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	static const uint8_t want[] = {
		0xab,
		0x34, 0x12,
		0x78, 0x56, 0x34, 0x12,
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
		0xfe, 0xff, 0xff, 0xff,		/* i32 -2 */
		0x00, 0x00, 0xc0, 0x3f,		/* f32 1.5 */
		0x03, 0x00, 0x00, 0x00, 'a', 'b', 'c',
		0x02, 0x00, 0x00, 0x00, 0x00, 0xff,
	};
	char s[8];
	size_t n;
	const uint8_t *p;

	vgpu_wbuf_init(&w);
	vgpu_put_u8(&w, 0xab);
	vgpu_put_u16(&w, 0x1234);
	vgpu_put_u32(&w, 0x12345678);
	vgpu_put_u64(&w, 0x0123456789abcdefull);
	vgpu_put_i32(&w, -2);
	vgpu_put_f32(&w, 1.5f);
	vgpu_put_str(&w, "abc");
	vgpu_put_bytes(&w, "\x00\xff", 2);
	assert_false(w.err);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.buf, want, sizeof(want));

	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_get_u8(&r), 0xab);
	assert_int_equal(vgpu_get_u16(&r), 0x1234);
	assert_int_equal(vgpu_get_u32(&r), 0x12345678);
	assert_true(vgpu_get_u64(&r) == 0x0123456789abcdefull);
	assert_int_equal(vgpu_get_i32(&r), -2);
	assert_true(vgpu_get_f32(&r) == 1.5f);
	assert_non_null(vgpu_get_str(&r, s, sizeof(s)));
	assert_string_equal(s, "abc");
	assert_false(vgpu_rbuf_done(&r));
	p = vgpu_get_bytes(&r, &n);
	assert_non_null(p);
	assert_int_equal(n, 2);
	assert_int_equal(p[1], 0xff);
	assert_true(vgpu_rbuf_done(&r));
	vgpu_wbuf_free(&w);
}

static void test_truncated(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5, 6, 7 };
	struct vgpu_rbuf r;
	size_t n;

	/* u64 from 7 bytes */
	vgpu_rbuf_init(&r, b, sizeof(b));
	assert_true(vgpu_get_u64(&r) == 0);
	assert_true(r.err);
	assert_false(vgpu_rbuf_done(&r));
	/* the error is sticky: even a read that would fit fails */
	assert_int_equal(vgpu_get_u8(&r), 0);
	assert_true(r.err);

	/* a bytes length beyond the buffer */
	vgpu_rbuf_init(&r, b, sizeof(b));
	assert_null(vgpu_get_bytes(&r, &n));
	assert_int_equal(n, 0);
	assert_true(r.err);

	/* trailing bytes: not done */
	vgpu_rbuf_init(&r, b, sizeof(b));
	vgpu_get_u32(&r);
	assert_false(r.err);
	assert_false(vgpu_rbuf_done(&r));

	/* empty body */
	vgpu_rbuf_init(&r, NULL, 0);
	assert_true(vgpu_rbuf_done(&r));
	vgpu_get_u32(&r);
	assert_false(vgpu_rbuf_done(&r));

	/* huge length word: no wrap-around */
	{
		static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 'x' };

		vgpu_rbuf_init(&r, big, sizeof(big));
		assert_null(vgpu_get_bytes(&r, &n));
		assert_true(r.err);
	}
}

static void test_garbage_bodies(void **state)
{
	unsigned int seed = 99;
	uint8_t b[64];

	/* random bodies never make the reader walk out of bounds */
	for (int i = 0; i < 20000; i++) {
		struct vgpu_rbuf r;
		struct vgpu_hello_req hr;
		size_t len = (size_t)rand_r(&seed) % sizeof(b);
		char s[16];
		size_t n;

		for (size_t j = 0; j < len; j++)
			b[j] = (uint8_t)rand_r(&seed);
		vgpu_rbuf_init(&r, b, len);
		vgpu_get_u16(&r);
		vgpu_get_bytes(&r, &n);
		vgpu_get_str(&r, s, sizeof(s));
		assert_true(r.off <= r.len);
		vgpu_rbuf_init(&r, b, len);
		if (vgpu_hello_req_get(&r, &hr) == 0)
			assert_true(vgpu_rbuf_done(&r));
	}
}

static void put_raw_str(struct vgpu_wbuf *w, const char *p, uint32_t n)
{
	vgpu_put_u32(w, n);
	vgpu_put_raw(w, p, n);
}

static void test_strings(void **state)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	char s[8];

	vgpu_wbuf_init(&w);
	put_raw_str(&w, "ab\0cd", 5);	/* embedded NUL */
	put_raw_str(&w, "1234567", 7);	/* fits exactly (cap 8) */
	put_raw_str(&w, "12345678", 8);	/* one too long */
	put_raw_str(&w, "", 0);

	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_null(vgpu_get_str(&r, s, sizeof(s)));
	assert_true(r.err);
	assert_string_equal(s, "");

	vgpu_rbuf_init(&r, w.buf + 9, w.len - 9);
	assert_non_null(vgpu_get_str(&r, s, sizeof(s)));
	assert_string_equal(s, "1234567");
	assert_null(vgpu_get_str(&r, s, sizeof(s)));
	assert_true(r.err);

	vgpu_rbuf_init(&r, w.buf + w.len - 4, 4);
	assert_non_null(vgpu_get_str(&r, s, sizeof(s)));
	assert_string_equal(s, "");
	assert_true(vgpu_rbuf_done(&r));
	vgpu_wbuf_free(&w);
}

static void test_wbuf_limits(void **state)
{
	struct vgpu_wbuf w;
	uint8_t fixed[10];
	void *p;

	/* growable: many small puts */
	vgpu_wbuf_init(&w);
	for (int i = 0; i < 100000; i++)
		vgpu_put_u32(&w, (uint32_t)i);
	assert_false(w.err);
	assert_int_equal(w.len, 400000);
	assert_int_equal(w.buf[4 * 70000 + 1], (70000 >> 8) & 0xff);
	vgpu_wbuf_free(&w);

	/* growable: over the frame limit fails */
	vgpu_wbuf_init(&w);
	p = vgpu_put_bytes_reserve(&w, (size_t)VGPU_PROTO_MAX_BODY + 1);
	assert_null(p);
	assert_true(w.err);
	vgpu_wbuf_free(&w);

	/* fixed: exactly full is fine, one more byte fails and sticks */
	vgpu_wbuf_init_fixed(&w, fixed, sizeof(fixed));
	vgpu_put_u64(&w, 1);
	vgpu_put_u16(&w, 2);
	assert_false(w.err);
	assert_int_equal(w.len, 10);
	vgpu_put_u8(&w, 3);
	assert_true(w.err);
	assert_int_equal(w.len, 10);
	vgpu_put_u8(&w, 3);
	assert_int_equal(w.len, 10);
	vgpu_wbuf_free(&w);	/* does not free the caller's buffer */
	assert_null(w.buf);

	vgpu_wbuf_init_fixed(&w, fixed, 4);
	vgpu_put_u64(&w, 1);
	assert_true(w.err);
	assert_int_equal(w.len, 0);
}

static void test_hello_codec(void **state)
{
	struct vgpu_hello_req q = { .min_version = 1, .max_version = 3, .gpu = VGPU_GPU_ALL,
				    .features = 0x55, .client = "tester" }, q2;
	struct vgpu_hello_resp p = { .version = 1, .backend = VGPU_BACKEND_SIM, .session = 42,
				     .features = 0, .server = "srv" }, p2;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	vgpu_wbuf_init(&w);
	vgpu_hello_req_put(&w, &q);
	assert_int_equal(w.len, 2 + 2 + 4 + 8 + 4 + 6);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_hello_req_get(&r, &q2), 0);
	assert_int_equal(q2.min_version, 1);
	assert_int_equal(q2.max_version, 3);
	assert_int_equal(q2.gpu, VGPU_GPU_ALL);
	assert_true(q2.features == 0x55);
	assert_string_equal(q2.client, "tester");
	/* trailing byte */
	vgpu_put_u8(&w, 0);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_hello_req_get(&r, &q2), -EPROTO);
	/* truncated */
	vgpu_rbuf_init(&r, w.buf, 10);
	assert_int_equal(vgpu_hello_req_get(&r, &q2), -EPROTO);
	vgpu_wbuf_free(&w);

	/* min > max is refused */
	q.min_version = 4;
	vgpu_wbuf_init(&w);
	vgpu_hello_req_put(&w, &q);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_hello_req_get(&r, &q2), -EPROTO);
	vgpu_wbuf_free(&w);

	vgpu_wbuf_init(&w);
	vgpu_hello_resp_put(&w, &p);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_hello_resp_get(&r, &p2), 0);
	assert_int_equal(p2.version, 1);
	assert_int_equal(p2.backend, VGPU_BACKEND_SIM);
	assert_int_equal(p2.session, 42);
	assert_string_equal(p2.server, "srv");
	vgpu_wbuf_free(&w);
}

static void test_frame_io(void **state)
{
	struct vgpu_frame_hdr h = sample_hdr(), d;
	uint8_t body[1000];
	void *got;
	const char *why;
	int sv[2];
	uint8_t bad[VGPU_PROTO_HDR_SIZE];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	h.len = sizeof(body);
	assert_int_equal(vgpu_frame_send(sv[0], &h, body), 0);
	assert_int_equal(vgpu_frame_recv(sv[1], VGPU_PROTO_MAX_BODY, &d, &got, &why), 0);
	assert_int_equal(d.len, sizeof(body));
	assert_memory_equal(got, body, sizeof(body));
	free(got);

	/* empty body: no allocation */
	h.len = 0;
	assert_int_equal(vgpu_frame_send(sv[0], &h, NULL), 0);
	assert_int_equal(vgpu_frame_recv(sv[1], VGPU_PROTO_MAX_BODY, &d, &got, &why), 0);
	assert_null(got);

	/* a bad header is reported, not read past */
	vgpu_hdr_encode(&h, bad);
	bad[0] ^= 1;
	assert_int_equal(write(sv[0], bad, sizeof(bad)), (ssize_t)sizeof(bad));
	why = NULL;
	assert_int_equal(vgpu_frame_recv(sv[1], VGPU_PROTO_MAX_BODY, &d, &got, &why), -EPROTO);
	assert_non_null(why);

	/* EOF inside a body */
	h.len = 100;
	vgpu_hdr_encode(&h, bad);
	assert_int_equal(write(sv[0], bad, sizeof(bad)), (ssize_t)sizeof(bad));
	assert_int_equal(write(sv[0], body, 10), 10);
	close(sv[0]);
	assert_int_equal(vgpu_frame_recv(sv[1], VGPU_PROTO_MAX_BODY, &d, &got, &why), -ECONNRESET);
	assert_null(got);
	close(sv[1]);
}

static void test_op_names(void **state)
{
	assert_string_equal(vgpu_op_name(VGPU_OP_HELLO), "HELLO");
	assert_string_equal(vgpu_op_name(VGPU_OP_SERVER_STATS), "SERVER_STATS");
	assert_int_equal(VGPU_OP_SERVER_STATS, 28);
	assert_null(vgpu_op_name(0));
	assert_null(vgpu_op_name(VGPU_OP_MAX));
	assert_null(vgpu_op_name(60000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_layout),
		cmocka_unit_test(test_hdr_rejects),
		cmocka_unit_test(test_hdr_garbage),
		cmocka_unit_test(test_body_le),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_garbage_bodies),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_wbuf_limits),
		cmocka_unit_test(test_hello_codec),
		cmocka_unit_test(test_frame_io),
		cmocka_unit_test(test_op_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
