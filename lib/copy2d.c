// SPDX-License-Identifier: MIT
/*
 * copy2d.c - pitched memory: cuMemAllocPitch, 2D and 3D copies, 2D memsets.
 *
 * A pitched copy is a set of rows; where both sides are contiguous it is
 * sent as one copy, otherwise one row at a time through the ordinary copy
 * calls (each row its own request: correct, not fast).  Host, device and
 * unified (told apart with ranges.c) operands are supported; CUDA arrays
 * are not (CUDA_ERROR_NOT_SUPPORTED), as arrays do not exist here yet.
 */
#include "lib/driver.h"
#include "lib/graph.h"

#include <string.h>

#define PITCH_ALIGN	512	/* what the real driver hands out on sm_70 and later */

CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height,
			    unsigned int elem_size)
{
	size_t p;
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!dptr || !pitch || !width || !height ||
	    (elem_size != 4 && elem_size != 8 && elem_size != 16))
		return CUDA_ERROR_INVALID_VALUE;
	p = (width + PITCH_ALIGN - 1) / PITCH_ALIGN * PITCH_ALIGN;
	if (p < width || height > SIZE_MAX / p)
		return CUDA_ERROR_INVALID_VALUE;
	rc = cuMemAlloc_v2(dptr, p * height);
	if (!rc)
		*pitch = p;
	return rc;
}

/* One operand of a pitched copy. */
struct side {
	bool dev;
	uint64_t base;		/* host pointer or device address of the whole (x, y, z = 0) */
	size_t pitch;		/* bytes per row */
	size_t height;		/* rows per slice (3D) */
};

static CUresult side_of(struct side *s, CUmemorytype type, const void *host, CUdeviceptr dev,
			size_t x, size_t y, size_t z, size_t pitch, size_t height)
{
	switch (type) {
	case CU_MEMORYTYPE_HOST:
		s->dev = false;
		s->base = (uintptr_t)host;
		break;
	case CU_MEMORYTYPE_DEVICE:
		s->dev = true;
		s->base = dev;
		break;
	case CU_MEMORYTYPE_UNIFIED:
		s->dev = vgpu_range_find(&vgpu_dev_ranges, dev, NULL);
		s->base = dev;
		break;
	case CU_MEMORYTYPE_ARRAY:
		return CUDA_ERROR_NOT_SUPPORTED;
	default:
		return CUDA_ERROR_INVALID_VALUE;
	}
	if (!s->base)
		return CUDA_ERROR_INVALID_VALUE;
	s->pitch = pitch;
	s->height = height;
	s->base += x + (y + z * height) * pitch;
	return CUDA_SUCCESS;
}

/* One contiguous piece, in whichever direction. */
static CUresult copy_piece(const struct side *d, uint64_t doff, const struct side *s,
			   uint64_t soff, size_t n, CUstream stream)
{
	uint64_t dst = d->base + doff, src = s->base + soff;

	if (d->dev && s->dev)
		return cuMemcpyDtoDAsync_v2(dst, src, n, stream);
	if (d->dev)
		return cuMemcpyHtoDAsync_v2(dst, (const void *)(uintptr_t)src, n, stream);
	if (s->dev)
		return cuMemcpyDtoHAsync_v2((void *)(uintptr_t)dst, src, n, stream);
	memmove((void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n);
	return CUDA_SUCCESS;
}

static CUresult copy_box(const struct side *d, const struct side *s, size_t width,
			 size_t height, size_t depth, CUstream stream)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (!width || !height || !depth)
		return CUDA_SUCCESS;
	if ((height > 1 || depth > 1) && (width > d->pitch || width > s->pitch))
		return CUDA_ERROR_INVALID_VALUE;
	if (depth > 1 && (height > d->height || height > s->height))
		return CUDA_ERROR_INVALID_VALUE;
	/* both sides one run of bytes: one copy */
	if ((height == 1 || (d->pitch == width && s->pitch == width)) &&
	    (depth == 1 || (d->height == height && s->height == height)))
		return copy_piece(d, 0, s, 0, width * height * depth, stream);
	if (!d->dev && !s->dev) {
		rc = cuStreamSynchronize(stream);	/* host rows: after the stream's work */
		if (rc)
			return rc;
	}
	for (size_t z = 0; z < depth; z++) {
		for (size_t y = 0; y < height; y++) {
			rc = copy_piece(d, (z * d->height + y) * d->pitch, s,
					(z * s->height + y) * s->pitch, width, stream);
			if (rc)
				return rc;
		}
	}
	return CUDA_SUCCESS;
}

CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *p, CUstream stream)
{
	struct side s, d;
	CUresult rc;

	if (!p)
		return CUDA_ERROR_INVALID_VALUE;
	if (vgpu_capturing(stream)) {
		CUDA_MEMCPY3D p3 = {
			.srcXInBytes = p->srcXInBytes, .srcY = p->srcY,
			.srcMemoryType = p->srcMemoryType, .srcHost = p->srcHost,
			.srcDevice = p->srcDevice, .srcArray = p->srcArray, .srcPitch = p->srcPitch,
			.dstXInBytes = p->dstXInBytes, .dstY = p->dstY,
			.dstMemoryType = p->dstMemoryType, .dstHost = p->dstHost,
			.dstDevice = p->dstDevice, .dstArray = p->dstArray, .dstPitch = p->dstPitch,
			.WidthInBytes = p->WidthInBytes, .Height = p->Height, .Depth = 1,
		};

		return vgpu_capture_add(stream, CU_GRAPH_NODE_TYPE_MEMCPY, &p3);
	}
	rc = side_of(&s, p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes, p->srcY, 0,
		     p->srcPitch ? p->srcPitch : p->WidthInBytes, 0);
	if (!rc)
		rc = side_of(&d, p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
			     p->dstY, 0, p->dstPitch ? p->dstPitch : p->WidthInBytes, 0);
	return rc ? rc : copy_box(&d, &s, p->WidthInBytes, p->Height, 1, stream);
}

CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *p)
{
	return cuMemcpy2DAsync_v2(p, NULL);
}

CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *p)
{
	return cuMemcpy2DAsync_v2(p, NULL);
}

CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *p, CUstream stream)
{
	struct side s, d;
	CUresult rc;

	if (!p || p->reserved0 || p->reserved1 || p->srcLOD || p->dstLOD)
		return CUDA_ERROR_INVALID_VALUE;
	if (vgpu_capturing(stream))
		return vgpu_capture_add(stream, CU_GRAPH_NODE_TYPE_MEMCPY, p);
	rc = side_of(&s, p->srcMemoryType, p->srcHost, p->srcDevice, p->srcXInBytes, p->srcY,
		     p->srcZ, p->srcPitch ? p->srcPitch : p->WidthInBytes,
		     p->srcHeight ? p->srcHeight : p->Height);
	if (!rc)
		rc = side_of(&d, p->dstMemoryType, p->dstHost, p->dstDevice, p->dstXInBytes,
			     p->dstY, p->dstZ, p->dstPitch ? p->dstPitch : p->WidthInBytes,
			     p->dstHeight ? p->dstHeight : p->Height);
	return rc ? rc : copy_box(&d, &s, p->WidthInBytes, p->Height, p->Depth, stream);
}

CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D *p)
{
	return cuMemcpy3DAsync_v2(p, NULL);
}

/* ---- 2D memsets: one memset when the rows touch, else one per row ----- */

static CUresult memset_2d(CUdeviceptr dst, size_t pitch, uint32_t value, unsigned int elem,
			  size_t width, size_t height, CUstream s)
{
	CUresult rc = vgpu_initialized();

	if (rc)
		return rc;
	if (height > 1 && width * elem > pitch)
		return CUDA_ERROR_INVALID_VALUE;
	if (height > 1 && pitch % elem)
		return CUDA_ERROR_INVALID_VALUE;
	if (vgpu_capturing(s) && width && height) {
		CUDA_MEMSET_NODE_PARAMS p = {
			.dst = dst, .pitch = pitch, .value = value, .elementSize = elem,
			.width = width, .height = height,
		};

		return vgpu_capture_add(s, CU_GRAPH_NODE_TYPE_MEMSET, &p);
	}
	if (height == 1 || pitch == width * elem) {
		width *= height;
		height = 1;
	}
	for (size_t y = 0; y < height; y++) {
		CUdeviceptr row = dst + y * pitch;

		rc = elem == 1 ? cuMemsetD8Async(row, (unsigned char)value, width, s) :
		     elem == 2 ? cuMemsetD16Async(row, (unsigned short)value, width, s) :
				 cuMemsetD32Async(row, value, width, s);
		if (rc)
			return rc;
	}
	return CUDA_SUCCESS;
}

CUresult cuMemsetD2D8Async(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h,
			   CUstream s)
{
	return memset_2d(d, pitch, v, 1, w, h, s);
}

CUresult cuMemsetD2D16Async(CUdeviceptr d, size_t pitch, unsigned short v, size_t w, size_t h,
			    CUstream s)
{
	return memset_2d(d, pitch, v, 2, w, h, s);
}

CUresult cuMemsetD2D32Async(CUdeviceptr d, size_t pitch, unsigned int v, size_t w, size_t h,
			    CUstream s)
{
	return memset_2d(d, pitch, v, 4, w, h, s);
}

CUresult cuMemsetD2D8_v2(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h)
{
	return memset_2d(d, pitch, v, 1, w, h, NULL);
}

CUresult cuMemsetD2D16_v2(CUdeviceptr d, size_t pitch, unsigned short v, size_t w, size_t h)
{
	return memset_2d(d, pitch, v, 2, w, h, NULL);
}

CUresult cuMemsetD2D32_v2(CUdeviceptr d, size_t pitch, unsigned int v, size_t w, size_t h)
{
	return memset_2d(d, pitch, v, 4, w, h, NULL);
}

/* ---- per-thread default stream forms (see variants.c) ------------------ */
#define FORWARD(name, target, params, args) \
	CUresult name params; CUresult name params { return target args; }

FORWARD(cuMemcpy2D_v2_ptds, cuMemcpy2D_v2, (const CUDA_MEMCPY2D *p), (p))
FORWARD(cuMemcpy2DUnaligned_v2_ptds, cuMemcpy2DUnaligned_v2, (const CUDA_MEMCPY2D *p), (p))
FORWARD(cuMemcpy2DAsync_v2_ptsz, cuMemcpy2DAsync_v2, (const CUDA_MEMCPY2D *p, CUstream s),
	(p, s))
FORWARD(cuMemcpy3D_v2_ptds, cuMemcpy3D_v2, (const CUDA_MEMCPY3D *p), (p))
FORWARD(cuMemcpy3DAsync_v2_ptsz, cuMemcpy3DAsync_v2, (const CUDA_MEMCPY3D *p, CUstream s),
	(p, s))
FORWARD(cuMemsetD2D8_v2_ptds, cuMemsetD2D8_v2,
	(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h), (d, pitch, v, w, h))
FORWARD(cuMemsetD2D16_v2_ptds, cuMemsetD2D16_v2,
	(CUdeviceptr d, size_t pitch, unsigned short v, size_t w, size_t h), (d, pitch, v, w, h))
FORWARD(cuMemsetD2D32_v2_ptds, cuMemsetD2D32_v2,
	(CUdeviceptr d, size_t pitch, unsigned int v, size_t w, size_t h), (d, pitch, v, w, h))
FORWARD(cuMemsetD2D8Async_ptsz, cuMemsetD2D8Async,
	(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h, CUstream s),
	(d, pitch, v, w, h, s))
FORWARD(cuMemsetD2D16Async_ptsz, cuMemsetD2D16Async,
	(CUdeviceptr d, size_t pitch, unsigned short v, size_t w, size_t h, CUstream s),
	(d, pitch, v, w, h, s))
FORWARD(cuMemsetD2D32Async_ptsz, cuMemsetD2D32Async,
	(CUdeviceptr d, size_t pitch, unsigned int v, size_t w, size_t h, CUstream s),
	(d, pitch, v, w, h, s))
