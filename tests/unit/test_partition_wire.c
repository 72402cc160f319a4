// SPDX-License-Identifier: MIT
/*
 * test_partition_wire.c - the bodies of the partition ops 57-61
 * (common/partition_wire.c): every request and response round trip, the
 * name rule, and malformed input (truncated anywhere, trailing bytes,
 * over-long strings, counts larger than the body, values out of range).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/partition.h"

static void test_name_rule(void **state)
{
	static const char *good[] = { "a", "Z", "0", "train-1", "a.b_c-D", "...", "-",
				      "0123456789abcdefghijABCDEFGHIJ_" };
	static const char *bad[] = { "", " ", "a b", "a/b", "a:b", "caf\xc3\xa9", "x\ty",
				     "0123456789abcdefghijABCDEFGHIJ_x", "a\n" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(vgpu_partition_name_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(vgpu_partition_name_ok(bad[i]));
}

/* Every proper prefix of a good body is malformed. */
#define EXPECT_TRUNCATED(w, decode, out)					\
	do {									\
		for (size_t n_ = 0; n_ < (w).len; n_++) {			\
			struct vgpu_rbuf r_;					\
										\
			vgpu_rbuf_init(&r_, (w).buf, n_);			\
			assert_int_equal(decode(&r_, out), -EPROTO);		\
		}								\
	} while (0)

/* A good body with a byte more is malformed. */
#define EXPECT_TRAILING(w, decode, out)						\
	do {									\
		struct vgpu_rbuf r_;						\
										\
		vgpu_put_u8(&(w), 0);						\
		vgpu_rbuf_init(&r_, (w).buf, (w).len);				\
		assert_int_equal(decode(&r_, out), -EPROTO);			\
	} while (0)

static void test_name_body(void **state)
{
	char name[VGPU_PARTITION_NAME_MAX + 1], longer[300];
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, "train-1");
	assert_int_equal(w.len, 4 + 7);
	assert_memory_equal(w.buf, "\7\0\0\0train-1", 11);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), 0);
	assert_string_equal(name, "train-1");
	EXPECT_TRUNCATED(w, vgpu_partition_name_get, name);
	EXPECT_TRAILING(w, vgpu_partition_name_get, name);
	vgpu_wbuf_free(&w);

	/* well formed, bad names: -EINVAL (answered, not a protocol error) */
	vgpu_wbuf_init(&w);
	vgpu_partition_name_put(&w, "0123456789abcdefghijABCDEFGHIJ_x");
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), -EINVAL);
	vgpu_wbuf_reset(&w);
	vgpu_partition_name_put(&w, "");
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), -EINVAL);
	vgpu_wbuf_reset(&w);
	vgpu_put_bytes(&w, "a\0b", 3);		/* embedded NUL */
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), -EPROTO);
	/* over the protocol's 255 bytes: malformed */
	vgpu_wbuf_reset(&w);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	vgpu_partition_name_put(&w, longer);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), -EPROTO);
	/* a length past the body */
	vgpu_wbuf_reset(&w);
	vgpu_put_u32(&w, 0xffffffffu);
	vgpu_put_raw(&w, "abc", 3);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_name_get(&r, name), -EPROTO);
	vgpu_wbuf_free(&w);
}

static void test_attach_resp(void **state)
{
	struct vgpu_partition_attach_resp a = { .id = 7, .gpu = 2, .mem_limit = 0x123456789ull,
						.compute_share = 100, .priority = 7 }, b;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	vgpu_wbuf_init(&w);
	vgpu_partition_attach_resp_put(&w, &a);
	assert_int_equal(w.len, 4 + 4 + 8 + 4 + 4);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_attach_resp_get(&r, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	EXPECT_TRUNCATED(w, vgpu_partition_attach_resp_get, &b);
	EXPECT_TRAILING(w, vgpu_partition_attach_resp_get, &b);
	/* values a server may not send */
	for (int i = 0; i < 4; i++) {
		struct vgpu_partition_attach_resp c = a;

		if (i == 0)
			c.compute_share = 0;
		else if (i == 1)
			c.compute_share = 101;
		else if (i == 2)
			c.priority = 8;
		else
			c.mem_limit = 0;
		vgpu_wbuf_reset(&w);
		vgpu_partition_attach_resp_put(&w, &c);
		vgpu_rbuf_init(&r, w.buf, w.len);
		assert_int_equal(vgpu_partition_attach_resp_get(&r, &b), -EINVAL);
	}
	vgpu_wbuf_free(&w);
}

static int create_get(const struct vgpu_partition_create_req *c)
{
	struct vgpu_partition_create_req out;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	int ret;

	vgpu_wbuf_init(&w);
	vgpu_partition_create_req_put(&w, c);
	vgpu_rbuf_init(&r, w.buf, w.len);
	ret = vgpu_partition_create_req_get(&r, &out);
	if (!ret) {
		assert_string_equal(c->name, out.name);
		assert_int_equal(c->gpu, out.gpu);
		assert_true(c->mem_bytes == out.mem_bytes);
		assert_int_equal(c->mem_pct, out.mem_pct);
		assert_int_equal(c->compute_share, out.compute_share);
		assert_int_equal(c->priority, out.priority);
	}
	vgpu_wbuf_free(&w);
	return ret;
}

static void test_create_req(void **state)
{
	struct vgpu_partition_create_req c = { .name = "infer", .gpu = 1, .mem_bytes = 4ull << 30,
					       .compute_share = 25, .priority = 2 }, b;
	struct vgpu_wbuf w;

	assert_int_equal(create_get(&c), 0);
	c.mem_bytes = 0;
	c.mem_pct = 100;
	assert_int_equal(create_get(&c), 0);
	c.mem_pct = 0;				/* neither bytes nor percent */
	assert_int_equal(create_get(&c), -EINVAL);
	c.mem_pct = 101;
	assert_int_equal(create_get(&c), -EINVAL);
	c.mem_pct = 10;
	c.compute_share = 0;
	assert_int_equal(create_get(&c), -EINVAL);
	c.compute_share = 101;
	assert_int_equal(create_get(&c), -EINVAL);
	c.compute_share = 1;
	c.priority = 8;
	assert_int_equal(create_get(&c), -EINVAL);
	c.priority = 0;
	strcpy(c.name, "no way");
	assert_int_equal(create_get(&c), -EINVAL);
	strcpy(c.name, "ok");
	assert_int_equal(create_get(&c), 0);

	vgpu_wbuf_init(&w);
	vgpu_partition_create_req_put(&w, &c);
	assert_int_equal(w.len, 4 + 2 + 4 + 8 + 4 + 4 + 4);
	EXPECT_TRUNCATED(w, vgpu_partition_create_req_get, &b);
	EXPECT_TRAILING(w, vgpu_partition_create_req_get, &b);
	vgpu_wbuf_free(&w);
}

static void test_resize_req(void **state)
{
	struct vgpu_partition_resize_req q = { .name = "a", .mem_bytes = 1 << 20 }, b;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	memset(&b, 0, sizeof(b));	/* the name's bytes after its NUL are compared too */
	vgpu_wbuf_init(&w);
	vgpu_partition_resize_req_put(&w, &q);
	assert_int_equal(w.len, 4 + 1 + 8 + 4 + 4);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_resize_req_get(&r, &b), 0);
	assert_memory_equal(&q, &b, sizeof(q));
	EXPECT_TRUNCATED(w, vgpu_partition_resize_req_get, &b);
	EXPECT_TRAILING(w, vgpu_partition_resize_req_get, &b);

	/* 0 keeps a field: all zero is well formed */
	q.mem_bytes = 0;
	assert_int_equal(vgpu_partition_resize_req_check(&q), 0);
	q.compute_share = 101;
	vgpu_wbuf_reset(&w);
	vgpu_partition_resize_req_put(&w, &q);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_resize_req_get(&r, &b), -EINVAL);
	q.compute_share = 0;
	q.mem_pct = 101;
	assert_int_equal(vgpu_partition_resize_req_check(&q), -EINVAL);
	vgpu_wbuf_free(&w);
}

static struct vgpu_partition_list_gpu gpus[2] = {
	{ .index = 0, .name = "NVIDIA H100 80GB HBM3", .total_mem = 80ull << 30,
	  .free_mem = 70ull << 30, .mem_pct_granted = 55, .compute_pct_granted = 60 },
	{ .index = 1, .name = "vgpu-sim", .total_mem = 256 << 20, .free_mem = 256 << 20 },
};
static struct vgpu_partition_list_entry parts[3] = {
	{ .id = 1, .name = "train", .gpu = 0, .mem_limit = 35ull << 30, .mem_used = 1 << 30,
	  .compute_share = 40, .priority = 4, .sessions = 2 },
	{ .id = 2, .name = "infer", .gpu = 0, .mem_limit = 16ull << 30, .compute_share = 20 },
	{ .id = 9, .name = "x", .gpu = 1, .mem_limit = 1 << 20, .compute_share = 1,
	  .priority = 7 },
};

static void test_list(void **state)
{
	struct vgpu_partition_list l = { .ngpu = 2, .gpus = gpus, .npart = 3, .parts = parts };
	struct vgpu_partition_list e = { 0 }, out;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	vgpu_wbuf_init(&w);
	vgpu_partition_list_put(&w, &l);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_list_get(&r, &out), 0);
	assert_int_equal(out.ngpu, 2);
	assert_int_equal(out.npart, 3);
	assert_memory_equal(out.gpus, gpus, sizeof(gpus));
	assert_memory_equal(out.parts, parts, sizeof(parts));
	vgpu_partition_list_free(&out);
	assert_null(out.gpus);
	EXPECT_TRUNCATED(w, vgpu_partition_list_get, &out);
	EXPECT_TRAILING(w, vgpu_partition_list_get, &out);

	/* empty */
	vgpu_wbuf_reset(&w);
	vgpu_partition_list_put(&w, &e);
	assert_int_equal(w.len, 8);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_list_get(&r, &out), 0);
	assert_int_equal(out.ngpu + out.npart, 0);
	vgpu_partition_list_free(&out);

	/* counts the body cannot hold: refused before anything is allocated */
	vgpu_wbuf_reset(&w);
	vgpu_put_u32(&w, 0xffffffffu);
	vgpu_put_u32(&w, 0);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_list_get(&r, &out), -EPROTO);
	assert_null(out.gpus);
	vgpu_wbuf_reset(&w);
	vgpu_put_u32(&w, 0);
	vgpu_put_u32(&w, 1000000);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_list_get(&r, &out), -EPROTO);
	vgpu_wbuf_free(&w);
}

/* LIST entries a server may not send: -EINVAL, nothing left allocated. */
static void test_list_bad_values(void **state)
{
	struct vgpu_partition_list_entry many[VGPU_PARTITIONS_MAX + 1];
	struct vgpu_partition_list l = { .ngpu = 2, .gpus = gpus, .npart = 3, .parts = parts };
	struct vgpu_partition_list out;
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;

	vgpu_wbuf_init(&w);
	for (int i = 0; i < 5; i++) {
		struct vgpu_partition_list_gpu g[2];
		struct vgpu_partition_list_entry p[3];

		memcpy(g, gpus, sizeof(g));
		memcpy(p, parts, sizeof(p));
		l.gpus = g;
		l.parts = p;
		switch (i) {
		case 0: g[1].mem_pct_granted = 101; break;
		case 1: g[0].compute_pct_granted = 200; break;
		case 2: strcpy(p[2].name, "bad name"); break;
		case 3: p[1].compute_share = 0; break;
		case 4: p[0].priority = 8; break;
		}
		vgpu_wbuf_reset(&w);
		vgpu_partition_list_put(&w, &l);
		vgpu_rbuf_init(&r, w.buf, w.len);
		assert_int_equal(vgpu_partition_list_get(&r, &out), -EINVAL);
		assert_null(out.gpus);
		assert_null(out.parts);
	}
	/* more partitions than a server may have */
	for (int i = 0; i <= VGPU_PARTITIONS_MAX; i++)
		many[i] = parts[0];
	l = (struct vgpu_partition_list){ .npart = VGPU_PARTITIONS_MAX + 1, .parts = many };
	vgpu_wbuf_reset(&w);
	vgpu_partition_list_put(&w, &l);
	vgpu_rbuf_init(&r, w.buf, w.len);
	assert_int_equal(vgpu_partition_list_get(&r, &out), -EINVAL);
	vgpu_wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_rule),
		cmocka_unit_test(test_name_body),
		cmocka_unit_test(test_attach_resp),
		cmocka_unit_test(test_create_req),
		cmocka_unit_test(test_resize_req),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_list_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
