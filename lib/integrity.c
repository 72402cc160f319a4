// SPDX-License-Identifier: MIT
/*
 * integrity.c - the answer to the CUDA runtime's integrity check (export
 * table d4082055..., slot 1).  The runtime computes the same value itself and
 * refuses to work (cudaErrorSoftwareValidityNotEstablished, 103) when the
 * driver's answer differs.
 *
 * Publicly documented (ZLUDA's dark_api): the value is HMAC-MD2 (RFC 1319
 * MD2, RFC 2104 HMAC with MD2's 16-byte block) under a fixed 16-byte key, of
 * one 48-byte record
 *     u32 driver_version, u32 runtime_version, u32 pid, u32 thread,
 *     u64 cudart_table, u64 integrity_table, u64 integrity_fn, u64 unix_seconds
 * followed by one 28-byte record per device
 *     u8 uuid[16], i32 pci_domain, i32 pci_bus, i32 pci_device
 * all little-endian; the 16-byte digest is returned as two u64.  Runtime
 * versions ending in 0 or 1 get fixed answers instead.  This file is an
 * independent implementation from those facts.
 */
#include "lib/export.h"

#include <string.h>

/* MD2's substitution table: digits of pi (RFC 1319, section 3.2). */
static const uint8_t md2_s[256] = {
	0x29, 0x2e, 0x43, 0xc9, 0xa2, 0xd8, 0x7c, 0x01, 0x3d, 0x36, 0x54, 0xa1, 0xec, 0xf0, 0x06, 0x13,
	0x62, 0xa7, 0x05, 0xf3, 0xc0, 0xc7, 0x73, 0x8c, 0x98, 0x93, 0x2b, 0xd9, 0xbc, 0x4c, 0x82, 0xca,
	0x1e, 0x9b, 0x57, 0x3c, 0xfd, 0xd4, 0xe0, 0x16, 0x67, 0x42, 0x6f, 0x18, 0x8a, 0x17, 0xe5, 0x12,
	0xbe, 0x4e, 0xc4, 0xd6, 0xda, 0x9e, 0xde, 0x49, 0xa0, 0xfb, 0xf5, 0x8e, 0xbb, 0x2f, 0xee, 0x7a,
	0xa9, 0x68, 0x79, 0x91, 0x15, 0xb2, 0x07, 0x3f, 0x94, 0xc2, 0x10, 0x89, 0x0b, 0x22, 0x5f, 0x21,
	0x80, 0x7f, 0x5d, 0x9a, 0x5a, 0x90, 0x32, 0x27, 0x35, 0x3e, 0xcc, 0xe7, 0xbf, 0xf7, 0x97, 0x03,
	0xff, 0x19, 0x30, 0xb3, 0x48, 0xa5, 0xb5, 0xd1, 0xd7, 0x5e, 0x92, 0x2a, 0xac, 0x56, 0xaa, 0xc6,
	0x4f, 0xb8, 0x38, 0xd2, 0x96, 0xa4, 0x7d, 0xb6, 0x76, 0xfc, 0x6b, 0xe2, 0x9c, 0x74, 0x04, 0xf1,
	0x45, 0x9d, 0x70, 0x59, 0x64, 0x71, 0x87, 0x20, 0x86, 0x5b, 0xcf, 0x65, 0xe6, 0x2d, 0xa8, 0x02,
	0x1b, 0x60, 0x25, 0xad, 0xae, 0xb0, 0xb9, 0xf6, 0x1c, 0x46, 0x61, 0x69, 0x34, 0x40, 0x7e, 0x0f,
	0x55, 0x47, 0xa3, 0x23, 0xdd, 0x51, 0xaf, 0x3a, 0xc3, 0x5c, 0xf9, 0xce, 0xba, 0xc5, 0xea, 0x26,
	0x2c, 0x53, 0x0d, 0x6e, 0x85, 0x28, 0x84, 0x09, 0xd3, 0xdf, 0xcd, 0xf4, 0x41, 0x81, 0x4d, 0x52,
	0x6a, 0xdc, 0x37, 0xc8, 0x6c, 0xc1, 0xab, 0xfa, 0x24, 0xe1, 0x7b, 0x08, 0x0c, 0xbd, 0xb1, 0x4a,
	0x78, 0x88, 0x95, 0x8b, 0xe3, 0x63, 0xe8, 0x6d, 0xe9, 0xcb, 0xd5, 0xfe, 0x3b, 0x00, 0x1d, 0x39,
	0xf2, 0xef, 0xb7, 0x0e, 0x66, 0x58, 0xd0, 0xe4, 0xa6, 0x77, 0x72, 0xf8, 0xeb, 0x75, 0x4b, 0x0a,
	0x31, 0x44, 0x50, 0xb4, 0x8f, 0xed, 0x1f, 0x1a, 0xdb, 0x99, 0x8d, 0x33, 0x9f, 0x11, 0x83, 0x14,
};

/* The HMAC key and the fixed answers, as the runtime expects them. */
static const uint8_t hmac_key[16] = {
	0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
	0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f,
};
static const uint64_t fixed_answer[2][2] = {
	{ 0x3341181c03cb675cull, 0x8ed383aa1f4cd1e8ull },	/* version % 10 == 0 */
	{ 0x1841181c03cb675cull, 0x8ed383aa1f4cd1e8ull },	/* version % 10 == 1 */
};

struct md2 {
	uint8_t x[48];		/* state, block, state ^ block */
	uint8_t c[16];		/* checksum */
	uint8_t l;		/* last checksum byte */
	unsigned int n;		/* bytes in the current block */
};

static void md2_init(struct md2 *m)
{
	memset(m, 0, sizeof(*m));
}

static void md2_compress(struct md2 *m)
{
	uint8_t t = 0;

	for (int j = 0; j < 18; j++) {
		for (int k = 0; k < 48; k++)
			t = m->x[k] ^= md2_s[t];
		t = (uint8_t)(t + j);
	}
}

static void md2_byte(struct md2 *m, uint8_t b)
{
	m->x[16 + m->n] = b;
	m->x[32 + m->n] = m->x[m->n] ^ b;
	m->l = m->c[m->n] ^= md2_s[b ^ m->l];
	if (++m->n == 16) {
		m->n = 0;
		md2_compress(m);
	}
}

static void md2_update(struct md2 *m, const void *p, size_t len, uint8_t xor_mask)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		md2_byte(m, b[i] ^ xor_mask);
}

static void md2_final(struct md2 *m, uint8_t out[16])
{
	uint8_t pad = (uint8_t)(16 - m->n), c[16];

	for (int i = 0; i < pad; i++)
		md2_byte(m, pad);
	memcpy(c, m->c, sizeof(c));	/* the checksum as it was before it is hashed */
	md2_update(m, c, sizeof(c), 0);
	memcpy(out, m->x, 16);
}

void vgpu_md2(const void *p, size_t len, uint8_t out[16])
{
	struct md2 m;

	md2_init(&m);
	md2_update(&m, p, len, 0);
	md2_final(&m, out);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void vgpu_integrity_hash(const struct vgpu_integrity_in *in, const struct vgpu_hash_dev *devs,
			 unsigned int ndev, uint64_t out[2])
{
	uint8_t rec[48], dev[28], inner[16], outer[16];
	struct md2 m;

	if (in->runtime_version % 10 <= 1) {
		out[0] = fixed_answer[in->runtime_version % 10][0];
		out[1] = fixed_answer[in->runtime_version % 10][1];
		return;
	}
	put_le(rec + 0, in->driver_version, 4);
	put_le(rec + 4, in->runtime_version, 4);
	put_le(rec + 8, in->pid, 4);
	put_le(rec + 12, in->thread, 4);
	put_le(rec + 16, in->cudart_table, 8);
	put_le(rec + 24, in->integrity_table, 8);
	put_le(rec + 32, in->integrity_fn, 8);
	put_le(rec + 40, in->unix_seconds, 8);

	md2_init(&m);
	md2_update(&m, hmac_key, sizeof(hmac_key), 0x36);
	md2_update(&m, rec, sizeof(rec), 0);
	for (unsigned int i = 0; i < ndev; i++) {
		memcpy(dev, devs[i].uuid, 16);
		put_le(dev + 16, (uint32_t)devs[i].pci_domain, 4);
		put_le(dev + 20, (uint32_t)devs[i].pci_bus, 4);
		put_le(dev + 24, (uint32_t)devs[i].pci_device, 4);
		md2_update(&m, dev, sizeof(dev), 0);
	}
	md2_final(&m, inner);

	md2_init(&m);
	md2_update(&m, hmac_key, sizeof(hmac_key), 0x5c);
	md2_update(&m, inner, sizeof(inner), 0);
	md2_final(&m, outer);
	out[0] = out[1] = 0;
	for (int i = 7; i >= 0; i--) {
		out[0] = out[0] << 8 | outer[i];
		out[1] = out[1] << 8 | outer[8 + i];
	}
}
