// SPDX-License-Identifier: MIT
/*
 * transport.c - the transport-independent half of a call: choosing the
 * transport from the environment, serialising calls, turning a lost peer
 * into a dead transport, and iovec helpers.
 */
#include "lib/transport.h"
#include "lib/debug.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"

#define DEFAULT_DEVICE	"/dev/vgpu0"

void vgpu_transport_init(struct vgpu_transport *t, const struct vgpu_transport_ops *ops,
			 size_t max_payload)
{
	t->ops = ops;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->image_lock, NULL);
	t->next_id = 1;
	t->dead = false;
	t->max_payload = max_payload;
}

/* How many comma-separated entries list has. */
static int count_entries(const char *list)
{
	int n = 1;

	for (; *list; list++)
		n += *list == ',';
	return n;
}

/*
 * The i-th of n comma-separated entries of list into buf: one entry stands
 * for every i (one GPU index or partition name for all servers).  "" when
 * list is unset; false when it has neither one nor n entries, or an entry
 * does not fit.
 */
static bool list_entry(const char *list, int i, int n, char *buf, size_t cap)
{
	const char *p = list;
	int count;
	size_t len;

	buf[0] = '\0';
	if (!list || !*list)
		return true;
	count = count_entries(list);
	if (count != 1 && count != n)
		return false;
	for (int k = 0; count != 1 && k < i; k++)
		p = strchr(p, ',') + 1;
	len = strcspn(p, ",");
	if (len >= cap)
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return true;
}

static struct vgpu_transport *open_one(const char *servers, int i, int n, int *err)
{
	char entry[256], gpu[32], part[256];
	uint32_t g = 0;

	if (!servers) {
		/* over a ring, vgpud's configuration binds the channel to a partition */
		if (!list_entry(getenv("VGPU_DEVICE"), i, n, entry, sizeof(entry)))
			goto bad_list;
		return vgpu_ring_open(*entry ? entry : DEFAULT_DEVICE, err);
	}
	if (!list_entry(servers, i, n, entry, sizeof(entry)) || !*entry ||
	    !list_entry(getenv("VGPU_GPU"), i, n, gpu, sizeof(gpu)) ||
	    !list_entry(getenv("VGPU_PARTITION"), i, n, part, sizeof(part)))
		goto bad_list;
	if (!strcmp(gpu, "all"))
		g = VGPU_GPU_ALL;
	else if (*gpu)
		g = (uint32_t)strtoul(gpu, NULL, 0);
	else if (*part)
		g = VGPU_GPU_OF_PARTITION;	/* a partition names its GPU */
	return vgpu_tcp_open(entry, g, *part ? part : NULL, err);
bad_list:
	vgpu_dbg("VGPU_SERVER, VGPU_DEVICE, VGPU_GPU and VGPU_PARTITION: comma-separated, "
		 "one entry for every server (or device node), or one for all");
	*err = -EINVAL;
	return NULL;
}

int vgpu_transport_open_all(struct vgpu_transport **tps, int cap, int *err)
{
	const char *servers = getenv("VGPU_SERVER");
	const char *devs = getenv("VGPU_DEVICE");
	const char *part = getenv("VGPU_PARTITION");
	int n;

	if (servers && !*servers)
		servers = NULL;
	if (!servers && part && *part)
		vgpu_dbg("VGPU_PARTITION=%s ignored: the ring transport's partition is vgpud's "
			 "'partition' key", part);
	n = count_entries(servers ? servers : devs ? devs : "");
	if (n > cap) {
		vgpu_dbg("more than %d servers or device nodes", cap);
		*err = -E2BIG;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		tps[i] = open_one(servers, i, n, err);
		if (!tps[i]) {
			while (i--)
				vgpu_transport_close(tps[i]);
			return -1;
		}
	}
	return n;
}

void vgpu_transport_close(struct vgpu_transport *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->image_lock);
	t->ops->close(t);
}

bool vgpu_transport_errno_fatal(int err)
{
	switch (err) {
	case -ECONNRESET:
	case -ENOTCONN:
	case -EPIPE:
	case -ECONNREFUSED:
	case -ECONNABORTED:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ESHUTDOWN:
	case -EBADF:
	case -EIO:
		return true;
	default:
		return false;
	}
}

/*
 * The calls that report an earlier posted request's failure (transport.h):
 * those that synchronise or ask about work, and copies and memsets, which
 * change nothing the library keeps track of.  Not a call that created or
 * destroyed something: an error from it would leave the library out of step
 * with what the server did (a leaked allocation, a freed one still listed).
 */
static bool reports_async(uint16_t op)
{
	switch (op) {
	case VGPU_OP_CTX_SYNC:
	case VGPU_OP_STREAM_SYNC:
	case VGPU_OP_EVENT_SYNC:
	case VGPU_OP_STREAM_QUERY:
	case VGPU_OP_EVENT_QUERY:
	case VGPU_OP_MEMCPY_HTOD:
	case VGPU_OP_MEMCPY_DTOH:
	case VGPU_OP_MEMCPY_DTOD:
	case VGPU_OP_MEMSET:
		return true;
	default:
		return false;
	}
}

int vgpu_transport_call(struct vgpu_transport *t, uint16_t op,
			const struct iovec *req, int nreq,
			const struct iovec *resp, int nresp,
			size_t *resp_len, uint32_t *status)
{
	size_t len = 0;
	int ret;

	pthread_mutex_lock(&t->lock);
	if (t->dead) {
		pthread_mutex_unlock(&t->lock);
		return -ENOTCONN;
	}
	ret = t->ops->call(t, op, req, nreq, resp, nresp, &len, status);
	if (!ret) {
		/* every posted request before it is done */
		t->posted = 0;
		/* a posted failure goes to a call that succeeded and may carry it */
		if (!*status && t->async_err && reports_async(op)) {
			*status = t->async_err;
			t->async_err = 0;
		}
	}
	if (ret && (t->dead || vgpu_transport_errno_fatal(ret))) {
		/* an implementation marks itself dead when its stream desyncs */
		t->dead = true;
		vgpu_dbg("%s transport lost its peer during %s: %s; every later call fails",
			 t->ops->name, vgpu_op_name(op) ?: "?", strerror(-ret));
	} else if (ret) {
		vgpu_dbg("%s transport: %s failed: %s", t->ops->name,
			 vgpu_op_name(op) ?: "?", strerror(-ret));
	}
	pthread_mutex_unlock(&t->lock);
	if (resp_len)
		*resp_len = ret ? 0 : len;
	return ret;
}

int vgpu_transport_post(struct vgpu_transport *t, uint16_t op, const struct iovec *req,
			int nreq, uint32_t *status)
{
	int ret;

	pthread_mutex_lock(&t->lock);
	if (!t->ops->post || t->posted >= VGPU_TRANSPORT_MAX_POSTED) {
		pthread_mutex_unlock(&t->lock);
		return vgpu_transport_call(t, op, req, nreq, NULL, 0, NULL, status);
	}
	if (t->dead) {
		pthread_mutex_unlock(&t->lock);
		return -ENOTCONN;
	}
	/* counted before it goes: its failure may be read while it is being posted */
	if (!t->posted)
		t->posted_from = t->next_id;
	t->posted++;
	ret = t->ops->post(t, op, req, nreq);
	if (ret) {
		t->posted--;
		t->dead = t->dead || vgpu_transport_errno_fatal(ret);
		vgpu_dbg("%s transport: posting %s failed: %s", t->ops->name,
			 vgpu_op_name(op) ?: "?", strerror(-ret));
	}
	*status = 0;
	pthread_mutex_unlock(&t->lock);
	return ret;
}

size_t vgpu_iov_len(const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

void vgpu_iov_scatter(const struct iovec *dst, int n, const void *src, size_t len)
{
	const char *p = src;

	for (int i = 0; i < n && len; i++) {
		size_t k = dst[i].iov_len < len ? dst[i].iov_len : len;

		memcpy(dst[i].iov_base, p, k);
		p += k;
		len -= k;
	}
}

void vgpu_iov_gather(void *dst, const struct iovec *src, int n)
{
	char *p = dst;

	for (int i = 0; i < n; i++) {
		if (src[i].iov_len)
			memcpy(p, src[i].iov_base, src[i].iov_len);
		p += src[i].iov_len;
	}
}
