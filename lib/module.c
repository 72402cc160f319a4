// SPDX-License-Identifier: MIT
/*
 * module.c - modules, their functions and globals.
 *
 * The API passes an image by pointer only; image.c finds out what it is and
 * how long, and the bytes go to the server as they are (MODULE_LOAD).  A
 * function handle keeps the parameter layout MODULE_GET_FUNCTION returned,
 * for launch.c to pack kernel parameters with; looking the same name up
 * again returns the same handle, as the real driver does.
 */
#include "lib/driver.h"
#include "lib/debug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN	4095			/* PROTOCOL.md: str name (<= 4095) */
#define FUNC_REPLY_CAP	(12 + 8 * 8192)		/* u64, u32 n, n x {u32, u32} */

/* MODULE_LOAD: the image bytes go out as they are; the server's handle comes back. */
/*
 * An image larger than one request may carry (a ring's data area is 4 MiB
 * by default; NVIDIA's libraries hold fatbins of tens of MiB) is staged in
 * pieces with IMAGE_CHUNK and loaded with MODULE_LOAD_STAGED, under the
 * link's image lock: the server stages one image per session.
 */
static CUresult stage_image(struct vgpu_transport *tp, const uint8_t *bytes, size_t size)
{
	size_t chunk = tp->max_payload;
	CUresult rc = CUDA_SUCCESS;

	if (size > VGPU_IMAGE_MAX)
		return CUDA_ERROR_INVALID_IMAGE;
	for (size_t off = 0; off < size && !rc; off += chunk) {
		size_t k = size - off < chunk ? size - off : chunk;
		uint8_t req[24];
		struct vgpu_wbuf w;
		struct iovec iov[2];

		vgpu_wbuf_init_fixed(&w, req, sizeof(req));
		vgpu_put_u64(&w, size);
		vgpu_put_u64(&w, off);
		vgpu_put_u32(&w, (uint32_t)k);	/* "bytes data": length, then the bytes */
		iov[0] = (struct iovec){ .iov_base = req, .iov_len = w.len };
		iov[1] = (struct iovec){ .iov_base = (void *)(bytes + off), .iov_len = k };
		rc = vgpu_rpc(tp, VGPU_OP_IMAGE_CHUNK, iov, 2, NULL, 0, NULL);
	}
	return rc;
}

static CUresult send_image(struct CUctx_st *c, const void *bytes, size_t size, uint64_t *h)
{
	struct vgpu_transport *tp = vgpu_ctx_tp(c);
	uint8_t req[16], buf[8];
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	struct iovec iov[2], resp = { .iov_base = buf, .iov_len = sizeof(buf) };
	size_t len = 0;
	CUresult rc;

	vgpu_wbuf_init_fixed(&w, req, sizeof(req));
	vgpu_put_u64(&w, c->h);
	if (w.len + 4 + size <= tp->max_payload) {
		vgpu_put_u32(&w, (uint32_t)size);	/* "bytes image": length, then the bytes */
		iov[0] = (struct iovec){ .iov_base = req, .iov_len = w.len };
		iov[1] = (struct iovec){ .iov_base = (void *)bytes, .iov_len = size };
		rc = vgpu_rpc(tp, VGPU_OP_MODULE_LOAD, iov, 2, &resp, 1, &len);
	} else {
		pthread_mutex_lock(&tp->image_lock);
		rc = stage_image(tp, bytes, size);
		iov[0] = (struct iovec){ .iov_base = req, .iov_len = w.len };
		if (!rc)
			rc = vgpu_rpc(tp, VGPU_OP_MODULE_LOAD_STAGED, iov, 1, &resp, 1, &len);
		pthread_mutex_unlock(&tp->image_lock);
	}
	if (rc) {
		vgpu_dbg("module load (%zu bytes) failed: %d", size, rc);
		return rc;
	}
	vgpu_rbuf_init(&r, buf, len);
	*h = vgpu_get_u64(&r);
	return vgpu_rbuf_done(&r) ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
}

CUresult vgpu_module_load(struct CUctx_st *c, const void *image, struct CUmod_st **module)
{
	struct CUmod_st *m;
	const void *bytes;
	size_t size;
	uint64_t h;
	CUresult rc;

	if (!module || !image)
		return CUDA_ERROR_INVALID_VALUE;
	bytes = vgpu_image_locate(image, &size);
	if (!bytes || size > UINT32_MAX)
		return CUDA_ERROR_INVALID_IMAGE;
	rc = send_image(c, bytes, size, &h);
	if (rc)
		return rc;
	m = calloc(1, sizeof(*m));
	if (m) {
		m->o.type = VGPU_OBJ_MODULE;
		m->o.owner = c;
		m->h = h;
		m->ctx = c;
		pthread_mutex_init(&m->lock, NULL);
		if (vgpu_obj_register(&m->o) == 0) {
			*module = m;
			return CUDA_SUCCESS;
		}
		pthread_mutex_destroy(&m->lock);
		free(m);
	}
	vgpu_rpc_ctx_handle(VGPU_OP_MODULE_UNLOAD, c, h);
	return CUDA_ERROR_OUT_OF_MEMORY;
}

static CUresult load(CUmodule *module, const void *image)
{
	struct CUctx_st *c;
	CUresult rc = vgpu_ctx_current(&c);

	return rc ? rc : vgpu_module_load(c, image, module);
}

CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
	return load(module, image);
}

CUresult cuModuleLoadFatBinary(CUmodule *module, const void *fat_cubin)
{
	return load(module, fat_cubin);
}

/*
 * JIT options only tune or report on compilation, which happens on the
 * server: accept them and report empty logs and no time spent.
 */
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int nopts,
			    CUjit_option *opts, void **vals)
{
	if (nopts && (!opts || !vals))
		return CUDA_ERROR_INVALID_VALUE;
	for (unsigned int i = 0; i < nopts; i++) {
		switch (opts[i]) {
		case CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES:
		case CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES:
			for (unsigned int j = 0; j < nopts; j++) {
				bool info = opts[i] == CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES;
				CUjit_option buf = info ? CU_JIT_INFO_LOG_BUFFER
							: CU_JIT_ERROR_LOG_BUFFER;

				if (opts[j] == buf && vals[j] && (uintptr_t)vals[i])
					*(char *)vals[j] = '\0';
			}
			vals[i] = NULL;	/* out: bytes written */
			break;
		case CU_JIT_WALL_TIME:
			memset(&vals[i], 0, sizeof(float));
			break;
		default:
			break;
		}
	}
	return load(module, image);
}

CUresult vgpu_image_read(const char *fname, char **image)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!fname)
		return CUDA_ERROR_INVALID_VALUE;
	f = fopen(fname, "rb");
	if (!f)
		return CUDA_ERROR_FILE_NOT_FOUND;
	do {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap ? cap * 2 : 1 << 20);

			if (!nb) {
				fclose(f);
				free(buf);
				return CUDA_ERROR_OUT_OF_MEMORY;
			}
			buf = nb;
			cap = cap ? cap * 2 : 1 << 20;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	fclose(f);
	buf[len] = '\0';	/* PTX is text up to its NUL */
	*image = buf;
	return CUDA_SUCCESS;
}

CUresult cuModuleLoad(CUmodule *module, const char *fname)
{
	char *buf;
	CUresult rc = vgpu_image_read(fname, &buf);

	if (rc)
		return rc;
	rc = load(module, buf);
	free(buf);
	return rc;
}

CUresult cuModuleUnload(CUmodule m)
{
	CUresult rc = vgpu_obj_arg(m, VGPU_OBJ_MODULE);

	if (rc)
		return rc;
	return vgpu_obj_destroy(&m->o, VGPU_OP_MODULE_UNLOAD, m->ctx, m->h);
}

/* Request body {u64 ctx, u64 module, str name} in a growable buffer. */
static bool name_req(struct vgpu_wbuf *w, struct CUmod_st *m, const char *name)
{
	vgpu_wbuf_init(w);
	vgpu_put_u64(w, m->ctx->h);
	vgpu_put_u64(w, m->h);
	vgpu_put_str(w, name);
	return !w->err;
}

static CUresult parse_function(struct vgpu_rbuf *r, struct CUfunc_st *f)
{
	uint32_t n;

	f->h = vgpu_get_u64(r);
	n = vgpu_get_u32(r);
	if (r->err || n > (r->len - r->off) / 8)
		return CUDA_ERROR_UNKNOWN;
	f->params = calloc(n ? n : 1, sizeof(*f->params));
	if (!f->params)
		return CUDA_ERROR_OUT_OF_MEMORY;
	f->nparams = n;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t end;

		f->params[i].offset = vgpu_get_u32(r);
		f->params[i].size = vgpu_get_u32(r);
		end = (uint64_t)f->params[i].offset + f->params[i].size;
		if (end > UINT32_MAX)
			return CUDA_ERROR_UNKNOWN;
		if (end > f->buf_size)
			f->buf_size = (uint32_t)end;
	}
	return vgpu_rbuf_done(r) ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
}

static CUresult get_function(struct CUmod_st *m, const char *name, struct CUfunc_st **out)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	struct CUfunc_st *f;
	void *buf;
	CUresult rc;

	for (f = m->funcs; f; f = f->next) {
		if (!strcmp(f->name, name)) {
			*out = f;
			return CUDA_SUCCESS;
		}
	}
	buf = malloc(FUNC_REPLY_CAP);
	f = calloc(1, sizeof(*f));
	if (!buf || !f || !(f->name = strdup(name)) || !name_req(&w, m, name)) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out_free;
	}
	rc = vgpu_rpc_buf(vgpu_ctx_tp(m->ctx), VGPU_OP_MODULE_GET_FUNCTION, &w, buf,
			  FUNC_REPLY_CAP, &r);
	vgpu_wbuf_free(&w);
	if (rc)
		goto out_free;
	rc = parse_function(&r, f);
	if (rc)
		goto out_free;
	f->o.type = VGPU_OBJ_FUNC;
	f->o.owner = m;
	f->mod = m;
	if (vgpu_obj_register(&f->o) < 0) {
		rc = CUDA_ERROR_OUT_OF_MEMORY;
		goto out_free;
	}
	f->next = m->funcs;
	m->funcs = f;
	free(buf);
	*out = f;
	return CUDA_SUCCESS;

out_free:
	if (f) {
		free(f->name);
		free(f->params);
		free(f);
	}
	free(buf);
	return rc;
}

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule m, const char *name)
{
	CUresult rc = vgpu_obj_arg(m, VGPU_OBJ_MODULE);

	if (rc)
		return rc;
	return vgpu_module_get_function(m, name, hfunc);
}

CUresult vgpu_module_get_function(struct CUmod_st *m, const char *name, struct CUfunc_st **hfunc)
{
	CUresult rc;

	if (!hfunc || !name)
		return CUDA_ERROR_INVALID_VALUE;
	if (strlen(name) > NAME_MAX_LEN)
		return CUDA_ERROR_NOT_FOUND;
	pthread_mutex_lock(&m->lock);
	rc = get_function(m, name, hfunc);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

CUresult cuModuleGetGlobal_v2(CUdeviceptr *dptr, size_t *bytes, CUmodule m, const char *name)
{
	struct vgpu_wbuf w;
	struct vgpu_rbuf r;
	uint8_t buf[16];
	uint64_t p, size;
	CUresult rc = vgpu_obj_arg(m, VGPU_OBJ_MODULE);

	if (rc)
		return rc;
	if (!name || (!dptr && !bytes))
		return CUDA_ERROR_INVALID_VALUE;
	if (strlen(name) > NAME_MAX_LEN)
		return CUDA_ERROR_NOT_FOUND;
	if (!name_req(&w, m, name)) {
		vgpu_wbuf_free(&w);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	rc = vgpu_rpc_buf(vgpu_ctx_tp(m->ctx), VGPU_OP_MODULE_GET_GLOBAL, &w, buf, sizeof(buf), &r);
	vgpu_wbuf_free(&w);
	if (rc)
		return rc;
	p = vgpu_get_u64(&r);
	size = vgpu_get_u64(&r);
	if (!vgpu_rbuf_done(&r))
		return CUDA_ERROR_UNKNOWN;
	if (dptr)
		*dptr = p;
	if (bytes)
		*bytes = size;
	return CUDA_SUCCESS;
}
