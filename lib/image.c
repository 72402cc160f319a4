// SPDX-License-Identifier: MIT
/*
 * image.c - what a module image passed by pointer is, and how long.
 *
 * cuModuleLoadData and friends get only a pointer; the server needs the
 * bytes.  Recognised, by their first word:
 *   fatbin wrapper (0x466243b1, __fatBinC_Wrapper_t): {magic, version,
 *       data, filename}; data points at a fatbin, which is what is sent
 *   fatbin (0xBA55ED50): {u32 magic, u16 version, u16 header_size,
 *       u64 fat_size}: header_size + fat_size bytes
 *   ELF (cubin): the end of the furthest of the ELF header, program and
 *       section header tables, sections with file contents and segments
 *   anything else: NUL-terminated text (PTX, sim images), NUL included
 * Headers are read with memcpy: nothing here assumes alignment.
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <elf.h>
#include <string.h>

#define FATBIN_WRAPPER_MAGIC	0x466243b1u
#define FATBIN_MAGIC		0xba55ed50u
#define IMAGE_MAX		(1ull << 31)	/* beyond this it is garbage */

struct fatbin_wrapper {
	int magic;
	int version;
	const void *data;
	const void *filename_or_fatbins;
};

/*
 * Does p start with the 4 bytes of magic (little-endian)?  Compared byte by
 * byte: no magic byte is 0, so a short string is never read past its NUL.
 */
static bool has_magic(const uint8_t *p, uint32_t magic)
{
	for (int i = 0; i < 4; i++)
		if (p[i] != ((magic >> (8 * i)) & 0xff))
			return false;
	return true;
}

static uint64_t fatbin_size(const uint8_t *p)
{
	uint16_t hsize;
	uint64_t fsize;

	memcpy(&hsize, p + 6, sizeof(hsize));
	memcpy(&fsize, p + 8, sizeof(fsize));
	if (hsize < 16 || fsize > IMAGE_MAX)
		return 0;
	return hsize + fsize;
}

static void grow_to(uint64_t *end, uint64_t off, uint64_t len)
{
	if (off + len < off)	/* overflow: make the result absurd */
		*end = UINT64_MAX;
	else if (off + len > *end)
		*end = off + len;
}

static uint64_t elf_size(const uint8_t *p)
{
	Elf64_Ehdr eh;
	uint64_t end, shnum;

	if (p[EI_CLASS] != ELFCLASS64 || p[EI_DATA] != ELFDATA2LSB)
		return 0;
	memcpy(&eh, p, sizeof(eh));
	end = eh.e_ehsize > sizeof(eh) ? eh.e_ehsize : sizeof(eh);

	if (eh.e_phoff && eh.e_phnum) {
		if (eh.e_phentsize < sizeof(Elf64_Phdr))
			return 0;
		grow_to(&end, eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize);
		if (end > IMAGE_MAX)
			return 0;
		for (unsigned int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;

			memcpy(&ph, p + eh.e_phoff + (uint64_t)i * eh.e_phentsize, sizeof(ph));
			grow_to(&end, ph.p_offset, ph.p_filesz);
		}
	}

	shnum = eh.e_shnum;
	if (eh.e_shoff) {
		if (eh.e_shentsize < sizeof(Elf64_Shdr) || eh.e_shoff > IMAGE_MAX)
			return 0;
		if (!shnum) {	/* extended numbering: the count is in section 0 */
			Elf64_Shdr sh0;

			memcpy(&sh0, p + eh.e_shoff, sizeof(sh0));
			shnum = sh0.sh_size;
		}
		grow_to(&end, eh.e_shoff, shnum * eh.e_shentsize);
		if (end > IMAGE_MAX)
			return 0;
		for (uint64_t i = 0; i < shnum; i++) {
			Elf64_Shdr sh;

			memcpy(&sh, p + eh.e_shoff + i * eh.e_shentsize, sizeof(sh));
			if (sh.sh_type != SHT_NOBITS)
				grow_to(&end, sh.sh_offset, sh.sh_size);
		}
	}
	return end > IMAGE_MAX ? 0 : end;
}

const void *vgpu_image_locate(const void *image, size_t *size)
{
	const uint8_t *p = image;
	uint64_t n;

	if (!p)
		return NULL;
	if (has_magic(p, FATBIN_WRAPPER_MAGIC)) {
		struct fatbin_wrapper fw;

		memcpy(&fw, p, sizeof(fw));
		p = fw.data;
		if (!p || !has_magic(p, FATBIN_MAGIC))
			return NULL;
	}
	if (has_magic(p, FATBIN_MAGIC))
		n = fatbin_size(p);
	else if (has_magic(p, ELFMAG0 | 'E' << 8 | 'L' << 16 | (uint32_t)'F' << 24))
		n = elf_size(p);
	else
		n = p[0] ? strlen((const char *)p) + 1 : 0;
	if (!n || n > IMAGE_MAX)
		return NULL;
	*size = (size_t)n;
	return p;
}

/*
 * Under VGPU_DEBUG: what a fatbin holds, entry by entry (kind, SM version,
 * compression, sizes), so a kernel the server cannot find can be traced to
 * what the image carried.  Entry header layout: public reverse engineering
 * (ZLUDA's dark_api): u16 kind (1 PTX, 2 ELF), u16 version, u32 header
 * size, u64 padded payload size, u32 payload size, u32 -, u32 -, u32 SM
 * version, u32 -, u32 -, u64 flags (0x2000 LZ4, 0x8000 zstd).
 */
void vgpu_image_describe(const void *image, size_t size)
{
	const uint8_t *p = image;
	uint16_t hsize;
	size_t off;

	if (!vgpu_debug_enabled() || size < 16 || !has_magic(p, FATBIN_MAGIC)) {
		vgpu_dbg("image %p: %zu bytes, %s", image, size, size >= 4 && p[0] == 0x7f ?
			 "ELF" : "not a fatbin");
		return;
	}
	memcpy(&hsize, p + 6, sizeof(hsize));
	vgpu_dbg("image %p: fatbin of %zu bytes", image, size);
	for (off = hsize; off + 64 <= size;) {
		uint16_t kind;
		uint32_t ehsize, sm, payload;
		uint64_t padded, flags;

		memcpy(&kind, p + off, 2);
		memcpy(&ehsize, p + off + 4, 4);
		memcpy(&padded, p + off + 8, 8);
		memcpy(&payload, p + off + 16, 4);
		memcpy(&sm, p + off + 28, 4);
		memcpy(&flags, p + off + 40, 8);
		vgpu_dbg("  entry at %zu: %s sm_%u payload %u flags %#llx", off,
			 kind == 1 ? "PTX" : kind == 2 ? "ELF" : "?", sm, payload,
			 (unsigned long long)flags);
		if (!ehsize || ehsize + padded < ehsize || padded > size)
			break;
		off += ehsize + padded;
	}
}
